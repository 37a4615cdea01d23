/*
 * check_batch.c - batches and their arena: series and points as emitted,
 * labels and tags sorted, values copied, and the emit functions of a side
 * nobody wants doing nothing.
 */
#include "testutil.h"

static const struct sonde_family fam = {"x_total", SONDE_COUNTER, "X."};

START_TEST(test_series_copied_and_sorted)
{
    struct sonde_batch *b = batch_new("t");
    char value[8] = "v1";
    sonde_emit(b, &fam, 3, "zeta", value, "alpha", "a", NULL);
    value[1] = '2'; /* the batch kept its own copy */
    ck_assert_uint_eq(b->nseries, 1);
    ck_assert_str_eq(b->series[0].labels[0].key, "alpha");
    ck_assert_str_eq(b->series[0].labels[1].key, "zeta");
    ck_assert_str_eq(b->series[0].labels[1].value, "v1");
    for (int i = 0; i < 5000; i++) /* growth inside the arena */
        sonde_emit(b, &fam, i, "i", "x", NULL);
    ck_assert_uint_eq(b->nseries, 5001);
    ck_assert_double_eq(b->series[5000].value, 4999);
    batch_free(b);
}
END_TEST

START_TEST(test_points_tags_sorted_on_finish)
{
    struct sonde_batch *b = batch_new("t");
    struct sonde_point *p = sonde_point(b, "m");
    sonde_point_tag(b, p, "b", "2");
    sonde_point_tag(b, p, "a", "1");
    for (int i = 0; i < 40; i++)
        sonde_point_int(b, p, "f", i);
    batch_finish(b);
    ck_assert_str_eq(p->tags[0].key, "a");
    ck_assert_uint_eq(p->nfields, 40);
    ck_assert_int_eq(p->fields[39].v.i, 39);
    batch_free(b);
}
END_TEST

START_TEST(test_unwanted_sides_are_skipped)
{
    struct sonde_batch *b = batch_new("t");
    b->want_series = false;
    b->want_points = false;
    sonde_emit(b, &fam, 1, "a", "b", NULL);
    struct sonde_label l = {"a", "b"};
    sonde_emitv(b, &fam, 1, &l, 1);
    struct sonde_point *p = sonde_point(b, "m");
    sonde_point_tag(b, p, "t", "v");
    sonde_point_float(b, p, "f", 1);
    sonde_point_string(b, p, "s", "x");
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(b->npoints, 0);
    ck_assert_uint_eq(b->discard.ntags + b->discard.nfields, 0);
    batch_finish(b);
    struct sonde_buf out = {0};
    struct sonde_lp_stats st = {0};
    sonde_lp_encode_batch(&out, b, &st);
    ck_assert_uint_eq(st.lines, 0);
    sonde_buf_free(&out);
    batch_free(b);
}
END_TEST

static Suite *batch_suite(void)
{
    Suite *s = suite_create("batch");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_series_copied_and_sorted);
    tcase_add_test(tc, test_points_tags_sorted_on_finish);
    tcase_add_test(tc, test_unwanted_sides_are_skipped);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(batch_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
