/*
 * check_cpufreq.c - unit tests of plugins/cpufreq.c: the kHz parser and reads over sysfs
 * fixtures (three CPUs with intel_pstate policies, one without cpufreq, cpuinfo_cur_freq
 * only where root could read it; an odd tree with malformed and extreme values, a CPU
 * whose cpufreq link dangles, and a two-digit CPU number).
 */
#include "../../plugins/cpufreq.c"

#include "testutil.h"

static struct sonde_batch *cpufreq_run(const char *sysfs)
{
    struct cpufreq_config cfg = {0};
    struct sonde_context ctx = {
        .procfs = "/proc", .sysfs = sysfs, .rootfs = "/", .hostname = "t", .instance = "cpufreq"};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_cpufreq.init(&state, &cfg, &ctx), 0);
    struct sonde_batch *b = batch_new("cpufreq");
    ck_assert_int_eq(sonde_plugin_cpufreq.read(state, b), 0);
    sonde_plugin_cpufreq.destroy(state);
    batch_finish(b);
    return b;
}

static double cpufreq_value(const struct sonde_batch *b, const char *name, const char *cpu)
{
    const struct sonde_series *s = series_find(b, name, "cpu", cpu, NULL);
    ck_assert_msg(s != NULL, "%s{cpu=%s} missing", name, cpu);
    ck_assert_uint_eq(s->nlabels, 1);
    return s->value;
}

START_TEST(test_parse)
{
    uint64_t v;
    ck_assert_int_eq(cpufreq_parse_khz("4700000\n", &v), 0);
    ck_assert_uint_eq(v, 4700000);
    ck_assert_int_eq(cpufreq_parse_khz("  1000000  \n", &v), 0);
    ck_assert_uint_eq(v, 1000000);
    ck_assert_int_eq(cpufreq_parse_khz("18446744073709551615", &v), 0);
    ck_assert_uint_eq(v, UINT64_MAX);
    const char *bad[] = {"abc", "-5", "", "\n", "12 34", "18446744073709551616", "<unsupported>"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(cpufreq_parse_khz(bad[i], &v) == -EINVAL, "'%s'", bad[i]);
    ck_assert_str_eq(cpufreq_cpu_id("cpu12"), "12");
    ck_assert_ptr_null(cpufreq_cpu_id("cpufreq"));
    ck_assert_ptr_null(cpufreq_cpu_id("cpuidle"));
}
END_TEST

/* node_exporter 1.5 printed these 16 series for this tree. */
START_TEST(test_read_fixture)
{
    struct sonde_batch *b = cpufreq_run(FIXTURES "/cpufreq/sys");
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(b->nseries, 16);
    ck_assert_double_eq(cpufreq_value(b, "node_cpu_frequency_hertz", "0"), 1.8e9);
    ck_assert_ptr_null(series_find(b, "node_cpu_frequency_hertz", "cpu", "1", NULL));
    ck_assert_double_eq(cpufreq_value(b, "node_cpu_frequency_max_hertz", "2"), 4.7e9);
    ck_assert_double_eq(cpufreq_value(b, "node_cpu_frequency_min_hertz", "1"), 4e8);
    ck_assert_double_eq(cpufreq_value(b, "node_cpu_scaling_frequency_hertz", "0"), 1800123000.0);
    ck_assert_double_eq(cpufreq_value(b, "node_cpu_scaling_frequency_hertz", "2"), 399999000.0);
    ck_assert_double_eq(cpufreq_value(b, "node_cpu_scaling_frequency_max_hertz", "2"), 3e9);
    ck_assert_double_eq(cpufreq_value(b, "node_cpu_scaling_frequency_min_hertz", "0"), 4e8);
    ck_assert_ptr_null(series_find(b, "node_cpu_scaling_frequency_hertz", "cpu", "3", NULL));
    const struct sonde_series *s = series_find(b, "node_cpu_frequency_hertz", NULL);
    ck_assert_str_eq(s->family->help, "Current cpu thread frequency in hertz.");
    s = series_find(b, "node_cpu_scaling_frequency_max_hertz", NULL);
    ck_assert_str_eq(s->family->help, "Maximum scaled CPU thread frequency in hertz.");
    ck_assert_int_eq(s->family->type, SONDE_GAUGE);
    batch_free(b);
}
END_TEST

START_TEST(test_read_odd)
{
    struct sonde_batch *b = cpufreq_run(FIXTURES "/cpufreq/odd/sys");
    ck_assert_uint_eq(b->skipped, 2); /* cpu0: "abc" and "-5" */
    ck_assert_uint_eq(b->nseries, 4);
    ck_assert_double_eq(cpufreq_value(b, "node_cpu_scaling_frequency_min_hertz", "0"), 8e8);
    ck_assert_double_eq(cpufreq_value(b, "node_cpu_scaling_frequency_hertz", "1"), 1e9);
    ck_assert_double_eq(cpufreq_value(b, "node_cpu_frequency_max_hertz", "1"),
                        18446744073709551615.0 * 1000.0);
    ck_assert_double_eq(cpufreq_value(b, "node_cpu_scaling_frequency_hertz", "12"), 3.2e9);
    batch_free(b);
}
END_TEST

/* This VM has CPUs but no cpufreq driver; a container may lack the
 * directory. Neither is an error. */
START_TEST(test_read_missing)
{
    struct sonde_batch *b = cpufreq_run(FIXTURES "/cpufreq/no-such-dir");
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(b->skipped, 0);
    batch_free(b);
}
END_TEST

START_TEST(test_read_twice)
{
    struct cpufreq_config cfg = {0};
    struct sonde_context ctx = {.procfs = "/proc",
                                .sysfs = FIXTURES "/cpufreq/sys",
                                .rootfs = "/",
                                .hostname = "t",
                                .instance = "cpufreq"};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_cpufreq.init(&state, &cfg, &ctx), 0);
    for (int i = 0; i < 2; i++) {
        struct sonde_batch *b = batch_new("cpufreq");
        ck_assert_int_eq(sonde_plugin_cpufreq.read(state, b), 0);
        ck_assert_uint_eq(b->nseries, 16);
        batch_free(b);
    }
    struct sonde_batch *b = batch_new("cpufreq");
    b->want_series = false;
    ck_assert_int_eq(sonde_plugin_cpufreq.read(state, b), 0);
    ck_assert_uint_eq(b->nseries, 0);
    batch_free(b);
    sonde_plugin_cpufreq.destroy(state);
}
END_TEST

static Suite *cpufreq_suite(void)
{
    Suite *s = suite_create("cpufreq");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse);
    tcase_add_test(tc, test_read_fixture);
    tcase_add_test(tc, test_read_odd);
    tcase_add_test(tc, test_read_missing);
    tcase_add_test(tc, test_read_twice);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cpufreq_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
