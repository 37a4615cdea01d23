/*
 * check_swap.c - unit tests of the swap input: the meminfo and vmstat
 * parsers and full reads over fixture directories (this machine, which has
 * no swap; a hand-edited capture with swap in use; broken and missing lines).
 */
#include "../../plugins/swap.c"

#include "testutil.h"

/* Runs init + read + destroy over `procfs` with 4 KiB pages; returns read's
 * result. */
static int swap_read_dir(const char *procfs, struct sonde_batch *batch)
{
    struct sonde_context ctx = {
        .procfs = procfs, .sysfs = "/sys", .rootfs = "/", .hostname = "t", .instance = "swap"};
    struct swap_config cfg = {0};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_swap.init(&state, &cfg, &ctx), 0);
    ((struct swap_state *)state)->page_size = 4096; /* the tests' page size, any host */
    int rc = sonde_plugin_swap.read(state, batch);
    sonde_plugin_swap.destroy(state);
    batch_finish(batch);
    return rc;
}

static int64_t swap_field_int(const struct sonde_point *p, const char *key)
{
    const struct sonde_field *f = field_get(p, key);
    ck_assert_msg(f != NULL, "field %s missing", key);
    ck_assert_int_eq(f->type, SONDE_FIELD_INT);
    return f->v.i;
}

static double swap_field_float(const struct sonde_point *p, const char *key)
{
    const struct sonde_field *f = field_get(p, key);
    ck_assert_msg(f != NULL, "field %s missing", key);
    ck_assert_int_eq(f->type, SONDE_FIELD_FLOAT);
    return f->v.f;
}

START_TEST(test_parse_meminfo)
{
    char *buf = fixture_read("swap/swapon/meminfo");
    struct swap_stats s = {0};
    swap_parse_meminfo(buf, &s);
    ck_assert(s.have_total && s.have_free);
    ck_assert_uint_eq(s.total, 2097148ull * 1024);
    ck_assert_uint_eq(s.free, 1572860ull * 1024);
    ck_assert_uint_eq(s.skipped, 0);
    free(buf);

    /* SwapCached: must not be taken for SwapTotal:/SwapFree:. */
    struct swap_stats t = {0};
    swap_parse_meminfo("SwapCached: 7 kB\nSwapTotal: 8 kB\nSwapFree: 9 kB\n", &t);
    ck_assert_uint_eq(t.total, 8 * 1024);
    ck_assert_uint_eq(t.free, 9 * 1024);
}
END_TEST

START_TEST(test_parse_vmstat)
{
    char *buf = fixture_read("swap/swapon/vmstat");
    struct swap_stats s = {0};
    swap_parse_vmstat(buf, &s);
    ck_assert(s.have_in && s.have_out);
    ck_assert_uint_eq(s.pages_in, 1234);
    ck_assert_uint_eq(s.pages_out, 5678);
    free(buf);

    struct swap_stats t = {0};
    swap_parse_vmstat("pswpin -1\npswpout 18446744073709551616\n", &t);
    ck_assert(!t.have_in && !t.have_out);
    ck_assert_uint_eq(t.skipped, 2);
}
END_TEST

/* This machine: no swap configured, nothing swapped. */
START_TEST(test_read_fixture)
{
    struct sonde_batch *b = batch_new("swap");
    ck_assert_int_eq(swap_read_dir(FIXTURES "/swap/proc", b), 0);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(b->nseries, 0); /* no Prometheus output, by design */
    ck_assert_uint_eq(b->npoints, 2);
    const struct sonde_point *g = b->points[0], *c = b->points[1];
    ck_assert_str_eq(g->measurement, "swap");
    ck_assert_str_eq(c->measurement, "swap");
    ck_assert_uint_eq(g->nfields, 4);
    ck_assert_int_eq(swap_field_int(g, "total"), 0);
    ck_assert_int_eq(swap_field_int(g, "used"), 0);
    ck_assert_int_eq(swap_field_int(g, "free"), 0);
    ck_assert_double_eq(swap_field_float(g, "used_percent"), 0.0); /* not NaN */
    ck_assert_uint_eq(c->nfields, 2);
    ck_assert_int_eq(swap_field_int(c, "in"), 0);
    ck_assert_int_eq(swap_field_int(c, "out"), 0);
    batch_free(b);
}
END_TEST

START_TEST(test_read_swapon)
{
    struct sonde_batch *b = batch_new("swap");
    ck_assert_int_eq(swap_read_dir(FIXTURES "/swap/swapon", b), 0);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(b->npoints, 2);
    const struct sonde_point *g = b->points[0], *c = b->points[1];
    ck_assert_int_eq(swap_field_int(g, "total"), 2097148ll * 1024);
    ck_assert_int_eq(swap_field_int(g, "free"), 1572860ll * 1024);
    ck_assert_int_eq(swap_field_int(g, "used"), 536870912);
    ck_assert_double_eq_tol(swap_field_float(g, "used_percent"), 25.00004768380677, 1e-12);
    ck_assert_int_eq(swap_field_int(c, "in"), 1234ll * 4096);
    ck_assert_int_eq(swap_field_int(c, "out"), 5678ll * 4096);
    batch_free(b);
}
END_TEST

/* SwapTotal malformed, SwapFree and pswpout missing: no gauge point, a
 * counter point with `in` only, three skips. */
START_TEST(test_read_broken)
{
    struct sonde_batch *b = batch_new("swap");
    ck_assert_int_eq(swap_read_dir(FIXTURES "/swap/broken", b), 0);
    ck_assert_uint_eq(b->skipped, 3);
    ck_assert_uint_eq(b->npoints, 1);
    const struct sonde_point *c = b->points[0];
    ck_assert_uint_eq(c->nfields, 1);
    ck_assert_int_eq(swap_field_int(c, "in"), 42 * 4096);
    ck_assert_ptr_null(field_get(c, "out"));
    batch_free(b);
}
END_TEST

START_TEST(test_read_missing)
{
    struct sonde_batch *b = batch_new("swap");
    ck_assert_int_eq(swap_read_dir(FIXTURES "/swap/no-such-dir", b), -ENOENT);
    ck_assert_uint_eq(b->npoints, 0);
    batch_free(b);
}
END_TEST

/* vmstat unreadable: the gauges are published, the error is returned. */
START_TEST(test_read_no_vmstat)
{
    struct sonde_batch *b = batch_new("swap");
    ck_assert_int_eq(swap_read_dir(FIXTURES "/swap/no-vmstat", b), -ENOENT);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(b->npoints, 1);
    ck_assert_int_eq(swap_field_int(b->points[0], "total"), 2097148ll * 1024);
    ck_assert_ptr_null(field_get(b->points[0], "in"));
    batch_free(b);
}
END_TEST

static Suite *swap_suite(void)
{
    Suite *s = suite_create("swap");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_meminfo);
    tcase_add_test(tc, test_parse_vmstat);
    tcase_add_test(tc, test_read_fixture);
    tcase_add_test(tc, test_read_swapon);
    tcase_add_test(tc, test_read_broken);
    tcase_add_test(tc, test_read_missing);
    tcase_add_test(tc, test_read_no_vmstat);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(swap_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
