/*
 * check_timex.c - unit tests of plugins/timex.c: node_exporter's unit
 * conversions (microseconds or nanoseconds by STA_NANO, ppm with 16
 * fractional bits), TIME_ERROR as unsynchronised, and a live read.
 */
#include "../../plugins/timex.c"

#include "testutil.h"

#define EPS 1e-12

static double timex_value(const struct sonde_batch *b, const char *name)
{
    const struct sonde_series *s = series_find(b, name, NULL);
    ck_assert_msg(s != NULL, "%s missing", name);
    ck_assert_uint_eq(s->nlabels, 0);
    return s->value;
}

/* Values in the range a synchronised chrony host shows, microsecond mode. */
START_TEST(test_convert_micro)
{
    struct timex tx = {0};
    tx.offset = -1500;    /* us */
    tx.freq = -1234567;   /* ppm << 16: -18.838 ppm */
    tx.maxerror = 250000; /* us */
    tx.esterror = 16;     /* us */
    tx.status = STA_PLL;  /* 0x0001 */
    tx.constant = 6;
    tx.tick = 10000;    /* us */
    tx.ppsfreq = 65536; /* 1 ppm */
    tx.jitter = 20;     /* us */
    tx.shift = 4;
    tx.stabil = 131072; /* 2 ppm */
    tx.jitcnt = 1;
    tx.calcnt = 2;
    tx.errcnt = 3;
    tx.stbcnt = 4;
    tx.tai = 37;
    struct sonde_batch *b = batch_new("timex");
    timex_emit(&tx, TIME_OK, b);
    ck_assert_uint_eq(b->nseries, TIMEX_NMETRICS);
    ck_assert_double_eq(timex_value(b, "node_timex_sync_status"), 1.0);
    ck_assert_double_eq_tol(timex_value(b, "node_timex_offset_seconds"), -0.0015, EPS);
    ck_assert_double_eq_tol(timex_value(b, "node_timex_frequency_adjustment_ratio"),
                            1.0 - 1234567.0 / 65536e6, EPS);
    ck_assert_double_eq_tol(timex_value(b, "node_timex_maxerror_seconds"), 0.25, EPS);
    ck_assert_double_eq_tol(timex_value(b, "node_timex_estimated_error_seconds"), 16e-6, EPS);
    ck_assert_double_eq(timex_value(b, "node_timex_status"), 1.0);
    ck_assert_double_eq(timex_value(b, "node_timex_loop_time_constant"), 6.0);
    ck_assert_double_eq_tol(timex_value(b, "node_timex_tick_seconds"), 0.01, EPS);
    ck_assert_double_eq_tol(timex_value(b, "node_timex_pps_frequency_hertz"), 1e-6, EPS);
    ck_assert_double_eq_tol(timex_value(b, "node_timex_pps_jitter_seconds"), 20e-6, EPS);
    ck_assert_double_eq(timex_value(b, "node_timex_pps_shift_seconds"), 4.0);
    ck_assert_double_eq_tol(timex_value(b, "node_timex_pps_stability_hertz"), 2e-6, EPS);
    ck_assert_double_eq(timex_value(b, "node_timex_pps_jitter_total"), 1.0);
    ck_assert_double_eq(timex_value(b, "node_timex_pps_calibration_total"), 2.0);
    ck_assert_double_eq(timex_value(b, "node_timex_pps_error_total"), 3.0);
    ck_assert_double_eq(timex_value(b, "node_timex_pps_stability_exceeded_total"), 4.0);
    ck_assert_double_eq(timex_value(b, "node_timex_tai_offset_seconds"), 37.0);
    const struct sonde_series *s = series_find(b, "node_timex_pps_error_total", NULL);
    ck_assert_int_eq(s->family->type, SONDE_COUNTER);
    s = series_find(b, "node_timex_offset_seconds", NULL);
    ck_assert_int_eq(s->family->type, SONDE_GAUGE);
    ck_assert_str_eq(s->family->help, "Time offset in between local system and reference clock.");
    batch_free(b);
}
END_TEST

/* STA_NANO: offset and jitter are nanoseconds; the others do not change. */
START_TEST(test_convert_nano_and_unsynced)
{
    struct timex tx = {0};
    tx.status = STA_NANO | STA_UNSYNC; /* 0x2000 | 0x0040 */
    tx.offset = 2500000;               /* ns */
    tx.jitter = 1000;                  /* ns */
    tx.maxerror = 16000000;            /* us */
    tx.tick = 10000;
    struct sonde_batch *b = batch_new("timex");
    timex_emit(&tx, TIME_ERROR, b);
    ck_assert_double_eq(timex_value(b, "node_timex_sync_status"), 0.0);
    ck_assert_double_eq_tol(timex_value(b, "node_timex_offset_seconds"), 0.0025, EPS);
    ck_assert_double_eq_tol(timex_value(b, "node_timex_pps_jitter_seconds"), 1e-6, EPS);
    ck_assert_double_eq(timex_value(b, "node_timex_maxerror_seconds"), 16.0);
    ck_assert_double_eq(timex_value(b, "node_timex_status"), 8256.0);
    ck_assert_double_eq(timex_value(b, "node_timex_frequency_adjustment_ratio"), 1.0);
    batch_free(b);
    /* Any other clock state (TIME_INS, TIME_WAIT ...) counts as synchronised. */
    b = batch_new("timex");
    timex_emit(&tx, TIME_WAIT, b);
    ck_assert_double_eq(timex_value(b, "node_timex_sync_status"), 1.0);
    batch_free(b);
}
END_TEST

/* The real system call, modes 0: works unprivileged and changes nothing. */
START_TEST(test_read_live)
{
    struct timex_config cfg = {0};
    struct sonde_context ctx = {.procfs = "/proc", .sysfs = "/sys", .rootfs = "/"};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_timex.init(&state, &cfg, &ctx), 0);
    struct sonde_batch *b = batch_new("timex");
    ck_assert_int_eq(sonde_plugin_timex.read(state, b), 0);
    ck_assert_uint_eq(b->nseries, TIMEX_NMETRICS);
    double tick = timex_value(b, "node_timex_tick_seconds");
    ck_assert(tick > 0 && tick < 1);
    batch_free(b);
    b = batch_new("timex");
    b->want_series = false;
    ck_assert_int_eq(sonde_plugin_timex.read(state, b), 0);
    ck_assert_uint_eq(b->nseries + b->npoints, 0);
    batch_free(b);
    sonde_plugin_timex.destroy(state);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("timex");
    TCase *tc = tcase_create("timex");
    tcase_add_test(tc, test_convert_micro);
    tcase_add_test(tc, test_convert_nano_and_unsynced);
    tcase_add_test(tc, test_read_live);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
