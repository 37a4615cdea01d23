/*
 * check_textfile.c - unit tests of plugins/textfile.c: the float reader and
 * writer, path cleaning, and reads of fixture directories whose
 * node_exporter 1.5 output was recorded: the merge rules (HELP and TYPE
 * conflicts, default HELP, repeated series), every kind of refused file,
 * the syntax node_exporter accepts, summaries and histograms, globs.
 */
#include <sys/stat.h>

#include "../../plugins/textfile.c"

#include "testutil.h"

#define TF_DIR FIXTURES "/textfile"

/* Reads `directory` with the textfile input into a new batch (freed by the
 * caller). */
static struct sonde_batch *tf_read(const char *directory)
{
    struct textfile_config cfg = {.directory = (char *)directory, .max_file_size = 1 << 20};
    struct sonde_context ctx = {.procfs = "/proc", .sysfs = "/sys", .rootfs = "/"};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_textfile.init(&state, &cfg, &ctx), 0);
    struct sonde_batch *b = batch_new("textfile");
    ck_assert_int_eq(sonde_plugin_textfile.read(state, b), 0);
    sonde_plugin_textfile.destroy(state);
    batch_finish(b);
    return b;
}

static double scrape_error(const struct sonde_batch *b)
{
    const struct sonde_series *s = series_find(b, "node_textfile_scrape_error", NULL);
    ck_assert_ptr_nonnull(s);
    return s->value;
}

/* The value of the series `name` with exactly the labels given. */
static double tf_value(const struct sonde_batch *b, const char *name, size_t nlabels, ...)
{
    for (size_t i = 0; i < b->nseries; i++) {
        const struct sonde_series *s = &b->series[i];
        if (strcmp(s->family->name, name) != 0 || s->nlabels != nlabels)
            continue;
        va_list ap;
        va_start(ap, nlabels);
        bool match = true;
        for (size_t k = 0; k < nlabels; k++) {
            const char *key = va_arg(ap, const char *), *value = va_arg(ap, const char *);
            const char *have = label_get(s->labels, s->nlabels, key);
            match = match && have && strcmp(have, value) == 0;
        }
        va_end(ap);
        if (match)
            return s->value;
    }
    ck_abort_msg("%s with %zu labels missing", name, nlabels);
    return 0;
}

static const struct sonde_family *tf_family(const struct sonde_batch *b, const char *name)
{
    const struct sonde_series *s = series_find(b, name, NULL);
    ck_assert_msg(s != NULL, "%s missing", name);
    return s->family;
}

/* node_textfile_mtime_seconds{file} must be the file's mtime, truncated. */
static void check_mtime(const struct sonde_batch *b, const char *path)
{
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_double_eq(tf_value(b, "node_textfile_mtime_seconds", 1, "file", path),
                        (double)sb.st_mtim.tv_sec);
}

/* ---- values ---- */

START_TEST(test_parse_float)
{
    static const struct {
        const char *text;
        double value;
    } ok[] = {
        {"1", 1},
        {"-2.5", -2.5},
        {"1e3", 1000},
        {"1E3", 1000},
        {".5", 0.5},
        {"1.", 1},
        {"+1.5", 1.5},
        {"+.5e+2", 50},
        {"00012", 12},
        {"1e-400", 0},
        {"-0", 0},
        {"Inf", INFINITY},
        {"+inf", INFINITY},
        {"-Infinity", -INFINITY},
        {"infinity", INFINITY},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        double v = -99;
        ck_assert_msg(textfile_parse_float(ok[i].text, strlen(ok[i].text), &v) == 0, "%s",
                      ok[i].text);
        ck_assert_msg(v == ok[i].value, "%s read as %g", ok[i].text, v);
    }
    double v;
    ck_assert_int_eq(textfile_parse_float("nan", 3, &v), 0);
    ck_assert(isnan(v));
    ck_assert_int_eq(textfile_parse_float("NaN", 3, &v), 0);
    ck_assert_int_eq(textfile_parse_float("-0", 2, &v), 0);
    ck_assert(!signbit(v)); /* Go writes -0 as 0 */
    const char *bad[] = {"",    "0x10", "0x1p3", "0X1P3", "1_000", "1e400", "-nan", "+NaN", "1.5e",
                         "1e+", ".",    "e5",    "1,5",   "--1",   "inf ",  " 1",   "1e5x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(textfile_parse_float(bad[i], strlen(bad[i]), &v) == -EINVAL, "%s", bad[i]);
}
END_TEST

START_TEST(test_format_float)
{
    static const struct {
        double value;
        const char *text;
    } cases[] = {
        {0, "0"},
        {-0.0, "0"},
        {1, "1"},
        {-1, "-1"},
        {0.5, "0.5"},
        {1e6, "1e+06"},
        {100000, "100000"},
        {1234567, "1.234567e+06"},
        {0.0001, "0.0001"},
        {0.00001, "1e-05"},
        {123.456, "123.456"},
        {-2.5, "-2.5"},
        {1.5e-7, "1.5e-07"},
        {1e21, "1e+21"},
        {0.1 + 0.2, "0.30000000000000004"},
        {5e-324, "5e-324"},
        {2.5e100, "2.5e+100"},
        {INFINITY, "+Inf"},
        {-INFINITY, "-Inf"},
        {NAN, "NaN"},
        {999999, "999999"},
        {0.25, "0.25"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[TEXTFILE_FLOAT_TEXT];
        textfile_format_float(cases[i].value, out);
        ck_assert_str_eq(out, cases[i].text);
    }
}
END_TEST

START_TEST(test_to_count)
{
    ck_assert_double_eq(textfile_to_count(9.7), 9.0);
    ck_assert_double_eq(textfile_to_count(0), 0.0);
    ck_assert_double_eq(textfile_to_count(-1), 18446744073709551615.0);
    ck_assert_double_eq(textfile_to_count(NAN), 0.0);
    ck_assert_double_eq(textfile_to_count(1e30), 0.0);
    ck_assert_double_eq(textfile_to_count(1e19), 1e19);
}
END_TEST

START_TEST(test_clean)
{
    static const char *const cases[][2] = {
        {"/a/b/", "/a/b"},      {"a/./b/../c", "a/c"}, {"/../x", "/x"}, {"", "."},
        {"../../a", "../../a"}, {"//x//y/", "/x/y"},   {"/", "/"},      {"a/..", "."},
        {"./a.prom", "a.prom"}, {"a/../../b", "../b"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[64];
        textfile_clean(cases[i][0], out);
        ck_assert_str_eq(out, cases[i][1]);
    }
}
END_TEST

/* ---- merging files ---- */

/* a.prom has foo with HELP "A.", b.prom with "B.": b's foo series is
 * dropped (counted), its bar kept; no scrape error, as node_exporter. */
START_TEST(test_help_conflict)
{
    struct sonde_batch *b = tf_read(TF_DIR "/helpconflict");
    ck_assert_double_eq(scrape_error(b), 0.0);
    ck_assert_uint_eq(series_count(b, "foo"), 1);
    ck_assert_double_eq(tf_value(b, "foo", 1, "a", "1"), 1.0);
    ck_assert_str_eq(tf_family(b, "foo")->help, "A.");
    ck_assert_int_eq(tf_family(b, "foo")->type, SONDE_GAUGE);
    ck_assert_double_eq(tf_value(b, "bar", 0), 3.0);
    ck_assert_str_eq(tf_family(b, "bar")->help, "Metric read from " TF_DIR "/helpconflict/b.prom");
    ck_assert_int_eq(tf_family(b, "bar")->type, SONDE_UNTYPED);
    ck_assert_uint_eq(b->skipped, 1);
    check_mtime(b, TF_DIR "/helpconflict/a.prom");
    check_mtime(b, TF_DIR "/helpconflict/b.prom");
    ck_assert_uint_eq(b->nseries, 5);
    batch_free(b);
}
END_TEST

START_TEST(test_merged_and_default_help)
{
    struct sonde_batch *b = tf_read(TF_DIR "/merged");
    ck_assert_uint_eq(series_count(b, "foo"), 2);
    ck_assert_double_eq(tf_value(b, "foo", 1, "a", "2"), 2.0);
    ck_assert_uint_eq(b->skipped, 0);
    batch_free(b);
    /* No HELP anywhere: one text naming every file that has the metric. */
    b = tf_read(TF_DIR "/nohelp");
    ck_assert_uint_eq(series_count(b, "foo"), 2);
    ck_assert_str_eq(tf_family(b, "foo")->help,
                     "Metric read from " TF_DIR "/nohelp/a.prom, " TF_DIR "/nohelp/b.prom");
    ck_assert_double_eq(scrape_error(b), 0.0);
    batch_free(b);
}
END_TEST

START_TEST(test_type_conflict_and_repeats)
{
    struct sonde_batch *b = tf_read(TF_DIR "/typeconflict");
    ck_assert_uint_eq(series_count(b, "foo"), 1);
    ck_assert_int_eq(tf_family(b, "foo")->type, SONDE_GAUGE);
    ck_assert_str_eq(tf_family(b, "foo")->help,
                     "Metric read from " TF_DIR "/typeconflict/a.prom, " TF_DIR
                     "/typeconflict/b.prom");
    ck_assert_double_eq(tf_value(b, "bar", 0), 3.0);
    ck_assert_uint_eq(b->skipped, 1);
    batch_free(b);
    /* The same label set twice in a file and again in the next: the
     * first wins. */
    b = tf_read(TF_DIR "/repeated");
    ck_assert_uint_eq(series_count(b, "foo"), 1);
    ck_assert_double_eq(tf_value(b, "foo", 1, "a", "1"), 1.0);
    ck_assert_double_eq(tf_value(b, "bar", 0), 1.0);
    ck_assert_uint_eq(b->skipped, 2);
    ck_assert_double_eq(scrape_error(b), 0.0);
    batch_free(b);
}
END_TEST

/* ---- refused files ---- */

/* Every file but good.prom has one error node_exporter refuses the file
 * for (two of them crash node_exporter 1.5: a __ label and a
 * gauge_histogram); adir.prom, a directory, reads as an empty file; the
 * .txt file is not read. */
START_TEST(test_refused_files)
{
    struct sonde_batch *b = tf_read(TF_DIR "/errors");
    ck_assert_double_eq(scrape_error(b), 1.0);
    ck_assert_double_eq(tf_value(b, "good", 0), 1.0);
    ck_assert_uint_eq(series_count(b, "node_textfile_mtime_seconds"), 2);
    check_mtime(b, TF_DIR "/errors/good.prom");
    check_mtime(b, TF_DIR "/errors/adir.prom");
    ck_assert_uint_eq(b->nseries, 4);
    batch_free(b);
}
END_TEST

/* The parser alone: the error of each refused kind, with its line. */
START_TEST(test_parse_errors)
{
    static const char *const bad[] = {
        "foo 1 1234\n",
        "foo 1",
        "foo 1 \n",
        "foo 0x1p3\n",
        "# HELP foo a \\\"q\\\"\nfoo 1\n",
        "foo{__bar=\"1\"} 1\n",
        "foo{a=\"\xff\"} 1\n",
        "# TYPE g gauge_histogram\ng 1\n",
        "foo{a=\"1\",a=\"2\"} 1\n",
        "foo{__name__=\"x\"} 1\n",
        "{a=\"1\"} 1\n",
        "# TYPE h gauge \nh 1\n",
        "h 1\n# TYPE h gauge\n",
        "# HELP h a\n# HELP h b\nh 1\n",
        "# HELP foo-bar x\n",
        "foo{a=\"x\\qy\"} 1\n",
        "# TYPE s summary\ns{quantile=\"a\"} 1\n",
        "h 1 # comment\n",
        "h{a=\"1\"}\n",
        "h 1e400\n",
        "h{a=\"1\" 1\n",
        "h{a=\"1\n",
        "h{a=1} 1\n",
        "h{a} 1\n",
        "h{=\"1\"} 1\n",
        "# HELP h x\\\n",
        "h{a=\"x\0y\"} 1\n",
        "#",
        "h 1\r\n",
        "h{a=\"1\"}} 1\n",
    };
    struct sonde_batch *b = batch_new("textfile");
    struct sonde_buf scratch = {0};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct textfile_parser ps = {.arena = b->arena, .scratch = &scratch};
        size_t len = strlen(bad[i]);
        if (i == 26) /* the NUL inside the label value */
            len = 14;
        ck_assert_msg(textfile_parse(&ps, bad[i], len) == -EINVAL, "accepted: %s", bad[i]);
        ck_assert_ptr_nonnull(ps.reason);
    }
    struct textfile_parser ps = {.arena = b->arena, .scratch = &scratch};
    const char *text = "a 1\n\n# HELP b x\nb 2\nb{c=\"1\"} 3 4\n";
    ck_assert_int_eq(textfile_parse(&ps, text, strlen(text)), -EINVAL);
    ck_assert_uint_eq(ps.line, 5);
    sonde_buf_free(&scratch);
    batch_free(b);
}
END_TEST

/* ---- accepted syntax ---- */

START_TEST(test_syntax)
{
    struct sonde_batch *b = tf_read(TF_DIR "/syntax");
    ck_assert_double_eq(scrape_error(b), 0.0);
    ck_assert_uint_eq(b->skipped, 0);
    /* labels.prom: blanks around names and '=', after '{' and ',', a
     * trailing comma, no blank before the value; every label name of the
     * family on every series. */
    ck_assert_uint_eq(series_count(b, "foo"), 5);
    ck_assert_double_eq(tf_value(b, "foo", 4, "a", "1", "b", "", "c", "", "d", ""), 1.0);
    ck_assert_double_eq(tf_value(b, "foo", 4, "a", "1", "b", "2", "c", "", "d", ""), 2.0);
    ck_assert_double_eq(tf_value(b, "foo", 4, "a", "", "b", "", "c", "1", "d", ""), 6.0);
    ck_assert_double_eq(tf_value(b, "foo", 4, "a", "", "b", "", "c", "2", "d", ""), 7.0);
    ck_assert_double_eq(tf_value(b, "foo", 4, "a", "", "b", "", "c", "", "d", "1"), 3.0);
    /* comments.prom */
    ck_assert_str_eq(tf_family(b, "h9")->help, "x y ");
    ck_assert_str_eq(tf_family(b, "h10")->help, "Metric read from " TF_DIR "/syntax/comments.prom");
    ck_assert_int_eq(tf_family(b, "h11")->type, SONDE_GAUGE);
    ck_assert_str_eq(tf_family(b, "h28")->help, "indented");
    ck_assert_double_eq(tf_value(b, "h31", 0), 1.0);
    /* escapes.prom */
    ck_assert_str_eq(tf_family(b, "h22")->help, "x\\");
    ck_assert_str_eq(tf_family(b, "h23")->help, "a\tb");
    ck_assert_double_eq(tf_value(b, "h25", 2, "a", "x\ty", "b", "q\"\\\n"), 1.0);
    /* names.prom: a TYPE for h26 is not one for h26_total */
    ck_assert_double_eq(tf_value(b, "foo:bar", 0), 1.0);
    ck_assert_double_eq(tf_value(b, "_x", 0), 1.0);
    ck_assert_double_eq(tf_value(b, ":x", 0), 1.0);
    ck_assert_int_eq(tf_family(b, "h26_total")->type, SONDE_UNTYPED);
    ck_assert_ptr_null(series_find(b, "h26", NULL));
    /* values.prom */
    ck_assert(isinf(tf_value(b, "m1", 0)) && tf_value(b, "m1", 0) > 0);
    ck_assert(isnan(tf_value(b, "m2", 0)));
    ck_assert(isnan(tf_value(b, "m3", 0)));
    ck_assert(isinf(tf_value(b, "m5", 0)) && tf_value(b, "m5", 0) < 0);
    ck_assert_double_eq(tf_value(b, "m7", 0), 1000.0);
    ck_assert_double_eq(tf_value(b, "m8", 0), 0.5);
    ck_assert_double_eq(tf_value(b, "m11", 0), 1.0);
    ck_assert_double_eq(tf_value(b, "m14", 0), 0.0);
    ck_assert_double_eq(tf_value(b, "m15", 0), 7.0);
    ck_assert_double_eq(tf_value(b, "m19", 0), 50.0);
    ck_assert_double_eq(tf_value(b, "m20", 0), 12.0);
    /* fill.prom */
    ck_assert_double_eq(tf_value(b, "foo2", 2, "a", "", "b", ""), 3.0);
    ck_assert_double_eq(tf_value(b, "foo2", 2, "a", "", "b", "2"), 2.0);
    ck_assert_double_eq(tf_value(b, "a", 1, "x", ""), 1.0);
    ck_assert_double_eq(tf_value(b, "a", 1, "x", "1"), 3.0);
    ck_assert_double_eq(tf_value(b, "b", 0), 2.0);
    ck_assert_uint_eq(series_count(b, "node_textfile_mtime_seconds"), 6);
    batch_free(b);
}
END_TEST

/* Summaries and histograms as client_golang writes them: buckets sorted,
 * le re-formatted ("1e+06"), +Inf added with the count, counts truncated,
 * the last of two equal bounds kept, missing sums and counts 0. */
START_TEST(test_summary_histogram)
{
    struct sonde_batch *b = tf_read(TF_DIR "/histogram");
    ck_assert_double_eq(scrape_error(b), 0.0);
    ck_assert_uint_eq(series_count(b, "h_bucket"), 3);
    ck_assert_double_eq(tf_value(b, "h_bucket", 1, "le", "0.5"), 1.0);
    ck_assert_double_eq(tf_value(b, "h_bucket", 1, "le", "1e+06"), 2.0);
    ck_assert_double_eq(tf_value(b, "h_bucket", 1, "le", "+Inf"), 4.0);
    ck_assert_double_eq(tf_value(b, "h_sum", 0), 3.0);
    ck_assert_double_eq(tf_value(b, "h_count", 0), 4.0);
    ck_assert_str_eq(tf_family(b, "h_bucket")->help,
                     "Metric read from " TF_DIR "/histogram/a.prom");
    ck_assert_double_eq(tf_value(b, "s", 2, "x", "", "quantile", "0.99"), 1.0);
    ck_assert_double_eq(tf_value(b, "s", 2, "x", "1", "quantile", "0.5"), 4.0);
    ck_assert_double_eq(tf_value(b, "s_sum", 1, "x", ""), 2.0);
    ck_assert_double_eq(tf_value(b, "s_count", 1, "x", ""), 3.0);
    ck_assert_double_eq(tf_value(b, "s_sum", 1, "x", "1"), 0.0);
    ck_assert_double_eq(tf_value(b, "s_count", 1, "x", "1"), 0.0);
    /* b.prom */
    ck_assert_uint_eq(series_count(b, "h19_bucket"), 2);
    ck_assert_double_eq(tf_value(b, "h19_bucket", 1, "le", "2"), 1.0);
    ck_assert_double_eq(tf_value(b, "h19_bucket", 1, "le", "+Inf"), 1.0);
    ck_assert_double_eq(tf_value(b, "h19_sum", 0), 0.0);
    ck_assert_double_eq(tf_value(b, "h27_bucket", 1, "le", "+Inf"), 0.0);
    ck_assert_double_eq(tf_value(b, "h27_count", 0), 0.0);
    ck_assert_double_eq(tf_value(b, "h29_count", 0), 3.0);
    ck_assert_double_eq(tf_value(b, "h29_sum", 0), 1.5);
    ck_assert_str_eq(tf_family(b, "h29_sum")->help, "x");
    ck_assert_ptr_null(series_find(b, "h29", NULL));
    ck_assert_uint_eq(series_count(b, "h30_bucket"), 2);
    ck_assert_double_eq(tf_value(b, "h30_bucket", 1, "le", "0.25"), 3.0);
    ck_assert_double_eq(tf_value(b, "h30_bucket", 1, "le", "+Inf"), 9.0);
    ck_assert_double_eq(tf_value(b, "h30_count", 0), 9.0);
    batch_free(b);
}
END_TEST

/* ---- directories ---- */

START_TEST(test_directories)
{
    /* Off (the default): only the error gauge, 0. */
    struct sonde_batch *b = tf_read("");
    ck_assert_uint_eq(b->nseries, 1);
    ck_assert_double_eq(scrape_error(b), 0.0);
    batch_free(b);
    /* A missing directory is an error. */
    b = tf_read(TF_DIR "/no-such-dir");
    ck_assert_uint_eq(b->nseries, 1);
    ck_assert_double_eq(scrape_error(b), 1.0);
    batch_free(b);
    /* A glob of directories; a trailing slash is cleaned from the paths. */
    b = tf_read(TF_DIR "/[mn]*");
    /* merged/ first: its gauge foo "A." wins over nohelp's untyped foo. */
    ck_assert_uint_eq(series_count(b, "foo"), 2);
    ck_assert_uint_eq(b->skipped, 2);
    ck_assert_uint_eq(series_count(b, "node_textfile_mtime_seconds"), 4);
    ck_assert_double_eq(scrape_error(b), 0.0);
    batch_free(b);
    b = tf_read(TF_DIR "/merged/");
    check_mtime(b, TF_DIR "/merged/a.prom");
    batch_free(b);
}
END_TEST

/* A file cannot replace or repeat the input's own two families; one with
 * the same HELP and TYPE may add series to them. */
START_TEST(test_own_families)
{
    struct sonde_batch *b = tf_read(TF_DIR "/own");
    ck_assert_uint_eq(series_count(b, "node_textfile_scrape_error"), 1);
    ck_assert_double_eq(scrape_error(b), 0.0);
    ck_assert_uint_eq(series_count(b, "node_textfile_mtime_seconds"), 2);
    ck_assert_double_eq(tf_value(b, "node_textfile_mtime_seconds", 1, "file", "other"), 7.0);
    check_mtime(b, TF_DIR "/own/a.prom");
    ck_assert_uint_eq(b->skipped, 1);
    batch_free(b);
}
END_TEST

START_TEST(test_no_series_wanted)
{
    struct textfile_config cfg = {.directory = TF_DIR "/merged", .max_file_size = 1 << 20};
    struct sonde_context ctx = {.procfs = "/proc", .sysfs = "/sys", .rootfs = "/"};
    void *state = NULL;
    ck_assert_int_eq(textfile_init(&state, &cfg, &ctx), 0);
    struct sonde_batch *b = batch_new("textfile");
    b->want_series = false;
    ck_assert_int_eq(textfile_read(state, b), 0);
    ck_assert_uint_eq(b->nseries + b->npoints, 0);
    batch_free(b);
    /* A file over the size limit is refused. */
    cfg.max_file_size = 10;
    b = batch_new("textfile");
    ck_assert_int_eq(textfile_read(state, b), 0);
    ck_assert_double_eq(scrape_error(b), 1.0);
    ck_assert_ptr_null(series_find(b, "foo", NULL));
    batch_free(b);
    textfile_destroy(state);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("textfile");
    TCase *tc = tcase_create("values");
    tcase_add_test(tc, test_parse_float);
    tcase_add_test(tc, test_format_float);
    tcase_add_test(tc, test_to_count);
    tcase_add_test(tc, test_clean);
    suite_add_tcase(s, tc);
    tc = tcase_create("files");
    tcase_add_test(tc, test_help_conflict);
    tcase_add_test(tc, test_merged_and_default_help);
    tcase_add_test(tc, test_type_conflict_and_repeats);
    tcase_add_test(tc, test_refused_files);
    tcase_add_test(tc, test_parse_errors);
    tcase_add_test(tc, test_syntax);
    tcase_add_test(tc, test_summary_histogram);
    tcase_add_test(tc, test_directories);
    tcase_add_test(tc, test_own_families);
    tcase_add_test(tc, test_no_series_wanted);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
