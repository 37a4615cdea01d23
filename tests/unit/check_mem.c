/*
 * check_mem.c - unit tests of the mem input: the /proc/meminfo parser, the
 * node_exporter key rewrite, gopsutil's derived values, and full reads over
 * fixture directories (a capture of this machine and hand-made odd cases).
 */
#include "../../plugins/mem.c"

#include "testutil.h"

static const struct sonde_context mem_ctx = {
    .procfs = FIXTURES "/mem/proc",
    .sysfs = FIXTURES "/sys",
    .rootfs = "/",
    .hostname = "test",
    .instance = "mem",
};

/* Runs init + read + destroy over `procfs`; returns read's result. */
static int mem_read_dir(const char *procfs, struct sonde_batch *batch)
{
    struct sonde_context ctx = mem_ctx;
    ctx.procfs = procfs;
    struct mem_config cfg = {0};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_mem.init(&state, &cfg, &ctx), 0);
    int rc = sonde_plugin_mem.read(state, batch);
    sonde_plugin_mem.destroy(state);
    batch_finish(batch);
    return rc;
}

static int64_t mem_field_int(const struct sonde_point *p, const char *key)
{
    const struct sonde_field *f = field_get(p, key);
    ck_assert_msg(f != NULL, "field %s missing", key);
    ck_assert_int_eq(f->type, SONDE_FIELD_INT);
    return f->v.i;
}

static double mem_field_float(const struct sonde_point *p, const char *key)
{
    const struct sonde_field *f = field_get(p, key);
    ck_assert_msg(f != NULL, "field %s missing", key);
    ck_assert_int_eq(f->type, SONDE_FIELD_FLOAT);
    return f->v.f;
}

static double mem_series_value(const struct sonde_batch *b, const char *name)
{
    const struct sonde_series *s = series_find(b, name, NULL);
    ck_assert_msg(s != NULL, "series %s missing", name);
    ck_assert_uint_eq(s->nlabels, 0);
    return s->value;
}

START_TEST(test_parse_line)
{
    struct mem_entry e;
    const char *l = "Active(anon):       1532 kB";
    ck_assert_int_eq(mem_parse_line(l, l + strlen(l), &e), 0);
    ck_assert_uint_eq(e.key_len, 12);
    ck_assert(memcmp(e.key, "Active(anon)", 12) == 0);
    ck_assert_uint_eq(e.value, 1532);
    ck_assert(e.kb);

    l = "HugePages_Total:       7";
    ck_assert_int_eq(mem_parse_line(l, l + strlen(l), &e), 0);
    ck_assert_uint_eq(e.value, 7);
    ck_assert(!e.kb);

    l = "   \t ";
    ck_assert_int_eq(mem_parse_line(l, l + strlen(l), &e), 1);
    const char *bad[] = {"NoColon 5 kB",
                         "Broken: abc kB",
                         "TooMany: 1 kB extra",
                         "Negative: -5 kB",
                         "Alone:",
                         ": 5",
                         "Huge: 18446744073709551616 kB"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(mem_parse_line(bad[i], bad[i] + strlen(bad[i]), &e) < 0, "%s", bad[i]);
}
END_TEST

START_TEST(test_prom_key)
{
    char out[64];
    struct mem_entry e = {.key = "Active(anon)", .key_len = 12, .kb = true};
    ck_assert_int_eq(mem_prom_key(&e, out, sizeof(out)), 17);
    ck_assert_str_eq(out, "Active_anon_bytes");

    e = (struct mem_entry){.key = "HugePages_Total", .key_len = 15, .kb = false};
    ck_assert_int_eq(mem_prom_key(&e, out, sizeof(out)), 15);
    ck_assert_str_eq(out, "HugePages_Total");

    e = (struct mem_entry){.key = "Foo(bar)baz", .key_len = 11, .kb = false};
    ck_assert_int_eq(mem_prom_key(&e, out, sizeof(out)), 10);
    ck_assert_str_eq(out, "Foo_barbaz");

    /* The regexp is greedy, first '(' to last ')': "A(b)c(d)e" would become
     * "A_b)c(de", not a valid metric name, so it is refused (skipped). */
    e = (struct mem_entry){.key = "A(b)c(d)e", .key_len = 9, .kb = false};
    ck_assert_int_lt(mem_prom_key(&e, out, sizeof(out)), 0);
}
END_TEST

START_TEST(test_prom_key_invalid)
{
    char out[8];
    struct mem_entry e = {.key = "Open(only", .key_len = 9, .kb = false};
    ck_assert_int_lt(mem_prom_key(&e, out, sizeof(out)), 0);
    e = (struct mem_entry){.key = "Dash-key", .key_len = 8, .kb = false};
    ck_assert_int_lt(mem_prom_key(&e, out, sizeof(out)), 0);
    /* Too long for the buffer: refused, never truncated. */
    e = (struct mem_entry){.key = "MemTotal", .key_len = 8, .kb = true};
    ck_assert_int_lt(mem_prom_key(&e, out, sizeof(out)), 0);
}
END_TEST

START_TEST(test_parse_fixture)
{
    char *buf = fixture_read("mem/proc/meminfo");
    struct mem_stats st = {0};
    mem_parse_meminfo(buf, &st);
    ck_assert_uint_eq(st.nentries, 54);
    ck_assert_uint_eq(st.skipped, 0);
    ck_assert_uint_eq(st.field[MEM_TOTAL], 24731708ull * 1024);
    ck_assert_uint_eq(st.field[MEM_FREE], 23107188ull * 1024);
    ck_assert_uint_eq(st.field[MEM_CACHED], 1424972ull * 1024);
    ck_assert_uint_eq(st.field[MEM_VMALLOC_TOTAL], 34359738367ull * 1024);
    ck_assert_uint_eq(st.field[MEM_HUGE_PAGE_SIZE], 2048ull * 1024);
    ck_assert(st.seen[MEM_AVAILABLE]);
    ck_assert(!st.seen[MEM_HIGH_TOTAL]); /* 64-bit kernels have no HighTotal */

    struct mem_derived d;
    mem_derive(&st, &d);
    ck_assert_uint_eq(d.cached, (1424972ull + 70580) * 1024);
    ck_assert_uint_eq(d.available, 24396096ull * 1024);
    ck_assert_uint_eq(d.used, 83812ull * 1024);
    ck_assert_double_eq_tol(d.used_percent, 0.3388848032655084, 1e-12);
    ck_assert_double_eq_tol(d.available_percent, 98.64298899210681, 1e-12);
    mem_stats_free(&st);
    free(buf);
}
END_TEST

START_TEST(test_read_fixture)
{
    struct sonde_batch *b = batch_new("mem");
    ck_assert_int_eq(mem_read_dir(FIXTURES "/mem/proc", b), 0);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(b->nseries, 54);

    ck_assert_double_eq(mem_series_value(b, "node_memory_MemTotal_bytes"), 25325268992.0);
    ck_assert_double_eq(mem_series_value(b, "node_memory_Active_anon_bytes"), 1532.0 * 1024);
    ck_assert_double_eq(mem_series_value(b, "node_memory_Inactive_file_bytes"), 1157356.0 * 1024);
    ck_assert_double_eq(mem_series_value(b, "node_memory_VmallocTotal_bytes"), 35184372087808.0);
    ck_assert_double_eq(mem_series_value(b, "node_memory_Committed_AS_bytes"), 131500.0 * 1024);
    ck_assert_double_eq(mem_series_value(b, "node_memory_HugePages_Total"), 0.0);
    ck_assert_double_eq(mem_series_value(b, "node_memory_DirectMap1G_bytes"), 25165824.0 * 1024);
    ck_assert_ptr_null(series_find(b, "node_memory_HugePages_Total_bytes", NULL));
    ck_assert_ptr_null(series_find(b, "node_memory_Active(anon)_bytes", NULL));

    const struct sonde_series *s = series_find(b, "node_memory_Active_anon_bytes", NULL);
    ck_assert_int_eq(s->family->type, SONDE_GAUGE);
    ck_assert_str_eq(s->family->help, "Memory information field Active_anon_bytes.");
    s = series_find(b, "node_memory_HugePages_Total", NULL);
    ck_assert_int_eq(s->family->type, SONDE_GAUGE); /* "_Total" is not "_total" */

    ck_assert_uint_eq(b->npoints, 1);
    const struct sonde_point *p = point_find(b, "mem", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->ntags, 0);
    ck_assert_uint_eq(p->nfields, 34);
    ck_assert_int_eq(mem_field_int(p, "total"), 25325268992);
    ck_assert_int_eq(mem_field_int(p, "free"), 23107188ll * 1024);
    ck_assert_int_eq(mem_field_int(p, "available"), 24396096ll * 1024);
    ck_assert_int_eq(mem_field_int(p, "buffered"), 45156ll * 1024);
    ck_assert_int_eq(mem_field_int(p, "cached"), (1424972ll + 70580) * 1024);
    ck_assert_int_eq(mem_field_int(p, "used"), 83812ll * 1024);
    ck_assert_int_eq(mem_field_int(p, "active"), 305448ll * 1024);
    ck_assert_int_eq(mem_field_int(p, "inactive"), 1166188ll * 1024);
    ck_assert_int_eq(mem_field_int(p, "slab"), 92700ll * 1024);
    ck_assert_int_eq(mem_field_int(p, "sreclaimable"), 70580ll * 1024);
    ck_assert_int_eq(mem_field_int(p, "sunreclaim"), 22120ll * 1024);
    ck_assert_int_eq(mem_field_int(p, "shared"), 8856ll * 1024);
    ck_assert_int_eq(mem_field_int(p, "dirty"), 112ll * 1024);
    ck_assert_int_eq(mem_field_int(p, "mapped"), 22584ll * 1024);
    ck_assert_int_eq(mem_field_int(p, "page_tables"), 1448ll * 1024);
    ck_assert_int_eq(mem_field_int(p, "commit_limit"), 12365852ll * 1024);
    ck_assert_int_eq(mem_field_int(p, "committed_as"), 131500ll * 1024);
    ck_assert_int_eq(mem_field_int(p, "vmalloc_total"), 35184372087808);
    ck_assert_int_eq(mem_field_int(p, "vmalloc_used"), 5684ll * 1024);
    ck_assert_int_eq(mem_field_int(p, "vmalloc_chunk"), 0);
    ck_assert_int_eq(mem_field_int(p, "huge_page_size"), 2097152);
    ck_assert_int_eq(mem_field_int(p, "huge_pages_total"), 0);
    ck_assert_int_eq(mem_field_int(p, "huge_pages_free"), 0);
    ck_assert_int_eq(mem_field_int(p, "high_total"), 0);
    ck_assert_int_eq(mem_field_int(p, "low_free"), 0);
    ck_assert_int_eq(mem_field_int(p, "swap_total"), 0);
    ck_assert_int_eq(mem_field_int(p, "swap_free"), 0);
    ck_assert_int_eq(mem_field_int(p, "swap_cached"), 0);
    ck_assert_int_eq(mem_field_int(p, "write_back"), 0);
    ck_assert_int_eq(mem_field_int(p, "write_back_tmp"), 0);
    ck_assert_double_eq_tol(mem_field_float(p, "used_percent"), 0.3388848032655084, 1e-12);
    ck_assert_double_eq_tol(mem_field_float(p, "available_percent"), 98.64298899210681, 1e-12);
    ck_assert_ptr_null(field_get(p, "wired")); /* Darwin/BSD only */
    batch_free(b);
}
END_TEST

/* Hand-made: no MemAvailable, parentheses, a "_total" key, bad lines. */
START_TEST(test_read_odd)
{
    struct sonde_batch *b = batch_new("mem");
    ck_assert_int_eq(mem_read_dir(FIXTURES "/mem/odd", b), 0);
    /* NoColon, Broken, TooMany, Negative, Huge; the blank line is not counted. */
    ck_assert_uint_eq(b->skipped, 5);
    ck_assert_uint_eq(b->nseries, 10);
    ck_assert_double_eq(mem_series_value(b, "node_memory_Foo_barbaz_bytes"), 7.0 * 1024);
    ck_assert_double_eq(mem_series_value(b, "node_memory_HugePages_Total"), 4.0);
    ck_assert_double_eq(mem_series_value(b, "node_memory_Hugepagesize_bytes"), 2048.0 * 1024);
    const struct sonde_series *s = series_find(b, "node_memory_Bogus_total", NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(s->family->type, SONDE_COUNTER);
    ck_assert_double_eq(s->value, 3.0);

    const struct sonde_point *p = point_find(b, "mem", NULL);
    ck_assert_ptr_nonnull(p);
    /* Without MemAvailable: free + cached, cached including SReclaimable. */
    ck_assert_int_eq(mem_field_int(p, "cached"), 350000ll * 1024);
    ck_assert_int_eq(mem_field_int(p, "available"), 550000ll * 1024);
    ck_assert_int_eq(mem_field_int(p, "used"), 440000ll * 1024);
    ck_assert_int_eq(mem_field_int(p, "huge_pages_total"), 4);
    ck_assert_double_eq(mem_field_float(p, "used_percent"), 44.0);
    ck_assert_double_eq(mem_field_float(p, "available_percent"), 55.0);
    batch_free(b);
}
END_TEST

START_TEST(test_used_never_wraps)
{
    const char *buf = "MemTotal: 100 kB\nMemFree: 90 kB\nBuffers: 5 kB\nCached: 10 kB\n";
    struct mem_stats st = {0};
    mem_parse_meminfo(buf, &st);
    struct mem_derived d;
    mem_derive(&st, &d);
    ck_assert_uint_eq(d.used, 0);
    mem_stats_free(&st);
}
END_TEST

START_TEST(test_read_empty)
{
    struct sonde_batch *b = batch_new("mem");
    ck_assert_int_eq(mem_read_dir(FIXTURES "/mem/empty", b), 0);
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(b->npoints, 0);
    ck_assert_uint_eq(b->skipped, 0);
    batch_free(b);
}
END_TEST

START_TEST(test_read_missing)
{
    struct sonde_batch *b = batch_new("mem");
    ck_assert_int_eq(mem_read_dir(FIXTURES "/mem/no-such-dir", b), -ENOENT);
    ck_assert_uint_eq(b->nseries, 0);
    batch_free(b);
}
END_TEST

/* Two reads of one instance: the reused entry array must not accumulate. */
START_TEST(test_read_twice)
{
    struct mem_config cfg = {0};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_mem.init(&state, &cfg, &mem_ctx), 0);
    for (int i = 0; i < 2; i++) {
        struct sonde_batch *b = batch_new("mem");
        ck_assert_int_eq(sonde_plugin_mem.read(state, b), 0);
        ck_assert_uint_eq(b->nseries, 54);
        ck_assert_uint_eq(b->npoints, 1);
        batch_free(b);
    }
    sonde_plugin_mem.destroy(state);
}
END_TEST

static Suite *mem_suite(void)
{
    Suite *s = suite_create("mem");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_line);
    tcase_add_test(tc, test_prom_key);
    tcase_add_test(tc, test_prom_key_invalid);
    tcase_add_test(tc, test_parse_fixture);
    tcase_add_test(tc, test_read_fixture);
    tcase_add_test(tc, test_read_odd);
    tcase_add_test(tc, test_used_never_wraps);
    tcase_add_test(tc, test_read_empty);
    tcase_add_test(tc, test_read_missing);
    tcase_add_test(tc, test_read_twice);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(mem_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
