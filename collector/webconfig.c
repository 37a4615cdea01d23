/*
 * webconfig.c - the exporters' web configuration file (exporter-toolkit's
 * format, checked against `promtool check web-config`): parsed with
 * libyaml's document API so that every error has its FILE:LINE:COLUMN, then
 * the certificate, key and CA files it names are loaded into GnuTLS
 * credentials, and basic auth is verified with libcrypt's bcrypt behind a
 * cache of verified pairs.
 *
 * Design note: a loaded configuration is immutable except for its auth
 * cache (own lock). The endpoint gives each new TLS connection the
 * credentials and priorities of the configuration current at accept time
 * (webconfig_session_setup), so a new certificate, CA or client_auth_type
 * applies to the next connection without restarting the HTTP daemon. Values
 * of basic_auth_users are never printed.
 */
#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "core.h"
#include "webconfig.h"

/* Bigger files are refused: a web configuration, a certificate chain or a
 * CA bundle is a few KiB (Debian's whole CA bundle is 200 KiB). */
#define WEBCONFIG_MAX_FILE (1024 * 1024)
/* bcrypt reads at most 72 bytes; Go's bcrypt refuses longer passwords
 * rather than truncating them, and so does sonde. */
#define WEBCONFIG_MAX_PASSWORD 72

struct webconfig_ctx {
    const char *file;
    yaml_document_t *doc;
    struct webconfig *wc;
    struct sonde_buf *errors;
    int nerrors;
};

static void webconfig_report(struct sonde_buf *errors, const char *file, size_t line, size_t column,
                             const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    sonde_buf_printf(errors, "%s:%zu:%zu: %s\n", file, line, column, msg);
}

static int webconfig_error(struct webconfig_ctx *c, const yaml_node_t *node, const char *fmt, ...)
    SONDE_PRINTF(3, 4);

static int webconfig_error(struct webconfig_ctx *c, const yaml_node_t *node, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    webconfig_report(c->errors, c->file, node ? node->start_mark.line + 1 : 1,
                     node ? node->start_mark.column + 1 : 1, fmt, ap);
    va_end(ap);
    c->nerrors++;
    return -EINVAL;
}

static int webconfig_error_mark(struct sonde_buf *errors, const char *file,
                                const struct webconfig_mark *mark, const char *fmt, ...)
    SONDE_PRINTF(4, 5);

static int webconfig_error_mark(struct sonde_buf *errors, const char *file,
                                const struct webconfig_mark *mark, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    webconfig_report(errors, file, mark->line ? mark->line : 1, mark->column ? mark->column : 1,
                     fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static void webconfig_warn(struct webconfig_ctx *c, const yaml_node_t *node, const char *what)
{
    sonde_log(SONDE_LOG_WARN, "%s:%zu:%zu: %s", c->file, node->start_mark.line + 1,
              node->start_mark.column + 1, what);
}

/* ---- YAML nodes ---- */

static const char *webconfig_text(const yaml_node_t *node)
{
    return node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : "";
}

static bool webconfig_is_null(const yaml_node_t *node)
{
    if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *t = webconfig_text(node);
    return !*t || strcmp(t, "~") == 0 || strcmp(t, "null") == 0;
}

static struct webconfig_mark webconfig_mark_of(const yaml_node_t *node)
{
    return (struct webconfig_mark){node->start_mark.line + 1, node->start_mark.column + 1};
}

/* Checks that `node` is a mapping (or null: an empty one) without
 * duplicate keys, as yaml.UnmarshalStrict does. 1: a mapping, 0: null,
 * -EINVAL: reported. */
static int webconfig_mapping(struct webconfig_ctx *c, const yaml_node_t *node, const char *what)
{
    if (webconfig_is_null(node))
        return 0;
    if (node->type != YAML_MAPPING_NODE)
        return webconfig_error(c, node, "%s: expected a map", what);
    int rc = 1;
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        if (k->type != YAML_SCALAR_NODE) {
            rc = webconfig_error(c, k, "%s: expected a string key", what);
            continue;
        }
        for (yaml_node_pair_t *q = node->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *prev = yaml_document_get_node(c->doc, q->key);
            if (strcmp(webconfig_text(k), webconfig_text(prev)) == 0) {
                rc = webconfig_error(c, k, "%s: duplicate key \"%s\" (first at line %zu)", what,
                                     webconfig_text(k), prev->start_mark.line + 1);
                break;
            }
        }
    }
    return rc;
}

/* A string value; null is the empty string, as in Go. */
static int webconfig_string(struct webconfig_ctx *c, const yaml_node_t *node, const char *what,
                            char **out)
{
    if (node->type != YAML_SCALAR_NODE)
        return webconfig_error(c, node, "%s: expected a string", what);
    free(*out);
    *out = sonde_xstrdup(webconfig_is_null(node) ? "" : webconfig_text(node));
    return 0;
}

static int webconfig_bool(struct webconfig_ctx *c, const yaml_node_t *node, const char *what,
                          bool *out)
{
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "on"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "off"};
    const char *t = webconfig_text(node);
    for (size_t i = 0; node->type == YAML_SCALAR_NODE && i < 5; i++) {
        if (strcmp(t, yes[i]) == 0 || strcmp(t, no[i]) == 0) {
            *out = strcmp(t, yes[i]) == 0;
            return 0;
        }
    }
    return webconfig_error(c, node, "%s: expected true or false", what);
}

/* A list of strings that sonde accepts for compatibility but does not use. */
static int webconfig_ignored_list(struct webconfig_ctx *c, const yaml_node_t *node,
                                  const char *what, const char *why)
{
    if (webconfig_is_null(node))
        return 0;
    if (node->type != YAML_SEQUENCE_NODE)
        return webconfig_error(c, node, "%s: expected a list of strings", what);
    for (yaml_node_item_t *it = node->data.sequence.items.start; it < node->data.sequence.items.top;
         it++)
        if (yaml_document_get_node(c->doc, *it)->type != YAML_SCALAR_NODE)
            return webconfig_error(c, yaml_document_get_node(c->doc, *it),
                                   "%s: expected a list of strings", what);
    if (node->data.sequence.items.top > node->data.sequence.items.start) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%s is ignored: %s", what, why);
        webconfig_warn(c, node, msg);
    }
    return 0;
}

/* A path named by the file, relative to the file's directory (the
 * exporter-toolkit's SetDirectory). */
static char *webconfig_resolve(const char *file, const char *value)
{
    if (!value[0] || value[0] == '/' || !strchr(file, '/'))
        return sonde_xstrdup(value);
    char *copy = sonde_xstrdup(file);
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dirname(copy), value);
    free(copy);
    return sonde_xstrdup(path);
}

/* ---- tls_server_config ---- */

static const struct {
    const char *name;
    enum webconfig_client_auth mode;
} webconfig_client_auths[] = {
    {"NoClientCert", WEBCONFIG_NO_CLIENT_CERT},
    {"RequestClientCert", WEBCONFIG_REQUEST_CLIENT_CERT},
    {"RequireAnyClientCert", WEBCONFIG_REQUIRE_ANY_CLIENT_CERT},
    {"RequireClientCert", WEBCONFIG_REQUIRE_ANY_CLIENT_CERT}, /* the toolkit's old name */
    {"VerifyClientCertIfGiven", WEBCONFIG_VERIFY_CLIENT_CERT_IF_GIVEN},
    {"RequireAndVerifyClientCert", WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT},
};

const char *webconfig_client_auth_name(enum webconfig_client_auth mode)
{
    for (size_t i = 0; i < sizeof(webconfig_client_auths) / sizeof(webconfig_client_auths[0]); i++)
        if (webconfig_client_auths[i].mode == mode)
            return webconfig_client_auths[i].name;
    return "?";
}

static bool webconfig_verifies(enum webconfig_client_auth mode)
{
    return mode == WEBCONFIG_VERIFY_CLIENT_CERT_IF_GIVEN ||
           mode == WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT;
}

static int webconfig_client_auth(struct webconfig_ctx *c, const yaml_node_t *node, bool *set)
{
    const char *t = webconfig_text(node);
    if (node->type == YAML_SCALAR_NODE && (webconfig_is_null(node) || !*t)) {
        c->wc->tls.client_auth = WEBCONFIG_NO_CLIENT_CERT;
        return 0;
    }
    for (size_t i = 0; node->type == YAML_SCALAR_NODE &&
                       i < sizeof(webconfig_client_auths) / sizeof(webconfig_client_auths[0]);
         i++) {
        if (strcmp(t, webconfig_client_auths[i].name) == 0) {
            c->wc->tls.client_auth = webconfig_client_auths[i].mode;
            *set = true;
            return 0;
        }
    }
    return webconfig_error(c, node,
                           "tls_server_config: client_auth_type: expected NoClientCert, "
                           "RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven or "
                           "RequireAndVerifyClientCert, got \"%s\"",
                           t);
}

static int webconfig_version(struct webconfig_ctx *c, const yaml_node_t *node, const char *what,
                             int *out)
{
    static const char *const names[] = {"TLS10", "TLS11", "TLS12", "TLS13"};
    for (int i = 0; node->type == YAML_SCALAR_NODE && i < 4; i++) {
        if (strcmp(webconfig_text(node), names[i]) == 0) {
            *out = 10 + i;
            return 0;
        }
    }
    return webconfig_error(c, node,
                           "tls_server_config: %s: expected TLS10, TLS11, TLS12 or TLS13, got "
                           "\"%s\"",
                           what, webconfig_text(node));
}

/* One key of tls_server_config. */
static int webconfig_tls_key(struct webconfig_ctx *c, const yaml_node_t *key,
                             const yaml_node_t *value, bool *auth_set)
{
    struct webconfig_tls *tls = &c->wc->tls;
    const char *name = webconfig_text(key);
    if (strcmp(name, "cert_file") == 0) {
        tls->cert_mark = webconfig_mark_of(value);
        return webconfig_string(c, value, "tls_server_config: cert_file", &tls->cert_file);
    }
    if (strcmp(name, "key_file") == 0) {
        tls->key_mark = webconfig_mark_of(value);
        return webconfig_string(c, value, "tls_server_config: key_file", &tls->key_file);
    }
    if (strcmp(name, "client_ca_file") == 0) {
        tls->ca_mark = webconfig_mark_of(value);
        return webconfig_string(c, value, "tls_server_config: client_ca_file",
                                &tls->client_ca_file);
    }
    if (strcmp(name, "client_auth_type") == 0)
        return webconfig_client_auth(c, value, auth_set);
    if (strcmp(name, "min_version") == 0)
        return webconfig_version(c, value, "min_version", &tls->min_version);
    if (strcmp(name, "max_version") == 0)
        return webconfig_version(c, value, "max_version", &tls->max_version);
    if (strcmp(name, "prefer_server_cipher_suites") == 0)
        return webconfig_bool(c, value, "tls_server_config: prefer_server_cipher_suites",
                              &tls->prefer_server_cipher_suites);
    if (strcmp(name, "cipher_suites") == 0)
        return webconfig_ignored_list(c, value, "tls_server_config: cipher_suites",
                                      "GnuTLS's defaults for the allowed TLS versions are used");
    if (strcmp(name, "curve_preferences") == 0)
        return webconfig_ignored_list(c, value, "tls_server_config: curve_preferences",
                                      "GnuTLS's default groups are used");
    if (strcmp(name, "cert") == 0 || strcmp(name, "key") == 0 || strcmp(name, "client_ca") == 0 ||
        strcmp(name, "client_allowed_sans") == 0)
        return webconfig_error(c, key,
                               "tls_server_config: %s is not supported by sonde (use cert_file, "
                               "key_file, client_ca_file)",
                               name);
    return webconfig_error(c, key,
                           "tls_server_config: unknown key \"%s\" (expected one of: cert_file, "
                           "key_file, client_auth_type, client_ca_file, min_version, "
                           "max_version, cipher_suites, curve_preferences, "
                           "prefer_server_cipher_suites)",
                           name);
}

/* The rules the exporter-toolkit applies, plus one of sonde's own: a
 * verifying client_auth_type needs client_ca_file (Go would fall back to
 * the system's CAs, trusting any publicly issued certificate). */
static int webconfig_tls_check(struct webconfig_ctx *c, const yaml_node_t *section, bool auth_set)
{
    struct webconfig_tls *tls = &c->wc->tls;
    tls->enabled = tls->cert_file[0] || tls->key_file[0] || tls->client_ca_file[0] || auth_set;
    if (!tls->enabled)
        return 0;
    int rc = 0;
    if (!tls->cert_file[0])
        rc = webconfig_error(c, section, "tls_server_config: missing cert_file");
    if (!tls->key_file[0])
        rc = webconfig_error(c, section, "tls_server_config: missing key_file");
    if (tls->client_ca_file[0] && tls->client_auth == WEBCONFIG_NO_CLIENT_CERT)
        rc = webconfig_error_mark(c->errors, c->file, &tls->ca_mark,
                                  "tls_server_config: client_ca_file is set but client_auth_type "
                                  "is NoClientCert (set VerifyClientCertIfGiven or "
                                  "RequireAndVerifyClientCert)");
    if (!tls->client_ca_file[0] && webconfig_verifies(tls->client_auth))
        rc = webconfig_error(c, section,
                             "tls_server_config: client_auth_type %s needs client_ca_file (sonde "
                             "does not trust the system's CAs for client certificates)",
                             webconfig_client_auth_name(tls->client_auth));
    if (tls->min_version > tls->max_version)
        rc = webconfig_error(c, section,
                             "tls_server_config: min_version TLS%d is above max_version TLS%d",
                             tls->min_version, tls->max_version);
    if (rc < 0)
        c->nerrors++;
    char *cert = webconfig_resolve(c->file, tls->cert_file);
    char *key = webconfig_resolve(c->file, tls->key_file);
    char *ca = webconfig_resolve(c->file, tls->client_ca_file);
    free(tls->cert_file);
    free(tls->key_file);
    free(tls->client_ca_file);
    tls->cert_file = cert;
    tls->key_file = key;
    tls->client_ca_file = ca;
    return rc;
}

static int webconfig_tls_section(struct webconfig_ctx *c, const yaml_node_t *section)
{
    c->wc->tls.section_mark = webconfig_mark_of(section);
    int m = webconfig_mapping(c, section, "tls_server_config");
    if (m <= 0)
        return m;
    int rc = 0;
    bool auth_set = false;
    for (yaml_node_pair_t *p = section->data.mapping.pairs.start;
         p < section->data.mapping.pairs.top; p++) {
        if (webconfig_tls_key(c, yaml_document_get_node(c->doc, p->key),
                              yaml_document_get_node(c->doc, p->value), &auth_set) < 0)
            rc = -EINVAL;
    }
    if (webconfig_tls_check(c, section, auth_set) < 0)
        rc = -EINVAL;
    return rc;
}

/* ---- http_server_config ---- */

/* What the exporter-toolkit lets a web configuration add (its
 * extraHTTPHeaders): names exactly as written here, and for two of them a
 * fixed set of values. Anything else would let a file override what the
 * endpoint itself decides (Content-Type, Content-Encoding ...). */
static const struct {
    const char *name;
    const char *values[3]; /* NULL-terminated; empty: any value */
} webconfig_allowed_headers[] = {
    {"Strict-Transport-Security", {NULL}},
    {"X-Content-Type-Options", {"nosniff", NULL}},
    {"X-Frame-Options", {"deny", "sameorigin", NULL}},
    {"X-XSS-Protection", {NULL}},
    {"Content-Security-Policy", {NULL}},
};

static int webconfig_header(struct webconfig_ctx *c, const yaml_node_t *key,
                            const yaml_node_t *value)
{
    const char *name = webconfig_text(key);
    size_t n = sizeof(webconfig_allowed_headers) / sizeof(webconfig_allowed_headers[0]), i;
    for (i = 0; i < n && strcmp(webconfig_allowed_headers[i].name, name) != 0; i++)
        ;
    if (i == n)
        return webconfig_error(c, key,
                               "http_server_config: headers: %s cannot be configured (allowed: "
                               "Strict-Transport-Security, X-Content-Type-Options, "
                               "X-Frame-Options, X-XSS-Protection, Content-Security-Policy)",
                               name);
    if (value->type != YAML_SCALAR_NODE)
        return webconfig_error(c, value, "http_server_config: headers: %s: expected a string",
                               name);
    const char *v = webconfig_is_null(value) ? "" : webconfig_text(value);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return webconfig_error(c, value,
                                   "http_server_config: headers: %s: control characters are not "
                                   "allowed in a header value",
                                   name);
    const char *const *allowed = webconfig_allowed_headers[i].values;
    if (allowed[0]) {
        bool ok = false;
        for (size_t k = 0; allowed[k]; k++)
            ok |= strcmp(allowed[k], v) == 0;
        if (!ok)
            return webconfig_error(
                c, value, "http_server_config: headers: %s must be %s%s%s, got \"%s\"", name,
                allowed[0], allowed[1] ? " or " : "", allowed[1] ? allowed[1] : "", v);
    }
    struct webconfig *wc = c->wc;
    wc->headers = sonde_xrealloc(wc->headers, (wc->nheaders + 1) * sizeof(*wc->headers));
    wc->headers[wc->nheaders].name = sonde_xstrdup(name);
    wc->headers[wc->nheaders].value = sonde_xstrdup(v);
    wc->nheaders++;
    return 0;
}

static int webconfig_http_section(struct webconfig_ctx *c, const yaml_node_t *section)
{
    int m = webconfig_mapping(c, section, "http_server_config");
    if (m <= 0)
        return m;
    int rc = 0;
    for (yaml_node_pair_t *p = section->data.mapping.pairs.start;
         p < section->data.mapping.pairs.top; p++) {
        yaml_node_t *key = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *value = yaml_document_get_node(c->doc, p->value);
        const char *name = webconfig_text(key);
        if (strcmp(name, "http2") == 0) {
            bool http2; /* sonde serves HTTP/1.1 only; accepted for compatibility */
            if (webconfig_bool(c, value, "http_server_config: http2", &http2) < 0)
                rc = -EINVAL;
        } else if (strcmp(name, "headers") == 0) {
            int hm = webconfig_mapping(c, value, "http_server_config: headers");
            if (hm < 0)
                rc = -EINVAL;
            for (yaml_node_pair_t *h = hm > 0 ? value->data.mapping.pairs.start : NULL;
                 hm > 0 && h < value->data.mapping.pairs.top; h++)
                if (webconfig_header(c, yaml_document_get_node(c->doc, h->key),
                                     yaml_document_get_node(c->doc, h->value)) < 0)
                    rc = -EINVAL;
        } else {
            rc = webconfig_error(c, key,
                                 "http_server_config: unknown key \"%s\" (expected headers or "
                                 "http2)",
                                 name);
        }
    }
    return rc;
}

/* ---- basic_auth_users ---- */

/* A bcrypt hash as Go's bcrypt.Cost accepts it and libcrypt verifies it:
 * $2a$, $2b$, $2x$ or $2y$, a two-digit cost from 4 to 31, then 53
 * characters of bcrypt's base64 (22 of salt, 31 of hash). */
static bool webconfig_is_bcrypt(const char *h)
{
    static const char alphabet[] =
        "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    if (strlen(h) != 60 || h[0] != '$' || h[1] != '2' || !h[2] || !strchr("abxy", h[2]) ||
        h[3] != '$' || !isdigit((unsigned char)h[4]) || !isdigit((unsigned char)h[5]) ||
        h[6] != '$')
        return false;
    int cost = (h[4] - '0') * 10 + (h[5] - '0');
    if (cost < 4 || cost > 31)
        return false;
    for (size_t i = 7; i < 60; i++)
        if (!strchr(alphabet, h[i]))
            return false;
    return true;
}

static int webconfig_users_section(struct webconfig_ctx *c, const yaml_node_t *section)
{
    int m = webconfig_mapping(c, section, "basic_auth_users");
    if (m <= 0)
        return m;
    int rc = 0;
    struct webconfig *wc = c->wc;
    for (yaml_node_pair_t *p = section->data.mapping.pairs.start;
         p < section->data.mapping.pairs.top; p++) {
        yaml_node_t *key = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *value = yaml_document_get_node(c->doc, p->value);
        if (key->type != YAML_SCALAR_NODE)
            continue; /* reported by webconfig_mapping */
        /* The hash is a secret of sorts (it allows offline guessing): no
         * error shows it. */
        if (value->type != YAML_SCALAR_NODE || !webconfig_is_bcrypt(webconfig_text(value))) {
            rc = webconfig_error(c, value,
                                 "basic_auth_users: user \"%s\": expected a bcrypt hash ($2a$, "
                                 "$2b$ or $2y$, cost 4 to 31, 60 characters; e.g. from htpasswd "
                                 "-nBC 10 USER)",
                                 webconfig_text(key));
            continue;
        }
        wc->users = sonde_xrealloc(wc->users, (wc->nusers + 1) * sizeof(*wc->users));
        wc->users[wc->nusers].name = sonde_xstrdup(webconfig_text(key));
        wc->users[wc->nusers].hash = sonde_xstrdup(webconfig_text(value));
        wc->nusers++;
    }
    return rc;
}

/* ---- the document ---- */

static int webconfig_document(struct webconfig_ctx *c)
{
    yaml_node_t *root = yaml_document_get_root_node(c->doc);
    if (!root || webconfig_is_null(root))
        return 0; /* an empty file: plain HTTP, no auth, as with the exporters */
    if (root->type != YAML_MAPPING_NODE)
        return webconfig_error(c, root,
                               "expected a map with tls_server_config, http_server_config, "
                               "basic_auth_users");
    int rc = webconfig_mapping(c, root, "web configuration") < 0 ? -EINVAL : 0;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *key = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *value = yaml_document_get_node(c->doc, p->value);
        const char *name = webconfig_text(key);
        int r;
        if (strcmp(name, "tls_server_config") == 0)
            r = webconfig_tls_section(c, value);
        else if (strcmp(name, "http_server_config") == 0)
            r = webconfig_http_section(c, value);
        else if (strcmp(name, "basic_auth_users") == 0)
            r = webconfig_users_section(c, value);
        else if (strcmp(name, "rate_limit") == 0)
            r = webconfig_error(c, key,
                                "rate_limit is not supported by sonde (see "
                                "web.max_connections_per_ip in sonde's configuration)");
        else
            r = webconfig_error(c, key,
                                "unknown key \"%s\" (expected tls_server_config, "
                                "http_server_config or basic_auth_users)",
                                name);
        if (r < 0)
            rc = r;
    }
    return rc;
}

static void webconfig_init(struct webconfig *wc, const char *path)
{
    memset(wc, 0, sizeof(*wc));
    wc->path = sonde_xstrdup(path);
    wc->tls.cert_file = sonde_xstrdup("");
    wc->tls.key_file = sonde_xstrdup("");
    wc->tls.client_ca_file = sonde_xstrdup("");
    wc->tls.min_version = 12; /* the exporter-toolkit's defaults */
    wc->tls.max_version = 13;
    wc->tls.prefer_server_cipher_suites = true;
    pthread_mutex_init(&wc->auth.lock, NULL);
    pthread_mutex_init(&wc->auth.bcrypt_lock, NULL);
    if (gnutls_rnd(GNUTLS_RND_KEY, wc->auth.key, sizeof(wc->auth.key)) < 0) {
        sonde_log(SONDE_LOG_ERROR, "endpoint: no random bytes for the auth cache key");
        abort(); /* a predictable key would be worse than no start */
    }
}

static int webconfig_parse_text(struct webconfig *wc, const char *text, size_t len,
                                struct sonde_buf *errors)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    struct webconfig_ctx c = {.file = wc->path, .doc = &doc, .wc = wc, .errors = errors};
    if (!yaml_parser_initialize(&parser))
        return -ENOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        sonde_buf_printf(errors, "%s:%zu:%zu: %s%s%s\n", wc->path, parser.problem_mark.line + 1,
                         parser.problem_mark.column + 1,
                         parser.problem ? parser.problem : "invalid YAML",
                         parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return -EINVAL;
    }
    int rc = webconfig_document(&c);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc < 0 || c.nerrors ? -EINVAL : 0;
}

int webconfig_parse(struct webconfig *wc, const char *text, size_t len, const char *path,
                    struct sonde_buf *errors)
{
    webconfig_init(wc, path);
    return webconfig_parse_text(wc, text, len, errors);
}

/* ---- files ---- */

static void webconfig_stamp(const char *path, struct webconfig_stamp *st)
{
    struct stat sb;
    memset(st, 0, sizeof(*st));
    st->taken = true;
    if (stat(path, &sb) < 0) {
        st->err = errno;
        return;
    }
    st->dev = sb.st_dev;
    st->ino = sb.st_ino;
    st->size = sb.st_size;
    st->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
    st->ctime_ns = (int64_t)sb.st_ctim.tv_sec * 1000000000 + sb.st_ctim.tv_nsec;
}

static bool webconfig_stamp_equal(const struct webconfig_stamp *a, const struct webconfig_stamp *b)
{
    return a->err == b->err && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

static uint64_t webconfig_hash(const char *data, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)data[i]) * 1099511628211ULL;
    return h;
}

static int webconfig_slurp(const char *path, char **out, size_t *out_len);

/* Two writes within one tick of the kernel's file clock leave the same
 * times (and maybe size): while a file's mtime is recent, its content is
 * compared too. */
static bool webconfig_content_changed(const char *path, const struct webconfig_stamp *stamp)
{
    if (!stamp->hashed || clock_realtime_ns() - stamp->mtime_ns > 2000000000LL)
        return false;
    char *data;
    size_t len;
    if (webconfig_slurp(path, &data, &len) < 0)
        return true;
    bool changed = webconfig_hash(data, len) != stamp->hash;
    explicit_bzero(data, len);
    free(data);
    return changed;
}

bool webconfig_watch_changed(const struct webconfig_watch *watch)
{
    for (int i = 0; i < WEBCONFIG_NFILES; i++) {
        if (!watch->paths[i] || !watch->stamps[i].taken)
            continue;
        struct webconfig_stamp now;
        webconfig_stamp(watch->paths[i], &now);
        if (!webconfig_stamp_equal(&now, &watch->stamps[i]) ||
            webconfig_content_changed(watch->paths[i], &watch->stamps[i]))
            return true;
    }
    return false;
}

void webconfig_watch_free(struct webconfig_watch *watch)
{
    for (int i = 0; i < WEBCONFIG_NFILES; i++)
        free(watch->paths[i]);
    memset(watch, 0, sizeof(*watch));
}

void webconfig_watch_take(struct webconfig_watch *dst, struct webconfig *wc)
{
    webconfig_watch_free(dst);
    *dst = wc->watch;
    memset(&wc->watch, 0, sizeof(wc->watch));
}

/* Reads a regular file of at most WEBCONFIG_MAX_FILE bytes. Returns 0 with
 * a malloc'd, NUL-terminated *out, or -errno (-EINVAL: not a regular
 * file). */
static int webconfig_slurp(const char *path, char **out, size_t *out_len)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    struct stat sb;
    int rc = 0;
    if (fstat(fd, &sb) < 0)
        rc = -errno;
    else if (!S_ISREG(sb.st_mode))
        rc = -EINVAL;
    else if (sb.st_size > WEBCONFIG_MAX_FILE)
        rc = -EFBIG;
    struct sonde_buf buf = {0};
    sonde_buf_append(&buf, "", 0);
    while (rc == 0) {
        char chunk[8192];
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = -errno;
        else if (n == 0)
            break;
        else if (buf.len + (size_t)n > WEBCONFIG_MAX_FILE)
            rc = -EFBIG;
        else
            sonde_buf_append(&buf, chunk, (size_t)n);
    }
    close(fd);
    if (rc < 0) {
        explicit_bzero(buf.data, buf.cap);
        sonde_buf_free(&buf);
        return rc;
    }
    *out = buf.data;
    *out_len = buf.len;
    return 0;
}

/* Reads a file of the configuration, stamping it first as watch file
 * `which`. */
static int webconfig_read(struct webconfig *wc, int which, const char *path, char **out,
                          size_t *out_len)
{
    free(wc->watch.paths[which]);
    wc->watch.paths[which] = sonde_xstrdup(path);
    struct webconfig_stamp *stamp = &wc->watch.stamps[which];
    webconfig_stamp(path, stamp);
    int rc = webconfig_slurp(path, out, out_len);
    if (rc == 0) {
        stamp->hashed = true;
        stamp->hash = webconfig_hash(*out, *out_len);
    }
    return rc;
}

static const char *webconfig_read_error(int rc)
{
    if (rc == -EINVAL)
        return "not a regular file";
    if (rc == -EFBIG)
        return "larger than 1 MiB";
    return strerror(-rc);
}

/* Called by GnuTLS during a handshake whose client sent a certificate,
 * in the verifying client_auth_type modes: the chain must lead to a CA of
 * client_ca_file and the certificate be usable for client authentication,
 * as Go's crypto/tls checks. Non-zero fails the handshake. */
static int webconfig_verify_peer(gnutls_session_t session)
{
    unsigned int n = 0;
    if (!gnutls_certificate_get_peers(session, &n) || n == 0)
        return 0; /* no certificate: the Require modes were refused by GnuTLS already */
    gnutls_typed_vdata_st purpose = {.type = GNUTLS_DT_KEY_PURPOSE_OID,
                                     .data = (unsigned char *)(uintptr_t)GNUTLS_KP_TLS_WWW_CLIENT};
    unsigned int status = 0;
    if (gnutls_certificate_verify_peers(session, &purpose, 1, &status) < 0 || status != 0)
        return -1;
    return 0;
}

/* "NORMAL" without the versions outside [min_version, max_version]. */
static char *webconfig_priorities(const struct webconfig_tls *tls)
{
    static const char *const versions[] = {"TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"};
    struct sonde_buf s = {0};
    sonde_buf_puts(&s, "NORMAL:-VERS-ALL");
    for (int v = tls->min_version; v <= tls->max_version; v++)
        sonde_buf_printf(&s, ":+VERS-%s", versions[v - 10]);
    if (tls->prefer_server_cipher_suites)
        sonde_buf_puts(&s, ":%SERVER_PRECEDENCE");
    return s.data;
}

static int webconfig_load_tls(struct webconfig *wc, struct sonde_buf *errors)
{
    struct webconfig_tls *tls = &wc->tls;
    if (!tls->enabled)
        return 0;
    size_t cert_len, key_len, ca_len = 0;
    char *ca = NULL;
    int rc = webconfig_read(wc, WEBCONFIG_CERT, tls->cert_file, &tls->cert_pem, &cert_len);
    if (rc < 0)
        return webconfig_error_mark(errors, wc->path, &tls->cert_mark,
                                    "tls_server_config: cert_file %s: cannot read: %s",
                                    tls->cert_file, webconfig_read_error(rc));
    rc = webconfig_read(wc, WEBCONFIG_KEY, tls->key_file, &tls->key_pem, &key_len);
    if (rc < 0)
        return webconfig_error_mark(errors, wc->path, &tls->key_mark,
                                    "tls_server_config: key_file %s: cannot read: %s",
                                    tls->key_file, webconfig_read_error(rc));
    if (tls->client_ca_file[0]) {
        rc = webconfig_read(wc, WEBCONFIG_CA, tls->client_ca_file, &ca, &ca_len);
        if (rc < 0)
            return webconfig_error_mark(errors, wc->path, &tls->ca_mark,
                                        "tls_server_config: client_ca_file %s: cannot read: %s",
                                        tls->client_ca_file, webconfig_read_error(rc));
    }
    if (gnutls_certificate_allocate_credentials(&tls->credentials) < 0) {
        tls->credentials = NULL;
        free(ca);
        return webconfig_error_mark(errors, wc->path, &tls->section_mark,
                                    "tls_server_config: out of memory");
    }
    gnutls_datum_t cert = {(unsigned char *)tls->cert_pem, (unsigned int)cert_len};
    gnutls_datum_t key = {(unsigned char *)tls->key_pem, (unsigned int)key_len};
    int g = gnutls_certificate_set_x509_key_mem2(tls->credentials, &cert, &key, GNUTLS_X509_FMT_PEM,
                                                 NULL, 0);
    if (g < 0)
        rc = webconfig_error_mark(errors, wc->path, &tls->key_mark,
                                  "tls_server_config: cert_file %s with key_file %s: %s",
                                  tls->cert_file, tls->key_file, gnutls_strerror(g));
    if (ca) {
        gnutls_datum_t ca_datum = {(unsigned char *)ca, (unsigned int)ca_len};
        g = gnutls_certificate_set_x509_trust_mem(tls->credentials, &ca_datum, GNUTLS_X509_FMT_PEM);
        if (g <= 0)
            rc = webconfig_error_mark(
                errors, wc->path, &tls->ca_mark, "tls_server_config: client_ca_file %s: %s",
                tls->client_ca_file, g < 0 ? gnutls_strerror(g) : "no PEM certificate in it");
        free(ca);
    }
    if (webconfig_verifies(tls->client_auth))
        gnutls_certificate_set_verify_function(tls->credentials, webconfig_verify_peer);
    tls->priorities = webconfig_priorities(tls);
    const char *where = NULL;
    g = gnutls_priority_init(&tls->priority, tls->priorities, &where);
    if (g < 0) {
        tls->priority = NULL;
        rc = webconfig_error_mark(errors, wc->path, &tls->section_mark,
                                  "tls_server_config: GnuTLS refuses the priorities \"%s\": %s",
                                  tls->priorities, gnutls_strerror(g));
    }
    return rc;
}

int webconfig_load(struct webconfig *wc, const char *path, struct sonde_buf *errors)
{
    webconfig_init(wc, path);
    char *text;
    size_t len;
    int rc = webconfig_read(wc, WEBCONFIG_FILE, path, &text, &len);
    if (rc < 0) {
        sonde_buf_printf(errors, "%s:1:1: cannot read: %s\n", path, webconfig_read_error(rc));
        return -EINVAL;
    }
    rc = webconfig_parse_text(wc, text, len, errors);
    free(text);
    if (rc == 0)
        rc = webconfig_load_tls(wc, errors);
    return rc < 0 ? -EINVAL : 0;
}

int webconfig_check(const char *path)
{
    struct webconfig wc;
    struct sonde_buf errors = {0};
    int rc = webconfig_load(&wc, path, &errors);
    if (errors.len)
        fputs(errors.data, stderr);
    sonde_buf_free(&errors);
    webconfig_free(&wc);
    return rc;
}

int webconfig_session_setup(const struct webconfig *wc, gnutls_session_t session)
{
    const struct webconfig_tls *tls = &wc->tls;
    if (!tls->credentials || !tls->priority)
        return -EPROTO;
    if (gnutls_priority_set(session, tls->priority) < 0 ||
        gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, tls->credentials) < 0)
        return -EPROTO;
    gnutls_certificate_request_t request = GNUTLS_CERT_IGNORE;
    switch (tls->client_auth) {
    case WEBCONFIG_NO_CLIENT_CERT:
        break;
    case WEBCONFIG_REQUEST_CLIENT_CERT:
    case WEBCONFIG_VERIFY_CLIENT_CERT_IF_GIVEN:
        request = GNUTLS_CERT_REQUEST;
        break;
    case WEBCONFIG_REQUIRE_ANY_CLIENT_CERT:
    case WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT:
        request = GNUTLS_CERT_REQUIRE;
        break;
    }
    gnutls_certificate_server_set_request(session, request);
    return 0;
}

/* ---- basic auth ---- */

/* Compares without an early exit, so the time taken does not tell how
 * many leading bytes matched. */
static bool webconfig_equal(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= x[i] ^ y[i];
    return diff == 0;
}

/* HMAC-SHA256 of user, NUL, password under the cache's key. */
static int webconfig_auth_mac(const struct webconfig_auth *auth, const char *user,
                              const char *password, unsigned char mac[32])
{
    gnutls_hmac_hd_t h;
    if (gnutls_hmac_init(&h, GNUTLS_MAC_SHA256, auth->key, sizeof(auth->key)) < 0)
        return -EIO;
    int rc = gnutls_hmac(h, user, strlen(user) + 1);
    if (rc == 0)
        rc = gnutls_hmac(h, password, strlen(password));
    gnutls_hmac_deinit(h, mac);
    return rc < 0 ? -EIO : 0;
}

static bool webconfig_cache_find(struct webconfig_auth *auth, size_t user,
                                 const unsigned char mac[32])
{
    bool found = false;
    pthread_mutex_lock(&auth->lock);
    for (size_t i = 0; i < WEBCONFIG_AUTH_CACHE; i++)
        found |= auth->entries[i].used && auth->entries[i].user == user &&
                 webconfig_equal(auth->entries[i].mac, mac, 32);
    pthread_mutex_unlock(&auth->lock);
    return found;
}

static void webconfig_cache_add(struct webconfig_auth *auth, size_t user,
                                const unsigned char mac[32])
{
    pthread_mutex_lock(&auth->lock);
    size_t slot = auth->next;
    auth->next = (auth->next + 1) % WEBCONFIG_AUTH_CACHE;
    memcpy(auth->entries[slot].mac, mac, 32);
    auth->entries[slot].user = user;
    auth->entries[slot].used = true;
    pthread_mutex_unlock(&auth->lock);
}

/* One bcrypt verification (tens of milliseconds at cost 10). */
static bool webconfig_bcrypt(struct webconfig_auth *auth, const char *password, const char *hash)
{
    pthread_mutex_lock(&auth->bcrypt_lock);
    if (!auth->crypt_data)
        auth->crypt_data = sonde_xcalloc(1, sizeof(struct crypt_data));
    const char *out = crypt_rn(password, hash, auth->crypt_data, sizeof(struct crypt_data));
    size_t len = strlen(hash);
    bool ok = out && strlen(out) == len && webconfig_equal(out, hash, len);
    atomic_fetch_add(&auth->bcrypts, 1);
    pthread_mutex_unlock(&auth->bcrypt_lock);
    return ok;
}

bool webconfig_authenticate(struct webconfig *wc, const char *user, const char *password)
{
    if (!wc->nusers)
        return false;
    size_t idx = wc->nusers;
    for (size_t i = 0; i < wc->nusers && idx == wc->nusers; i++)
        if (strcmp(wc->users[i].name, user) == 0)
            idx = i;
    bool known = idx < wc->nusers;
    unsigned char mac[32];
    if (webconfig_auth_mac(&wc->auth, user, password, mac) < 0)
        return false;
    if (known && webconfig_cache_find(&wc->auth, idx, mac)) {
        atomic_fetch_add(&wc->auth.cache_hits, 1);
        explicit_bzero(mac, sizeof(mac));
        return true;
    }
    /* An unknown user is checked against a real hash, so that it costs
     * what a known user with a wrong password costs; then refused. */
    bool ok = webconfig_bcrypt(&wc->auth, password, wc->users[known ? idx : 0].hash) && known &&
              strlen(password) <= WEBCONFIG_MAX_PASSWORD;
    if (ok)
        webconfig_cache_add(&wc->auth, idx, mac);
    explicit_bzero(mac, sizeof(mac));
    return ok;
}

/* ---- freeing ---- */

void webconfig_free(struct webconfig *wc)
{
    struct webconfig_tls *tls = &wc->tls;
    if (tls->key_pem) {
        explicit_bzero(tls->key_pem, strlen(tls->key_pem));
        free(tls->key_pem);
    }
    free(tls->cert_pem);
    free(tls->priorities);
    free(tls->cert_file);
    free(tls->key_file);
    free(tls->client_ca_file);
    if (tls->credentials)
        gnutls_certificate_free_credentials(tls->credentials);
    if (tls->priority)
        gnutls_priority_deinit(tls->priority);
    for (size_t i = 0; i < wc->nusers; i++) {
        free(wc->users[i].name);
        free(wc->users[i].hash);
    }
    free(wc->users);
    for (size_t i = 0; i < wc->nheaders; i++) {
        free(wc->headers[i].name);
        free(wc->headers[i].value);
    }
    free(wc->headers);
    webconfig_watch_free(&wc->watch);
    if (wc->auth.crypt_data) {
        explicit_bzero(wc->auth.crypt_data, sizeof(struct crypt_data));
        free(wc->auth.crypt_data);
    }
    explicit_bzero(&wc->auth.key, sizeof(wc->auth.key));
    explicit_bzero(&wc->auth.entries, sizeof(wc->auth.entries));
    pthread_mutex_destroy(&wc->auth.lock);
    pthread_mutex_destroy(&wc->auth.bcrypt_lock);
    free(wc->path);
    memset(wc, 0, sizeof(*wc));
}
