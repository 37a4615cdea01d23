/*
 * check_softnet.c - unit tests of the softnet input: the line parser (widths
 * of old and new kernels, bad hex, 32-bit bound), reads of a capture of this
 * machine and of hand-made files, line-number cpu labels, a missing file.
 */
#include "../../plugins/softnet.c"

#include "testutil.h"

static int softnet_read_dir(const char *root, struct sonde_batch *b)
{
    char procfs[512];
    snprintf(procfs, sizeof(procfs), "%s/proc", root);
    struct sonde_context ctx = {
        .procfs = procfs, .sysfs = "/sys", .rootfs = "/", .hostname = "t", .instance = "softnet"};
    struct softnet_config cfg = {0};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_softnet.init(&state, &cfg, &ctx), 0);
    int rc = sonde_plugin_softnet.read(state, b);
    sonde_plugin_softnet.destroy(state);
    batch_finish(b);
    return rc;
}

static double softnet_value(const struct sonde_batch *b, const char *name, const char *cpu)
{
    const struct sonde_series *s = series_find(b, name, "cpu", cpu, NULL);
    ck_assert_msg(s != NULL, "%s{cpu=%s} missing", name, cpu);
    ck_assert_uint_eq(s->nlabels, 1);
    ck_assert_int_eq(s->family->type, SONDE_COUNTER);
    return s->value;
}

START_TEST(test_parse_line)
{
    uint32_t v[SOFTNET_NCOLUMNS];
    const char *l = "00bc9f18 00000001 0000000A 0 0 0 0 0 0 0 0 0 00000000 00000000 00000000";
    ck_assert_int_eq(softnet_parse_line(l, l + strlen(l), v), 0);
    ck_assert_uint_eq(v[SOFTNET_PROCESSED], 12361496);
    ck_assert_uint_eq(v[SOFTNET_DROPPED], 1);
    ck_assert_uint_eq(v[SOFTNET_SQUEEZED], 10);

    l = "  \t ";
    ck_assert_int_eq(softnet_parse_line(l, l + strlen(l), v), -ENODATA);
    const char *bad[] = {"1 2 3 4 5 6 7 8", "0x1 0 0 0 0 0 0 0 0", "1 -2 0 0 0 0 0 0 0",
                         "100000000 0 0 0 0 0 0 0 0", "1 2 g 0 0 0 0 0 0"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(softnet_parse_line(bad[i], bad[i] + strlen(bad[i]), v) == -EINVAL, "%s",
                      bad[i]);
}
END_TEST

/* This machine: two CPUs, 15 columns (Linux 6.x). */
START_TEST(test_read_fixture)
{
    struct sonde_batch *b = batch_new("softnet");
    ck_assert_int_eq(softnet_read_dir(FIXTURES "/softnet", b), 0);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(b->nseries, 6);
    ck_assert_double_eq(softnet_value(b, "node_softnet_processed_total", "0"), 12361496.0);
    ck_assert_double_eq(softnet_value(b, "node_softnet_processed_total", "1"), 11699321.0);
    ck_assert_double_eq(softnet_value(b, "node_softnet_dropped_total", "1"), 0.0);
    ck_assert_double_eq(softnet_value(b, "node_softnet_times_squeezed_total", "0"), 0.0);
    ck_assert_str_eq(series_find(b, "node_softnet_times_squeezed_total", NULL)->family->help,
                     "Number of times processing packets ran out of quota");
    /* Not in node_exporter 1.5. */
    ck_assert_uint_eq(series_count(b, "node_softnet_received_rps_total"), 0);
    ck_assert_uint_eq(b->npoints, 0);
    batch_free(b);
}
END_TEST

/* 9 columns (Linux 2.6.23 to 4.x). */
START_TEST(test_read_old_kernel)
{
    struct sonde_batch *b = batch_new("softnet");
    ck_assert_int_eq(softnet_read_dir(FIXTURES "/softnet/old", b), 0);
    ck_assert_uint_eq(b->nseries, 6);
    ck_assert_double_eq(softnet_value(b, "node_softnet_processed_total", "0"), 4096.0);
    ck_assert_double_eq(softnet_value(b, "node_softnet_times_squeezed_total", "0"), 5.0);
    ck_assert_double_eq(softnet_value(b, "node_softnet_processed_total", "1"), 8192.0);
    ck_assert_double_eq(softnet_value(b, "node_softnet_dropped_total", "1"), 1.0);
    batch_free(b);
}
END_TEST

/* Bad lines are skipped and counted, and keep their cpu number. */
START_TEST(test_read_odd)
{
    struct sonde_batch *b = batch_new("softnet");
    ck_assert_int_eq(softnet_read_dir(FIXTURES "/softnet/odd", b), 0);
    ck_assert_uint_eq(b->skipped, 3); /* 8 columns, "zz", 2^32 */
    ck_assert_uint_eq(b->nseries, 9);
    ck_assert_double_eq(softnet_value(b, "node_softnet_processed_total", "0"), 10.0);
    ck_assert_double_eq(softnet_value(b, "node_softnet_dropped_total", "0"), 1.0);
    ck_assert_double_eq(softnet_value(b, "node_softnet_times_squeezed_total", "0"), 2.0);
    ck_assert_double_eq(softnet_value(b, "node_softnet_processed_total", "1"), 11.0);
    ck_assert_ptr_null(series_find(b, "node_softnet_processed_total", "cpu", "2", NULL));
    ck_assert_ptr_null(series_find(b, "node_softnet_processed_total", "cpu", "4", NULL));
    ck_assert_double_eq(softnet_value(b, "node_softnet_processed_total", "5"), 4294967295.0);
    ck_assert_double_eq(softnet_value(b, "node_softnet_dropped_total", "5"), 2.0);
    ck_assert_double_eq(softnet_value(b, "node_softnet_times_squeezed_total", "5"), 3.0);
    batch_free(b);
}
END_TEST

START_TEST(test_read_missing_unwanted)
{
    struct sonde_batch *b = batch_new("softnet");
    ck_assert_int_eq(softnet_read_dir(FIXTURES "/softnet/no-such-dir", b), -ENOENT);
    ck_assert_uint_eq(b->nseries, 0);
    batch_free(b);

    b = batch_new("softnet");
    b->want_series = false;
    ck_assert_int_eq(softnet_read_dir(FIXTURES "/softnet", b), 0);
    ck_assert_uint_eq(b->nseries + b->npoints, 0);
    batch_free(b);
}
END_TEST

static Suite *softnet_suite(void)
{
    Suite *s = suite_create("softnet");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_line);
    tcase_add_test(tc, test_read_fixture);
    tcase_add_test(tc, test_read_old_kernel);
    tcase_add_test(tc, test_read_odd);
    tcase_add_test(tc, test_read_missing_unwanted);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(softnet_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
