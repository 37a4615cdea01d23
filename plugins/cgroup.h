/*
 * cgroup.h - the interface between the cgroup input (cgroup.c: discovery,
 * container names, emission) and the parts it is split into: cgroup_v1.c
 * reads the v1 controllers, cgroup_v2.c the unified hierarchy, and
 * cgroup_names.c asks the Docker Engine API (or Podman's) for names.
 *
 * Design note. A reader is handed one container (a struct cgroup_handle:
 * its path relative to each hierarchy and its kept-open file descriptors)
 * and fills a plain struct cgroup_stats, setting a has_* flag for each
 * value it found: no file is assumed present. Which reader serves which
 * controller is decided once, from mountinfo (struct cgroup_layout): on a
 * hybrid host the v1 reader serves cpu, memory, blkio and pids and the v2
 * reader only the pressure files of the unified tree. A container whose
 * cgroup is removed while it is read sets `vanished`; the caller then emits
 * nothing for it (a normal event, not an error).
 *
 * Cost. Nearly all of a read is the kernel generating cgroup files (a few
 * microseconds each, for ~1,000 containers), so the readers avoid reads
 * that cannot tell anything new, and only those: a short read is the end
 * of the file; cpuacct.stat is not read while the usage has not moved;
 * memory.oom_control / memory.events not while the host's OOM kill count
 * has not; the second blkio file not when the first lists no device.
 */
#ifndef SONDE_CGROUP_H
#define SONDE_CGROUP_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sonde.h"

/* ------------------------------------------------------------------ */
/* Layout: where each controller lives                                  */
/* ------------------------------------------------------------------ */

/* v1 controller names; on v2, CG_CPU and CG_CPUACCT are both "cpu" and
 * CG_BLKIO is "io". */
enum cgroup_ctrl { CG_CPU, CG_CPUACCT, CG_MEMORY, CG_BLKIO, CG_PIDS, CG_NCTRL };

struct cgroup_layout {
    char *v1[CG_NCTRL];     /* v1 mount directory of each controller; NULL: not on v1. Owned. */
    char *v2;               /* the cgroup2 mount directory, or NULL. Owned. */
    bool v2_ctrl[CG_NCTRL]; /* the controller is enabled in the unified hierarchy */
    const char *root;       /* the hierarchy walked to find containers: v2 or a v1 entry */
};

/* ------------------------------------------------------------------ */
/* One container's files                                                */
/* ------------------------------------------------------------------ */

/* The files read on every cycle, kept open between reads. */
enum cgroup_file {
    CG_V1_CPUACCT_USAGE,
    CG_V1_CPUACCT_STAT,
    CG_V1_CPU_STAT,
    CG_V1_MEM_USAGE,
    CG_V1_MEM_STAT,
    CG_V1_MEM_OOM,
    CG_V1_MEM_MAX_USAGE, /* line protocol only */
    CG_V1_MEM_FAILCNT,   /* line protocol only */
    CG_V1_BLKIO_BYTES,
    CG_V1_BLKIO_OPS,
    CG_V1_PIDS_CURRENT,
    CG_V2_CPU_STAT,
    CG_V2_MEM_CURRENT,
    CG_V2_MEM_STAT,
    CG_V2_MEM_EVENTS,
    CG_V2_MEM_PEAK, /* line protocol only */
    CG_V2_IO_STAT,
    CG_V2_PIDS_CURRENT,
    CG_V2_PSI_CPU,
    CG_V2_PSI_MEMORY,
    CG_V2_PSI_IO,
    CG_PROCS,   /* cgroup.procs of the discovery hierarchy */
    CG_NET_DEV, /* <procfs>/<first pid>/net/dev */
    CG_NFILES
};

/* fd slot values besides a descriptor. */
#define CG_FD_CLOSED (-1) /* not opened yet */
#define CG_FD_ABSENT (-2) /* the file does not exist: not retried before the next limits read */

/* Limits: they rarely change, so they are re-read only when the container
 * appears and then every CGROUP_LIMITS_REFRESH (cgroup.c). */
struct cgroup_limits {
    bool has_memory;
    uint64_t memory; /* bytes; UINT64_MAX: unlimited */
    bool has_cpu;    /* a CPU controller answered */
    bool cpu_quota;  /* a CFS quota is set: throttling counters move */
    bool has_pids;
    uint64_t pids; /* 0: unlimited ("max"), as cAdvisor reports it */
};

/* Throttling counters. */
struct cgroup_throttling {
    uint64_t periods, throttled_periods, throttled_ns;
};

/* A container as the readers see it; owned by cgroup.c. */
struct cgroup_handle {
    const struct cgroup_layout *layout;  /* borrowed from the plugin state */
    const char *rel;                     /* "/docker/<id>": path below each mount; borrowed */
    int fd[CG_NFILES];                   /* CG_FD_CLOSED, CG_FD_ABSENT or an open descriptor */
    bool blkio_flat;                     /* no *_recursive blkio files: use the flat ones */
    struct cgroup_limits limits;         /* from the last limits read */
    bool has_throttling;                 /* `throttling` holds a reading */
    struct cgroup_throttling throttling; /* v1 cpu.stat, kept while no quota makes it move */
    bool has_ticks; /* the last cpuacct.stat reading (in ns), and the usage then */
    uint64_t ticks_usage_ns, user_ns, system_ns;
    bool has_oom; /* the last OOM kill count read, kept while the host's does not move */
    uint64_t oom_kills;
};

/* ------------------------------------------------------------------ */
/* What a read finds                                                    */
/* ------------------------------------------------------------------ */

/* memory.stat keys the plugin uses, in strcmp order (looked up by binary
 * search): the v1 keys Telegraf's docker input copies, plus v2's anon and
 * file. */
enum cgroup_memstat {
    CG_MS_ACTIVE_ANON,
    CG_MS_ACTIVE_FILE,
    CG_MS_ANON,
    CG_MS_CACHE,
    CG_MS_FILE,
    CG_MS_HIERARCHICAL_MEMORY_LIMIT,
    CG_MS_INACTIVE_ANON,
    CG_MS_INACTIVE_FILE,
    CG_MS_MAPPED_FILE,
    CG_MS_PGFAULT,
    CG_MS_PGMAJFAULT,
    CG_MS_PGPGIN,
    CG_MS_PGPGOUT,
    CG_MS_RSS,
    CG_MS_RSS_HUGE,
    CG_MS_TOTAL_ACTIVE_ANON,
    CG_MS_TOTAL_ACTIVE_FILE,
    CG_MS_TOTAL_CACHE,
    CG_MS_TOTAL_INACTIVE_ANON,
    CG_MS_TOTAL_INACTIVE_FILE,
    CG_MS_TOTAL_MAPPED_FILE,
    CG_MS_TOTAL_PGFAULT,
    CG_MS_TOTAL_PGMAJFAULT,
    CG_MS_TOTAL_PGPGIN,
    CG_MS_TOTAL_PGPGOUT,
    CG_MS_TOTAL_RSS,
    CG_MS_TOTAL_RSS_HUGE,
    CG_MS_TOTAL_UNEVICTABLE,
    CG_MS_TOTAL_WRITEBACK,
    CG_MS_UNEVICTABLE,
    CG_MS_WRITEBACK,
    CG_MS_N
};

/* The name of a memory.stat key (also Telegraf's field name). */
static inline const char *cgroup_memstat_name(enum cgroup_memstat key)
{
    static const char *const names[CG_MS_N] = {
        "active_anon",
        "active_file",
        "anon",
        "cache",
        "file",
        "hierarchical_memory_limit",
        "inactive_anon",
        "inactive_file",
        "mapped_file",
        "pgfault",
        "pgmajfault",
        "pgpgin",
        "pgpgout",
        "rss",
        "rss_huge",
        "total_active_anon",
        "total_active_file",
        "total_cache",
        "total_inactive_anon",
        "total_inactive_file",
        "total_mapped_file",
        "total_pgfault",
        "total_pgmajfault",
        "total_pgpgin",
        "total_pgpgout",
        "total_rss",
        "total_rss_huge",
        "total_unevictable",
        "total_writeback",
        "unevictable",
        "writeback",
    };
    return names[key];
}

struct cgroup_cpu_stats {
    bool has_usage;
    uint64_t usage_ns; /* cpuacct.usage, or usage_usec on v2 */
    bool has_user_system;
    uint64_t user_ns, system_ns;
    bool has_throttling; /* the counters below are a reading (maybe kept from earlier) */
    struct cgroup_throttling throttling;
};

struct cgroup_mem_stats {
    bool has_usage;
    uint64_t usage; /* memory.usage_in_bytes or memory.current */
    bool has_stat;
    uint64_t stat_present; /* bit (1 << key) for each memory.stat key found */
    uint64_t stat[CG_MS_N];
    bool has_oom;
    uint64_t oom_kills;
    bool has_max_usage;
    uint64_t max_usage; /* memory.max_usage_in_bytes or memory.peak */
    bool has_failcnt;
    uint64_t failcnt;
    bool v2; /* stat keys are v2's (anon, file ...) */
};

/* Block I/O operations as the v1 blkio files name them (Docker lowercases
 * them for Telegraf's field names). */
enum cgroup_io_op {
    CG_IO_READ,
    CG_IO_WRITE,
    CG_IO_SYNC,
    CG_IO_ASYNC,
    CG_IO_DISCARD,
    CG_IO_TOTAL,
    CG_IO_NOPS
};

static inline const char *cgroup_io_op_name(enum cgroup_io_op op)
{
    static const char *const names[CG_IO_NOPS] = {"read",  "write",   "sync",
                                                  "async", "discard", "total"};
    return names[op];
}

struct cgroup_io_device {
    unsigned major, minor;
    uint8_t has_bytes, has_ios; /* bit (1 << op) for each operation found */
    uint64_t bytes[CG_IO_NOPS];
    uint64_t ios[CG_IO_NOPS];
};

/* A pressure file: "some ... total=N" and (kernel 5.13+ for cpu) "full". */
struct cgroup_psi {
    bool has_some, has_full;
    uint64_t some_us, full_us;
};

enum cgroup_psi_resource { CG_PSI_CPU, CG_PSI_MEMORY, CG_PSI_IO, CG_PSI_N };

/* One interface of /proc/<pid>/net/dev (the columns Docker reports). */
struct cgroup_netif {
    char name[32];
    uint64_t rx_bytes, rx_packets, rx_errors, rx_dropped;
    uint64_t tx_bytes, tx_packets, tx_errors, tx_dropped;
};

struct cgroup_stats {
    bool vanished; /* the cgroup was removed during the read: emit nothing */
    struct cgroup_cpu_stats cpu;
    struct cgroup_mem_stats mem;
    struct cgroup_io_device *io; /* grows with sonde_xrealloc; reused, freed by the owner */
    size_t nio, io_cap;
    bool has_pids;
    uint64_t pids; /* pids.current: tasks, threads included */
    struct cgroup_psi psi[CG_PSI_N];
    bool has_procs;
    uint64_t nprocs;          /* lines of cgroup.procs */
    long first_pid;           /* 0: none */
    struct cgroup_netif *net; /* grows like `io` */
    size_t nnet, net_cap;
};

/* Empties `st` for the next container, keeping its arrays. */
static inline void cgroup_stats_reset(struct cgroup_stats *st)
{
    struct cgroup_io_device *io = st->io;
    size_t io_cap = st->io_cap;
    struct cgroup_netif *net = st->net;
    size_t net_cap = st->net_cap;
    memset(st, 0, sizeof(*st));
    st->io = io;
    st->io_cap = io_cap;
    st->net = net;
    st->net_cap = net_cap;
}

static inline void cgroup_stats_free(struct cgroup_stats *st)
{
    free(st->io);
    free(st->net);
    memset(st, 0, sizeof(*st));
}

/* The entry for device major:minor, appended (zeroed) when new. */
static inline struct cgroup_io_device *cgroup_stats_io(struct cgroup_stats *st, unsigned major,
                                                       unsigned minor)
{
    for (size_t i = 0; i < st->nio; i++)
        if (st->io[i].major == major && st->io[i].minor == minor)
            return &st->io[i];
    if (st->nio == st->io_cap) {
        st->io_cap = st->io_cap ? st->io_cap * 2 : 4;
        st->io = sonde_xrealloc(st->io, st->io_cap * sizeof(*st->io));
    }
    struct cgroup_io_device *d = &st->io[st->nio++];
    memset(d, 0, sizeof(*d));
    d->major = major;
    d->minor = minor;
    return d;
}

/* ------------------------------------------------------------------ */
/* Reading files                                                        */
/* ------------------------------------------------------------------ */

/* What every read of one cycle shares: one scratch buffer for all the
 * files (a buffer per file would cost 4 KiB times 20 files times 1,000
 * containers), and the budget of descriptors kept open. */
struct cgroup_reader {
    char *buf; /* scratch, NUL-terminated after a read; owned by the plugin state */
    size_t cap;
    size_t open_fds, max_fds;     /* kept open / allowed to keep open */
    long ticks_per_second;        /* USER_HZ, for cpuacct.stat */
    bool limits;                  /* this read also re-reads the container's limits */
    bool want_points;             /* read the files only line protocol uses */
    bool pressure;                /* read the pressure files */
    bool oom_unchanged;           /* the host's OOM kills (vmstat) did not move: no container's */
    uint64_t skipped;             /* malformed values found */
    uint64_t errors;              /* files that could not be read (other than gone or absent) */
    uint8_t memstat_slots[64];    /* hash index of the memory.stat keys: key + 1, 0 empty */
    uint8_t memstat_len[CG_MS_N]; /* length of each key */
    bool memstat_ready;           /* memstat_slots is built */
};

/* Closes the descriptors of `h` (and forgets absent files). */
static inline void cgroup_handle_close(struct cgroup_reader *r, struct cgroup_handle *h)
{
    for (int i = 0; i < CG_NFILES; i++) {
        if (h->fd[i] >= 0) {
            close(h->fd[i]);
            if (r->open_fds > 0)
                r->open_fds--;
        }
        h->fd[i] = CG_FD_CLOSED;
    }
}

/* A first read shorter than this, and shorter than asked, is the whole
 * file: the kernel fills a seq_file read up to a page before it stops. */
#define CGROUP_SHORT_READ 2048

/* Reads `fd` from offset 0 into r->buf. Returns the length or -errno.
 * Asking again for the end of file would make the kernel generate the
 * whole file a second time (a seq_file read at an offset starts over), so
 * a short first read ends it; this halves the cost of a cgroup read. */
static inline long cgroup_pread_all(struct cgroup_reader *r, int fd)
{
    size_t len = 0;
    for (;;) {
        if (r->cap - len < 2) {
            r->cap = r->cap ? r->cap * 2 : 16384;
            r->buf = sonde_xrealloc(r->buf, r->cap);
        }
        size_t want = r->cap - len - 1;
        /* The raw system call: glibc's pread() is a cancellation point, whose
         * bookkeeping is a measurable share of 10,000 reads a cycle. */
        ssize_t n = (ssize_t)syscall(SYS_pread64, fd, r->buf + len, want, (off_t)len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len == (size_t)n && (size_t)n < want && n < CGROUP_SHORT_READ)
            break;
    }
    r->buf[len] = '\0';
    return (long)len;
}

static inline int cgroup_open(const char *dir, const char *rel, const char *name)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s%s/%s", dir, rel, name);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -ENAMETOOLONG;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/*
 * Reads <dir><rel>/<name> into r->buf through the slot *fd, opening it the
 * first time and keeping it open while the budget allows. Returns the
 * length, -ENOENT when the file does not exist (the slot remembers it),
 * -ENODEV when the cgroup is gone, or another -errno. A descriptor of a
 * removed cgroup answers ENODEV: the file is reopened once, because a
 * restarted container gets a new cgroup under the same path.
 */
static inline long cgroup_file_read(struct cgroup_reader *r, int *fd, const char *dir,
                                    const char *rel, const char *name)
{
    if (*fd == CG_FD_ABSENT)
        return -ENOENT;
    for (int attempt = 0; attempt < 2; attempt++) {
        bool keep = true;
        if (*fd < 0) {
            int nfd = cgroup_open(dir, rel, name);
            if (nfd < 0 && attempt > 0)
                return nfd == -ENOENT ? -ENODEV : nfd; /* it was there a moment ago */
            if (nfd < 0) {
                if (nfd == -ENOENT)
                    *fd = CG_FD_ABSENT;
                return nfd;
            }
            keep = r->open_fds < r->max_fds;
            if (keep) {
                *fd = nfd;
                r->open_fds++;
            } else {
                long len = cgroup_pread_all(r, nfd); /* over budget: open, read, close */
                close(nfd);
                if (len == -EOPNOTSUPP) {
                    *fd = CG_FD_ABSENT;
                    return -ENOENT;
                }
                return len;
            }
        }
        long len = cgroup_pread_all(r, *fd);
        if (len >= 0)
            return len;
        close(*fd);
        *fd = CG_FD_CLOSED;
        if (r->open_fds > 0)
            r->open_fds--;
        if (len == -EOPNOTSUPP) { /* pressure files with PSI off (psi=0): as if absent */
            *fd = CG_FD_ABSENT;
            return -ENOENT;
        }
        if (len != -ENODEV)
            return len;
    }
    return -ENODEV;
}

/* Sorts out the result of cgroup_file_read: true when there is text to
 * parse. A gone cgroup sets `vanished`; a missing file is normal; any other
 * error is counted. */
static inline bool cgroup_read_ok(struct cgroup_reader *r, struct cgroup_stats *st, long rc)
{
    if (rc >= 0)
        return true;
    if (rc == -ENODEV)
        st->vanished = true;
    else if (rc != -ENOENT)
        r->errors++;
    return false;
}

/* Reads a file that is not kept open (limits): -errno or the length. */
static inline long cgroup_file_read_once(struct cgroup_reader *r, const char *dir, const char *rel,
                                         const char *name)
{
    int fd = cgroup_open(dir, rel, name);
    if (fd < 0)
        return fd;
    long len = cgroup_pread_all(r, fd);
    close(fd);
    return len;
}

/* ------------------------------------------------------------------ */
/* Parsing helpers shared by the readers                                */
/* ------------------------------------------------------------------ */

/* Parses an unsigned decimal at *p, advancing it; false when there is no
 * digit or the value overflows. Faster than strtoull on the hot path, and
 * refuses the signs and blanks strtoull accepts. */
static inline bool cgroup_parse_u64(const char **p, uint64_t *out)
{
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return false;
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    *p = s;
    return true;
}

/* Parses a file holding one number (and a newline). */
static inline bool cgroup_parse_single(const char *buf, uint64_t *out)
{
    const char *p = buf;
    if (!cgroup_parse_u64(&p, out))
        return false;
    return *p == '\0' || *p == '\n';
}

/* FNV-1a of a memory.stat key. */
static inline uint32_t cgroup_memstat_hash(const char *key, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    return h;
}

/* The memory.stat key `key` (not NUL-terminated, `len` bytes), or -1: a
 * hash table built on first use, because memory.stat has ~50 lines and is
 * parsed for every container on every cycle. */
static inline int cgroup_memstat_find(struct cgroup_reader *r, const char *key, size_t len)
{
    uint8_t *slots = r->memstat_slots;
    if (!r->memstat_ready) {
        memset(r->memstat_slots, 0, sizeof(r->memstat_slots));
        for (int k = 0; k < CG_MS_N; k++) {
            const char *name = cgroup_memstat_name((enum cgroup_memstat)k);
            r->memstat_len[k] = (uint8_t)strlen(name);
            uint32_t s = cgroup_memstat_hash(name, strlen(name)) & 63;
            while (slots[s])
                s = (s + 1) & 63;
            slots[s] = (uint8_t)(k + 1);
        }
        r->memstat_ready = true;
    }
    for (uint32_t s = cgroup_memstat_hash(key, len) & 63; slots[s]; s = (s + 1) & 63) {
        int k = slots[s] - 1;
        if (r->memstat_len[k] == len &&
            memcmp(cgroup_memstat_name((enum cgroup_memstat)k), key, len) == 0)
            return k;
    }
    return -1;
}

/* Parses memory.stat ("key value" lines, v1 or v2) into `mem`. Keys the
 * plugin does not use are passed over; a malformed line is counted. */
static inline void cgroup_parse_memory_stat(struct cgroup_reader *r, const char *buf,
                                            struct cgroup_mem_stats *mem)
{
    mem->stat_present = 0;
    for (const char *line = buf; *line;) {
        const char *sp = line;
        while (*sp && *sp != ' ' && *sp != '\n')
            sp++;
        const char *nl = strchr(sp, '\n');
        const char *next = nl ? nl + 1 : sp + strlen(sp);
        if (*sp == ' ') {
            int key = cgroup_memstat_find(r, line, (size_t)(sp - line));
            if (key >= 0) {
                const char *p = sp + 1;
                uint64_t v;
                if (cgroup_parse_u64(&p, &v) && (*p == '\n' || *p == '\0')) {
                    mem->stat[key] = v;
                    mem->stat_present |= 1ull << key;
                } else {
                    r->skipped++;
                }
            }
        } else if (sp != line) {
            r->skipped++; /* a key without a value */
        }
        line = next;
    }
    mem->has_stat = true;
}

static inline bool cgroup_memstat_has(const struct cgroup_mem_stats *mem, enum cgroup_memstat key)
{
    return (mem->stat_present >> key) & 1;
}

/* Counts the pids of cgroup.procs and keeps the first. */
static inline bool cgroup_parse_procs(const char *buf, uint64_t *count, long *first)
{
    uint64_t n = 0;
    *first = 0;
    for (const char *p = buf; *p;) {
        uint64_t pid;
        if (!cgroup_parse_u64(&p, &pid) || (*p != '\n' && *p != '\0') || pid == 0 ||
            pid > 0x7fffffff)
            return false;
        if (n++ == 0)
            *first = (long)pid;
        if (*p == '\n')
            p++;
    }
    *count = n;
    return true;
}

/* ------------------------------------------------------------------ */
/* cgroup_v1.c                                                          */
/* ------------------------------------------------------------------ */

/* Reads the controllers the layout puts on v1 into `st`. */
void cgroup_v1_read(struct cgroup_reader *r, struct cgroup_handle *h, struct cgroup_stats *st);

/* Parsers, exposed for the tests. Each returns false for malformed text. */
bool cgroup_v1_parse_cpuacct_stat(const char *buf, uint64_t *user_ticks, uint64_t *system_ticks);
bool cgroup_v1_parse_cpu_stat(const char *buf, struct cgroup_throttling *out);
bool cgroup_v1_parse_oom_control(const char *buf, uint64_t *oom_kills);
/* memory.limit_in_bytes, pids.max ("max" allowed), cpu.cfs_quota_us ("-1"). */
bool cgroup_v1_parse_limit(const char *buf, uint64_t *out, bool *unlimited);
bool cgroup_v1_parse_quota(const char *buf, bool *has_quota);
/* One blkio.throttle.io_service_bytes or io_serviced file into st->io;
 * `ios`: the file counts operations. Returns the malformed lines. */
uint64_t cgroup_v1_parse_blkio(const char *buf, bool ios, struct cgroup_stats *st);

/* ------------------------------------------------------------------ */
/* cgroup_v2.c                                                          */
/* ------------------------------------------------------------------ */

/* Reads the controllers the layout puts on v2, and the pressure files. */
void cgroup_v2_read(struct cgroup_reader *r, struct cgroup_handle *h, struct cgroup_stats *st);

bool cgroup_v2_parse_cpu_stat(const char *buf, struct cgroup_cpu_stats *cpu);
/* memory.max, pids.max: a number or "max" (*unlimited). */
bool cgroup_v2_parse_max(const char *buf, uint64_t *out, bool *unlimited);
/* cpu.max: "$MAX $PERIOD"; a quota is set unless $MAX is "max". */
bool cgroup_v2_parse_cpu_max(const char *buf, bool *has_quota);
bool cgroup_v2_parse_memory_events(const char *buf, uint64_t *oom_kills);
/* io.stat into st->io; returns the malformed lines. */
uint64_t cgroup_v2_parse_io_stat(const char *buf, struct cgroup_stats *st);
bool cgroup_v2_parse_pressure(const char *buf, struct cgroup_psi *psi);

/* ------------------------------------------------------------------ */
/* cgroup_names.c: names and images from the container runtimes         */
/* ------------------------------------------------------------------ */

enum cgroup_runtime { CG_RT_DOCKER, CG_RT_PODMAN, CG_RT_N };

struct cgroup_name_entry {
    char id[65]; /* 64 hex digits */
    char *name;  /* without the leading '/'; owned */
    char *image; /* as the runtime lists it ("nginx:1.25"); owned */
};

/* A parsed /containers/json answer, sorted by id. */
struct cgroup_name_table {
    struct cgroup_name_entry *items; /* owned */
    size_t n;
};

struct cgroup_names; /* the runtimes' sockets, answers and back-off */

/* Sockets may be NULL or "" (that runtime is not asked). `refresh_ns`: the
 * period of the refresh, also the back-off after a failure; `timeout_ms`:
 * the most one refresh may take. Freed with cgroup_names_free. */
struct cgroup_names *cgroup_names_new(const char *docker_socket, const char *podman_socket,
                                      int64_t refresh_ns, long timeout_ms);
void cgroup_names_free(struct cgroup_names *names);

/* Whether runtime `rt` should be asked now: its refresh period is over, or
 * `unknown_id` (a container of that runtime has no name yet) and the last
 * attempt succeeded. A runtime that failed waits a whole period. */
bool cgroup_names_due(const struct cgroup_names *names, enum cgroup_runtime rt, int64_t now_ns,
                      bool unknown_id);
/* Asks runtime `rt` for its containers, spending at most `budget_ms`
 * (capped by the timeout). Returns 0 or -errno; either way the attempt
 * counts for the back-off. */
int cgroup_names_refresh(struct cgroup_names *names, enum cgroup_runtime rt, int64_t now_ns,
                         long budget_ms);
/* Successful refreshes of runtime `rt` so far. */
unsigned cgroup_names_generation(const struct cgroup_names *names, enum cgroup_runtime rt);
/* The entry for a 64-hex id in the runtime's last answer, or NULL. */
const struct cgroup_name_entry *cgroup_names_find(const struct cgroup_names *names,
                                                  enum cgroup_runtime rt, const char *id);

/* Parses a /containers/json answer (Docker Engine API, or Podman's
 * compatible one) into `table`, replacing its content. Entries without a
 * 64-hex Id are skipped and counted in *skipped. Returns 0 or -EINVAL. */
int cgroup_names_parse(const char *json, size_t len, struct cgroup_name_table *table,
                       uint64_t *skipped);
void cgroup_name_table_free(struct cgroup_name_table *table);

#endif
