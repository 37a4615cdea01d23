/*
 * diskio.c - block device I/O counters from /proc/diskstats, as node_exporter
 * 1.5's diskstats collector (node_disk_*, with node_disk_info and the other
 * udev-derived series) and as Telegraf's inputs.diskio (measurement "diskio").
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <regex.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sonde.h"

/*
 * Device filters follow each format's peer, so that switching agents keeps
 * the same series: devices_exclude (node_exporter's regex, which leaves out
 * partitions, loop and ram devices) applies to Prometheus only; devices
 * (Telegraf's list of names or globs, default all, partitions included)
 * applies to line protocol only. Like gopsutil, line protocol also leaves
 * out devices whose eleven classic counters are all zero.
 */

/* node_exporter 1.5's --collector.diskstats.device-exclude, \d spelled [0-9]. */
#define DISKIO_DEFAULT_EXCLUDE "^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme[0-9]+n[0-9]+p)[0-9]+$"

struct diskio_config {
    char *devices_exclude;        /* Prometheus: ERE of device names left out; "": none */
    struct sonde_strings devices; /* line protocol: names or globs kept; empty: all */
};

static const struct sonde_option diskio_options[] = {
    {"devices_exclude", SONDE_OPT_REGEX, offsetof(struct diskio_config, devices_exclude),
     DISKIO_DEFAULT_EXCLUDE, false,
     "Prometheus only: POSIX extended regex of devices to leave out (node_exporter's default)"},
    {"devices", SONDE_OPT_STRING_LIST, offsetof(struct diskio_config, devices), NULL, false,
     "line protocol only: device names or globs to report, like Telegraf's; empty: all"},
    {NULL},
};

/* The columns of /proc/diskstats after major, minor and name. */
enum diskio_stat {
    DISKIO_READS,
    DISKIO_READS_MERGED,
    DISKIO_READ_SECTORS,
    DISKIO_READ_MS,
    DISKIO_WRITES,
    DISKIO_WRITES_MERGED,
    DISKIO_WRITE_SECTORS,
    DISKIO_WRITE_MS,
    DISKIO_IO_NOW,
    DISKIO_IO_MS,
    DISKIO_IO_WEIGHTED_MS,
    DISKIO_DISCARDS, /* 4.18+ */
    DISKIO_DISCARDS_MERGED,
    DISKIO_DISCARD_SECTORS,
    DISKIO_DISCARD_MS,
    DISKIO_FLUSHES, /* 5.5+ */
    DISKIO_FLUSH_MS,
    DISKIO_NSTATS
};

/* Kernels before 4.18 print 11 columns; shorter lines (2.4-style partition
 * lines) are skipped and counted. */
#define DISKIO_MIN_STATS 11
/* The kernel's limit is 32 (DISK_NAME_LEN); a longer name is bad data. */
#define DISKIO_NAME_MAX 64

struct diskio_line {
    unsigned major, minor;
    char name[DISKIO_NAME_MAX];
    uint64_t stats[DISKIO_NSTATS];
    int nstats; /* columns present, at most DISKIO_NSTATS */
};

struct diskio_column {
    struct sonde_family family;
    double scale; /* multiplier from the kernel's unit */
};

/* node_exporter multiplies by 1.0/1000.0 rather than dividing by 1000; the
 * two differ in the last bit (144 ms is 0.14400000000000002 s there). */
#define DISKIO_SECONDS_PER_MS (1.0 / 1000.0)
/* Always 512: the kernel counts "standard UNIX sectors" whatever the device. */
#define DISKIO_SECTOR_BYTES 512.0

static const struct diskio_column diskio_columns[DISKIO_NSTATS] = {
    {{"node_disk_reads_completed_total", SONDE_COUNTER,
      "The total number of reads completed successfully."},
     1.0},
    {{"node_disk_reads_merged_total", SONDE_COUNTER, "The total number of reads merged."}, 1.0},
    {{"node_disk_read_bytes_total", SONDE_COUNTER, "The total number of bytes read successfully."},
     DISKIO_SECTOR_BYTES},
    {{"node_disk_read_time_seconds_total", SONDE_COUNTER,
      "The total number of seconds spent by all reads."},
     DISKIO_SECONDS_PER_MS},
    {{"node_disk_writes_completed_total", SONDE_COUNTER,
      "The total number of writes completed successfully."},
     1.0},
    {{"node_disk_writes_merged_total", SONDE_COUNTER, "The number of writes merged."}, 1.0},
    {{"node_disk_written_bytes_total", SONDE_COUNTER,
      "The total number of bytes written successfully."},
     DISKIO_SECTOR_BYTES},
    {{"node_disk_write_time_seconds_total", SONDE_COUNTER,
      "This is the total number of seconds spent by all writes."},
     DISKIO_SECONDS_PER_MS},
    {{"node_disk_io_now", SONDE_GAUGE, "The number of I/Os currently in progress."}, 1.0},
    {{"node_disk_io_time_seconds_total", SONDE_COUNTER, "Total seconds spent doing I/Os."},
     DISKIO_SECONDS_PER_MS},
    {{"node_disk_io_time_weighted_seconds_total", SONDE_COUNTER,
      "The weighted # of seconds spent doing I/Os."},
     DISKIO_SECONDS_PER_MS},
    {{"node_disk_discards_completed_total", SONDE_COUNTER,
      "The total number of discards completed successfully."},
     1.0},
    {{"node_disk_discards_merged_total", SONDE_COUNTER, "The total number of discards merged."},
     1.0},
    /* Sectors, not bytes: node_exporter 1.5 exports the raw count. */
    {{"node_disk_discarded_sectors_total", SONDE_COUNTER,
      "The total number of sectors discarded successfully."},
     1.0},
    {{"node_disk_discard_time_seconds_total", SONDE_COUNTER,
      "This is the total number of seconds spent by all discards."},
     DISKIO_SECONDS_PER_MS},
    {{"node_disk_flush_requests_total", SONDE_COUNTER,
      "The total number of flush requests completed successfully"},
     1.0},
    {{"node_disk_flush_requests_time_seconds_total", SONDE_COUNTER,
      "This is the total number of seconds spent by all flush requests."},
     DISKIO_SECONDS_PER_MS},
};

static const struct sonde_family diskio_info_family = {"node_disk_info", SONDE_GAUGE,
                                                       "Info of /sys/block/<block_device>."};
static const struct sonde_family diskio_fs_info_family = {"node_disk_filesystem_info", SONDE_GAUGE,
                                                          "Info about disk filesystem."};
static const struct sonde_family diskio_dm_info_family = {
    "node_disk_device_mapper_info", SONDE_GAUGE, "Info about disk device mapper."};

/* The udev properties node_exporter 1.5 reads from /run/udev/data/b<maj>:<min>. */
enum diskio_udev_key {
    UDEV_ID_PATH,
    UDEV_ID_WWN,
    UDEV_ID_MODEL,
    UDEV_SCSI_IDENT_SERIAL,
    UDEV_ID_SERIAL_SHORT,
    UDEV_ID_REVISION,
    UDEV_ID_FS_TYPE,
    UDEV_ID_FS_USAGE,
    UDEV_ID_FS_UUID,
    UDEV_ID_FS_VERSION,
    UDEV_DM_NAME,
    UDEV_DM_UUID,
    UDEV_DM_VG_NAME,
    UDEV_DM_LV_NAME,
    UDEV_DM_LV_LAYER,
    UDEV_ID_ATA,
    UDEV_ID_ATA_WRITE_CACHE,
    UDEV_ID_ATA_WRITE_CACHE_ENABLED,
    UDEV_ID_ATA_ROTATION_RATE_RPM,
    UDEV_NKEYS
};

static const char *const diskio_udev_names[UDEV_NKEYS] = {
    "ID_PATH",
    "ID_WWN",
    "ID_MODEL",
    "SCSI_IDENT_SERIAL",
    "ID_SERIAL_SHORT",
    "ID_REVISION",
    "ID_FS_TYPE",
    "ID_FS_USAGE",
    "ID_FS_UUID",
    "ID_FS_VERSION",
    "DM_NAME",
    "DM_UUID",
    "DM_VG_NAME",
    "DM_LV_NAME",
    "DM_LV_LAYER",
    "ID_ATA",
    "ID_ATA_WRITE_CACHE",
    "ID_ATA_WRITE_CACHE_ENABLED",
    "ID_ATA_ROTATION_RATE_RPM",
};

/* Values point into the buffer that was parsed; NULL when absent. */
struct diskio_udev {
    const char *value[UDEV_NKEYS];
    size_t len[UDEV_NKEYS];
};

/* The three numeric ATA properties, each a gauge of its own. */
static const struct {
    enum diskio_udev_key key;
    struct sonde_family family;
} diskio_ata[] = {
    {UDEV_ID_ATA_WRITE_CACHE,
     {"node_disk_ata_write_cache", SONDE_GAUGE, "ATA disk has a write cache."}},
    {UDEV_ID_ATA_WRITE_CACHE_ENABLED,
     {"node_disk_ata_write_cache_enabled", SONDE_GAUGE, "ATA disk has its write cache enabled."}},
    {UDEV_ID_ATA_ROTATION_RATE_RPM,
     {"node_disk_ata_rotation_rate_rpm", SONDE_GAUGE,
      "ATA disk rotation rate in RPMs (0 for SSDs)."}},
};

/* Line protocol keeps each device's previous counters for Telegraf's derived
 * fields (io_await, io_svctm, io_util). */
struct diskio_device {
    char *name; /* owned */
    uint64_t prev[DISKIO_MIN_STATS];
    char *wwid; /* owned; NULL when /sys/block/<name>/wwid is absent */
    bool have_prev;
    bool seen; /* reported by the current read */
};

/* devices_exclude's answer for the device of one line of diskstats: lines
 * keep their order between reads, so the regex runs for new names only. */
struct diskio_verdict {
    char *name; /* owned */
    bool excluded;
};

struct diskio_state {
    const struct diskio_config *config; /* borrowed from the core */
    regex_t exclude;
    bool have_exclude;
    struct diskio_verdict *verdicts; /* owned; index: line of diskstats */
    size_t nverdicts;
    struct sonde_file diskstats; /* <procfs>/diskstats, kept open */
    char *udev_dir;              /* <rootfs>/run/udev/data, owned */
    char *sysfs;                 /* copy of ctx->sysfs, owned */
    char *scratch;               /* one udev or wwid file at a time, owned */
    size_t scratch_cap;
    struct diskio_device *devices; /* owned, with their names */
    size_t ndevices, devices_cap;
    int64_t prev_ns; /* timestamp of the previous read; 0: none */
    struct sonde_ratelimit bad_line_log;
};

/* ------------------------------------------------------------------ */
/* Parsers                                                              */
/* ------------------------------------------------------------------ */

/* Next blank-separated token of [*p, end); false when there is none. */
static bool diskio_token(const char **p, const char *end, const char **tok, size_t *len)
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

/* Parses a whole token as an unsigned decimal; 0 or -EINVAL. */
static int diskio_parse_u64(const char *tok, size_t len, uint64_t *out)
{
    char digits[24];
    if (len == 0 || len >= sizeof(digits) || tok[0] < '0' || tok[0] > '9')
        return -EINVAL;
    memcpy(digits, tok, len);
    digits[len] = '\0';
    char *end;
    errno = 0;
    unsigned long long v = strtoull(digits, &end, 10);
    if (errno != 0 || *end != '\0')
        return -EINVAL;
    *out = v;
    return 0;
}

/*
 * Parses one line of /proc/diskstats ("   8       0 sda 1 2 3 ...", without
 * its newline). Returns 0, -EINVAL for a malformed line or one with fewer
 * than 11 counters, -ENAMETOOLONG for an implausible device name. Columns
 * past the 17 known ones (future kernels) are ignored.
 */
static int diskio_parse_line(const char *line, size_t len, struct diskio_line *out)
{
    const char *p = line, *end = line + len, *tok;
    size_t tlen;
    uint64_t major, minor;

    memset(out, 0, sizeof(*out));
    if (!diskio_token(&p, end, &tok, &tlen) || diskio_parse_u64(tok, tlen, &major) < 0 ||
        major > UINT32_MAX)
        return -EINVAL;
    if (!diskio_token(&p, end, &tok, &tlen) || diskio_parse_u64(tok, tlen, &minor) < 0 ||
        minor > UINT32_MAX)
        return -EINVAL;
    if (!diskio_token(&p, end, &tok, &tlen))
        return -EINVAL;
    if (tlen >= sizeof(out->name))
        return -ENAMETOOLONG;
    memcpy(out->name, tok, tlen);
    out->name[tlen] = '\0';
    out->major = (unsigned)major;
    out->minor = (unsigned)minor;

    while (out->nstats < DISKIO_NSTATS && diskio_token(&p, end, &tok, &tlen)) {
        if (diskio_parse_u64(tok, tlen, &out->stats[out->nstats]) < 0)
            return -EINVAL;
        out->nstats++;
    }
    return out->nstats < DISKIO_MIN_STATS ? -EINVAL : 0;
}

/*
 * Parses a udev database file: "E:KEY=VALUE" lines are properties, other
 * lines (S:, L:, W:, I:, G:) are udev's own bookkeeping. Fills the keys
 * node_exporter uses; a key given twice keeps its last value, as a Go map.
 */
static void diskio_parse_udev(const char *buf, size_t len, struct diskio_udev *out)
{
    const char *p = buf, *end = buf + len;

    memset(out, 0, sizeof(*out));
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        if (line_end - p >= 2 && p[0] == 'E' && p[1] == ':') {
            const char *key = p + 2;
            const char *eq = memchr(key, '=', (size_t)(line_end - key));
            for (int k = 0; eq && k < UDEV_NKEYS; k++) {
                size_t klen = strlen(diskio_udev_names[k]);
                if ((size_t)(eq - key) == klen && memcmp(key, diskio_udev_names[k], klen) == 0) {
                    out->value[k] = eq + 1;
                    out->len[k] = (size_t)(line_end - eq - 1);
                    break;
                }
            }
        }
        p = nl ? nl + 1 : end;
    }
}

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

/* "<dir><rest>" without doubling the slash when dir is "/"; caller frees. */
static char *diskio_join(const char *dir, const char *rest)
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

/* Udev and wwid files are a few hundred bytes; anything this big is not one. */
#define DISKIO_SLURP_MAX (1024 * 1024)

/* Reads a whole small file into st->scratch (NUL-terminated); the length
 * or -errno. Udev replaces its files on every change, so they are opened
 * afresh each time rather than kept open. */
static long diskio_slurp(struct diskio_state *st, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = 0;
    for (;;) {
        if (st->scratch_cap - len < 2) {
            if (st->scratch_cap >= DISKIO_SLURP_MAX) {
                close(fd);
                return -EFBIG;
            }
            st->scratch_cap *= 2;
            st->scratch = sonde_xrealloc(st->scratch, st->scratch_cap);
        }
        ssize_t n = read(fd, st->scratch + len, st->scratch_cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = -errno;
            close(fd);
            return err;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    st->scratch[len] = '\0';
    return (long)len;
}

/* A udev value copied into the batch arena; "" when absent. */
static const char *diskio_udev_get(struct sonde_batch *batch, const struct diskio_udev *udev,
                                   enum diskio_udev_key key)
{
    if (!udev->value[key])
        return "";
    return sonde_arena_strndup(batch->arena, udev->value[key], udev->len[key]);
}

static bool diskio_udev_nonempty(const struct diskio_udev *udev, enum diskio_udev_key key)
{
    return udev->value[key] && udev->len[key] > 0;
}

/* ------------------------------------------------------------------ */
/* Prometheus                                                           */
/* ------------------------------------------------------------------ */

/* The udev-derived series: node_disk_filesystem_info, device_mapper_info,
 * and the ATA gauges, each only when udev knows the property. */
static void diskio_emit_udev_extras(struct sonde_batch *batch, const char *dev,
                                    const struct diskio_udev *udev)
{
    if (diskio_udev_nonempty(udev, UDEV_ID_FS_TYPE))
        sonde_emit(batch, &diskio_fs_info_family, 1.0, "device", dev, "type",
                   diskio_udev_get(batch, udev, UDEV_ID_FS_TYPE), "usage",
                   diskio_udev_get(batch, udev, UDEV_ID_FS_USAGE), "uuid",
                   diskio_udev_get(batch, udev, UDEV_ID_FS_UUID), "version",
                   diskio_udev_get(batch, udev, UDEV_ID_FS_VERSION), NULL);
    if (diskio_udev_nonempty(udev, UDEV_DM_NAME))
        sonde_emit(batch, &diskio_dm_info_family, 1.0, "device", dev, "name",
                   diskio_udev_get(batch, udev, UDEV_DM_NAME), "uuid",
                   diskio_udev_get(batch, udev, UDEV_DM_UUID), "vg_name",
                   diskio_udev_get(batch, udev, UDEV_DM_VG_NAME), "lv_name",
                   diskio_udev_get(batch, udev, UDEV_DM_LV_NAME), "lv_layer",
                   diskio_udev_get(batch, udev, UDEV_DM_LV_LAYER), NULL);
    if (!diskio_udev_nonempty(udev, UDEV_ID_ATA))
        return;
    for (size_t i = 0; i < sizeof(diskio_ata) / sizeof(diskio_ata[0]); i++) {
        if (!udev->value[diskio_ata[i].key])
            continue;
        const char *text = diskio_udev_get(batch, udev, diskio_ata[i].key);
        char *end;
        double v = strtod(text, &end);
        if (end == text || *end != '\0') {
            batch->skipped++; /* node_exporter logs and drops it too */
            continue;
        }
        sonde_emit(batch, &diskio_ata[i].family, v, "device", dev, NULL);
    }
}

/* Whether devices_exclude leaves out the device of the `k`th line. */
static bool diskio_excluded(struct diskio_state *st, size_t k, const char *name)
{
    if (!st->have_exclude)
        return false;
    if (k >= st->nverdicts) {
        st->verdicts = sonde_xrealloc(st->verdicts, (k + 1) * sizeof(*st->verdicts));
        memset(st->verdicts + st->nverdicts, 0, (k + 1 - st->nverdicts) * sizeof(*st->verdicts));
        st->nverdicts = k + 1;
    }
    struct diskio_verdict *v = &st->verdicts[k];
    if (!v->name || strcmp(v->name, name) != 0) {
        free(v->name);
        v->name = sonde_xstrdup(name);
        v->excluded = regexec(&st->exclude, name, 0, NULL, 0) == 0;
    }
    return v->excluded;
}

static void diskio_emit_prom(struct diskio_state *st, struct sonde_batch *batch,
                             const struct diskio_line *line, size_t k, bool udev_present)
{
    if (diskio_excluded(st, k, line->name))
        return;

    struct diskio_udev udev;
    memset(&udev, 0, sizeof(udev));
    if (udev_present) {
        char *path =
            sonde_arena_printf(batch->arena, "%s/b%u:%u", st->udev_dir, line->major, line->minor);
        long n = diskio_slurp(st, path);
        if (n >= 0)
            diskio_parse_udev(st->scratch, (size_t)n, &udev);
    }

    /* The serial printed on the label when SCSI knows it, udev's short
     * serial otherwise (node_exporter 1.5 has no further fallback). */
    enum diskio_udev_key serial_key = diskio_udev_nonempty(&udev, UDEV_SCSI_IDENT_SERIAL)
                                          ? UDEV_SCSI_IDENT_SERIAL
                                          : UDEV_ID_SERIAL_SHORT;
    char major[16], minor[16];
    snprintf(major, sizeof(major), "%u", line->major);
    snprintf(minor, sizeof(minor), "%u", line->minor);
    sonde_emit(batch, &diskio_info_family, 1.0, "device", line->name, "major", major, "minor",
               minor, "path", diskio_udev_get(batch, &udev, UDEV_ID_PATH), "wwn",
               diskio_udev_get(batch, &udev, UDEV_ID_WWN), "model",
               diskio_udev_get(batch, &udev, UDEV_ID_MODEL), "serial",
               diskio_udev_get(batch, &udev, serial_key), "revision",
               diskio_udev_get(batch, &udev, UDEV_ID_REVISION), NULL);

    for (int i = 0; i < line->nstats; i++)
        sonde_emit(batch, &diskio_columns[i].family,
                   (double)line->stats[i] * diskio_columns[i].scale, "device", line->name, NULL);

    diskio_emit_udev_extras(batch, line->name, &udev);
}

/* ------------------------------------------------------------------ */
/* Line protocol                                                        */
/* ------------------------------------------------------------------ */

/* Telegraf's devices: globs match the kernel name; a plain entry matches by
 * its last path component ("/dev/sda" and "sda" both select sda). */
static bool diskio_lp_wanted(const struct sonde_strings *devices, const char *name)
{
    if (devices->n == 0)
        return true;
    for (size_t i = 0; i < devices->n; i++) {
        const char *pattern = devices->items[i];
        if (strpbrk(pattern, "*?[")) {
            if (fnmatch(pattern, name, 0) == 0)
                return true;
            continue;
        }
        const char *base = strrchr(pattern, '/');
        if (strcmp(base ? base + 1 : pattern, name) == 0)
            return true;
    }
    return false;
}

/* Telegraf adds a wwid tag from /sys/block/<name>/wwid when the kernel
 * provides one; read once per device, when it first appears. Returns a
 * heap string the device entry owns, or NULL. */
static char *diskio_read_wwid(struct diskio_state *st, const char *name)
{
    size_t n = strlen(name) + sizeof("/block//wwid");
    char *suffix = sonde_xmalloc(n);
    snprintf(suffix, n, "/block/%s/wwid", name);
    char *path = diskio_join(st->sysfs, suffix);
    long len = diskio_slurp(st, path);
    free(suffix);
    free(path);
    if (len <= 0)
        return NULL;
    if (st->scratch[len - 1] == '\n') /* Telegraf trims exactly one newline */
        st->scratch[--len] = '\0';
    return len > 0 ? sonde_xstrdup(st->scratch) : NULL;
}

/* The device's entry, created on first sight. `*cursor` is where the next
 * one is expected: /proc/diskstats keeps its order, so the lookup is
 * usually O(1) and the scan is for devices that came or went. */
static struct diskio_device *diskio_device_get(struct diskio_state *st, const char *name,
                                               size_t *cursor)
{
    size_t i = *cursor;
    if (i >= st->ndevices || strcmp(st->devices[i].name, name) != 0)
        for (i = 0; i < st->ndevices && strcmp(st->devices[i].name, name) != 0; i++)
            ;
    *cursor = i + 1;
    if (i < st->ndevices)
        return &st->devices[i];
    if (st->ndevices == st->devices_cap) {
        st->devices_cap = st->devices_cap ? st->devices_cap * 2 : 16;
        st->devices = sonde_xrealloc(st->devices, st->devices_cap * sizeof(*st->devices));
    }
    struct diskio_device *dev = &st->devices[st->ndevices++];
    memset(dev, 0, sizeof(*dev));
    dev->name = sonde_xstrdup(name);
    dev->wwid = diskio_read_wwid(st, name);
    return dev;
}

/* Drops devices that were not reported this time (removed, or back to
 * all-zero), so a device that returns starts without a stale baseline. */
static void diskio_forget_unseen(struct diskio_state *st)
{
    size_t kept = 0;
    for (size_t i = 0; i < st->ndevices; i++) {
        if (!st->devices[i].seen) {
            free(st->devices[i].name);
            free(st->devices[i].wwid);
            continue;
        }
        st->devices[i].seen = false;
        st->devices[kept++] = st->devices[i];
    }
    st->ndevices = kept;
}

/* Telegraf's io_await and io_svctm (ms per I/O) and io_util (percent busy),
 * from the previous read; left out after a counter wrap or reset. */
static void diskio_emit_derived(struct diskio_state *st, struct sonde_batch *batch,
                                struct sonde_point *pt, const uint64_t *now, const uint64_t *old)
{
    if (now[DISKIO_READS] < old[DISKIO_READS] || now[DISKIO_WRITES] < old[DISKIO_WRITES] ||
        now[DISKIO_READ_MS] < old[DISKIO_READ_MS] || now[DISKIO_WRITE_MS] < old[DISKIO_WRITE_MS] ||
        now[DISKIO_IO_MS] < old[DISKIO_IO_MS])
        return;
    double ios = (double)(now[DISKIO_READS] - old[DISKIO_READS]) +
                 (double)(now[DISKIO_WRITES] - old[DISKIO_WRITES]);
    double rw_ms = (double)(now[DISKIO_READ_MS] - old[DISKIO_READ_MS]) +
                   (double)(now[DISKIO_WRITE_MS] - old[DISKIO_WRITE_MS]);
    double io_ms = (double)(now[DISKIO_IO_MS] - old[DISKIO_IO_MS]);
    if (ios > 0) {
        sonde_point_float(batch, pt, "io_await", rw_ms / ios);
        sonde_point_float(batch, pt, "io_svctm", io_ms / ios);
    }
    /* Whole milliseconds, as Telegraf's Duration.Milliseconds(). */
    int64_t interval_ms = (batch->timestamp_ns - st->prev_ns) / 1000000;
    if (st->prev_ns > 0 && interval_ms > 0)
        sonde_point_float(batch, pt, "io_util", 100.0 * io_ms / (double)interval_ms);
}

static void diskio_emit_lp(struct diskio_state *st, struct sonde_batch *batch,
                           const struct diskio_line *line, size_t *cursor)
{
    const uint64_t *s = line->stats;

    if (!diskio_lp_wanted(&st->config->devices, line->name))
        return;
    bool all_zero = true;
    for (int i = 0; i < DISKIO_MIN_STATS; i++)
        all_zero = all_zero && s[i] == 0;
    if (all_zero) /* gopsutil never reports these, so neither does Telegraf */
        return;

    struct diskio_device *dev = diskio_device_get(st, line->name, cursor);
    struct sonde_point *pt = sonde_point(batch, "diskio");
    sonde_point_tag(batch, pt, "name", line->name);
    if (dev->wwid)
        sonde_point_tag(batch, pt, "wwid", dev->wwid);
    sonde_point_uint(batch, pt, "reads", s[DISKIO_READS]);
    sonde_point_uint(batch, pt, "writes", s[DISKIO_WRITES]);
    sonde_point_uint(batch, pt, "read_bytes", s[DISKIO_READ_SECTORS] * 512);
    sonde_point_uint(batch, pt, "write_bytes", s[DISKIO_WRITE_SECTORS] * 512);
    sonde_point_uint(batch, pt, "read_time", s[DISKIO_READ_MS]);
    sonde_point_uint(batch, pt, "write_time", s[DISKIO_WRITE_MS]);
    sonde_point_uint(batch, pt, "io_time", s[DISKIO_IO_MS]);
    sonde_point_uint(batch, pt, "weighted_io_time", s[DISKIO_IO_WEIGHTED_MS]);
    sonde_point_uint(batch, pt, "iops_in_progress", s[DISKIO_IO_NOW]);
    sonde_point_uint(batch, pt, "merged_reads", s[DISKIO_READS_MERGED]);
    sonde_point_uint(batch, pt, "merged_writes", s[DISKIO_WRITES_MERGED]);
    if (dev->have_prev)
        diskio_emit_derived(st, batch, pt, s, dev->prev);

    memcpy(dev->prev, s, sizeof(dev->prev));
    dev->have_prev = true;
    dev->seen = true;
}

/* ------------------------------------------------------------------ */
/* Plugin callbacks                                                     */
/* ------------------------------------------------------------------ */

static void diskio_destroy(void *state)
{
    struct diskio_state *st = state;
    if (!st)
        return;
    if (st->have_exclude)
        regfree(&st->exclude);
    sonde_file_close(&st->diskstats);
    for (size_t i = 0; i < st->ndevices; i++) {
        free(st->devices[i].name);
        free(st->devices[i].wwid);
    }
    free(st->devices);
    for (size_t i = 0; i < st->nverdicts; i++)
        free(st->verdicts[i].name);
    free(st->verdicts);
    free(st->udev_dir);
    free(st->sysfs);
    free(st->scratch);
    free(st);
}

static int diskio_init(void **state, const void *config, const struct sonde_context *ctx)
{
    struct diskio_state *st = sonde_xcalloc(1, sizeof(*st));
    st->config = config;
    st->diskstats.fd = -1; /* so destroy is safe before sonde_file_init */

    const char *exclude = st->config->devices_exclude;
    if (exclude && exclude[0]) {
        int rc = regcomp(&st->exclude, exclude, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char msg[256];
            regerror(rc, &st->exclude, msg, sizeof(msg));
            sonde_log(SONDE_LOG_ERROR, "%s: devices_exclude \"%s\": %s", ctx->instance, exclude,
                      msg);
            diskio_destroy(st);
            return -EINVAL;
        }
        st->have_exclude = true;
    }

    char *path = diskio_join(ctx->procfs, "/diskstats");
    sonde_file_init(&st->diskstats, path);
    free(path);
    st->udev_dir = diskio_join(ctx->rootfs, "/run/udev/data");
    st->sysfs = sonde_xstrdup(ctx->sysfs);
    st->scratch_cap = 4096;
    st->scratch = sonde_xmalloc(st->scratch_cap);
    *state = st;
    return 0;
}

static int diskio_read(void *state, struct sonde_batch *batch)
{
    struct diskio_state *st = state;

    int rc = sonde_file_read(&st->diskstats);
    if (rc < 0)
        return rc;

    /* node_exporter skips udev when its directory is missing (containers,
     * systems without udev); checked once per read, not once per device. */
    struct stat sb;
    bool udev_present = stat(st->udev_dir, &sb) == 0 && S_ISDIR(sb.st_mode);

    const char *p = st->diskstats.buf, *end = p + st->diskstats.len;
    size_t cursor = 0, k = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        const char *tok;
        size_t tlen;
        const char *q = p;
        if (diskio_token(&q, line_end, &tok, &tlen)) { /* blank lines are not data */
            struct diskio_line line;
            if (diskio_parse_line(p, (size_t)(line_end - p), &line) < 0) {
                batch->skipped++;
                sonde_log_limited(&st->bad_line_log, 300, SONDE_LOG_WARN,
                                  "%s: skipping malformed line of %s: %.*s", batch->input,
                                  st->diskstats.path, (int)(line_end - p), p);
            } else {
                diskio_emit_prom(st, batch, &line, k++, udev_present);
                diskio_emit_lp(st, batch, &line, &cursor);
            }
        }
        p = nl ? nl + 1 : end;
    }
    diskio_forget_unseen(st);
    st->prev_ns = batch->timestamp_ns;
    return 0;
}

const struct sonde_plugin sonde_plugin_diskio = {
    .name = "diskio",    /* config key; alias "diskstats" */
    .kind = SONDE_INPUT, /* samples the host */
    .summary = "block device I/O from /proc/diskstats (node_disk_*, Telegraf diskio)",
    .config_size = sizeof(struct diskio_config), /* filled by the core from the options */
    .options = diskio_options,                   /* devices_exclude, devices */
    .init = diskio_init,                         /* compiles the regex, opens nothing yet */
    .read = diskio_read,                         /* one pass over /proc/diskstats */
    .write = NULL,                               /* inputs do not write */
    .destroy = diskio_destroy,                   /* frees the state and device table */
};
