/*
 * config.c - loads the YAML configuration with libyaml's document API so
 * every node keeps its position: any error is reported as FILE:LINE:COLUMN
 * with what was expected. Plugins never see YAML: their option tables say
 * what to parse and where to store it. Scalars may read the environment
 * (${VAR}, ${VAR:-default}; $$ is a literal $). The value of a secret
 * option (a password, a token) is never printed: errors say <redacted>.
 */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config.h"
#include "core.h"

struct config_ctx {
    const char *file;
    yaml_document_t *doc;
    struct sonde_config *config;
    int errors;
};

static int config_error(struct config_ctx *c, const yaml_node_t *node, const char *fmt, ...)
    SONDE_PRINTF(3, 4);

static int config_error(struct config_ctx *c, const yaml_node_t *node, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s:%zu:%zu: %s\n", c->file, node ? node->start_mark.line + 1 : 1,
            node ? node->start_mark.column + 1 : 1, msg);
    c->errors++;
    return -EINVAL;
}

/* ---- scalar values ---- */

int config_parse_duration(const char *text, int64_t *out)
{
    static const struct {
        const char *unit;
        double ns;
    } units[] = {{"ns", 1},  {"us", 1e3}, {"µs", 1e3},   {"ms", 1e6},
                 {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}, {"d", 86400e9}};
    const char *p = text;
    double total = 0;
    if (!*p)
        return -EINVAL;
    if (strcmp(p, "0") == 0) {
        *out = 0;
        return 0;
    }
    while (*p) {
        char *end;
        if (!isdigit((unsigned char)*p) && *p != '.')
            return -EINVAL;
        double v = strtod(p, &end);
        if (end == p)
            return -EINVAL;
        p = end;
        size_t best = 0, best_len = 0;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            size_t len = strlen(units[i].unit);
            if (strncmp(p, units[i].unit, len) == 0 && len > best_len) {
                best = i;
                best_len = len;
            }
        }
        if (!best_len)
            return -EINVAL;
        total += v * units[best].ns;
        p += best_len;
    }
    if (total > 9.2e18)
        return -ERANGE;
    *out = (int64_t)llround(total);
    return 0;
}

int config_parse_size(const char *text, uint64_t *out)
{
    static const struct {
        const char *unit;
        double bytes;
    } units[] = {{"", 1},
                 {"B", 1},
                 {"KB", 1e3},
                 {"KiB", 1024.0},
                 {"MB", 1e6},
                 {"MiB", 1048576.0},
                 {"GB", 1e9},
                 {"GiB", 1073741824.0},
                 {"TB", 1e12},
                 {"TiB", 1099511627776.0},
                 {"K", 1024.0},
                 {"M", 1048576.0},
                 {"G", 1073741824.0}};
    char *end;
    if (!isdigit((unsigned char)text[0]))
        return -EINVAL;
    double v = strtod(text, &end);
    while (*end == ' ')
        end++;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].unit) == 0) {
            double bytes = v * units[i].bytes;
            if (bytes > 1.8e19)
                return -ERANGE;
            *out = (uint64_t)bytes;
            return 0;
        }
    }
    return -EINVAL;
}

static int config_parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

/* Whether a name (an option's, or a key in a map option such as
 * basic_auth or headers) says that its value is a secret. */
static bool config_secret_name(const char *name)
{
    static const char *const words[] = {
        "password", "passwd", "token",   "secret",        "credential",
        "api_key",  "apikey", "api-key", "authorization",
    };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strcasestr(name, words[i]))
            return true;
    return false;
}

/* Whether an option's value must never be printed: flagged secret, or named
 * like one, so that a plugin which forgot the flag still does not leak. */
static bool option_is_secret(const struct sonde_option *opt)
{
    return opt->secret || config_secret_name(opt->name);
}

/* What an error message may show of a value. */
static const char *config_shown(bool secret, const char *value)
{
    return secret ? "<redacted>" : value;
}

/* Expands ${VAR}, ${VAR:-default} and $$ in a scalar (of a secret option:
 * its text is never printed). Returns a malloc'd string, or NULL after
 * reporting an error. */
static char *config_expand(struct config_ctx *c, const yaml_node_t *node, bool secret)
{
    const char *s = (const char *)node->data.scalar.value;
    struct sonde_buf out = {0};
    sonde_buf_append(&out, "", 0);
    while (*s) {
        if (s[0] == '$' && s[1] == '$') {
            sonde_buf_append(&out, "$", 1);
            s += 2;
            continue;
        }
        if (s[0] != '$' || s[1] != '{') {
            const char *next = strchr(s + 1, '$');
            size_t len = next ? (size_t)(next - s) : strlen(s);
            sonde_buf_append(&out, s, len);
            s += len;
            continue;
        }
        const char *close = strchr(s, '}');
        if (!close) {
            config_error(c, node, "unterminated ${ in \"%s\"",
                         config_shown(secret, (const char *)node->data.scalar.value));
            sonde_buf_free(&out);
            return NULL;
        }
        char name[256];
        size_t len = (size_t)(close - s - 2);
        if (len >= sizeof(name))
            len = sizeof(name) - 1;
        memcpy(name, s + 2, len);
        name[len] = '\0';
        char *fallback = strstr(name, ":-");
        if (fallback) {
            *fallback = '\0';
            fallback += 2;
        }
        const char *value = getenv(name);
        if (!value || (!*value && fallback))
            value = fallback;
        if (!value) {
            config_error(c, node,
                         "environment variable %s is not set (write ${%s:-} for an empty default)",
                         name, name);
            sonde_buf_free(&out);
            return NULL;
        }
        sonde_buf_puts(&out, value);
        s = close + 1;
    }
    return out.data;
}

static const char *option_type_name(enum sonde_option_type type)
{
    switch (type) {
    case SONDE_OPT_STRING:
        return "a string";
    case SONDE_OPT_BOOL:
        return "a boolean (true or false)";
    case SONDE_OPT_INT:
        return "an integer";
    case SONDE_OPT_DURATION:
        return "a duration like 100ms, 10s or 1m";
    case SONDE_OPT_SIZE:
        return "a size like 4096, 64MiB or 1GB";
    case SONDE_OPT_REGEX:
        return "a POSIX extended regular expression";
    case SONDE_OPT_STRING_LIST:
        return "a list of strings";
    case SONDE_OPT_STRING_MAP:
        return "a map of strings";
    }
    return "a value";
}

/* Parses the text of a scalar option into its slot. 0 or -EINVAL. */
static int option_set_scalar(const struct sonde_option *opt, void *slot, const char *text)
{
    switch (opt->type) {
    case SONDE_OPT_STRING:
        free(*(char **)slot);
        *(char **)slot = sonde_xstrdup(text);
        return 0;
    case SONDE_OPT_BOOL:
        return config_parse_bool(text, slot);
    case SONDE_OPT_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (errno || end == text || *end)
            return -EINVAL;
        *(int64_t *)slot = v;
        return 0;
    }
    case SONDE_OPT_DURATION:
        return config_parse_duration(text, slot);
    case SONDE_OPT_SIZE:
        return config_parse_size(text, slot);
    case SONDE_OPT_REGEX: {
        regex_t re;
        if (regcomp(&re, text, REG_EXTENDED | REG_NOSUB) != 0)
            return -EINVAL;
        regfree(&re);
        free(*(char **)slot);
        *(char **)slot = sonde_xstrdup(text);
        return 0;
    }
    default:
        return -EINVAL;
    }
}

static void strings_free(struct sonde_strings *list)
{
    for (size_t i = 0; i < list->n; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->n = 0;
}

static void string_map_free(struct sonde_string_map *map)
{
    for (size_t i = 0; i < map->n; i++) {
        free(map->keys[i]);
        free(map->values[i]);
    }
    free(map->keys);
    free(map->values);
    map->keys = map->values = NULL;
    map->n = 0;
}

static void string_map_set(struct sonde_string_map *map, const char *key, const char *value)
{
    for (size_t i = 0; i < map->n; i++) {
        if (strcmp(map->keys[i], key) == 0) {
            free(map->values[i]);
            map->values[i] = sonde_xstrdup(value);
            return;
        }
    }
    map->keys = sonde_xrealloc(map->keys, (map->n + 1) * sizeof(char *));
    map->values = sonde_xrealloc(map->values, (map->n + 1) * sizeof(char *));
    map->keys[map->n] = sonde_xstrdup(key);
    map->values[map->n] = sonde_xstrdup(value);
    map->n++;
}

/* Defaults: the same text a user would write; a list default is
 * comma-separated. A bad default is a programming error. */
void config_options_defaults(const struct sonde_option *options, void *base)
{
    for (const struct sonde_option *opt = options; opt && opt->name; opt++) {
        if (!opt->default_value)
            continue;
        void *slot = (char *)base + opt->offset;
        if (opt->type == SONDE_OPT_STRING_LIST) {
            struct sonde_strings *list = slot;
            const char *p = opt->default_value;
            while (*p) {
                const char *comma = strchr(p, ',');
                size_t len = comma ? (size_t)(comma - p) : strlen(p);
                list->items = sonde_xrealloc(list->items, (list->n + 1) * sizeof(char *));
                list->items[list->n] = sonde_xmalloc(len + 1);
                memcpy(list->items[list->n], p, len);
                list->items[list->n][len] = '\0';
                list->n++;
                p += len + (comma ? 1 : 0);
            }
        } else if (opt->type != SONDE_OPT_STRING_MAP &&
                   option_set_scalar(opt, slot, opt->default_value) < 0) {
            sonde_log(SONDE_LOG_ERROR, "bad default %s for option %s",
                      config_shown(option_is_secret(opt), opt->default_value), opt->name);
            abort();
        }
    }
}

void config_options_free(const struct sonde_option *options, void *base)
{
    for (const struct sonde_option *opt = options; opt && opt->name; opt++) {
        void *slot = (char *)base + opt->offset;
        if (opt->type == SONDE_OPT_STRING || opt->type == SONDE_OPT_REGEX) {
            free(*(char **)slot);
            *(char **)slot = NULL;
        } else if (opt->type == SONDE_OPT_STRING_LIST) {
            strings_free(slot);
        } else if (opt->type == SONDE_OPT_STRING_MAP) {
            string_map_free(slot);
        }
    }
}

static const char *node_text(const yaml_node_t *node)
{
    return node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : "";
}

static bool node_is_null(const yaml_node_t *node)
{
    if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *t = node_text(node);
    return !*t || strcmp(t, "~") == 0 || strcmp(t, "null") == 0;
}

/* Sets one option from a YAML node, reporting type errors at the node. */
static int option_set(struct config_ctx *c, const struct sonde_option *opt, void *base,
                      const yaml_node_t *value, const char *owner)
{
    void *slot = (char *)base + opt->offset;
    if (opt->type == SONDE_OPT_STRING_LIST) {
        if (value->type != YAML_SEQUENCE_NODE)
            return config_error(c, value, "%s: option %s: expected %s", owner, opt->name,
                                option_type_name(opt->type));
        struct sonde_strings *list = slot;
        strings_free(list);
        for (yaml_node_item_t *it = value->data.sequence.items.start;
             it < value->data.sequence.items.top; it++) {
            yaml_node_t *item = yaml_document_get_node(c->doc, *it);
            if (item->type != YAML_SCALAR_NODE)
                return config_error(c, item, "%s: option %s: expected a string", owner, opt->name);
            char *text = config_expand(c, item, option_is_secret(opt));
            if (!text)
                return -EINVAL;
            list->items = sonde_xrealloc(list->items, (list->n + 1) * sizeof(char *));
            list->items[list->n++] = text;
        }
        return 0;
    }
    if (opt->type == SONDE_OPT_STRING_MAP) {
        if (node_is_null(value))
            return 0;
        if (value->type != YAML_MAPPING_NODE)
            return config_error(c, value, "%s: option %s: expected %s", owner, opt->name,
                                option_type_name(opt->type));
        for (yaml_node_pair_t *pair = value->data.mapping.pairs.start;
             pair < value->data.mapping.pairs.top; pair++) {
            yaml_node_t *k = yaml_document_get_node(c->doc, pair->key);
            yaml_node_t *v = yaml_document_get_node(c->doc, pair->value);
            if (k->type != YAML_SCALAR_NODE || v->type != YAML_SCALAR_NODE)
                return config_error(c, v, "%s: option %s: expected string keys and values", owner,
                                    opt->name);
            char *text =
                config_expand(c, v, option_is_secret(opt) || config_secret_name(node_text(k)));
            if (!text)
                return -EINVAL;
            string_map_set(slot, node_text(k), text);
            free(text);
        }
        return 0;
    }
    if (value->type != YAML_SCALAR_NODE)
        return config_error(c, value, "%s: option %s: expected %s", owner, opt->name,
                            option_type_name(opt->type));
    char *text = config_expand(c, value, option_is_secret(opt));
    if (!text)
        return -EINVAL;
    int rc = option_set_scalar(opt, slot, text);
    if (rc < 0)
        config_error(c, value, "%s: option %s: expected %s, got \"%s\"", owner, opt->name,
                     option_type_name(opt->type), config_shown(option_is_secret(opt), text));
    free(text);
    return rc;
}

static const struct sonde_option *option_find(const struct sonde_option *options, const char *name)
{
    for (const struct sonde_option *opt = options; opt && opt->name; opt++)
        if (strcmp(opt->name, name) == 0)
            return opt;
    return NULL;
}

/* "interval, hostname, ..." for error messages. */
static void options_list(char *out, size_t cap, const struct sonde_option *a,
                         const struct sonde_option *b)
{
    size_t len = 0;
    out[0] = '\0';
    const struct sonde_option *tables[2] = {a, b};
    for (int t = 0; t < 2; t++) {
        for (const struct sonde_option *opt = tables[t]; opt && opt->name; opt++) {
            int n = snprintf(out + len, cap - len, "%s%s", len ? ", " : "", opt->name);
            if (n < 0 || (size_t)n >= cap - len)
                return;
            len += (size_t)n;
        }
    }
    if (!len)
        snprintf(out, cap, "(none)");
}

/* Reports a key given twice in one mapping. */
static int mapping_check_duplicates(struct config_ctx *c, const yaml_node_t *map)
{
    int rc = 0;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *prev = yaml_document_get_node(c->doc, q->key);
            if (strcmp(node_text(k), node_text(prev)) == 0) {
                rc = config_error(c, k, "duplicate key \"%s\" (first at line %zu)", node_text(k),
                                  prev->start_mark.line + 1);
                break;
            }
        }
    }
    return rc;
}

/* Applies a mapping to a struct through one or two option tables. */
static int options_apply(struct config_ctx *c, const yaml_node_t *map,
                         const struct sonde_option *options, void *base,
                         const struct sonde_option *extra, void *extra_base, const char *owner)
{
    if (node_is_null(map))
        return 0;
    if (map->type != YAML_MAPPING_NODE)
        return config_error(c, map, "%s: expected a map of options", owner);
    int rc = mapping_check_duplicates(c, map);
    for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top;
         pair++) {
        yaml_node_t *key = yaml_document_get_node(c->doc, pair->key);
        yaml_node_t *value = yaml_document_get_node(c->doc, pair->value);
        const char *name = node_text(key);
        const struct sonde_option *opt = option_find(options, name);
        void *target = base;
        if (!opt && extra) {
            opt = option_find(extra, name);
            target = extra_base;
        }
        if (!opt) {
            char known[512];
            options_list(known, sizeof(known), options, extra);
            rc = config_error(c, key, "%s: unknown option \"%s\" (expected one of: %s)", owner,
                              name, known);
            continue;
        }
        if (option_set(c, opt, target, value, owner) < 0)
            rc = -EINVAL;
    }
    /* Required options, reported at the instance's map. */
    for (const struct sonde_option *opt = options; opt && opt->name; opt++) {
        if (!opt->required)
            continue;
        bool present = false;
        for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
             pair < map->data.mapping.pairs.top; pair++)
            present |= strcmp(node_text(yaml_document_get_node(c->doc, pair->key)), opt->name) == 0;
        if (!present)
            rc = config_error(c, map, "%s: missing required option \"%s\"", owner, opt->name);
    }
    return rc;
}

/* ---- sections ---- */

#define AGENT_OPT(name, type, field, def, help)                                                    \
    {                                                                                              \
        name, type, offsetof(struct sonde_config, field), def, false, help                         \
    }

static const struct sonde_option agent_options[] = {
    AGENT_OPT("interval", SONDE_OPT_DURATION, interval_ns, "10s", "default collection interval"),
    AGENT_OPT("hostname", SONDE_OPT_STRING, hostname, "", "host tag; empty: the system's name"),
    AGENT_OPT("omit_hostname", SONDE_OPT_BOOL, omit_hostname, "false", "no host tag"),
    AGENT_OPT("global_tags", SONDE_OPT_STRING_MAP, global_tags, NULL, "tags on every point"),
    AGENT_OPT("log_level", SONDE_OPT_STRING, log_level, "info", "error, warn, info or debug"),
    {NULL},
};

static const struct sonde_option web_options[] = {
    AGENT_OPT("listen_address", SONDE_OPT_STRING, listen_address, ":9110",
              "host:port of the scrape endpoint; empty: off"),
    AGENT_OPT("telemetry_path", SONDE_OPT_STRING, telemetry_path, "/metrics", "metrics path"),
    AGENT_OPT("max_connections", SONDE_OPT_INT, max_connections, "64", "concurrent connections"),
    AGENT_OPT("request_timeout", SONDE_OPT_DURATION, request_timeout_ns, "10s",
              "idle time after which a connection is closed"),
    AGENT_OPT("max_connections_per_ip", SONDE_OPT_INT, max_connections_per_ip, "16",
              "concurrent connections from one address; 0: no limit"),
    AGENT_OPT("config_file", SONDE_OPT_STRING, web_config_file, "",
              "TLS, basic auth and headers, in the exporters' web configuration format"),
    {NULL},
};

/* Options every input instance takes besides its plugin's own. */
struct instance_common {
    int64_t interval_ns;
    struct sonde_string_map tags;
};

static const struct sonde_option input_common_options[] = {
    {"interval", SONDE_OPT_DURATION, offsetof(struct instance_common, interval_ns), NULL, false,
     "collection interval of this instance"},
    {"tags", SONDE_OPT_STRING_MAP, offsetof(struct instance_common, tags), NULL, false,
     "extra line-protocol tags"},
    {NULL},
};

#define PUSH_OPT(name, type, field, def, help)                                                     \
    {                                                                                              \
        name, type, offsetof(struct push_options, field), def, false, help                         \
    }

/* Options every push output takes besides its plugin's own. */
static const struct sonde_option push_common_options[] = {
    PUSH_OPT("flush_interval", SONDE_OPT_DURATION, flush_interval_ns, "10s",
             "send at least this often"),
    PUSH_OPT("batch_size", SONDE_OPT_INT, batch_size, "5000",
             "records (lines, samples) per request"),
    PUSH_OPT("timeout", SONDE_OPT_DURATION, timeout_ns, "10s", "limit of one request"),
    PUSH_OPT("gzip", SONDE_OPT_BOOL, gzip, NULL, "compress requests (default: per output)"),
    PUSH_OPT("queue_limit", SONDE_OPT_SIZE, queue_limit, "64MiB", "bytes queued in memory"),
    PUSH_OPT("spool", SONDE_OPT_STRING_MAP, spool, NULL, "disk spool: {dir: PATH, limit: 1GiB}"),
    PUSH_OPT("ca_file", SONDE_OPT_STRING, ca_file, NULL, "CA certificates to verify the server"),
    PUSH_OPT("cert_file", SONDE_OPT_STRING, cert_file, NULL, "client certificate (TLS)"),
    PUSH_OPT("key_file", SONDE_OPT_STRING, key_file, NULL, "client key (TLS)"),
    PUSH_OPT("insecure_skip_verify", SONDE_OPT_BOOL, insecure_skip_verify, "false",
             "do not verify the server's certificate"),
    PUSH_OPT("max_retry_interval", SONDE_OPT_DURATION, max_retry_interval_ns, "1m",
             "ceiling of the retry backoff"),
    PUSH_OPT("flush_timeout", SONDE_OPT_DURATION, flush_timeout_ns, "5s",
             "on stop or reload, how long to go on sending"),
    {NULL},
};

/* The spool map: dir (required) and limit (a size, default 1GiB). */
static int config_push_spool(struct config_ctx *c, const yaml_node_t *map, const char *owner,
                             struct push_options *push)
{
    if (push->spool.n == 0)
        return 0;
    push->spool_limit = 1073741824ULL;
    for (size_t i = 0; i < push->spool.n; i++) {
        const char *key = push->spool.keys[i], *value = push->spool.values[i];
        if (strcmp(key, "dir") == 0) {
            free(push->spool_dir);
            push->spool_dir = sonde_xstrdup(value);
        } else if (strcmp(key, "limit") == 0) {
            if (config_parse_size(value, &push->spool_limit) < 0 || push->spool_limit < 65536)
                return config_error(c, map, "%s: spool.limit: expected a size of at least 64KiB",
                                    owner);
        } else {
            return config_error(c, map, "%s: spool: unknown key \"%s\" (expected dir, limit)",
                                owner, key);
        }
    }
    if (!push->spool_dir || !push->spool_dir[0])
        return config_error(c, map, "%s: spool: missing dir", owner);
    return 0;
}

static void config_push_free(struct push_options *push)
{
    config_options_free(push_common_options, push);
    free(push->spool_dir);
    push->spool_dir = NULL;
}

static int config_push_validate(struct config_ctx *c, const yaml_node_t *map, const char *owner,
                                struct push_options *push)
{
    if (push->flush_interval_ns <= 0 || push->timeout_ns <= 0)
        return config_error(c, map, "%s: flush_interval and timeout must be greater than zero",
                            owner);
    if (push->batch_size < 1)
        return config_error(c, map, "%s: batch_size must be at least 1", owner);
    if (push->queue_limit < 4096)
        return config_error(c, map, "%s: queue_limit must be at least 4KiB", owner);
    return config_push_spool(c, map, owner, push);
}

static int config_validate_agent(struct config_ctx *c, const yaml_node_t *section)
{
    struct sonde_config *cfg = c->config;
    if (cfg->interval_ns <= 0)
        return config_error(c, section, "agent: interval must be greater than zero");
    const char *levels[] = {"error", "warn", "info", "debug"};
    for (size_t i = 0; i < 4; i++)
        if (strcmp(cfg->log_level, levels[i]) == 0)
            return 0;
    return config_error(c, section, "agent: log_level must be error, warn, info or debug");
}

/* A relative web.config_file is taken from the directory of the file that
 * names it (as Prometheus does for the files its configuration names), so
 * that it still works when sonde's working directory is /. Only the section
 * that sets the key resolves it: a conf.d file must not move a path an
 * earlier file resolved. */
static void config_web_resolve(struct config_ctx *c, const yaml_node_t *section)
{
    struct sonde_config *cfg = c->config;
    bool set_here = false;
    for (yaml_node_pair_t *pair = section->data.mapping.pairs.start;
         pair < section->data.mapping.pairs.top; pair++)
        set_here |=
            strcmp(node_text(yaml_document_get_node(c->doc, pair->key)), "config_file") == 0;
    if (!set_here || !cfg->web_config_file[0] || cfg->web_config_file[0] == '/' ||
        !strchr(c->file, '/'))
        return;
    char *copy = sonde_xstrdup(c->file);
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dirname(copy), cfg->web_config_file);
    free(copy);
    free(cfg->web_config_file);
    cfg->web_config_file = sonde_xstrdup(path);
}

static int config_validate_web(struct config_ctx *c, const yaml_node_t *section)
{
    struct sonde_config *cfg = c->config;
    if (cfg->telemetry_path[0] != '/')
        return config_error(c, section, "web: telemetry_path must start with /");
    if (cfg->max_connections < 1 || cfg->max_connections > 65535)
        return config_error(c, section, "web: max_connections must be between 1 and 65535");
    if (cfg->max_connections_per_ip < 0 || cfg->max_connections_per_ip > 65535)
        return config_error(c, section,
                            "web: max_connections_per_ip must be between 0 (no limit) and 65535");
    if (section->type == YAML_MAPPING_NODE)
        config_web_resolve(c, section);
    return 0;
}

/* Adds one instance of `plugin` configured by `map` (a mapping or null). */
static int config_add_instance(struct config_ctx *c, const struct sonde_plugin *plugin,
                               const yaml_node_t *map, struct config_instance **list, size_t *n)
{
    struct config_instance inst = {.plugin = plugin};
    inst.config = sonde_xcalloc(1, plugin->config_size ? plugin->config_size : 1);
    config_options_defaults(plugin->options, inst.config);
    struct instance_common common = {0};
    size_t same = 0;
    for (size_t i = 0; i < *n; i++)
        same += (*list)[i].plugin == plugin;
    char owner[160];
    snprintf(owner, sizeof(owner), "%s %s", plugin->kind == SONDE_INPUT ? "input" : "output",
             plugin->name);
    const struct sonde_option *extra = NULL;
    void *extra_base = NULL;
    if (plugin->kind == SONDE_INPUT) {
        extra = input_common_options;
        extra_base = &common;
    } else if (plugin->push) {
        config_options_defaults(push_common_options, &inst.push);
        inst.push.gzip = plugin->push->gzip_default;
        extra = push_common_options;
        extra_base = &inst.push;
    }
    int rc = options_apply(c, map, plugin->options, inst.config, extra, extra_base, owner);
    if (rc == 0 && plugin->kind == SONDE_INPUT && common.interval_ns < 0)
        rc = config_error(c, map, "%s: interval must be greater than zero", owner);
    if (rc == 0 && plugin->push)
        rc = config_push_validate(c, map, owner, &inst.push);
    if (rc < 0) {
        config_options_free(plugin->options, inst.config);
        free(inst.config);
        string_map_free(&common.tags);
        config_push_free(&inst.push);
        return rc;
    }
    inst.interval_ns = common.interval_ns;
    inst.tags = common.tags;
    if (same == 0)
        inst.name = sonde_xstrdup(plugin->name);
    else {
        char name[160];
        snprintf(name, sizeof(name), "%s/%zu", plugin->name, same);
        inst.name = sonde_xstrdup(name);
    }
    *list = sonde_xrealloc(*list, (*n + 1) * sizeof(**list));
    (*list)[(*n)++] = inst;
    return 0;
}

/* inputs: / outputs: a map from plugin name to a map (one instance), a
 * list of maps (several) or nothing (one instance with defaults). */
static int config_plugins(struct config_ctx *c, const yaml_node_t *section,
                          enum sonde_plugin_kind kind)
{
    const char *what = kind == SONDE_INPUT ? "inputs" : "outputs";
    if (node_is_null(section))
        return 0;
    if (section->type != YAML_MAPPING_NODE)
        return config_error(c, section, "%s: expected a map of plugin names", what);
    struct config_instance **list = kind == SONDE_INPUT ? &c->config->inputs : &c->config->outputs;
    size_t *n = kind == SONDE_INPUT ? &c->config->ninputs : &c->config->noutputs;
    int rc = 0;
    for (yaml_node_pair_t *pair = section->data.mapping.pairs.start;
         pair < section->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = yaml_document_get_node(c->doc, pair->key);
        yaml_node_t *value = yaml_document_get_node(c->doc, pair->value);
        const struct sonde_plugin *plugin = registry_find(node_text(key));
        if (!plugin || plugin->kind != kind) {
            char known[512];
            size_t len = 0;
            known[0] = '\0';
            for (size_t i = 0; sonde_registry[i]; i++) {
                if (sonde_registry[i]->kind != kind)
                    continue;
                int w = snprintf(known + len, sizeof(known) - len, "%s%s", len ? ", " : "",
                                 sonde_registry[i]->name);
                if (w > 0 && (size_t)w < sizeof(known) - len)
                    len += (size_t)w;
            }
            rc = config_error(c, key, "%s: unknown %s plugin \"%s\" (known: %s)", what,
                              kind == SONDE_INPUT ? "input" : "output", node_text(key), known);
            continue;
        }
        if (value->type == YAML_SEQUENCE_NODE) {
            for (yaml_node_item_t *it = value->data.sequence.items.start;
                 it < value->data.sequence.items.top; it++) {
                yaml_node_t *item = yaml_document_get_node(c->doc, *it);
                if (config_add_instance(c, plugin, item, list, n) < 0)
                    rc = -EINVAL;
            }
        } else if (config_add_instance(c, plugin, value, list, n) < 0) {
            rc = -EINVAL;
        }
    }
    return rc;
}

static int config_document(struct config_ctx *c)
{
    yaml_node_t *root = yaml_document_get_root_node(c->doc);
    if (!root || node_is_null(root))
        return 0; /* an empty file is a valid, empty configuration */
    if (root->type != YAML_MAPPING_NODE)
        return config_error(c, root, "expected a map with agent, web, inputs, outputs");
    int rc = mapping_check_duplicates(c, root);
    for (yaml_node_pair_t *pair = root->data.mapping.pairs.start;
         pair < root->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = yaml_document_get_node(c->doc, pair->key);
        yaml_node_t *value = yaml_document_get_node(c->doc, pair->value);
        const char *name = node_text(key);
        int r;
        if (strcmp(name, "agent") == 0) {
            r = options_apply(c, value, agent_options, c->config, NULL, NULL, "agent");
            if (r == 0)
                r = config_validate_agent(c, value);
        } else if (strcmp(name, "web") == 0) {
            r = options_apply(c, value, web_options, c->config, NULL, NULL, "web");
            if (r == 0)
                r = config_validate_web(c, value);
        } else if (strcmp(name, "inputs") == 0) {
            r = config_plugins(c, value, SONDE_INPUT);
        } else if (strcmp(name, "outputs") == 0) {
            r = config_plugins(c, value, SONDE_OUTPUT);
        } else {
            r = config_error(
                c, key, "unknown section \"%s\" (expected agent, web, inputs or outputs)", name);
        }
        if (r < 0)
            rc = r;
    }
    return rc;
}

/* Parses one YAML text into `config` (on top of what is there). */
static int config_parse(struct sonde_config *config, const char *yaml, size_t len, const char *name)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    struct config_ctx c = {.file = name, .doc = &doc, .config = config};
    if (!yaml_parser_initialize(&parser))
        return -ENOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    if (!yaml_parser_load(&parser, &doc)) {
        fprintf(stderr, "%s:%zu:%zu: %s%s%s\n", name, parser.problem_mark.line + 1,
                parser.problem_mark.column + 1, parser.problem ? parser.problem : "invalid YAML",
                parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return -EINVAL;
    }
    int rc = config_document(&c);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc < 0 || c.errors ? -EINVAL : 0;
}

static void config_init(struct sonde_config *config, const char *source)
{
    memset(config, 0, sizeof(*config));
    config_options_defaults(agent_options, config);
    config_options_defaults(web_options, config);
    config->source = sonde_xstrdup(source);
}

int config_load_string(struct sonde_config *config, const char *yaml, const char *name)
{
    config_init(config, name);
    int rc = config_parse(config, yaml, strlen(yaml), name);
    if (rc < 0)
        config_free(config);
    return rc;
}

static int config_parse_file(struct sonde_config *config, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int err = errno;
        fprintf(stderr, "%s:1:1: cannot read: %s\n", path, strerror(err));
        return -EINVAL;
    }
    struct sonde_buf text = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        sonde_buf_append(&text, chunk, n);
    int err = ferror(f);
    fclose(f);
    int rc = err ? -EIO : config_parse(config, text.data ? text.data : "", text.len, path);
    if (err)
        fprintf(stderr, "%s:1:1: read error\n", path);
    sonde_buf_free(&text);
    return rc;
}

int config_load(struct sonde_config *config, const char *path)
{
    if (!path)
        return config_load_string(config, sonde_default_config, "<embedded default>");
    config_init(config, path);
    int rc = config_parse_file(config, path);
    /* conf.d/ beside the main file, merged in name order. */
    char *copy = sonde_xstrdup(path);
    char pattern[PATH_MAX];
    snprintf(pattern, sizeof(pattern), "%s/conf.d/*.yaml", dirname(copy));
    free(copy);
    glob_t g;
    if (glob(pattern, 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++)
            if (config_parse_file(config, g.gl_pathv[i]) < 0)
                rc = -EINVAL;
        globfree(&g);
    }
    if (rc < 0)
        config_free(config);
    return rc;
}

/* Frees the instances' contents, and the array itself when `array`. */
static void instances_free(struct config_instance *list, size_t n, bool array)
{
    for (size_t i = 0; i < n; i++) {
        config_options_free(list[i].plugin->options, list[i].config);
        free(list[i].config);
        free(list[i].name);
        string_map_free(&list[i].tags);
        config_push_free(&list[i].push);
    }
    if (array)
        free(list);
}

void config_enable_input(struct sonde_config *config, const struct sonde_plugin *plugin)
{
    for (size_t i = 0; i < config->ninputs; i++)
        if (config->inputs[i].plugin == plugin)
            return;
    struct config_instance inst = {.plugin = plugin};
    inst.config = sonde_xcalloc(1, plugin->config_size ? plugin->config_size : 1);
    config_options_defaults(plugin->options, inst.config);
    inst.name = sonde_xstrdup(plugin->name);
    config->inputs = sonde_xrealloc(config->inputs, (config->ninputs + 1) * sizeof(inst));
    config->inputs[config->ninputs++] = inst;
}

void config_disable_input(struct sonde_config *config, const struct sonde_plugin *plugin)
{
    size_t kept = 0;
    for (size_t i = 0; i < config->ninputs; i++) {
        if (config->inputs[i].plugin == plugin)
            instances_free(&config->inputs[i], 1, false);
        else
            config->inputs[kept++] = config->inputs[i];
    }
    config->ninputs = kept;
}

void config_free(struct sonde_config *config)
{
    config_options_free(agent_options, config);
    config_options_free(web_options, config);
    instances_free(config->inputs, config->ninputs, true);
    instances_free(config->outputs, config->noutputs, true);
    free(config->source);
    memset(config, 0, sizeof(*config));
}
