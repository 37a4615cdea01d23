/*
 * check_vmstat.c - unit tests of the vmstat input: the line parser, the
 * default and a custom `fields` regex, reads of a capture of this machine and
 * of hand-made odd files, the field cache across reads, and the want_* switches.
 */
#include "../../plugins/vmstat.c"

#include "testutil.h"

#define VMSTAT_DEFAULT_FIELDS "^(oom_kill|pgpg|pswp|pg.*fault).*"

/* init + read (twice when `reads` is 2: the second read uses the cache) +
 * destroy over a fixture root holding proc/vmstat. */
static int vmstat_read_dir(const char *root, const char *fields, struct sonde_batch *b)
{
    char procfs[512];
    snprintf(procfs, sizeof(procfs), "%s/proc", root);
    struct sonde_context ctx = {
        .procfs = procfs, .sysfs = "/sys", .rootfs = "/", .hostname = "t", .instance = "vmstat"};
    struct vmstat_config cfg = {.fields = (char *)fields};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_vmstat.init(&state, &cfg, &ctx), 0);
    int rc = sonde_plugin_vmstat.read(state, b);
    sonde_plugin_vmstat.destroy(state);
    batch_finish(b);
    return rc;
}

static double vmstat_value(const struct sonde_batch *b, const char *name)
{
    const struct sonde_series *s = series_find(b, name, NULL);
    ck_assert_msg(s != NULL, "%s missing", name);
    ck_assert_uint_eq(s->nlabels, 0);
    ck_assert_int_eq(s->family->type, SONDE_UNTYPED);
    return s->value;
}

static int64_t vmstat_field(const struct sonde_point *p, const char *key)
{
    const struct sonde_field *f = field_get(p, key);
    ck_assert_msg(f != NULL, "field %s missing", key);
    ck_assert_int_eq(f->type, SONDE_FIELD_INT);
    return f->v.i;
}

START_TEST(test_parse_line)
{
    struct vmstat_line v;
    const char *l = "pgfault 61993011";
    ck_assert_int_eq(vmstat_parse_line(l, l + strlen(l), &v), 0);
    ck_assert_uint_eq(v.name_len, 7);
    ck_assert_int_eq(memcmp(v.name, "pgfault", 7), 0);
    ck_assert_uint_eq(v.value, 61993011);

    l = "  oom_kill\t18446744073709551615 \r";
    ck_assert_int_eq(vmstat_parse_line(l, l + strlen(l), &v), 0);
    ck_assert_uint_eq(v.value, UINT64_MAX);

    l = "   ";
    ck_assert_int_eq(vmstat_parse_line(l, l + strlen(l), &v), -ENODATA);

    const char *bad[] = {"pgfault",    "pgfault -1",  "pgfault 18446744073709551616",
                         "pg-fault 1", "pgfault 1 2", "pgfault 12x",
                         "pgfault +1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(vmstat_parse_line(bad[i], bad[i] + strlen(bad[i]), &v) == -EINVAL, "%s",
                      bad[i]);

    /* A line must not borrow its value from the next one. */
    const char *two = "pgfault\n5\n";
    ck_assert_int_eq(vmstat_parse_line(two, strchr(two, '\n'), &v), -EINVAL);
}
END_TEST

/* This machine: node_exporter's default regex keeps 7 of 192 fields. */
START_TEST(test_read_fixture)
{
    struct sonde_batch *b = batch_new("vmstat");
    ck_assert_int_eq(vmstat_read_dir(FIXTURES "/vmstat", VMSTAT_DEFAULT_FIELDS, b), 0);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(b->nseries, 7);
    ck_assert_double_eq(vmstat_value(b, "node_vmstat_pgpgin"), 1181429.0);
    ck_assert_double_eq(vmstat_value(b, "node_vmstat_pgpgout"), 27729048.0);
    ck_assert_double_eq(vmstat_value(b, "node_vmstat_pswpin"), 0.0);
    ck_assert_double_eq(vmstat_value(b, "node_vmstat_pswpout"), 0.0);
    ck_assert_double_eq(vmstat_value(b, "node_vmstat_pgfault"), 61993011.0);
    ck_assert_double_eq(vmstat_value(b, "node_vmstat_pgmajfault"), 837.0);
    ck_assert_double_eq(vmstat_value(b, "node_vmstat_oom_kill"), 0.0);
    ck_assert_ptr_null(series_find(b, "node_vmstat_nr_free_pages", NULL));
    ck_assert_str_eq(series_find(b, "node_vmstat_pgfault", NULL)->family->help,
                     "/proc/vmstat information field pgfault.");

    /* Telegraf's kernel_vmstat: one point, no tags, all 192 fields as ints. */
    ck_assert_uint_eq(b->npoints, 1);
    const struct sonde_point *p = point_find(b, "kernel_vmstat", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->ntags, 0);
    ck_assert_uint_eq(p->nfields, 192);
    ck_assert_int_eq(vmstat_field(p, "nr_free_pages"), 898762);
    ck_assert_int_eq(vmstat_field(p, "pgfault"), 61993011);
    ck_assert_int_eq(vmstat_field(p, "nr_unstable"), 0);
    batch_free(b);
}
END_TEST

START_TEST(test_fields_option)
{
    struct sonde_batch *b = batch_new("vmstat");
    ck_assert_int_eq(vmstat_read_dir(FIXTURES "/vmstat", "^nr_free_pages$|^pgmaj", b), 0);
    ck_assert_uint_eq(b->nseries, 2);
    ck_assert_double_eq(vmstat_value(b, "node_vmstat_nr_free_pages"), 898762.0);
    ck_assert_double_eq(vmstat_value(b, "node_vmstat_pgmajfault"), 837.0);
    ck_assert_uint_eq(point_find(b, "kernel_vmstat", NULL)->nfields, 192); /* not filtered */
    batch_free(b);

    b = batch_new("vmstat");
    ck_assert_int_eq(vmstat_read_dir(FIXTURES "/vmstat", ".*", b), 0);
    ck_assert_uint_eq(b->nseries, 192);
    batch_free(b);
}
END_TEST

/* Bad lines are skipped and counted; the good ones around them stay. */
START_TEST(test_read_odd)
{
    struct sonde_batch *b = batch_new("vmstat");
    ck_assert_int_eq(vmstat_read_dir(FIXTURES "/vmstat/odd", VMSTAT_DEFAULT_FIELDS, b), 0);
    ck_assert_uint_eq(b->skipped, 5); /* -1, 2^64, bad-name, no value, two values */
    ck_assert_uint_eq(b->nseries, 3);
    ck_assert_double_eq(vmstat_value(b, "node_vmstat_pgfault"), 42.0);
    ck_assert_double_eq(vmstat_value(b, "node_vmstat_pswpout"), 9.0);
    ck_assert_double_eq(vmstat_value(b, "node_vmstat_oom_kill"), 18446744073709551615.0);
    ck_assert_ptr_null(series_find(b, "node_vmstat_pgmajfault", NULL));
    ck_assert_ptr_null(series_find(b, "node_vmstat_pgpgout", NULL));
    const struct sonde_point *p = point_find(b, "kernel_vmstat", NULL);
    ck_assert_uint_eq(p->nfields, 5);
    ck_assert_int_eq(vmstat_field(p, "oom_kill"), INT64_MAX); /* clamped */
    ck_assert_int_eq(vmstat_field(p, "nr_zspages"), 7);       /* last line, no newline */
    batch_free(b);
}
END_TEST

START_TEST(test_read_empty_and_missing)
{
    struct sonde_batch *b = batch_new("vmstat");
    ck_assert_int_eq(vmstat_read_dir(FIXTURES "/vmstat/empty", VMSTAT_DEFAULT_FIELDS, b), 0);
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(b->npoints, 0); /* no empty point */
    batch_free(b);

    b = batch_new("vmstat");
    ck_assert_int_eq(vmstat_read_dir(FIXTURES "/vmstat/no-such-dir", VMSTAT_DEFAULT_FIELDS, b),
                     -ENOENT);
    ck_assert_uint_eq(b->nseries, 0);
    batch_free(b);
}
END_TEST

/* The cache follows the file: reads of the capture, then of the odd file
 * (other names at the same positions), then of the capture again. */
START_TEST(test_cache_follows_file)
{
    char tmp[] = "/tmp/sonde-vmstat-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    char procfs[600], path[700], cmd[1600];
    snprintf(procfs, sizeof(procfs), "%s/proc", tmp);
    snprintf(path, sizeof(path), "%s/vmstat", procfs);
    struct sonde_context ctx = {
        .procfs = procfs, .sysfs = "/sys", .rootfs = "/", .hostname = "t", .instance = "vmstat"};
    struct vmstat_config cfg = {.fields = VMSTAT_DEFAULT_FIELDS};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_vmstat.init(&state, &cfg, &ctx), 0);
    const char *sources[] = {"vmstat/proc/vmstat", "vmstat/odd/proc/vmstat", "vmstat/proc/vmstat"};
    const size_t want[] = {7, 3, 7};
    for (size_t i = 0; i < 3; i++) {
        snprintf(cmd, sizeof(cmd), "mkdir -p %s && cp %s/%s %s", procfs, FIXTURES, sources[i],
                 path);
        ck_assert_int_eq(system(cmd), 0);
        struct sonde_batch *b = batch_new("vmstat");
        ck_assert_int_eq(sonde_plugin_vmstat.read(state, b), 0);
        ck_assert_uint_eq(b->nseries, want[i]);
        ck_assert_ptr_nonnull(series_find(b, "node_vmstat_pgfault", NULL));
        batch_free(b);
    }
    sonde_plugin_vmstat.destroy(state);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_want_switches)
{
    struct sonde_batch *b = batch_new("vmstat");
    b->want_points = false;
    ck_assert_int_eq(vmstat_read_dir(FIXTURES "/vmstat", VMSTAT_DEFAULT_FIELDS, b), 0);
    ck_assert_uint_eq(b->nseries, 7);
    ck_assert_uint_eq(b->npoints, 0);
    batch_free(b);

    b = batch_new("vmstat");
    b->want_series = false;
    ck_assert_int_eq(vmstat_read_dir(FIXTURES "/vmstat", VMSTAT_DEFAULT_FIELDS, b), 0);
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(b->npoints, 1);
    batch_free(b);
}
END_TEST

static Suite *vmstat_suite(void)
{
    Suite *s = suite_create("vmstat");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_line);
    tcase_add_test(tc, test_read_fixture);
    tcase_add_test(tc, test_fields_option);
    tcase_add_test(tc, test_read_odd);
    tcase_add_test(tc, test_read_empty_and_missing);
    tcase_add_test(tc, test_cache_follows_file);
    tcase_add_test(tc, test_want_switches);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(vmstat_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
