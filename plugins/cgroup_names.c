/*
 * cgroup_names.c - container names and images for the cgroup input, from
 * the Docker Engine API (GET /containers/json over /var/run/docker.sock) or
 * Podman's compatible socket, with libcurl and jansson.
 *
 * Design note: a refresh is one request per runtime with a hard deadline
 * (the read that asks waits at most that long); a runtime that failed is
 * not asked again before its refresh period is over, however many new
 * containers appear, so a dead socket costs one connect per period.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cgroup.h"
#include "sonde_dynlib.h"

/* The answer lists every running container (about 2 KiB each); more than
 * this is not an answer we want to hold. */
#define CGROUP_NAMES_MAX_BODY (64u << 20)

struct cgroup_names_runtime {
    char *socket; /* owned; NULL: not asked */
    CURL *curl;   /* kept between refreshes; NULL until the first */
    struct sonde_buf body;
    struct cgroup_name_table table; /* the last good answer */
    bool attempted, ok;             /* the last attempt, and whether it worked */
    int64_t last_attempt_ns;
    unsigned generation; /* successful refreshes */
    long status;         /* HTTP status of the last answer; 0: none */
    struct sonde_ratelimit log;
};

struct cgroup_names {
    struct cgroup_names_runtime rt[CG_RT_N];
    int64_t refresh_ns;
    long timeout_ms;
};

static const char *const cgroup_names_runtime_name[CG_RT_N] = {"docker", "podman"};

/* ------------------------------------------------------------------ */
/* Parsing /containers/json                                             */
/* ------------------------------------------------------------------ */

void cgroup_name_table_free(struct cgroup_name_table *table)
{
    for (size_t i = 0; i < table->n; i++) {
        free(table->items[i].name);
        free(table->items[i].image);
    }
    free(table->items);
    table->items = NULL;
    table->n = 0;
}

static bool cgroup_names_is_id(const char *s)
{
    for (int i = 0; i < 64; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return s[64] == '\0';
}

/* Telegraf's choice among a container's names: the first one that, its
 * leading '/' removed, has no other '/' (the others are legacy links,
 * "/web/db"). */
static const char *cgroup_names_pick(json_t *names)
{
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v)
    {
        const char *s = json_string_value(v);
        if (!s)
            continue;
        if (*s == '/')
            s++;
        if (*s && !strchr(s, '/'))
            return s;
    }
    return "";
}

static int cgroup_names_compare(const void *a, const void *b)
{
    return strcmp(((const struct cgroup_name_entry *)a)->id,
                  ((const struct cgroup_name_entry *)b)->id);
}

int cgroup_names_parse(const char *json, size_t len, struct cgroup_name_table *table,
                       uint64_t *skipped)
{
    json_error_t err;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return -EINVAL;
    if (!json_is_array(root)) {
        json_decref(root);
        return -EINVAL;
    }
    struct cgroup_name_table fresh = {0};
    fresh.items = sonde_xcalloc(json_array_size(root) + 1, sizeof(*fresh.items));
    size_t i;
    json_t *c;
    json_array_foreach(root, i, c)
    {
        const char *id = json_string_value(json_object_get(c, "Id"));
        if (!id || !cgroup_names_is_id(id)) {
            (*skipped)++;
            continue;
        }
        struct cgroup_name_entry *e = &fresh.items[fresh.n++];
        for (int k = 0; k < 64; k++) /* cgroup paths have the id in lower case */
            e->id[k] = (char)tolower((unsigned char)id[k]);
        e->id[64] = '\0';
        e->name = sonde_xstrdup(cgroup_names_pick(json_object_get(c, "Names")));
        const char *image = json_string_value(json_object_get(c, "Image"));
        e->image = sonde_xstrdup(image ? image : "");
    }
    json_decref(root);
    if (fresh.n > 1)
        qsort(fresh.items, fresh.n, sizeof(*fresh.items), cgroup_names_compare);
    cgroup_name_table_free(table);
    *table = fresh;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The runtimes                                                         */
/* ------------------------------------------------------------------ */

struct cgroup_names *cgroup_names_new(const char *docker_socket, const char *podman_socket,
                                      int64_t refresh_ns, long timeout_ms)
{
    struct cgroup_names *names = sonde_xcalloc(1, sizeof(*names));
    const char *sockets[CG_RT_N] = {docker_socket, podman_socket};
    for (int i = 0; i < CG_RT_N; i++)
        if (sockets[i] && sockets[i][0])
            names->rt[i].socket = sonde_xstrdup(sockets[i]);
    names->refresh_ns = refresh_ns;
    names->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
    return names;
}

void cgroup_names_free(struct cgroup_names *names)
{
    if (!names)
        return;
    for (int i = 0; i < CG_RT_N; i++) {
        struct cgroup_names_runtime *rt = &names->rt[i];
        char err[256];
        const struct sonde_curl *cu = rt->curl ? sonde_curl(err, sizeof(err)) : NULL;
        if (cu) /* loaded, since the handle exists */
            cu->easy_cleanup(rt->curl);
        free(rt->socket);
        sonde_buf_free(&rt->body);
        cgroup_name_table_free(&rt->table);
    }
    free(names);
}

bool cgroup_names_due(const struct cgroup_names *names, enum cgroup_runtime rt, int64_t now_ns,
                      bool unknown_id)
{
    const struct cgroup_names_runtime *r = &names->rt[rt];
    if (!r->socket)
        return false;
    if (!r->attempted || now_ns - r->last_attempt_ns >= names->refresh_ns)
        return true;
    return unknown_id && r->ok;
}

unsigned cgroup_names_generation(const struct cgroup_names *names, enum cgroup_runtime rt)
{
    return names->rt[rt].generation;
}

const struct cgroup_name_entry *cgroup_names_find(const struct cgroup_names *names,
                                                  enum cgroup_runtime rt, const char *id)
{
    const struct cgroup_name_table *t = &names->rt[rt].table;
    struct cgroup_name_entry key;
    size_t len = strlen(id);
    if (len != 64 || t->n == 0)
        return NULL;
    memcpy(key.id, id, 65);
    return bsearch(&key, t->items, t->n, sizeof(*t->items), cgroup_names_compare);
}

/* Appends the answer, refusing more than CGROUP_NAMES_MAX_BODY. */
static size_t cgroup_names_write(char *data, size_t size, size_t n, void *arg)
{
    struct sonde_buf *body = arg;
    size_t len = size * n;
    if (body->len + len > CGROUP_NAMES_MAX_BODY)
        return 0; /* libcurl then fails the transfer with CURLE_WRITE_ERROR */
    sonde_buf_append(body, data, len);
    return len;
}

/* One GET /containers/json on the runtime's socket into rt->body; 0 or
 * -errno (-ETIMEDOUT, -ECONNREFUSED, -EPROTO for an HTTP error). */
static int cgroup_names_fetch(struct cgroup_names_runtime *rt, long budget_ms)
{
    /* No socket, no runtime: answered without loading libcurl (megabytes of
     * mapped libraries for a connection that cannot succeed). */
    struct stat st;
    if (stat(rt->socket, &st) < 0 || !S_ISSOCK(st.st_mode))
        return -ECONNREFUSED;
    char err[256];
    const struct sonde_curl *cu = sonde_curl(err, sizeof(err));
    if (!cu) {
        sonde_log_limited(&rt->log, 3600, SONDE_LOG_WARN, "cgroup: no container names: %s", err);
        return -ELIBACC;
    }
    if (!rt->curl) {
        rt->curl = cu->easy_init();
        if (!rt->curl)
            return -ENOMEM;
    }
    CURL *c = rt->curl;
    rt->body.len = 0;
    cu->easy_reset(c);
    cu->easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, rt->socket);
    /* The host part is ignored on a unix socket; Docker wants one anyway. */
    cu->easy_setopt(c, CURLOPT_URL, "http://localhost/containers/json");
    cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    cu->easy_setopt(c, CURLOPT_TIMEOUT_MS, budget_ms);
    cu->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, budget_ms);
    cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, cgroup_names_write);
    cu->easy_setopt(c, CURLOPT_WRITEDATA, &rt->body);
    cu->easy_setopt(c, CURLOPT_USERAGENT, "sonde");
    CURLcode rc = cu->easy_perform(c);
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return -ETIMEDOUT;
    if (rc == CURLE_COULDNT_CONNECT)
        return -ECONNREFUSED;
    if (rc != CURLE_OK)
        return -EIO;
    rt->status = 0;
    cu->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rt->status);
    return rt->status == 200 ? 0 : -EPROTO;
}

int cgroup_names_refresh(struct cgroup_names *names, enum cgroup_runtime which, int64_t now_ns,
                         long budget_ms)
{
    struct cgroup_names_runtime *rt = &names->rt[which];
    if (!rt->socket)
        return -ENOENT;
    if (budget_ms > names->timeout_ms)
        budget_ms = names->timeout_ms;
    rt->attempted = true;
    rt->last_attempt_ns = now_ns;
    rt->ok = false;
    if (budget_ms <= 0)
        return -ETIMEDOUT;
    int rc = cgroup_names_fetch(rt, budget_ms);
    uint64_t skipped = 0;
    if (rc == 0 && cgroup_names_parse(rt->body.data ? rt->body.data : "", rt->body.len, &rt->table,
                                      &skipped) < 0)
        rc = -EBADMSG;
    /* A big answer is not kept between refreshes. */
    if (rt->body.cap > 1u << 20) {
        sonde_buf_free(&rt->body);
        memset(&rt->body, 0, sizeof(rt->body));
    }
    if (rc < 0) {
        char why[64];
        if (rc == -EPROTO)
            snprintf(why, sizeof(why), "answered HTTP %ld", rt->status);
        else if (rc == -EBADMSG)
            snprintf(why, sizeof(why), "answered something that is not a container list");
        else
            snprintf(why, sizeof(why), "%s", strerror(-rc));
        sonde_log_limited(&rt->log, 300, SONDE_LOG_WARN,
                          "cgroup: %s API at %s: %s; container names stay as they were",
                          cgroup_names_runtime_name[which], rt->socket, why);
        return rc;
    }
    rt->ok = true;
    rt->generation++;
    return 0;
}
