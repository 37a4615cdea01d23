/*
 * check_filefd.c - unit tests of plugins/filefd.c: the file-nr parser,
 * node_filefd_* from a capture of this machine, Telegraf's linux_sysctl_fs
 * point (missing files, malformed and huge values), and the want_* switches.
 */
#include "../../plugins/filefd.c"

#include "testutil.h"

/* Runs init + read + destroy over a fixture root holding proc/. */
static int filefd_read_dir(const char *root, struct sonde_batch *b)
{
    char procfs[512];
    snprintf(procfs, sizeof(procfs), "%s/proc", root);
    struct sonde_context ctx = {
        .procfs = procfs, .sysfs = "/sys", .rootfs = "/", .hostname = "t", .instance = "filefd"};
    struct filefd_config cfg = {0};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_filefd.init(&state, &cfg, &ctx), 0);
    int rc = sonde_plugin_filefd.read(state, b);
    sonde_plugin_filefd.destroy(state);
    batch_finish(b);
    return rc;
}

static int64_t filefd_field(const struct sonde_point *p, const char *key)
{
    const struct sonde_field *f = field_get(p, key);
    ck_assert_msg(f != NULL, "field %s missing", key);
    ck_assert_int_eq(f->type, SONDE_FIELD_INT);
    return f->v.i;
}

START_TEST(test_parse_file_nr)
{
    uint64_t a = 0, m = 0;
    ck_assert_int_eq(filefd_parse_file_nr("416\t0\t2470938\n", &a, &m), 0);
    ck_assert_uint_eq(a, 416);
    ck_assert_uint_eq(m, 2470938);
    ck_assert_int_eq(filefd_parse_file_nr("1 2 3", &a, &m), 0); /* blanks instead of tabs */
    ck_assert_uint_eq(m, 3);
    ck_assert_int_eq(filefd_parse_file_nr("1\t2\n", &a, &m), -EINVAL);
    ck_assert_int_eq(filefd_parse_file_nr("", &a, &m), -EINVAL);
    ck_assert_int_eq(filefd_parse_file_nr("-1\t0\t5\n", &a, &m), -EINVAL);
    ck_assert_int_eq(filefd_parse_file_nr("1\t0\t5x\n", &a, &m), -EINVAL);
    ck_assert_int_eq(filefd_parse_file_nr("1\t0\t18446744073709551616\n", &a, &m), -EINVAL);
}
END_TEST

START_TEST(test_read_fixture)
{
    struct sonde_batch *b = batch_new("filefd");
    ck_assert_int_eq(filefd_read_dir(FIXTURES "/filefd", b), 0);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(b->nseries, 2);
    const struct sonde_series *s = series_find(b, "node_filefd_allocated", NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_double_eq(s->value, 416.0);
    ck_assert_int_eq(s->family->type, SONDE_GAUGE);
    ck_assert_str_eq(s->family->help, "File descriptor statistics: allocated.");
    s = series_find(b, "node_filefd_maximum", NULL);
    ck_assert_double_eq(s->value, 2470938.0);
    ck_assert_uint_eq(s->nlabels, 0);

    ck_assert_uint_eq(b->npoints, 1);
    const struct sonde_point *p = point_find(b, "linux_sysctl_fs", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->ntags, 0);
    /* aio 2, inode-state 3, dentry-state 4, file-nr 2; dquot-* and super-*
     * are absent on this kernel. */
    ck_assert_uint_eq(p->nfields, 11);
    ck_assert_int_eq(filefd_field(p, "aio-nr"), 0);
    ck_assert_int_eq(filefd_field(p, "aio-max-nr"), 65536);
    ck_assert_int_eq(filefd_field(p, "inode-nr"), 72351);
    ck_assert_int_eq(filefd_field(p, "inode-free-nr"), 0);
    ck_assert_int_eq(filefd_field(p, "inode-preshrink-nr"), 0);
    ck_assert_int_eq(filefd_field(p, "dentry-nr"), 118047);
    ck_assert_int_eq(filefd_field(p, "dentry-unused-nr"), 110424);
    ck_assert_int_eq(filefd_field(p, "dentry-age-limit"), 45);
    ck_assert_int_eq(filefd_field(p, "dentry-want-pages"), 0);
    ck_assert_int_eq(filefd_field(p, "file-nr"), 416);
    ck_assert_int_eq(filefd_field(p, "file-max"), 2470938);
    ck_assert_ptr_null(field_get(p, "dquot-nr"));
    batch_free(b);
}
END_TEST

/* Short file-nr: no node_filefd_* and a failed read (node_exporter fails
 * the collector); the line protocol keeps what is readable. */
START_TEST(test_read_odd)
{
    struct sonde_batch *b = batch_new("filefd");
    ck_assert_int_eq(filefd_read_dir(FIXTURES "/filefd/odd", b), -EINVAL);
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(b->skipped, 2); /* file-nr for Prometheus, aio-nr "x" */
    const struct sonde_point *p = point_find(b, "linux_sysctl_fs", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(filefd_field(p, "aio-max-nr"), INT64_MAX); /* clamped as Telegraf does */
    ck_assert_int_eq(filefd_field(p, "super-nr"), 7);
    ck_assert_int_eq(filefd_field(p, "dentry-nr"), 5);
    ck_assert_int_eq(filefd_field(p, "dentry-unused-nr"), 6);
    ck_assert_ptr_null(field_get(p, "dentry-age-limit"));
    ck_assert_int_eq(filefd_field(p, "file-nr"), 12);
    ck_assert_ptr_null(field_get(p, "file-max"));
    ck_assert_ptr_null(field_get(p, "aio-nr"));
    ck_assert_uint_eq(p->nfields, 5);
    batch_free(b);
}
END_TEST

START_TEST(test_read_empty_and_missing)
{
    struct sonde_batch *b = batch_new("filefd");
    ck_assert_int_eq(filefd_read_dir(FIXTURES "/filefd/empty", b), -EINVAL);
    ck_assert_uint_eq(b->nseries, 0);
    batch_free(b);
    b = batch_new("filefd");
    ck_assert_int_eq(filefd_read_dir(FIXTURES "/filefd/no-such-dir", b), -ENOENT);
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(b->skipped, 0); /* missing sysctl files are left out silently */
    batch_free(b);
}
END_TEST

START_TEST(test_want_switches)
{
    struct sonde_batch *b = batch_new("filefd");
    b->want_points = false;
    ck_assert_int_eq(filefd_read_dir(FIXTURES "/filefd", b), 0);
    ck_assert_uint_eq(b->nseries, 2);
    ck_assert_uint_eq(b->npoints, 0);
    batch_free(b);
    b = batch_new("filefd");
    b->want_series = false;
    ck_assert_int_eq(filefd_read_dir(FIXTURES "/filefd", b), 0);
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(b->npoints, 1);
    batch_free(b);
}
END_TEST

START_TEST(test_descriptor)
{
    ck_assert_str_eq(sonde_plugin_filefd.name, "filefd");
    ck_assert_int_eq(sonde_plugin_filefd.kind, SONDE_INPUT);
    ck_assert_ptr_null(sonde_plugin_filefd.write);
    ck_assert_ptr_null(sonde_plugin_filefd.options[0].name);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("filefd");
    TCase *tc = tcase_create("filefd");
    tcase_add_test(tc, test_parse_file_nr);
    tcase_add_test(tc, test_read_fixture);
    tcase_add_test(tc, test_read_odd);
    tcase_add_test(tc, test_read_empty_and_missing);
    tcase_add_test(tc, test_want_switches);
    tcase_add_test(tc, test_descriptor);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
