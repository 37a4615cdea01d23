/*
 * disk.c - filesystem usage of every mount listed in <procfs>/1/mountinfo,
 * measured with statvfs: node_exporter 1.5's filesystem collector
 * (node_filesystem_*) and Telegraf's inputs.disk (measurement "disk").
 */
#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <regex.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "sonde.h"

/*
 * Each format filters like its peer, so that switching agents keeps the same
 * series. Prometheus: mount_points_exclude and fs_types_exclude, node_exporter
 * 1.5's upstream defaults (Debian's package patches the mount point default
 * to also leave out /run, /mnt and /media); a mount seen twice with the same
 * device, mount point and type is reported once. Line protocol: ignore_fs,
 * the list in Telegraf's sample configuration (Telegraf's built-in default
 * is empty), plus autofs always; filesystems of size 0 (proc, sysfs, cgroup)
 * and mounts statvfs cannot read are left out, duplicates are not merged.
 *
 * With --path.rootfs (ctx->rootfs) the daemon runs in a container that sees
 * the host's root there: mount points under rootfs are reported relative to
 * it, and statvfs is called on rootfs + mount point.
 *
 * The mount table changes rarely, so what the filters make of it (a plan:
 * the mounts to statvfs, with their labels) is kept between reads. procfs
 * tells when it changed: poll(2) on an open mountinfo reports POLLPRI after
 * a mount or an unmount in its namespace. mountinfo is read and parsed
 * again then, after DISK_PLAN_READS reads in any case, and on every read
 * when the file is not on procfs (fixture trees), where poll says nothing.
 */

#define DISK_DEFAULT_MOUNT_POINTS_EXCLUDE                                                          \
    "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"
#define DISK_DEFAULT_FS_TYPES_EXCLUDE                                                              \
    "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|"        \
    "iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|"     \
    "sysfs|tracefs)$"
#define DISK_DEFAULT_IGNORE_FS "tmpfs,devtmpfs,devfs,iso9660,overlay,aufs,squashfs"

struct disk_config {
    char *mount_points_exclude;     /* Prometheus: ERE on the mountpoint label; "": none */
    char *fs_types_exclude;         /* Prometheus: ERE on the fstype label; "": none */
    struct sonde_strings ignore_fs; /* line protocol: filesystem types left out */
};

static const struct sonde_option disk_options[] = {
    {"mount_points_exclude", SONDE_OPT_REGEX, offsetof(struct disk_config, mount_points_exclude),
     DISK_DEFAULT_MOUNT_POINTS_EXCLUDE, false,
     "Prometheus only: POSIX extended regex of mount points to leave out (node_exporter's)"},
    {"fs_types_exclude", SONDE_OPT_REGEX, offsetof(struct disk_config, fs_types_exclude),
     DISK_DEFAULT_FS_TYPES_EXCLUDE, false,
     "Prometheus only: POSIX extended regex of filesystem types to leave out (node_exporter's)"},
    {"ignore_fs", SONDE_OPT_STRING_LIST, offsetof(struct disk_config, ignore_fs),
     DISK_DEFAULT_IGNORE_FS, false,
     "line protocol only: filesystem types to leave out (Telegraf's sample ignore_fs)"},
    {NULL},
};

static const struct sonde_family disk_size_family = {"node_filesystem_size_bytes", SONDE_GAUGE,
                                                     "Filesystem size in bytes."};
static const struct sonde_family disk_free_family = {"node_filesystem_free_bytes", SONDE_GAUGE,
                                                     "Filesystem free space in bytes."};
static const struct sonde_family disk_avail_family = {
    "node_filesystem_avail_bytes", SONDE_GAUGE,
    "Filesystem space available to non-root users in bytes."};
static const struct sonde_family disk_files_family = {"node_filesystem_files", SONDE_GAUGE,
                                                      "Filesystem total file nodes."};
static const struct sonde_family disk_files_free_family = {
    "node_filesystem_files_free", SONDE_GAUGE, "Filesystem total free file nodes."};
static const struct sonde_family disk_readonly_family = {"node_filesystem_readonly", SONDE_GAUGE,
                                                         "Filesystem read-only status."};
static const struct sonde_family disk_device_error_family = {
    "node_filesystem_device_error", SONDE_GAUGE,
    "Whether an error occurred while getting statistics for the given device."};

/* One line of mountinfo. Strings live in the batch arena. */
struct disk_mount {
    unsigned major, minor;
    const char *mount_point;    /* every \ooo escape decoded: the real path */
    const char *mount_point_ne; /* node_exporter 1.5's label: only \040 and \011 decoded */
    const char *fstype;         /* as printed */
    const char *source;         /* as printed: "/dev/sda1", "tmpfs", "server:/export" */
    bool opt_rw, opt_ro;        /* the per-mount options say rw / ro */
    bool super_ro;              /* the superblock is read-only */
};

typedef int (*disk_statvfs_fn)(const char *path, struct statvfs *out);

/* The most reads one plan serves, even when procfs reports no change. */
#define DISK_PLAN_READS 100

/* One mount the plan keeps: wanted by at least one format. */
struct disk_entry {
    struct disk_mount m;
    const char *label;     /* mountpoint label: node_exporter's decoding, rootfs stripped */
    const char *path;      /* Telegraf's path tag: fully decoded, rootfs stripped */
    const char *target;    /* what statvfs gets: rootfs + path */
    const char *lp_device; /* Telegraf's device tag; NULL until first needed */
    bool prom;             /* passes the exclusions and is not a duplicate */
    bool lp;               /* a filesystem type line protocol keeps */
};

/* The mounts of one reading of mountinfo; strings live in `arena`. */
struct disk_plan {
    struct sonde_arena *arena;
    struct disk_entry *entries;
    size_t n;
    size_t malformed;        /* lines skipped, counted again on every read */
    struct sonde_file *file; /* the mountinfo it was made from; NULL: no plan */
    bool pollable;           /* file is on procfs: poll reports changes */
    unsigned reads;          /* reads served since it was made */
};

struct disk_state {
    regex_t mount_points_exclude, fs_types_exclude;
    bool have_mount_points_exclude, have_fs_types_exclude;
    const struct disk_config *config; /* borrowed from the core */
    struct sonde_file mountinfo_init; /* <procfs>/1/mountinfo: the host's mounts */
    struct sonde_file mountinfo_self; /* <procfs>/self/mountinfo: when 1 is hidden */
    char *rootfs;                     /* ctx->rootfs without trailing '/'; "" for "/" */
    char *sysfs;                      /* copy of ctx->sysfs */
    struct disk_plan plan;            /* owned */
    uint64_t plans_made;              /* readings of mountinfo, for the tests */
    /* statvfs(3), replaced by the unit tests: fixture mounts do not exist. */
    disk_statvfs_fn statvfs_fn;
    struct sonde_ratelimit bad_line_log;
    struct sonde_ratelimit statvfs_log;
};

/* ------------------------------------------------------------------ */
/* Parsers                                                              */
/* ------------------------------------------------------------------ */

/* Next space-separated token of [*p, end); false when there is none. */
static bool disk_token(const char **p, const char *end, const char **tok, size_t *len)
{
    const char *s = *p;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    const char *e = s;
    while (e < end && *e != ' ' && *e != '\t')
        e++;
    *p = e;
    *tok = s;
    *len = (size_t)(e - s);
    return e > s;
}

static bool disk_token_is(const char *tok, size_t len, const char *word)
{
    return len == strlen(word) && memcmp(tok, word, len) == 0;
}

static bool disk_all_digits(const char *tok, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (tok[i] < '0' || tok[i] > '9')
            return false;
    return len > 0;
}

/* "major:minor" into two unsigned ints; 0 or -EINVAL. */
static int disk_parse_devno(const char *tok, size_t len, unsigned *major, unsigned *minor)
{
    char buf[32];
    if (len == 0 || len >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, tok, len);
    buf[len] = '\0';
    char *colon = strchr(buf, ':');
    if (!colon || !disk_all_digits(buf, (size_t)(colon - buf)) ||
        !disk_all_digits(colon + 1, strlen(colon + 1)))
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long maj = strtoul(buf, &end, 10);
    if (errno != 0 || end != colon || maj > UINT_MAX)
        return -EINVAL;
    unsigned long min = strtoul(colon + 1, &end, 10);
    if (errno != 0 || *end != '\0' || min > UINT_MAX)
        return -EINVAL;
    *major = (unsigned)maj;
    *minor = (unsigned)min;
    return 0;
}

static bool disk_is_octal(char c)
{
    return c >= '0' && c <= '7';
}

/*
 * Decodes the kernel's \ooo escapes (it escapes space, tab, newline and
 * backslash in paths). With `ne_only`, decodes only \040 and \011 as
 * node_exporter 1.5 does, so that its mountpoint labels are reproduced.
 * Returns an arena copy.
 */
static char *disk_unescape(struct sonde_arena *arena, const char *s, size_t len, bool ne_only)
{
    char *out = sonde_arena_alloc(arena, len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\' && len - i >= 4 && disk_is_octal(s[i + 1]) && disk_is_octal(s[i + 2]) &&
            disk_is_octal(s[i + 3])) {
            int v = (s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0');
            bool wanted = ne_only ? (v == ' ' || v == '\t') : (v > 0 && v <= 255);
            if (wanted) {
                out[n++] = (char)v;
                i += 3;
                continue;
            }
        }
        out[n++] = s[i];
    }
    out[n] = '\0';
    return out;
}

/* Whether a comma-separated option list contains `word`. */
static bool disk_has_option(const char *opts, size_t len, const char *word)
{
    size_t wlen = strlen(word);
    const char *p = opts, *end = opts + len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *opt_end = comma ? comma : end;
        if ((size_t)(opt_end - p) == wlen && memcmp(p, word, wlen) == 0)
            return true;
        p = comma ? comma + 1 : end;
    }
    return false;
}

/*
 * Parses one line of /proc/<pid>/mountinfo (without its newline):
 *   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *   id parent maj:min root mount-point options [optional fields...] - type source super-options
 * Zero or more optional fields precede the "-". Strings are copied into
 * `arena`. Returns 0 or -EINVAL for a malformed line.
 */
static int disk_parse_mountinfo_line(const char *line, size_t len, struct sonde_arena *arena,
                                     struct disk_mount *out)
{
    const char *p = line, *end = line + len, *tok[6];
    size_t tlen[6];

    memset(out, 0, sizeof(*out));
    for (int i = 0; i < 6; i++)
        if (!disk_token(&p, end, &tok[i], &tlen[i]))
            return -EINVAL;
    if (!disk_all_digits(tok[0], tlen[0]) || !disk_all_digits(tok[1], tlen[1]) ||
        disk_parse_devno(tok[2], tlen[2], &out->major, &out->minor) < 0 || tok[4][0] != '/')
        return -EINVAL;

    const char *sep;
    size_t seplen;
    do {
        if (!disk_token(&p, end, &sep, &seplen))
            return -EINVAL; /* no "-" separator */
    } while (!disk_token_is(sep, seplen, "-"));

    const char *type, *source, *super;
    size_t type_len, source_len, super_len;
    if (!disk_token(&p, end, &type, &type_len) || !disk_token(&p, end, &source, &source_len))
        return -EINVAL;
    if (disk_token(&p, end, &super, &super_len))
        out->super_ro = disk_has_option(super, super_len, "ro");

    out->mount_point = disk_unescape(arena, tok[4], tlen[4], false);
    out->mount_point_ne = disk_unescape(arena, tok[4], tlen[4], true);
    out->fstype = sonde_arena_strndup(arena, type, type_len);
    out->source = sonde_arena_strndup(arena, source, source_len);
    out->opt_rw = disk_has_option(tok[5], tlen[5], "rw");
    out->opt_ro = disk_has_option(tok[5], tlen[5], "ro");
    return 0;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

/* node_exporter's --path.rootfs: a mount point under rootfs is reported
 * relative to it (rootfs itself becomes "/"); others are left as they are. */
static const char *disk_strip_rootfs(const struct disk_state *st, const char *mount_point)
{
    size_t n = strlen(st->rootfs);
    if (n == 0 || strncmp(mount_point, st->rootfs, n) != 0)
        return mount_point;
    if (mount_point[n] == '\0')
        return "/";
    return mount_point[n] == '/' ? mount_point + n : mount_point;
}

/*
 * Mounts reported once per read (node_exporter's "seen" map): an
 * open-addressing set of "device\nmountpoint\nfstype" keys in the batch
 * arena (none of the three can hold a newline: the kernel escapes it).
 */
struct disk_seen {
    const char **slots;
    size_t mask;
};

static void disk_seen_init(struct disk_seen *seen, struct sonde_arena *arena, size_t nlines)
{
    size_t cap = 16;
    while (cap < nlines * 2)
        cap *= 2;
    seen->slots = sonde_arena_alloc(arena, cap * sizeof(*seen->slots));
    seen->mask = cap - 1;
}

/* Adds the key; false when it was already there. */
static bool disk_seen_add(struct disk_seen *seen, struct sonde_arena *arena, const char *device,
                          const char *mount_point, const char *fstype)
{
    const char *key = sonde_arena_printf(arena, "%s\n%s\n%s", device, mount_point, fstype);
    uint64_t h = 14695981039346656037ull; /* FNV-1a */
    for (const char *c = key; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    for (size_t i = (size_t)h & seen->mask;; i = (i + 1) & seen->mask) {
        if (!seen->slots[i]) {
            seen->slots[i] = key;
            return true;
        }
        if (strcmp(seen->slots[i], key) == 0)
            return false;
    }
}

static bool disk_regex_match(const regex_t *re, bool have, const char *s)
{
    return have && regexec(re, s, 0, NULL, 0) == 0;
}

/* Kernel pseudo filesystems whose statfs always reports zero blocks: Telegraf
 * calls statfs on them and then drops them for their zero size; we know the
 * answer and save the system call. */
static bool disk_always_empty(const char *fstype)
{
    static const char *const types[] = {
        "proc",    "sysfs",       "cgroup", "cgroup2", "devpts",     "securityfs",
        "debugfs", "tracefs",     "pstore", "bpf",     "configfs",   "fusectl",
        "mqueue",  "binfmt_misc", "nsfs",   "autofs",  "rpc_pipefs", "selinuxfs",
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(types[i], fstype) == 0)
            return true;
    return false;
}

static bool disk_lp_wanted(const struct disk_state *st, const char *fstype)
{
    /* autofs: statvfs would trigger the automount. */
    if (disk_always_empty(fstype))
        return false;
    for (size_t i = 0; i < st->config->ignore_fs.n; i++)
        if (strcmp(st->config->ignore_fs.items[i], fstype) == 0)
            return false;
    return true;
}

/*
 * Telegraf's device tag (from gopsutil): /dev/mapper/<name> resolved to the
 * dm-N node it links to, /dev/root to the partition its device number names
 * in sysfs, then every "/dev/" removed. Returns an arena string.
 */
static const char *disk_lp_device(const struct disk_state *st, struct sonde_arena *arena,
                                  const struct disk_mount *m)
{
    const char *dev = m->source;
    if (strncmp(dev, "/dev/mapper/", 12) == 0) {
        char *link = sonde_arena_printf(arena, "%s%s", st->rootfs, dev);
        char *target = realpath(link, NULL);
        if (target) {
            size_t n = strlen(st->rootfs);
            const char *rel = strncmp(target, st->rootfs, n) == 0 ? target + n : target;
            dev = sonde_arena_strdup(arena, rel);
            free(target);
        }
    } else if (strcmp(dev, "/dev/root") == 0) {
        char *link = sonde_arena_printf(arena, "%s/dev/block/%u:%u", st->sysfs, m->major, m->minor);
        char target[PATH_MAX];
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        if (n > 0) {
            target[n] = '\0';
            const char *base = strrchr(target, '/');
            dev = sonde_arena_printf(arena, "/dev/%s", base ? base + 1 : target);
        }
    }

    size_t len = strlen(dev);
    char *out = sonde_arena_alloc(arena, len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (strncmp(dev + i, "/dev/", 5) == 0) {
            i += 4;
            continue;
        }
        out[n++] = dev[i];
    }
    out[n] = '\0';
    return out;
}

/* ------------------------------------------------------------------ */
/* Emitters                                                             */
/* ------------------------------------------------------------------ */

/* node_exporter: device_error always; the rest only when statvfs worked. */
static void disk_emit_prom(struct sonde_batch *batch, const struct disk_mount *m,
                           const char *mount_point, const struct statvfs *sv)
{
    sonde_emit(batch, &disk_device_error_family, sv ? 0.0 : 1.0, "device", m->source, "fstype",
               m->fstype, "mountpoint", mount_point, NULL);
    if (!sv)
        return;
    double bsize = (double)sv->f_bsize;
    const struct {
        const struct sonde_family *family;
        double value;
    } values[] = {
        {&disk_size_family, (double)sv->f_blocks * bsize},
        {&disk_free_family, (double)sv->f_bfree * bsize},
        {&disk_avail_family, (double)sv->f_bavail * bsize},
        {&disk_files_family, (double)sv->f_files},
        {&disk_files_free_family, (double)sv->f_ffree},
        /* node_exporter reads /proc/mounts, whose "ro" covers both the
         * mount and its superblock. */
        {&disk_readonly_family, (m->opt_ro || m->super_ro) ? 1.0 : 0.0},
    };
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        sonde_emit(batch, values[i].family, values[i].value, "device", m->source, "fstype",
                   m->fstype, "mountpoint", mount_point, NULL);
}

/* Telegraf disk: gopsutil's arithmetic (free is what non-root may use). */
static void disk_emit_lp(const struct disk_state *st, struct sonde_batch *batch,
                         struct disk_entry *e, const struct statvfs *sv)
{
    uint64_t bsize = sv->f_bsize;
    uint64_t total = (uint64_t)sv->f_blocks * bsize;
    if (total == 0) /* proc, sysfs, cgroup...: Telegraf skips them */
        return;
    uint64_t free_bytes = (uint64_t)sv->f_bavail * bsize;
    uint64_t used = 0, inodes_used = 0;
    /* gopsutil leaves both used values at 0 when the inode counts are
     * inconsistent. */
    if (sv->f_files >= sv->f_ffree) {
        inodes_used = (uint64_t)sv->f_files - (uint64_t)sv->f_ffree;
        used = ((uint64_t)sv->f_blocks - (uint64_t)sv->f_bfree) * bsize;
    }
    double used_percent = 0.0;
    if (used + free_bytes > 0)
        used_percent = (double)used / ((double)used + (double)free_bytes) * 100.0;

    const struct disk_mount *m = &e->m;
    if (!e->lp_device) /* the mount keeps its device: resolved once per plan */
        e->lp_device = disk_lp_device(st, st->plan.arena, m);
    struct sonde_point *pt = sonde_point(batch, "disk");
    sonde_point_tag(batch, pt, "path", e->path);
    sonde_point_tag(batch, pt, "device", e->lp_device);
    sonde_point_tag(batch, pt, "fstype", m->fstype);
    sonde_point_tag(batch, pt, "mode", m->opt_rw ? "rw" : m->opt_ro ? "ro" : "unknown");
    sonde_point_uint(batch, pt, "total", total);
    sonde_point_uint(batch, pt, "free", free_bytes);
    sonde_point_uint(batch, pt, "used", used);
    sonde_point_float(batch, pt, "used_percent", used_percent);
    sonde_point_uint(batch, pt, "inodes_total", (uint64_t)sv->f_files);
    sonde_point_uint(batch, pt, "inodes_free", (uint64_t)sv->f_ffree);
    sonde_point_uint(batch, pt, "inodes_used", inodes_used);
}

/* Adds one parsed mount to the plan when a format wants it: the filters
 * are applied here, once per reading of mountinfo. */
static void disk_plan_add(struct disk_state *st, struct disk_seen *seen, const struct disk_mount *m,
                          size_t *cap)
{
    struct disk_plan *plan = &st->plan;
    const char *label = disk_strip_rootfs(st, m->mount_point_ne);
    bool prom =
        !disk_regex_match(&st->mount_points_exclude, st->have_mount_points_exclude, label) &&
        !disk_regex_match(&st->fs_types_exclude, st->have_fs_types_exclude, m->fstype) &&
        disk_seen_add(seen, plan->arena, m->source, label, m->fstype);
    bool lp = disk_lp_wanted(st, m->fstype);
    if (!prom && !lp)
        return;
    if (plan->n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        struct disk_entry *grown = sonde_arena_alloc(plan->arena, *cap * sizeof(*grown));
        if (plan->n)
            memcpy(grown, plan->entries, plan->n * sizeof(*grown));
        plan->entries = grown;
    }
    struct disk_entry *e = &plan->entries[plan->n++];
    memset(e, 0, sizeof(*e));
    e->m = *m;
    e->label = label;
    e->prom = prom;
    e->lp = lp;
    /* statvfs gets the real path (every escape decoded) even where the
     * label keeps node_exporter's partial decoding. */
    e->path = disk_strip_rootfs(st, m->mount_point);
    e->target = e->path;
    if (st->rootfs[0])
        e->target = strcmp(e->path, "/") == 0
                        ? st->rootfs
                        : sonde_arena_printf(plan->arena, "%s%s", st->rootfs, e->path);
}

/* One mount of the plan: one statvfs shared by both formats, emission. */
static void disk_collect(struct disk_state *st, struct sonde_batch *batch, struct disk_entry *e)
{
    bool lp = e->lp && batch->want_points;
    if (!e->prom && !lp)
        return;
    struct statvfs sv;
    int rc = st->statvfs_fn(e->target, &sv);
    if (rc != 0)
        sonde_log_limited(&st->statvfs_log, 300, SONDE_LOG_DEBUG, "%s: statvfs %s: %s",
                          batch->input, e->target, strerror(errno));
    if (e->prom)
        disk_emit_prom(batch, &e->m, e->label, rc == 0 ? &sv : NULL);
    if (lp && rc == 0)
        disk_emit_lp(st, batch, e, &sv);
    else if (lp)
        batch->skipped++; /* no line-protocol point; Prometheus has device_error */
}

/* ------------------------------------------------------------------ */
/* Plugin callbacks                                                     */
/* ------------------------------------------------------------------ */

static void disk_destroy(void *state)
{
    struct disk_state *st = state;
    if (!st)
        return;
    if (st->have_mount_points_exclude)
        regfree(&st->mount_points_exclude);
    if (st->have_fs_types_exclude)
        regfree(&st->fs_types_exclude);
    sonde_file_close(&st->mountinfo_init);
    sonde_file_close(&st->mountinfo_self);
    sonde_arena_free(st->plan.arena);
    free(st->rootfs);
    free(st->sysfs);
    free(st);
}

/* Compiles `pattern` unless it is empty; 0 or -EINVAL (logged). */
static int disk_compile(regex_t *re, bool *have, const char *pattern, const char *option,
                        const char *instance)
{
    if (!pattern || !pattern[0])
        return 0;
    int rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[256];
        regerror(rc, re, msg, sizeof(msg));
        sonde_log(SONDE_LOG_ERROR, "%s: %s \"%s\": %s", instance, option, pattern, msg);
        return -EINVAL;
    }
    *have = true;
    return 0;
}

/* "<dir><rest>" without a doubled slash; caller frees. */
static char *disk_join(const char *dir, const char *rest)
{
    size_t dlen = strlen(dir);
    while (dlen > 0 && dir[dlen - 1] == '/')
        dlen--;
    size_t rlen = strlen(rest);
    char *path = sonde_xmalloc(dlen + rlen + 1);
    memcpy(path, dir, dlen);
    memcpy(path + dlen, rest, rlen + 1);
    return path;
}

static int disk_init(void **state, const void *config, const struct sonde_context *ctx)
{
    struct disk_state *st = sonde_xcalloc(1, sizeof(*st));
    st->config = config;
    st->mountinfo_init.fd = -1; /* so destroy is safe before sonde_file_init */
    st->mountinfo_self.fd = -1;

    if (disk_compile(&st->mount_points_exclude, &st->have_mount_points_exclude,
                     st->config->mount_points_exclude, "mount_points_exclude", ctx->instance) < 0 ||
        disk_compile(&st->fs_types_exclude, &st->have_fs_types_exclude,
                     st->config->fs_types_exclude, "fs_types_exclude", ctx->instance) < 0) {
        disk_destroy(st);
        return -EINVAL;
    }

    char *path = disk_join(ctx->procfs, "/1/mountinfo");
    sonde_file_init(&st->mountinfo_init, path);
    free(path);
    path = disk_join(ctx->procfs, "/self/mountinfo");
    sonde_file_init(&st->mountinfo_self, path);
    free(path);
    /* Resolved, as the kernel prints resolved paths in mountinfo. */
    char *resolved = realpath(ctx->rootfs, NULL);
    st->rootfs = disk_join(resolved ? resolved : ctx->rootfs, "");
    free(resolved);
    st->sysfs = sonde_xstrdup(ctx->sysfs);
    st->statvfs_fn = statvfs;
    *state = st;
    return 0;
}

/* Whether the plan still describes the mounts: made from a procfs file
 * that reports no change since, and not too often reused. */
static bool disk_plan_current(struct disk_state *st)
{
    struct disk_plan *plan = &st->plan;
    if (!plan->file || !plan->pollable || plan->file->fd < 0 || plan->reads >= DISK_PLAN_READS)
        return false;
    struct pollfd pfd = {.fd = plan->file->fd, .events = POLLPRI};
    return poll(&pfd, 1, 0) == 0;
}

/* Reads mountinfo and makes the plan anew; 0 or -errno (no plan then). */
static int disk_plan_make(struct disk_state *st, const char *input)
{
    struct disk_plan *plan = &st->plan;
    plan->file = NULL;
    plan->entries = NULL;
    plan->n = plan->malformed = 0;
    plan->reads = 0;
    if (plan->arena)
        sonde_arena_reset(plan->arena);
    else
        plan->arena = sonde_arena_new();

    /* PID 1's view is the host's even when sonde runs in its own mount
     * namespace; hidepid=2 hides it, and then our own view is the best left. */
    struct sonde_file *file = &st->mountinfo_init;
    if (sonde_file_read(file) < 0) {
        file = &st->mountinfo_self;
        int rc = sonde_file_read(file);
        if (rc < 0)
            return rc;
    }
    struct statfs fs;
    plan->pollable = fstatfs(file->fd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
    st->plans_made++;

    size_t nlines = 1, cap = 0;
    for (const char *c = file->buf; (c = memchr(c, '\n', file->len - (size_t)(c - file->buf))); c++)
        nlines++;
    struct disk_seen seen;
    disk_seen_init(&seen, plan->arena, nlines);

    const char *p = file->buf, *end = p + file->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        const char *tok, *q = p;
        size_t tlen;
        if (disk_token(&q, line_end, &tok, &tlen)) { /* blank lines are not data */
            struct disk_mount m;
            if (disk_parse_mountinfo_line(p, (size_t)(line_end - p), plan->arena, &m) < 0) {
                plan->malformed++;
                sonde_log_limited(&st->bad_line_log, 300, SONDE_LOG_WARN,
                                  "%s: skipping malformed line of %s: %.*s", input, file->path,
                                  (int)(line_end - p), p);
            } else {
                disk_plan_add(st, &seen, &m, &cap);
            }
        }
        p = nl ? nl + 1 : end;
    }
    plan->file = file;
    return 0;
}

static int disk_read(void *state, struct sonde_batch *batch)
{
    struct disk_state *st = state;
    if (!disk_plan_current(st)) {
        int rc = disk_plan_make(st, batch->input);
        if (rc < 0)
            return rc;
    }
    st->plan.reads++;
    batch->skipped += st->plan.malformed;
    for (size_t i = 0; i < st->plan.n; i++)
        disk_collect(st, batch, &st->plan.entries[i]);
    return 0;
}

const struct sonde_plugin sonde_plugin_disk = {
    .name = "disk",      /* config key; alias "filesystem" */
    .kind = SONDE_INPUT, /* samples the host */
    .summary = "filesystem usage per mount (node_filesystem_*, Telegraf disk)",
    .config_size = sizeof(struct disk_config), /* filled by the core from the options */
    .options = disk_options,                   /* exclusion regexes, ignore_fs */
    .init = disk_init,                         /* compiles the regexes, opens nothing yet */
    .read = disk_read,                         /* mountinfo when it changed, statvfs per mount */
    .write = NULL,                             /* inputs do not write */
    .destroy = disk_destroy,                   /* frees the state */
};
