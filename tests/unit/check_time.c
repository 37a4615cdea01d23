/*
 * check_time.c - unit tests of plugins/time.c: the time and zone series
 * (a POSIX TZ rule, so no tzdata is needed), clock sources from a capture
 * of this machine, odd directory names and order, and a broken source.
 */
#include "../../plugins/time.c"

#include "testutil.h"

static int time_read_dir(const char *root, struct sonde_batch *b)
{
    char sysfs[512];
    snprintf(sysfs, sizeof(sysfs), "%s/sys", root);
    struct sonde_context ctx = {
        .procfs = "/proc", .sysfs = sysfs, .rootfs = "/", .hostname = "t", .instance = "time"};
    struct time_config cfg = {0};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_time.init(&state, &cfg, &ctx), 0);
    int rc = sonde_plugin_time.read(state, b);
    sonde_plugin_time.destroy(state);
    batch_finish(b);
    return rc;
}

START_TEST(test_now_and_zone)
{
    setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
    tzset();
    struct sonde_batch *b = batch_new("time");
    time_t winter = 1700000000; /* 2023-11-14 */
    struct tm tm;
    localtime_r(&winter, &tm);
    time_emit_now(b, (int64_t)winter * 1000000000 + 250000000, &tm);
    const struct sonde_series *s = series_find(b, "node_time_seconds", NULL);
    ck_assert_ptr_nonnull(s);
    /* float64(UnixNano()) / 1e9 as node_exporter: exact to about 0.2 us. */
    ck_assert_double_eq(s->value, (double)(1700000000LL * 1000000000 + 250000000) / 1e9);
    ck_assert_double_eq_tol(s->value, 1700000000.25, 1e-6);
    ck_assert_uint_eq(s->nlabels, 0);
    s = series_find(b, "node_time_zone_offset_seconds", "time_zone", "CET", NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_double_eq(s->value, 3600.0);
    ck_assert_str_eq(s->family->help, "System time zone offset in seconds.");
    time_t summer = 1690000000; /* 2023-07-22 */
    localtime_r(&summer, &tm);
    time_emit_now(b, (int64_t)summer * 1000000000, &tm);
    s = series_find(b, "node_time_zone_offset_seconds", "time_zone", "CEST", NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_double_eq(s->value, 7200.0);
    batch_free(b);
    unsetenv("TZ");
    tzset();
}
END_TEST

START_TEST(test_read_fixture)
{
    setenv("TZ", "UTC0", 1);
    struct sonde_batch *b = batch_new("time");
    ck_assert_int_eq(time_read_dir(FIXTURES "/time", b), 0);
    ck_assert_uint_eq(b->nseries, 5);
    ck_assert_ptr_nonnull(
        series_find(b, "node_time_zone_offset_seconds", "time_zone", "UTC", NULL));
    ck_assert_double_eq(series_find(b, "node_time_zone_offset_seconds", NULL)->value, 0.0);
    double now = series_find(b, "node_time_seconds", NULL)->value;
    ck_assert((double)time(NULL) - now < 5 && now - (double)time(NULL) < 5);
    ck_assert_uint_eq(series_count(b, "node_time_clocksource_available_info"), 2);
    const struct sonde_series *s = series_find(b, "node_time_clocksource_available_info",
                                               "clocksource", "kvm-clock", "device", "0", NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_double_eq(s->value, 1.0);
    ck_assert_uint_eq(s->nlabels, 2);
    ck_assert_ptr_nonnull(series_find(b, "node_time_clocksource_available_info", "clocksource",
                                      "tsc", "device", "0", NULL));
    s = series_find(b, "node_time_clocksource_current_info", NULL);
    ck_assert_str_eq(label_get(s->labels, s->nlabels, "clocksource"), "tsc");
    ck_assert_str_eq(label_get(s->labels, s->nlabels, "device"), "0");
    ck_assert_str_eq(s->family->help,
                     "Current clocksource read from '/sys/devices/system/clocksource'.");
    batch_free(b);
    unsetenv("TZ");
}
END_TEST

/* device is the position in name order (clocksource10 before
 * clocksource2), not the number in the name; clocksourcex is not one. */
START_TEST(test_read_odd)
{
    struct sonde_batch *b = batch_new("time");
    ck_assert_int_eq(time_read_dir(FIXTURES "/time/odd", b), 0);
    ck_assert_uint_eq(series_count(b, "node_time_clocksource_current_info"), 4);
    ck_assert_ptr_nonnull(series_find(b, "node_time_clocksource_current_info", "clocksource",
                                      "hpet", "device", "0", NULL));
    ck_assert_ptr_nonnull(series_find(b, "node_time_clocksource_current_info", "clocksource", "b",
                                      "device", "1", NULL));
    ck_assert_ptr_nonnull(series_find(b, "node_time_clocksource_current_info", "clocksource",
                                      "arch_sys_counter", "device", "2", NULL));
    ck_assert_ptr_nonnull(series_find(b, "node_time_clocksource_current_info", "clocksource",
                                      "jiffies", "device", "3", NULL));
    /* 3 + 2 + 1 + 0 available names. */
    ck_assert_uint_eq(series_count(b, "node_time_clocksource_available_info"), 6);
    ck_assert_ptr_nonnull(series_find(b, "node_time_clocksource_available_info", "clocksource",
                                      "acpi_pm", "device", "0", NULL));
    ck_assert_ptr_null(
        series_find(b, "node_time_clocksource_available_info", "clocksource", "x", NULL));
    batch_free(b);
}
END_TEST

/* A source without current_clocksource fails the read (as node_exporter
 * fails its collector) after what was read before it; no sysfs at all is
 * simply no clock source series. */
START_TEST(test_read_broken_and_missing)
{
    struct sonde_batch *b = batch_new("time");
    ck_assert_int_eq(time_read_dir(FIXTURES "/time/broken", b), -ENOENT);
    ck_assert_uint_eq(series_count(b, "node_time_clocksource_current_info"), 1);
    ck_assert_uint_eq(series_count(b, "node_time_seconds"), 1);
    batch_free(b);
    b = batch_new("time");
    ck_assert_int_eq(time_read_dir(FIXTURES "/time/no-such-dir", b), 0);
    ck_assert_uint_eq(b->nseries, 2);
    batch_free(b);
    b = batch_new("time");
    b->want_series = false;
    ck_assert_int_eq(time_read_dir(FIXTURES "/time", b), 0);
    ck_assert_uint_eq(b->nseries + b->npoints, 0);
    batch_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("time");
    TCase *tc = tcase_create("time");
    tcase_add_test(tc, test_now_and_zone);
    tcase_add_test(tc, test_read_fixture);
    tcase_add_test(tc, test_read_odd);
    tcase_add_test(tc, test_read_broken_and_missing);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
