/*
 * kernel.c - the non-cpu lines of /proc/stat (boot time, context switches,
 * forks, interrupts, runnable and blocked processes): node_exporter's stat
 * collector and Telegraf's inputs.kernel (which adds entropy_avail).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sonde.h"

/* Which values a /proc/stat read had: a line can be missing (page and swap
 * left in 2.6) or malformed, and then its metric is simply not emitted. */
enum kernel_have {
    KERNEL_HAVE_BTIME = 1 << 0,
    KERNEL_HAVE_CTXT = 1 << 1,
    KERNEL_HAVE_PROCESSES = 1 << 2,
    KERNEL_HAVE_INTR = 1 << 3,
    KERNEL_HAVE_RUNNING = 1 << 4,
    KERNEL_HAVE_BLOCKED = 1 << 5,
    KERNEL_HAVE_PAGE = 1 << 6,
};

struct kernel_stat {
    unsigned have;     /* enum kernel_have bits */
    int64_t btime;     /* boot time, seconds since the epoch */
    int64_t ctxt;      /* context switches since boot */
    int64_t processes; /* forks since boot */
    int64_t intr;      /* interrupts since boot: first number of "intr" */
    int64_t running;   /* procs_running */
    int64_t blocked;   /* procs_blocked */
    int64_t page_in;   /* "page" line (kernels before 2.6) */
    int64_t page_out;
    uint64_t malformed; /* lines we know but could not read */
};

/* No options: everything this input emits is always on, as in Telegraf and
 * node_exporter. The member only keeps the struct non-empty (ISO C). */
struct kernel_config {
    char unused;
};

static const struct sonde_option kernel_options[] = {
    {NULL},
};

struct kernel_state {
    struct sonde_file stat;    /* <procfs>/stat */
    struct sonde_file entropy; /* <procfs>/sys/kernel/random/entropy_avail */
    struct sonde_ratelimit malformed_log;
};

static const struct sonde_family kernel_boot_time_family = {"node_boot_time_seconds", SONDE_GAUGE,
                                                            "Node boot time, in unixtime."};
static const struct sonde_family kernel_ctxt_family = {"node_context_switches_total", SONDE_COUNTER,
                                                       "Total number of context switches."};
static const struct sonde_family kernel_forks_family = {"node_forks_total", SONDE_COUNTER,
                                                        "Total number of forks."};
static const struct sonde_family kernel_intr_family = {"node_intr_total", SONDE_COUNTER,
                                                       "Total number of interrupts serviced."};
static const struct sonde_family kernel_running_family = {"node_procs_running", SONDE_GAUGE,
                                                          "Number of processes in runnable state."};
static const struct sonde_family kernel_blocked_family = {
    "node_procs_blocked", SONDE_GAUGE, "Number of processes blocked waiting for I/O to complete."};

/* ------------------------------------------------------------------ */
/* Parsing                                                              */
/* ------------------------------------------------------------------ */

/* Parses one decimal number at *p (after blanks) that fits an int64 (the
 * type Telegraf writes), stopping before `end`; advances *p. 0 or -EINVAL. */
static int kernel_parse_i64(const char **p, const char *end, int64_t *out)
{
    const char *s = *p;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    if (s == end || *s < '0' || *s > '9')
        return -EINVAL;
    char *stop;
    errno = 0;
    unsigned long long v = strtoull(s, &stop, 10);
    if (errno == ERANGE || v > INT64_MAX || (stop < end && *stop != ' ' && *stop != '\t'))
        return -EINVAL;
    *out = (int64_t)v;
    *p = stop;
    return 0;
}

/* The /proc/stat keys we read: key, bit, where the first number goes and,
 * for "page", where the second goes. */
struct kernel_key {
    const char *key;
    unsigned bit;
    size_t first, second; /* offsetof(struct kernel_stat, ...); second 0: none */
};

static const struct kernel_key kernel_keys[] = {
    {"btime", KERNEL_HAVE_BTIME, offsetof(struct kernel_stat, btime), 0},
    {"ctxt", KERNEL_HAVE_CTXT, offsetof(struct kernel_stat, ctxt), 0},
    {"processes", KERNEL_HAVE_PROCESSES, offsetof(struct kernel_stat, processes), 0},
    {"intr", KERNEL_HAVE_INTR, offsetof(struct kernel_stat, intr), 0},
    {"procs_running", KERNEL_HAVE_RUNNING, offsetof(struct kernel_stat, running), 0},
    {"procs_blocked", KERNEL_HAVE_BLOCKED, offsetof(struct kernel_stat, blocked), 0},
    {"page", KERNEL_HAVE_PAGE, offsetof(struct kernel_stat, page_in),
     offsetof(struct kernel_stat, page_out)},
};

/* Reads the numbers of one known line into `st`; -EINVAL leaves `st` as is. */
static int kernel_parse_values(const struct kernel_key *k, const char *p, const char *end,
                               struct kernel_stat *st)
{
    int64_t first, second = 0;
    if (kernel_parse_i64(&p, end, &first) < 0)
        return -EINVAL;
    if (k->second && kernel_parse_i64(&p, end, &second) < 0)
        return -EINVAL;
    memcpy((char *)st + k->first, &first, sizeof(first));
    if (k->second)
        memcpy((char *)st + k->second, &second, sizeof(second));
    st->have |= k->bit;
    return 0;
}

/* Fills `st` from the text of /proc/stat (NUL-terminated). Unknown lines
 * (cpu, softirq, swap, ...) are ignored; known lines that do not parse are
 * counted in st->malformed. Only the first number of "intr" matters. */
static void kernel_parse_stat(const char *buf, struct kernel_stat *st)
{
    memset(st, 0, sizeof(*st));
    const char *line = buf;
    while (*line) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        size_t keylen = strcspn(line, " \t\n");
        for (size_t i = 0; i < sizeof(kernel_keys) / sizeof(kernel_keys[0]); i++) {
            const struct kernel_key *k = &kernel_keys[i];
            if (strlen(k->key) != keylen || memcmp(line, k->key, keylen) != 0)
                continue;
            if (kernel_parse_values(k, line + keylen, end, st) < 0)
                st->malformed++;
            break;
        }
        line = nl ? nl + 1 : end;
    }
}

/* Parses the content of entropy_avail ("256\n"). 0 or -EINVAL. */
static int kernel_parse_entropy(const char *buf, int64_t *out)
{
    const char *p = buf;
    const char *end = buf + strcspn(buf, "\n");
    if (kernel_parse_i64(&p, end, out) < 0)
        return -EINVAL;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p == end ? 0 : -EINVAL;
}

/* ------------------------------------------------------------------ */
/* Emitting                                                             */
/* ------------------------------------------------------------------ */

static void kernel_emit_prom(struct sonde_batch *batch, const struct kernel_stat *st)
{
    if (st->have & KERNEL_HAVE_BTIME)
        sonde_emit(batch, &kernel_boot_time_family, (double)st->btime, NULL);
    if (st->have & KERNEL_HAVE_CTXT)
        sonde_emit(batch, &kernel_ctxt_family, (double)st->ctxt, NULL);
    if (st->have & KERNEL_HAVE_PROCESSES)
        sonde_emit(batch, &kernel_forks_family, (double)st->processes, NULL);
    if (st->have & KERNEL_HAVE_INTR)
        sonde_emit(batch, &kernel_intr_family, (double)st->intr, NULL);
    if (st->have & KERNEL_HAVE_RUNNING)
        sonde_emit(batch, &kernel_running_family, (double)st->running, NULL);
    if (st->have & KERNEL_HAVE_BLOCKED)
        sonde_emit(batch, &kernel_blocked_family, (double)st->blocked, NULL);
}

/* Telegraf's kernel point: int fields; entropy_avail only when `entropy`
 * is not NULL. No point at all when there is no field to put in it. */
static void kernel_emit_lp(struct sonde_batch *batch, const struct kernel_stat *st,
                           const int64_t *entropy)
{
    const unsigned lp_bits = KERNEL_HAVE_BTIME | KERNEL_HAVE_CTXT | KERNEL_HAVE_PROCESSES |
                             KERNEL_HAVE_INTR | KERNEL_HAVE_PAGE;
    if (!(st->have & lp_bits) && !entropy)
        return;
    struct sonde_point *p = sonde_point(batch, "kernel");
    if (st->have & KERNEL_HAVE_BTIME)
        sonde_point_int(batch, p, "boot_time", st->btime);
    if (st->have & KERNEL_HAVE_CTXT)
        sonde_point_int(batch, p, "context_switches", st->ctxt);
    if (st->have & KERNEL_HAVE_INTR)
        sonde_point_int(batch, p, "interrupts", st->intr);
    if (st->have & KERNEL_HAVE_PROCESSES)
        sonde_point_int(batch, p, "processes_forked", st->processes);
    if (entropy)
        sonde_point_int(batch, p, "entropy_avail", *entropy);
    if (st->have & KERNEL_HAVE_PAGE) {
        sonde_point_int(batch, p, "disk_pages_in", st->page_in);
        sonde_point_int(batch, p, "disk_pages_out", st->page_out);
    }
}

/* ------------------------------------------------------------------ */
/* Plugin callbacks                                                     */
/* ------------------------------------------------------------------ */

static int kernel_init(void **out, const void *config, const struct sonde_context *ctx)
{
    (void)config;
    struct kernel_state *state = sonde_xcalloc(1, sizeof(*state));
    char path[4096];
    snprintf(path, sizeof(path), "%s/stat", ctx->procfs);
    sonde_file_init(&state->stat, path);
    snprintf(path, sizeof(path), "%s/sys/kernel/random/entropy_avail", ctx->procfs);
    sonde_file_init(&state->entropy, path);
    *out = state;
    return 0;
}

static int kernel_read(void *arg, struct sonde_batch *batch)
{
    struct kernel_state *state = arg;
    int rc = sonde_file_read_shared(&state->stat); /* cpu reads it too */
    if (rc < 0)
        return rc;
    struct kernel_stat st;
    kernel_parse_stat(state->stat.buf, &st);
    uint64_t skipped = st.malformed;

    /* A missing or odd entropy_avail costs one field, not the point; it is
     * read only for line protocol. */
    int64_t entropy = 0;
    bool have_entropy = false;
    if (batch->want_points) {
        have_entropy = sonde_file_read(&state->entropy) == 0 &&
                       kernel_parse_entropy(state->entropy.buf, &entropy) == 0;
        if (!have_entropy)
            skipped++;
    }

    kernel_emit_prom(batch, &st);
    kernel_emit_lp(batch, &st, have_entropy ? &entropy : NULL);
    if (skipped) {
        batch->skipped += skipped;
        sonde_log_limited(&state->malformed_log, 300, SONDE_LOG_WARN,
                          "kernel: skipped %llu unreadable value(s) in %s or %s",
                          (unsigned long long)skipped, state->stat.path, state->entropy.path);
    }
    return 0;
}

static void kernel_destroy(void *arg)
{
    struct kernel_state *state = arg;
    if (!state)
        return;
    sonde_file_close(&state->stat);
    sonde_file_close(&state->entropy);
    free(state);
}

const struct sonde_plugin sonde_plugin_kernel = {
    .name = "kernel",                                            /* configuration key */
    .kind = SONDE_INPUT,                                         /* reads the host */
    .summary = "Boot time, context switches, forks, interrupts", /* for --help */
    .config_size = sizeof(struct kernel_config),                 /* no options */
    .options = kernel_options,                                   /* empty table */
    .init = kernel_init,       /* opens nothing yet; first read opens */
    .read = kernel_read,       /* /proc/stat and entropy_avail */
    .write = NULL,             /* inputs do not write */
    .destroy = kernel_destroy, /* closes both files */
};
