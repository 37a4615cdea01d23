/*
 * cgroup_v1.c - the cgroup v1 reader of the cgroup input: cpuacct (usage,
 * user/system), cpu (CFS throttling and quota), memory, blkio (throttle
 * layer) and pids, each from its own hierarchy as the layout found it
 * (see cgroup.h). Values and units are the ones cAdvisor and Docker take
 * from the same files.
 */
#include "cgroup.h"

/* ------------------------------------------------------------------ */
/* Parsers                                                              */
/* ------------------------------------------------------------------ */

/* Finds "<key> <number>" lines: calls back for each well-formed pair; a
 * line that has a key but no number returns false. */
static bool cgroup_v1_each_pair(const char *buf, bool (*fn)(void *, const char *, size_t, uint64_t),
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
        if (!fn(arg, line, (size_t)(sp - line), v))
            return false;
        line = *p ? p + 1 : p;
    }
    return true;
}

static bool cgroup_v1_key_is(const char *key, size_t len, const char *want)
{
    return strlen(want) == len && memcmp(key, want, len) == 0;
}

struct cgroup_v1_ticks {
    uint64_t user, system;
    unsigned found;
};

static bool cgroup_v1_ticks_pair(void *arg, const char *key, size_t len, uint64_t v)
{
    struct cgroup_v1_ticks *t = arg;
    if (cgroup_v1_key_is(key, len, "user")) {
        t->user = v;
        t->found |= 1;
    } else if (cgroup_v1_key_is(key, len, "system")) {
        t->system = v;
        t->found |= 2;
    }
    return true;
}

/* cpuacct.stat: "user N\nsystem N\n" in USER_HZ ticks. */
bool cgroup_v1_parse_cpuacct_stat(const char *buf, uint64_t *user_ticks, uint64_t *system_ticks)
{
    struct cgroup_v1_ticks t = {0};
    if (!cgroup_v1_each_pair(buf, cgroup_v1_ticks_pair, &t) || t.found != 3)
        return false;
    *user_ticks = t.user;
    *system_ticks = t.system;
    return true;
}

struct cgroup_v1_throttle {
    struct cgroup_throttling *out;
    unsigned found;
};

static bool cgroup_v1_throttle_pair(void *arg, const char *key, size_t len, uint64_t v)
{
    struct cgroup_v1_throttle *t = arg;
    if (cgroup_v1_key_is(key, len, "nr_periods")) {
        t->out->periods = v;
        t->found |= 1;
    } else if (cgroup_v1_key_is(key, len, "nr_throttled")) {
        t->out->throttled_periods = v;
        t->found |= 2;
    } else if (cgroup_v1_key_is(key, len, "throttled_time")) {
        t->out->throttled_ns = v; /* v1 counts nanoseconds */
        t->found |= 4;
    }
    return true;
}

/* cpu.stat (v1): nr_periods, nr_throttled, throttled_time (ns); newer
 * kernels add nr_bursts and burst_time, which are passed over. */
bool cgroup_v1_parse_cpu_stat(const char *buf, struct cgroup_throttling *out)
{
    struct cgroup_throttling tmp = {0};
    struct cgroup_v1_throttle t = {&tmp, 0};
    if (!cgroup_v1_each_pair(buf, cgroup_v1_throttle_pair, &t) || t.found != 7)
        return false;
    *out = tmp;
    return true;
}

struct cgroup_v1_oom {
    uint64_t kills;
    bool found;
};

static bool cgroup_v1_oom_pair(void *arg, const char *key, size_t len, uint64_t v)
{
    struct cgroup_v1_oom *o = arg;
    if (cgroup_v1_key_is(key, len, "oom_kill")) {
        o->kills = v;
        o->found = true;
    }
    return true;
}

/* memory.oom_control: oom_kill_disable, under_oom and (4.13+) oom_kill. */
bool cgroup_v1_parse_oom_control(const char *buf, uint64_t *oom_kills)
{
    struct cgroup_v1_oom o = {0};
    if (!cgroup_v1_each_pair(buf, cgroup_v1_oom_pair, &o) || !o.found)
        return false;
    *oom_kills = o.kills;
    return true;
}

/* memory.limit_in_bytes says 9223372036854771712 (PAGE_COUNTER_MAX pages)
 * when there is no limit; cAdvisor takes anything above 2^62 as none. */
#define CGROUP_V1_UNLIMITED (1ull << 62)

bool cgroup_v1_parse_limit(const char *buf, uint64_t *out, bool *unlimited)
{
    if (strcmp(buf, "max\n") == 0 || strcmp(buf, "max") == 0) {
        *out = UINT64_MAX;
        *unlimited = true;
        return true;
    }
    if (!cgroup_parse_single(buf, out))
        return false;
    *unlimited = *out > CGROUP_V1_UNLIMITED;
    if (*unlimited)
        *out = UINT64_MAX;
    return true;
}

/* cpu.cfs_quota_us: microseconds per period, -1 for no quota. */
bool cgroup_v1_parse_quota(const char *buf, bool *has_quota)
{
    if (strcmp(buf, "-1\n") == 0 || strcmp(buf, "-1") == 0) {
        *has_quota = false;
        return true;
    }
    uint64_t v;
    if (!cgroup_parse_single(buf, &v))
        return false;
    *has_quota = true;
    return true;
}

/* The operation named at `p` (up to the blank), or -1. */
static int cgroup_v1_io_op(const char *p, size_t len)
{
    static const char *const names[CG_IO_NOPS] = {"Read",  "Write",   "Sync",
                                                  "Async", "Discard", "Total"};
    for (int op = 0; op < CG_IO_NOPS; op++)
        if (strlen(names[op]) == len && memcmp(names[op], p, len) == 0)
            return op;
    return -1;
}

/* Parses "MAJ:MIN" at *p, advancing past it. */
static bool cgroup_v1_parse_dev(const char **p, unsigned *major, unsigned *minor)
{
    uint64_t ma, mi;
    if (!cgroup_parse_u64(p, &ma) || **p != ':')
        return false;
    (*p)++;
    if (!cgroup_parse_u64(p, &mi) || ma > 0xffffffffu || mi > 0xffffffffu)
        return false;
    *major = (unsigned)ma;
    *minor = (unsigned)mi;
    return true;
}

/*
 * blkio.throttle.io_service_bytes(_recursive) and io_serviced(_recursive):
 * "8:0 Read 1234" lines, one per device and operation, then a last "Total
 * N" line summing every device, which is not a device and is passed over.
 * Operations this code does not know (a future kernel's) are skipped
 * silently; lines it cannot read are counted.
 */
uint64_t cgroup_v1_parse_blkio(const char *buf, bool ios, struct cgroup_stats *st)
{
    uint64_t bad = 0;
    for (const char *line = buf; *line;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        const char *next = nl ? nl + 1 : end;
        if (line == end || (end - line >= 6 && memcmp(line, "Total ", 6) == 0)) {
            line = next;
            continue;
        }
        const char *p = line;
        unsigned major, minor;
        uint64_t v;
        const char *op = NULL, *op_end = NULL;
        bool ok = cgroup_v1_parse_dev(&p, &major, &minor) && *p == ' ';
        if (ok) {
            op = ++p;
            while (p < end && *p != ' ')
                p++;
            op_end = p;
            ok = p < end && op_end > op;
        }
        if (ok) {
            p++;
            ok = cgroup_parse_u64(&p, &v) && p == end;
        }
        if (!ok) {
            bad++;
            line = next;
            continue;
        }
        int o = cgroup_v1_io_op(op, (size_t)(op_end - op));
        if (o >= 0) {
            struct cgroup_io_device *d = cgroup_stats_io(st, major, minor);
            if (ios) {
                d->ios[o] = v;
                d->has_ios |= (uint8_t)(1u << o);
            } else {
                d->bytes[o] = v;
                d->has_bytes |= (uint8_t)(1u << o);
            }
        }
        line = next;
    }
    return bad;
}

/* ------------------------------------------------------------------ */
/* Reading                                                              */
/* ------------------------------------------------------------------ */

/* Reads a file that only holds a number. */
static bool cgroup_v1_read_single(struct cgroup_reader *r, struct cgroup_handle *h,
                                  struct cgroup_stats *st, enum cgroup_file f, enum cgroup_ctrl c,
                                  const char *name, uint64_t *out)
{
    long rc = cgroup_file_read(r, &h->fd[f], h->layout->v1[c], h->rel, name);
    if (!cgroup_read_ok(r, st, rc))
        return false;
    if (!cgroup_parse_single(r->buf, out)) {
        r->skipped++;
        return false;
    }
    return true;
}

/*
 * Usage, then user and system time. The ticks of cpuacct.stat are counted
 * while the container's tasks run, as its usage is: when the usage did not
 * move since the last read, neither did they, and the file (a third of the
 * CPU cost of a mostly idle container) is not read again.
 */
static void cgroup_v1_read_cpuacct(struct cgroup_reader *r, struct cgroup_handle *h,
                                   struct cgroup_stats *st)
{
    st->cpu.has_usage = cgroup_v1_read_single(r, h, st, CG_V1_CPUACCT_USAGE, CG_CPUACCT,
                                              "cpuacct.usage", &st->cpu.usage_ns);
    if (st->cpu.has_usage && h->has_ticks && st->cpu.usage_ns == h->ticks_usage_ns) {
        st->cpu.user_ns = h->user_ns;
        st->cpu.system_ns = h->system_ns;
        st->cpu.has_user_system = true;
        return;
    }
    h->has_ticks = false;
    long rc = cgroup_file_read(r, &h->fd[CG_V1_CPUACCT_STAT], h->layout->v1[CG_CPUACCT], h->rel,
                               "cpuacct.stat");
    if (!cgroup_read_ok(r, st, rc))
        return;
    uint64_t user, system;
    if (!cgroup_v1_parse_cpuacct_stat(r->buf, &user, &system)) {
        r->skipped++;
        return;
    }
    /* Docker (runc) converts the ticks as here: value * 1e9 / USER_HZ. */
    uint64_t ns_per_tick = 1000000000ull / (uint64_t)r->ticks_per_second;
    st->cpu.user_ns = user * ns_per_tick;
    st->cpu.system_ns = system * ns_per_tick;
    st->cpu.has_user_system = true;
    if (st->cpu.has_usage) {
        h->has_ticks = true;
        h->ticks_usage_ns = st->cpu.usage_ns;
        h->user_ns = st->cpu.user_ns;
        h->system_ns = st->cpu.system_ns;
    }
}

/*
 * CFS throttling. Without a quota the counters cannot move, so cpu.stat is
 * read (and its descriptor kept) only while a quota is set, and otherwise
 * only with the limits; the last reading is kept for line protocol, where
 * Telegraf always has the throttling fields.
 */
static void cgroup_v1_read_cpu(struct cgroup_reader *r, struct cgroup_handle *h,
                               struct cgroup_stats *st)
{
    const char *dir = h->layout->v1[CG_CPU];
    if (r->limits) {
        long rc = cgroup_file_read_once(r, dir, h->rel, "cpu.cfs_quota_us");
        bool quota = false;
        if (cgroup_read_ok(r, st, rc)) {
            if (cgroup_v1_parse_quota(r->buf, &quota)) {
                h->limits.has_cpu = true;
                h->limits.cpu_quota = quota;
            } else {
                r->skipped++;
            }
        }
    }
    if (!h->limits.cpu_quota && !r->limits) {
        st->cpu.has_throttling = h->has_throttling;
        st->cpu.throttling = h->throttling;
        return;
    }
    long rc;
    if (h->limits.cpu_quota) {
        rc = cgroup_file_read(r, &h->fd[CG_V1_CPU_STAT], dir, h->rel, "cpu.stat");
    } else {
        if (h->fd[CG_V1_CPU_STAT] >= 0) { /* the quota went away: stop keeping it open */
            close(h->fd[CG_V1_CPU_STAT]);
            h->fd[CG_V1_CPU_STAT] = CG_FD_CLOSED;
            if (r->open_fds > 0)
                r->open_fds--;
        }
        rc = cgroup_file_read_once(r, dir, h->rel, "cpu.stat");
    }
    if (!cgroup_read_ok(r, st, rc))
        return;
    if (!cgroup_v1_parse_cpu_stat(r->buf, &h->throttling)) {
        r->skipped++;
        return;
    }
    h->has_throttling = true;
    st->cpu.has_throttling = true;
    st->cpu.throttling = h->throttling;
}

static void cgroup_v1_read_memory(struct cgroup_reader *r, struct cgroup_handle *h,
                                  struct cgroup_stats *st)
{
    const char *dir = h->layout->v1[CG_MEMORY];
    struct cgroup_mem_stats *mem = &st->mem;
    if (r->limits) {
        long rc = cgroup_file_read_once(r, dir, h->rel, "memory.limit_in_bytes");
        if (cgroup_read_ok(r, st, rc)) {
            bool unlimited;
            if (cgroup_v1_parse_limit(r->buf, &h->limits.memory, &unlimited))
                h->limits.has_memory = true;
            else
                r->skipped++;
        }
    }
    mem->has_usage = cgroup_v1_read_single(r, h, st, CG_V1_MEM_USAGE, CG_MEMORY,
                                           "memory.usage_in_bytes", &mem->usage);
    long rc = cgroup_file_read(r, &h->fd[CG_V1_MEM_STAT], dir, h->rel, "memory.stat");
    if (cgroup_read_ok(r, st, rc))
        cgroup_parse_memory_stat(r, r->buf, mem);
    /* Every OOM kill counts in the host's vmstat too: while that count does
     * not move, the container's cannot have, and its file is not read. */
    if (r->oom_unchanged && h->has_oom) {
        mem->has_oom = true;
        mem->oom_kills = h->oom_kills;
    } else {
        rc = cgroup_file_read(r, &h->fd[CG_V1_MEM_OOM], dir, h->rel, "memory.oom_control");
        if (cgroup_read_ok(r, st, rc)) {
            if (cgroup_v1_parse_oom_control(r->buf, &mem->oom_kills))
                mem->has_oom = true;
            else if (!strstr(r->buf, "oom_kill_disable"))
                r->skipped++; /* kernels before 4.13 have no oom_kill line: not an error */
        }
        h->has_oom = mem->has_oom;
        h->oom_kills = mem->oom_kills;
    }
    if (r->want_points) {
        mem->has_max_usage = cgroup_v1_read_single(r, h, st, CG_V1_MEM_MAX_USAGE, CG_MEMORY,
                                                   "memory.max_usage_in_bytes", &mem->max_usage);
        mem->has_failcnt = cgroup_v1_read_single(r, h, st, CG_V1_MEM_FAILCNT, CG_MEMORY,
                                                 "memory.failcnt", &mem->failcnt);
    }
}

/* The throttle layer sees every bio the cgroup submits, whatever the
 * scheduler (the cfq/bfq files exist only for their scheduler's devices);
 * the _recursive files include child cgroups, as Docker reports. */
static void cgroup_v1_read_blkio(struct cgroup_reader *r, struct cgroup_handle *h,
                                 struct cgroup_stats *st)
{
    static const char *const names[2][2] = {
        {"blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_serviced_recursive"},
        {"blkio.throttle.io_service_bytes", "blkio.throttle.io_serviced"}};
    const char *dir = h->layout->v1[CG_BLKIO];
    for (int ios = 0; ios < 2; ios++) {
        enum cgroup_file f = ios ? CG_V1_BLKIO_OPS : CG_V1_BLKIO_BYTES;
        long rc = cgroup_file_read(r, &h->fd[f], dir, h->rel, names[h->blkio_flat][ios]);
        if (rc == -ENOENT && !h->blkio_flat) { /* kernels before 4.9 */
            h->blkio_flat = true;
            h->fd[f] = CG_FD_CLOSED;
            rc = cgroup_file_read(r, &h->fd[f], dir, h->rel, names[1][ios]);
        }
        if (!cgroup_read_ok(r, st, rc))
            continue;
        size_t before = st->nio;
        r->skipped += cgroup_v1_parse_blkio(r->buf, ios, st);
        /* Both files list the same devices (the cgroup's blkgs): none in
         * the first, none in the second, which is then not read. */
        if (!ios && st->nio == before && !strchr(r->buf, ':'))
            break;
    }
}

static void cgroup_v1_read_pids(struct cgroup_reader *r, struct cgroup_handle *h,
                                struct cgroup_stats *st)
{
    const char *dir = h->layout->v1[CG_PIDS];
    if (r->limits) {
        long rc = cgroup_file_read_once(r, dir, h->rel, "pids.max");
        if (cgroup_read_ok(r, st, rc)) {
            bool unlimited;
            uint64_t max;
            if (cgroup_v1_parse_limit(r->buf, &max, &unlimited)) {
                h->limits.has_pids = true;
                h->limits.pids = unlimited ? 0 : max;
            } else {
                r->skipped++;
            }
        }
    }
    st->has_pids =
        cgroup_v1_read_single(r, h, st, CG_V1_PIDS_CURRENT, CG_PIDS, "pids.current", &st->pids);
}

void cgroup_v1_read(struct cgroup_reader *r, struct cgroup_handle *h, struct cgroup_stats *st)
{
    const struct cgroup_layout *l = h->layout;
    if (l->v1[CG_CPUACCT])
        cgroup_v1_read_cpuacct(r, h, st);
    if (l->v1[CG_CPU] && !st->vanished)
        cgroup_v1_read_cpu(r, h, st);
    if (l->v1[CG_MEMORY] && !st->vanished)
        cgroup_v1_read_memory(r, h, st);
    if (l->v1[CG_BLKIO] && !st->vanished)
        cgroup_v1_read_blkio(r, h, st);
    if (l->v1[CG_PIDS] && !st->vanished)
        cgroup_v1_read_pids(r, h, st);
}
