/*
 * time.c - the `time` input: the wall clock, the local time zone and the
 * kernel clock sources (/sys/devices/system/clocksource) as node_exporter
 * 1.5's time collector. No line protocol: Telegraf has no such input.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sonde.h"

struct time_config {
    char unused; /* no options; keeps the struct non-empty (ISO C) */
};

static const struct sonde_option time_options[] = {
    {NULL},
};

static const struct sonde_family time_now_family = {"node_time_seconds", SONDE_GAUGE,
                                                    "System time in seconds since epoch (1970)."};
static const struct sonde_family time_zone_family = {"node_time_zone_offset_seconds", SONDE_GAUGE,
                                                     "System time zone offset in seconds."};
static const struct sonde_family time_available_family = {
    "node_time_clocksource_available_info", SONDE_GAUGE,
    "Available clocksources read from '/sys/devices/system/clocksource'."};
static const struct sonde_family time_current_family = {
    "node_time_clocksource_current_info", SONDE_GAUGE,
    "Current clocksource read from '/sys/devices/system/clocksource'."};

/* One clocksourceN directory: its two files, kept open. */
struct time_source {
    struct sonde_file available; /* "tsc kvm-clock \n" */
    struct sonde_file current;   /* "tsc\n" */
};

struct time_state {
    char *dir;                   /* <sysfs>/devices/system/clocksource; owned */
    struct time_source *sources; /* in node_exporter's order; owned */
    size_t nsources;
    bool scanned; /* false: list the directory at the next read */
};

/* The time series: node_time_seconds from `now_ns` (nanoseconds since the
 * epoch) and the offset and abbreviation of the zone `tm` is in. */
static void time_emit_now(struct sonde_batch *batch, int64_t now_ns, const struct tm *tm)
{
    sonde_emit(batch, &time_now_family, (double)now_ns / 1e9, NULL);
    sonde_emit(batch, &time_zone_family, (double)tm->tm_gmtoff, "time_zone",
               tm->tm_zone ? tm->tm_zone : "", NULL);
}

/* Emits the series of clock source directory number `index` (its position
 * in name order, which node_exporter puts in the `device` label) from the
 * contents of its two files. */
static void time_emit_source(struct sonde_batch *batch, size_t index, const char *available,
                             const char *current)
{
    char device[24];
    snprintf(device, sizeof(device), "%zu", index);
    for (const char *p = available;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        const char *e = p;
        while (*e && *e != ' ' && *e != '\t' && *e != '\n')
            e++;
        char name[256];
        size_t len = (size_t)(e - p);
        if (len < sizeof(name)) {
            memcpy(name, p, len);
            name[len] = '\0';
            sonde_emit(batch, &time_available_family, 1.0, "clocksource", name, "device", device,
                       NULL);
        } else {
            batch->skipped++; /* no clock source has such a name */
        }
        p = e;
    }
    /* The current one, trimmed of the newline and blanks around it. */
    while (*current == ' ' || *current == '\t' || *current == '\n')
        current++;
    size_t len = strlen(current);
    while (len && (current[len - 1] == ' ' || current[len - 1] == '\t' || current[len - 1] == '\n'))
        len--;
    char name[256];
    if (len >= sizeof(name)) {
        batch->skipped++;
        return;
    }
    memcpy(name, current, len);
    name[len] = '\0';
    sonde_emit(batch, &time_current_family, 1.0, "clocksource", name, "device", device, NULL);
}

static void time_sources_free(struct time_state *st)
{
    for (size_t i = 0; i < st->nsources; i++) {
        sonde_file_close(&st->sources[i].available);
        sonde_file_close(&st->sources[i].current);
    }
    free(st->sources);
    st->sources = NULL;
    st->nsources = 0;
}

/* node_exporter globs "clocksource[0-9]*": the prefix and one digit. */
static bool time_is_source_name(const char *name)
{
    return strncmp(name, "clocksource", 11) == 0 && name[11] >= '0' && name[11] <= '9';
}

static int time_name_compare(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the clock source directories, sorted by name as Go's glob sorts
 * them. No directory (old kernel, no sysfs): no sources, no error. */
static void time_scan(struct time_state *st)
{
    time_sources_free(st);
    st->scanned = true;
    DIR *d = opendir(st->dir);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!time_is_source_name(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            names = sonde_xrealloc(names, cap * sizeof(*names));
        }
        names[n++] = sonde_xstrdup(e->d_name);
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof(*names), time_name_compare);
    st->sources = n ? sonde_xcalloc(n, sizeof(*st->sources)) : NULL;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s/available_clocksource", st->dir, names[i]);
        sonde_file_init(&st->sources[i].available, path);
        snprintf(path, sizeof(path), "%s/%s/current_clocksource", st->dir, names[i]);
        sonde_file_init(&st->sources[i].current, path);
        free(names[i]);
    }
    st->nsources = n;
    free(names);
}

static int time_init(void **state, const void *config, const struct sonde_context *ctx)
{
    (void)config;
    char dir[4096];
    if (snprintf(dir, sizeof(dir), "%s/devices/system/clocksource", ctx->sysfs) >=
        (int)sizeof(dir) - 320)
        return -ENAMETOOLONG; /* room left for "/<name>/available_clocksource" */
    struct time_state *st = sonde_xcalloc(1, sizeof(*st));
    st->dir = sonde_xstrdup(dir);
    tzset(); /* the zone is loaded once, as Go loads time.Local once */
    *state = st;
    return 0;
}

static int time_read(void *state, struct sonde_batch *batch)
{
    struct time_state *st = state;
    if (!batch->want_series)
        return 0; /* nothing for line protocol */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    time_t sec = ts.tv_sec;
    if (!localtime_r(&sec, &tm))
        return -EOVERFLOW;
    time_emit_now(batch, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, &tm);

    if (!st->scanned)
        time_scan(st);
    for (size_t i = 0; i < st->nsources; i++) {
        int rc = sonde_file_read(&st->sources[i].available);
        if (rc == 0)
            rc = sonde_file_read(&st->sources[i].current);
        if (rc < 0) {
            /* node_exporter fails the collector; a vanished directory
             * means the list changed: list it again next time. */
            st->scanned = false;
            return rc;
        }
        time_emit_source(batch, i, st->sources[i].available.buf, st->sources[i].current.buf);
    }
    return 0;
}

static void time_destroy(void *state)
{
    struct time_state *st = state;
    if (!st)
        return;
    time_sources_free(st);
    free(st->dir);
    free(st);
}

const struct sonde_plugin sonde_plugin_time = {
    .name = "time",                                       /* node_exporter's collector */
    .kind = SONDE_INPUT,                                  /* reads the host */
    .summary = "Wall clock, time zone and clock sources", /* for --help and docs */
    .config_size = sizeof(struct time_config),            /* no options */
    .options = time_options,                              /* empty table */
    .init = time_init,                                    /* lists nothing yet */
    .read = time_read,                                    /* node_time_* */
    .write = NULL,                                        /* inputs do not write */
    .destroy = time_destroy,                              /* closes the files */
};
