/*
 * check_exposition.c - Prometheus text 0.0.4 and OpenMetrics rendering,
 * the grouping kept between renders, content negotiation, and number
 * formatting.
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

/* Renders with `cache` and checks the text is what a render without one
 * gives; returns it (malloc'd). */
static char *render_cached_checked(struct expo_cache *cache, struct sonde_batch **batches, size_t n,
                                   enum expo_format format)
{
    struct expo_source src = {.batches = (const struct sonde_batch *const *)batches, .nbatches = n};
    struct sonde_buf cached = {0}, fresh = {0};
    expo_render_cached(&cached, &src, format, cache);
    expo_render(&fresh, &src, format);
    ck_assert_str_eq(cached.data ? cached.data : "", fresh.data ? fresh.data : "");
    sonde_buf_free(&fresh);
    return cached.data ? cached.data : strdup("");
}

/* The grouping kept from one render serves the next only while the runs of
 * families are the same: series added or removed, a family swapped for
 * another, a batch moved, all give what a fresh render gives. */
START_TEST(test_cache_follows_changes)
{
    struct expo_cache *cache = expo_cache_new();
    struct sonde_batch *a = batch_new("a"), *b = batch_new("b");
    sonde_emit(a, &fam_counter, 1, "code", "200", NULL);
    sonde_emit(a, &fam_counter, 2, "code", "500", NULL);
    sonde_emit(a, &fam_gauge, 3, NULL);
    sonde_emit(b, &fam_counter, 4, "code", "404", NULL);
    struct sonde_batch *batches[] = {a, NULL, b};
    char *first = render_cached_checked(cache, batches, 3, EXPO_TEXT);
    char *again = render_cached_checked(cache, batches, 3, EXPO_TEXT);
    ck_assert_str_eq(again, first);
    ck_assert_str_eq(again, "# HELP a_temp_celsius A \"gauge\".\n"
                            "# TYPE a_temp_celsius gauge\n"
                            "a_temp_celsius 3\n"
                            "# HELP x_requests_total Requests \\\\ served\\nso far.\n"
                            "# TYPE x_requests_total counter\n"
                            "x_requests_total{code=\"200\"} 1\n"
                            "x_requests_total{code=\"500\"} 2\n"
                            "x_requests_total{code=\"404\"} 4\n");
    free(first);
    free(again);
    free(render_cached_checked(cache, batches, 3, EXPO_OPENMETRICS));

    /* A series more in a run, and one less. */
    sonde_emit(b, &fam_counter, 5, "code", "418", NULL);
    free(render_cached_checked(cache, batches, 3, EXPO_TEXT));
    b->nseries--;
    free(render_cached_checked(cache, batches, 3, EXPO_TEXT));

    /* The same counts, another family in the middle (sorted elsewhere). */
    struct sonde_batch *c = batch_new("a");
    sonde_emit(c, &fam_counter, 1, "code", "200", NULL);
    sonde_emit(c, &fam_untyped, 2, NULL);
    sonde_emit(c, &fam_gauge, 3, NULL);
    batches[0] = c;
    char *swapped = render_cached_checked(cache, batches, 3, EXPO_TEXT);
    ck_assert_ptr_nonnull(strstr(swapped, "m_untyped 2\n"));
    free(swapped);

    /* The same series, in another slot: the order within a family follows. */
    batches[0] = NULL;
    batches[1] = c;
    free(render_cached_checked(cache, batches, 3, EXPO_TEXT));
    batches[1] = b;
    batches[2] = c;
    char *moved = render_cached_checked(cache, batches, 3, EXPO_TEXT);
    ck_assert_ptr_nonnull(strstr(moved, "{code=\"404\"} 4\nx_requests_total{code=\"200\"} 1\n"));
    free(moved);

    /* Nothing left. */
    batches[1] = batches[2] = NULL;
    free(render_cached_checked(cache, batches, 3, EXPO_TEXT));
    free(render_cached_checked(cache, batches, 3, EXPO_OPENMETRICS));
    batch_free(a);
    batch_free(b);
    batch_free(c);
    expo_cache_free(cache);
}
END_TEST

/* A family at the address of an earlier one but of another name, as when a
 * batch's arena is reused for the next batch's read-time families: the
 * cache compares names, not addresses. Also a name changed in place, and
 * help and type changed under the same name. */
START_TEST(test_cache_same_address_other_name)
{
    struct expo_cache *cache = expo_cache_new();
    struct sonde_family dynamic = {"b_middle", SONDE_GAUGE, "Dynamic."};
    char name[] = "c_later";
    struct sonde_family in_place = {name, SONDE_GAUGE, "In place."};
    struct sonde_batch *a = batch_new("a");
    sonde_emit(a, &fam_gauge, 1, NULL);
    sonde_emit(a, &dynamic, 2, NULL);
    sonde_emit(a, &in_place, 3, NULL);
    sonde_emit(a, &fam_untyped, 4, NULL);
    struct sonde_batch *batches[] = {a};
    free(render_cached_checked(cache, batches, 1, EXPO_TEXT));

    dynamic.name = "z_last"; /* same family address, another name */
    char *out = render_cached_checked(cache, batches, 1, EXPO_TEXT);
    ck_assert_ptr_nonnull(strstr(out, "m_untyped 4\n# HELP z_last Dynamic.\n"));
    free(out);

    name[0] = 'a'; /* same family and name addresses, another text: a_later */
    out = render_cached_checked(cache, batches, 1, EXPO_TEXT);
    ck_assert(strncmp(out, "# HELP a_later In place.\n", 25) == 0);
    free(out);

    dynamic.help = "Changed.";
    dynamic.type = SONDE_COUNTER;
    out = render_cached_checked(cache, batches, 1, EXPO_OPENMETRICS);
    ck_assert_ptr_nonnull(strstr(out, "# HELP z_last Changed.\n# TYPE z_last unknown\n"));
    free(out);

    /* Read-time families of a new batch, as an input makes them. */
    struct sonde_batch *b = batch_new("a");
    sonde_emit(b, sonde_family_new(b, "m_untyped", SONDE_GAUGE, "Same name, new family."), 5, NULL);
    sonde_emit(b, sonde_family_new(b, "a_other", SONDE_GAUGE, "Other."), 6, NULL);
    batches[0] = b;
    free(render_cached_checked(cache, batches, 1, EXPO_TEXT));
    batch_free(a);
    batch_free(b);
    expo_cache_free(cache);
}
END_TEST

/* Two families of one name next to each other (one run each) and in
 * several batches: one group, the first family's HELP, cached or not. */
START_TEST(test_cache_runs_of_one_name)
{
    static const struct sonde_family twin = {"x_requests_total", SONDE_COUNTER, "Twin."};
    struct expo_cache *cache = expo_cache_new();
    struct sonde_batch *a = batch_new("a"), *b = batch_new("b");
    sonde_emit(a, &twin, 1, NULL);
    sonde_emit(a, &fam_counter, 2, NULL);
    sonde_emit(b, &fam_counter, 3, NULL);
    sonde_emit(b, &twin, 4, NULL);
    struct sonde_batch *batches[] = {a, b};
    char *out = render_cached_checked(cache, batches, 2, EXPO_TEXT);
    ck_assert_str_eq(out, "# HELP x_requests_total Twin.\n"
                          "# TYPE x_requests_total counter\n"
                          "x_requests_total 1\n"
                          "x_requests_total 2\n"
                          "x_requests_total 3\n"
                          "x_requests_total 4\n");
    free(out);
    a->series[0].family = &fam_counter; /* now one run in a: HELP from fam_counter */
    out = render_cached_checked(cache, batches, 2, EXPO_TEXT);
    ck_assert(strncmp(out, "# HELP x_requests_total Requests", 32) == 0);
    free(out);
    batch_free(a);
    batch_free(b);
    expo_cache_free(cache);
}
END_TEST

/* Random batches changed at random, rendered with one cache: always what a
 * fresh render gives. */
START_TEST(test_cache_random_changes)
{
    static const char *const names[] = {"n_a", "n_b", "n_c_total", "n_d", "n_e"};
    struct sonde_family families[6];
    for (int i = 0; i < 6; i++)
        families[i] = (struct sonde_family){names[i % 5], (enum sonde_metric_type)(i % 4), "H."};
    struct expo_cache *cache = expo_cache_new();
    struct sonde_batch *batches[4] = {NULL};
    unsigned state = 7;
    for (int round = 0; round < 3000; round++) {
        state = state * 1103515245u + 12345u;
        unsigned r = state >> 8;
        size_t slot = r % 4;
        if (r % 3 == 0) { /* a new batch in a slot */
            batch_free(batches[slot]);
            batches[slot] = (r >> 4) % 5 ? batch_new("x") : NULL;
            for (unsigned k = 0; batches[slot] && k < (r >> 8) % 7; k++) {
                state = state * 1103515245u + 12345u;
                char label[16];
                snprintf(label, sizeof(label), "%u", (state >> 10) % 100);
                sonde_emit(batches[slot], &families[(state >> 16) % 6], (state >> 12) % 1000 / 8.0,
                           "id", label, NULL);
            }
        } else if (r % 3 == 1) { /* a family renamed in place */
            families[(r >> 4) % 6].name = names[(r >> 8) % 5];
        } else if (batches[slot] && batches[slot]->nseries) { /* a series' family swapped */
            batches[slot]->series[(r >> 4) % batches[slot]->nseries].family =
                &families[(r >> 8) % 6];
        }
        free(render_cached_checked(cache, batches, 4, round % 2 ? EXPO_TEXT : EXPO_OPENMETRICS));
    }
    for (int i = 0; i < 4; i++)
        batch_free(batches[i]);
    expo_cache_free(cache);
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
                 {9, "9"},
                 {10, "10"},
                 {99, "99"},
                 {-100, "-100"},
                 {999999999999999, "999999999999999"},
                 {-999999999999999, "-999999999999999"},
                 {1e15, "1e+15"},
                 {0.1, "0.1"},
                 {1.0 / 3.0, "0.3333333333333333"},
                 {2.5e-7, "2.5e-07"},
                 {8.847e-06, "8.847e-06"},
                 {-1.7515e-05, "-1.7515e-05"},
                 {6e-08, "6e-08"},
                 {1e-8, "1e-08"},
                 {0.000123, "0.000123"},
                 {0.0001, "0.0001"},
                 {1e-5, "1e-05"},
                 {0.023456789, "0.023456789"},
                 {42.000001, "42.000001"},
                 {123456789.123456, "123456789.123456"},
                 {99999999999999.5, "99999999999999.5"},
                 {1062.7640000000001, "1062.7640000000001"},
                 {1963.1000000000001, "1963.1000000000001"},
                 {1795696974.4178057, "1795696974.4178057"},
                 {0.30000000000000004, "0.30000000000000004"},
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

/* The decimal fast path (values of at most 15 significant digits) prints
 * what %g's shortest form prints, for decimals of every size, sign and
 * number of decimals, for values next to them that are not such decimals,
 * and next to powers of ten and the ends of the fast path's range. */
START_TEST(test_format_double_decimals)
{
    char got[40], want[40];
    unsigned state = 12345;
    for (int i = 0; i < 400000; i++) {
        state = state * 1103515245u + 12345u;
        long long k = (long long)(state >> 3) % 2000000000LL - 1000000000LL;
        k /= (long long)1 << (state % 31); /* every magnitude */
        if (i % 5 == 0)                    /* 16 and 17 digits */
            k = k * 1000000007LL + (long long)(state % 1000000007u);
        else if (i % 5 == 1) /* up to 15 digits */
            k = (k * 1000003LL + (long long)state) % 1000000000000000LL;
        double v = (double)k / pow(10, i % 23);
        if (i % 7 == 0)
            v = nextafter(v, INFINITY); /* not a short decimal */
        format_reference(want, v);
        size_t n = format_double(got, v);
        ck_assert_msg(strcmp(got, want) == 0, "%.17g: got %s, want %s", v, got, want);
        ck_assert_uint_eq(n, strlen(want));
    }
    for (int e = -10; e <= 16; e++) {
        double edges[] = {pow(10, e), 9.99999999999999 * pow(10, e - 1),
                          9.999999999999999 * pow(10, e - 1), 1.00000000000001 * pow(10, e)};
        for (size_t j = 0; j < sizeof(edges) / sizeof(edges[0]); j++) {
            double v = edges[j];
            for (int step = 0; step < 40; step++)
                v = nextafter(v, 0);
            for (int step = 0; step < 80; step++, v = nextafter(v, INFINITY)) {
                format_reference(want, v);
                format_double(got, v);
                ck_assert_msg(strcmp(got, want) == 0, "%.17g: got %s, want %s", v, got, want);
            }
        }
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
    tcase_add_test(tc, test_cache_follows_changes);
    tcase_add_test(tc, test_cache_same_address_other_name);
    tcase_add_test(tc, test_cache_runs_of_one_name);
    tcase_add_test(tc, test_cache_random_changes);
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
