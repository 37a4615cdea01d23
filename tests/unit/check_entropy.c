/*
 * check_entropy.c - unit tests of plugins/entropy.c: the number parser and
 * reads over a capture of this machine, a malformed pool size and a
 * missing one (both fail the read, as node_exporter fails its collector).
 */
#include "../../plugins/entropy.c"

#include "testutil.h"

static int entropy_read_dir(const char *root, struct sonde_batch *b)
{
    char procfs[512];
    snprintf(procfs, sizeof(procfs), "%s/proc", root);
    struct sonde_context ctx = {
        .procfs = procfs, .sysfs = "/sys", .rootfs = "/", .hostname = "t", .instance = "entropy"};
    struct entropy_config cfg = {0};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_entropy.init(&state, &cfg, &ctx), 0);
    int rc = sonde_plugin_entropy.read(state, b);
    sonde_plugin_entropy.destroy(state);
    batch_finish(b);
    return rc;
}

START_TEST(test_parse)
{
    uint64_t v = 0;
    ck_assert_int_eq(entropy_parse("256\n", &v), 0);
    ck_assert_uint_eq(v, 256);
    ck_assert_int_eq(entropy_parse("  7 \n", &v), 0);
    ck_assert_uint_eq(v, 7);
    ck_assert_int_eq(entropy_parse("", &v), -EINVAL);
    ck_assert_int_eq(entropy_parse("-1\n", &v), -EINVAL);
    ck_assert_int_eq(entropy_parse("1 2\n", &v), -EINVAL);
    ck_assert_int_eq(entropy_parse("99999999999999999999\n", &v), -EINVAL);
}
END_TEST

START_TEST(test_read_fixture)
{
    struct sonde_batch *b = batch_new("entropy");
    ck_assert_int_eq(entropy_read_dir(FIXTURES "/entropy", b), 0);
    ck_assert_uint_eq(b->nseries, 2);
    const struct sonde_series *s = series_find(b, "node_entropy_available_bits", NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_double_eq(s->value, 256.0);
    ck_assert_str_eq(s->family->help, "Bits of available entropy.");
    ck_assert_int_eq(s->family->type, SONDE_GAUGE);
    s = series_find(b, "node_entropy_pool_size_bits", NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_double_eq(s->value, 256.0);
    ck_assert_str_eq(s->family->help, "Bits of entropy pool.");
    ck_assert_uint_eq(b->npoints, 0);
    batch_free(b);
}
END_TEST

START_TEST(test_read_odd)
{
    struct sonde_batch *b = batch_new("entropy");
    ck_assert_int_eq(entropy_read_dir(FIXTURES "/entropy/odd", b), -EINVAL);
    ck_assert_uint_eq(b->nseries, 1);
    ck_assert_double_eq(series_find(b, "node_entropy_available_bits", NULL)->value, 42.0);
    ck_assert_uint_eq(b->skipped, 1);
    batch_free(b);
    b = batch_new("entropy");
    ck_assert_int_eq(entropy_read_dir(FIXTURES "/entropy/nopool", b), -ENOENT);
    ck_assert_uint_eq(b->nseries, 1);
    ck_assert_double_eq(series_find(b, "node_entropy_available_bits", NULL)->value, 3.0);
    batch_free(b);
    b = batch_new("entropy");
    ck_assert_int_eq(entropy_read_dir(FIXTURES "/entropy/no-such-dir", b), -ENOENT);
    ck_assert_uint_eq(b->nseries, 0);
    batch_free(b);
}
END_TEST

START_TEST(test_no_series_wanted)
{
    struct sonde_batch *b = batch_new("entropy");
    b->want_series = false;
    ck_assert_int_eq(entropy_read_dir(FIXTURES "/entropy/no-such-dir", b), 0);
    ck_assert_uint_eq(b->nseries + b->npoints, 0);
    batch_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("entropy");
    TCase *tc = tcase_create("entropy");
    tcase_add_test(tc, test_parse);
    tcase_add_test(tc, test_read_fixture);
    tcase_add_test(tc, test_read_odd);
    tcase_add_test(tc, test_no_series_wanted);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
