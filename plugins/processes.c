/*
 * processes.c - the `processes` input: process and thread counts by state
 * from every /proc/<pid>/stat (and, for Prometheus, /proc/<pid>/task/<tid>/
 * stat) as node_exporter 1.5's processes collector (node_processes_*), and
 * as Telegraf's inputs.processes on Linux (measurement processes: running,
 * sleeping, blocked, zombies, stopped, dead, paging, idle, unknown, total,
 * total_threads, and parked when a task is parked).
 *
 * Processes come and go while we read: a pid or thread whose files vanish
 * between the directory listing and the read (ENOENT, ESRCH) is passed
 * over, as node_exporter and Telegraf do; it is not an error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sonde.h"

struct processes_config {
    char unused; /* no options; keeps the struct non-empty (ISO C) */
};

static const struct sonde_option processes_options[] = {
    {NULL},
};

static const struct sonde_family processes_threads_family = {"node_processes_threads", SONDE_GAUGE,
                                                             "Allocated threads in system"};
static const struct sonde_family processes_max_threads_family = {
    "node_processes_max_threads", SONDE_GAUGE, "Limit of threads in the system"};
static const struct sonde_family processes_state_family = {"node_processes_state", SONDE_GAUGE,
                                                           "Number of processes in each state."};
static const struct sonde_family processes_threads_state_family = {
    "node_processes_threads_state", SONDE_GAUGE, "Number of threads in each state."};
static const struct sonde_family processes_pids_family = {"node_processes_pids", SONDE_GAUGE,
                                                          "Number of PIDs"};
static const struct sonde_family processes_max_processes_family = {
    "node_processes_max_processes", SONDE_GAUGE, "Number of max PIDs limit"};

/* What one /proc/.../stat says that we use. */
struct processes_stat {
    char state;           /* R, S, D, Z, T, t, X, I, P ... */
    uint64_t num_threads; /* field 20 */
};

/* Everything one read counts. States are single letters: index by byte. */
struct processes_counts {
    uint64_t pids;               /* processes whose stat was read */
    uint64_t threads;            /* sum of their num_threads */
    uint64_t proc_states[256];   /* processes per state */
    uint64_t thread_states[256]; /* threads per state (from the task lists) */
    uint64_t malformed;          /* stat files that could not be parsed */
};

struct processes_state {
    char *procfs;                   /* copy of ctx->procfs; owned */
    struct sonde_file threads_max;  /* <procfs>/sys/kernel/threads-max */
    struct sonde_file pid_max;      /* <procfs>/sys/kernel/pid_max */
    struct processes_counts counts; /* reused each read (large) */
    struct sonde_ratelimit log;
};

/* Stat files are one line of at most a few hundred bytes (the command name
 * is 16 bytes at most); a longer one is malformed. */
#define PROCESSES_STAT_MAX 4096

/*
 * Parses the text of a stat file. The command name is in parentheses and
 * may itself hold spaces and ')': the fields start after the LAST ')'.
 * Returns 0 or -EINVAL.
 */
static int processes_parse_stat(const char *buf, size_t len, struct processes_stat *out)
{
    const char *close = NULL;
    for (size_t i = 0; i < len; i++)
        if (buf[i] == ')')
            close = buf + i;
    if (!close)
        return -EINVAL;
    const char *p = close + 1, *end = buf + len;
    /* Field 3 (state) is the first word after ") "; num_threads is the
     * 18th word from there. */
    for (int field = 3; field <= 20; field++) {
        if (p >= end || *p != ' ')
            return -EINVAL;
        while (p < end && *p == ' ')
            p++;
        const char *word = p;
        while (p < end && *p != ' ' && *p != '\n')
            p++;
        size_t wlen = (size_t)(p - word);
        if (wlen == 0)
            return -EINVAL;
        if (field == 3) {
            if (wlen != 1)
                return -EINVAL;
            out->state = word[0];
        } else if (field == 20) {
            uint64_t v = 0;
            for (size_t i = 0; i < wlen; i++) {
                if (word[i] < '0' || word[i] > '9' || v > (UINT64_MAX - 9) / 10)
                    return -EINVAL;
                v = v * 10 + (uint64_t)(word[i] - '0');
            }
            out->num_threads = v;
        }
    }
    return 0;
}

/* Whether a directory entry is a pid (or tid): digits only. */
static bool processes_is_pid(const char *name)
{
    if (!*name)
        return false;
    for (const char *p = name; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

/* Reads and parses `path` relative to `dirfd`. 0, -ENOENT when the task
 * is gone (ENOENT, ESRCH), -EINVAL when malformed, or -errno. */
static int processes_read_stat(int dirfd, const char *path, struct processes_stat *out)
{
    char buf[PROCESSES_STAT_MAX];
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ESRCH ? -ENOENT : -errno;
    ssize_t n;
    do {
        n = read(fd, buf, sizeof(buf));
    } while (n < 0 && errno == EINTR);
    int err = n < 0 ? errno : 0;
    close(fd);
    if (n < 0)
        return err == ESRCH ? -ENOENT : -err;
    if (n == 0)
        return -ENOENT; /* an exited task can read as empty */
    if ((size_t)n == sizeof(buf))
        return -EINVAL;
    return processes_parse_stat(buf, (size_t)n, out);
}

/*
 * node_exporter's thread states of one process: every entry of its task
 * directory; the main thread counts with the process's state, the others
 * with their own. A task directory or thread that vanished is passed over.
 */
static void processes_count_threads(int procfd, const char *pid, char pid_state,
                                    struct processes_counts *c)
{
    char path[sizeof(((struct dirent *)0)->d_name) + 8];
    snprintf(path, sizeof(path), "%s/task", pid);
    int fd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    for (struct dirent *e; (e = readdir(d));) {
        if (!processes_is_pid(e->d_name))
            continue;
        if (strcmp(e->d_name, pid) == 0) {
            c->thread_states[(unsigned char)pid_state]++;
            continue;
        }
        char tpath[2 * sizeof(e->d_name) + 16];
        snprintf(tpath, sizeof(tpath), "%s/task/%s/stat", pid, e->d_name);
        struct processes_stat st;
        int rc = processes_read_stat(procfd, tpath, &st);
        if (rc == 0)
            c->thread_states[(unsigned char)st.state]++;
        else if (rc != -ENOENT)
            c->malformed++;
    }
    closedir(d);
}

/* Walks <procfs>: every pid's stat, and its tasks when `threads`. Returns
 * 0 or -errno when <procfs> cannot be listed. */
static int processes_scan(const char *procfs, bool threads, struct processes_counts *c)
{
    memset(c, 0, sizeof(*c));
    DIR *d = opendir(procfs);
    if (!d)
        return -errno;
    int procfd = dirfd(d);
    for (struct dirent *e; (e = readdir(d));) {
        if (!processes_is_pid(e->d_name) || strlen(e->d_name) > 20)
            continue;
        char path[sizeof(e->d_name) + 8];
        snprintf(path, sizeof(path), "%s/stat", e->d_name);
        struct processes_stat st;
        int rc = processes_read_stat(procfd, path, &st);
        if (rc == -ENOENT)
            continue; /* exited since the listing */
        if (rc < 0) {
            c->malformed++;
            continue;
        }
        c->pids++;
        c->proc_states[(unsigned char)st.state]++;
        c->threads += st.num_threads;
        if (threads)
            processes_count_threads(procfd, e->d_name, st.state, c);
    }
    closedir(d);
    return 0;
}

/* A limit file (threads-max, pid_max): one unsigned number. */
static int processes_read_limit(struct sonde_file *file, uint64_t *out)
{
    int rc = sonde_file_read(file);
    if (rc < 0)
        return rc;
    const char *p = file->buf;
    if (*p < '0' || *p > '9')
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p, &end, 10);
    if (errno == ERANGE || (*end && *end != '\n'))
        return -EINVAL;
    *out = v;
    return 0;
}

/* node_exporter's series; returns the first error reading a limit (as
 * node_exporter fails then), after emitting everything else. */
static int processes_emit_prom(struct processes_state *st, const struct processes_counts *c,
                               struct sonde_batch *batch)
{
    int rc = 0;
    uint64_t limit;
    sonde_emit(batch, &processes_threads_family, (double)c->threads, NULL);
    int lrc = processes_read_limit(&st->threads_max, &limit);
    if (lrc == 0)
        sonde_emit(batch, &processes_max_threads_family, (double)limit, NULL);
    else
        rc = lrc;
    for (int s = 0; s < 256; s++) {
        char state[2] = {(char)s, '\0'};
        if (c->proc_states[s])
            sonde_emit(batch, &processes_state_family, (double)c->proc_states[s], "state", state,
                       NULL);
    }
    for (int s = 0; s < 256; s++) {
        char state[2] = {(char)s, '\0'};
        if (c->thread_states[s])
            sonde_emit(batch, &processes_threads_state_family, (double)c->thread_states[s],
                       "thread_state", state, NULL);
    }
    sonde_emit(batch, &processes_pids_family, (double)c->pids, NULL);
    lrc = processes_read_limit(&st->pid_max, &limit);
    if (lrc == 0)
        sonde_emit(batch, &processes_max_processes_family, (double)limit, NULL);
    else if (rc == 0)
        rc = lrc;
    return rc;
}

/* Telegraf's fields from the process states: its letters and names. */
static const struct {
    const char *field;
    const char *states;
} processes_lp_fields[] = {
    {"running", "R"},  {"sleeping", "S"}, {"blocked", "D"}, {"zombies", "Z"},
    {"stopped", "Tt"}, {"dead", "X"},     {"paging", "W"},  {"idle", "I"},
};

static int64_t processes_int(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

static void processes_emit_lp(const struct processes_counts *c, struct sonde_batch *batch)
{
    struct sonde_point *p = sonde_point(batch, "processes");
    for (size_t i = 0; i < sizeof(processes_lp_fields) / sizeof(processes_lp_fields[0]); i++) {
        uint64_t n = 0;
        for (const char *s = processes_lp_fields[i].states; *s; s++)
            n += c->proc_states[(unsigned char)*s];
        sonde_point_int(batch, p, processes_lp_fields[i].field, processes_int(n));
    }
    /* Telegraf's /proc reader never counts "unknown" (other letters only
     * add to total), and adds "parked" only when a task is parked. */
    sonde_point_int(batch, p, "unknown", 0);
    if (c->proc_states['P'])
        sonde_point_int(batch, p, "parked", processes_int(c->proc_states['P']));
    sonde_point_int(batch, p, "total", processes_int(c->pids));
    sonde_point_int(batch, p, "total_threads", processes_int(c->threads));
}

static int processes_init(void **state, const void *config, const struct sonde_context *ctx)
{
    (void)config;
    char tmax[4096], pmax[4096];
    if (snprintf(tmax, sizeof(tmax), "%s/sys/kernel/threads-max", ctx->procfs) >=
            (int)sizeof(tmax) ||
        snprintf(pmax, sizeof(pmax), "%s/sys/kernel/pid_max", ctx->procfs) >= (int)sizeof(pmax))
        return -ENAMETOOLONG;
    struct processes_state *st = sonde_xcalloc(1, sizeof(*st));
    st->procfs = sonde_xstrdup(ctx->procfs);
    sonde_file_init(&st->threads_max, tmax);
    sonde_file_init(&st->pid_max, pmax);
    *state = st;
    return 0;
}

static int processes_read(void *state, struct sonde_batch *batch)
{
    struct processes_state *st = state;
    if (!batch->want_series && !batch->want_points)
        return 0;
    /* The task walk (a file per thread) only serves Prometheus. */
    int rc = processes_scan(st->procfs, batch->want_series, &st->counts);
    if (rc < 0)
        return rc;
    if (st->counts.malformed) {
        batch->skipped += st->counts.malformed;
        sonde_log_limited(&st->log, 300, SONDE_LOG_WARN,
                          "processes: skipped %llu unreadable or malformed stat file(s)",
                          (unsigned long long)st->counts.malformed);
    }
    if (batch->want_points)
        processes_emit_lp(&st->counts, batch);
    if (batch->want_series)
        rc = processes_emit_prom(st, &st->counts, batch);
    return rc;
}

static void processes_destroy(void *state)
{
    struct processes_state *st = state;
    if (!st)
        return;
    sonde_file_close(&st->threads_max);
    sonde_file_close(&st->pid_max);
    free(st->procfs);
    free(st);
}

const struct sonde_plugin sonde_plugin_processes = {
    .name = "processes", /* node_exporter's and Telegraf's */
    .kind = SONDE_INPUT, /* reads the host */
    .summary = "Processes and threads by state, and the pid and thread limits", /* --help */
    .config_size = sizeof(struct processes_config),                             /* no options */
    .options = processes_options,                                               /* empty table */
    .init = processes_init,       /* opens nothing yet */
    .read = processes_read,       /* walks /proc each cycle */
    .write = NULL,                /* inputs do not write */
    .destroy = processes_destroy, /* closes the limit files */
};
