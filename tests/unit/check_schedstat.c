/*
 * check_schedstat.c - unit tests of plugins/schedstat.c: the cpu line
 * parser (short, overflowing and oddly spaced lines), a /proc/schedstat in
 * the kernel's version 15 format, and a kernel without the file.
 */
#include "../../plugins/schedstat.c"

#include "testutil.h"

static int schedstat_read_dir(const char *root, struct sonde_batch *b)
{
    char procfs[512];
    snprintf(procfs, sizeof(procfs), "%s/proc", root);
    struct sonde_context ctx = {
        .procfs = procfs, .sysfs = "/sys", .rootfs = "/", .hostname = "t", .instance = "schedstat"};
    struct schedstat_config cfg = {0};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_schedstat.init(&state, &cfg, &ctx), 0);
    int rc = sonde_plugin_schedstat.read(state, b);
    sonde_plugin_schedstat.destroy(state);
    batch_finish(b);
    return rc;
}

static double schedstat_value(const struct sonde_batch *b, const char *name, const char *cpu)
{
    const struct sonde_series *s = series_find(b, name, "cpu", cpu, NULL);
    ck_assert_msg(s != NULL, "%s{cpu=%s} missing", name, cpu);
    ck_assert_uint_eq(s->nlabels, 1);
    ck_assert_int_eq(s->family->type, SONDE_COUNTER);
    return s->value;
}

START_TEST(test_parse_line)
{
    struct schedstat_cpu c;
    const char *l = "cpu1 0 0 0 0 0 0 2354523541122 221578812312 1573229";
    ck_assert_int_eq(schedstat_parse_line(l, l + strlen(l), &c), 1);
    ck_assert_str_eq(c.id, "1");
    ck_assert_uint_eq(c.running_ns, 2354523541122ull);
    ck_assert_uint_eq(c.waiting_ns, 221578812312ull);
    ck_assert_uint_eq(c.timeslices, 1573229);
    l = "domain0 03 1277 1273 3 112";
    ck_assert_int_eq(schedstat_parse_line(l, l + strlen(l), &c), 0);
    l = "version 15";
    ck_assert_int_eq(schedstat_parse_line(l, l + strlen(l), &c), 0);
    const char *bad[] = {
        "cpu1 0 0 0 0 0 0 1 2",
        "cpux 0 0 0 0 0 0 1 2 3",
        "cpu 0 0 0 0 0 0 1 2 3",
        "cpu2  0 0 0 0 0 0 1 2 3",
        "cpu2 0 0 0 0 0 0 1 2 3x",
        "cpu2 0 0 0 0 0 0 1 2 -3",
        "cpu2 0 0 0 0 0 0 18446744073709551616 2 3",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(schedstat_parse_line(bad[i], bad[i] + strlen(bad[i]), &c) == -EINVAL, "%s",
                      bad[i]);
    /* The line must not borrow numbers from the next one. */
    const char *two = "cpu3 0 0 0 0 0 0 1 2\n3\n";
    ck_assert_int_eq(schedstat_parse_line(two, strchr(two, '\n'), &c), -EINVAL);
}
END_TEST

START_TEST(test_read_fixture)
{
    struct sonde_batch *b = batch_new("schedstat");
    ck_assert_int_eq(schedstat_read_dir(FIXTURES "/schedstat", b), 0);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(b->nseries, 6);
    ck_assert_double_eq(schedstat_value(b, "node_schedstat_running_seconds_total", "0"),
                        2464.339823131);
    ck_assert_double_eq(schedstat_value(b, "node_schedstat_waiting_seconds_total", "0"),
                        236.580129598);
    ck_assert_double_eq(schedstat_value(b, "node_schedstat_timeslices_total", "0"), 1632963.0);
    ck_assert_double_eq(schedstat_value(b, "node_schedstat_running_seconds_total", "1"),
                        2354.523541122);
    ck_assert_double_eq(schedstat_value(b, "node_schedstat_timeslices_total", "1"), 1573229.0);
    ck_assert_str_eq(series_find(b, "node_schedstat_waiting_seconds_total", NULL)->family->help,
                     "Number of seconds spent by processing waiting for this CPU.");
    batch_free(b);
}
END_TEST

START_TEST(test_read_odd)
{
    struct sonde_batch *b = batch_new("schedstat");
    ck_assert_int_eq(schedstat_read_dir(FIXTURES "/schedstat/odd", b), 0);
    ck_assert_uint_eq(b->skipped, 4); /* cpu1 short, cpux, cpu2 overflow, cpu12 two blanks */
    ck_assert_uint_eq(b->nseries, 6); /* cpu0 and cpu3 (extra columns ignored) */
    ck_assert_double_eq(schedstat_value(b, "node_schedstat_running_seconds_total", "0"), 0.1);
    ck_assert_double_eq(schedstat_value(b, "node_schedstat_waiting_seconds_total", "0"), 2.5);
    ck_assert_double_eq(schedstat_value(b, "node_schedstat_running_seconds_total", "3"), 5.0);
    ck_assert_double_eq(schedstat_value(b, "node_schedstat_timeslices_total", "3"), 9.0);
    batch_free(b);
}
END_TEST

/* This machine's kernel has no CONFIG_SCHEDSTATS: node_exporter reports
 * "no data" (success 0), and so do we, without series. */
START_TEST(test_read_missing)
{
    struct sonde_batch *b = batch_new("schedstat");
    ck_assert_int_eq(schedstat_read_dir(FIXTURES "/schedstat/no-such-dir", b), -ENODATA);
    ck_assert_uint_eq(b->nseries, 0);
    batch_free(b);
    b = batch_new("schedstat");
    b->want_series = false;
    ck_assert_int_eq(schedstat_read_dir(FIXTURES "/schedstat", b), 0);
    ck_assert_uint_eq(b->nseries + b->npoints, 0);
    batch_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("schedstat");
    TCase *tc = tcase_create("schedstat");
    tcase_add_test(tc, test_parse_line);
    tcase_add_test(tc, test_read_fixture);
    tcase_add_test(tc, test_read_odd);
    tcase_add_test(tc, test_read_missing);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
