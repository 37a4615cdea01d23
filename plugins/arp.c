/*
 * arp.c - the `arp` input: neighbour table entries per interface from
 * /proc/net/arp, as node_exporter 1.5's arp collector (node_arp_entries{device}).
 * Prometheus only: Telegraf has no input for this file.
 */
#include <errno.h>
#include <regex.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sonde.h"

struct arp_config {
    char *devices_include; /* regex; empty: every device */
    char *devices_exclude; /* regex; empty: none */
};

static const struct sonde_option arp_options[] = {
    {"devices_include", SONDE_OPT_REGEX, offsetof(struct arp_config, devices_include), "", false,
     "Only devices matching this (node_exporter's --collector.arp.device-include)"},
    {"devices_exclude", SONDE_OPT_REGEX, offsetof(struct arp_config, devices_exclude), "", false,
     "Devices left out (node_exporter's --collector.arp.device-exclude)"},
    {NULL},
};

/* The columns of a table line: IP address, HW type, Flags, HW address,
 * Mask, Device. node_exporter 1.5 (procfs) takes lines of exactly six. */
#define ARP_COLUMNS 6
/* Linux names are at most 15 bytes (IFNAMSIZ); a longer one is skipped and
 * counted, never cut. */
#define ARP_NAME_MAX 64

struct arp_device {
    char name[ARP_NAME_MAX];
    uint64_t entries;
};

/* Entries per device, in the order devices first appear; `items` is reused
 * across reads (freed by arp_devices_free). */
struct arp_devices {
    struct arp_device *items;
    size_t n, cap;
    uint64_t skipped; /* malformed lines */
};

struct arp_state {
    struct sonde_file file; /* <procfs>/net/arp, kept open */
    struct arp_devices devices;
    regex_t include, exclude;
    bool has_include, has_exclude;
    struct sonde_ratelimit badlog;
};

static const struct sonde_family arp_family = {"node_arp_entries", SONDE_GAUGE,
                                               "ARP entries by device"};

static bool arp_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/*
 * Parses one line [line, end) and returns its device (the last column) in
 * *dev and *len. Returns 0, -ENODATA for a blank line or the header
 * ("IP address HW type ..."), -EINVAL for a line of another width or a name
 * too long.
 */
static int arp_parse_line(const char *line, const char *end, const char **dev, size_t *len)
{
    size_t n = 0;
    const char *first = NULL, *w = NULL, *p = line;
    size_t first_len = 0, wlen = 0;
    for (;;) {
        while (p < end && arp_is_blank(*p))
            p++;
        if (p == end)
            break;
        w = p;
        while (p < end && !arp_is_blank(*p))
            p++;
        wlen = (size_t)(p - w);
        if (n++ == 0) {
            first = w;
            first_len = wlen;
        }
    }
    if (n == 0 || (first_len == 2 && memcmp(first, "IP", 2) == 0))
        return -ENODATA;
    if (n != ARP_COLUMNS || wlen >= ARP_NAME_MAX)
        return -EINVAL;
    *dev = w;
    *len = wlen;
    return 0;
}

static void arp_count(struct arp_devices *devs, const char *name, size_t len)
{
    for (size_t i = 0; i < devs->n; i++) {
        if (strlen(devs->items[i].name) == len && memcmp(devs->items[i].name, name, len) == 0) {
            devs->items[i].entries++;
            return;
        }
    }
    if (devs->n == devs->cap) {
        devs->cap = devs->cap ? devs->cap * 2 : 8;
        devs->items = sonde_xrealloc(devs->items, devs->cap * sizeof(*devs->items));
    }
    struct arp_device *d = &devs->items[devs->n++];
    memcpy(d->name, name, len);
    d->name[len] = '\0';
    d->entries = 1;
}

/* Counts the entries of /proc/net/arp per device. Every entry counts,
 * incomplete ones (flags 0x0) too, as in node_exporter 1.5. */
static void arp_parse(const char *buf, struct arp_devices *devs)
{
    devs->n = 0;
    devs->skipped = 0;
    for (const char *line = buf; *line;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        const char *dev;
        size_t len;
        int rc = arp_parse_line(line, end, &dev, &len);
        line = nl ? nl + 1 : end;
        if (rc == 0)
            arp_count(devs, dev, len);
        else if (rc == -EINVAL)
            devs->skipped++;
    }
}

static void arp_devices_free(struct arp_devices *devs)
{
    free(devs->items);
    memset(devs, 0, sizeof(*devs));
}

static int arp_init(void **out, const void *config, const struct sonde_context *ctx)
{
    const struct arp_config *cfg = config;
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/net/arp", ctx->procfs) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    struct arp_state *st = sonde_xcalloc(1, sizeof(*st));
    if (cfg->devices_include && cfg->devices_include[0]) {
        if (regcomp(&st->include, cfg->devices_include, REG_EXTENDED | REG_NOSUB) != 0)
            goto bad_regex;
        st->has_include = true;
    }
    if (cfg->devices_exclude && cfg->devices_exclude[0]) {
        if (regcomp(&st->exclude, cfg->devices_exclude, REG_EXTENDED | REG_NOSUB) != 0)
            goto bad_regex;
        st->has_exclude = true;
    }
    sonde_file_init(&st->file, path);
    *out = st;
    return 0;

bad_regex: /* the core validated both; unreachable in practice */
    if (st->has_include)
        regfree(&st->include);
    free(st);
    return -EINVAL;
}

/* node_exporter's device filter: excluded when the exclude regex matches
 * or the include regex does not. */
static bool arp_wanted(const struct arp_state *st, const char *device)
{
    if (st->has_exclude && regexec(&st->exclude, device, 0, NULL, 0) == 0)
        return false;
    return !st->has_include || regexec(&st->include, device, 0, NULL, 0) == 0;
}

static int arp_read(void *arg, struct sonde_batch *batch)
{
    struct arp_state *st = arg;
    if (!batch->want_series)
        return 0; /* nothing to write as line protocol */
    int rc = sonde_file_read(&st->file);
    if (rc < 0)
        return rc;
    arp_parse(st->file.buf, &st->devices);
    for (size_t i = 0; i < st->devices.n; i++) {
        const struct arp_device *d = &st->devices.items[i];
        if (arp_wanted(st, d->name))
            sonde_emit(batch, &arp_family, (double)d->entries, "device", d->name, NULL);
    }
    if (st->devices.skipped) {
        batch->skipped += st->devices.skipped;
        sonde_log_limited(&st->badlog, 300, SONDE_LOG_WARN,
                          "arp: %s: skipped %llu malformed line(s)", st->file.path,
                          (unsigned long long)st->devices.skipped);
    }
    return 0;
}

static void arp_destroy(void *arg)
{
    struct arp_state *st = arg;
    if (!st)
        return;
    sonde_file_close(&st->file);
    arp_devices_free(&st->devices);
    if (st->has_include)
        regfree(&st->include);
    if (st->has_exclude)
        regfree(&st->exclude);
    free(st);
}

const struct sonde_plugin sonde_plugin_arp = {
    .name = "arp",       /* configuration key, node_exporter's name */
    .kind = SONDE_INPUT, /* reads the host */
    .summary = "ARP entries per device (/proc/net/arp)", /* for --help and docs */
    .config_size = sizeof(struct arp_config),            /* filled from arp_options */
    .options = arp_options,                              /* devices_include, devices_exclude */
    .init = arp_init,       /* compiles the filters; opens nothing yet */
    .read = arp_read,       /* node_arp_entries{device} */
    .write = NULL,          /* inputs do not write */
    .destroy = arp_destroy, /* closes the file, frees the filters */
};
