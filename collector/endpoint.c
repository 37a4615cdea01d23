/*
 * endpoint.c - the Prometheus scrape endpoint on libmicrohttpd. Design note:
 * - A scrape never triggers a collection: it serves the store.
 * - Bodies are cached per (format, gzip) as MHD responses, which are
 *   reference counted, so one rendering serves every scrape until the store
 *   changes; a response still being sent survives its replacement.
 * - Only GET and HEAD of the telemetry path (and "/", a small page linking
 *   to it) are served; other paths get 404, other methods 405.
 * - Limits: connections, idle time per connection, request header memory.
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

#define ENDPOINT_HEADER_MEMORY (32 * 1024)

struct endpoint {
    struct MHD_Daemon *daemon;
    struct agent *agent;
    char *path; /* telemetry path, owned */
    pthread_mutex_t lock;
    uint64_t generation;              /* store generation of the cache */
    struct MHD_Response *cache[2][2]; /* [format][gzip] */
    struct MHD_Response *index, *not_found, *not_allowed;
    z_stream zs; /* gzip state, reused under the lock */
    bool zs_ready;
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

static struct MHD_Response *endpoint_static(const char *body, const char *type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)(uintptr_t)body,
                                                             MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    return r;
}

/* Queues the cached response for a format, rendering it first if the store
 * changed. Queued under the cache lock: the queue takes its own reference
 * before a concurrent re-render can drop the cache's. */
static enum MHD_Result endpoint_metrics(struct endpoint *ep, struct MHD_Connection *conn,
                                        enum expo_format format, bool gzip)
{
    pthread_mutex_lock(&ep->lock);
    uint64_t generation = atomic_load(&ep->agent->store.generation);
    if (generation != ep->generation) {
        for (int f = 0; f < 2; f++)
            for (int g = 0; g < 2; g++)
                if (ep->cache[f][g]) {
                    MHD_destroy_response(ep->cache[f][g]);
                    ep->cache[f][g] = NULL;
                }
        ep->generation = generation;
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
    }
    enum MHD_Result result = MHD_queue_response(conn, MHD_HTTP_OK, *slot);
    pthread_mutex_unlock(&ep->lock);
    return result;
}

static enum MHD_Result endpoint_handle(void *cls, struct MHD_Connection *conn, const char *url,
                                       const char *method, const char *version,
                                       const char *upload_data, size_t *upload_data_size,
                                       void **req_cls)
{
    (void)version;
    (void)upload_data;
    struct endpoint *ep = cls;
    /* Other methods are refused at once; their bodies are never read, so
     * that connection closes. */
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        atomic_fetch_add(&ep->agent->scrape_errors, 1);
        return MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, ep->not_allowed);
    }
    /* The first call only announces the request; answering on a later one,
     * once a body (if any) is consumed, keeps the connection alive, as a
     * Prometheus server expects between scrapes. */
    static int first_call_marker;
    if (*req_cls != &first_call_marker) {
        *req_cls = &first_call_marker;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0; /* a GET body: discarded */
        return MHD_YES;
    }
    if (strcmp(url, ep->path) == 0) {
        const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
        const char *encoding =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Encoding");
        atomic_fetch_add(&ep->agent->scrapes, 1);
        return endpoint_metrics(ep, conn, expo_negotiate(accept), endpoint_accepts_gzip(encoding));
    }
    if (strcmp(url, "/") == 0)
        return MHD_queue_response(conn, MHD_HTTP_OK, ep->index);
    atomic_fetch_add(&ep->agent->scrape_errors, 1);
    return MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, ep->not_found);
}

static void endpoint_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    sonde_log(SONDE_LOG_WARN, "endpoint: %s", msg);
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

struct endpoint *endpoint_start(struct agent *agent, const char *listen_address,
                                const char *telemetry_path)
{
    char host[256];
    uint16_t port;
    if (endpoint_parse_address(listen_address, host, sizeof(host), &port) < 0) {
        sonde_log(SONDE_LOG_ERROR, "endpoint: bad listen address \"%s\" (expected host:port)",
                  listen_address);
        return NULL;
    }
    struct sockaddr_storage addr = {0};
    unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (host[0]) {
        struct addrinfo hints = {.ai_family = AF_UNSPEC,
                                 .ai_socktype = SOCK_STREAM,
                                 .ai_flags = AI_PASSIVE},
                        *res;
        int rc = getaddrinfo(host, NULL, &hints, &res);
        if (rc) {
            sonde_log(SONDE_LOG_ERROR, "endpoint: cannot resolve %s: %s", host, gai_strerror(rc));
            return NULL;
        }
        memcpy(&addr, res->ai_addr, res->ai_addrlen);
        freeaddrinfo(res);
        if (addr.ss_family == AF_INET6) {
            ((struct sockaddr_in6 *)&addr)->sin6_port = htons(port);
            flags |= MHD_USE_IPv6;
        } else {
            ((struct sockaddr_in *)&addr)->sin_port = htons(port);
        }
    } else {
        flags |= MHD_USE_DUAL_STACK;
    }
    struct endpoint *ep = sonde_xcalloc(1, sizeof(*ep));
    ep->agent = agent;
    ep->path = sonde_xstrdup(telemetry_path);
    pthread_mutex_init(&ep->lock, NULL);
    char *page = sonde_xmalloc(512 + strlen(telemetry_path) * 2);
    snprintf(page, 512 + strlen(telemetry_path) * 2,
             "<html><head><title>sonde</title></head><body><h1>sonde</h1>"
             "<p><a href=\"%s\">Metrics</a></p></body></html>\n",
             telemetry_path);
    ep->index = MHD_create_response_from_buffer(strlen(page), page, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(ep->index, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    ep->not_found = endpoint_static("404 page not found\n", "text/plain; charset=utf-8");
    ep->not_allowed = endpoint_static("405 method not allowed\n", "text/plain; charset=utf-8");
    MHD_add_response_header(ep->not_allowed, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");

    const struct sonde_config *cfg = agent->config;
    unsigned int timeout_s = (unsigned int)(cfg->request_timeout_ns / 1000000000);
    ep->daemon = MHD_start_daemon(
        flags, port, NULL, NULL, endpoint_handle, ep, MHD_OPTION_EXTERNAL_LOGGER, endpoint_log,
        NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, timeout_s ? timeout_s : 1,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)ENDPOINT_HEADER_MEMORY,
        MHD_OPTION_THREAD_POOL_SIZE, 2U, MHD_OPTION_SOCK_ADDR,
        host[0] ? (struct sockaddr *)&addr : NULL, MHD_OPTION_END);
    if (!ep->daemon) {
        sonde_log(SONDE_LOG_ERROR, "endpoint: cannot listen on %s: %s", listen_address,
                  strerror(errno));
        endpoint_stop(ep);
        return NULL;
    }
    sonde_log(SONDE_LOG_INFO, "endpoint: serving %s on %s", telemetry_path, listen_address);
    return ep;
}

void endpoint_stop(struct endpoint *ep)
{
    if (!ep)
        return;
    if (ep->daemon)
        MHD_stop_daemon(ep->daemon);
    for (int f = 0; f < 2; f++)
        for (int g = 0; g < 2; g++)
            if (ep->cache[f][g])
                MHD_destroy_response(ep->cache[f][g]);
    MHD_destroy_response(ep->index);
    MHD_destroy_response(ep->not_found);
    MHD_destroy_response(ep->not_allowed);
    if (ep->zs_ready)
        deflateEnd(&ep->zs);
    pthread_mutex_destroy(&ep->lock);
    free(ep->path);
    free(ep);
}
