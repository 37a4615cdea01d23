/*
 * udp_queues.c - the `udp_queues` input: bytes waiting in UDP socket queues,
 * summed over /proc/net/udp and /proc/net/udp6, as node_exporter's udp_queues
 * collector (node_udp_queues{ip="v4|v6",queue="rx|tx"}).
 * Prometheus only: Telegraf has no input for this.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sonde.h"

/* No options: node_exporter's collector has none. */
struct udp_queues_config {
    int unused; /* keeps the struct non-empty (C11) */
};

static const struct sonde_option udp_queues_options[] = {
    {NULL},
};

/* Lines of a socket table need at least sl, addresses, st, queues, tr,
 * retrnsmt and uid (procfs' minimum). */
#define UDP_QUEUES_MIN_COLUMNS 8

/* The sums over one file. */
struct udp_queues_sum {
    uint64_t tx, rx;  /* bytes */
    uint64_t sockets; /* lines summed */
    uint64_t skipped; /* malformed lines */
};

static const struct sonde_family udp_queues_family = {
    "node_udp_queues", SONDE_GAUGE,
    "Number of allocated memory in the kernel for UDP datagrams in bytes."};

struct udp_queues_state {
    struct sonde_file files[2]; /* <procfs>/net/udp, udp6 */
    struct sonde_ratelimit badlog;
};

static bool udp_queues_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Parses the hex number [s, end) (at most 16 digits); 0 or -EINVAL. */
static int udp_queues_parse_hex(const char *s, const char *end, uint64_t *out)
{
    if (s == end || end - s > 16)
        return -EINVAL;
    uint64_t v = 0;
    for (; s < end; s++) {
        char c = *s;
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -EINVAL;
        v = v * 16 + d;
    }
    *out = v;
    return 0;
}

/*
 * Parses one socket line [line, end): "sl: local rem st tx:rx tr tm->when
 * retrnsmt uid ...". Returns 0 with the queue sizes, -ENODATA for a blank
 * line, -EINVAL for anything that is not a socket line.
 */
static int udp_queues_parse_line(const char *line, const char *end, uint64_t *tx, uint64_t *rx)
{
    const char *word[UDP_QUEUES_MIN_COLUMNS], *wend[UDP_QUEUES_MIN_COLUMNS];
    size_t n = 0;
    for (const char *p = line;;) {
        while (p < end && udp_queues_is_blank(*p))
            p++;
        if (p == end)
            break;
        const char *w = p;
        while (p < end && !udp_queues_is_blank(*p))
            p++;
        if (n < UDP_QUEUES_MIN_COLUMNS) {
            word[n] = w;
            wend[n] = p;
        }
        n++;
    }
    if (n == 0)
        return -ENODATA;
    if (n < UDP_QUEUES_MIN_COLUMNS)
        return -EINVAL;
    /* "123:": the slot number */
    if (wend[0] - word[0] < 2 || wend[0][-1] != ':')
        return -EINVAL;
    for (const char *c = word[0]; c < wend[0] - 1; c++)
        if (*c < '0' || *c > '9')
            return -EINVAL;
    /* the addresses are "hex:port" */
    if (!memchr(word[1], ':', (size_t)(wend[1] - word[1])) ||
        !memchr(word[2], ':', (size_t)(wend[2] - word[2])))
        return -EINVAL;
    const char *colon = memchr(word[4], ':', (size_t)(wend[4] - word[4]));
    if (!colon || udp_queues_parse_hex(word[4], colon, tx) < 0 ||
        udp_queues_parse_hex(colon + 1, wend[4], rx) < 0)
        return -EINVAL;
    return 0;
}

/* Sums the queues of a whole file; the first line is the header. */
static void udp_queues_parse(const char *buf, struct udp_queues_sum *sum)
{
    memset(sum, 0, sizeof(*sum));
    const char *line = strchr(buf, '\n');
    if (!line)
        return; /* a header alone, or nothing */
    for (line++; *line;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        uint64_t tx, rx;
        int rc = udp_queues_parse_line(line, end, &tx, &rx);
        line = nl ? nl + 1 : end;
        if (rc == -ENODATA)
            continue;
        if (rc < 0) {
            sum->skipped++;
            continue;
        }
        sum->tx += tx;
        sum->rx += rx;
        sum->sockets++;
    }
}

static int udp_queues_init(void **out, const void *config, const struct sonde_context *ctx)
{
    (void)config;
    char v4[4096], v6[4096];
    if (snprintf(v4, sizeof(v4), "%s/net/udp", ctx->procfs) >= (int)sizeof(v4) ||
        snprintf(v6, sizeof(v6), "%s/net/udp6", ctx->procfs) >= (int)sizeof(v6))
        return -ENAMETOOLONG;
    struct udp_queues_state *st = sonde_xcalloc(1, sizeof(*st));
    sonde_file_init(&st->files[0], v4);
    sonde_file_init(&st->files[1], v6);
    *out = st;
    return 0;
}

/* A missing file (IPv4 or IPv6 off) is left out; both missing is "no data",
 * which node_exporter reports as a failed scrape of the collector. Other
 * read errors fail the read. */
static int udp_queues_read(void *arg, struct sonde_batch *batch)
{
    static const char *const ip[2] = {"v4", "v6"};
    struct udp_queues_state *st = arg;
    if (!batch->want_series)
        return 0; /* nothing to write as line protocol */
    size_t missing = 0;
    for (size_t i = 0; i < 2; i++) {
        int rc = sonde_file_read(&st->files[i]);
        if (rc == -ENOENT) {
            missing++;
            continue;
        }
        if (rc < 0)
            return rc;
        struct udp_queues_sum sum;
        udp_queues_parse(st->files[i].buf, &sum);
        sonde_emit(batch, &udp_queues_family, (double)sum.tx, "queue", "tx", "ip", ip[i], NULL);
        sonde_emit(batch, &udp_queues_family, (double)sum.rx, "queue", "rx", "ip", ip[i], NULL);
        if (sum.skipped) {
            batch->skipped += sum.skipped;
            sonde_log_limited(&st->badlog, 300, SONDE_LOG_WARN,
                              "udp_queues: %s: skipped %llu malformed line(s)", st->files[i].path,
                              (unsigned long long)sum.skipped);
        }
    }
    return missing == 2 ? -ENODATA : 0;
}

static void udp_queues_destroy(void *arg)
{
    struct udp_queues_state *st = arg;
    if (!st)
        return;
    sonde_file_close(&st->files[0]);
    sonde_file_close(&st->files[1]);
    free(st);
}

const struct sonde_plugin sonde_plugin_udp_queues = {
    .name = "udp_queues", /* configuration key, node_exporter's */
    .kind = SONDE_INPUT,  /* reads the host */
    .summary = "Bytes queued in UDP sockets (/proc/net/udp, udp6)", /* for --help and docs */
    .config_size = sizeof(struct udp_queues_config),                /* no options */
    .options = udp_queues_options,                                  /* empty */
    .init = udp_queues_init,                                        /* opens nothing yet */
    .read = udp_queues_read,                                        /* node_udp_queues{ip,queue} */
    .write = NULL,                                                  /* inputs do not write */
    .destroy = udp_queues_destroy,                                  /* closes the files */
};
