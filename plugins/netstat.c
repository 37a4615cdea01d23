/*
 * netstat.c - the `netstat` input: /proc/net/netstat, snmp and snmp6 as node_exporter's netstat
 * collector (untyped node_netstat_<Proto>_<Field>, --collector.netstat.fields) and as Telegraf's
 * inputs.nstat ("nstat", tag name). Telegraf's inputs.netstat (socket states) is other data.
 */
#include <errno.h>
#include <regex.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sonde.h"

/* node_exporter 1.5's default --collector.netstat.fields. */
#define NETSTAT_DEFAULT_FIELDS                                                                     \
    "^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)"  \
    "|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|InSegs|OutSegs"    \
    "|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts"         \
    "|RcvbufErrors|SndbufErrors))$"

struct netstat_config {
    char *fields;    /* POSIX ERE over "<Proto>_<Field>"; Prometheus only */
    bool dump_zeros; /* line protocol: also fields whose value is 0 */
};

static const struct sonde_option netstat_options[] = {
    {"fields", SONDE_OPT_REGEX, offsetof(struct netstat_config, fields), NETSTAT_DEFAULT_FIELDS,
     false, "Counters exported as node_netstat_<Proto>_<Field> (--collector.netstat.fields)"},
    {"dump_zeros", SONDE_OPT_BOOL, offsetof(struct netstat_config, dump_zeros), "false", false,
     "line protocol: also write counters that are 0 (Telegraf nstat's dump_zeros)"},
    {NULL},
};

/* The three files, in the order node_exporter merges them. */
enum netstat_source { NETSTAT_NETSTAT, NETSTAT_SNMP, NETSTAT_SNMP6, NETSTAT_NSOURCES };

/* Telegraf's `name` tag of each file's point. */
static const char *const netstat_source_names[NETSTAT_NSOURCES] = {"netstat", "snmp", "snmp6"};

/* One counter. The strings point into the file buffer of the read. */
struct netstat_stat {
    const char *proto; /* "TcpExt", "Ip6"; proto_len 0: none (a snmp6 name without a 6) */
    size_t proto_len;
    const char *name; /* "ListenDrops", "InOctets" */
    size_t name_len;
    double value;   /* as node_exporter parses it */
    int64_t ivalue; /* as Telegraf does, clamped to int64 */
    bool zero;
};

/* The counters of one read; `items` is reused across reads (freed by
 * netstat_stats_free). */
struct netstat_stats {
    struct netstat_stat *items;
    size_t n, cap;
    uint64_t skipped; /* malformed line pairs (netstat, snmp) or lines (snmp6) */
};

/*
 * What we decided about the counter at one position of the three files. The
 * kernel lists the same counters in the same order on every read, so a read
 * compares names instead of running the regex again; a difference rebuilds
 * the entry.
 */
struct netstat_known {
    char *key;        /* "<Proto>_<Field>", owned */
    size_t key_len;   /* strlen(key) */
    size_t proto_len; /* length of <Proto> in key */
    bool wanted;      /* matched `fields` */
    char *prom_name;  /* "node_netstat_<key>", owned; NULL unless wanted */
    char *help;       /* "Statistic <Proto><Field>.", owned; NULL unless wanted */
};

struct netstat_state {
    const struct netstat_config *config; /* borrowed: lives as long as the instance */
    struct sonde_file files[NETSTAT_NSOURCES];
    regex_t fields;
    struct netstat_stats stats[NETSTAT_NSOURCES]; /* reused parse results */
    struct netstat_known *known;                  /* by position over the three files; owned */
    size_t nknown, known_cap;                     /* entries in use, allocated */
    struct sonde_ratelimit badlog[NETSTAT_NSOURCES];
};

/* ------------------------------------------------------------------ */
/* Parsing                                                              */
/* ------------------------------------------------------------------ */

static bool netstat_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Names become part of metric names and field keys: [A-Za-z0-9_] only. */
static bool netstat_name_ok(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

/* The next blank-separated word in [*p, end); false at the end. */
static bool netstat_next_word(const char **p, const char *end, const char **word, size_t *len)
{
    const char *s = *p;
    while (s < end && netstat_is_blank(*s))
        s++;
    if (s == end)
        return false;
    const char *e = s;
    while (e < end && !netstat_is_blank(*e))
        e++;
    *word = s;
    *len = (size_t)(e - s);
    *p = e;
    return true;
}

/* Parses a decimal word, signed (Tcp MaxConn is -1) or up to 2^64-1, into
 * both representations. 0 or -EINVAL. */
static int netstat_parse_value(const char *word, size_t len, struct netstat_stat *st)
{
    char tmp[32];
    if (len == 0 || len >= sizeof(tmp))
        return -EINVAL;
    memcpy(tmp, word, len);
    tmp[len] = '\0';
    const char *digits = tmp[0] == '-' ? tmp + 1 : tmp;
    if (*digits < '0' || *digits > '9')
        return -EINVAL; /* strto* would take blanks and '+' */
    char *stop;
    errno = 0;
    if (tmp[0] == '-') {
        long long v = strtoll(tmp, &stop, 10);
        if (errno == ERANGE || *stop)
            return -EINVAL;
        st->value = (double)v;
        st->ivalue = v;
    } else {
        unsigned long long v = strtoull(tmp, &stop, 10);
        if (errno == ERANGE || *stop)
            return -EINVAL;
        st->value = (double)v;
        st->ivalue = v > (unsigned long long)INT64_MAX ? INT64_MAX : (int64_t)v;
    }
    st->zero = st->ivalue == 0;
    return 0;
}

static struct netstat_stat *netstat_stats_add(struct netstat_stats *stats)
{
    if (stats->n == stats->cap) {
        stats->cap = stats->cap ? stats->cap * 2 : 128;
        stats->items = sonde_xrealloc(stats->items, stats->cap * sizeof(*stats->items));
    }
    return &stats->items[stats->n++];
}

static void netstat_stats_free(struct netstat_stats *stats)
{
    free(stats->items);
    memset(stats, 0, sizeof(*stats));
}

/* One "Proto: Name1 Name2 ..." line and its "Proto: v1 v2 ..." line. 0 or
 * -EINVAL; on -EINVAL nothing of the pair is kept. */
static int netstat_parse_pair(const char *names, const char *names_end, const char *values,
                              const char *values_end, struct netstat_stats *stats)
{
    const char *np = names, *vp = values, *proto, *vproto, *nw, *vw;
    size_t plen, vplen, nlen, vlen;
    if (!netstat_next_word(&np, names_end, &proto, &plen) ||
        !netstat_next_word(&vp, values_end, &vproto, &vplen) || plen < 2 || plen != vplen ||
        memcmp(proto, vproto, plen) != 0 || proto[plen - 1] != ':' ||
        !netstat_name_ok(proto, plen - 1))
        return -EINVAL;
    plen--; /* the colon */
    size_t first = stats->n;
    for (;;) {
        bool has_name = netstat_next_word(&np, names_end, &nw, &nlen);
        bool has_value = netstat_next_word(&vp, values_end, &vw, &vlen);
        if (!has_name && !has_value)
            return 0;
        struct netstat_stat *st = netstat_stats_add(stats);
        if (has_name != has_value || !netstat_name_ok(nw, nlen) ||
            netstat_parse_value(vw, vlen, st) < 0) {
            stats->n = first;
            return -EINVAL;
        }
        st->proto = proto;
        st->proto_len = plen;
        st->name = nw;
        st->name_len = nlen;
    }
}

/* The end of the line that starts at `line`. */
static const char *netstat_line_end(const char *line)
{
    const char *nl = strchr(line, '\n');
    return nl ? nl : line + strlen(line);
}

/* Parses /proc/net/netstat or /proc/net/snmp: pairs of lines, names then
 * values. Appends to `stats`; a bad pair is skipped and counted. */
static void netstat_parse_pairs(const char *buf, struct netstat_stats *stats)
{
    const char *line = buf;
    while (*line) {
        const char *end = netstat_line_end(line);
        const char *next = *end ? end + 1 : end;
        const char *p = line;
        const char *w;
        size_t wlen;
        if (!netstat_next_word(&p, end, &w, &wlen)) {
            line = next; /* a blank line between pairs */
            continue;
        }
        if (!*next) {
            stats->skipped++; /* a names line without its values */
            break;
        }
        const char *end2 = netstat_line_end(next);
        if (netstat_parse_pair(line, end, next, end2, stats) < 0)
            stats->skipped++;
        line = *end2 ? end2 + 1 : end2;
    }
}

/* Parses /proc/net/snmp6: "Ip6InReceives   123" lines. The protocol is the
 * name up to its first '6' (node_exporter's split); a name without one has
 * no protocol (line protocol only). Appends; bad lines are counted. */
static void netstat_parse_snmp6(const char *buf, struct netstat_stats *stats)
{
    for (const char *line = buf; *line;) {
        const char *end = netstat_line_end(line);
        const char *p = line, *name, *value, *extra;
        size_t nlen, vlen, xlen;
        bool has_name = netstat_next_word(&p, end, &name, &nlen);
        line = *end ? end + 1 : end;
        if (!has_name)
            continue;
        struct netstat_stat *st = netstat_stats_add(stats);
        if (!netstat_next_word(&p, end, &value, &vlen) ||
            netstat_next_word(&p, end, &extra, &xlen) || !netstat_name_ok(name, nlen) ||
            netstat_parse_value(value, vlen, st) < 0) {
            stats->n--;
            stats->skipped++;
            continue;
        }
        const char *six = memchr(name, '6', nlen);
        st->proto = name;
        st->proto_len = six ? (size_t)(six - name) + 1 : 0;
        st->name = name + st->proto_len;
        st->name_len = nlen - st->proto_len;
    }
}

/* ------------------------------------------------------------------ */
/* The counter cache                                                    */
/* ------------------------------------------------------------------ */

static void netstat_known_clear(struct netstat_known *k)
{
    free(k->key);
    free(k->prom_name);
    free(k->help);
    memset(k, 0, sizeof(*k));
}

static bool netstat_known_is(const struct netstat_known *k, const struct netstat_stat *st)
{
    return k->key && k->proto_len == st->proto_len &&
           k->key_len == st->proto_len + 1 + st->name_len &&
           memcmp(k->key, st->proto, st->proto_len) == 0 &&
           memcmp(k->key + st->proto_len + 1, st->name, st->name_len) == 0;
}

/* The decision for the counter at `pos`; rebuilt when its name changed. */
static const struct netstat_known *netstat_known_at(struct netstat_state *ns, size_t pos,
                                                    const struct netstat_stat *st)
{
    if (pos < ns->nknown) {
        if (netstat_known_is(&ns->known[pos], st))
            return &ns->known[pos];
        netstat_known_clear(&ns->known[pos]);
    } else {
        if (pos >= ns->known_cap) {
            size_t cap = ns->known_cap ? ns->known_cap * 2 : 64;
            while (cap <= pos)
                cap *= 2;
            ns->known = sonde_xrealloc(ns->known, cap * sizeof(*ns->known));
            ns->known_cap = cap;
        }
        memset(&ns->known[ns->nknown], 0, (pos + 1 - ns->nknown) * sizeof(*ns->known));
        ns->nknown = pos + 1;
    }
    struct netstat_known *k = &ns->known[pos];
    size_t n = st->proto_len + st->name_len + 64;
    k->key = sonde_xmalloc(n);
    snprintf(k->key, n, "%.*s_%.*s", (int)st->proto_len, st->proto, (int)st->name_len, st->name);
    k->key_len = st->proto_len + 1 + st->name_len;
    k->proto_len = st->proto_len;
    k->wanted = regexec(&ns->fields, k->key, 0, NULL, 0) == 0;
    if (k->wanted) {
        k->prom_name = sonde_xmalloc(n);
        snprintf(k->prom_name, n, "node_netstat_%s", k->key);
        k->help = sonde_xmalloc(n);
        snprintf(k->help, n, "Statistic %.*s%.*s.", (int)st->proto_len, st->proto,
                 (int)st->name_len, st->name);
    }
    return k;
}

/* ------------------------------------------------------------------ */
/* Emitting                                                             */
/* ------------------------------------------------------------------ */

/* node_netstat_*: every counter with a protocol whose key matches. */
static void netstat_emit_prom(struct netstat_state *ns, struct sonde_batch *batch)
{
    size_t pos = 0;
    for (size_t s = 0; s < NETSTAT_NSOURCES; s++) {
        for (size_t i = 0; i < ns->stats[s].n; i++) {
            const struct netstat_stat *st = &ns->stats[s].items[i];
            if (st->proto_len == 0)
                continue;
            const struct netstat_known *k = netstat_known_at(ns, pos++, st);
            if (k->wanted)
                sonde_emit(batch, sonde_family_new(batch, k->prom_name, SONDE_UNTYPED, k->help),
                           st->value, NULL);
        }
    }
}

/* Telegraf's nstat: one point per file, fields "<Proto><Field>"; zeros only
 * with dump_zeros; no point without fields. */
static void netstat_emit_lp(struct netstat_state *ns, struct sonde_batch *batch, size_t source)
{
    struct sonde_point *p = NULL;
    const struct netstat_stats *stats = &ns->stats[source];
    for (size_t i = 0; i < stats->n; i++) {
        const struct netstat_stat *st = &stats->items[i];
        if (st->zero && !ns->config->dump_zeros)
            continue;
        if (!p) {
            p = sonde_point(batch, "nstat");
            sonde_point_tag(batch, p, "name", netstat_source_names[source]);
        }
        char *key;
        if (source == NETSTAT_SNMP6) /* the name as the file has it */
            key = sonde_arena_strndup(batch->arena, st->proto, st->proto_len + st->name_len);
        else
            key = sonde_arena_printf(batch->arena, "%.*s%.*s", (int)st->proto_len, st->proto,
                                     (int)st->name_len, st->name);
        sonde_point_int(batch, p, key, st->ivalue);
    }
}

/* ------------------------------------------------------------------ */
/* Plugin callbacks                                                     */
/* ------------------------------------------------------------------ */

static int netstat_init(void **out, const void *config, const struct sonde_context *ctx)
{
    static const char *const files[NETSTAT_NSOURCES] = {"net/netstat", "net/snmp", "net/snmp6"};
    const struct netstat_config *cfg = config;
    char paths[NETSTAT_NSOURCES][4096];
    for (size_t i = 0; i < NETSTAT_NSOURCES; i++)
        if (snprintf(paths[i], sizeof(paths[i]), "%s/%s", ctx->procfs, files[i]) >=
            (int)sizeof(paths[i]))
            return -ENAMETOOLONG;
    struct netstat_state *ns = sonde_xcalloc(1, sizeof(*ns));
    ns->config = cfg;
    /* NULL only when a test builds the config by hand: then every counter. */
    if (regcomp(&ns->fields, cfg->fields ? cfg->fields : "", REG_EXTENDED | REG_NOSUB) != 0) {
        free(ns);
        return -EINVAL; /* the core validated it; unreachable in practice */
    }
    for (size_t i = 0; i < NETSTAT_NSOURCES; i++)
        sonde_file_init(&ns->files[i], paths[i]);
    *out = ns;
    return 0;
}

/*
 * Reads the three files first: like node_exporter, a missing or unreadable
 * netstat or snmp file fails the whole read and nothing is emitted; a missing
 * snmp6 (IPv6 disabled) is normal.
 */
static int netstat_read(void *arg, struct sonde_batch *batch)
{
    struct netstat_state *ns = arg;
    if (!batch->want_series && !batch->want_points)
        return 0;
    bool have[NETSTAT_NSOURCES];
    for (size_t s = 0; s < NETSTAT_NSOURCES; s++) {
        int rc = sonde_file_read(&ns->files[s]);
        have[s] = rc == 0;
        if (rc < 0 && !(s == NETSTAT_SNMP6 && rc == -ENOENT))
            return rc;
    }
    for (size_t s = 0; s < NETSTAT_NSOURCES; s++) {
        struct netstat_stats *stats = &ns->stats[s];
        stats->n = 0;
        stats->skipped = 0;
        if (!have[s])
            continue;
        if (s == NETSTAT_SNMP6)
            netstat_parse_snmp6(ns->files[s].buf, stats);
        else
            netstat_parse_pairs(ns->files[s].buf, stats);
        if (stats->skipped) {
            batch->skipped += stats->skipped;
            sonde_log_limited(&ns->badlog[s], 300, SONDE_LOG_WARN,
                              "netstat: %s: skipped %llu malformed line(s)", ns->files[s].path,
                              (unsigned long long)stats->skipped);
        }
    }
    if (batch->want_series)
        netstat_emit_prom(ns, batch);
    if (batch->want_points)
        for (size_t s = 0; s < NETSTAT_NSOURCES; s++)
            if (have[s])
                netstat_emit_lp(ns, batch, s);
    return 0;
}

static void netstat_destroy(void *arg)
{
    struct netstat_state *ns = arg;
    if (!ns)
        return;
    for (size_t s = 0; s < NETSTAT_NSOURCES; s++) {
        sonde_file_close(&ns->files[s]);
        netstat_stats_free(&ns->stats[s]);
    }
    regfree(&ns->fields);
    for (size_t i = 0; i < ns->nknown; i++)
        netstat_known_clear(&ns->known[i]);
    free(ns->known);
    free(ns);
}

const struct sonde_plugin sonde_plugin_netstat = {
    .name = "netstat",   /* configuration key, node_exporter's name */
    .kind = SONDE_INPUT, /* reads the host */
    .summary = "Protocol counters (/proc/net/netstat, snmp, snmp6)", /* for --help and docs */
    .config_size = sizeof(struct netstat_config), /* filled from netstat_options */
    .options = netstat_options,                   /* fields, dump_zeros */
    .init = netstat_init,                         /* compiles the regex; opens nothing yet */
    .read = netstat_read,                         /* node_netstat_* and "nstat" */
    .write = NULL,                                /* inputs do not write */
    .destroy = netstat_destroy,                   /* closes the files, frees the cache */
};
