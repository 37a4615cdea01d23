/*
 * endpoint.c - the Prometheus scrape endpoint on libmicrohttpd. Design note:
 * - A scrape never triggers a collection: it serves the store.
 * - Bodies are cached per (format, gzip) as MHD responses, which are
 *   reference counted, so one rendering serves every scrape until the store
 *   changes; a response still being sent survives its replacement.
 * - Only GET and HEAD of the telemetry path (and "/", a small page linking
 *   to it) are served; other paths get 404, other methods 405.
 * - Limits: connections in all and per client address (so that slow
 *   clients from one address cannot take every slot), idle time per
 *   connection, request header memory.
 * - The web configuration file (TLS, basic auth, headers; webconfig.c) is
 *   re-read when one of its files changes: a stat() per request and per new
 *   connection, as the exporters re-read theirs per request. Each version
 *   is an endpoint_web, reference counted: a request or a TLS connection
 *   keeps the version it started with. A new version that fails to load
 *   keeps the previous one (logged, rate-limited) and is not retried until
 *   one of its files changes again. A TLS connection gets the certificate,
 *   CA and client certificate policy of the version current when it was
 *   accepted, so those change without restarting the daemon; only turning
 *   TLS on or off needs a restart of the endpoint (SIGHUP).
 * - Authentication comes first, as with the exporters: without valid
 *   credentials every path and method gets 401.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "agent.h"
#include "webconfig.h"

#define ENDPOINT_HEADER_MEMORY (32 * 1024)
#define ENDPOINT_LOG_PERIOD_S  10

/* One version of the web configuration, with the fixed responses that carry
 * its headers. Immutable once published (the auth cache inside has its own
 * lock); freed when the last reference goes. */
struct endpoint_web {
    _Atomic unsigned refs;
    uint64_t generation; /* distinct per version: the metrics cache follows it */
    bool has_file;       /* false: no --web.config.file, wc is empty */
    struct webconfig wc;
    struct MHD_Response *index, *not_found, *not_allowed, *unauthorized;
};

struct endpoint {
    struct MHD_Daemon *daemon;
    struct agent *agent;
    char *path;       /* telemetry path, owned */
    char *index_html; /* the page of "/", owned; responses point into it */
    bool tls;         /* the daemon speaks TLS: fixed while it runs */

    pthread_mutex_t lock;             /* the metrics cache and the gzip state */
    uint64_t generation;              /* store generation of the cache */
    uint64_t cache_web;               /* web generation whose headers the cache has */
    struct MHD_Response *cache[2][2]; /* [format][gzip] */
    z_stream zs;                      /* gzip state, reused under the lock */
    bool zs_ready;

    pthread_mutex_t web_lock;      /* what follows, and reloads */
    struct endpoint_web *web;      /* the current version: one reference */
    struct endpoint_web *first;    /* the version MHD started with (it has its PEMs) */
    struct webconfig_watch failed; /* files of the last load that failed */
    uint64_t next_generation;
    struct sonde_ratelimit reload_rl;
    uint64_t reload_error_hash; /* of the last message logged by reload_rl */

    pthread_mutex_t log_lock; /* the rate limits of MHD's messages */
    struct sonde_ratelimit log_rl, tls_rl;
};

/* gzip of `in` with the endpoint's deflate state, reset rather than
 * rebuilt (its quarter megabyte would be mapped and faulted in anew each
 * time); called under the cache lock. Returns a malloc'd buffer and its
 * size in *out_len, or NULL. */
static char *endpoint_gzip(struct endpoint *ep, const char *in, size_t len, size_t *out_len)
{
    z_stream *zs = &ep->zs;
    if (!ep->zs_ready) {
        memset(zs, 0, sizeof(*zs));
        if (deflateInit2(zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return NULL;
        ep->zs_ready = true;
    } else if (deflateReset(zs) != Z_OK) {
        return NULL;
    }
    size_t cap = deflateBound(zs, len) + 32;
    char *out = sonde_xmalloc(cap);
    zs->next_in = (Bytef *)(uintptr_t)in;
    zs->avail_in = (uInt)len;
    zs->next_out = (Bytef *)out;
    zs->avail_out = (uInt)cap;
    if (deflate(zs, Z_FINISH) != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    *out_len = zs->total_out;
    return out;
}

/* Whether Accept-Encoding allows gzip (present and not q=0). */
static bool endpoint_accepts_gzip(const char *header)
{
    if (!header)
        return false;
    for (const char *p = header; (p = strcasestr(p, "gzip")) != NULL; p += 4) {
        bool starts = p == header || p[-1] == ',' || p[-1] == ' ';
        const char *after = p + 4;
        while (*after == ' ')
            after++;
        if (!starts || (*after && *after != ',' && *after != ';'))
            continue;
        const char *q = strstr(after, "q=");
        const char *comma = strchr(after, ',');
        if (q && (!comma || q < comma) && strtod(q + 2, NULL) <= 0)
            return false;
        return true;
    }
    return false;
}

/* ---- versions of the web configuration ---- */

static void endpoint_add_headers(const struct endpoint_web *web, struct MHD_Response *r)
{
    for (size_t i = 0; i < web->wc.nheaders; i++)
        MHD_add_response_header(r, web->wc.headers[i].name, web->wc.headers[i].value);
}

/* A fixed response; `body` outlives it (static, or the endpoint's). */
static struct MHD_Response *endpoint_static(const struct endpoint_web *web, const char *body,
                                            const char *type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)(uintptr_t)body,
                                                             MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    endpoint_add_headers(web, r);
    return r;
}

static void endpoint_web_responses(struct endpoint *ep, struct endpoint_web *web)
{
    web->index = endpoint_static(web, ep->index_html, "text/html; charset=utf-8");
    web->not_found = endpoint_static(web, "404 page not found\n", "text/plain; charset=utf-8");
    web->not_allowed =
        endpoint_static(web, "405 method not allowed\n", "text/plain; charset=utf-8");
    MHD_add_response_header(web->not_allowed, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    web->unauthorized = endpoint_static(web, "Unauthorized\n", "text/plain; charset=utf-8");
    MHD_add_response_header(web->unauthorized, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                            "Basic realm=\"sonde\"");
}

static void endpoint_web_put(struct endpoint_web *web)
{
    if (!web || atomic_fetch_sub(&web->refs, 1) != 1)
        return;
    struct MHD_Response *responses[] = {web->index, web->not_found, web->not_allowed,
                                        web->unauthorized};
    for (size_t i = 0; i < 4; i++)
        if (responses[i])
            MHD_destroy_response(responses[i]);
    if (web->has_file)
        webconfig_free(&web->wc);
    free(web);
}

/* Loads the web configuration file into a new version (not yet published,
 * one reference). NULL on failure, with the messages in `errors`; the files
 * it looked at are then moved into *failed. */
static struct endpoint_web *endpoint_web_load(struct endpoint *ep, const char *path,
                                              struct sonde_buf *errors,
                                              struct webconfig_watch *failed)
{
    struct endpoint_web *web = sonde_xcalloc(1, sizeof(*web));
    atomic_init(&web->refs, 1);
    web->has_file = path && path[0];
    int rc = web->has_file ? webconfig_load(&web->wc, path, errors) : 0;
    if (rc == 0 && ep->daemon && web->wc.tls.enabled != ep->tls) {
        sonde_buf_printf(errors,
                         "%s: tls_server_config turns TLS %s, which takes a restart of the "
                         "endpoint (SIGHUP)\n",
                         path, ep->tls ? "off" : "on");
        rc = -EINVAL;
    }
    if (rc < 0) {
        if (failed)
            webconfig_watch_take(failed, &web->wc);
        web->index = web->not_found = web->not_allowed = web->unauthorized = NULL;
        endpoint_web_put(web);
        return NULL;
    }
    endpoint_web_responses(ep, web);
    web->generation = ++ep->next_generation;
    return web;
}

/* A file changed: publish a new version, or keep the current one and say
 * why. Called under web_lock. */
static void endpoint_web_reload(struct endpoint *ep)
{
    const char *path = ep->agent->config->web_config_file;
    struct sonde_buf errors = {0};
    struct endpoint_web *web = endpoint_web_load(ep, path, &errors, &ep->failed);
    if (!web) {
        /* One line: the messages, FILE:LINE:COLUMN each, joined by "; ". */
        struct sonde_buf line = {0};
        sonde_buf_append(&line, "", 0);
        for (size_t i = 0; i < errors.len; i++) {
            if (errors.data[i] != '\n')
                sonde_buf_append(&line, &errors.data[i], 1);
            else if (i + 1 < errors.len)
                sonde_buf_puts(&line, "; ");
        }
        /* A new mistake is always told; the same one again (a file
         * rewritten in a loop) at most once per period. */
        uint64_t hash = 1469598103934665603ULL;
        for (size_t i = 0; i < line.len; i++)
            hash = (hash ^ (unsigned char)line.data[i]) * 1099511628211ULL;
        if (hash != ep->reload_error_hash)
            ep->reload_rl.last_ns = 0;
        ep->reload_error_hash = hash;
        sonde_log_limited(&ep->reload_rl, ENDPOINT_LOG_PERIOD_S, SONDE_LOG_ERROR,
                          "endpoint: web configuration not reloaded, the previous one stays: %s",
                          line.len ? line.data : path);
        sonde_buf_free(&line);
        sonde_buf_free(&errors);
        return;
    }
    sonde_buf_free(&errors);
    webconfig_watch_free(&ep->failed);
    struct endpoint_web *old = ep->web;
    ep->web = web;
    endpoint_web_put(old);
    sonde_log(SONDE_LOG_INFO, "endpoint: web configuration %s reloaded (%s%zu users, %zu headers)",
              path, web->wc.tls.enabled ? "TLS, " : "", web->wc.nusers, web->wc.nheaders);
}

/* The current version, re-read first if one of its files changed; the
 * caller owns one reference (endpoint_web_put). */
static struct endpoint_web *endpoint_web_get(struct endpoint *ep)
{
    pthread_mutex_lock(&ep->web_lock);
    if (ep->web->has_file && webconfig_watch_changed(&ep->web->wc.watch) &&
        (!ep->failed.paths[WEBCONFIG_FILE] || webconfig_watch_changed(&ep->failed)))
        endpoint_web_reload(ep);
    struct endpoint_web *web = ep->web;
    atomic_fetch_add(&web->refs, 1);
    pthread_mutex_unlock(&ep->web_lock);
    return web;
}

/* MHD calls this when a connection starts (before any TLS handshake) and
 * when it closes. A TLS connection gets the current version's credentials,
 * priorities and client certificate policy, and keeps a reference to that
 * version in its socket context until it closes. */
static void endpoint_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                            enum MHD_ConnectionNotificationCode code)
{
    struct endpoint *ep = cls;
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        endpoint_web_put(*socket_context);
        *socket_context = NULL;
        return;
    }
    *socket_context = NULL;
    if (!ep->tls)
        return;
    struct endpoint_web *web = endpoint_web_get(ep);
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (info && info->tls_session && webconfig_session_setup(&web->wc, info->tls_session) == 0) {
        *socket_context = web;
        return;
    }
    endpoint_web_put(web);
    pthread_mutex_lock(&ep->log_lock);
    sonde_log_limited(&ep->tls_rl, ENDPOINT_LOG_PERIOD_S, SONDE_LOG_ERROR,
                      "endpoint: cannot set up TLS for a connection; it will be refused");
    pthread_mutex_unlock(&ep->log_lock);
}

/* On a TLS daemon, a connection whose set-up failed is closed without an
 * answer: it might run with MHD's defaults rather than the policy. */
static bool endpoint_tls_ready(const struct endpoint *ep, struct MHD_Connection *conn)
{
    if (!ep->tls)
        return true;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info && info->socket_context;
}

/* Basic auth against basic_auth_users; true when the file has none. The
 * password MHD decoded is wiped before it is freed. */
static bool endpoint_authorized(struct endpoint_web *web, struct MHD_Connection *conn)
{
    if (!web->wc.nusers)
        return true;
    char *password = NULL;
    char *user = MHD_basic_auth_get_username_password(conn, &password);
    bool ok = user && password && webconfig_authenticate(&web->wc, user, password);
    if (password) {
        explicit_bzero(password, strlen(password));
        MHD_free(password);
    }
    if (user)
        MHD_free(user);
    return ok;
}

/* ---- requests ---- */

/* Queues the cached response for a format, rendering it first if the store
 * changed (or the web configuration, whose headers it carries). Queued under
 * the cache lock: the queue takes its own reference before a concurrent
 * re-render can drop the cache's. */
static enum MHD_Result endpoint_metrics(struct endpoint *ep, const struct endpoint_web *web,
                                        struct MHD_Connection *conn, enum expo_format format,
                                        bool gzip)
{
    pthread_mutex_lock(&ep->lock);
    uint64_t generation = atomic_load(&ep->agent->store.generation);
    if (generation != ep->generation || web->generation != ep->cache_web) {
        for (int f = 0; f < 2; f++)
            for (int g = 0; g < 2; g++)
                if (ep->cache[f][g]) {
                    MHD_destroy_response(ep->cache[f][g]);
                    ep->cache[f][g] = NULL;
                }
        ep->generation = generation;
        ep->cache_web = web->generation;
    }
    struct MHD_Response **slot = &ep->cache[format][gzip];
    if (!*slot) {
        struct sonde_buf body = {0};
        ep->generation = store_render(&ep->agent->store, &body, format);
        atomic_fetch_add(&ep->agent->renders, 1);
        size_t len = body.len;
        char *data = body.data ? body.data : sonde_xstrdup("");
        if (gzip) {
            size_t zlen;
            char *z = endpoint_gzip(ep, data, len, &zlen);
            if (z) {
                free(data);
                data = z;
                len = zlen;
            } else {
                gzip = false;
            }
        }
        *slot = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
        MHD_add_response_header(*slot, MHD_HTTP_HEADER_CONTENT_TYPE, expo_content_type(format));
        MHD_add_response_header(*slot, MHD_HTTP_HEADER_VARY, "Accept, Accept-Encoding");
        if (gzip)
            MHD_add_response_header(*slot, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
        endpoint_add_headers(web, *slot);
    }
    enum MHD_Result result = MHD_queue_response(conn, MHD_HTTP_OK, *slot);
    pthread_mutex_unlock(&ep->lock);
    return result;
}

/* Answers a complete request with the version of the web configuration
 * current now. */
static enum MHD_Result endpoint_answer(struct endpoint *ep, struct endpoint_web *web,
                                       struct MHD_Connection *conn, const char *url, bool get)
{
    if (!endpoint_authorized(web, conn)) {
        atomic_fetch_add(&ep->agent->scrape_errors, 1);
        return MHD_queue_response(conn, MHD_HTTP_UNAUTHORIZED, web->unauthorized);
    }
    if (!get) {
        atomic_fetch_add(&ep->agent->scrape_errors, 1);
        return MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, web->not_allowed);
    }
    if (strcmp(url, ep->path) == 0) {
        const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
        const char *encoding =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Encoding");
        atomic_fetch_add(&ep->agent->scrapes, 1);
        return endpoint_metrics(ep, web, conn, expo_negotiate(accept),
                                endpoint_accepts_gzip(encoding));
    }
    if (strcmp(url, "/") == 0)
        return MHD_queue_response(conn, MHD_HTTP_OK, web->index);
    atomic_fetch_add(&ep->agent->scrape_errors, 1);
    return MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, web->not_found);
}

static enum MHD_Result endpoint_handle(void *cls, struct MHD_Connection *conn, const char *url,
                                       const char *method, const char *version,
                                       const char *upload_data, size_t *upload_data_size,
                                       void **req_cls)
{
    (void)version;
    (void)upload_data;
    struct endpoint *ep = cls;
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    /* Other methods are answered at once (401 or 405); their bodies are
     * never read, so that connection closes. For GET and HEAD, the first
     * call only announces the request; answering on a later one, once a
     * body (if any) is consumed, keeps the connection alive, as a
     * Prometheus server expects between scrapes. */
    static int first_call_marker;
    if (get && *req_cls != &first_call_marker) {
        *req_cls = &first_call_marker;
        return MHD_YES;
    }
    if (get && *upload_data_size) {
        *upload_data_size = 0; /* a GET body: discarded */
        return MHD_YES;
    }
    if (!endpoint_tls_ready(ep, conn))
        return MHD_NO;
    struct endpoint_web *web = endpoint_web_get(ep);
    enum MHD_Result result = endpoint_answer(ep, web, conn, url, get);
    endpoint_web_put(web);
    return result;
}

/* MHD's own messages (a failed TLS handshake: a plain HTTP client on the
 * TLS port, a refused client certificate ...) can come as fast as anyone
 * can connect: rate-limited. */
static void endpoint_log(void *cls, const char *fmt, va_list ap)
{
    struct endpoint *ep = cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    pthread_mutex_lock(&ep->log_lock);
    sonde_log_limited(&ep->log_rl, ENDPOINT_LOG_PERIOD_S, SONDE_LOG_WARN, "endpoint: %s", msg);
    pthread_mutex_unlock(&ep->log_lock);
}

/* Splits "host:port", "[v6]:port" or ":port". Returns 0 or -EINVAL. */
static int endpoint_parse_address(const char *address, char *host, size_t host_cap, uint16_t *port)
{
    const char *colon = strrchr(address, ':');
    if (!colon)
        return -EINVAL;
    size_t hlen = (size_t)(colon - address);
    const char *h = address;
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen >= host_cap)
        return -EINVAL;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end || p < 0 || p > 65535)
        return -EINVAL;
    *port = (uint16_t)p;
    return 0;
}

/* Resolves the listen address into `addr` and the MHD flags it needs.
 * Returns 0 or -EINVAL (logged). */
static int endpoint_address(const char *listen_address, struct sockaddr_storage *addr,
                            uint16_t *port, unsigned int *flags, bool *has_host)
{
    char host[256];
    if (endpoint_parse_address(listen_address, host, sizeof(host), port) < 0) {
        sonde_log(SONDE_LOG_ERROR, "endpoint: bad listen address \"%s\" (expected host:port)",
                  listen_address);
        return -EINVAL;
    }
    *has_host = host[0] != '\0';
    if (!host[0]) {
        *flags |= MHD_USE_DUAL_STACK;
        return 0;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE},
                    *res;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc) {
        sonde_log(SONDE_LOG_ERROR, "endpoint: cannot resolve %s: %s", host, gai_strerror(rc));
        return -EINVAL;
    }
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (addr->ss_family == AF_INET6) {
        ((struct sockaddr_in6 *)addr)->sin6_port = htons(*port);
        *flags |= MHD_USE_IPv6;
    } else {
        ((struct sockaddr_in *)addr)->sin_port = htons(*port);
    }
    return 0;
}

struct endpoint *endpoint_start(struct agent *agent, const char *listen_address,
                                const char *telemetry_path)
{
    struct sockaddr_storage addr = {0};
    uint16_t port;
    unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    bool has_host;
    if (endpoint_address(listen_address, &addr, &port, &flags, &has_host) < 0)
        return NULL;
    const struct sonde_config *cfg = agent->config;
    struct endpoint *ep = sonde_xcalloc(1, sizeof(*ep));
    ep->agent = agent;
    ep->path = sonde_xstrdup(telemetry_path);
    pthread_mutex_init(&ep->lock, NULL);
    pthread_mutex_init(&ep->web_lock, NULL);
    pthread_mutex_init(&ep->log_lock, NULL);
    size_t page_cap = 512 + strlen(telemetry_path) * 2;
    ep->index_html = sonde_xmalloc(page_cap);
    snprintf(ep->index_html, page_cap,
             "<html><head><title>sonde</title></head><body><h1>sonde</h1>"
             "<p><a href=\"%s\">Metrics</a></p></body></html>\n",
             telemetry_path);

    struct sonde_buf errors = {0};
    ep->web = endpoint_web_load(ep, cfg->web_config_file, &errors, NULL);
    if (!ep->web) {
        sonde_log(SONDE_LOG_ERROR, "endpoint: web configuration %s:\n%s", cfg->web_config_file,
                  errors.data ? errors.data : "");
        sonde_buf_free(&errors);
        endpoint_stop(ep);
        return NULL;
    }
    sonde_buf_free(&errors);
    ep->first = ep->web;
    atomic_fetch_add(&ep->first->refs, 1);
    const struct webconfig_tls *tls = &ep->web->wc.tls;
    ep->tls = tls->enabled;
    /* MHD needs a certificate to start with TLS; each connection then gets
     * the current version's credentials (endpoint_notify). */
    struct MHD_OptionItem tls_options[] = {
        {MHD_OPTION_HTTPS_MEM_KEY, 0, tls->key_pem},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, tls->cert_pem},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, tls->priorities},
        {MHD_OPTION_END, 0, NULL},
    };
    if (ep->tls)
        flags |= MHD_USE_TLS;
    else
        tls_options[0].option = MHD_OPTION_END;

    unsigned int timeout_s = (unsigned int)(cfg->request_timeout_ns / 1000000000);
    ep->daemon = MHD_start_daemon(
        flags, port, NULL, NULL, endpoint_handle, ep, MHD_OPTION_EXTERNAL_LOGGER, endpoint_log, ep,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)cfg->max_connections_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, timeout_s ? timeout_s : 1,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)ENDPOINT_HEADER_MEMORY,
        MHD_OPTION_NOTIFY_CONNECTION, endpoint_notify, ep, MHD_OPTION_THREAD_POOL_SIZE, 2U,
        MHD_OPTION_SOCK_ADDR, has_host ? (struct sockaddr *)&addr : NULL, MHD_OPTION_ARRAY,
        tls_options, MHD_OPTION_END);
    if (!ep->daemon) {
        sonde_log(SONDE_LOG_ERROR, "endpoint: cannot listen on %s: %s", listen_address,
                  strerror(errno));
        endpoint_stop(ep);
        return NULL;
    }
    const struct endpoint_web *web = ep->web;
    sonde_log(SONDE_LOG_INFO, "endpoint: serving %s on %s%s%s", telemetry_path, listen_address,
              ep->tls ? " with TLS" : "", web->wc.nusers ? ", basic auth" : "");
    return ep;
}

void endpoint_stop(struct endpoint *ep)
{
    if (!ep)
        return;
    /* Stopping closes every connection, and with them their references. */
    if (ep->daemon)
        MHD_stop_daemon(ep->daemon);
    for (int f = 0; f < 2; f++)
        for (int g = 0; g < 2; g++)
            if (ep->cache[f][g])
                MHD_destroy_response(ep->cache[f][g]);
    endpoint_web_put(ep->web);
    endpoint_web_put(ep->first);
    webconfig_watch_free(&ep->failed);
    if (ep->zs_ready)
        deflateEnd(&ep->zs);
    pthread_mutex_destroy(&ep->lock);
    pthread_mutex_destroy(&ep->web_lock);
    pthread_mutex_destroy(&ep->log_lock);
    free(ep->index_html);
    free(ep->path);
    free(ep);
}
