/*
 * system.c - load averages, uptime, online CPUs and logged-in users:
 * node_exporter's loadavg collector (node_load1/5/15) and Telegraf's
 * inputs.system (load*, n_cpus, n_users, n_unique_users, uptime, uptime_format).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utmp.h>

#include "sonde.h"

/* utmp holds one record per terminal session plus boot and run-level
 * records; a file this large is not a utmp file. */
#define SYSTEM_UTMP_MAX (4u << 20)

/* No options: Telegraf's system input has none either. The member only
 * keeps the struct non-empty (ISO C). */
struct system_config {
    char unused;
};

static const struct sonde_option system_options[] = {
    {NULL},
};

struct system_users {
    int64_t sessions; /* USER_PROCESS records: Telegraf's n_users */
    int64_t unique;   /* distinct user names among them: n_unique_users */
    uint64_t partial; /* bytes of a trailing partial record, ignored */
};

struct system_state {
    struct sonde_file loadavg; /* <procfs>/loadavg */
    struct sonde_file uptime;  /* <procfs>/uptime */
    struct sonde_file stat;    /* <procfs>/stat, for the online CPU count */
    char *utmp_path;           /* <rootfs>/var/run/utmp; owned */
    char *utmp_buf;            /* read buffer, reused; owned */
    size_t utmp_cap;
    struct sonde_ratelimit skip_log;
};

static const struct sonde_family system_load1_family = {"node_load1", SONDE_GAUGE,
                                                        "1m load average."};
static const struct sonde_family system_load5_family = {"node_load5", SONDE_GAUGE,
                                                        "5m load average."};
static const struct sonde_family system_load15_family = {"node_load15", SONDE_GAUGE,
                                                         "15m load average."};

/* ------------------------------------------------------------------ */
/* Parsing                                                              */
/* ------------------------------------------------------------------ */

/* Parses one non-negative decimal number ("0.04", "352.49") at *p after
 * blanks; advances *p. strtod alone would also take "nan", "inf" and hex. */
static int system_parse_double(const char **p, double *out)
{
    const char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    char *stop;
    errno = 0;
    double v = strtod(s, &stop);
    if (errno == ERANGE || (*stop != ' ' && *stop != '\t' && *stop != '\n' && *stop != '\0'))
        return -EINVAL;
    *out = v;
    *p = stop;
    return 0;
}

/* /proc/loadavg: "0.08 0.04 0.01 1/87 4686". 0 or -EINVAL. */
static int system_parse_loadavg(const char *buf, double load[3])
{
    const char *p = buf;
    for (int i = 0; i < 3; i++)
        if (system_parse_double(&p, &load[i]) < 0)
            return -EINVAL;
    return 0;
}

/* /proc/uptime: "352.49 657.08"; whole seconds (truncated), as Telegraf's uint. */
static int system_parse_uptime(const char *buf, uint64_t *seconds)
{
    const char *p = buf;
    double up;
    if (system_parse_double(&p, &up) < 0 || up >= 1e18)
        return -EINVAL;
    *seconds = (uint64_t)up;
    return 0;
}

/* Online CPUs: the "cpuN" lines of /proc/stat (the kernel prints one per
 * online CPU), as gopsutil counts them when /proc/cpuinfo says nothing. */
static int64_t system_count_cpus(const char *buf)
{
    int64_t n = 0;
    for (const char *line = buf; *line;) {
        if (line[0] == 'c' && line[1] == 'p' && line[2] == 'u' && line[3] >= '0' && line[3] <= '9')
            n++;
        const char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    return n;
}

/* A user name inside a utmp record: not NUL-terminated when it fills
 * ut_user, so it carries its length. */
struct system_name {
    const char *s;
    size_t len;
};

static int system_name_compare(const void *a, const void *b)
{
    const struct system_name *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/*
 * Counts logged-in sessions in the bytes of a utmp file (an array of
 * struct utmp in this machine's layout). Like gopsutil's host.Users, only
 * USER_PROCESS records count, and names are compared up to their first NUL.
 */
static void system_count_users(const char *buf, size_t len, struct system_users *out)
{
    memset(out, 0, sizeof(*out));
    size_t nrecords = len / sizeof(struct utmp);
    out->partial = len % sizeof(struct utmp);
    if (nrecords == 0)
        return;
    /* Names point into `buf`; the array is ours and freed below. */
    struct system_name *names = sonde_xmalloc(nrecords * sizeof(*names));
    size_t n = 0;
    for (size_t i = 0; i < nrecords; i++) {
        const char *rec = buf + i * sizeof(struct utmp);
        struct utmp u; /* copied out: `buf` need not be aligned for struct utmp */
        memcpy(&u, rec, sizeof(u));
        if (u.ut_type != USER_PROCESS)
            continue;
        names[n].s = rec + offsetof(struct utmp, ut_user);
        names[n].len = strnlen(u.ut_user, sizeof(u.ut_user));
        n++;
    }
    out->sessions = (int64_t)n;
    if (n) {
        qsort(names, n, sizeof(*names), system_name_compare);
        out->unique = 1;
        for (size_t i = 1; i < n; i++)
            out->unique += system_name_compare(&names[i - 1], &names[i]) != 0;
    }
    free(names);
}

/* Telegraf's uptime_format: "352 days,  3:07" style ("%2d:%02d" after an
 * optional "N day(s), "). Writes into `out` (at least 64 bytes). */
static void system_format_uptime(uint64_t uptime, char *out, size_t cap)
{
    uint64_t days = uptime / 86400;
    uint64_t hours = uptime / 3600 % 24;
    uint64_t minutes = uptime / 60 % 60;
    if (days)
        snprintf(out, cap, "%" PRIu64 " day%s, %2" PRIu64 ":%02" PRIu64, days, days > 1 ? "s" : "",
                 hours, minutes);
    else
        snprintf(out, cap, "%2" PRIu64 ":%02" PRIu64, hours, minutes);
}

/* ------------------------------------------------------------------ */
/* Reading                                                              */
/* ------------------------------------------------------------------ */

/* Reads all of utmp into state->utmp_buf. utmp is rewritten by login and
 * can be replaced at boot, so it is opened afresh each time rather than
 * kept open. Returns the length or -errno. */
static long system_read_utmp(struct system_state *state)
{
    int fd = open(state->utmp_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = 0;
    long rc = 0;
    for (;;) {
        if (len == state->utmp_cap) {
            if (state->utmp_cap >= SYSTEM_UTMP_MAX) {
                rc = -EFBIG;
                break;
            }
            state->utmp_cap = state->utmp_cap ? state->utmp_cap * 2 : 16 * sizeof(struct utmp);
            state->utmp_buf = sonde_xrealloc(state->utmp_buf, state->utmp_cap);
        }
        ssize_t n = read(fd, state->utmp_buf + len, state->utmp_cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    return rc < 0 ? rc : (long)len;
}

/* One read's values; a `has_` flag is false when its source failed. */
struct system_values {
    bool has_load, has_cpus, has_users, has_uptime;
    double load[3];
    int64_t ncpus;
    struct system_users users;
    uint64_t uptime; /* seconds */
};

/* Counts users from utmp into `v`. No utmp file means nobody is logged in
 * (containers, systems without utmp): 0, not an error. Returns the number
 * of values skipped. */
static uint64_t system_read_users(struct system_state *state, struct system_values *v)
{
    long len = system_read_utmp(state);
    if (len == -ENOENT) {
        len = 0;
    } else if (len < 0) {
        sonde_log_limited(&state->skip_log, 300, SONDE_LOG_WARN, "system: %s: %s", state->utmp_path,
                          strerror((int)-len));
        return 1;
    }
    system_count_users(state->utmp_buf, (size_t)len, &v->users);
    v->has_users = true;
    return v->users.partial ? 1 : 0;
}

/*
 * Telegraf writes three points of measurement "system" with the same
 * timestamp: the gauges (load*, n_cpus, n_users, n_unique_users), uptime
 * alone (its AddCounter) and uptime_format alone. We do the same, so that
 * queries written against Telegraf's output keep matching.
 */
static void system_emit(struct sonde_batch *batch, const struct system_values *v)
{
    if (v->has_load) {
        sonde_emit(batch, &system_load1_family, v->load[0], NULL);
        sonde_emit(batch, &system_load5_family, v->load[1], NULL);
        sonde_emit(batch, &system_load15_family, v->load[2], NULL);
    }
    if (v->has_load || v->has_cpus || v->has_users) {
        struct sonde_point *p = sonde_point(batch, "system");
        if (v->has_load) {
            sonde_point_float(batch, p, "load1", v->load[0]);
            sonde_point_float(batch, p, "load5", v->load[1]);
            sonde_point_float(batch, p, "load15", v->load[2]);
        }
        if (v->has_cpus)
            sonde_point_int(batch, p, "n_cpus", v->ncpus);
        if (v->has_users) {
            sonde_point_int(batch, p, "n_users", v->users.sessions);
            sonde_point_int(batch, p, "n_unique_users", v->users.unique);
        }
    }
    if (v->has_uptime) {
        char text[64];
        system_format_uptime(v->uptime, text, sizeof(text));
        struct sonde_point *p = sonde_point(batch, "system");
        sonde_point_int(batch, p, "uptime", (int64_t)v->uptime);
        p = sonde_point(batch, "system");
        sonde_point_string(batch, p, "uptime_format", text);
    }
}

/* ------------------------------------------------------------------ */
/* Plugin callbacks                                                     */
/* ------------------------------------------------------------------ */

static int system_init(void **out, const void *config, const struct sonde_context *ctx)
{
    (void)config;
    struct system_state *state = sonde_xcalloc(1, sizeof(*state));
    char path[4096];
    snprintf(path, sizeof(path), "%s/loadavg", ctx->procfs);
    sonde_file_init(&state->loadavg, path);
    snprintf(path, sizeof(path), "%s/uptime", ctx->procfs);
    sonde_file_init(&state->uptime, path);
    snprintf(path, sizeof(path), "%s/stat", ctx->procfs);
    sonde_file_init(&state->stat, path);
    /* rootfs "/" would give "//var/run/utmp": harmless, but skip the slash. */
    const char *root = strcmp(ctx->rootfs, "/") == 0 ? "" : ctx->rootfs;
    snprintf(path, sizeof(path), "%s/var/run/utmp", root);
    state->utmp_path = sonde_xstrdup(path);
    *out = state;
    return 0;
}

/* Reads every source it can; returns the first source that could not be
 * read (-errno) after emitting what the others gave. */
static int system_read(void *arg, struct sonde_batch *batch)
{
    struct system_state *state = arg;
    struct system_values v = {0};
    uint64_t skipped = 0;
    int err = 0;

    int rc = sonde_file_read(&state->loadavg);
    if (rc < 0)
        err = rc;
    else if (system_parse_loadavg(state->loadavg.buf, v.load) == 0)
        v.has_load = true;
    else
        skipped++;

    /* CPU count, users and uptime are line protocol only. */
    if (batch->want_points) {
        rc = sonde_file_read(&state->stat);
        if (rc < 0)
            err = err ? err : rc;
        else if ((v.ncpus = system_count_cpus(state->stat.buf)) > 0)
            v.has_cpus = true;
        else
            skipped++;

        skipped += system_read_users(state, &v);

        rc = sonde_file_read(&state->uptime);
        if (rc < 0)
            err = err ? err : rc;
        else if (system_parse_uptime(state->uptime.buf, &v.uptime) == 0)
            v.has_uptime = true;
        else
            skipped++;
    }

    system_emit(batch, &v);
    if (skipped) {
        batch->skipped += skipped;
        sonde_log_limited(&state->skip_log, 300, SONDE_LOG_WARN,
                          "system: skipped %llu malformed value(s)", (unsigned long long)skipped);
    }
    return err;
}

static void system_destroy(void *arg)
{
    struct system_state *state = arg;
    if (!state)
        return;
    sonde_file_close(&state->loadavg);
    sonde_file_close(&state->uptime);
    sonde_file_close(&state->stat);
    free(state->utmp_path);
    free(state->utmp_buf);
    free(state);
}

const struct sonde_plugin sonde_plugin_system = {
    .name = "system",                                        /* configuration key */
    .kind = SONDE_INPUT,                                     /* reads the host */
    .summary = "Load averages, uptime, CPU and user counts", /* for --help */
    .config_size = sizeof(struct system_config),             /* no options */
    .options = system_options,                               /* empty table */
    .init = system_init,       /* opens nothing yet; first read opens */
    .read = system_read,       /* loadavg, stat, utmp, uptime */
    .write = NULL,             /* inputs do not write */
    .destroy = system_destroy, /* closes the files */
};
