/*
 * cgroup_v2.c - the cgroup v2 (unified hierarchy) reader of the cgroup
 * input: cpu.stat, memory.*, io.stat, pids.* for the controllers enabled on
 * v2, and the pressure (PSI) files, which the unified tree has even on a
 * hybrid host whose controllers are all on v1. Units are converted as
 * cAdvisor and Docker convert them (microseconds to nanoseconds).
 */
#include "cgroup.h"

/* ------------------------------------------------------------------ */
/* Parsers                                                              */
/* ------------------------------------------------------------------ */

/* Splits "key value" lines; calls `fn` for each pair whose value is a
 * number. Returns false when a line is not "key number". */
static bool cgroup_v2_each_pair(const char *buf, void (*fn)(void *, const char *, size_t, uint64_t),
                                void *arg)
{
    for (const char *line = buf; *line;) {
        const char *sp = line;
        while (*sp && *sp != ' ' && *sp != '\n')
            sp++;
        if (sp == line && *sp == '\n') {
            line++;
            continue;
        }
        if (*sp != ' ')
            return false;
        const char *p = sp + 1;
        uint64_t v;
        if (!cgroup_parse_u64(&p, &v) || (*p != '\n' && *p != '\0'))
            return false;
        fn(arg, line, (size_t)(sp - line), v);
        line = *p ? p + 1 : p;
    }
    return true;
}

static bool cgroup_v2_key_is(const char *key, size_t len, const char *want)
{
    return strlen(want) == len && memcmp(key, want, len) == 0;
}

struct cgroup_v2_cpu {
    struct cgroup_cpu_stats *cpu;
    unsigned found;
};

static void cgroup_v2_cpu_pair(void *arg, const char *key, size_t len, uint64_t v)
{
    struct cgroup_v2_cpu *c = arg;
    /* Microseconds on v2; cAdvisor and Docker report nanoseconds. */
    static const char *const keys[] = {"usage_usec", "user_usec",    "system_usec",
                                       "nr_periods", "nr_throttled", "throttled_usec"};
    for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (!cgroup_v2_key_is(key, len, keys[i]))
            continue;
        c->found |= 1u << i;
        switch (i) {
        case 0:
            c->cpu->usage_ns = v * 1000;
            break;
        case 1:
            c->cpu->user_ns = v * 1000;
            break;
        case 2:
            c->cpu->system_ns = v * 1000;
            break;
        case 3:
            c->cpu->throttling.periods = v;
            break;
        case 4:
            c->cpu->throttling.throttled_periods = v;
            break;
        default:
            c->cpu->throttling.throttled_ns = v * 1000;
            break;
        }
        return;
    }
}

/* cpu.stat: usage_usec, user_usec, system_usec always; nr_periods,
 * nr_throttled, throttled_usec when the cpu controller is enabled. */
bool cgroup_v2_parse_cpu_stat(const char *buf, struct cgroup_cpu_stats *cpu)
{
    struct cgroup_cpu_stats tmp = {0};
    struct cgroup_v2_cpu c = {&tmp, 0};
    if (!cgroup_v2_each_pair(buf, cgroup_v2_cpu_pair, &c))
        return false;
    tmp.has_usage = c.found & 1;
    tmp.has_user_system = (c.found & 6) == 6;
    tmp.has_throttling = (c.found & 0x38) == 0x38;
    if (!tmp.has_usage && !tmp.has_user_system && !tmp.has_throttling)
        return false;
    *cpu = tmp;
    return true;
}

bool cgroup_v2_parse_max(const char *buf, uint64_t *out, bool *unlimited)
{
    if (strcmp(buf, "max\n") == 0 || strcmp(buf, "max") == 0) {
        *out = UINT64_MAX;
        *unlimited = true;
        return true;
    }
    if (!cgroup_parse_single(buf, out))
        return false;
    *unlimited = false;
    return true;
}

bool cgroup_v2_parse_cpu_max(const char *buf, bool *has_quota)
{
    const char *p = buf;
    uint64_t quota, period;
    if (strncmp(p, "max ", 4) == 0) {
        *has_quota = false;
        p += 4;
    } else if (cgroup_parse_u64(&p, &quota) && *p == ' ') {
        *has_quota = true;
        p++;
    } else {
        return false;
    }
    return cgroup_parse_u64(&p, &period) && (*p == '\n' || *p == '\0');
}

struct cgroup_v2_events {
    uint64_t oom_kill;
    bool found;
};

static void cgroup_v2_events_pair(void *arg, const char *key, size_t len, uint64_t v)
{
    struct cgroup_v2_events *e = arg;
    if (cgroup_v2_key_is(key, len, "oom_kill")) {
        e->oom_kill = v;
        e->found = true;
    }
}

/* memory.events: low, high, max, oom, oom_kill (4.13+), oom_group_kill. */
bool cgroup_v2_parse_memory_events(const char *buf, uint64_t *oom_kills)
{
    struct cgroup_v2_events e = {0};
    if (!cgroup_v2_each_pair(buf, cgroup_v2_events_pair, &e) || !e.found)
        return false;
    *oom_kills = e.oom_kill;
    return true;
}

/*
 * io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6", one line
 * per device, more keys with io.cost or io.latency enabled (skipped). A
 * device line without any of the four keys is kept out.
 */
uint64_t cgroup_v2_parse_io_stat(const char *buf, struct cgroup_stats *st)
{
    uint64_t bad = 0;
    for (const char *line = buf; *line;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        const char *next = nl ? nl + 1 : end;
        if (line == end) {
            line = next;
            continue;
        }
        const char *p = line;
        uint64_t ma, mi;
        if (!cgroup_parse_u64(&p, &ma) || *p != ':' || (++p, !cgroup_parse_u64(&p, &mi)) ||
            ma > 0xffffffffu || mi > 0xffffffffu || (p < end && *p != ' ')) {
            bad++;
            line = next;
            continue;
        }
        uint64_t val[4] = {0};
        unsigned found = 0;
        bool ok = true;
        while (ok && p < end) {
            while (p < end && *p == ' ')
                p++;
            if (p == end)
                break;
            const char *key = p;
            while (p < end && *p != '=' && *p != ' ')
                p++;
            if (p == end || *p != '=') {
                ok = false;
                break;
            }
            size_t klen = (size_t)(p - key);
            p++;
            static const char *const keys[4] = {"rbytes", "wbytes", "rios", "wios"};
            int k = -1;
            for (int i = 0; i < 4; i++)
                if (cgroup_v2_key_is(key, klen, keys[i]))
                    k = i;
            if (k < 0) {
                while (p < end && *p != ' ') /* a value we do not use: any text */
                    p++;
                continue;
            }
            ok = cgroup_parse_u64(&p, &val[k]) && (p == end || *p == ' ');
            found |= 1u << k;
        }
        if (!ok) {
            bad++;
        } else if (found) {
            struct cgroup_io_device *d = cgroup_stats_io(st, (unsigned)ma, (unsigned)mi);
            if (found & 1) {
                d->bytes[CG_IO_READ] = val[0];
                d->has_bytes |= 1u << CG_IO_READ;
            }
            if (found & 2) {
                d->bytes[CG_IO_WRITE] = val[1];
                d->has_bytes |= 1u << CG_IO_WRITE;
            }
            if (found & 4) {
                d->ios[CG_IO_READ] = val[2];
                d->has_ios |= 1u << CG_IO_READ;
            }
            if (found & 8) {
                d->ios[CG_IO_WRITE] = val[3];
                d->has_ios |= 1u << CG_IO_WRITE;
            }
        }
        line = next;
    }
    return bad;
}

/* Finds "total=N" in one line of a pressure file. */
static bool cgroup_v2_psi_total(const char *line, const char *end, uint64_t *out)
{
    for (const char *p = line; p + 6 <= end; p++) {
        if ((p == line || p[-1] == ' ') && memcmp(p, "total=", 6) == 0) {
            const char *q = p + 6;
            return cgroup_parse_u64(&q, out) && (q == end || *q == ' ');
        }
    }
    return false;
}

/* cpu.pressure, memory.pressure, io.pressure: a "some" line and a "full"
 * line, each ending in total=<microseconds>. */
bool cgroup_v2_parse_pressure(const char *buf, struct cgroup_psi *psi)
{
    struct cgroup_psi tmp = {0};
    for (const char *line = buf; *line;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        const char *next = nl ? nl + 1 : end;
        if (end - line >= 5 && memcmp(line, "some ", 5) == 0) {
            if (!cgroup_v2_psi_total(line, end, &tmp.some_us))
                return false;
            tmp.has_some = true;
        } else if (end - line >= 5 && memcmp(line, "full ", 5) == 0) {
            if (!cgroup_v2_psi_total(line, end, &tmp.full_us))
                return false;
            tmp.has_full = true;
        } else if (line != end) {
            return false;
        }
        line = next;
    }
    if (!tmp.has_some)
        return false;
    *psi = tmp;
    return true;
}

/* ------------------------------------------------------------------ */
/* Reading                                                              */
/* ------------------------------------------------------------------ */

static bool cgroup_v2_read_single(struct cgroup_reader *r, struct cgroup_handle *h,
                                  struct cgroup_stats *st, enum cgroup_file f, const char *name,
                                  uint64_t *out)
{
    long rc = cgroup_file_read(r, &h->fd[f], h->layout->v2, h->rel, name);
    if (!cgroup_read_ok(r, st, rc))
        return false;
    if (!cgroup_parse_single(r->buf, out)) {
        r->skipped++;
        return false;
    }
    return true;
}

/* A limit file, read only with the limits: false when absent. */
static bool cgroup_v2_read_max(struct cgroup_reader *r, struct cgroup_handle *h,
                               struct cgroup_stats *st, const char *name, uint64_t *out,
                               bool *unlimited)
{
    long rc = cgroup_file_read_once(r, h->layout->v2, h->rel, name);
    if (!cgroup_read_ok(r, st, rc))
        return false;
    if (!cgroup_v2_parse_max(r->buf, out, unlimited)) {
        r->skipped++;
        return false;
    }
    return true;
}

static void cgroup_v2_read_cpu(struct cgroup_reader *r, struct cgroup_handle *h,
                               struct cgroup_stats *st, bool usage, bool throttling)
{
    if (throttling && r->limits) {
        long rc = cgroup_file_read_once(r, h->layout->v2, h->rel, "cpu.max");
        bool quota;
        if (cgroup_read_ok(r, st, rc)) {
            if (cgroup_v2_parse_cpu_max(r->buf, &quota)) {
                h->limits.has_cpu = true;
                h->limits.cpu_quota = quota;
            } else {
                r->skipped++;
            }
        }
    }
    long rc = cgroup_file_read(r, &h->fd[CG_V2_CPU_STAT], h->layout->v2, h->rel, "cpu.stat");
    if (!cgroup_read_ok(r, st, rc))
        return;
    struct cgroup_cpu_stats cpu;
    if (!cgroup_v2_parse_cpu_stat(r->buf, &cpu)) {
        r->skipped++;
        return;
    }
    if (usage) {
        st->cpu.has_usage = cpu.has_usage;
        st->cpu.usage_ns = cpu.usage_ns;
        st->cpu.has_user_system = cpu.has_user_system;
        st->cpu.user_ns = cpu.user_ns;
        st->cpu.system_ns = cpu.system_ns;
    }
    if (throttling && cpu.has_throttling) {
        st->cpu.has_throttling = true;
        st->cpu.throttling = cpu.throttling;
    }
}

static void cgroup_v2_read_memory(struct cgroup_reader *r, struct cgroup_handle *h,
                                  struct cgroup_stats *st)
{
    struct cgroup_mem_stats *mem = &st->mem;
    const char *dir = h->layout->v2;
    if (r->limits) {
        bool unlimited;
        h->limits.has_memory =
            cgroup_v2_read_max(r, h, st, "memory.max", &h->limits.memory, &unlimited);
    }
    mem->v2 = true;
    mem->has_usage =
        cgroup_v2_read_single(r, h, st, CG_V2_MEM_CURRENT, "memory.current", &mem->usage);
    long rc = cgroup_file_read(r, &h->fd[CG_V2_MEM_STAT], dir, h->rel, "memory.stat");
    if (cgroup_read_ok(r, st, rc))
        cgroup_parse_memory_stat(r, r->buf, mem);
    /* Only oom_kill is used from memory.events, and every OOM kill counts
     * in the host's vmstat too: while that does not move, not read. */
    if (r->oom_unchanged && h->has_oom) {
        mem->has_oom = true;
        mem->oom_kills = h->oom_kills;
    } else {
        rc = cgroup_file_read(r, &h->fd[CG_V2_MEM_EVENTS], dir, h->rel, "memory.events");
        if (cgroup_read_ok(r, st, rc)) {
            if (cgroup_v2_parse_memory_events(r->buf, &mem->oom_kills))
                mem->has_oom = true;
            else if (!strstr(r->buf, "oom "))
                r->skipped++; /* before 4.13 there is "oom" but no "oom_kill": not an error */
        }
        h->has_oom = mem->has_oom;
        h->oom_kills = mem->oom_kills;
    }
    if (r->want_points) /* memory.peak: kernel 5.19+ */
        mem->has_max_usage =
            cgroup_v2_read_single(r, h, st, CG_V2_MEM_PEAK, "memory.peak", &mem->max_usage);
}

static void cgroup_v2_read_pressure(struct cgroup_reader *r, struct cgroup_handle *h,
                                    struct cgroup_stats *st)
{
    static const char *const names[CG_PSI_N] = {"cpu.pressure", "memory.pressure", "io.pressure"};
    static const enum cgroup_file files[CG_PSI_N] = {CG_V2_PSI_CPU, CG_V2_PSI_MEMORY, CG_V2_PSI_IO};
    for (int i = 0; i < CG_PSI_N && !st->vanished; i++) {
        long rc = cgroup_file_read(r, &h->fd[files[i]], h->layout->v2, h->rel, names[i]);
        if (cgroup_read_ok(r, st, rc) && !cgroup_v2_parse_pressure(r->buf, &st->psi[i]))
            r->skipped++;
    }
}

/*
 * On a hybrid host the container may not exist in the unified tree at all
 * (runtimes that only manage v1): every file is then absent, which is not
 * an error, and `vanished` must not be set from here, because the v1
 * hierarchies are what says whether the container is there.
 */
void cgroup_v2_read(struct cgroup_reader *r, struct cgroup_handle *h, struct cgroup_stats *st)
{
    const struct cgroup_layout *l = h->layout;
    if (!l->v2)
        return;
    bool on_v2 = l->root == l->v2; /* the walk found the container here */
    bool was_vanished = st->vanished;
    bool usage = !l->v1[CG_CPUACCT];
    bool throttling = l->v2_ctrl[CG_CPU] && !l->v1[CG_CPU];
    if (usage || throttling)
        cgroup_v2_read_cpu(r, h, st, usage, throttling);
    if (l->v2_ctrl[CG_MEMORY] && !l->v1[CG_MEMORY] && !st->vanished)
        cgroup_v2_read_memory(r, h, st);
    if (l->v2_ctrl[CG_BLKIO] && !l->v1[CG_BLKIO] && !st->vanished) {
        long rc = cgroup_file_read(r, &h->fd[CG_V2_IO_STAT], l->v2, h->rel, "io.stat");
        if (cgroup_read_ok(r, st, rc))
            r->skipped += cgroup_v2_parse_io_stat(r->buf, st);
    }
    if (l->v2_ctrl[CG_PIDS] && !l->v1[CG_PIDS] && !st->vanished) {
        if (r->limits) {
            bool unlimited = false;
            uint64_t max = 0;
            h->limits.has_pids = cgroup_v2_read_max(r, h, st, "pids.max", &max, &unlimited);
            h->limits.pids = h->limits.has_pids && !unlimited ? max : 0;
        }
        st->has_pids =
            cgroup_v2_read_single(r, h, st, CG_V2_PIDS_CURRENT, "pids.current", &st->pids);
    }
    if (r->pressure && !st->vanished)
        cgroup_v2_read_pressure(r, h, st);
    if (!on_v2)
        st->vanished = was_vanished;
}
