/*
 * check_kernel.c - unit tests of plugins/kernel.c: the non-cpu lines of
 * /proc/stat and entropy_avail, on captured and hand-edited fixtures.
 */
#include "../../plugins/kernel.c"
#include "testutil.h"

/* Runs one read() with procfs at fixture directory `procfs` (relative to
 * the fixtures); the batch is the caller's (batch_free). */
static struct sonde_batch *kernel_test_read(const char *procfs, int expect_rc)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/%s", FIXTURES, procfs);
    struct sonde_context ctx = {
        .procfs = dir, .sysfs = "/sys", .rootfs = "/", .hostname = "test", .instance = "kernel"};
    struct kernel_config config = {0};
    void *state = NULL;
    ck_assert_int_eq(kernel_init(&state, &config, &ctx), 0);
    struct sonde_batch *b = batch_new("kernel");
    ck_assert_int_eq(kernel_read(state, b), expect_rc);
    kernel_destroy(state);
    batch_finish(b);
    return b;
}

static double prom_value(const struct sonde_batch *b, const char *name)
{
    const struct sonde_series *s = series_find(b, name, NULL);
    ck_assert_msg(s != NULL, "%s missing", name);
    ck_assert_uint_eq(s->nlabels, 0);
    return s->value;
}

static int64_t field_int(const struct sonde_point *p, const char *key)
{
    const struct sonde_field *f = field_get(p, key);
    ck_assert_msg(f != NULL, "field %s missing", key);
    ck_assert_int_eq(f->type, SONDE_FIELD_INT);
    return f->v.i;
}

START_TEST(test_parse_captured)
{
    char *text = fixture_read("kernel/proc/stat");
    struct kernel_stat st;
    kernel_parse_stat(text, &st);
    ck_assert_uint_eq(st.malformed, 0);
    ck_assert_uint_eq(st.have, KERNEL_HAVE_BTIME | KERNEL_HAVE_CTXT | KERNEL_HAVE_PROCESSES |
                                   KERNEL_HAVE_INTR | KERNEL_HAVE_RUNNING | KERNEL_HAVE_BLOCKED);
    ck_assert_int_eq(st.btime, 1795677891);
    ck_assert_int_eq(st.ctxt, 274669);
    ck_assert_int_eq(st.processes, 4685);
    ck_assert_int_eq(st.intr, 136276); /* the total, not the per-IRQ columns */
    ck_assert_int_eq(st.running, 1);
    ck_assert_int_eq(st.blocked, 0);
    free(text);
}
END_TEST

START_TEST(test_parse_malformed)
{
    char *text = fixture_read("kernel/stat.malformed");
    struct kernel_stat st;
    kernel_parse_stat(text, &st);
    /* "ctxt abc", "btime" alone, "processes -5", an intr beyond int64. */
    ck_assert_uint_eq(st.malformed, 4);
    ck_assert_uint_eq(st.have, KERNEL_HAVE_RUNNING | KERNEL_HAVE_BLOCKED);
    ck_assert_int_eq(st.blocked, 2);
    free(text);
}
END_TEST

START_TEST(test_parse_entropy)
{
    int64_t v = 0;
    ck_assert_int_eq(kernel_parse_entropy("256\n", &v), 0);
    ck_assert_int_eq(v, 256);
    char *text = fixture_read("kernel/entropy.malformed");
    ck_assert_int_eq(kernel_parse_entropy(text, &v), -EINVAL);
    ck_assert_int_eq(kernel_parse_entropy("", &v), -EINVAL);
    ck_assert_int_eq(kernel_parse_entropy("12 34\n", &v), -EINVAL);
    free(text);
}
END_TEST

START_TEST(test_read_captured)
{
    struct sonde_batch *b = kernel_test_read("kernel/proc", 0);
    ck_assert_uint_eq(b->nseries, 6);
    ck_assert_double_eq(prom_value(b, "node_boot_time_seconds"), 1795677891.0);
    ck_assert_double_eq(prom_value(b, "node_context_switches_total"), 274669.0);
    ck_assert_double_eq(prom_value(b, "node_forks_total"), 4685.0);
    ck_assert_double_eq(prom_value(b, "node_intr_total"), 136276.0);
    ck_assert_double_eq(prom_value(b, "node_procs_running"), 1.0);
    ck_assert_double_eq(prom_value(b, "node_procs_blocked"), 0.0);
    const struct sonde_series *s = series_find(b, "node_boot_time_seconds", NULL);
    ck_assert_int_eq(s->family->type, SONDE_GAUGE);
    ck_assert_str_eq(s->family->help, "Node boot time, in unixtime.");
    s = series_find(b, "node_forks_total", NULL);
    ck_assert_int_eq(s->family->type, SONDE_COUNTER);
    ck_assert_str_eq(s->family->help, "Total number of forks.");
    s = series_find(b, "node_procs_blocked", NULL);
    ck_assert_int_eq(s->family->type, SONDE_GAUGE);
    ck_assert_str_eq(s->family->help, "Number of processes blocked waiting for I/O to complete.");

    ck_assert_uint_eq(b->npoints, 1);
    const struct sonde_point *p = point_find(b, "kernel", NULL);
    ck_assert_uint_eq(p->ntags, 0);
    ck_assert_uint_eq(p->nfields, 5);
    ck_assert_int_eq(field_int(p, "boot_time"), 1795677891);
    ck_assert_int_eq(field_int(p, "context_switches"), 274669);
    ck_assert_int_eq(field_int(p, "interrupts"), 136276);
    ck_assert_int_eq(field_int(p, "processes_forked"), 4685);
    ck_assert_int_eq(field_int(p, "entropy_avail"), 256);
    ck_assert_ptr_null(field_get(p, "disk_pages_in"));
    ck_assert_uint_eq(b->skipped, 0);
    batch_free(b);
}
END_TEST

START_TEST(test_read_old_kernel)
{
    /* 2.4-style /proc/stat: page and swap lines, no procs_* lines. */
    struct sonde_batch *b = kernel_test_read("kernel/old/proc", 0);
    ck_assert_uint_eq(b->nseries, 4);
    ck_assert_ptr_null(series_find(b, "node_procs_running", NULL));
    ck_assert_double_eq(prom_value(b, "node_intr_total"), 1462898.0);
    const struct sonde_point *p = point_find(b, "kernel", NULL);
    ck_assert_uint_eq(p->nfields, 7);
    ck_assert_int_eq(field_int(p, "disk_pages_in"), 5741);
    ck_assert_int_eq(field_int(p, "disk_pages_out"), 1808);
    ck_assert_int_eq(field_int(p, "boot_time"), 769041601);
    ck_assert_int_eq(field_int(p, "entropy_avail"), 4096);
    ck_assert_ptr_null(field_get(p, "swap_in")); /* Telegraf has no swap fields here */
    ck_assert_uint_eq(b->skipped, 0);
    batch_free(b);
}
END_TEST

START_TEST(test_read_without_entropy)
{
    struct sonde_batch *b = kernel_test_read("kernel/noentropy/proc", 0);
    ck_assert_uint_eq(b->nseries, 6);
    const struct sonde_point *p = point_find(b, "kernel", NULL);
    ck_assert_uint_eq(p->nfields, 4);
    ck_assert_ptr_null(field_get(p, "entropy_avail"));
    ck_assert_int_eq(field_int(p, "context_switches"), 274669);
    ck_assert_uint_eq(b->skipped, 1);
    batch_free(b);
}
END_TEST

START_TEST(test_read_missing_stat)
{
    struct sonde_batch *b = kernel_test_read("kernel/nonexistent", -ENOENT);
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(b->npoints, 0);
    batch_free(b);
}
END_TEST

START_TEST(test_emit_malformed)
{
    char *text = fixture_read("kernel/stat.malformed");
    struct kernel_stat st;
    kernel_parse_stat(text, &st);
    struct sonde_batch *b = batch_new("kernel");
    kernel_emit_prom(b, &st);
    kernel_emit_lp(b, &st, NULL);
    /* Only the two procs gauges survive; no LP field is left, so no point. */
    ck_assert_uint_eq(b->nseries, 2);
    ck_assert_double_eq(prom_value(b, "node_procs_blocked"), 2.0);
    ck_assert_uint_eq(b->npoints, 0);
    batch_free(b);
    free(text);
}
END_TEST

START_TEST(test_descriptor)
{
    ck_assert_str_eq(sonde_plugin_kernel.name, "kernel");
    ck_assert_int_eq(sonde_plugin_kernel.kind, SONDE_INPUT);
    ck_assert_ptr_null(sonde_plugin_kernel.options[0].name);
    ck_assert_ptr_nonnull(sonde_plugin_kernel.read);
    ck_assert_ptr_null(sonde_plugin_kernel.write);
}
END_TEST

static Suite *kernel_suite(void)
{
    Suite *s = suite_create("kernel");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_parse_captured);
    tcase_add_test(tc, test_parse_malformed);
    tcase_add_test(tc, test_parse_entropy);
    suite_add_tcase(s, tc);
    tc = tcase_create("read");
    tcase_add_test(tc, test_read_captured);
    tcase_add_test(tc, test_read_old_kernel);
    tcase_add_test(tc, test_read_without_entropy);
    tcase_add_test(tc, test_read_missing_stat);
    tcase_add_test(tc, test_emit_malformed);
    tcase_add_test(tc, test_descriptor);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(kernel_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
