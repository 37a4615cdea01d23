/*
 * check_exposition.c - Prometheus text 0.0.4 and OpenMetrics rendering,
 * content negotiation, and number formatting.
 */
#include <math.h>

#include "testutil.h"

static const struct sonde_family fam_counter = {"x_requests_total", SONDE_COUNTER,
                                                "Requests \\ served\nso far."};
static const struct sonde_family fam_gauge = {"a_temp_celsius", SONDE_GAUGE, "A \"gauge\"."};
static const struct sonde_family fam_untyped = {"m_untyped", SONDE_UNTYPED, "Untyped."};
static const struct sonde_family fam_odd_counter = {"odd_counter", SONDE_COUNTER, "No suffix."};

static char *render(struct sonde_batch **batches, size_t n, enum expo_format format)
{
    static struct sonde_buf out;
    out.len = 0;
    sonde_buf_append(&out, "", 0);
    struct expo_source src = {.batches = (const struct sonde_batch *const *)batches, .nbatches = n};
    expo_render(&out, &src, format);
    return out.data;
}

START_TEST(test_text_grouped_sorted_escaped)
{
    struct sonde_batch *a = batch_new("a"), *b = batch_new("b");
    sonde_emit(a, &fam_counter, 5, "path", "/x\"y", "code", "200", NULL);
    sonde_emit(a, &fam_gauge, 21.5, NULL);
    sonde_emit(b, &fam_counter, 1e21, "path", "a\\b\nc", NULL);
    struct sonde_batch *batches[] = {a, NULL, b};
    ck_assert_str_eq(render(batches, 3, EXPO_TEXT),
                     "# HELP a_temp_celsius A \"gauge\".\n"
                     "# TYPE a_temp_celsius gauge\n"
                     "a_temp_celsius 21.5\n"
                     "# HELP x_requests_total Requests \\\\ served\\nso far.\n"
                     "# TYPE x_requests_total counter\n"
                     "x_requests_total{code=\"200\",path=\"/x\\\"y\"} 5\n"
                     "x_requests_total{path=\"a\\\\b\\nc\"} 1e+21\n");
    batch_free(a);
    batch_free(b);
}
END_TEST

START_TEST(test_openmetrics)
{
    struct sonde_batch *a = batch_new("a");
    sonde_emit(a, &fam_counter, 5, NULL);
    sonde_emit(a, &fam_untyped, NAN, NULL);
    sonde_emit(a, &fam_odd_counter, 1, NULL);
    sonde_emit(a, &fam_gauge, -INFINITY, NULL);
    ck_assert_str_eq(render(&a, 1, EXPO_OPENMETRICS),
                     "# HELP a_temp_celsius A \\\"gauge\\\".\n"
                     "# TYPE a_temp_celsius gauge\n"
                     "a_temp_celsius -Inf\n"
                     "# HELP m_untyped Untyped.\n"
                     "# TYPE m_untyped unknown\n"
                     "m_untyped NaN\n"
                     "# HELP odd_counter No suffix.\n"
                     "# TYPE odd_counter unknown\n"
                     "odd_counter 1\n"
                     "# HELP x_requests Requests \\\\ served\\nso far.\n"
                     "# TYPE x_requests counter\n"
                     "x_requests_total 5\n"
                     "# EOF\n");
    batch_free(a);
}
END_TEST

START_TEST(test_negotiation)
{
    ck_assert_int_eq(expo_negotiate(NULL), EXPO_TEXT);
    ck_assert_int_eq(expo_negotiate("*/*"), EXPO_TEXT);
    ck_assert_int_eq(expo_negotiate("text/plain;version=0.0.4"), EXPO_TEXT);
    /* What Prometheus 2.x sends. */
    ck_assert_int_eq(expo_negotiate("application/openmetrics-text;version=1.0.0,application/"
                                    "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0."
                                    "0.4;q=0.5,*/*;q=0.1"),
                     EXPO_OPENMETRICS);
    ck_assert_int_eq(expo_negotiate("application/openmetrics-text;version=1.0.0;q=0.2,text/"
                                    "plain;q=0.9"),
                     EXPO_TEXT);
    ck_assert_int_eq(expo_negotiate("application/openmetrics-text; version=0.0.1"), EXPO_TEXT);
    ck_assert_int_eq(expo_negotiate("application/openmetrics-text"), EXPO_OPENMETRICS);
    ck_assert_int_eq(expo_negotiate("application/json"), EXPO_TEXT);
}
END_TEST

START_TEST(test_format_double)
{
    char buf[40];
    struct {
        double v;
        const char *text;
    } cases[] = {{0, "0"},
                 {-3, "-3"},
                 {12345678901234, "12345678901234"},
                 {1e15, "1e+15"},
                 {0.1, "0.1"},
                 {1.0 / 3.0, "0.3333333333333333"},
                 {2.5e-7, "2.5e-07"},
                 {NAN, "NaN"},
                 {INFINITY, "+Inf"},
                 {-INFINITY, "-Inf"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = format_double(buf, cases[i].v);
        ck_assert_str_eq(buf, cases[i].text);
        ck_assert_uint_eq(n, strlen(cases[i].text));
    }
    /* Every value reads back exactly. */
    for (double v = 1e-9; v < 1e18; v *= 7.77) {
        format_double(buf, v);
        ck_assert(strtod(buf, NULL) == v);
    }
}
END_TEST

/* The shortest %g form, the slow way: what format_double must print. */
static void format_reference(char *out, double v)
{
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(out, 40, "%.0f", v);
        return;
    }
    for (int precision = 15; precision <= 17; precision++) {
        snprintf(out, 40, "%.*g", precision, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

/* The decimal fast path (values of one to three decimals) prints what %g's
 * shortest form prints, for decimals of every size and sign and for values
 * next to them that are not such decimals. */
START_TEST(test_format_double_decimals)
{
    char got[40], want[40];
    unsigned state = 12345;
    const double scales[] = {10, 100, 1000};
    for (int i = 0; i < 200000; i++) {
        state = state * 1103515245u + 12345u;
        long long k = (long long)(state >> 3) % 2000000000LL - 1000000000LL;
        k /= (long long)1 << (state % 31); /* every magnitude */
        double v = (double)k / scales[i % 3];
        if (i % 7 == 0)
            v = nextafter(v, INFINITY); /* not a short decimal */
        format_reference(want, v);
        size_t n = format_double(got, v);
        ck_assert_msg(strcmp(got, want) == 0, "%.17g: got %s, want %s", v, got, want);
        ck_assert_uint_eq(n, strlen(want));
    }
    const struct {
        double v;
        const char *text;
    } cases[] = {{2691.08, "2691.08"},   {0.5, "0.5"},     {-0.05, "-0.05"},
                 {1056.152, "1056.152"}, {0.001, "0.001"}, {123456789.1, "123456789.1"},
                 {1.10, "1.1"},          {-7.25, "-7.25"}, {999999999.999, "999999999.999"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        format_double(got, cases[i].v);
        ck_assert_str_eq(got, cases[i].text);
    }
}
END_TEST

static Suite *exposition_suite(void)
{
    Suite *s = suite_create("exposition");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_text_grouped_sorted_escaped);
    tcase_add_test(tc, test_openmetrics);
    tcase_add_test(tc, test_negotiation);
    tcase_add_test(tc, test_format_double);
    tcase_add_test(tc, test_format_double_decimals);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(exposition_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
