/*
 * cgroup.c - the `cgroup` input: per-container CPU, memory, block I/O,
 * network, PIDs and pressure, found by walking the cgroup hierarchy (v1,
 * v2 or hybrid), as cAdvisor's Prometheus metrics (container_*{id,name,
 * image}) and Telegraf's docker input measurements (docker_container_*).
 *
 * Design note. Each read walks the hierarchy again, but only into the
 * directories that can hold containers (slices, docker/, kubepods/ ...),
 * and matches what it finds against a table of known containers (a hash
 * on the cgroup path): a new path becomes a container, a path no longer
 * found is dropped with its descriptors, so a container that stops simply
 * stops being exported. A known container's files stay open between reads
 * (cgroup.h); its limits are re-read only every CGROUP_LIMITS_REFRESH.
 * Names come from the runtimes' APIs (cgroup_names.c) or from the path
 * itself (LXC, systemd units).
 */
#include <dirent.h>
#include <strings.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "cgroup.h"

struct cgroup_config {
    char *docker_socket;   /* Docker Engine API socket; "" disables */
    char *podman_socket;   /* Podman's Docker-compatible socket; "" disables */
    int64_t name_refresh;  /* ns: periodic refresh of names, and the back-off of a dead socket */
    bool systemd_services; /* also report *.service units */
    bool pressure;         /* read the pressure (PSI) files */
    bool processes;        /* container_processes: read cgroup.procs on every cycle */
};

static const struct sonde_option cgroup_options[] = {
    {"docker_socket", SONDE_OPT_STRING, offsetof(struct cgroup_config, docker_socket),
     "/var/run/docker.sock", false,
     "Docker Engine API socket, for container names and images (\"\": do not ask)"},
    {"podman_socket", SONDE_OPT_STRING, offsetof(struct cgroup_config, podman_socket),
     "/run/podman/podman.sock", false, "Podman's Docker-compatible API socket (\"\": do not ask)"},
    {"name_refresh", SONDE_OPT_DURATION, offsetof(struct cgroup_config, name_refresh), "30s", false,
     "Ask the runtimes for names at least this often (and at most this often while "
     "their socket does not answer); a new container is asked for at once"},
    {"systemd_services", SONDE_OPT_BOOL, offsetof(struct cgroup_config, systemd_services), "false",
     false, "Also report systemd services (*.service cgroups), named by their unit"},
    {"pressure", SONDE_OPT_BOOL, offsetof(struct cgroup_config, pressure), "false", false,
     "Report container_pressure_* from cpu/memory/io.pressure (cgroup v2, or the unified tree "
     "of a hybrid host): three more reads per container"},
    {"processes", SONDE_OPT_BOOL, offsetof(struct cgroup_config, processes), "false", false,
     "Report container_processes (counting cgroup.procs on every read; off in cAdvisor too)"},
    {NULL},
};

/* Limits (memory limit, CFS quota, pids.max), absent files and device
 * names are looked at again this often. */
#define CGROUP_LIMITS_REFRESH_NS (30 * 1000000000LL)
/* The longest a read waits for the runtimes' APIs, all of them together. */
#define CGROUP_API_TIMEOUT_MS 1000
/* Deeper than any runtime nests containers (kubepods slices are 4 deep). */
#define CGROUP_MAX_DEPTH 12
/* Descriptors left to the rest of sonde when the soft limit is the bound. */
#define CGROUP_FD_RESERVE 512

/* What made a directory a container, which also says whom to ask its name. */
enum cgroup_kind {
    CG_KIND_DOCKER,     /* docker-<id>.scope, docker/<id> */
    CG_KIND_PODMAN,     /* libpod-<id>.scope, libpod_parent/libpod-<id> */
    CG_KIND_CONTAINERD, /* cri-containerd-<id>.scope */
    CG_KIND_CRIO,       /* crio-<id>.scope */
    CG_KIND_KUBE,       /* kubepods/<qos>/pod<uid>/<id>: any CRI runtime (cgroupfs driver) */
    CG_KIND_LXC,        /* lxc.payload.<name>, lxc/<name> */
    CG_KIND_SERVICE     /* <unit>.service */
};

/* Where the walk is: what the children of this directory can be. */
enum cgroup_walk_ctx {
    CG_CTX_TOP,      /* the root, slices, user@.service */
    CG_CTX_DOCKER,   /* docker/: children are container ids */
    CG_CTX_LIBPOD,   /* libpod_parent/ */
    CG_CTX_KUBEPODS, /* kubepods/ and its QoS classes */
    CG_CTX_POD,      /* kubepods/.../pod<uid>/ */
    CG_CTX_LXC       /* lxc/ (LXC before 4.0) */
};

#define CG_FOUND_CONTAINER 1u
#define CG_FOUND_DESCEND   2u

/* A classified directory name. */
struct cgroup_ident {
    enum cgroup_kind kind;
    char id[65];      /* 64 hex digits, or "" */
    const char *name; /* LXC and systemd: the name (inside the directory name) */
    size_t name_len;
};

struct cgroup_container {
    char *rel;      /* "/docker/<id>": the path below every mount, and the id label; owned */
    size_t rel_len; /* strlen(rel) */
    uint64_t hash;  /* of rel */
    uint64_t seen;  /* walk generation that last found it */
    enum cgroup_kind kind;
    char runtime_id[65];     /* 64 hex digits or "" */
    char *name, *image;      /* labels: "" until known; owned */
    char *lp_name;           /* container_name tag: the name, or the short id; owned */
    char *lp_image;          /* container_image tag: the image without its tag; owned */
    char *lp_version;        /* container_version tag; owned */
    bool named;              /* the name is final (from the path) or came from a runtime */
    unsigned asked[CG_RT_N]; /* names generation this container was looked up in */
    int64_t limits_due_ns;   /* next limits read (monotonic) */
    struct cgroup_handle h;  /* descriptors and limits */
    long net_pid;            /* whose net/dev the CG_NET_DEV descriptor shows; 0: none */
    bool host_net;           /* that process uses the host's network namespace */
    bool has_prev;           /* the previous read's CPU counters, for usage_percent */
    uint64_t prev_usage_ns, prev_system_ns;
};

/* major:minor to "/dev/<name>" (cAdvisor's device label). */
struct cgroup_devname {
    unsigned major, minor;
    char name[64]; /* "" when the device is unknown */
};

struct cgroup_state {
    const struct cgroup_config *config; /* borrowed: lives as long as the instance */
    char *procfs, *sysfs, *rootfs;      /* copies of the context's paths; owned */
    struct cgroup_layout layout;
    struct cgroup_reader reader;
    struct cgroup_stats stats; /* scratch for one container */

    struct cgroup_container **items; /* every known container; owned */
    size_t n, cap;
    uint32_t *slots; /* hash index: 1 + position in items, 0 empty; owned */
    size_t nslots;   /* a power of two, at least twice n */
    uint64_t generation;

    struct cgroup_names *names;
    struct sonde_file proc_stat; /* host CPU time, for usage_percent and usage_system */
    struct sonde_file vmstat;    /* the host's oom_kill count */
    bool has_oom_kill;           /* oom_kill holds the count of the previous read */
    uint64_t oom_kill;
    uint64_t mem_total;          /* bytes, MemTotal: Docker's limit when there is none */
    unsigned long host_net_ino;  /* inode of the host's net/dev: tells a host-network process */
    int64_t sweep_due_ns;        /* next refresh of mem_total and device names */
    struct cgroup_devname *devs; /* owned */
    size_t ndevs;

    struct sonde_ratelimit log_walk, log_errors, log_skipped;
};

/* ------------------------------------------------------------------ */
/* Families (cAdvisor's names and help)                                 */
/* ------------------------------------------------------------------ */

static const struct sonde_family cgroup_cpu_usage = {
    "container_cpu_usage_seconds_total", SONDE_COUNTER, "Cumulative cpu time consumed in seconds."};
static const struct sonde_family cgroup_cpu_user = {
    "container_cpu_user_seconds_total", SONDE_COUNTER,
    "Cumulative user cpu time consumed in seconds."};
static const struct sonde_family cgroup_cpu_system = {
    "container_cpu_system_seconds_total", SONDE_COUNTER,
    "Cumulative system cpu time consumed in seconds."};
static const struct sonde_family cgroup_cfs_periods = {
    "container_cpu_cfs_periods_total", SONDE_COUNTER,
    "Number of elapsed enforcement period intervals."};
static const struct sonde_family cgroup_cfs_throttled_periods = {
    "container_cpu_cfs_throttled_periods_total", SONDE_COUNTER,
    "Number of throttled period intervals."};
static const struct sonde_family cgroup_cfs_throttled_seconds = {
    "container_cpu_cfs_throttled_seconds_total", SONDE_COUNTER,
    "Total time duration the container has been throttled."};
static const struct sonde_family cgroup_mem_usage = {
    "container_memory_usage_bytes", SONDE_GAUGE,
    "Current memory usage in bytes, including all memory regardless of when it was accessed"};
static const struct sonde_family cgroup_mem_working_set = {
    "container_memory_working_set_bytes", SONDE_GAUGE, "Current working set in bytes."};
static const struct sonde_family cgroup_mem_rss = {"container_memory_rss", SONDE_GAUGE,
                                                   "Size of RSS in bytes."};
static const struct sonde_family cgroup_mem_cache = {"container_memory_cache", SONDE_GAUGE,
                                                     "Number of bytes of page cache memory."};
static const struct sonde_family cgroup_mem_limit = {
    "container_spec_memory_limit_bytes", SONDE_GAUGE, "Memory limit for the container."};
static const struct sonde_family cgroup_oom = {
    "container_oom_events_total", SONDE_COUNTER,
    "Count of out of memory events observed for the container"};
static const struct sonde_family cgroup_fs_read_bytes = {
    "container_fs_reads_bytes_total", SONDE_COUNTER, "Cumulative count of bytes read"};
static const struct sonde_family cgroup_fs_write_bytes = {
    "container_fs_writes_bytes_total", SONDE_COUNTER, "Cumulative count of bytes written"};
static const struct sonde_family cgroup_fs_reads = {"container_fs_reads_total", SONDE_COUNTER,
                                                    "Cumulative count of reads completed"};
static const struct sonde_family cgroup_fs_writes = {"container_fs_writes_total", SONDE_COUNTER,
                                                     "Cumulative count of writes completed"};
static const struct sonde_family cgroup_processes = {
    "container_processes", SONDE_GAUGE, "Number of processes running inside the container."};
static const struct sonde_family cgroup_threads = {
    "container_threads", SONDE_GAUGE, "Number of threads running inside the container"};
static const struct sonde_family cgroup_threads_max = {
    "container_threads_max", SONDE_GAUGE,
    "Maximum number of threads allowed inside the container, infinity if value is zero"};

/* Network, in the order of the values in struct cgroup_netif. */
static const struct sonde_family cgroup_net_families[8] = {
    {"container_network_receive_bytes_total", SONDE_COUNTER, "Cumulative count of bytes received"},
    {"container_network_receive_packets_total", SONDE_COUNTER,
     "Cumulative count of packets received"},
    {"container_network_receive_errors_total", SONDE_COUNTER,
     "Cumulative count of errors encountered while receiving"},
    {"container_network_receive_packets_dropped_total", SONDE_COUNTER,
     "Cumulative count of packets dropped while receiving"},
    {"container_network_transmit_bytes_total", SONDE_COUNTER,
     "Cumulative count of bytes transmitted"},
    {"container_network_transmit_packets_total", SONDE_COUNTER,
     "Cumulative count of packets transmitted"},
    {"container_network_transmit_errors_total", SONDE_COUNTER,
     "Cumulative count of errors encountered while transmitting"},
    {"container_network_transmit_packets_dropped_total", SONDE_COUNTER,
     "Cumulative count of packets dropped while transmitting"},
};

/* Telegraf's docker_container_net fields, same order. */
static const char *const cgroup_net_fields[8] = {"rx_bytes",   "rx_packets", "rx_errors",
                                                 "rx_dropped", "tx_bytes",   "tx_packets",
                                                 "tx_errors",  "tx_dropped"};

/* Pressure: [resource][0 waiting (some), 1 stalled (full)]. */
static const struct sonde_family cgroup_psi_families[CG_PSI_N][2] = {
    {{"container_pressure_cpu_waiting_seconds_total", SONDE_COUNTER,
      "Total time duration tasks in the container have waited due to CPU congestion."},
     {"container_pressure_cpu_stalled_seconds_total", SONDE_COUNTER,
      "Total time duration no tasks in the container could make progress due to CPU "
      "congestion."}},
    {{"container_pressure_memory_waiting_seconds_total", SONDE_COUNTER,
      "Total time duration tasks in the container have waited due to memory congestion."},
     {"container_pressure_memory_stalled_seconds_total", SONDE_COUNTER,
      "Total time duration no tasks in the container could make progress due to memory "
      "congestion."}},
    {{"container_pressure_io_waiting_seconds_total", SONDE_COUNTER,
      "Total time duration tasks in the container have waited due to IO congestion."},
     {"container_pressure_io_stalled_seconds_total", SONDE_COUNTER,
      "Total time duration no tasks in the container could make progress due to IO "
      "congestion."}},
};

/* Telegraf's docker_container_mem fields copied from memory.stat. */
static const enum cgroup_memstat cgroup_lp_memstat[] = {
    CG_MS_ACTIVE_ANON,
    CG_MS_ACTIVE_FILE,
    CG_MS_CACHE,
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
};

/* docker_container_blkio field names: [ios][op]. */
static const char *const cgroup_blkio_fields[2][CG_IO_NOPS] = {
    {"io_service_bytes_recursive_read", "io_service_bytes_recursive_write",
     "io_service_bytes_recursive_sync", "io_service_bytes_recursive_async",
     "io_service_bytes_recursive_discard", "io_service_bytes_recursive_total"},
    {"io_serviced_recursive_read", "io_serviced_recursive_write", "io_serviced_recursive_sync",
     "io_serviced_recursive_async", "io_serviced_recursive_discard", "io_serviced_recursive_total"},
};

static int64_t cgroup_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* Layout from mountinfo                                                */
/* ------------------------------------------------------------------ */

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void cgroup_unescape(char *s)
{
    char *out = s;
    for (char *p = s; *p; p++) {
        if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
            p[3] >= '0' && p[3] <= '7') {
            *out++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
            p += 3;
        } else {
            *out++ = *p;
        }
    }
    *out = '\0';
}

/* A mount point as this process sees it: under --path.sysfs for /sys,
 * under --path.rootfs otherwise. Returns an owned string. */
static char *cgroup_host_path(const struct cgroup_state *st, const char *mount_point)
{
    char path[4096];
    if (strncmp(mount_point, "/sys/", 5) == 0)
        snprintf(path, sizeof(path), "%s%s", st->sysfs, mount_point + 4);
    else if (strcmp(st->rootfs, "/") == 0)
        snprintf(path, sizeof(path), "%s", mount_point);
    else
        snprintf(path, sizeof(path), "%s%s", st->rootfs, mount_point);
    return sonde_xstrdup(path);
}

/* Whether the comma-separated `list` holds `word`. */
static bool cgroup_has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && memcmp(p, word, n) == 0)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

/*
 * One mountinfo line: "36 35 0:29 / /sys/fs/cgroup/cpu rw,relatime shared:1
 * - cgroup cgroup rw,cpu" (see proc(5)). A cgroup v1 mount names its
 * controllers in the super options; the first mount of each wins.
 */
static void cgroup_layout_line(struct cgroup_state *st, char *line)
{
    static const char *const ctrl_names[CG_NCTRL] = {"cpu", "cpuacct", "memory", "blkio", "pids"};
    char *sep = strstr(line, " - "); /* ends the optional fields */
    if (!sep)
        return;
    *sep = '\0';
    char *save = NULL, *mount_point = NULL;
    int n = 0;
    for (char *tok = strtok_r(line, " ", &save); tok && n <= 4; tok = strtok_r(NULL, " ", &save))
        if (n++ == 4)
            mount_point = tok;
    char *fstype = strtok_r(sep + 3, " ", &save);
    char *source = fstype ? strtok_r(NULL, " ", &save) : NULL;
    char *super = source ? strtok_r(NULL, " \n", &save) : NULL;
    if (!mount_point || !super)
        return;
    cgroup_unescape(mount_point);
    if (strcmp(fstype, "cgroup2") == 0) {
        if (!st->layout.v2)
            st->layout.v2 = cgroup_host_path(st, mount_point);
    } else if (strcmp(fstype, "cgroup") == 0) {
        for (int c = 0; c < CG_NCTRL; c++)
            if (!st->layout.v1[c] && cgroup_has_word(super, ctrl_names[c]))
                st->layout.v1[c] = cgroup_host_path(st, mount_point);
    }
}

/* Reads the controllers enabled at the root of the unified hierarchy. */
static void cgroup_layout_v2_controllers(struct cgroup_state *st)
{
    char path[4096], text[512];
    snprintf(path, sizeof(path), "%s/cgroup.controllers", st->layout.v2);
    if (sonde_read_small(path, text, sizeof(text)) < 0)
        return;
    for (char *p = text; *p; p++)
        if (*p == ' ')
            *p = ',';
    struct cgroup_layout *l = &st->layout;
    l->v2_ctrl[CG_CPU] = l->v2_ctrl[CG_CPUACCT] = cgroup_has_word(text, "cpu");
    l->v2_ctrl[CG_MEMORY] = cgroup_has_word(text, "memory");
    l->v2_ctrl[CG_BLKIO] = cgroup_has_word(text, "io");
    l->v2_ctrl[CG_PIDS] = cgroup_has_word(text, "pids");
}

/* Without mountinfo (a bare fixture tree): the usual places under /sys. */
static void cgroup_layout_probe(struct cgroup_state *st)
{
    static const char *const dirs[CG_NCTRL][2] = {{"cpu", "cpu,cpuacct"},
                                                  {"cpuacct", "cpu,cpuacct"},
                                                  {"memory", NULL},
                                                  {"blkio", NULL},
                                                  {"pids", NULL}};
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof(path), "%s/fs/cgroup/cgroup.controllers", st->sysfs);
    if (stat(path, &sb) == 0) {
        snprintf(path, sizeof(path), "%s/fs/cgroup", st->sysfs);
        st->layout.v2 = sonde_xstrdup(path);
        return;
    }
    for (int c = 0; c < CG_NCTRL; c++)
        for (int i = 0; i < 2 && dirs[c][i] && !st->layout.v1[c]; i++) {
            snprintf(path, sizeof(path), "%s/fs/cgroup/%s", st->sysfs, dirs[c][i]);
            if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
                st->layout.v1[c] = sonde_xstrdup(path);
        }
    snprintf(path, sizeof(path), "%s/fs/cgroup/unified/cgroup.controllers", st->sysfs);
    if (stat(path, &sb) == 0) {
        snprintf(path, sizeof(path), "%s/fs/cgroup/unified", st->sysfs);
        st->layout.v2 = sonde_xstrdup(path);
    }
}

/* Finds the hierarchies: mountinfo of pid 1 (the host's view when sonde
 * runs in a container with the host's /proc), else our own, else probing.
 * Returns 0 or -ENOENT when there is no cgroup file system at all. */
static int cgroup_layout_load(struct cgroup_state *st)
{
    static const char *const sources[] = {"1/mountinfo", "self/mountinfo"};
    for (size_t i = 0; i < 2 && !st->layout.v2 && !st->layout.v1[CG_MEMORY]; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", st->procfs, sources[i]);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, f) > 0)
            cgroup_layout_line(st, line);
        free(line);
        fclose(f);
    }
    bool any = st->layout.v2 != NULL;
    for (int c = 0; c < CG_NCTRL; c++)
        any = any || st->layout.v1[c] != NULL;
    if (!any)
        cgroup_layout_probe(st);
    struct cgroup_layout *l = &st->layout;
    if (l->v2)
        cgroup_layout_v2_controllers(st);
    /* Walk the unified tree when the controllers are there; on a v1 or
     * hybrid host, the memory hierarchy (or another v1 one). */
    static const enum cgroup_ctrl order[] = {CG_MEMORY, CG_CPUACCT, CG_CPU, CG_PIDS, CG_BLKIO};
    bool v2_has_any =
        l->v2_ctrl[CG_CPU] || l->v2_ctrl[CG_MEMORY] || l->v2_ctrl[CG_BLKIO] || l->v2_ctrl[CG_PIDS];
    if (l->v2 && v2_has_any)
        l->root = l->v2;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && !l->root; i++)
        l->root = l->v1[order[i]];
    if (!l->root)
        l->root = l->v2;
    return l->root ? 0 : -ENOENT;
}

static void cgroup_layout_free(struct cgroup_layout *l)
{
    for (int c = 0; c < CG_NCTRL; c++)
        free(l->v1[c]);
    free(l->v2);
    memset(l, 0, sizeof(*l));
}

/* ------------------------------------------------------------------ */
/* What a directory is                                                  */
/* ------------------------------------------------------------------ */

static bool cgroup_is_hex64(const char *s, size_t len)
{
    if (len != 64)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static bool cgroup_ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* "<prefix><64 hex><suffix>": copies the id. */
static bool cgroup_match_id(const char *name, const char *prefix, const char *suffix,
                            struct cgroup_ident *id)
{
    size_t len = strlen(name), p = strlen(prefix), s = strlen(suffix);
    if (len != p + 64 + s || memcmp(name, prefix, p) != 0 ||
        memcmp(name + p + 64, suffix, s) != 0 || !cgroup_is_hex64(name + p, 64))
        return false;
    memcpy(id->id, name + p, 64);
    id->id[64] = '\0';
    return true;
}

/*
 * Classifies directory `name` met in context `ctx`: CG_FOUND_CONTAINER
 * (with *id filled), CG_FOUND_DESCEND (with *next), both (user@.service
 * with systemd_services on), or 0 (not looked into: a container's own
 * children, session scopes, anything else).
 */
static unsigned cgroup_classify(enum cgroup_walk_ctx ctx, const char *name, bool services,
                                struct cgroup_ident *id, enum cgroup_walk_ctx *next)
{
    size_t len = strlen(name);
    memset(id, 0, sizeof(*id));
    *next = CG_CTX_TOP;
    /* docker/ holds a thousand ids on a busy host: answer it first. */
    if (ctx == CG_CTX_DOCKER || ctx == CG_CTX_POD) {
        if (!cgroup_is_hex64(name, len))
            return 0;
        memcpy(id->id, name, 65);
        id->kind = ctx == CG_CTX_DOCKER ? CG_KIND_DOCKER : CG_KIND_KUBE;
        return CG_FOUND_CONTAINER;
    }

    /* Runtime scopes (systemd cgroup driver), wherever slices put them. */
    static const struct {
        const char *prefix;
        enum cgroup_kind kind;
    } scopes[] = {{"docker-", CG_KIND_DOCKER},
                  {"libpod-", CG_KIND_PODMAN},
                  {"cri-containerd-", CG_KIND_CONTAINERD},
                  {"crio-", CG_KIND_CRIO}};
    for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++)
        if (cgroup_match_id(name, scopes[i].prefix, ".scope", id)) {
            id->kind = scopes[i].kind;
            return CG_FOUND_CONTAINER;
        }

    switch (ctx) {
    case CG_CTX_LIBPOD:
        if (!cgroup_match_id(name, "libpod-", "", id))
            return 0;
        id->kind = CG_KIND_PODMAN;
        return CG_FOUND_CONTAINER;
    case CG_CTX_KUBEPODS:
        if (strcmp(name, "besteffort") == 0 || strcmp(name, "burstable") == 0) {
            *next = CG_CTX_KUBEPODS;
            return CG_FOUND_DESCEND;
        }
        if (strncmp(name, "pod", 3) == 0) {
            *next = CG_CTX_POD;
            return CG_FOUND_DESCEND;
        }
        return 0;
    case CG_CTX_LXC:
        if (strncmp(name, "lxc.monitor", 11) == 0 || strncmp(name, "lxc.pivot", 9) == 0)
            return 0;
        id->kind = CG_KIND_LXC;
        id->name = name;
        id->name_len = len;
        return CG_FOUND_CONTAINER;
    case CG_CTX_TOP:
    case CG_CTX_DOCKER: /* answered above */
    case CG_CTX_POD:
        break;
    }

    if (strncmp(name, "lxc.payload.", 12) == 0 && len > 12) {
        id->kind = CG_KIND_LXC;
        id->name = name + 12;
        id->name_len = len - 12;
        return CG_FOUND_CONTAINER;
    }
    if (cgroup_ends_with(name, len, ".slice"))
        return CG_FOUND_DESCEND;
    static const struct {
        const char *name;
        enum cgroup_walk_ctx ctx;
    } parents[] = {{"docker", CG_CTX_DOCKER},
                   {"libpod_parent", CG_CTX_LIBPOD},
                   {"kubepods", CG_CTX_KUBEPODS},
                   {"lxc", CG_CTX_LXC},
                   {"lxc.payload", CG_CTX_LXC}};
    for (size_t i = 0; i < sizeof(parents) / sizeof(parents[0]); i++)
        if (strcmp(name, parents[i].name) == 0) {
            *next = parents[i].ctx;
            return CG_FOUND_DESCEND;
        }
    if (cgroup_ends_with(name, len, ".service") && len > 8) {
        unsigned found = 0;
        if (strncmp(name, "user@", 5) == 0) /* rootless containers live in there */
            found |= CG_FOUND_DESCEND;
        if (services) {
            id->kind = CG_KIND_SERVICE;
            id->name = name;
            id->name_len = len;
            found |= CG_FOUND_CONTAINER;
        }
        return found;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The container table                                                  */
/* ------------------------------------------------------------------ */

static uint64_t cgroup_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static void cgroup_index_rebuild(struct cgroup_state *st)
{
    size_t want = 64;
    while (want < st->n * 2 + 2)
        want *= 2;
    if (want != st->nslots) {
        free(st->slots);
        st->slots = sonde_xcalloc(want, sizeof(*st->slots));
        st->nslots = want;
    } else {
        memset(st->slots, 0, st->nslots * sizeof(*st->slots));
    }
    for (size_t i = 0; i < st->n; i++) {
        size_t s = st->items[i]->hash & (st->nslots - 1);
        while (st->slots[s])
            s = (s + 1) & (st->nslots - 1);
        st->slots[s] = (uint32_t)(i + 1);
    }
}

static struct cgroup_container *cgroup_lookup(const struct cgroup_state *st, const char *rel,
                                              size_t len, uint64_t hash)
{
    if (!st->nslots)
        return NULL;
    for (size_t s = hash & (st->nslots - 1); st->slots[s]; s = (s + 1) & (st->nslots - 1)) {
        struct cgroup_container *c = st->items[st->slots[s] - 1];
        if (c->hash == hash && c->rel_len == len && memcmp(c->rel, rel, len) == 0)
            return c;
    }
    return NULL;
}

/* Telegraf's split of an image reference into name and version
 * ("registry:5000/app:1.2" is "registry:5000/app" and "1.2"; no tag is
 * "unknown"). Stores owned copies in the container. */
static void cgroup_set_image(struct cgroup_container *c, const char *image)
{
    free(c->image);
    free(c->lp_image);
    free(c->lp_version);
    c->image = sonde_xstrdup(image);
    c->lp_image = NULL;
    c->lp_version = NULL;
    if (!*image) {
        c->lp_image = sonde_xstrdup("");
        c->lp_version = sonde_xstrdup("");
        return;
    }
    const char *slash = strchr(image, '/');
    const char *remainder = image;
    if (slash) {
        size_t dlen = (size_t)(slash - image);
        bool domain = memchr(image, '.', dlen) || memchr(image, ':', dlen) ||
                      (dlen == 9 && memcmp(image, "localhost", 9) == 0);
        if (domain)
            remainder = slash + 1;
    }
    const char *colon = strrchr(remainder, ':');
    size_t name_len = colon ? (size_t)(colon - image) : strlen(image);
    char *name = sonde_xmalloc(name_len + 1);
    memcpy(name, image, name_len);
    name[name_len] = '\0';
    c->lp_image = name;
    c->lp_version = sonde_xstrdup(colon ? colon + 1 : "unknown");
}

/* Sets the name label and the container_name tag (the short id stands in
 * for a name not known yet: line protocol has no other tag to tell two
 * nameless containers apart). */
static void cgroup_set_name(struct cgroup_container *c, const char *name, size_t len)
{
    free(c->name);
    free(c->lp_name);
    c->name = sonde_xmalloc(len + 1);
    memcpy(c->name, name, len);
    c->name[len] = '\0';
    if (len)
        c->lp_name = sonde_xstrdup(c->name);
    else if (c->runtime_id[0]) {
        c->lp_name = sonde_xmalloc(13);
        memcpy(c->lp_name, c->runtime_id, 12);
        c->lp_name[12] = '\0';
    } else
        c->lp_name = sonde_xstrdup(strrchr(c->rel, '/') + 1);
}

static struct cgroup_container *cgroup_add(struct cgroup_state *st, const char *rel, size_t len,
                                           uint64_t hash, const struct cgroup_ident *id)
{
    struct cgroup_container *c = sonde_xcalloc(1, sizeof(*c));
    c->rel = sonde_xmalloc(len + 1);
    memcpy(c->rel, rel, len);
    c->rel[len] = '\0';
    c->rel_len = len;
    c->hash = hash;
    c->kind = id->kind;
    memcpy(c->runtime_id, id->id, sizeof(c->runtime_id));
    for (int i = 0; i < CG_RT_N; i++)
        c->asked[i] = UINT32_MAX;
    c->h.layout = &st->layout;
    c->h.rel = c->rel;
    for (int i = 0; i < CG_NFILES; i++)
        c->h.fd[i] = CG_FD_CLOSED;
    c->named = id->name != NULL;
    cgroup_set_name(c, id->name ? id->name : "", id->name ? id->name_len : 0);
    cgroup_set_image(c, "");
    if (st->n == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 64;
        st->items = sonde_xrealloc(st->items, st->cap * sizeof(*st->items));
    }
    st->items[st->n++] = c;
    if (st->n * 2 + 2 > st->nslots) {
        cgroup_index_rebuild(st);
    } else {
        size_t s = hash & (st->nslots - 1);
        while (st->slots[s])
            s = (s + 1) & (st->nslots - 1);
        st->slots[s] = (uint32_t)st->n;
    }
    return c;
}

static void cgroup_container_free(struct cgroup_state *st, struct cgroup_container *c)
{
    cgroup_handle_close(&st->reader, &c->h);
    free(c->rel);
    free(c->name);
    free(c->image);
    free(c->lp_name);
    free(c->lp_image);
    free(c->lp_version);
    free(c);
}

/* Drops the containers the last walk did not find. */
static void cgroup_drop_unseen(struct cgroup_state *st)
{
    size_t kept = 0;
    for (size_t i = 0; i < st->n; i++) {
        if (st->items[i]->seen == st->generation)
            st->items[kept++] = st->items[i];
        else
            cgroup_container_free(st, st->items[i]);
    }
    if (kept != st->n) {
        st->n = kept;
        cgroup_index_rebuild(st);
    }
}

/* ------------------------------------------------------------------ */
/* The walk                                                             */
/* ------------------------------------------------------------------ */

/*
 * Reads directory <root><rel> and recurses into what may hold containers.
 * `rel` is a buffer of `cap` bytes holding `len` bytes. A directory that
 * vanished meanwhile is normal; other errors are returned from the root
 * only (below it, they just leave that branch out this time).
 */
static int cgroup_walk_dir(struct cgroup_state *st, char *rel, size_t len, size_t cap,
                           enum cgroup_walk_ctx ctx, int depth)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s%s", st->layout.root, rel) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    DIR *dir = opendir(path);
    if (!dir)
        return -errno;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)
            continue;
        if (e->d_name[0] == '.' &&
            (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0')))
            continue;
        size_t nlen = strlen(e->d_name);
        if (len + 1 + nlen + 1 > cap)
            continue; /* deeper than any real hierarchy */
        struct cgroup_ident id;
        enum cgroup_walk_ctx next;
        unsigned found = cgroup_classify(ctx, e->d_name, st->config->systemd_services, &id, &next);
        if (!found)
            continue;
        if (e->d_type == DT_UNKNOWN) { /* some file systems do not say: ask */
            struct stat sb;
            if (fstatat(dirfd(dir), e->d_name, &sb, 0) != 0 || !S_ISDIR(sb.st_mode))
                continue;
        }
        rel[len] = '/';
        memcpy(rel + len + 1, e->d_name, nlen + 1);
        size_t rlen = len + 1 + nlen;
        if (found & CG_FOUND_CONTAINER) {
            uint64_t hash = cgroup_hash(rel, rlen);
            struct cgroup_container *c = cgroup_lookup(st, rel, rlen, hash);
            if (!c)
                c = cgroup_add(st, rel, rlen, hash, &id);
            c->seen = st->generation;
        }
        if ((found & CG_FOUND_DESCEND) && depth < CGROUP_MAX_DEPTH)
            cgroup_walk_dir(st, rel, rlen, cap, next, depth + 1);
        rel[len] = '\0';
    }
    closedir(dir);
    return 0;
}

static int cgroup_walk(struct cgroup_state *st)
{
    char rel[4096] = "";
    return cgroup_walk_dir(st, rel, 0, sizeof(rel), CG_CTX_TOP, 0);
}

/* ------------------------------------------------------------------ */
/* Names                                                                */
/* ------------------------------------------------------------------ */

/* The runtime whose API names containers of this kind; CG_RT_N: none asked
 * on its behalf (a kubepods child may still be found in Docker's list). */
static enum cgroup_runtime cgroup_kind_runtime(enum cgroup_kind kind)
{
    switch (kind) {
    case CG_KIND_DOCKER:
        return CG_RT_DOCKER;
    case CG_KIND_PODMAN:
        return CG_RT_PODMAN;
    default:
        return CG_RT_N;
    }
}

/* Looks the containers up in the runtimes' latest answers, once per answer. */
static void cgroup_apply_names(struct cgroup_state *st)
{
    for (size_t i = 0; i < st->n; i++) {
        struct cgroup_container *c = st->items[i];
        if (!c->runtime_id[0])
            continue;
        for (int rt = 0; rt < CG_RT_N; rt++) {
            unsigned gen = cgroup_names_generation(st->names, rt);
            if (c->asked[rt] == gen)
                continue;
            c->asked[rt] = gen;
            if (rt == CG_RT_PODMAN && c->kind != CG_KIND_PODMAN)
                continue;
            const struct cgroup_name_entry *e = cgroup_names_find(st->names, rt, c->runtime_id);
            if (!e)
                continue;
            if (strcmp(e->name, c->name) != 0)
                cgroup_set_name(c, e->name, strlen(e->name));
            if (strcmp(e->image, c->image) != 0)
                cgroup_set_image(c, e->image);
            c->named = true;
        }
    }
}

/*
 * Asks the runtimes when their period is over, or at once when a container
 * of theirs appeared that their last answer did not have; one second in
 * all, whatever happens (a hung socket times out, and a socket that failed
 * is not asked again before the period is over).
 */
static void cgroup_update_names(struct cgroup_state *st, int64_t now)
{
    bool unknown[CG_RT_N] = {false};
    for (size_t i = 0; i < st->n; i++) {
        const struct cgroup_container *c = st->items[i];
        enum cgroup_runtime rt = cgroup_kind_runtime(c->kind);
        if (rt != CG_RT_N && !c->named && c->asked[rt] != cgroup_names_generation(st->names, rt))
            unknown[rt] = true;
    }
    int64_t start = cgroup_now_ns();
    for (int rt = 0; rt < CG_RT_N; rt++) {
        if (!cgroup_names_due(st->names, rt, now, unknown[rt]))
            continue;
        long spent_ms = (long)((cgroup_now_ns() - start) / 1000000);
        cgroup_names_refresh(st->names, rt, now, CGROUP_API_TIMEOUT_MS - spent_ms);
    }
    cgroup_apply_names(st);
}

/* ------------------------------------------------------------------ */
/* Per-container extras: processes and network                         */
/* ------------------------------------------------------------------ */

/* cAdvisor leaves these interfaces out of a container's network. */
static bool cgroup_net_ignored(const char *name)
{
    static const char *const prefixes[] = {"lo", "veth", "docker", "nerdctl"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncasecmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

/*
 * Parses /proc/<pid>/net/dev into st->net (Docker's eight columns),
 * leaving out the ignored interfaces. Returns the malformed lines.
 */
static uint64_t cgroup_parse_net_dev(const char *buf, struct cgroup_stats *st)
{
    uint64_t bad = 0;
    st->nnet = 0;
    for (const char *line = buf; *line;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        const char *next = nl ? nl + 1 : end;
        const char *colon = NULL;
        for (const char *p = line; p < end; p++)
            if (*p == ':')
                colon = p;
        if (!colon || memchr(line, '|', (size_t)(end - line))) {
            line = next; /* the two header lines, or blank */
            continue;
        }
        const char *name = line;
        while (name < colon && *name == ' ')
            name++;
        size_t nlen = (size_t)(colon - name);
        uint64_t col[16];
        const char *p = colon + 1;
        bool ok = nlen > 0 && nlen < sizeof(st->net->name);
        for (int i = 0; ok && i < 16; i++) {
            while (p < end && *p == ' ')
                p++;
            ok = cgroup_parse_u64(&p, &col[i]) && (p == end || *p == ' ');
        }
        if (!ok) {
            bad++;
            line = next;
            continue;
        }
        char ifname[32];
        memcpy(ifname, name, nlen);
        ifname[nlen] = '\0';
        if (!cgroup_net_ignored(ifname)) {
            if (st->nnet == st->net_cap) {
                st->net_cap = st->net_cap ? st->net_cap * 2 : 4;
                st->net = sonde_xrealloc(st->net, st->net_cap * sizeof(*st->net));
            }
            struct cgroup_netif *n = &st->net[st->nnet++];
            memcpy(n->name, ifname, nlen + 1);
            n->rx_bytes = col[0];
            n->rx_packets = col[1];
            n->rx_errors = col[2];
            n->rx_dropped = col[3];
            n->tx_bytes = col[8];
            n->tx_packets = col[9];
            n->tx_errors = col[10];
            n->tx_dropped = col[11];
        }
        line = next;
    }
    return bad;
}

/* The network of the container's first process, unless it is the host's
 * (--net=host, systemd services): then the container has none of its own,
 * as Docker reports it. A proc net file's inode is its namespace's, so
 * comparing it with pid 1's tells the host's without ptrace rights. */
static void cgroup_read_net(struct cgroup_state *st, struct cgroup_container *c)
{
    struct cgroup_reader *r = &st->reader;
    struct cgroup_stats *s = &st->stats;
    int *fd = &c->h.fd[CG_NET_DEV];
    char pid[32];
    snprintf(pid, sizeof(pid), "/%ld", s->first_pid);
    if (c->net_pid != s->first_pid) {
        if (*fd >= 0) {
            close(*fd);
            if (r->open_fds > 0)
                r->open_fds--;
        }
        *fd = CG_FD_CLOSED;
        c->net_pid = s->first_pid;
        char path[4096];
        struct stat sb;
        snprintf(path, sizeof(path), "%s%s/net/dev", st->procfs, pid);
        c->host_net = stat(path, &sb) == 0 && st->host_net_ino && sb.st_ino == st->host_net_ino;
    }
    if (c->host_net)
        return;
    if (cgroup_file_read(r, fd, st->procfs, pid, "net/dev") < 0) {
        *fd = CG_FD_CLOSED; /* the process is gone: look for the next first pid */
        c->net_pid = 0;
        return;
    }
    r->skipped += cgroup_parse_net_dev(r->buf, s);
}

/* cgroup.procs of the walked hierarchy: process count and first pid. */
static void cgroup_read_procs(struct cgroup_state *st, struct cgroup_container *c)
{
    struct cgroup_reader *r = &st->reader;
    struct cgroup_stats *s = &st->stats;
    long rc = cgroup_file_read(r, &c->h.fd[CG_PROCS], st->layout.root, c->rel, "cgroup.procs");
    if (rc == -ENOENT) /* every cgroup has cgroup.procs: the directory went away */
        s->vanished = true;
    if (!cgroup_read_ok(r, s, rc))
        return;
    if (cgroup_parse_procs(r->buf, &s->nprocs, &s->first_pid))
        s->has_procs = true;
    else
        r->skipped++;
}

/* ------------------------------------------------------------------ */
/* Emission                                                             */
/* ------------------------------------------------------------------ */

/* Label set of one container; [3] is the per-series extra label. */
struct cgroup_labels {
    struct sonde_label l[4];
};

static void cgroup_emit(struct sonde_batch *b, const struct sonde_family *f, double v,
                        struct cgroup_labels *lb, const char *key, const char *value)
{
    if (key) {
        lb->l[3].key = key;
        lb->l[3].value = value;
    }
    sonde_emitv(b, f, v, lb->l, key ? 4 : 3);
}

/* major:minor as cAdvisor names it: "/dev/" and the kernel's name, "" if
 * the device is unknown. Cached; the cache is emptied every sweep. */
static const char *cgroup_device_name(struct cgroup_state *st, unsigned major, unsigned minor)
{
    for (size_t i = 0; i < st->ndevs; i++)
        if (st->devs[i].major == major && st->devs[i].minor == minor)
            return st->devs[i].name;
    st->devs = sonde_xrealloc(st->devs, (st->ndevs + 1) * sizeof(*st->devs));
    struct cgroup_devname *d = &st->devs[st->ndevs++];
    d->major = major;
    d->minor = minor;
    d->name[0] = '\0';
    char path[4096], target[4096];
    snprintf(path, sizeof(path), "%s/dev/block/%u:%u", st->sysfs, major, minor);
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    if (n > 0) {
        target[n] = '\0';
        const char *base = strrchr(target, '/');
        base = base ? base + 1 : target;
        size_t blen = strlen(base);
        if (blen + 6 <= sizeof(d->name)) { /* kernel names are short; a long one stays unknown */
            memcpy(d->name, "/dev/", 5);
            memcpy(d->name + 5, base, blen + 1);
        }
    }
    return d->name;
}

static double cgroup_seconds(uint64_t ns)
{
    return (double)ns / 1e9;
}

/* cAdvisor's container_spec_memory_limit_bytes: 0 when there is none. */
static double cgroup_spec_memory(uint64_t limit)
{
    return limit > (1ull << 62) ? 0.0 : (double)limit;
}

/* Working set as cAdvisor computes it: usage less the inactive file
 * cache (the hierarchical total on v1), never below zero. */
static uint64_t cgroup_working_set(const struct cgroup_mem_stats *m)
{
    enum cgroup_memstat key = m->v2 ? CG_MS_INACTIVE_FILE : CG_MS_TOTAL_INACTIVE_FILE;
    if (!m->v2 && !cgroup_memstat_has(m, key))
        key = CG_MS_INACTIVE_FILE;
    if (!cgroup_memstat_has(m, key))
        return m->usage;
    return m->usage > m->stat[key] ? m->usage - m->stat[key] : 0;
}

/* RSS and cache: anon and file on v2, the hierarchical totals on v1. */
static bool cgroup_mem_value(const struct cgroup_mem_stats *m, bool cache, uint64_t *out)
{
    enum cgroup_memstat keys[2];
    if (m->v2) {
        keys[0] = keys[1] = cache ? CG_MS_FILE : CG_MS_ANON;
    } else {
        keys[0] = cache ? CG_MS_TOTAL_CACHE : CG_MS_TOTAL_RSS;
        keys[1] = cache ? CG_MS_CACHE : CG_MS_RSS;
    }
    for (int i = 0; i < 2; i++)
        if (cgroup_memstat_has(m, keys[i])) {
            *out = m->stat[keys[i]];
            return true;
        }
    return false;
}

static void cgroup_emit_prom(struct cgroup_state *st, const struct cgroup_container *c,
                             struct sonde_batch *b)
{
    const struct cgroup_stats *s = &st->stats;
    const struct cgroup_limits *lim = &c->h.limits;
    struct cgroup_labels lb = {{{"id", c->rel}, {"image", c->image}, {"name", c->name}}};

    if (s->cpu.has_usage)
        cgroup_emit(b, &cgroup_cpu_usage, cgroup_seconds(s->cpu.usage_ns), &lb, "cpu", "total");
    if (s->cpu.has_user_system) {
        cgroup_emit(b, &cgroup_cpu_user, cgroup_seconds(s->cpu.user_ns), &lb, NULL, NULL);
        cgroup_emit(b, &cgroup_cpu_system, cgroup_seconds(s->cpu.system_ns), &lb, NULL, NULL);
    }
    if (s->cpu.has_throttling && lim->cpu_quota) { /* cAdvisor: only with a quota */
        const struct cgroup_throttling *t = &s->cpu.throttling;
        cgroup_emit(b, &cgroup_cfs_periods, (double)t->periods, &lb, NULL, NULL);
        cgroup_emit(b, &cgroup_cfs_throttled_periods, (double)t->throttled_periods, &lb, NULL,
                    NULL);
        cgroup_emit(b, &cgroup_cfs_throttled_seconds, cgroup_seconds(t->throttled_ns), &lb, NULL,
                    NULL);
    }

    const struct cgroup_mem_stats *m = &s->mem;
    uint64_t v;
    if (m->has_usage) {
        cgroup_emit(b, &cgroup_mem_usage, (double)m->usage, &lb, NULL, NULL);
        cgroup_emit(b, &cgroup_mem_working_set, (double)cgroup_working_set(m), &lb, NULL, NULL);
    }
    if (m->has_stat && cgroup_mem_value(m, false, &v))
        cgroup_emit(b, &cgroup_mem_rss, (double)v, &lb, NULL, NULL);
    if (m->has_stat && cgroup_mem_value(m, true, &v))
        cgroup_emit(b, &cgroup_mem_cache, (double)v, &lb, NULL, NULL);
    if (lim->has_memory)
        cgroup_emit(b, &cgroup_mem_limit, cgroup_spec_memory(lim->memory), &lb, NULL, NULL);
    if (m->has_oom)
        cgroup_emit(b, &cgroup_oom, (double)m->oom_kills, &lb, NULL, NULL);

    for (size_t i = 0; i < s->nio; i++) {
        const struct cgroup_io_device *d = &s->io[i];
        const char *dev = cgroup_device_name(st, d->major, d->minor);
        if (d->has_bytes & (1u << CG_IO_READ))
            cgroup_emit(b, &cgroup_fs_read_bytes, (double)d->bytes[CG_IO_READ], &lb, "device", dev);
        if (d->has_bytes & (1u << CG_IO_WRITE))
            cgroup_emit(b, &cgroup_fs_write_bytes, (double)d->bytes[CG_IO_WRITE], &lb, "device",
                        dev);
        if (d->has_ios & (1u << CG_IO_READ))
            cgroup_emit(b, &cgroup_fs_reads, (double)d->ios[CG_IO_READ], &lb, "device", dev);
        if (d->has_ios & (1u << CG_IO_WRITE))
            cgroup_emit(b, &cgroup_fs_writes, (double)d->ios[CG_IO_WRITE], &lb, "device", dev);
    }

    for (size_t i = 0; i < s->nnet; i++) {
        const struct cgroup_netif *n = &s->net[i];
        const uint64_t vals[8] = {n->rx_bytes, n->rx_packets, n->rx_errors, n->rx_dropped,
                                  n->tx_bytes, n->tx_packets, n->tx_errors, n->tx_dropped};
        for (int k = 0; k < 8; k++)
            cgroup_emit(b, &cgroup_net_families[k], (double)vals[k], &lb, "interface", n->name);
    }

    if (s->has_procs)
        cgroup_emit(b, &cgroup_processes, (double)s->nprocs, &lb, NULL, NULL);
    if (s->has_pids)
        cgroup_emit(b, &cgroup_threads, (double)s->pids, &lb, NULL, NULL);
    if (lim->has_pids)
        cgroup_emit(b, &cgroup_threads_max, (double)lim->pids, &lb, NULL, NULL);

    for (int i = 0; i < CG_PSI_N; i++) {
        if (s->psi[i].has_some)
            cgroup_emit(b, &cgroup_psi_families[i][0], (double)s->psi[i].some_us / 1e6, &lb, NULL,
                        NULL);
        if (s->psi[i].has_full)
            cgroup_emit(b, &cgroup_psi_families[i][1], (double)s->psi[i].full_us / 1e6, &lb, NULL,
                        NULL);
    }
}

/* Host values line protocol needs (Docker's usage_system and percentages). */
struct cgroup_host {
    bool has_system;
    uint64_t system_ns; /* the first seven columns of the cpu line, in ns, as Docker sums */
    long online_cpus;
};

static struct sonde_point *cgroup_point(struct sonde_batch *b, const char *measurement,
                                        const struct cgroup_container *c)
{
    struct sonde_point *p = sonde_point(b, measurement);
    sonde_point_tag(b, p, "container_name", c->lp_name);
    sonde_point_tag(b, p, "container_image", c->lp_image);
    sonde_point_tag(b, p, "container_version", c->lp_version);
    return p;
}

static const char *cgroup_lp_id(const struct cgroup_container *c)
{
    return c->runtime_id[0] ? c->runtime_id : c->rel;
}

/* docker_container_mem: memory.stat as Telegraf copies it, limit as Docker
 * reports it (the machine's memory when the container has no limit), and
 * usage without the cache (v1: cache; v2: inactive_file). */
static void cgroup_emit_lp_mem(struct cgroup_state *st, const struct cgroup_container *c,
                               struct sonde_batch *b)
{
    const struct cgroup_mem_stats *m = &st->stats.mem;
    if (!m->has_usage)
        return;
    struct sonde_point *p = cgroup_point(b, "docker_container_mem", c);
    for (size_t i = 0; i < sizeof(cgroup_lp_memstat) / sizeof(cgroup_lp_memstat[0]); i++) {
        enum cgroup_memstat k = cgroup_lp_memstat[i];
        if (cgroup_memstat_has(m, k))
            sonde_point_uint(b, p, cgroup_memstat_name(k), m->stat[k]);
    }
    uint64_t v;
    if (m->v2 && cgroup_mem_value(m, false, &v)) /* beyond Telegraf: v2 has no rss/cache */
        sonde_point_uint(b, p, "rss", v);
    if (m->v2 && cgroup_mem_value(m, true, &v))
        sonde_point_uint(b, p, "cache", v);
    if (m->has_failcnt && m->failcnt != 0)
        sonde_point_uint(b, p, "fail_count", m->failcnt);
    uint64_t limit = c->h.limits.has_memory ? c->h.limits.memory : UINT64_MAX;
    if (st->mem_total && limit > st->mem_total)
        limit = st->mem_total;
    if (limit == UINT64_MAX)
        limit = 0;
    sonde_point_uint(b, p, "limit", limit);
    sonde_point_uint(b, p, "max_usage", m->has_max_usage ? m->max_usage : 0);
    enum cgroup_memstat cache = m->v2 ? CG_MS_INACTIVE_FILE : CG_MS_CACHE;
    uint64_t usage = m->usage;
    if (cgroup_memstat_has(m, cache) && m->stat[cache] < usage)
        usage -= m->stat[cache];
    sonde_point_uint(b, p, "usage", usage);
    sonde_point_float(b, p, "usage_percent", limit ? 100.0 * (double)usage / (double)limit : 0.0);
    sonde_point_string(b, p, "container_id", cgroup_lp_id(c));
}

/* docker_container_cpu,cpu=cpu-total; usage_percent as `docker stats`:
 * the container's share of the host's CPU time since the last read, times
 * the online CPUs. */
static void cgroup_emit_lp_cpu(const struct cgroup_state *st, struct cgroup_container *c,
                               const struct cgroup_host *host, struct sonde_batch *b)
{
    const struct cgroup_cpu_stats *cpu = &st->stats.cpu;
    if (!cpu->has_usage)
        return;
    struct sonde_point *p = cgroup_point(b, "docker_container_cpu", c);
    sonde_point_tag(b, p, "cpu", "cpu-total");
    sonde_point_uint(b, p, "usage_total", cpu->usage_ns);
    sonde_point_uint(b, p, "usage_in_usermode", cpu->has_user_system ? cpu->user_ns : 0);
    sonde_point_uint(b, p, "usage_in_kernelmode", cpu->has_user_system ? cpu->system_ns : 0);
    sonde_point_uint(b, p, "usage_system", host->system_ns);
    const struct cgroup_throttling *t = &cpu->throttling;
    bool th = cpu->has_throttling;
    sonde_point_uint(b, p, "throttling_periods", th ? t->periods : 0);
    sonde_point_uint(b, p, "throttling_throttled_periods", th ? t->throttled_periods : 0);
    sonde_point_uint(b, p, "throttling_throttled_time", th ? t->throttled_ns : 0);
    double percent = 0.0;
    if (c->has_prev && host->has_system && cpu->usage_ns > c->prev_usage_ns &&
        host->system_ns > c->prev_system_ns)
        percent = (double)(cpu->usage_ns - c->prev_usage_ns) /
                  (double)(host->system_ns - c->prev_system_ns) * (double)host->online_cpus * 100.0;
    sonde_point_float(b, p, "usage_percent", percent);
    sonde_point_string(b, p, "container_id", cgroup_lp_id(c));
}

static void cgroup_emit_lp(struct cgroup_state *st, struct cgroup_container *c,
                           const struct cgroup_host *host, struct sonde_batch *b)
{
    const struct cgroup_stats *s = &st->stats;
    cgroup_emit_lp_mem(st, c, b);
    cgroup_emit_lp_cpu(st, c, host, b);
    for (size_t i = 0; i < s->nnet; i++) {
        const struct cgroup_netif *n = &s->net[i];
        const uint64_t vals[8] = {n->rx_bytes, n->rx_packets, n->rx_errors, n->rx_dropped,
                                  n->tx_bytes, n->tx_packets, n->tx_errors, n->tx_dropped};
        struct sonde_point *p = cgroup_point(b, "docker_container_net", c);
        sonde_point_tag(b, p, "network", n->name);
        for (int k = 0; k < 8; k++)
            sonde_point_uint(b, p, cgroup_net_fields[k], vals[k]);
        sonde_point_string(b, p, "container_id", cgroup_lp_id(c));
    }
    for (size_t i = 0; i < s->nio; i++) {
        const struct cgroup_io_device *d = &s->io[i];
        char dev[32];
        snprintf(dev, sizeof(dev), "%u:%u", d->major, d->minor);
        struct sonde_point *p = cgroup_point(b, "docker_container_blkio", c);
        sonde_point_tag(b, p, "device", dev);
        for (int op = 0; op < CG_IO_NOPS; op++)
            if (d->has_bytes & (1u << op))
                sonde_point_uint(b, p, cgroup_blkio_fields[0][op], d->bytes[op]);
        for (int op = 0; op < CG_IO_NOPS; op++)
            if (d->has_ios & (1u << op))
                sonde_point_uint(b, p, cgroup_blkio_fields[1][op], d->ios[op]);
        sonde_point_string(b, p, "container_id", cgroup_lp_id(c));
    }
}

/* ------------------------------------------------------------------ */
/* Reading                                                              */
/* ------------------------------------------------------------------ */

/* Reads one container and emits it, unless its cgroup went away. */
static void cgroup_read_container(struct cgroup_state *st, struct cgroup_container *c, int64_t now,
                                  const struct cgroup_host *host, struct sonde_batch *b)
{
    struct cgroup_reader *r = &st->reader;
    struct cgroup_stats *s = &st->stats;
    cgroup_stats_reset(s);
    r->limits = now >= c->limits_due_ns;
    if (r->limits) {
        for (int i = 0; i < CG_NFILES; i++) /* files may have appeared: look again */
            if (c->h.fd[i] == CG_FD_ABSENT)
                c->h.fd[i] = CG_FD_CLOSED;
        /* Spread the next reads of containers found together over a quarter period. */
        c->limits_due_ns =
            now + CGROUP_LIMITS_REFRESH_NS - (int64_t)(c->hash % (CGROUP_LIMITS_REFRESH_NS / 4));
    }
    cgroup_v1_read(r, &c->h, s);
    cgroup_v2_read(r, &c->h, s);
    /* cgroup.procs is only needed to find the process whose network to
     * read; once found, its network namespace stays the container's (the
     * descriptor keeps it), so it is looked at again with the limits, or on
     * every read when container_processes is wanted. */
    if (!s->vanished && (st->config->processes || !c->net_pid || r->limits))
        cgroup_read_procs(st, c);
    else
        s->first_pid = c->net_pid;
    if (!st->config->processes)
        s->has_procs = false;
    if (s->vanished) {
        /* Gone, or restarted under the same path: start afresh next time. */
        cgroup_handle_close(r, &c->h);
        c->h.has_ticks = false;
        c->h.has_throttling = false;
        c->h.has_oom = false;
        c->limits_due_ns = 0;
        c->net_pid = 0;
        c->has_prev = false;
        return;
    }
    if (s->first_pid) {
        cgroup_read_net(st, c);
    } else if (c->net_pid) { /* no process left: do not hold on to its network */
        if (c->h.fd[CG_NET_DEV] >= 0) {
            close(c->h.fd[CG_NET_DEV]);
            if (r->open_fds > 0)
                r->open_fds--;
        }
        c->h.fd[CG_NET_DEV] = CG_FD_CLOSED;
        c->net_pid = 0;
    }
    if (b->want_series)
        cgroup_emit_prom(st, c, b);
    if (b->want_points)
        cgroup_emit_lp(st, c, host, b);
    c->has_prev = s->cpu.has_usage && host->has_system;
    c->prev_usage_ns = s->cpu.usage_ns;
    c->prev_system_ns = host->system_ns;
}

/* MemTotal from meminfo, in bytes (0 if unreadable). */
static uint64_t cgroup_mem_total(const struct cgroup_state *st)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/meminfo", st->procfs);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    char line[256];
    uint64_t kb = 0;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "MemTotal:", 9) == 0) {
            const char *p = line + 9;
            while (*p == ' ')
                p++;
            if (!cgroup_parse_u64(&p, &kb))
                kb = 0;
            break;
        }
    fclose(f);
    return kb * 1024;
}

/* Docker's system CPU usage: user..softirq of /proc/stat's cpu line, in ns. */
static void cgroup_host_cpu(struct cgroup_state *st, struct cgroup_host *host)
{
    host->has_system = false;
    host->system_ns = 0;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    host->online_cpus = n > 0 ? n : 1;
    if (sonde_file_read(&st->proc_stat) < 0 || strncmp(st->proc_stat.buf, "cpu ", 4) != 0)
        return;
    const char *p = st->proc_stat.buf + 4;
    uint64_t ticks = 0;
    for (int i = 0; i < 7; i++) {
        while (*p == ' ')
            p++;
        uint64_t v;
        if (!cgroup_parse_u64(&p, &v))
            return;
        ticks += v;
    }
    host->system_ns = ticks * (1000000000ull / (uint64_t)st->reader.ticks_per_second);
    host->has_system = true;
}

/* Whether the host's OOM kill count (vmstat oom_kill, 4.13+) is what it
 * was at the previous read; false when it cannot be told. */
static bool cgroup_oom_unchanged(struct cgroup_state *st)
{
    bool had = st->has_oom_kill;
    st->has_oom_kill = false;
    if (sonde_file_read(&st->vmstat) < 0)
        return false;
    const char *p = strstr(st->vmstat.buf, "\noom_kill ");
    uint64_t v;
    if (!p)
        return false;
    p += 10;
    if (!cgroup_parse_u64(&p, &v))
        return false;
    bool same = had && v == st->oom_kill;
    st->oom_kill = v;
    st->has_oom_kill = true;
    return same;
}

static int cgroup_read(void *arg, struct sonde_batch *batch)
{
    struct cgroup_state *st = arg;
    int64_t now = cgroup_now_ns();
    if (!st->layout.root) { /* no cgroup file system on this host: looked for again */
        if (now < st->sweep_due_ns)
            return -ENODATA;
        st->sweep_due_ns = now + CGROUP_LIMITS_REFRESH_NS;
        cgroup_layout_free(&st->layout);
        if (cgroup_layout_load(st) < 0)
            return -ENODATA;
        st->sweep_due_ns = 0;
    }
    st->generation++;
    int rc = cgroup_walk(st);
    if (rc < 0)
        sonde_log_limited(&st->log_walk, 300, SONDE_LOG_WARN, "cgroup: cannot read %s: %s",
                          st->layout.root, strerror(-rc));
    cgroup_drop_unseen(st);
    cgroup_update_names(st, now);

    if (now >= st->sweep_due_ns) {
        st->sweep_due_ns = now + CGROUP_LIMITS_REFRESH_NS;
        st->mem_total = cgroup_mem_total(st);
        st->ndevs = 0; /* devices come and go: name them again */
    }
    struct cgroup_host host = {0};
    if (batch->want_points)
        cgroup_host_cpu(st, &host);

    struct cgroup_reader *r = &st->reader;
    r->want_points = batch->want_points;
    r->oom_unchanged = cgroup_oom_unchanged(st);
    r->skipped = 0;
    r->errors = 0;
    for (size_t i = 0; i < st->n; i++)
        cgroup_read_container(st, st->items[i], now, &host, batch);
    batch->skipped += r->skipped;
    if (r->skipped)
        sonde_log_limited(&st->log_skipped, 300, SONDE_LOG_WARN,
                          "cgroup: skipped %llu malformed value(s)",
                          (unsigned long long)r->skipped);
    if (r->errors)
        sonde_log_limited(&st->log_errors, 300, SONDE_LOG_WARN,
                          "cgroup: %llu cgroup file(s) could not be read",
                          (unsigned long long)r->errors);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Init and destroy                                                     */
/* ------------------------------------------------------------------ */

/*
 * How many descriptors to keep open: up to ~20 per container, so the soft
 * limit (1,024 by default) is raised to the hard one, as Go programs
 * (cAdvisor, Telegraf) do at start. What does not fit is opened and
 * closed on each read instead.
 */
static size_t cgroup_fd_budget(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit raised = {rl.rlim_max, rl.rlim_max};
        if (raised.rlim_cur > (1u << 20))
            raised.rlim_cur = 1u << 20;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            rl.rlim_cur = raised.rlim_cur;
    }
    if (rl.rlim_cur == RLIM_INFINITY)
        return 1u << 20;
    return rl.rlim_cur > CGROUP_FD_RESERVE * 2 ? (size_t)(rl.rlim_cur - CGROUP_FD_RESERVE)
                                               : (size_t)(rl.rlim_cur / 2);
}

static void cgroup_destroy(void *arg)
{
    struct cgroup_state *st = arg;
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++)
        cgroup_container_free(st, st->items[i]);
    free(st->items);
    free(st->slots);
    cgroup_names_free(st->names);
    sonde_file_close(&st->proc_stat);
    sonde_file_close(&st->vmstat);
    cgroup_stats_free(&st->stats);
    free(st->reader.buf);
    free(st->devs);
    cgroup_layout_free(&st->layout);
    free(st->procfs);
    free(st->sysfs);
    free(st->rootfs);
    free(st);
}

static int cgroup_init(void **out, const void *config, const struct sonde_context *ctx)
{
    struct cgroup_state *st = sonde_xcalloc(1, sizeof(*st));
    st->config = config;
    st->procfs = sonde_xstrdup(ctx->procfs);
    st->sysfs = sonde_xstrdup(ctx->sysfs);
    st->rootfs = sonde_xstrdup(ctx->rootfs);
    if (cgroup_layout_load(st) < 0) /* not mounted (yet): read() says -ENODATA */
        sonde_log(SONDE_LOG_DEBUG,
                  "cgroup: no cgroup file system in %s/1/mountinfo or %s/fs/cgroup", st->procfs,
                  st->sysfs);
    long hz = sysconf(_SC_CLK_TCK);
    st->reader.ticks_per_second = hz > 0 ? hz : 100;
    st->reader.max_fds = cgroup_fd_budget();
    st->reader.pressure = st->config->pressure;
    st->names = cgroup_names_new(st->config->docker_socket, st->config->podman_socket,
                                 st->config->name_refresh > 0 ? st->config->name_refresh
                                                              : CGROUP_LIMITS_REFRESH_NS,
                                 CGROUP_API_TIMEOUT_MS);
    char path[4096];
    snprintf(path, sizeof(path), "%s/stat", st->procfs);
    sonde_file_init(&st->proc_stat, path);
    snprintf(path, sizeof(path), "%s/vmstat", st->procfs);
    sonde_file_init(&st->vmstat, path);
    struct stat sb;
    snprintf(path, sizeof(path), "%s/1/net/dev", st->procfs);
    if (stat(path, &sb) == 0)
        st->host_net_ino = (unsigned long)sb.st_ino;
    *out = st;
    return 0;
}

const struct sonde_plugin sonde_plugin_cgroup = {
    .name = "cgroup",    /* configuration key */
    .kind = SONDE_INPUT, /* reads the host's cgroups */
    .summary = "Per-container CPU, memory, I/O, network, PIDs and pressure from cgroups v1/v2",
    .config_size = sizeof(struct cgroup_config), /* filled from cgroup_options */
    .options = cgroup_options,                   /* sockets, name_refresh, systemd_services ... */
    .init = cgroup_init,                         /* finds the hierarchies in mountinfo */
    .read = cgroup_read,                         /* walk, names, then every container */
    .write = NULL,                               /* inputs do not write */
    .destroy = cgroup_destroy,                   /* closes every descriptor, frees the table */
};
