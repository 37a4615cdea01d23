/*
 * check_lineproto.c - the line-protocol encoder, element by element: every
 * escape of the InfluxDB spec, types and suffixes, tag merging and order,
 * and what is skipped (empty tags, NaN/Inf fields, empty points).
 */
#include <math.h>

#include "testutil.h"

static char *escaped(const char *s, enum lp_context context)
{
    static struct sonde_buf buf;
    buf.len = 0;
    sonde_buf_append(&buf, "", 0);
    lp_escape(&buf, s, context);
    return buf.data;
}

START_TEST(test_escape_measurement)
{
    ck_assert_str_eq(escaped("cpu load,x", LP_MEASUREMENT), "cpu\\ load\\,x");
    ck_assert_str_eq(escaped("a=b", LP_MEASUREMENT), "a=b"); /* = is literal here */
    ck_assert_str_eq(escaped("a\"b", LP_MEASUREMENT), "a\"b");
}
END_TEST

START_TEST(test_escape_tags_and_field_keys)
{
    ck_assert_str_eq(escaped("a b,c=d", LP_TAG_KEY), "a\\ b\\,c\\=d");
    ck_assert_str_eq(escaped("a b,c=d", LP_TAG_VALUE), "a\\ b\\,c\\=d");
    ck_assert_str_eq(escaped("a b,c=d", LP_FIELD_KEY), "a\\ b\\,c\\=d");
    ck_assert_str_eq(escaped("line\nbreak\ttab", LP_TAG_VALUE), "line\\nbreak\\ttab");
    /* A trailing backslash would escape the separator: dropped. */
    ck_assert_str_eq(escaped("C:\\", LP_TAG_VALUE), "C:");
    ck_assert_str_eq(escaped("a\\b", LP_TAG_VALUE), "a\\b");
}
END_TEST

START_TEST(test_escape_string_values)
{
    ck_assert_str_eq(escaped("say \"hi\" \\o/", LP_STRING_VALUE), "say \\\"hi\\\" \\\\o/");
    ck_assert_str_eq(escaped("a,b c=d", LP_STRING_VALUE), "a,b c=d");
    ck_assert_str_eq(escaped("ends\\", LP_STRING_VALUE), "ends\\\\");
}
END_TEST

static struct sonde_batch *batch_at(int64_t ts)
{
    struct sonde_batch *b = batch_new("test");
    b->timestamp_ns = ts;
    return b;
}

static char *encode(struct sonde_batch *b, struct sonde_lp_stats *stats)
{
    static struct sonde_buf out;
    out.len = 0;
    sonde_buf_append(&out, "", 0);
    batch_finish(b);
    sonde_lp_encode_batch(&out, b, stats);
    return out.data;
}

START_TEST(test_types_and_suffixes)
{
    struct sonde_batch *b = batch_at(1700000000123456789LL);
    struct sonde_point *p = sonde_point(b, "m");
    sonde_point_float(b, p, "f", 1.5);
    sonde_point_float(b, p, "whole", 3);
    sonde_point_int(b, p, "i", -42);
    sonde_point_uint(b, p, "u", 18446744073709551615ULL);
    sonde_point_bool(b, p, "b", true);
    sonde_point_string(b, p, "s", "x y");
    struct sonde_lp_stats st = {0};
    ck_assert_str_eq(encode(b, &st), "m f=1.5,whole=3,i=-42i,u=9223372036854775807i,b=true,"
                                     "s=\"x y\" 1700000000123456789\n");
    ck_assert_uint_eq(st.lines, 1);
    batch_free(b);
}
END_TEST

START_TEST(test_tags_sorted_merged_empty_skipped)
{
    struct sonde_batch *b = batch_at(1);
    struct sonde_label agent_tags[] = {{"dc", "par1"}, {"host", "h1"}, {"zone", ""}};
    b->lp_tags = agent_tags;
    b->nlp_tags = 3;
    struct sonde_point *p = sonde_point(b, "net");
    sonde_point_tag(b, p, "interface", "eth 0");
    sonde_point_tag(b, p, "empty", "");
    sonde_point_tag(b, p, "dc", "override");
    sonde_point_int(b, p, "bytes_recv", 7);
    struct sonde_lp_stats st = {0};
    ck_assert_str_eq(encode(b, &st), "net,dc=override,host=h1,interface=eth\\ 0 bytes_recv=7i 1\n");
    batch_free(b);
}
END_TEST

START_TEST(test_nonfinite_skipped_and_counted)
{
    struct sonde_batch *b = batch_at(5);
    struct sonde_point *p = sonde_point(b, "m");
    sonde_point_float(b, p, "nan", NAN);
    sonde_point_float(b, p, "ok", 0.25);
    sonde_point_float(b, p, "inf", INFINITY);
    struct sonde_point *q = sonde_point(b, "only_nan");
    sonde_point_float(b, q, "x", -INFINITY);
    struct sonde_lp_stats st = {0};
    ck_assert_str_eq(encode(b, &st), "m ok=0.25 5\n");
    ck_assert_uint_eq(st.nonfinite_fields, 3);
    ck_assert_uint_eq(st.empty_points, 1);
    ck_assert_uint_eq(st.lines, 1);
    batch_free(b);
}
END_TEST

START_TEST(test_empty_measurement_and_comment)
{
    struct sonde_batch *b = batch_at(5);
    sonde_point_int(b, sonde_point(b, ""), "x", 1);
    sonde_point_int(b, sonde_point(b, "#m"), "x", 1);
    sonde_point(b, "nofields");
    struct sonde_lp_stats st = {0};
    ck_assert_str_eq(encode(b, &st), "");
    ck_assert_uint_eq(st.empty_points, 3);
    batch_free(b);
}
END_TEST

START_TEST(test_float_round_trip)
{
    struct sonde_batch *b = batch_at(9);
    struct sonde_point *p = sonde_point(b, "m");
    sonde_point_float(b, p, "a", 0.1);
    sonde_point_float(b, p, "b", 1.0 / 3.0);
    sonde_point_float(b, p, "c", 2.70553174016e+11);
    sonde_point_float(b, p, "d", 1e300);
    struct sonde_lp_stats st = {0};
    ck_assert_str_eq(encode(b, &st), "m a=0.1,b=0.3333333333333333,c=270553174016,d=1e+300 9\n");
    batch_free(b);
}
END_TEST

static Suite *lineproto_suite(void)
{
    Suite *s = suite_create("lineproto");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_escape_measurement);
    tcase_add_test(tc, test_escape_tags_and_field_keys);
    tcase_add_test(tc, test_escape_string_values);
    tcase_add_test(tc, test_types_and_suffixes);
    tcase_add_test(tc, test_tags_sorted_merged_empty_skipped);
    tcase_add_test(tc, test_nonfinite_skipped_and_counted);
    tcase_add_test(tc, test_empty_measurement_and_comment);
    tcase_add_test(tc, test_float_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(lineproto_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
