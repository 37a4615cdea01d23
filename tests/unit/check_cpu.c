/*
 * check_cpu.c - unit tests of plugins/cpu.c: the /proc/stat cpu-line
 * parser, node_exporter's monotonic counters, Telegraf's usage percentages
 * across reads (offline CPUs, counters going backwards, old kernels).
 */
#include <limits.h>
#include <unistd.h>

#include "../../plugins/cpu.c"
#include "testutil.h"

#define EPS 1e-9

static const struct sonde_context cpu_test_ctx = {
    .procfs = FIXTURES "/cpu/proc",
    .sysfs = "/sys",
    .rootfs = "/",
    .hostname = "test",
    .instance = "cpu",
};

/* A state with Telegraf's defaults (percpu, totalcpu) and USER_HZ 100, the
 * value the expected numbers below are computed with. Freed with
 * cpu_destroy. */
static struct cpu_state *cpu_test_state(bool percpu, bool totalcpu, bool collect_cpu_time)
{
    struct cpu_config config = {
        .percpu = percpu, .totalcpu = totalcpu, .collect_cpu_time = collect_cpu_time};
    void *state = NULL;
    ck_assert_int_eq(cpu_init(&state, &config, &cpu_test_ctx), 0);
    ((struct cpu_state *)state)->ticks_per_second = 100;
    return state;
}

/* Parses fixture `name` and runs it through `state` into a new batch (the
 * caller frees it with batch_free). */
static struct sonde_batch *cpu_test_step(struct cpu_state *state, const char *name)
{
    char *text = fixture_read(name);
    struct sonde_batch *batch = batch_new("cpu");
    cpu_parse_stat(text, &state->sample);
    cpu_process(state, &state->sample, batch);
    batch_finish(batch);
    free(text);
    return batch;
}

static double prom_value(const struct sonde_batch *b, const char *name, const char *cpu,
                         const char *mode)
{
    const struct sonde_series *s = series_find(b, name, "cpu", cpu, "mode", mode, NULL);
    ck_assert_msg(s != NULL, "%s{cpu=%s,mode=%s} missing", name, cpu, mode);
    return s->value;
}

static double field_float(const struct sonde_point *p, const char *key)
{
    const struct sonde_field *f = field_get(p, key);
    ck_assert_msg(f != NULL, "field %s missing", key);
    ck_assert_int_eq(f->type, SONDE_FIELD_FLOAT);
    return f->v.f;
}

/* The usage point of `cpu` (the one with usage_user), or NULL. */
static const struct sonde_point *usage_point(const struct sonde_batch *b, const char *cpu)
{
    for (size_t i = 0; i < b->npoints; i++) {
        const struct sonde_point *p = b->points[i];
        const char *tag = label_get(p->tags, p->ntags, "cpu");
        if (strcmp(p->measurement, "cpu") == 0 && tag && strcmp(tag, cpu) == 0 &&
            field_get(p, "usage_user"))
            return p;
    }
    return NULL;
}

/* ---- parser ---- */

START_TEST(test_parse_captured)
{
    char *text = fixture_read("cpu/stat.1");
    struct cpu_sample sample = {0};
    cpu_parse_stat(text, &sample);
    ck_assert(sample.has_total);
    ck_assert_uint_eq(sample.malformed, 0);
    ck_assert_uint_eq(sample.ncpus, 2);
    /* cpu  2169 0 933 65496 1352 0 43 2 0 0 */
    ck_assert_uint_eq(sample.total.ticks[CPU_USER], 2169);
    ck_assert_uint_eq(sample.total.ticks[CPU_IDLE], 65496);
    ck_assert_uint_eq(sample.total.ticks[CPU_STEAL], 2);
    /* cpu1 1133 0 494 32655 693 0 30 1 0 0 */
    ck_assert_uint_eq(sample.cpus[1].id, 1);
    ck_assert_uint_eq(sample.cpus[1].times.ticks[CPU_SYSTEM], 494);
    ck_assert_uint_eq(sample.cpus[1].times.ticks[CPU_IOWAIT], 693);
    ck_assert_uint_eq(sample.cpus[1].times.ticks[CPU_SOFTIRQ], 30);
    cpu_sample_free(&sample);
    free(text);
}
END_TEST

START_TEST(test_parse_line_cases)
{
    struct cpu_times t;
    unsigned id = 0;
    const char *l = "cpu12 1 2 3 4 5 6 7 8 9 10";
    ck_assert_int_eq(cpu_parse_line(l, l + strlen(l), &id, &t), 0);
    ck_assert_uint_eq(id, 12);
    ck_assert_uint_eq(t.ticks[CPU_GUEST_NICE], 10);
    l = "cpu  1 2 3 4";
    ck_assert_int_eq(cpu_parse_line(l, l + strlen(l), &id, &t), 1);
    ck_assert_uint_eq(t.ticks[CPU_IDLE], 4);
    ck_assert_uint_eq(t.ticks[CPU_IOWAIT], 0);
    l = "intr 1 2 3";
    ck_assert_int_eq(cpu_parse_line(l, l + strlen(l), &id, &t), -ENOENT);
    l = "cpu1 1 2 3";
    ck_assert_int_eq(cpu_parse_line(l, l + strlen(l), &id, &t), -EINVAL);
    l = "cpu1x 1 2 3 4";
    ck_assert_int_eq(cpu_parse_line(l, l + strlen(l), &id, &t), -EINVAL);
    l = "cpu99999999 1 2 3 4";
    ck_assert_int_eq(cpu_parse_line(l, l + strlen(l), &id, &t), -EINVAL);
    l = "cpu1 1 2 3 99999999999999999999999";
    ck_assert_int_eq(cpu_parse_line(l, l + strlen(l), &id, &t), -EINVAL);
    l = "cpu1 1 2 3 4 +5";
    ck_assert_int_eq(cpu_parse_line(l, l + strlen(l), &id, &t), -EINVAL);
    l = "cpu";
    ck_assert_int_eq(cpu_parse_line(l, l + strlen(l), &id, &t), -EINVAL);
}
END_TEST

START_TEST(test_parse_malformed)
{
    char *text = fixture_read("cpu/stat.malformed");
    struct cpu_sample sample = {0};
    cpu_parse_stat(text, &sample);
    /* cpu1 "abc", cpuX, cpu2 with two numbers, cpu3 with "-1" */
    ck_assert_uint_eq(sample.malformed, 4);
    /* cpu0, its duplicate, and cpu4 (extra columns ignored) */
    ck_assert_uint_eq(sample.ncpus, 3);
    ck_assert_uint_eq(sample.cpus[2].id, 4);
    ck_assert_uint_eq(sample.cpus[2].times.ticks[CPU_IDLE], 1000);
    ck_assert_uint_eq(sample.cpus[2].times.ticks[CPU_GUEST_NICE], 0);
    cpu_sample_free(&sample);
    free(text);
}
END_TEST

/* ---- Prometheus ---- */

START_TEST(test_prom_first_read)
{
    struct cpu_state *state = cpu_test_state(true, true, false);
    struct sonde_batch *b = cpu_test_step(state, "cpu/stat.1");
    /* Eight modes and two guest modes per CPU; the aggregate line is not
     * exported, as in node_exporter. */
    ck_assert_uint_eq(series_count(b, "node_cpu_seconds_total"), 16);
    ck_assert_uint_eq(series_count(b, "node_cpu_guest_seconds_total"), 4);
    ck_assert_uint_eq(b->nseries, 20);
    /* cpu0 1035 0 438 32840 659 0 13 1 0 0 */
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "0", "user"), 10.35, EPS);
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "0", "system"), 4.38, EPS);
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "0", "idle"), 328.40, EPS);
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "0", "iowait"), 6.59, EPS);
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "0", "softirq"), 0.13, EPS);
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "0", "steal"), 0.01, EPS);
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "1", "idle"), 326.55, EPS);
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_guest_seconds_total", "1", "user"), 0, EPS);
    const struct sonde_series *s =
        series_find(b, "node_cpu_seconds_total", "cpu", "0", "mode", "nice", NULL);
    ck_assert_int_eq(s->family->type, SONDE_COUNTER);
    ck_assert_str_eq(s->family->help, "Seconds the CPUs spent in each mode.");
    /* No previous sample: no line-protocol point yet. */
    ck_assert_uint_eq(b->npoints, 0);
    ck_assert_uint_eq(b->skipped, 0);
    batch_free(b);
    cpu_destroy(state);
}
END_TEST

START_TEST(test_prom_counters_never_go_back)
{
    struct cpu_state *state = cpu_test_state(true, true, false);
    batch_free(cpu_test_step(state, "cpu/stat.1"));
    batch_free(cpu_test_step(state, "cpu/stat.2"));
    struct sonde_batch *b = cpu_test_step(state, "cpu/stat.backwards");
    /* cpu0: idle 32854 -> 32850 and iowait 659 -> 650: the larger values stay. */
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "0", "idle"), 328.54, EPS);
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "0", "iowait"), 6.59, EPS);
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "0", "user"), 12.45, EPS);
    /* cpu1: idle 32853 -> 32000, more than 3 s back: a hotplug, start over. */
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "1", "idle"), 320.00, EPS);
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "1", "user"), 11.40, EPS);
    /* Usage: negative deltas count as 0; cpu0 user +10, system +2. */
    const struct sonde_point *p = usage_point(b, "cpu0");
    ck_assert_ptr_nonnull(p);
    ck_assert_double_eq_tol(field_float(p, "usage_user"), 100.0 * 10 / 12, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_system"), 100.0 * 2 / 12, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_idle"), 0, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_iowait"), 0, EPS);
    /* cpu1: user +6, system +1, idle back. */
    p = usage_point(b, "cpu1");
    ck_assert_ptr_nonnull(p);
    ck_assert_double_eq_tol(field_float(p, "usage_user"), 100.0 * 6 / 7, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_idle"), 0, EPS);
    batch_free(b);
    cpu_destroy(state);
}
END_TEST

/* ---- line protocol ---- */

START_TEST(test_usage_second_read)
{
    struct cpu_state *state = cpu_test_state(true, true, false);
    batch_free(cpu_test_step(state, "cpu/stat.1"));
    struct sonde_batch *b = cpu_test_step(state, "cpu/stat.2");
    ck_assert_uint_eq(b->npoints, 3);
    /* cpu0: user 1035 -> 1235, idle 32840 -> 32854: total 214 ticks. */
    const struct sonde_point *p = point_find(b, "cpu", "cpu", "cpu0", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->ntags, 1);
    ck_assert_uint_eq(p->nfields, 10);
    ck_assert_double_eq_tol(field_float(p, "usage_user"), 100.0 * 200 / 214, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_idle"), 100.0 * 14 / 214, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_system"), 0, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_nice"), 0, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_iowait"), 0, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_irq"), 0, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_softirq"), 0, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_steal"), 0, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_guest"), 0, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_guest_nice"), 0, EPS);
    /* cpu1: user +1, system +15, idle +198. */
    p = point_find(b, "cpu", "cpu", "cpu1", NULL);
    ck_assert_double_eq_tol(field_float(p, "usage_user"), 100.0 * 1 / 214, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_system"), 100.0 * 15 / 214, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_idle"), 100.0 * 198 / 214, EPS);
    /* cpu-total: user +200, system +15, idle +211. */
    p = point_find(b, "cpu", "cpu", "cpu-total", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_double_eq_tol(field_float(p, "usage_user"), 100.0 * 200 / 426, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_system"), 100.0 * 15 / 426, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_idle"), 100.0 * 211 / 426, EPS);
    ck_assert_ptr_null(field_get(p, "usage_active"));
    batch_free(b);
    cpu_destroy(state);
}
END_TEST

START_TEST(test_usage_subtracts_guest)
{
    struct cpu_state *state = cpu_test_state(true, false, false);
    state->config.report_active = true;
    batch_free(cpu_test_step(state, "cpu/stat.guest.1"));
    struct sonde_batch *b = cpu_test_step(state, "cpu/stat.guest.2");
    /* Deltas: user 400 (guest 50), nice 100 (guest_nice 30), system 50,
     * idle 400, iowait 10, irq 5, softirq 5, steal 3: total 973. */
    const struct sonde_point *p = point_find(b, "cpu", "cpu", "cpu0", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_double_eq_tol(field_float(p, "usage_user"), 100.0 * 350 / 973, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_nice"), 100.0 * 70 / 973, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_guest"), 100.0 * 50 / 973, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_guest_nice"), 100.0 * 30 / 973, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_steal"), 100.0 * 3 / 973, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_active"), 100.0 * 573 / 973, EPS);
    ck_assert_ptr_null(point_find(b, "cpu", "cpu", "cpu-total", NULL)); /* totalcpu off */
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_guest_seconds_total", "0", "user"), 3.5, EPS);
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_guest_seconds_total", "0", "nice"), 0.8, EPS);
    batch_free(b);
    cpu_destroy(state);
}
END_TEST

START_TEST(test_zero_delta_no_point)
{
    struct cpu_state *state = cpu_test_state(true, true, false);
    batch_free(cpu_test_step(state, "cpu/stat.2"));
    struct sonde_batch *b = cpu_test_step(state, "cpu/stat.2");
    ck_assert_uint_eq(b->npoints, 0); /* nothing to divide by */
    ck_assert_uint_eq(b->nseries, 20);
    ck_assert_uint_eq(b->skipped, 0);
    batch_free(b);
    cpu_destroy(state);
}
END_TEST

START_TEST(test_cpu_offline_and_back)
{
    struct cpu_state *state = cpu_test_state(true, true, false);
    batch_free(cpu_test_step(state, "cpu/stat.1"));
    batch_free(cpu_test_step(state, "cpu/stat.2"));

    struct sonde_batch *b = cpu_test_step(state, "cpu/stat.offline");
    ck_assert_uint_eq(series_count(b, "node_cpu_seconds_total"), 8); /* cpu0 only */
    ck_assert_ptr_null(series_find(b, "node_cpu_seconds_total", "cpu", "1", NULL));
    ck_assert_ptr_null(point_find(b, "cpu", "cpu", "cpu1", NULL));
    /* cpu0: user +100, system +2, idle +46. */
    const struct sonde_point *p = usage_point(b, "cpu0");
    ck_assert_double_eq_tol(field_float(p, "usage_user"), 100.0 * 100 / 148, EPS);
    ck_assert(!state->cpus[1].present);
    batch_free(b);

    b = cpu_test_step(state, "cpu/stat.online");
    /* cpu1 is back: its counters are reported as read, with no usage point
     * (a delta across the offline gap would be meaningless). */
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "1", "user"), 12.00, EPS);
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "1", "idle"), 330.00, EPS);
    ck_assert_ptr_null(point_find(b, "cpu", "cpu", "cpu1", NULL));
    ck_assert_ptr_nonnull(usage_point(b, "cpu0"));
    ck_assert_ptr_nonnull(usage_point(b, "cpu-total"));
    batch_free(b);

    b = cpu_test_step(state, "cpu/stat.2"); /* cpu1 back in the past: clamp, no crash */
    ck_assert_ptr_nonnull(series_find(b, "node_cpu_seconds_total", "cpu", "1", NULL));
    batch_free(b);
    cpu_destroy(state);
}
END_TEST

START_TEST(test_old_kernel_columns)
{
    struct cpu_state *state = cpu_test_state(true, true, false);
    struct sonde_batch *b = cpu_test_step(state, "cpu/stat.oldkernel.1");
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(series_count(b, "node_cpu_seconds_total"), 16);
    /* cpu0 has four columns: the rest are 0. */
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "0", "idle"), 25.0, EPS);
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "0", "iowait"), 0, EPS);
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "0", "steal"), 0, EPS);
    /* cpu1 has seven: softirq is there, steal is not. */
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "1", "softirq"), 0.02, EPS);
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "1", "steal"), 0, EPS);
    batch_free(b);

    b = cpu_test_step(state, "cpu/stat.oldkernel.2");
    const struct sonde_point *p = usage_point(b, "cpu0");
    ck_assert_double_eq_tol(field_float(p, "usage_user"), 10.0, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_system"), 10.0, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_idle"), 80.0, EPS);
    ck_assert_double_eq_tol(field_float(p, "usage_steal"), 0, EPS);
    batch_free(b);
    cpu_destroy(state);
}
END_TEST

START_TEST(test_malformed_lines_counted)
{
    struct cpu_state *state = cpu_test_state(true, true, false);
    struct sonde_batch *b = cpu_test_step(state, "cpu/stat.malformed");
    /* Four malformed lines and one duplicate cpu0. */
    ck_assert_uint_eq(b->skipped, 5);
    ck_assert_uint_eq(series_count(b, "node_cpu_seconds_total"), 16); /* cpu0, cpu4 */
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "0", "user"), 12.35, EPS);
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "4", "idle"), 10.0, EPS);
    ck_assert_ptr_null(series_find(b, "node_cpu_seconds_total", "cpu", "1", NULL));
    ck_assert_ptr_null(series_find(b, "node_cpu_seconds_total", "cpu", "3", NULL));
    batch_free(b);
    cpu_destroy(state);
}
END_TEST

START_TEST(test_collect_cpu_time)
{
    struct cpu_state *state = cpu_test_state(true, true, true);
    struct sonde_batch *b = cpu_test_step(state, "cpu/stat.1");
    /* Telegraf's time_* point comes on the first read already, apart from
     * the usage point; one per CPU and one for the total. */
    ck_assert_uint_eq(b->npoints, 3);
    const struct sonde_point *p = point_find(b, "cpu", "cpu", "cpu0", NULL);
    ck_assert_uint_eq(p->nfields, 10);
    ck_assert_double_eq_tol(field_float(p, "time_user"), 10.35, EPS);
    ck_assert_double_eq_tol(field_float(p, "time_idle"), 328.40, EPS);
    ck_assert_double_eq_tol(field_float(p, "time_guest_nice"), 0, EPS);
    p = point_find(b, "cpu", "cpu", "cpu-total", NULL);
    ck_assert_double_eq_tol(field_float(p, "time_system"), 9.33, EPS);
    batch_free(b);

    b = cpu_test_step(state, "cpu/stat.2");
    ck_assert_uint_eq(b->npoints, 6); /* time and usage for cpu0, cpu1, total */
    ck_assert_ptr_nonnull(usage_point(b, "cpu1"));
    batch_free(b);
    cpu_destroy(state);
}
END_TEST

START_TEST(test_percpu_off)
{
    struct cpu_state *state = cpu_test_state(false, true, false);
    batch_free(cpu_test_step(state, "cpu/stat.1"));
    struct sonde_batch *b = cpu_test_step(state, "cpu/stat.2");
    ck_assert_uint_eq(b->npoints, 1);
    ck_assert_ptr_nonnull(point_find(b, "cpu", "cpu", "cpu-total", NULL));
    ck_assert_uint_eq(b->nseries, 20); /* Prometheus stays per CPU */
    batch_free(b);
    cpu_destroy(state);
}
END_TEST

/* ---- read() on fixture directories ---- */

START_TEST(test_read_fixture_dir)
{
    struct cpu_state *state = cpu_test_state(true, true, false);
    struct sonde_batch *b = batch_new("cpu");
    ck_assert_int_eq(cpu_read(state, b), 0);
    /* proc/stat: cpu1 1133 0 494 32654 693 0 30 1 0 0 */
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "1", "idle"), 326.54, EPS);
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "1", "iowait"), 6.93, EPS);
    ck_assert_uint_eq(b->npoints, 0);
    batch_free(b);
    b = batch_new("cpu");
    ck_assert_int_eq(cpu_read(state, b), 0); /* same file again: zero delta */
    ck_assert_uint_eq(b->nseries, 20);
    ck_assert_uint_eq(b->npoints, 0);
    batch_free(b);
    cpu_destroy(state);
}
END_TEST

/* Overwrites `path` in place (same inode, as procfs does) with fixture `name`. */
static void cpu_test_install(const char *path, const char *name)
{
    char *text = fixture_read(name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    free(text);
}

START_TEST(test_read_two_cycles)
{
    char dir[] = "/tmp/check_cpu.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/stat", dir);
    cpu_test_install(path, "cpu/stat.1");

    struct sonde_context ctx = cpu_test_ctx;
    ctx.procfs = dir;
    struct cpu_config config = {.percpu = true, .totalcpu = true};
    void *state = NULL;
    ck_assert_int_eq(cpu_init(&state, &config, &ctx), 0);
    ((struct cpu_state *)state)->ticks_per_second = 100;

    struct sonde_batch *b = batch_new("cpu");
    ck_assert_int_eq(cpu_read(state, b), 0);
    ck_assert_uint_eq(b->npoints, 0);
    batch_free(b);

    cpu_test_install(path, "cpu/stat.2");
    b = batch_new("cpu");
    ck_assert_int_eq(cpu_read(state, b), 0);
    batch_finish(b);
    ck_assert_uint_eq(b->npoints, 3);
    const struct sonde_point *p = point_find(b, "cpu", "cpu", "cpu-total", NULL);
    ck_assert_double_eq_tol(field_float(p, "usage_idle"), 100.0 * 211 / 426, EPS);
    ck_assert_double_eq_tol(prom_value(b, "node_cpu_seconds_total", "0", "user"), 12.35, EPS);
    batch_free(b);

    unlink(path); /* the source is gone: an error, nothing emitted */
    cpu_destroy(state);
    state = NULL;
    ck_assert_int_eq(cpu_init(&state, &config, &ctx), 0);
    b = batch_new("cpu");
    ck_assert_int_eq(cpu_read(state, b), -ENOENT);
    ck_assert_uint_eq(b->nseries, 0);
    batch_free(b);
    cpu_destroy(state);
    rmdir(dir);
}
END_TEST

START_TEST(test_descriptor)
{
    ck_assert_str_eq(sonde_plugin_cpu.name, "cpu");
    ck_assert_int_eq(sonde_plugin_cpu.kind, SONDE_INPUT);
    ck_assert_uint_eq(sonde_plugin_cpu.config_size, sizeof(struct cpu_config));
    ck_assert_ptr_null(sonde_plugin_cpu.write);
    size_t n = 0;
    while (sonde_plugin_cpu.options[n].name)
        n++;
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(cpu_options[0].name, "percpu");
    ck_assert_str_eq(cpu_options[0].default_value, "true");
    ck_assert_str_eq(cpu_options[2].default_value, "false");
}
END_TEST

static Suite *cpu_suite(void)
{
    Suite *s = suite_create("cpu");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_parse_captured);
    tcase_add_test(tc, test_parse_line_cases);
    tcase_add_test(tc, test_parse_malformed);
    suite_add_tcase(s, tc);
    tc = tcase_create("prometheus");
    tcase_add_test(tc, test_prom_first_read);
    tcase_add_test(tc, test_prom_counters_never_go_back);
    suite_add_tcase(s, tc);
    tc = tcase_create("lineproto");
    tcase_add_test(tc, test_usage_second_read);
    tcase_add_test(tc, test_usage_subtracts_guest);
    tcase_add_test(tc, test_zero_delta_no_point);
    tcase_add_test(tc, test_cpu_offline_and_back);
    tcase_add_test(tc, test_old_kernel_columns);
    tcase_add_test(tc, test_malformed_lines_counted);
    tcase_add_test(tc, test_collect_cpu_time);
    tcase_add_test(tc, test_percpu_off);
    suite_add_tcase(s, tc);
    tc = tcase_create("read");
    tcase_add_test(tc, test_read_fixture_dir);
    tcase_add_test(tc, test_read_two_cycles);
    tcase_add_test(tc, test_descriptor);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cpu_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
