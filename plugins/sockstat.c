/*
 * sockstat.c - the `sockstat` input: socket counts from /proc/net/sockstat and
 * /proc/net/sockstat6 as node_exporter's sockstat collector (gauges
 * node_sockstat_<PROTO>_<state>, *_mem_bytes in bytes, node_sockstat_sockets_used).
 * Prometheus only: Telegraf has no input for this file.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sonde.h"

/* No options: node_exporter's collector has none. */
struct sockstat_config {
    int unused; /* keeps the struct non-empty (C11) */
};

static const struct sonde_option sockstat_options[] = {
    {NULL},
};

/* The keys node_exporter exports, in its order; others are ignored. */
enum sockstat_key {
    SOCKSTAT_INUSE,
    SOCKSTAT_ORPHAN,
    SOCKSTAT_TW,
    SOCKSTAT_ALLOC,
    SOCKSTAT_MEM,
    SOCKSTAT_MEMORY,
    SOCKSTAT_NKEYS
};

static const char *const sockstat_keys[SOCKSTAT_NKEYS] = {"inuse", "orphan", "tw",
                                                          "alloc", "mem",    "memory"};

/* One "TCP: inuse 7 orphan 0 ..." line; `name` points into the buffer. */
struct sockstat_proto {
    const char *name;
    size_t name_len;
    bool has[SOCKSTAT_NKEYS];
    int64_t value[SOCKSTAT_NKEYS];
};

/* One parse of a sockstat file; `protos` is reused across reads (freed by
 * sockstat_file_free). */
struct sockstat_file {
    bool has_used; /* a "sockets:" line was there (sockstat, not sockstat6) */
    int64_t used;
    struct sockstat_proto *protos;
    size_t n, cap;
    uint64_t skipped; /* malformed lines */
};

struct sockstat_state {
    struct sonde_file files[2]; /* <procfs>/net/sockstat, sockstat6 */
    struct sockstat_file parsed;
    double page_size; /* bytes, for *_mem_bytes */
    struct sonde_ratelimit badlog;
};

/* ------------------------------------------------------------------ */
/* Parsing                                                              */
/* ------------------------------------------------------------------ */

static bool sockstat_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* The next blank-separated word in [*p, end); false at the end. */
static bool sockstat_next_word(const char **p, const char *end, const char **word, size_t *len)
{
    const char *s = *p;
    while (s < end && sockstat_is_blank(*s))
        s++;
    if (s == end)
        return false;
    const char *e = s;
    while (e < end && !sockstat_is_blank(*e))
        e++;
    *word = s;
    *len = (size_t)(e - s);
    *p = e;
    return true;
}

/* Longest protocol name taken: real ones are a few letters ("UDPLITE6"). */
#define SOCKSTAT_NAME_MAX 64

/* Protocol names become part of metric names: [A-Za-z0-9_] only, and short
 * enough that the names built from them are never cut. */
static bool sockstat_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > SOCKSTAT_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

/* A signed decimal word; 0 or -EINVAL. */
static int sockstat_parse_i64(const char *word, size_t len, int64_t *out)
{
    char tmp[32];
    if (len == 0 || len >= sizeof(tmp))
        return -EINVAL;
    memcpy(tmp, word, len);
    tmp[len] = '\0';
    const char *digits = tmp[0] == '-' ? tmp + 1 : tmp;
    if (*digits < '0' || *digits > '9')
        return -EINVAL;
    char *stop;
    errno = 0;
    long long v = strtoll(tmp, &stop, 10);
    if (errno == ERANGE || *stop)
        return -EINVAL;
    *out = v;
    return 0;
}

/*
 * Parses one line [line, end): a protocol with a colon, then key/value
 * pairs (at least one). Fills `proto`; for the "sockets" line sets *is_used
 * and *used instead. 0, -ENODATA for a blank line, -EINVAL.
 */
static int sockstat_parse_line(const char *line, const char *end, struct sockstat_proto *proto,
                               bool *is_used, int64_t *used)
{
    const char *p = line, *w, *k;
    size_t wlen, klen;
    if (!sockstat_next_word(&p, end, &w, &wlen))
        return -ENODATA;
    if (wlen < 2 || w[wlen - 1] != ':' || !sockstat_name_ok(w, wlen - 1))
        return -EINVAL;
    memset(proto, 0, sizeof(*proto));
    proto->name = w;
    proto->name_len = wlen - 1;
    *is_used = proto->name_len == 7 && memcmp(w, "sockets", 7) == 0;
    *used = 0;
    size_t pairs = 0;
    while (sockstat_next_word(&p, end, &k, &klen)) {
        int64_t v;
        if (!sockstat_next_word(&p, end, &w, &wlen) || sockstat_parse_i64(w, wlen, &v) < 0)
            return -EINVAL;
        pairs++;
        if (*is_used) {
            if (klen == 4 && memcmp(k, "used", 4) == 0)
                *used = v;
            continue;
        }
        for (size_t i = 0; i < SOCKSTAT_NKEYS; i++) {
            if (strlen(sockstat_keys[i]) == klen && memcmp(sockstat_keys[i], k, klen) == 0) {
                proto->has[i] = true;
                proto->value[i] = v;
            }
        }
    }
    return pairs ? 0 : -EINVAL;
}

/* Parses a whole sockstat or sockstat6 file into `out` (reset first). */
static void sockstat_parse(const char *buf, struct sockstat_file *out)
{
    out->has_used = false;
    out->used = 0;
    out->n = 0;
    out->skipped = 0;
    for (const char *line = buf; *line;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 16;
            out->protos = sonde_xrealloc(out->protos, out->cap * sizeof(*out->protos));
        }
        bool is_used;
        int64_t used;
        int rc = sockstat_parse_line(line, end, &out->protos[out->n], &is_used, &used);
        line = nl ? nl + 1 : end;
        if (rc == -ENODATA)
            continue;
        if (rc < 0) {
            out->skipped++;
        } else if (is_used) {
            out->has_used = true;
            out->used = used;
        } else {
            out->n++;
        }
    }
}

static void sockstat_file_free(struct sockstat_file *f)
{
    free(f->protos);
    memset(f, 0, sizeof(*f));
}

/* ------------------------------------------------------------------ */
/* Emitting                                                             */
/* ------------------------------------------------------------------ */

static const struct sonde_family sockstat_used_family = {"node_sockstat_sockets_used", SONDE_GAUGE,
                                                         "Number of IPv4 sockets in use."};

/* One gauge node_sockstat_<PROTO>_<state>, named as node_exporter names it. */
static void sockstat_emit_one(struct sonde_batch *batch, const struct sockstat_proto *proto,
                              const char *state, double value)
{
    int plen = (int)proto->name_len;
    char name[SOCKSTAT_NAME_MAX + 64], help[SOCKSTAT_NAME_MAX + 64];
    snprintf(name, sizeof(name), "node_sockstat_%.*s_%s", plen, proto->name, state);
    snprintf(help, sizeof(help), "Number of %.*s sockets in state %s.", plen, proto->name, state);
    sonde_emit(batch, sonde_family_new(batch, name, SONDE_GAUGE, help), value, NULL);
}

/* node_exporter: inuse always (0 when absent), the others when present, and
 * mem_bytes = mem pages times the page size. Only sockstat's "sockets" line
 * gives sockets_used. */
static void sockstat_emit(struct sonde_batch *batch, const struct sockstat_file *f, bool ipv6,
                          double page_size)
{
    if (!ipv6 && f->has_used)
        sonde_emit(batch, &sockstat_used_family, (double)f->used, NULL);
    for (size_t i = 0; i < f->n; i++) {
        const struct sockstat_proto *proto = &f->protos[i];
        for (size_t k = 0; k < SOCKSTAT_NKEYS; k++)
            if (k == SOCKSTAT_INUSE || proto->has[k])
                sockstat_emit_one(batch, proto, sockstat_keys[k], (double)proto->value[k]);
        if (proto->has[SOCKSTAT_MEM])
            sockstat_emit_one(batch, proto, "mem_bytes",
                              (double)proto->value[SOCKSTAT_MEM] * page_size);
    }
}

/* ------------------------------------------------------------------ */
/* Plugin callbacks                                                     */
/* ------------------------------------------------------------------ */

static int sockstat_init(void **out, const void *config, const struct sonde_context *ctx)
{
    (void)config;
    char v4[4096], v6[4096];
    if (snprintf(v4, sizeof(v4), "%s/net/sockstat", ctx->procfs) >= (int)sizeof(v4) ||
        snprintf(v6, sizeof(v6), "%s/net/sockstat6", ctx->procfs) >= (int)sizeof(v6))
        return -ENAMETOOLONG;
    struct sockstat_state *st = sonde_xcalloc(1, sizeof(*st));
    long page = sysconf(_SC_PAGESIZE);
    st->page_size = page > 0 ? (double)page : 4096.0;
    sonde_file_init(&st->files[0], v4);
    sonde_file_init(&st->files[1], v6);
    *out = st;
    return 0;
}

/* A file that does not exist (IPv4 or IPv6 off) is left out, as
 * node_exporter does; any other read error fails the read. */
static int sockstat_read(void *arg, struct sonde_batch *batch)
{
    struct sockstat_state *st = arg;
    if (!batch->want_series)
        return 0; /* nothing to write as line protocol */
    for (size_t i = 0; i < 2; i++) {
        int rc = sonde_file_read(&st->files[i]);
        if (rc == -ENOENT)
            continue;
        if (rc < 0)
            return rc;
        sockstat_parse(st->files[i].buf, &st->parsed);
        sockstat_emit(batch, &st->parsed, i == 1, st->page_size);
        if (st->parsed.skipped) {
            batch->skipped += st->parsed.skipped;
            sonde_log_limited(&st->badlog, 300, SONDE_LOG_WARN,
                              "sockstat: %s: skipped %llu malformed line(s)", st->files[i].path,
                              (unsigned long long)st->parsed.skipped);
        }
    }
    return 0;
}

static void sockstat_destroy(void *arg)
{
    struct sockstat_state *st = arg;
    if (!st)
        return;
    sonde_file_close(&st->files[0]);
    sonde_file_close(&st->files[1]);
    sockstat_file_free(&st->parsed);
    free(st);
}

const struct sonde_plugin sonde_plugin_sockstat = {
    .name = "sockstat",  /* configuration key, node_exporter's name */
    .kind = SONDE_INPUT, /* reads the host */
    .summary = "Sockets in use per protocol (/proc/net/sockstat, sockstat6)", /* for --help */
    .config_size = sizeof(struct sockstat_config),                            /* no options */
    .options = sockstat_options,                                              /* empty */
    .init = sockstat_init,       /* opens nothing yet */
    .read = sockstat_read,       /* node_sockstat_* */
    .write = NULL,               /* inputs do not write */
    .destroy = sockstat_destroy, /* closes the files */
};
