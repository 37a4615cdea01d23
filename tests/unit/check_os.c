/*
 * check_os.c - unit tests of plugins/os.c: envparse's rules (comments,
 * quotes, JSON escapes with surrogate pairs, export, key characters,
 * Unicode blanks) on files whose node_exporter 1.5 output was recorded,
 * the /usr/lib fallback, malformed files, and the modification cache.
 */
#include <utime.h>

#include "../../plugins/os.c"

#include "testutil.h"

static int os_read_root(const char *root, struct sonde_batch *b)
{
    struct sonde_context ctx = {
        .procfs = "/proc", .sysfs = "/sys", .rootfs = root, .hostname = "t", .instance = "os"};
    struct os_config cfg = {0};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_os.init(&state, &cfg, &ctx), 0);
    int rc = sonde_plugin_os.read(state, b);
    sonde_plugin_os.destroy(state);
    batch_finish(b);
    return rc;
}

static const char *os_label(const struct sonde_batch *b, const char *name, const char *key)
{
    const struct sonde_series *s = series_find(b, name, NULL);
    ck_assert_msg(s != NULL, "%s missing", name);
    const char *v = label_get(s->labels, s->nlabels, key);
    ck_assert_msg(v != NULL, "%s has no label %s", name, key);
    return v;
}

START_TEST(test_read_debian)
{
    struct sonde_batch *b = batch_new("os");
    ck_assert_int_eq(os_read_root(FIXTURES "/os", b), 0);
    ck_assert_uint_eq(b->nseries, 2);
    const struct sonde_series *s = series_find(b, "node_os_info", NULL);
    ck_assert_uint_eq(s->nlabels, 12);
    ck_assert_double_eq(s->value, 1.0);
    ck_assert_str_eq(os_label(b, "node_os_info", "id"), "debian");
    ck_assert_str_eq(os_label(b, "node_os_info", "name"), "Debian GNU/Linux");
    ck_assert_str_eq(os_label(b, "node_os_info", "pretty_name"), "Debian GNU/Linux 12 (bookworm)");
    ck_assert_str_eq(os_label(b, "node_os_info", "version"), "12 (bookworm)");
    ck_assert_str_eq(os_label(b, "node_os_info", "version_codename"), "bookworm");
    ck_assert_str_eq(os_label(b, "node_os_info", "version_id"), "12");
    ck_assert_str_eq(os_label(b, "node_os_info", "build_id"), "");
    ck_assert_str_eq(os_label(b, "node_os_info", "id_like"), "");
    s = series_find(b, "node_os_version", "id", "debian", "id_like", "", "name", "Debian GNU/Linux",
                    NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->nlabels, 3);
    ck_assert_double_eq(s->value, 12.0);
    ck_assert_str_eq(s->family->help, "Metric containing the major.minor part of the OS version.");
    batch_free(b);
}
END_TEST

/* Every expected value below is what node_exporter 1.5 printed for the
 * same file. */
START_TEST(test_read_quirks)
{
    struct sonde_batch *b = batch_new("os");
    ck_assert_int_eq(os_read_root(FIXTURES "/os/quirks", b), 0);
    ck_assert_str_eq(os_label(b, "node_os_info", "id"), "second");
    ck_assert_str_eq(os_label(b, "node_os_info", "name"), "a \"b\" \\ c\td");
    ck_assert_str_eq(os_label(b, "node_os_info", "version_id"), "20.04");
    ck_assert_str_eq(os_label(b, "node_os_info", "pretty_name"), "x # y");
    ck_assert_str_eq(os_label(b, "node_os_info", "id_like"), "a b");
    ck_assert_str_eq(os_label(b, "node_os_info", "variant"), "x\by");
    ck_assert_str_eq(os_label(b, "node_os_info", "build_id"), "a\xc3\xa9"
                                                              "b/c");
    ck_assert_str_eq(os_label(b, "node_os_info", "image_id"), "\xf0\x9f\x98\x80");
    ck_assert_str_eq(os_label(b, "node_os_info", "variant_id"), "caf\xc3\xa9s");
    ck_assert_str_eq(os_label(b, "node_os_info", "image_version"), "\xef\xbf\xbd");
    ck_assert_double_eq(series_find(b, "node_os_version", NULL)->value, 20.04);
    batch_free(b);
}
END_TEST

START_TEST(test_read_fallbacks)
{
    struct sonde_batch *b = batch_new("os");
    ck_assert_int_eq(os_read_root(FIXTURES "/os/usronly", b), 0);
    ck_assert_str_eq(os_label(b, "node_os_info", "name"), "Usr Linux");
    ck_assert_double_eq(series_find(b, "node_os_version", NULL)->value, 3.0);
    batch_free(b);
    b = batch_new("os");
    ck_assert_int_eq(os_read_root(FIXTURES "/os/crlf", b), 0);
    ck_assert_str_eq(os_label(b, "node_os_info", "version_id"), "7.10.2");
    ck_assert_double_eq(series_find(b, "node_os_version", NULL)->value, 7.1);
    batch_free(b);
    /* No number in VERSION_ID: the info series only. */
    b = batch_new("os");
    ck_assert_int_eq(os_read_root(FIXTURES "/os/noversion", b), 0);
    ck_assert_uint_eq(b->nseries, 1);
    ck_assert_str_eq(os_label(b, "node_os_info", "version_id"), "abc");
    batch_free(b);
    /* Neither file: node_exporter's "no data". */
    b = batch_new("os");
    ck_assert_int_eq(os_read_root(FIXTURES "/os/no-such-dir", b), -ENODATA);
    ck_assert_uint_eq(b->nseries, 0);
    batch_free(b);
}
END_TEST

START_TEST(test_read_malformed)
{
    const char *roots[] = {FIXTURES "/os/bad", FIXTURES "/os/badkey"};
    for (size_t i = 0; i < 2; i++) {
        struct sonde_batch *b = batch_new("os");
        ck_assert_int_eq(os_read_root(roots[i], b), -EINVAL);
        ck_assert_uint_eq(b->nseries, 0);
        ck_assert_uint_eq(b->skipped, 1);
        batch_free(b);
    }
}
END_TEST

static int os_parse_string(const char *text, struct os_release *r)
{
    return os_parse(text, strlen(text), r);
}

START_TEST(test_parse_lines)
{
    struct os_release r = {0};
    /* Unicode blanks (NBSP, U+3000) around a line and a key are trimmed. */
    ck_assert_int_eq(os_parse_string("\xc2\xa0ID=a\xe3\x80\x80\n NAME =b\n", &r), 0);
    ck_assert_str_eq(r.values[OS_ID], "a");
    ck_assert_str_eq(r.values[OS_NAME], "b");
    /* A comment right after a non-ASCII byte cuts that byte (envparse). */
    ck_assert_int_eq(os_parse_string("NAME=x\xc3\xa9 #c\n", &r), -EINVAL);
    ck_assert_int_eq(os_parse_string("NAME=x\xc3\xa9y #c\n", &r), 0);
    ck_assert_str_eq(r.values[OS_NAME], "x\xc3\xa9y");
    ck_assert_int_eq(os_parse_string("NAME=a  b #c\nID=\n", &r), 0);
    ck_assert_str_eq(r.values[OS_NAME], "a  b");
    ck_assert_str_eq(r.values[OS_ID], "");
    ck_assert_str_eq(r.values[OS_VERSION], "");
    ck_assert_int_eq(os_parse_string("ID=last", &r), 0); /* no newline at the end */
    ck_assert_str_eq(r.values[OS_ID], "last");
    ck_assert_int_eq(os_parse_string("", &r), 0);
    ck_assert_str_eq(r.values[OS_ID], "");
    const char *bad[] = {
        "ID\n",
        "=x\n",
        "1D=x\n",
        "ID=a\tb\n",
        "ID='x\n",
        "ID=\"x\\q\"\n",
        "ID=\"\\u12\"\n",
        "ID=\"\\ud800\"\n",
        "ID=\"x\\\n",
        "export  X=1\n",
        "ID=\"\\\xc3\xa9\"\n",
        "ID=\xff\n",
        "ID=a\nX-Y=1\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(os_parse_string(bad[i], &r) == -EINVAL, "%s", bad[i]);
        ck_assert_ptr_null(r.values[OS_ID]); /* nothing kept from a bad file */
    }
    os_release_free(&r);
}
END_TEST

START_TEST(test_version_number)
{
    ck_assert_double_eq(os_version_number("22.04"), 22.04);
    ck_assert_double_eq(os_version_number("7.10.2"), 7.1);
    ck_assert_double_eq(os_version_number("12"), 12.0);
    ck_assert_double_eq(os_version_number("3."), 3.0);
    ck_assert_double_eq(os_version_number("2023.1-beta"), 2023.1);
    ck_assert_double_eq(os_version_number(".5"), 0.0);
    ck_assert_double_eq(os_version_number("rolling"), 0.0);
    ck_assert_double_eq(os_version_number(""), 0.0);
}
END_TEST

/* The parse is cached until the file changes (path, inode, size or time). */
START_TEST(test_cache)
{
    char root[] = "/tmp/sonde-os-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(root));
    char dir[128], path[160];
    snprintf(dir, sizeof(dir), "%s/etc", root);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    snprintf(path, sizeof(path), "%s/os-release", dir);
    FILE *f = fopen(path, "w");
    fputs("ID=one\nVERSION_ID=1\n", f);
    fclose(f);
    struct sonde_context ctx = {.procfs = "/proc", .sysfs = "/sys", .rootfs = root};
    struct os_config cfg = {0};
    void *state = NULL;
    ck_assert_int_eq(os_init(&state, &cfg, &ctx), 0);
    struct sonde_batch *b = batch_new("os");
    ck_assert_int_eq(os_read(state, b), 0);
    ck_assert_str_eq(os_label(b, "node_os_info", "id"), "one");
    batch_free(b);
    ck_assert(((struct os_state *)state)->cached);
    f = fopen(path, "w");
    fputs("ID=two\nVERSION_ID=2.5\n", f);
    fclose(f);
    struct utimbuf later = {.actime = 2000000000, .modtime = 2000000000};
    ck_assert_int_eq(utime(path, &later), 0);
    b = batch_new("os");
    ck_assert_int_eq(os_read(state, b), 0);
    ck_assert_str_eq(os_label(b, "node_os_info", "id"), "two");
    ck_assert_double_eq(series_find(b, "node_os_version", NULL)->value, 2.5);
    batch_free(b);
    unlink(path);
    b = batch_new("os");
    ck_assert_int_eq(os_read(state, b), -ENODATA);
    ck_assert_uint_eq(b->nseries, 0);
    batch_free(b);
    b = batch_new("os");
    b->want_series = false;
    ck_assert_int_eq(os_read(state, b), 0);
    batch_free(b);
    os_destroy(state);
    rmdir(dir);
    rmdir(root);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("os");
    TCase *tc = tcase_create("os");
    tcase_add_test(tc, test_read_debian);
    tcase_add_test(tc, test_read_quirks);
    tcase_add_test(tc, test_read_fallbacks);
    tcase_add_test(tc, test_read_malformed);
    tcase_add_test(tc, test_parse_lines);
    tcase_add_test(tc, test_version_number);
    tcase_add_test(tc, test_cache);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
