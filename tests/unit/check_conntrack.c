/*
 * check_conntrack.c - unit tests of the conntrack input: the sysctl and
 * statistics parsers, reads of a capture of this machine and of a busy
 * hand-made table (16- and 17-column lines, bad lines), Telegraf's collect
 * option, the module not loaded, the statistics file missing.
 */
#include "../../plugins/conntrack.c"

#include "testutil.h"

static int conntrack_read_dir(const char *root, const struct conntrack_config *cfg,
                              struct sonde_batch *b)
{
    char procfs[512];
    snprintf(procfs, sizeof(procfs), "%s/proc", root);
    struct sonde_context ctx = {
        .procfs = procfs, .sysfs = "/sys", .rootfs = "/", .hostname = "t", .instance = "conntrack"};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_conntrack.init(&state, cfg, &ctx), 0);
    int rc = sonde_plugin_conntrack.read(state, b);
    sonde_plugin_conntrack.destroy(state);
    batch_finish(b);
    return rc;
}

static double conntrack_value(const struct sonde_batch *b, const char *name)
{
    const struct sonde_series *s = series_find(b, name, NULL);
    ck_assert_msg(s != NULL, "%s missing", name);
    ck_assert_uint_eq(s->nlabels, 0);
    ck_assert_int_eq(s->family->type, SONDE_GAUGE);
    return s->value;
}

static const struct sonde_field *conntrack_field(const struct sonde_point *p, const char *key,
                                                 enum sonde_field_type type)
{
    const struct sonde_field *f = field_get(p, key);
    ck_assert_msg(f != NULL, "field %s missing", key);
    ck_assert_int_eq(f->type, type);
    return f;
}

/* The basic point: no tags. */
static const struct sonde_point *conntrack_basic_point(const struct sonde_batch *b)
{
    for (size_t i = 0; i < b->npoints; i++)
        if (b->points[i]->ntags == 0)
            return b->points[i];
    ck_abort_msg("conntrack point without tags missing");
    return NULL;
}

START_TEST(test_parsers)
{
    uint64_t v = 7;
    ck_assert_int_eq(conntrack_parse_sysctl("262144\n", &v), 0);
    ck_assert_uint_eq(v, 262144);
    ck_assert_int_eq(conntrack_parse_sysctl(" 0 ", &v), 0);
    ck_assert_uint_eq(v, 0);
    const char *bad[] = {"", "\n", "-1\n", "12 13\n", "0x10\n", "99999999999999999999\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(conntrack_parse_sysctl(bad[i], &v) == -EINVAL, "%s", bad[i]);

    struct conntrack_cpu cpu;
    const char *l = "000004d2  00000001 00000010 00000000 00000005 00000100 00000000 00000002 "
                    "00000003 00000001 00000004 00000002 00000006  00000000 00000000 00000000 "
                    "00000007";
    ck_assert_int_eq(conntrack_parse_line(l, l + strlen(l), &cpu), 0);
    ck_assert_uint_eq(cpu.ncolumns, 17);
    ck_assert_uint_eq(cpu.column[CT_ENTRIES], 1234);
    ck_assert_uint_eq(cpu.column[CT_IGNORE], 256);
    ck_assert_uint_eq(cpu.column[CT_SEARCH_RESTART], 7);
    l = "entries  clashres found";
    ck_assert_int_eq(conntrack_parse_line(l, l + strlen(l), &cpu), -ENODATA);
    l = "1 2 3 4 5 6 7 8 9 a b c d e f";
    ck_assert_int_eq(conntrack_parse_line(l, l + strlen(l), &cpu), -EINVAL); /* 15 */
}
END_TEST

/* This machine: nf_conntrack loaded, an idle table; Telegraf's default. */
START_TEST(test_read_fixture)
{
    struct conntrack_config cfg = {0};
    struct sonde_batch *b = batch_new("conntrack");
    ck_assert_int_eq(conntrack_read_dir(FIXTURES "/conntrack", &cfg, b), 0);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(b->nseries, 10);
    ck_assert_double_eq(conntrack_value(b, "node_nf_conntrack_entries"), 0.0);
    ck_assert_double_eq(conntrack_value(b, "node_nf_conntrack_entries_limit"), 262144.0);
    ck_assert_double_eq(conntrack_value(b, "node_nf_conntrack_stat_found"), 0.0);
    ck_assert_double_eq(conntrack_value(b, "node_nf_conntrack_stat_search_restart"), 0.0);
    ck_assert_str_eq(series_find(b, "node_nf_conntrack_entries_limit", NULL)->family->help,
                     "Maximum size of connection tracking table.");
    ck_assert_uint_eq(b->npoints, 1);
    const struct sonde_point *p = conntrack_basic_point(b);
    ck_assert_str_eq(p->measurement, "conntrack");
    ck_assert_uint_eq(p->nfields, 2);
    ck_assert_double_eq(conntrack_field(p, "ip_conntrack_count", SONDE_FIELD_FLOAT)->v.f, 0.0);
    ck_assert_double_eq(conntrack_field(p, "ip_conntrack_max", SONDE_FIELD_FLOAT)->v.f, 262144.0);
    batch_free(b);
}
END_TEST

START_TEST(test_read_busy)
{
    struct conntrack_config cfg = {0};
    struct sonde_batch *b = batch_new("conntrack");
    ck_assert_int_eq(conntrack_read_dir(FIXTURES "/conntrack/busy", &cfg, b), 0);
    ck_assert_uint_eq(b->skipped, 3); /* bad hex, 2 columns, 18 columns */
    ck_assert_double_eq(conntrack_value(b, "node_nf_conntrack_entries"), 1234.0);
    ck_assert_double_eq(conntrack_value(b, "node_nf_conntrack_entries_limit"), 65536.0);
    /* Sums over the two 17-column lines and the 16-column one. */
    ck_assert_double_eq(conntrack_value(b, "node_nf_conntrack_stat_found"), 49.0);
    ck_assert_double_eq(conntrack_value(b, "node_nf_conntrack_stat_invalid"), 11.0);
    ck_assert_double_eq(conntrack_value(b, "node_nf_conntrack_stat_ignore"), 769.0);
    ck_assert_double_eq(conntrack_value(b, "node_nf_conntrack_stat_insert"), 7.0);
    ck_assert_double_eq(conntrack_value(b, "node_nf_conntrack_stat_insert_failed"), 2.0);
    ck_assert_double_eq(conntrack_value(b, "node_nf_conntrack_stat_drop"), 9.0);
    ck_assert_double_eq(conntrack_value(b, "node_nf_conntrack_stat_early_drop"), 4.0);
    ck_assert_double_eq(conntrack_value(b, "node_nf_conntrack_stat_search_restart"), 15.0);
    ck_assert_uint_eq(b->npoints, 1);
    batch_free(b);
}
END_TEST

/* Telegraf's collect: "all" sums the 17-column lines into cpu=all;
 * "percpu" gives cpu0, cpu1 instead, even when "all" is there too. */
START_TEST(test_collect_option)
{
    char *all[] = {"all"};
    struct conntrack_config cfg = {.collect = {all, 1}};
    struct sonde_batch *b = batch_new("conntrack");
    ck_assert_int_eq(conntrack_read_dir(FIXTURES "/conntrack/busy", &cfg, b), 0);
    ck_assert_uint_eq(b->npoints, 2);
    const struct sonde_point *p = point_find(b, "conntrack", "cpu", "all", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->nfields, 17);
    ck_assert_int_eq(conntrack_field(p, "entries", SONDE_FIELD_INT)->v.i, 2468);
    ck_assert_int_eq(conntrack_field(p, "searched", SONDE_FIELD_INT)->v.i, 3);
    ck_assert_int_eq(conntrack_field(p, "found", SONDE_FIELD_INT)->v.i, 48);
    ck_assert_int_eq(conntrack_field(p, "ignore", SONDE_FIELD_INT)->v.i, 768);
    ck_assert_int_eq(conntrack_field(p, "delete_list", SONDE_FIELD_INT)->v.i, 4);
    ck_assert_int_eq(conntrack_field(p, "icmp_error", SONDE_FIELD_INT)->v.i, 12);
    ck_assert_int_eq(conntrack_field(p, "search_restart", SONDE_FIELD_INT)->v.i, 15);
    ck_assert_ptr_nonnull(conntrack_basic_point(b));
    batch_free(b);

    char *both[] = {"all", "percpu"};
    cfg.collect = (struct sonde_strings){both, 2};
    b = batch_new("conntrack");
    ck_assert_int_eq(conntrack_read_dir(FIXTURES "/conntrack/busy", &cfg, b), 0);
    ck_assert_uint_eq(b->npoints, 3);
    ck_assert_ptr_null(point_find(b, "conntrack", "cpu", "all", NULL));
    p = point_find(b, "conntrack", "cpu", "cpu1", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(conntrack_field(p, "found", SONDE_FIELD_INT)->v.i, 32);
    ck_assert_int_eq(conntrack_field(p, "search_restart", SONDE_FIELD_INT)->v.i, 8);
    ck_assert_ptr_null(point_find(b, "conntrack", "cpu", "cpu2", NULL)); /* 16 columns */
    batch_free(b);

    char *wrong[] = {"everything"};
    cfg.collect = (struct sonde_strings){wrong, 1};
    struct sonde_context ctx = {.procfs = "/proc", .sysfs = "/sys", .rootfs = "/"};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_conntrack.init(&state, &cfg, &ctx), -EINVAL);
}
END_TEST

/* Module not loaded: no series, "no data" (node_exporter's ErrNoData).
 * Statistics file missing: the two gauges, then the read fails. */
START_TEST(test_missing)
{
    struct conntrack_config cfg = {0};
    struct sonde_batch *b = batch_new("conntrack");
    ck_assert_int_eq(conntrack_read_dir(FIXTURES "/conntrack/no-such-dir", &cfg, b), -ENODATA);
    ck_assert_uint_eq(b->nseries + b->npoints, 0);
    batch_free(b);

    b = batch_new("conntrack");
    ck_assert_int_eq(conntrack_read_dir(FIXTURES "/conntrack/no-stat", &cfg, b), -ENOENT);
    ck_assert_uint_eq(b->nseries, 2);
    ck_assert_double_eq(conntrack_value(b, "node_nf_conntrack_entries_limit"), 262144.0);
    ck_assert_uint_eq(b->npoints, 1);
    batch_free(b);

    /* Line protocol alone, no collect: the statistics are not read at all. */
    b = batch_new("conntrack");
    b->want_series = false;
    ck_assert_int_eq(conntrack_read_dir(FIXTURES "/conntrack/no-stat", &cfg, b), 0);
    ck_assert_uint_eq(b->npoints, 1);
    batch_free(b);
}
END_TEST

static Suite *conntrack_suite(void)
{
    Suite *s = suite_create("conntrack");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parsers);
    tcase_add_test(tc, test_read_fixture);
    tcase_add_test(tc, test_read_busy);
    tcase_add_test(tc, test_collect_option);
    tcase_add_test(tc, test_missing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(conntrack_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
