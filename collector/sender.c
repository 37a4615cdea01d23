/*
 * sender.c - one thread per push output, between its queue and its backend.
 * Design note:
 * - A batch is the oldest chunks of the queue, up to batch_size records;
 *   it leaves the queue only when the backend has answered for it (2xx:
 *   delivered; 400/404/422 and other final 4xx: rejected and counted), so a
 *   dead backend fills the queue, never loses it, and order is kept.
 * - Network errors, 429 and 5xx keep the batch and retry with exponential
 *   backoff and jitter, honouring Retry-After; 401/403 keep it too, log
 *   loudly and retry at the backoff ceiling.
 * - 413 splits the request at a record boundary and sends the halves; a
 *   single record too large is rejected. The sender keeps the batch across
 *   retries with how much of it was answered for, so a half delivered is
 *   never sent again.
 * - On stop, the thread goes on sending for at most the flush timeout,
 *   without backoff sleeps beyond it; the rest stays queued (spooled).
 */
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "core.h"
#include "sender.h"
#include "sonde_dynlib.h"

#define SENDER_BACKOFF_BASE_NS 500000000LL /* first retry after about 0.5 s */
#define SENDER_BODY_MAX        65536       /* answer bytes kept for diagnostics */

struct sender {
    char *name; /* owned */
    const struct sonde_plugin *plugin;
    void *state;
    const struct push_options *opt;
    struct outq *queue;

    struct sonde_request req;
    const struct sonde_curl *cu;       /* libcurl, loaded by sender_start */
    const struct sonde_snappy *snappy; /* loaded when the output compresses with it */
    CURL *curl;
    struct curl_slist *headers;
    char *userpwd; /* "user:password", owned */

    pthread_t thread;
    _Atomic bool stop;
    _Atomic int64_t stop_deadline_ns; /* monotonic */

    struct sonde_buf answer; /* body of the last answer, bounded */
    long retry_after_s;      /* from the last answer; -1 none */
    unsigned random_state;

    struct sender_stats stats;
    struct sonde_ratelimit log_fail, log_auth, log_reject;
};

int64_t sender_backoff(int attempt, int64_t base_ns, int64_t ceiling_ns, double random)
{
    double delay = (double)base_ns * pow(2.0, attempt > 1 ? attempt - 1 : 0);
    if (delay > (double)ceiling_ns)
        delay = (double)ceiling_ns;
    delay *= 1.0 - 0.2 * random; /* jitter: spread a fleet's retries */
    return (int64_t)delay;
}

enum sender_verdict sender_classify(long status)
{
    if (status >= 200 && status < 300)
        return SEND_DELIVERED;
    if (status == 413)
        return SEND_SPLIT;
    if (status == 401 || status == 403)
        return SEND_AUTH;
    if (status == 429 || status == 408 || status >= 500 || status <= 0)
        return SEND_RETRY;
    return SEND_REJECTED; /* 400, 404, 422 and the other final answers */
}

long sender_retry_after(const char *value, long now_s)
{
    while (*value == ' ')
        value++;
    char *end;
    long seconds = strtol(value, &end, 10);
    if (end != value && (*end == '\0' || *end == '\r' || *end == '\n' || *end == ' '))
        return seconds < 0 ? -1 : seconds;
    char err[256];
    const struct sonde_curl *cu = sonde_curl(err, sizeof(err));
    time_t when = cu ? cu->getdate(value, NULL) : -1;
    if (when < 0)
        return -1;
    return when > now_s ? (long)(when - now_s) : 0;
}

static size_t sender_on_body(char *data, size_t size, size_t n, void *arg)
{
    struct sender *s = arg;
    size_t len = size * n;
    if (s->answer.len < SENDER_BODY_MAX) {
        size_t keep = SENDER_BODY_MAX - s->answer.len;
        sonde_buf_append(&s->answer, data, len < keep ? len : keep);
    }
    return len;
}

static size_t sender_on_header(char *data, size_t size, size_t n, void *arg)
{
    struct sender *s = arg;
    size_t len = size * n;
    if (len > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
        char value[128];
        size_t vlen = len - 12 < sizeof(value) - 1 ? len - 12 : sizeof(value) - 1;
        memcpy(value, data + 12, vlen);
        value[vlen] = '\0';
        s->retry_after_s = sender_retry_after(value, (long)time(NULL));
    }
    return len;
}

/* gzip at the fastest level: the CPU is the agent's host's. */
static int sender_gzip(const char *in, size_t len, struct sonde_buf *out)
{
    z_stream zs = {0};
    if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    size_t cap = deflateBound(&zs, len) + 32;
    out->len = 0;
    sonde_buf_append(out, "", 0);
    out->data = sonde_xrealloc(out->data, cap);
    out->cap = cap;
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)out->data;
    zs.avail_out = (uInt)cap;
    int rc = deflate(&zs, Z_FINISH);
    out->len = zs.total_out;
    deflateEnd(&zs);
    return rc == Z_STREAM_END ? 0 : -EIO;
}

static int sender_snappy(const struct sender *s, const char *in, size_t len, struct sonde_buf *out)
{
    size_t cap = s->snappy->max_compressed_length(len);
    out->data = sonde_xrealloc(out->data, cap + 1);
    out->cap = cap + 1;
    size_t outlen = cap;
    if (s->snappy->compress(in, len, out->data, &outlen) != 0) /* SNAPPY_OK */
        return -EIO;
    out->len = outlen;
    return 0;
}

/* One POST. Returns the HTTP status, or 0 for a transport error. */
static long sender_post(struct sender *s, const char *body, size_t len)
{
    struct sonde_buf packed = {0};
    const char *data = body;
    size_t data_len = len;
    int rc = 0;
    if (s->req.compression == SONDE_COMPRESS_GZIP)
        rc = sender_gzip(body, len, &packed);
    else if (s->req.compression == SONDE_COMPRESS_SNAPPY)
        rc = sender_snappy(s, body, len, &packed);
    if (rc < 0) {
        sonde_buf_free(&packed);
        return 0;
    }
    if (s->req.compression != SONDE_COMPRESS_NONE) {
        data = packed.data;
        data_len = packed.len;
    }
    s->answer.len = 0;
    s->retry_after_s = -1;
    s->cu->easy_setopt(s->curl, CURLOPT_POSTFIELDS, data);
    s->cu->easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)data_len);
    int64_t start = clock_monotonic_ns();
    CURLcode cc = s->cu->easy_perform(s->curl);
    atomic_store(&s->stats.last_duration_ns, clock_monotonic_ns() - start);
    atomic_fetch_add(&s->stats.requests, 1);
    sonde_buf_free(&packed);
    if (cc != CURLE_OK) {
        sonde_log_limited(&s->log_fail, 60, SONDE_LOG_WARN, "output %s: %s: %s", s->name,
                          s->req.url, s->cu->easy_strerror(cc));
        return 0;
    }
    long status = 0;
    s->cu->easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

/* Where to cut `body` near its middle, at a record boundary; 0 if it holds
 * one record. */
static size_t sender_split_point(const struct sender *s, const char *body, size_t len)
{
    size_t off = 0, cut = 0;
    while (off < len) {
        size_t n = s->plugin->push->record_size(body + off, len - off);
        if (n == 0 || n > len - off)
            break;
        off += n;
        if (off >= len / 2) {
            cut = off < len ? off : cut;
            break;
        }
        cut = off;
    }
    return cut;
}

static size_t sender_count_records(const struct sender *s, const char *body, size_t len)
{
    size_t off = 0, n = 0;
    while (off < len) {
        size_t r = s->plugin->push->record_size(body + off, len - off);
        if (r == 0 || r > len - off)
            break;
        off += r;
        n++;
    }
    return n;
}

/* Records a finished part: delivered, or refused (`dropped` of them). */
static void sender_account(struct sender *s, size_t nrecords, size_t dropped, bool delivered)
{
    atomic_fetch_add(&s->stats.rejected_records, dropped);
    atomic_fetch_add(&s->stats.sent_records, nrecords - dropped);
    if (delivered)
        atomic_store(&s->stats.last_success_ns, clock_realtime_ns());
}

/* Sends body[0..len) holding `nrecords`; splits on 413. *done and
 * *done_records grow by the leading bytes and records the backend has
 * answered for (delivered or refused), so a retry resends only the rest.
 * Returns the verdict for the whole. */
static enum sender_verdict sender_send(struct sender *s, const char *body, size_t len,
                                       size_t nrecords, size_t *done, size_t *done_records)
{
    long status = sender_post(s, body, len);
    enum sender_verdict v = sender_classify(status);
    if (v == SEND_SPLIT) {
        size_t cut = sender_split_point(s, body, len);
        if (cut == 0 || cut >= len) {
            sonde_log_limited(&s->log_reject, 60, SONDE_LOG_WARN,
                              "output %s: a single record of %zu bytes is too large (413): "
                              "dropped",
                              s->name, len);
            sender_account(s, nrecords, nrecords, false);
            *done += len;
            *done_records += nrecords;
            return SEND_REJECTED;
        }
        size_t first = sender_count_records(s, body, cut);
        enum sender_verdict a = sender_send(s, body, cut, first, done, done_records);
        if (a == SEND_RETRY || a == SEND_AUTH)
            return a;
        enum sender_verdict b =
            sender_send(s, body + cut, len - cut, nrecords - first, done, done_records);
        return b == SEND_RETRY || b == SEND_AUTH ? b : SEND_DELIVERED;
    }
    if (v == SEND_DELIVERED) {
        sender_account(s, nrecords, 0, true);
    } else if (v == SEND_REJECTED) {
        size_t dropped = nrecords;
        if (s->plugin->push->rejected)
            dropped = s->plugin->push->rejected(s->state, status,
                                                s->answer.data ? s->answer.data : "", nrecords);
        sender_account(s, nrecords, dropped, false);
        sonde_log_limited(&s->log_reject, 60, SONDE_LOG_WARN,
                          "output %s: HTTP %ld: %zu of %zu %s rejected: %.200s", s->name, status,
                          dropped, nrecords, s->plugin->push->unit,
                          s->answer.data ? s->answer.data : "");
    } else if (v == SEND_AUTH) {
        sonde_log_limited(&s->log_auth, 30, SONDE_LOG_ERROR,
                          "output %s: HTTP %ld: credentials refused by %s; keeping the data and "
                          "retrying",
                          s->name, status, s->req.url);
        return v;
    } else {
        if (status > 0)
            sonde_log_limited(&s->log_fail, 60, SONDE_LOG_WARN, "output %s: HTTP %ld: will retry",
                              s->name, status);
        return v;
    }
    *done += len;
    *done_records += nrecords;
    return v;
}

static bool sender_stopping_past_deadline(struct sender *s)
{
    return atomic_load(&s->stop) && clock_monotonic_ns() >= atomic_load(&s->stop_deadline_ns);
}

/* Sleeps `ns` unless stopping (then only until the flush deadline). */
static void sender_sleep(struct sender *s, int64_t ns)
{
    int64_t until = clock_monotonic_ns() + ns;
    if (atomic_load(&s->stop)) {
        int64_t deadline = atomic_load(&s->stop_deadline_ns);
        if (until > deadline)
            until = deadline;
    }
    outq_wait(s->queue, SIZE_MAX, until);
}

static void *sender_main(void *arg)
{
    struct sender *s = arg;
    const struct push_options *o = s->opt;
    size_t batch_size = (size_t)o->batch_size;
    int64_t last_flush = clock_monotonic_ns();
    int attempt = 0;
    /* The batch being sent, kept across retries with how much of it the
     * backend already answered for: a retry never resends a delivered part. */
    struct outq_batch b = {0};
    bool have = false;
    size_t done = 0, done_records = 0;
    uint64_t dropped_at_peek = 0; /* chunks the queue had dropped when `b` was taken */
    for (;;) {
        bool stopping = atomic_load(&s->stop);
        if (sender_stopping_past_deadline(s))
            break;
        if (!have) {
            size_t pending = outq_pending(s->queue);
            if (stopping && pending == 0)
                break;
            int64_t now = clock_monotonic_ns();
            if (!stopping && pending < batch_size && now < last_flush + o->flush_interval_ns) {
                outq_wait(s->queue, batch_size, last_flush + o->flush_interval_ns);
                continue;
            }
            if (!outq_peek(s->queue, batch_size, &b)) {
                last_flush = clock_monotonic_ns();
                continue;
            }
            have = true;
            done = done_records = 0;
            struct outq_stats qs;
            outq_get_stats(s->queue, &qs);
            dropped_at_peek = qs.dropped_chunks;
        } else {
            /* Retrying: if the full queue dropped its oldest chunks meanwhile,
             * the held copy starts with data already counted as dropped; take
             * the queue's head again, so what survives is the newest. */
            struct outq_stats qs;
            outq_get_stats(s->queue, &qs);
            if (qs.dropped_chunks != dropped_at_peek) {
                outq_batch_free(&b);
                have = false;
                continue;
            }
        }
        enum sender_verdict v = sender_send(s, b.data + done, b.len - done,
                                            b.nrecords - done_records, &done, &done_records);
        if (v == SEND_DELIVERED || v == SEND_REJECTED) {
            outq_commit(s->queue, b.end);
            outq_batch_free(&b);
            have = false;
            attempt = 0;
            if (outq_pending(s->queue) < batch_size)
                last_flush = clock_monotonic_ns();
            continue;
        }
        atomic_fetch_add(&s->stats.retries, 1);
        attempt++;
        double random = (double)rand_r(&s->random_state) / RAND_MAX;
        int64_t delay = v == SEND_AUTH ? o->max_retry_interval_ns
                                       : sender_backoff(attempt, SENDER_BACKOFF_BASE_NS,
                                                        o->max_retry_interval_ns, random);
        if (s->retry_after_s >= 0) {
            int64_t asked = (int64_t)s->retry_after_s * 1000000000LL;
            delay = asked > o->max_retry_interval_ns ? o->max_retry_interval_ns : asked;
        }
        sender_sleep(s, delay);
    }
    /* Stopped with a batch half answered for: the rest stays queued (its
     * answered part may be sent again by the next run, never lost). */
    if (have)
        outq_batch_free(&b);
    return NULL;
}

/* The easy handle, reused for every request (connections are kept). */
static int sender_setup_curl(struct sender *s)
{
    s->curl = s->cu->easy_init();
    if (!s->curl)
        return -ENOMEM;
    const struct push_options *o = s->opt;
    CURL *c = s->curl;
    s->cu->easy_setopt(c, CURLOPT_URL, s->req.url);
    s->cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    s->cu->easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(o->timeout_ns / 1000000));
    s->cu->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->timeout_ns / 1000000));
    s->cu->easy_setopt(c, CURLOPT_USERAGENT, "sonde/" SONDE_VERSION);
    s->cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, sender_on_body);
    s->cu->easy_setopt(c, CURLOPT_WRITEDATA, s);
    s->cu->easy_setopt(c, CURLOPT_HEADERFUNCTION, sender_on_header);
    s->cu->easy_setopt(c, CURLOPT_HEADERDATA, s);
    s->cu->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (o->ca_file && o->ca_file[0])
        s->cu->easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    if (o->cert_file && o->cert_file[0])
        s->cu->easy_setopt(c, CURLOPT_SSLCERT, o->cert_file);
    if (o->key_file && o->key_file[0])
        s->cu->easy_setopt(c, CURLOPT_SSLKEY, o->key_file);
    if (o->insecure_skip_verify) {
        s->cu->easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        s->cu->easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (s->req.username && s->req.username[0]) {
        s->cu->easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        s->cu->easy_setopt(c, CURLOPT_USERNAME, s->req.username);
        s->cu->easy_setopt(c, CURLOPT_PASSWORD, s->req.password ? s->req.password : "");
    }
    char line[256];
    if (s->req.content_type) {
        snprintf(line, sizeof(line), "Content-Type: %s", s->req.content_type);
        s->headers = s->cu->slist_append(s->headers, line);
    }
    if (s->req.compression == SONDE_COMPRESS_GZIP)
        s->headers = s->cu->slist_append(s->headers, "Content-Encoding: gzip");
    else if (s->req.compression == SONDE_COMPRESS_SNAPPY)
        s->headers = s->cu->slist_append(s->headers, "Content-Encoding: snappy");
    s->headers = s->cu->slist_append(s->headers, "Expect:"); /* no 100-continue round trip */
    for (size_t i = 0; i < SONDE_REQUEST_MAX_HEADERS && s->req.headers[i]; i++)
        s->headers = s->cu->slist_append(s->headers, s->req.headers[i]);
    s->cu->easy_setopt(c, CURLOPT_HTTPHEADER, s->headers);
    return 0;
}

struct sender *sender_start(const char *name, const struct sonde_plugin *plugin, void *state,
                            const struct push_options *options, struct outq *queue)
{
    struct sender *s = sonde_xcalloc(1, sizeof(*s));
    s->name = sonde_xstrdup(name);
    s->plugin = plugin;
    s->state = state;
    s->opt = options;
    s->queue = queue;
    s->random_state = (unsigned)clock_monotonic_ns();
    int rc = plugin->push->request(state, options->gzip, &s->req);
    char err[256] = "";
    if (rc == 0 && !(s->cu = sonde_curl(err, sizeof(err))))
        rc = -ELIBACC;
    if (rc == 0 && s->req.compression == SONDE_COMPRESS_SNAPPY &&
        !(s->snappy = sonde_snappy(err, sizeof(err))))
        rc = -ELIBACC;
    if (rc == 0)
        rc = sender_setup_curl(s);
    if (rc == 0)
        rc = -pthread_create(&s->thread, NULL, sender_main, s);
    if (rc < 0) {
        sonde_log(SONDE_LOG_ERROR, "output %s: cannot start its sender: %s", name,
                  err[0] ? err : strerror(-rc));
        if (s->cu) {
            s->cu->slist_free_all(s->headers);
            if (s->curl)
                s->cu->easy_cleanup(s->curl);
        }
        free(s->name);
        free(s);
        return NULL;
    }
    return s;
}

void sender_stop(struct sender *s, int64_t flush_ns, struct sender_totals *final)
{
    if (!s)
        return;
    atomic_store(&s->stop_deadline_ns, clock_monotonic_ns() + flush_ns);
    atomic_store(&s->stop, true);
    outq_wake(s->queue);
    pthread_join(s->thread, NULL);
    if (final) {
        final->sent_records = atomic_load(&s->stats.sent_records);
        final->rejected_records = atomic_load(&s->stats.rejected_records);
        final->retries = atomic_load(&s->stats.retries);
        final->requests = atomic_load(&s->stats.requests);
        final->last_success_ns = atomic_load(&s->stats.last_success_ns);
    }
    s->cu->slist_free_all(s->headers);
    s->cu->easy_cleanup(s->curl);
    sonde_buf_free(&s->answer);
    free(s->name);
    free(s);
}

void sender_carry_over(struct sender *s, const struct sender_totals *before)
{
    atomic_fetch_add(&s->stats.sent_records, before->sent_records);
    atomic_fetch_add(&s->stats.rejected_records, before->rejected_records);
    atomic_fetch_add(&s->stats.retries, before->retries);
    atomic_fetch_add(&s->stats.requests, before->requests);
    /* Unless the new sender has delivered already. */
    int64_t none = 0;
    atomic_compare_exchange_strong(&s->stats.last_success_ns, &none, before->last_success_ns);
}

const struct sender_stats *sender_stats(const struct sender *s)
{
    return &s->stats;
}
