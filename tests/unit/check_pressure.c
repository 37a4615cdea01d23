/*
 * check_pressure.c - unit tests of plugins/pressure.c: the /proc/pressure
 * line parser, a capture of this machine (no irq file), an irq file, a
 * kernel without PSI, a partial tree, malformed and incomplete files.
 */
#include "../../plugins/pressure.c"

#include "testutil.h"

#define EPS 1e-9

static int pressure_read_dir(const char *root, struct sonde_batch *b)
{
    char procfs[512];
    snprintf(procfs, sizeof(procfs), "%s/proc", root);
    struct sonde_context ctx = {
        .procfs = procfs, .sysfs = "/sys", .rootfs = "/", .hostname = "t", .instance = "pressure"};
    struct pressure_config cfg = {0};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_pressure.init(&state, &cfg, &ctx), 0);
    int rc = sonde_plugin_pressure.read(state, b);
    sonde_plugin_pressure.destroy(state);
    batch_finish(b);
    return rc;
}

static double pressure_value(const struct sonde_batch *b, const char *name)
{
    const struct sonde_series *s = series_find(b, name, NULL);
    ck_assert_msg(s != NULL, "%s missing", name);
    ck_assert_int_eq(s->family->type, SONDE_COUNTER);
    return s->value;
}

START_TEST(test_parse)
{
    struct pressure_stats st;
    ck_assert_int_eq(pressure_parse("some avg10=4.45 avg60=3.13 avg300=13.43 total=294148881\n"
                                    "full avg10=0.00 avg60=0.00 avg300=0.00 total=12\n",
                                    &st),
                     0);
    ck_assert(st.has_some && st.has_full);
    ck_assert_uint_eq(st.some_total, 294148881);
    ck_assert_uint_eq(st.full_total, 12);
    /* Unknown kinds are ignored; no newline at the end is fine. */
    ck_assert_int_eq(pressure_parse("other x=1\nsome avg10=0 avg60=0 avg300=0 total=5", &st), 0);
    ck_assert(st.has_some && !st.has_full);
    ck_assert_uint_eq(st.some_total, 5);
    ck_assert_int_eq(pressure_parse("", &st), 0);
    ck_assert(!st.has_some && !st.has_full);
    const char *bad[] = {
        "some avg10=0.00 avg60=0.00 avg300=0.00\n",
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=-1\n",
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=1x\n",
        "some avg60=0.00 avg10=0.00 avg300=0.00 total=1\n",
        "some\n",
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=99999999999999999999\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(pressure_parse(bad[i], &st) == -EINVAL, "%s", bad[i]);
    /* "somewhere" is another word, not a some line. */
    ck_assert_int_eq(pressure_parse("somewhere 1\n", &st), 0);
    ck_assert(!st.has_some);
}
END_TEST

START_TEST(test_read_fixture)
{
    struct sonde_batch *b = batch_new("pressure");
    ck_assert_int_eq(pressure_read_dir(FIXTURES "/pressure", b), 0);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(b->nseries, 5); /* no irq file on this kernel */
    ck_assert_double_eq_tol(pressure_value(b, "node_pressure_cpu_waiting_seconds_total"),
                            307.169384, EPS);
    ck_assert_double_eq_tol(pressure_value(b, "node_pressure_io_waiting_seconds_total"), 138.884927,
                            EPS);
    ck_assert_double_eq_tol(pressure_value(b, "node_pressure_io_stalled_seconds_total"), 115.090527,
                            EPS);
    ck_assert_double_eq(pressure_value(b, "node_pressure_memory_waiting_seconds_total"), 0.0);
    ck_assert_double_eq(pressure_value(b, "node_pressure_memory_stalled_seconds_total"), 0.0);
    ck_assert_ptr_null(series_find(b, "node_pressure_irq_stalled_seconds_total", NULL));
    ck_assert_str_eq(series_find(b, "node_pressure_io_stalled_seconds_total", NULL)->family->help,
                     "Total time in seconds no process could make progress due to IO congestion");
    batch_free(b);
}
END_TEST

START_TEST(test_read_irq)
{
    struct sonde_batch *b = batch_new("pressure");
    ck_assert_int_eq(pressure_read_dir(FIXTURES "/pressure/irq", b), 0);
    ck_assert_uint_eq(b->nseries, 6);
    ck_assert_double_eq(pressure_value(b, "node_pressure_irq_stalled_seconds_total"), 2.5);
    batch_free(b);
}
END_TEST

/* No /proc/pressure: no series, no error; a partial tree stops at the
 * first missing resource, as node_exporter does. */
START_TEST(test_read_missing)
{
    struct sonde_batch *b = batch_new("pressure");
    ck_assert_int_eq(pressure_read_dir(FIXTURES "/pressure/no-such-dir", b), 0);
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(b->skipped, 0);
    batch_free(b);
    b = batch_new("pressure");
    ck_assert_int_eq(pressure_read_dir(FIXTURES "/pressure/partial", b), 0);
    ck_assert_uint_eq(b->nseries, 1);
    ck_assert_double_eq_tol(pressure_value(b, "node_pressure_cpu_waiting_seconds_total"),
                            307.169384, EPS);
    batch_free(b);
}
END_TEST

START_TEST(test_read_malformed)
{
    struct sonde_batch *b = batch_new("pressure");
    ck_assert_int_eq(pressure_read_dir(FIXTURES "/pressure/bad", b), -EINVAL);
    ck_assert_uint_eq(b->skipped, 1);
    ck_assert_uint_eq(b->nseries, 1); /* cpu, read before io */
    batch_free(b);
    /* memory without its some line: the full total is still there. */
    b = batch_new("pressure");
    ck_assert_int_eq(pressure_read_dir(FIXTURES "/pressure/nosome", b), 0);
    ck_assert_uint_eq(b->skipped, 1);
    ck_assert_ptr_null(series_find(b, "node_pressure_memory_waiting_seconds_total", NULL));
    ck_assert_double_eq_tol(pressure_value(b, "node_pressure_memory_stalled_seconds_total"), 7e-6,
                            1e-15);
    batch_free(b);
}
END_TEST

START_TEST(test_no_series_wanted)
{
    struct sonde_batch *b = batch_new("pressure");
    b->want_series = false;
    ck_assert_int_eq(pressure_read_dir(FIXTURES "/pressure", b), 0);
    ck_assert_uint_eq(b->nseries + b->npoints, 0);
    batch_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pressure");
    TCase *tc = tcase_create("pressure");
    tcase_add_test(tc, test_parse);
    tcase_add_test(tc, test_read_fixture);
    tcase_add_test(tc, test_read_irq);
    tcase_add_test(tc, test_read_missing);
    tcase_add_test(tc, test_read_malformed);
    tcase_add_test(tc, test_no_series_wanted);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
