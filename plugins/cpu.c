/*
 * cpu.c - CPU time from the cpu lines of /proc/stat: node_exporter's cpu
 * collector (node_cpu_seconds_total, node_cpu_guest_seconds_total) and
 * Telegraf's inputs.cpu (usage_* percentages computed from the previous read).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sonde.h"

/* Columns of a cpu line, in /proc/stat order (see proc(5)). */
enum cpu_column {
    CPU_USER,
    CPU_NICE,
    CPU_SYSTEM,
    CPU_IDLE,
    CPU_IOWAIT,
    CPU_IRQ,
    CPU_SOFTIRQ,
    CPU_STEAL,
    CPU_GUEST,
    CPU_GUEST_NICE,
    CPU_NCOLUMNS
};

/* Kernels before 2.5.41 print only user, nice, system and idle; anything
 * shorter than that is not a cpu line we can trust. */
#define CPU_MIN_COLUMNS 4
/* Real CPU ids stay far below this (NR_CPUS); a larger id is garbage and
 * must not make us allocate a huge history array. */
#define CPU_MAX_ID 65536
/* node_exporter: idle jumping back by this much means a hotplug event. */
#define CPU_JUMP_BACK_SECONDS 3

struct cpu_times {
    uint64_t ticks[CPU_NCOLUMNS]; /* USER_HZ ticks; missing columns are 0 */
};

/* One per-CPU line of /proc/stat. */
struct cpu_line {
    unsigned id; /* N of "cpuN" */
    struct cpu_times times;
};

/* What one read of /proc/stat says about CPUs. */
struct cpu_sample {
    bool has_total;         /* the aggregate "cpu " line was there */
    struct cpu_times total; /* the aggregate line */
    struct cpu_line *cpus;  /* owned (sonde_xrealloc), reused across reads */
    size_t ncpus, cap;
    uint64_t malformed; /* cpu lines skipped */
};

struct cpu_config {
    bool percpu;           /* LP: a point per CPU */
    bool totalcpu;         /* LP: a cpu-total point */
    bool collect_cpu_time; /* LP: also time_* seconds fields */
    bool report_active;    /* LP: also usage_active / time_active */
};

static const struct sonde_option cpu_options[] = {
    {"percpu", SONDE_OPT_BOOL, offsetof(struct cpu_config, percpu), "true", false,
     "line protocol: one point per CPU (tag cpu=cpuN)"},
    {"totalcpu", SONDE_OPT_BOOL, offsetof(struct cpu_config, totalcpu), "true", false,
     "line protocol: one point for all CPUs (tag cpu=cpu-total)"},
    {"collect_cpu_time", SONDE_OPT_BOOL, offsetof(struct cpu_config, collect_cpu_time), "false",
     false, "line protocol: also emit time_* fields (seconds) as Telegraf does"},
    {"report_active", SONDE_OPT_BOOL, offsetof(struct cpu_config, report_active), "false", false,
     "line protocol: also emit usage_active (and time_active)"},
    {NULL},
};

/* What we remember about one CPU between reads. */
struct cpu_history {
    bool present;          /* seen in the previous read: `last` and `prom` are valid */
    uint64_t seen;         /* generation of the read that last saw this CPU */
    struct cpu_times last; /* raw values of the previous read, for usage deltas */
    struct cpu_times prom; /* values reported to Prometheus, never decreasing */
};

struct cpu_state {
    struct cpu_config config;
    long ticks_per_second; /* sysconf(_SC_CLK_TCK), USER_HZ */
    struct sonde_file stat;
    struct cpu_sample sample; /* parse buffer, reused */
    struct cpu_history *cpus; /* indexed by CPU id; owned */
    size_t cpus_cap;          /* entries in `cpus` */
    struct cpu_history total; /* the aggregate line (line protocol only) */
    uint64_t generation;      /* read counter, for `seen` */
    struct sonde_ratelimit malformed_log;
};

static const struct sonde_family cpu_seconds_family = {"node_cpu_seconds_total", SONDE_COUNTER,
                                                       "Seconds the CPUs spent in each mode."};
static const struct sonde_family cpu_guest_family = {
    "node_cpu_guest_seconds_total", SONDE_COUNTER,
    "Seconds the CPUs spent in guests (VMs) for each mode."};

/* node_exporter's mode label for the first eight columns. */
static const char *const cpu_modes[CPU_GUEST] = {"user",   "nice", "system",  "idle",
                                                 "iowait", "irq",  "softirq", "steal"};

/* ------------------------------------------------------------------ */
/* Parsing                                                              */
/* ------------------------------------------------------------------ */

/* Parses one unsigned decimal number at *p (after blanks), stopping before
 * `end`; advances *p. Returns 0, -ENODATA at the end of the line, or -EINVAL
 * when the token is not a number. */
static int cpu_parse_u64(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    if (s == end)
        return -ENODATA;
    if (*s < '0' || *s > '9')
        return -EINVAL; /* strtoull would accept "-1" and " +1" */
    char *stop;
    errno = 0;
    unsigned long long v = strtoull(s, &stop, 10);
    if (errno == ERANGE || (stop < end && *stop != ' ' && *stop != '\t'))
        return -EINVAL;
    *out = v;
    *p = stop;
    return 0;
}

/*
 * Parses one line of /proc/stat (without its newline). Returns 1 for the
 * aggregate "cpu" line, 0 for a "cpuN" line (id in *id), -ENOENT for a line
 * that is not about CPUs, -EINVAL for a malformed cpu line.
 */
static int cpu_parse_line(const char *line, const char *end, unsigned *id, struct cpu_times *times)
{
    if (end - line < 3 || memcmp(line, "cpu", 3) != 0)
        return -ENOENT;
    const char *p = line + 3;
    int aggregate = 1;
    if (p < end && *p >= '0' && *p <= '9') {
        uint64_t n;
        if (cpu_parse_u64(&p, end, &n) < 0 || n >= CPU_MAX_ID)
            return -EINVAL;
        *id = (unsigned)n;
        aggregate = 0;
    } else if (p < end && *p != ' ' && *p != '\t') {
        return -EINVAL; /* "cpuX ..." */
    }
    memset(times, 0, sizeof(*times));
    size_t n = 0;
    for (; n < CPU_NCOLUMNS; n++) {
        int rc = cpu_parse_u64(&p, end, &times->ticks[n]);
        if (rc == -ENODATA)
            break;
        if (rc < 0)
            return -EINVAL;
    }
    /* Columns beyond guest_nice (a future kernel) are ignored, not errors. */
    return n < CPU_MIN_COLUMNS ? -EINVAL : aggregate;
}

/* Empties `sample` for a new parse, keeping its buffer. */
static void cpu_sample_reset(struct cpu_sample *sample)
{
    sample->has_total = false;
    sample->ncpus = 0;
    sample->malformed = 0;
}

static void cpu_sample_free(struct cpu_sample *sample)
{
    free(sample->cpus);
    memset(sample, 0, sizeof(*sample));
}

/* Fills `sample` from the text of /proc/stat (NUL-terminated). Lines that
 * are not cpu lines are ignored; malformed cpu lines are counted. */
static void cpu_parse_stat(const char *buf, struct cpu_sample *sample)
{
    cpu_sample_reset(sample);
    const char *line = buf;
    while (*line) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        unsigned id = 0;
        struct cpu_times times;
        int rc = cpu_parse_line(line, end, &id, &times);
        if (rc == 1) {
            sample->has_total = true;
            sample->total = times;
        } else if (rc == 0) {
            if (sample->ncpus == sample->cap) {
                sample->cap = sample->cap ? sample->cap * 2 : 16;
                sample->cpus = sonde_xrealloc(sample->cpus, sample->cap * sizeof(*sample->cpus));
            }
            sample->cpus[sample->ncpus].id = id;
            sample->cpus[sample->ncpus].times = times;
            sample->ncpus++;
        } else if (rc == -EINVAL) {
            sample->malformed++;
        }
        line = nl ? nl + 1 : end;
    }
}

/* ------------------------------------------------------------------ */
/* Prometheus: node_exporter's monotonic view                          */
/* ------------------------------------------------------------------ */

/*
 * Folds a new raw reading into the values reported to Prometheus. Linux
 * lets iowait and idle go backwards a little (they are estimated per CPU);
 * like node_exporter we keep the larger previous value so rate() never sees
 * a bogus reset, but a big idle drop means the CPU was replugged and its
 * counters restarted: then we start over from the new values.
 */
static void cpu_prom_update(struct cpu_times *prom, const struct cpu_times *now,
                            uint64_t jump_back_ticks)
{
    if (prom->ticks[CPU_IDLE] >= now->ticks[CPU_IDLE] + jump_back_ticks) {
        *prom = *now;
        return;
    }
    for (size_t i = 0; i < CPU_NCOLUMNS; i++)
        if (now->ticks[i] > prom->ticks[i])
            prom->ticks[i] = now->ticks[i];
}

static void cpu_emit_prom(struct sonde_batch *batch, unsigned id, const struct cpu_times *prom,
                          double ticks_per_second)
{
    char cpu[16];
    snprintf(cpu, sizeof(cpu), "%u", id);
    for (size_t i = 0; i < CPU_GUEST; i++)
        sonde_emit(batch, &cpu_seconds_family, (double)prom->ticks[i] / ticks_per_second, "cpu",
                   cpu, "mode", cpu_modes[i], NULL);
    /* Guest time is also inside user and nice; node_exporter shows it apart. */
    sonde_emit(batch, &cpu_guest_family, (double)prom->ticks[CPU_GUEST] / ticks_per_second, "cpu",
               cpu, "mode", "user", NULL);
    sonde_emit(batch, &cpu_guest_family, (double)prom->ticks[CPU_GUEST_NICE] / ticks_per_second,
               "cpu", cpu, "mode", "nice", NULL);
}

/* ------------------------------------------------------------------ */
/* Line protocol: Telegraf's inputs.cpu                                 */
/* ------------------------------------------------------------------ */

/* Telegraf's total: guest is already inside user and nice, so it is left out. */
static uint64_t cpu_total_ticks(const uint64_t *d)
{
    return d[CPU_USER] + d[CPU_SYSTEM] + d[CPU_NICE] + d[CPU_IOWAIT] + d[CPU_IRQ] + d[CPU_SOFTIRQ] +
           d[CPU_STEAL] + d[CPU_IDLE];
}

/* Telegraf's time_* fields: raw seconds, in a point of their own (its
 * AddCounter), emitted on every read. */
static void cpu_emit_times(struct sonde_batch *batch, const char *tag, const struct cpu_times *now,
                           double ticks_per_second, bool report_active)
{
    static const char *const keys[CPU_NCOLUMNS] = {
        "time_user", "time_nice",    "time_system", "time_idle",  "time_iowait",
        "time_irq",  "time_softirq", "time_steal",  "time_guest", "time_guest_nice"};
    struct sonde_point *p = sonde_point(batch, "cpu");
    sonde_point_tag(batch, p, "cpu", tag);
    for (size_t i = 0; i < CPU_NCOLUMNS; i++)
        sonde_point_float(batch, p, keys[i], (double)now->ticks[i] / ticks_per_second);
    if (report_active) {
        uint64_t active = cpu_total_ticks(now->ticks) - now->ticks[CPU_IDLE];
        sonde_point_float(batch, p, "time_active", (double)active / ticks_per_second);
    }
}

/*
 * Telegraf's usage_* percentages between two raw readings. A column that
 * went backwards counts as 0 rather than a negative percentage, and the
 * total is the sum of those clamped deltas so the fields still add up to
 * 100. No point when no time passed (two reads within one tick): there is
 * nothing to divide by.
 */
static void cpu_emit_usage(struct sonde_batch *batch, const char *tag, const struct cpu_times *prev,
                           const struct cpu_times *now, bool report_active)
{
    uint64_t d[CPU_NCOLUMNS];
    for (size_t i = 0; i < CPU_NCOLUMNS; i++)
        d[i] = now->ticks[i] > prev->ticks[i] ? now->ticks[i] - prev->ticks[i] : 0;
    uint64_t total = cpu_total_ticks(d);
    if (total == 0)
        return;
    /* user and nice include guest and guest_nice; Telegraf takes them out. */
    uint64_t user = d[CPU_USER] > d[CPU_GUEST] ? d[CPU_USER] - d[CPU_GUEST] : 0;
    uint64_t nice = d[CPU_NICE] > d[CPU_GUEST_NICE] ? d[CPU_NICE] - d[CPU_GUEST_NICE] : 0;
    double t = (double)total;

    struct sonde_point *p = sonde_point(batch, "cpu");
    sonde_point_tag(batch, p, "cpu", tag);
    sonde_point_float(batch, p, "usage_user", 100.0 * (double)user / t);
    sonde_point_float(batch, p, "usage_system", 100.0 * (double)d[CPU_SYSTEM] / t);
    sonde_point_float(batch, p, "usage_idle", 100.0 * (double)d[CPU_IDLE] / t);
    sonde_point_float(batch, p, "usage_nice", 100.0 * (double)nice / t);
    sonde_point_float(batch, p, "usage_iowait", 100.0 * (double)d[CPU_IOWAIT] / t);
    sonde_point_float(batch, p, "usage_irq", 100.0 * (double)d[CPU_IRQ] / t);
    sonde_point_float(batch, p, "usage_softirq", 100.0 * (double)d[CPU_SOFTIRQ] / t);
    sonde_point_float(batch, p, "usage_steal", 100.0 * (double)d[CPU_STEAL] / t);
    sonde_point_float(batch, p, "usage_guest", 100.0 * (double)d[CPU_GUEST] / t);
    sonde_point_float(batch, p, "usage_guest_nice", 100.0 * (double)d[CPU_GUEST_NICE] / t);
    if (report_active)
        sonde_point_float(batch, p, "usage_active", 100.0 * (double)(total - d[CPU_IDLE]) / t);
}

/* Line protocol for one CPU (or the total): times on every read, usage
 * only when the previous read saw this CPU too. */
static void cpu_emit_lp(struct cpu_state *state, struct sonde_batch *batch, const char *tag,
                        const struct cpu_history *h, const struct cpu_times *now)
{
    if (state->config.collect_cpu_time)
        cpu_emit_times(batch, tag, now, (double)state->ticks_per_second,
                       state->config.report_active);
    if (h->present)
        cpu_emit_usage(batch, tag, &h->last, now, state->config.report_active);
}

/* Returns the history slot of CPU `id`, growing the array (zeroed). */
static struct cpu_history *cpu_history_at(struct cpu_state *state, unsigned id)
{
    if (id >= state->cpus_cap) {
        size_t cap = state->cpus_cap ? state->cpus_cap : 8;
        while (cap <= id)
            cap *= 2;
        state->cpus = sonde_xrealloc(state->cpus, cap * sizeof(*state->cpus));
        memset(state->cpus + state->cpus_cap, 0, (cap - state->cpus_cap) * sizeof(*state->cpus));
        state->cpus_cap = cap;
    }
    return &state->cpus[id];
}

/* Emits everything for one parsed sample and moves the history forward. */
static void cpu_process(struct cpu_state *state, const struct cpu_sample *sample,
                        struct sonde_batch *batch)
{
    uint64_t generation = ++state->generation;
    uint64_t jump_back = (uint64_t)CPU_JUMP_BACK_SECONDS * (uint64_t)state->ticks_per_second;
    uint64_t skipped = sample->malformed;

    for (size_t i = 0; i < sample->ncpus; i++) {
        const struct cpu_line *line = &sample->cpus[i];
        struct cpu_history *h = cpu_history_at(state, line->id);
        if (h->seen == generation) {
            skipped++; /* the same cpuN twice: keep the first */
            continue;
        }
        h->seen = generation;
        if (h->present)
            cpu_prom_update(&h->prom, &line->times, jump_back);
        else
            h->prom = line->times;
        cpu_emit_prom(batch, line->id, &h->prom, (double)state->ticks_per_second);
        if (state->config.percpu) {
            char tag[24];
            snprintf(tag, sizeof(tag), "cpu%u", line->id);
            cpu_emit_lp(state, batch, tag, h, &line->times);
        }
        h->last = line->times;
        h->present = true;
    }
    /* A CPU whose line disappeared went offline: forget it, so that when it
     * comes back its first read is a fresh start, not a delta across the gap. */
    for (size_t id = 0; id < state->cpus_cap; id++)
        if (state->cpus[id].present && state->cpus[id].seen != generation)
            memset(&state->cpus[id], 0, sizeof(state->cpus[id]));

    if (sample->has_total) {
        if (state->config.totalcpu)
            cpu_emit_lp(state, batch, "cpu-total", &state->total, &sample->total);
        state->total.last = sample->total;
        state->total.present = true;
    } else {
        state->total.present = false;
    }

    if (skipped) {
        batch->skipped += skipped;
        sonde_log_limited(&state->malformed_log, 300, SONDE_LOG_WARN,
                          "cpu: %s: skipped %llu malformed cpu line(s)", state->stat.path,
                          (unsigned long long)skipped);
    }
}

/* ------------------------------------------------------------------ */
/* Plugin callbacks                                                     */
/* ------------------------------------------------------------------ */

static int cpu_init(void **out, const void *config, const struct sonde_context *ctx)
{
    struct cpu_state *state = sonde_xcalloc(1, sizeof(*state));
    state->config = *(const struct cpu_config *)config;
    long hz = sysconf(_SC_CLK_TCK);
    state->ticks_per_second = hz > 0 ? hz : 100; /* USER_HZ is 100 on every Linux ABI */
    char path[4096];
    snprintf(path, sizeof(path), "%s/stat", ctx->procfs);
    sonde_file_init(&state->stat, path);
    *out = state;
    return 0;
}

static int cpu_read(void *arg, struct sonde_batch *batch)
{
    struct cpu_state *state = arg;
    int rc = sonde_file_read_shared(&state->stat); /* kernel reads it too */
    if (rc < 0)
        return rc;
    cpu_parse_stat(state->stat.buf, &state->sample);
    cpu_process(state, &state->sample, batch);
    return 0;
}

static void cpu_destroy(void *arg)
{
    struct cpu_state *state = arg;
    if (!state)
        return;
    sonde_file_close(&state->stat);
    cpu_sample_free(&state->sample);
    free(state->cpus);
    free(state);
}

const struct sonde_plugin sonde_plugin_cpu = {
    .name = "cpu",                                   /* configuration key */
    .kind = SONDE_INPUT,                             /* reads the host */
    .summary = "CPU time per mode, from /proc/stat", /* for --help and docs */
    .config_size = sizeof(struct cpu_config),        /* filled from cpu_options */
    .options = cpu_options,                          /* percpu, totalcpu, collect_cpu_time, ... */
    .init = cpu_init,                                /* opens nothing yet; first read opens */
    .read = cpu_read,                                /* one /proc/stat read per cycle */
    .write = NULL,                                   /* inputs do not write */
    .destroy = cpu_destroy,                          /* closes the file, frees the history */
};
