/*
 * net.c - the `net` input: /proc/net/dev as node_exporter's netdev collector
 * (node_network_{receive,transmit}_*_total{device}, every interface) and as
 * Telegraf's inputs.net (measurement "net", tag interface, up non-loopback
 * interfaces unless a list is given; optionally interface=all from /proc/net/snmp).
 * With the live system's paths the interfaces, their counters, flags and
 * receive_nohandler come over rtnetlink (net_links.c), which costs the kernel
 * less than writing /proc/net/dev; with another root, and when rtnetlink
 * fails, from /proc/net/dev and sysfs. Both give the same series and values.
 */
#include <errno.h>
#include <fnmatch.h>
#include <net/if.h>
#include <regex.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_links.h"
#include "sonde.h"

struct net_config {
    struct sonde_strings interfaces; /* glob patterns; empty: Telegraf's default choice */
    bool ignore_protocol_stats;      /* true: no interface=all point */
    char *devices_exclude;           /* regex; Prometheus only; empty: none */
};

static const struct sonde_option net_options[] = {
    {"interfaces", SONDE_OPT_STRING_LIST, offsetof(struct net_config, interfaces), NULL, false,
     "Interfaces (glob patterns) written as line protocol; empty: every up, non-loopback one"},
    {"ignore_protocol_stats", SONDE_OPT_BOOL, offsetof(struct net_config, ignore_protocol_stats),
     "true", false, "Leave out the net,interface=all point of /proc/net/snmp counters"},
    {"devices_exclude", SONDE_OPT_REGEX, offsetof(struct net_config, devices_exclude), "", false,
     "Devices left out of node_network_* (node_exporter's --collector.netdev.device-exclude)"},
    {NULL},
};

/* ---- /proc/net/dev ---- */

/* The 16 columns of /proc/net/dev, in file order. */
enum net_column {
    NET_RX_BYTES,
    NET_RX_PACKETS,
    NET_RX_ERRS,
    NET_RX_DROP,
    NET_RX_FIFO,
    NET_RX_FRAME,
    NET_RX_COMPRESSED,
    NET_RX_MULTICAST,
    NET_TX_BYTES,
    NET_TX_PACKETS,
    NET_TX_ERRS,
    NET_TX_DROP,
    NET_TX_FIFO,
    NET_TX_COLLS,
    NET_TX_CARRIER,
    NET_TX_COMPRESSED,
    NET_NCOLUMNS
};

/* node_exporter 1.5's names (its legacy, non-detailed set) and help text. */
static const struct sonde_family net_families[NET_NCOLUMNS] = {
    {"node_network_receive_bytes_total", SONDE_COUNTER, "Network device statistic receive_bytes."},
    {"node_network_receive_packets_total", SONDE_COUNTER,
     "Network device statistic receive_packets."},
    {"node_network_receive_errs_total", SONDE_COUNTER, "Network device statistic receive_errs."},
    {"node_network_receive_drop_total", SONDE_COUNTER, "Network device statistic receive_drop."},
    {"node_network_receive_fifo_total", SONDE_COUNTER, "Network device statistic receive_fifo."},
    {"node_network_receive_frame_total", SONDE_COUNTER, "Network device statistic receive_frame."},
    {"node_network_receive_compressed_total", SONDE_COUNTER,
     "Network device statistic receive_compressed."},
    {"node_network_receive_multicast_total", SONDE_COUNTER,
     "Network device statistic receive_multicast."},
    {"node_network_transmit_bytes_total", SONDE_COUNTER,
     "Network device statistic transmit_bytes."},
    {"node_network_transmit_packets_total", SONDE_COUNTER,
     "Network device statistic transmit_packets."},
    {"node_network_transmit_errs_total", SONDE_COUNTER, "Network device statistic transmit_errs."},
    {"node_network_transmit_drop_total", SONDE_COUNTER, "Network device statistic transmit_drop."},
    {"node_network_transmit_fifo_total", SONDE_COUNTER, "Network device statistic transmit_fifo."},
    {"node_network_transmit_colls_total", SONDE_COUNTER,
     "Network device statistic transmit_colls."},
    {"node_network_transmit_carrier_total", SONDE_COUNTER,
     "Network device statistic transmit_carrier."},
    {"node_network_transmit_compressed_total", SONDE_COUNTER,
     "Network device statistic transmit_compressed."},
};

/* Telegraf's fields and the column each one comes from. */
static const struct {
    const char *name;
    enum net_column column;
} net_lp_fields[] = {
    {"bytes_sent", NET_TX_BYTES},     {"bytes_recv", NET_RX_BYTES},
    {"packets_sent", NET_TX_PACKETS}, {"packets_recv", NET_RX_PACKETS},
    {"err_in", NET_RX_ERRS},          {"err_out", NET_TX_ERRS},
    {"drop_in", NET_RX_DROP},         {"drop_out", NET_TX_DROP},
};

/* Linux names are at most 15 bytes (IFNAMSIZ); a longer one is skipped and
 * counted, never truncated. */
#define NET_NAME_MAX 64

struct net_dev {
    char name[NET_NAME_MAX];
    uint64_t column[NET_NCOLUMNS];
    /* Known only when the interface came over rtnetlink; else sysfs is read. */
    unsigned flags;        /* ifi_flags */
    uint64_t rx_nohandler; /* valid when has_nohandler */
    bool has_nohandler;    /* the kernel has the counter (Linux 4.6 on) */
};

/* One parse of /proc/net/dev. `items` grows as needed and is reused across
 * reads; freed by net_devs_free. */
struct net_devs {
    struct net_dev *items;
    size_t n, cap;
    uint64_t skipped; /* malformed lines */
};

static void net_devs_free(struct net_devs *devs)
{
    free(devs->items);
    memset(devs, 0, sizeof(*devs));
}

/* A slot at the end of devs->items (not counted yet). */
static struct net_dev *net_devs_slot(struct net_devs *devs)
{
    if (devs->n == devs->cap) {
        devs->cap = devs->cap ? devs->cap * 2 : 16;
        devs->items = sonde_xrealloc(devs->items, devs->cap * sizeof(*devs->items));
    }
    return &devs->items[devs->n];
}

static bool net_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Parses the unsigned number at *p (after blanks) that must end before
 * `end`; advances *p. Returns 0, -ENODATA at the end of the line, -EINVAL
 * or -ERANGE. */
static int net_next_u64(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    while (s < end && net_is_blank(*s))
        s++;
    if (s == end)
        return -ENODATA;
    if (*s < '0' || *s > '9')
        return -EINVAL; /* strtoull would take "-1" or skip a newline */
    char *stop;
    errno = 0;
    unsigned long long v = strtoull(s, &stop, 10);
    if (errno == ERANGE)
        return -ERANGE;
    if (stop > end || (stop < end && !net_is_blank(*stop)))
        return -EINVAL;
    *out = v;
    *p = stop;
    return 0;
}

/* Parses one interface line "  name: n1 n2 ... n16". The name ends at the
 * LAST colon (old kernels allowed "eth0:1") and is trimmed of the padding
 * the kernel adds. Columns past the 16th are ignored. 0 or -errno. */
static int net_parse_line(const char *line, const char *end, struct net_dev *dev)
{
    const char *colon = NULL;
    for (const char *p = line; p < end; p++)
        if (*p == ':')
            colon = p;
    if (!colon)
        return -EINVAL;
    const char *name = line, *name_end = colon;
    while (name < name_end && net_is_blank(*name))
        name++;
    while (name_end > name && net_is_blank(name_end[-1]))
        name_end--;
    size_t len = (size_t)(name_end - name);
    if (len == 0)
        return -EINVAL;
    if (len >= sizeof(dev->name))
        return -ENAMETOOLONG;

    const char *p = colon + 1;
    for (size_t i = 0; i < NET_NCOLUMNS; i++) {
        int rc = net_next_u64(&p, end, &dev->column[i]);
        if (rc < 0)
            return rc == -ENODATA ? -EINVAL : rc; /* a truncated line */
    }
    memcpy(dev->name, name, len);
    dev->name[len] = '\0';
    return 0;
}

/* Parses the whole of /proc/net/dev. The two header lines (they hold '|')
 * and blank lines are passed over; malformed lines are counted. */
static void net_parse_dev(const char *buf, struct net_devs *devs)
{
    devs->n = 0;
    devs->skipped = 0;
    for (const char *line = buf; *line;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        const char *p = line;
        while (p < end && net_is_blank(*p))
            p++;
        if (p < end && !memchr(line, '|', (size_t)(end - line))) {
            if (net_parse_line(line, end, net_devs_slot(devs)) == 0)
                devs->n++;
            else
                devs->skipped++;
        }
        line = nl ? nl + 1 : end;
    }
}

/* ---- rtnetlink ---- */

/* /proc/net/dev's columns from the kernel's counters, summed as the kernel
 * sums them for that file (dev_seq_printf_stats, net/core/net-procfs.c). */
static void net_columns_from_stats(const struct rtnl_link_stats64 *s, uint64_t *column)
{
    column[NET_RX_BYTES] = s->rx_bytes;
    column[NET_RX_PACKETS] = s->rx_packets;
    column[NET_RX_ERRS] = s->rx_errors;
    column[NET_RX_DROP] = s->rx_dropped + s->rx_missed_errors;
    column[NET_RX_FIFO] = s->rx_fifo_errors;
    column[NET_RX_FRAME] =
        s->rx_length_errors + s->rx_over_errors + s->rx_crc_errors + s->rx_frame_errors;
    column[NET_RX_COMPRESSED] = s->rx_compressed;
    column[NET_RX_MULTICAST] = s->multicast;
    column[NET_TX_BYTES] = s->tx_bytes;
    column[NET_TX_PACKETS] = s->tx_packets;
    column[NET_TX_ERRS] = s->tx_errors;
    column[NET_TX_DROP] = s->tx_dropped;
    column[NET_TX_FIFO] = s->tx_fifo_errors;
    column[NET_TX_COLLS] = s->collisions;
    column[NET_TX_CARRIER] =
        s->tx_carrier_errors + s->tx_aborted_errors + s->tx_window_errors + s->tx_heartbeat_errors;
    column[NET_TX_COMPRESSED] = s->tx_compressed;
}

/* The interfaces of the last net_links_update, in index order. Counters of
 * an interface missing from the table (removed between the two dumps) are
 * left out, as /proc/net/dev would not have listed it. */
static void net_devs_from_links(const struct net_links *links, struct net_devs *devs)
{
    devs->n = 0;
    devs->skipped = 0;
    for (size_t i = 0; i < links->nstats; i++) {
        const struct net_link_stats *stats = &links->stats[i];
        const struct net_link *link = net_links_by_index(links, stats->index);
        if (!link)
            continue;
        struct net_dev *dev = net_devs_slot(devs);
        memcpy(dev->name, link->name, sizeof(link->name)); /* NUL-terminated, 16 < 64 */
        net_columns_from_stats(&stats->stats, dev->column);
        dev->flags = link->flags;
        dev->rx_nohandler = stats->stats.rx_nohandler;
        dev->has_nohandler = stats->has_nohandler;
        devs->n++;
    }
}

/* ---- /proc/net/snmp (Telegraf's interface=all point) ---- */

/* One counter, named as Telegraf names it: "<proto>_<stat>" in lower case. */
struct net_proto_stat {
    char key[NET_NAME_MAX];
    int64_t value;
};

/* Grows like net_devs; freed by net_protos_free. */
struct net_protos {
    struct net_proto_stat *items;
    size_t n, cap;
    uint64_t skipped; /* malformed line pairs and over-long names */
};

static void net_protos_free(struct net_protos *protos)
{
    free(protos->items);
    memset(protos, 0, sizeof(*protos));
}

/* The next blank-separated word in [*p, end); false at the end. */
static bool net_next_word(const char **p, const char *end, const char **word, size_t *len)
{
    const char *s = *p;
    while (s < end && net_is_blank(*s))
        s++;
    if (s == end)
        return false;
    const char *e = s;
    while (e < end && !net_is_blank(*e))
        e++;
    *word = s;
    *len = (size_t)(e - s);
    *p = e;
    return true;
}

/* Parses a signed decimal word (Tcp MaxConn is -1); 0 or -EINVAL. */
static int net_parse_i64(const char *word, size_t len, int64_t *out)
{
    char tmp[32];
    if (len == 0 || len >= sizeof(tmp))
        return -EINVAL;
    memcpy(tmp, word, len);
    tmp[len] = '\0';
    char *stop;
    errno = 0;
    long long v = strtoll(tmp, &stop, 10);
    if (errno == ERANGE || *stop != '\0' || (tmp[0] != '-' && (tmp[0] < '0' || tmp[0] > '9')))
        return -EINVAL;
    *out = v;
    return 0;
}

/* Adds "<proto>_<name>" lowered; false when it does not fit. */
static bool net_protos_add(struct net_protos *protos, const char *proto, size_t plen,
                           const char *name, size_t nlen, int64_t value)
{
    if (plen + 1 + nlen >= NET_NAME_MAX)
        return false;
    if (protos->n == protos->cap) {
        protos->cap = protos->cap ? protos->cap * 2 : 128;
        protos->items = sonde_xrealloc(protos->items, protos->cap * sizeof(*protos->items));
    }
    struct net_proto_stat *s = &protos->items[protos->n++];
    size_t k = 0;
    for (size_t i = 0; i < plen; i++)
        s->key[k++] = (char)((proto[i] >= 'A' && proto[i] <= 'Z') ? proto[i] + 32 : proto[i]);
    s->key[k++] = '_';
    for (size_t i = 0; i < nlen; i++)
        s->key[k++] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
    s->key[k] = '\0';
    s->value = value;
    return true;
}

/* One "Proto: names" line and its "Proto: values" line. 0 or -EINVAL; on
 * -EINVAL nothing of the pair is kept. */
static int net_parse_snmp_pair(const char *names, const char *names_end, const char *values,
                               const char *values_end, struct net_protos *protos)
{
    const char *nc = memchr(names, ':', (size_t)(names_end - names));
    const char *vc = memchr(values, ':', (size_t)(values_end - values));
    if (!nc || !vc || nc - names != vc - values || memcmp(names, values, (size_t)(nc - names)))
        return -EINVAL;
    size_t plen = (size_t)(nc - names), first = protos->n;
    const char *np = nc + 1, *vp = vc + 1, *nw, *vw;
    size_t nlen, vlen;
    for (;;) {
        bool has_name = net_next_word(&np, names_end, &nw, &nlen);
        bool has_value = net_next_word(&vp, values_end, &vw, &vlen);
        if (!has_name && !has_value)
            return 0;
        int64_t v;
        if (has_name != has_value || net_parse_i64(vw, vlen, &v) < 0 ||
            !net_protos_add(protos, names, plen, nw, nlen, v)) {
            protos->n = first;
            return -EINVAL;
        }
    }
}

/* Parses /proc/net/snmp: pairs of lines, names then values. */
static void net_parse_snmp(const char *buf, struct net_protos *protos)
{
    protos->n = 0;
    protos->skipped = 0;
    const char *line = buf;
    while (*line) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        const char *next = nl ? nl + 1 : end;
        if (!*next) {
            protos->skipped++; /* a names line without its values */
            break;
        }
        const char *nl2 = strchr(next, '\n');
        const char *end2 = nl2 ? nl2 : next + strlen(next);
        if (net_parse_snmp_pair(line, end, next, end2, protos) < 0)
            protos->skipped++;
        line = nl2 ? nl2 + 1 : end2;
    }
}

/* ---- The plugin ---- */

struct net_state {
    const struct net_config *config; /* borrowed: lives as long as the instance */
    char *sysfs;                     /* copy of ctx->sysfs; owned */
    struct sonde_file dev;           /* <procfs>/net/dev, kept open */
    struct sonde_file snmp;          /* <procfs>/net/snmp, read only for protocol stats */
    struct net_devs devs;            /* reused parse results */
    struct net_protos protos;
    regex_t exclude; /* compiled devices_exclude, when has_exclude */
    bool has_exclude;
    bool use_links;         /* the live /proc and /sys: rtnetlink sees the same interfaces */
    bool from_links;        /* this cycle's devs came over rtnetlink */
    struct net_links links; /* kept between cycles, when use_links */
};

static int net_init(void **state, const void *config, const struct sonde_context *ctx)
{
    char dev[4096], snmp[4096];
    if (snprintf(dev, sizeof(dev), "%s/net/dev", ctx->procfs) >= (int)sizeof(dev) ||
        snprintf(snmp, sizeof(snmp), "%s/net/snmp", ctx->procfs) >= (int)sizeof(snmp))
        return -ENAMETOOLONG;
    struct net_state *st = sonde_xcalloc(1, sizeof(*st));
    st->config = config;
    if (st->config->devices_exclude && st->config->devices_exclude[0]) {
        if (regcomp(&st->exclude, st->config->devices_exclude, REG_EXTENDED | REG_NOSUB) != 0) {
            free(st);
            return -EINVAL; /* the core checked it already; unreachable in practice */
        }
        st->has_exclude = true;
    }
    st->sysfs = sonde_xstrdup(ctx->sysfs);
    st->use_links = strcmp(ctx->procfs, "/proc") == 0 && strcmp(ctx->sysfs, "/sys") == 0;
    net_links_init(&st->links);
    sonde_file_init(&st->dev, dev);
    sonde_file_init(&st->snmp, snmp);
    *state = st;
    return 0;
}

/* Telegraf's default choice: up and not loopback, from the interface's
 * flags (rtnetlink's, as Telegraf's, else /sys/class/net/<name>/flags). An
 * interface without that file (gone, or another netns) is left out, as
 * Telegraf leaves out what net.InterfaceByName cannot find. */
static bool net_is_up_non_loopback(const struct net_state *st, const struct net_dev *dev)
{
    if (st->from_links)
        return (dev->flags & IFF_UP) && !(dev->flags & IFF_LOOPBACK);
    const char *name = dev->name;
    if (strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    char path[4096], text[32];
    if (snprintf(path, sizeof(path), "%s/class/net/%s/flags", st->sysfs, name) >= (int)sizeof(path))
        return false;
    if (sonde_read_small(path, text, sizeof(text)) <= 0)
        return false;
    char *stop;
    errno = 0;
    unsigned long flags = strtoul(text, &stop, 0);
    if (errno || stop == text)
        return false;
    return (flags & IFF_UP) && !(flags & IFF_LOOPBACK);
}

/* Whether the interface gets a line-protocol point. */
static bool net_lp_wanted(const struct net_state *st, const struct net_dev *dev)
{
    const struct sonde_strings *want = &st->config->interfaces;
    if (want->n == 0)
        return net_is_up_non_loopback(st, dev);
    for (size_t i = 0; i < want->n; i++)
        if (fnmatch(want->items[i], dev->name, 0) == 0)
            return true;
    return false;
}

/* Telegraf writes uint64 as an int field, clamped to the int64 range. */
static int64_t net_int(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

static const struct sonde_family net_nohandler_family = {
    "node_network_receive_nohandler_total", SONDE_COUNTER,
    "Network device statistic receive_nohandler."};

/* rx_nohandler is not in /proc/net/dev; node_exporter gets it over netlink,
 * and so do we (sysfs when rtnetlink failed, or for another root). Absent
 * (old kernel): no series, as there. */
static void net_emit_nohandler(const struct net_state *st, const struct net_dev *dev,
                               struct sonde_batch *batch)
{
    const char *name = dev->name;
    if (st->from_links) {
        if (dev->has_nohandler)
            sonde_emit(batch, &net_nohandler_family, (double)dev->rx_nohandler, "device", name,
                       NULL);
        return;
    }
    char path[4096], text[32];
    if (strchr(name, '/') ||
        snprintf(path, sizeof(path), "%s/class/net/%s/statistics/rx_nohandler", st->sysfs, name) >=
            (int)sizeof(path) ||
        sonde_read_small(path, text, sizeof(text)) <= 0)
        return;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end) {
        batch->skipped++;
        return;
    }
    sonde_emit(batch, &net_nohandler_family, (double)v, "device", name, NULL);
}

static void net_emit_dev(const struct net_state *st, const struct net_dev *dev,
                         struct sonde_batch *batch)
{
    /* Every interface not excluded, lo included (node_exporter's upstream
     * default); the double loses precision above 2^53, as node_exporter's
     * does. */
    if (!st->has_exclude || regexec(&st->exclude, dev->name, 0, NULL, 0) != 0) {
        for (size_t c = 0; c < NET_NCOLUMNS; c++)
            sonde_emit(batch, &net_families[c], (double)dev->column[c], "device", dev->name, NULL);
        net_emit_nohandler(st, dev, batch);
    }

    if (!batch->want_points || !net_lp_wanted(st, dev))
        return;
    struct sonde_point *p = sonde_point(batch, "net");
    sonde_point_tag(batch, p, "interface", dev->name);
    for (size_t i = 0; i < sizeof(net_lp_fields) / sizeof(net_lp_fields[0]); i++)
        sonde_point_int(batch, p, net_lp_fields[i].name,
                        net_int(dev->column[net_lp_fields[i].column]));
}

/* The interface=all point. Telegraf ignores an unreadable file silently; we
 * count it as one skip. */
static void net_emit_protocols(struct net_state *st, struct sonde_batch *batch)
{
    if (sonde_file_read(&st->snmp) < 0) {
        batch->skipped++;
        return;
    }
    net_parse_snmp(st->snmp.buf, &st->protos);
    batch->skipped += st->protos.skipped;
    if (st->protos.n == 0)
        return;
    struct sonde_point *p = sonde_point(batch, "net");
    sonde_point_tag(batch, p, "interface", "all");
    for (size_t i = 0; i < st->protos.n; i++) {
        const struct net_proto_stat *s = &st->protos.items[i];
        sonde_point_int(batch, p, sonde_arena_strdup(batch->arena, s->key), s->value);
    }
}

/* This cycle's interfaces into st->devs: over rtnetlink when it can, else
 * from /proc/net/dev. 0 or -errno. */
static int net_collect(struct net_state *st, struct sonde_batch *batch)
{
    st->from_links = false;
    if (st->use_links) {
        int rc = net_links_update(&st->links);
        if (rc == 0) {
            st->from_links = true;
            net_devs_from_links(&st->links, &st->devs);
            return 0;
        }
        if (st->links.unsupported) {
            st->use_links = false;
            sonde_log(SONDE_LOG_INFO, "net: rtnetlink statistics unavailable (%s): reading %s",
                      strerror(-rc), st->dev.path);
        }
    }
    int rc = sonde_file_read(&st->dev);
    if (rc < 0)
        return rc;
    net_parse_dev(st->dev.buf, &st->devs);
    batch->skipped += st->devs.skipped;
    return 0;
}

static int net_read(void *state, struct sonde_batch *batch)
{
    struct net_state *st = state;
    int rc = net_collect(st, batch);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < st->devs.n; i++)
        net_emit_dev(st, &st->devs.items[i], batch);
    if (!st->config->ignore_protocol_stats && batch->want_points)
        net_emit_protocols(st, batch);
    return 0;
}

static void net_destroy(void *state)
{
    struct net_state *st = state;
    if (!st)
        return;
    sonde_file_close(&st->dev);
    sonde_file_close(&st->snmp);
    net_devs_free(&st->devs);
    net_protos_free(&st->protos);
    net_links_free(&st->links);
    if (st->has_exclude)
        regfree(&st->exclude);
    free(st->sysfs);
    free(st);
}

const struct sonde_plugin sonde_plugin_net = {
    .name = "net",                                   /* config key; alias netdev */
    .kind = SONDE_INPUT,                             /* an input */
    .summary = "Interface counters (/proc/net/dev)", /* for --help and docs */
    .config_size = sizeof(struct net_config),        /* interfaces, ignore_protocol_stats */
    .options = net_options,                          /* see the table above */
    .init = net_init,                                /* opens nothing yet */
    .read = net_read,                                /* node_network_* and "net" */
    .write = NULL,                                   /* not an output */
    .destroy = net_destroy,                          /* closes the files, frees the state */
};
