/*
 * thermal_zone.c - the `thermal_zone` input: node_exporter's thermal_zone collector, the
 * kernel's thermal zones and cooling devices in /sys/class/thermal
 * (node_thermal_zone_temp{zone,type}, node_cooling_device_{cur,max}_state{name,type}).
 * Prometheus only: Telegraf reads thermal zones inside its temp input (see hwmon.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sonde.h"

/* No options: node_exporter has none for this collector. The member only
 * keeps the struct non-empty (ISO C). */
struct thermal_zone_config {
    char unused;
};

static const struct sonde_option thermal_zone_options[] = {
    {NULL},
};

struct thermal_zone_state {
    char *class_thermal; /* <sysfs>/class/thermal; owned */
};

static const struct sonde_family thermal_zone_temp_family = {"node_thermal_zone_temp", SONDE_GAUGE,
                                                             "Zone temperature in Celsius"};
static const struct sonde_family thermal_zone_cur_family = {
    "node_cooling_device_cur_state", SONDE_GAUGE, "Current throttle state of the cooling device"};
static const struct sonde_family thermal_zone_max_family = {
    "node_cooling_device_max_state", SONDE_GAUGE, "Maximum throttle state of the cooling device"};

/* type and the numbers are short; a page is the most sysfs gives. */
#define THERMAL_ZONE_ATTR_MAX 4096

/* What one zone or cooling device directory says. */
struct thermal_zone_entry {
    char type[256];
    int64_t value[2]; /* zone: temp; cooling device: cur_state, max_state */
};

/* ------------------------------------------------------------------ */
/* Parsing                                                              */
/* ------------------------------------------------------------------ */

/* A signed decimal as Go's ParseInt(s, 10, 64) takes it: the whole string.
 * 0 or -EINVAL. */
static int thermal_zone_parse_int(const char *text, int64_t *out)
{
    const char *p = text[0] == '-' || text[0] == '+' ? text + 1 : text;
    if (*p < '0' || *p > '9')
        return -EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno == ERANGE || *end)
        return -EINVAL;
    *out = v;
    return 0;
}

/* Errors of a device that cannot answer now (a wifi card's zone while the
 * link is down answers ENODATA, a sleeping sensor EAGAIN): no sample, and
 * nothing wrong with the data either. */
static bool thermal_zone_transient(long err)
{
    return err == -ENODATA || err == -EAGAIN || err == -EINVAL || err == -EIO;
}

/* Maps a failed read to the entry's fate: -EAGAIN (skip quietly) for a
 * device that cannot answer now, -EINVAL (skip, counted) otherwise. */
static int thermal_zone_fail(long err)
{
    return thermal_zone_transient(err) ? -EAGAIN : -EINVAL;
}

/* Reads `type` and the integer attributes ints[0..n) of one directory into
 * entry. Returns 0, -EAGAIN or -EINVAL as thermal_zone_fail. */
static int thermal_zone_read_entry(int dirfd, const char *const *ints, size_t n,
                                   struct thermal_zone_entry *entry)
{
    char buf[THERMAL_ZONE_ATTR_MAX];
    long len = sonde_read_attr(dirfd, "type", buf, sizeof(buf));
    if (len < 0)
        return thermal_zone_fail(len);
    if ((size_t)len >= sizeof(entry->type))
        return -EINVAL;
    memcpy(entry->type, buf, (size_t)len + 1);
    for (size_t i = 0; i < n; i++) {
        len = sonde_read_attr(dirfd, ints[i], buf, sizeof(buf));
        if (len < 0)
            return thermal_zone_fail(len);
        if (thermal_zone_parse_int(buf, &entry->value[i]) < 0)
            return -EINVAL;
    }
    return 0;
}

/* "thermal_zone12" with prefix "thermal_zone": the "12", or NULL when the
 * name is not the prefix followed by a digit (node_exporter's glob
 * thermal_zone[0-9]*). */
static const char *thermal_zone_suffix(const char *name, const char *prefix)
{
    size_t len = strlen(prefix);
    if (strncmp(name, prefix, len) != 0 || name[len] < '0' || name[len] > '9')
        return NULL;
    return name + len;
}

/* ------------------------------------------------------------------ */
/* The plugin                                                           */
/* ------------------------------------------------------------------ */

static int thermal_zone_init(void **state, const void *config, const struct sonde_context *ctx)
{
    (void)config;
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/class/thermal", ctx->sysfs) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    struct thermal_zone_state *st = sonde_xcalloc(1, sizeof(*st));
    st->class_thermal = sonde_xstrdup(path);
    *state = st;
    return 0;
}

/* Reads one entry of class/thermal and emits its samples. */
static void thermal_zone_entry_emit(int classfd, const char *name, struct sonde_batch *batch)
{
    static const char *const zone_ints[] = {"temp"};
    static const char *const cooling_ints[] = {"cur_state", "max_state"};
    const char *zone = thermal_zone_suffix(name, "thermal_zone");
    const char *cooling = zone ? NULL : thermal_zone_suffix(name, "cooling_device");
    if (!zone && !cooling)
        return;
    int fd = openat(classfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return; /* gone since readdir */
    struct thermal_zone_entry entry;
    int rc;
    if (zone) {
        rc = thermal_zone_read_entry(fd, zone_ints, 1, &entry);
        /* node_exporter refuses a zone without a policy; so do we */
        char policy[THERMAL_ZONE_ATTR_MAX];
        long len;
        if (rc == 0 && (len = sonde_read_attr(fd, "policy", policy, sizeof(policy))) < 0)
            rc = thermal_zone_fail(len);
    } else {
        rc = thermal_zone_read_entry(fd, cooling_ints, 2, &entry);
    }
    close(fd);
    if (rc < 0) {
        batch->skipped += rc == -EINVAL;
        return;
    }
    if (zone) {
        sonde_emit(batch, &thermal_zone_temp_family, (double)entry.value[0] / 1000.0, "zone", zone,
                   "type", entry.type, NULL);
    } else {
        sonde_emit(batch, &thermal_zone_cur_family, (double)entry.value[0], "name", cooling, "type",
                   entry.type, NULL);
        sonde_emit(batch, &thermal_zone_max_family, (double)entry.value[1], "name", cooling, "type",
                   entry.type, NULL);
    }
}

static int thermal_zone_read(void *state, struct sonde_batch *batch)
{
    struct thermal_zone_state *st = state;
    if (!batch->want_series)
        return 0; /* Prometheus only */
    DIR *dir = opendir(st->class_thermal);
    if (!dir)
        return errno == ENOENT ? 0 : -errno; /* no thermal class: nothing to report */
    for (struct dirent *de; (de = readdir(dir));)
        thermal_zone_entry_emit(dirfd(dir), de->d_name, batch);
    closedir(dir);
    return 0;
}

static void thermal_zone_destroy(void *state)
{
    struct thermal_zone_state *st = state;
    if (!st)
        return;
    free(st->class_thermal);
    free(st);
}

const struct sonde_plugin sonde_plugin_thermal_zone = {
    .name = "thermal_zone",                            /* node_exporter's collector name */
    .kind = SONDE_INPUT,                               /* an input */
    .summary = "Thermal zones, cooling devices",       /* for --help and docs */
    .config_size = sizeof(struct thermal_zone_config), /* no options */
    .options = thermal_zone_options,                   /* empty */
    .init = thermal_zone_init,                         /* opens nothing yet */
    .read = thermal_zone_read,                         /* node_thermal_zone_temp ... */
    .write = NULL,                                     /* not an output */
    .destroy = thermal_zone_destroy,                   /* frees the state */
};
