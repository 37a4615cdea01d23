/*
 * remote_write.c - output: Prometheus remote_write 1.0 (protobuf with
 * protobuf-c, snappy block compression by the core) to VictoriaMetrics,
 * Mimir, Thanos or Prometheus itself. Each record is one TimeSeries, framed
 * as a WriteRequest field, so any run of records is itself a valid
 * WriteRequest. A series that disappears from an input's next batch gets a
 * stale marker, as a Prometheus server writes one when a target drops it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.pb-c.h"
#include "sonde.h"

/* Prometheus' staleness marker: a NaN with this exact bit pattern. */
#define REMOTE_WRITE_STALE_NAN 0x7ff0000000000002ULL

struct remote_write_config {
    char *url;
    struct sonde_string_map headers;
    struct sonde_string_map basic_auth; /* username, password */
    char *bearer_token;
    struct sonde_string_map external_labels;
    char *instance; /* empty: the host name */
    char *job;
};

static const struct sonde_option remote_write_options[] = {
    {"url", SONDE_OPT_STRING, offsetof(struct remote_write_config, url), NULL, true,
     "remote_write endpoint, e.g. http://127.0.0.1:8428/api/v1/write"},
    {"headers", SONDE_OPT_STRING_MAP, offsetof(struct remote_write_config, headers), NULL, false,
     "extra HTTP headers, e.g. {X-Scope-OrgID: team-a}"},
    {"basic_auth", SONDE_OPT_STRING_MAP, offsetof(struct remote_write_config, basic_auth), NULL,
     false, "{username: u, password: ${VAR}}"},
    {"bearer_token", SONDE_OPT_STRING, offsetof(struct remote_write_config, bearer_token), "",
     false, "Authorization: Bearer token (use ${VAR})"},
    {"external_labels", SONDE_OPT_STRING_MAP, offsetof(struct remote_write_config, external_labels),
     NULL, false, "labels added to every series"},
    {"instance", SONDE_OPT_STRING, offsetof(struct remote_write_config, instance), "", false,
     "value of the instance label; empty: the host name"},
    {"job", SONDE_OPT_STRING, offsetof(struct remote_write_config, job), "sonde", false,
     "value of the job label; empty: none"},
    {NULL},
};

/* The series an input's last batch had: fingerprint and labels, to write
 * stale markers for the ones its next batch lacks. */
struct remote_write_seen {
    uint64_t *fingerprints; /* sorted */
    char **labels;          /* "name\0value\0...\0", parallel to fingerprints; owned */
    size_t n;
};

struct remote_write_input {
    char *name; /* the input instance; owned */
    struct remote_write_seen seen;
};

struct remote_write_state {
    struct sonde_label *external; /* instance, job, external labels; sorted; owned */
    size_t nexternal;
    char **header_lines; /* owned */
    size_t nheaders;
    char *username, *password; /* borrowed from the config */
    char *url;                 /* borrowed */
    struct remote_write_input *inputs;
    size_t ninputs;
};

static int remote_write_label_compare(const void *a, const void *b)
{
    return strcmp(((const struct sonde_label *)a)->key, ((const struct sonde_label *)b)->key);
}

static void remote_write_external(struct remote_write_state *st,
                                  const struct remote_write_config *cfg, const char *hostname)
{
    size_t cap = cfg->external_labels.n + 2;
    st->external = sonde_xcalloc(cap, sizeof(*st->external));
    for (size_t i = 0; i < cfg->external_labels.n; i++) {
        st->external[st->nexternal].key = cfg->external_labels.keys[i];
        st->external[st->nexternal++].value = cfg->external_labels.values[i];
    }
    const char *instance = cfg->instance[0] ? cfg->instance : hostname;
    if (instance && instance[0]) {
        st->external[st->nexternal].key = "instance";
        st->external[st->nexternal++].value = instance;
    }
    if (cfg->job[0]) {
        st->external[st->nexternal].key = "job";
        st->external[st->nexternal++].value = cfg->job;
    }
    qsort(st->external, st->nexternal, sizeof(*st->external), remote_write_label_compare);
}

static int remote_write_init(void **state, const void *config, const struct sonde_context *ctx)
{
    const struct remote_write_config *cfg = config;
    if (strncmp(cfg->url, "http://", 7) != 0 && strncmp(cfg->url, "https://", 8) != 0) {
        sonde_log(SONDE_LOG_ERROR, "output remote_write: url must start with http:// or https://");
        return -EINVAL;
    }
    struct remote_write_state *st = sonde_xcalloc(1, sizeof(*st));
    st->url = cfg->url;
    remote_write_external(st, cfg, ctx->hostname);
    for (size_t i = 0; i < cfg->basic_auth.n; i++) {
        if (strcmp(cfg->basic_auth.keys[i], "username") == 0)
            st->username = cfg->basic_auth.values[i];
        else if (strcmp(cfg->basic_auth.keys[i], "password") == 0)
            st->password = cfg->basic_auth.values[i];
    }
    size_t max = SONDE_REQUEST_MAX_HEADERS - 2;
    if (cfg->headers.n > max) {
        sonde_log(SONDE_LOG_ERROR, "output remote_write: at most %zu headers", max);
        free(st->external);
        free(st);
        return -EINVAL;
    }
    st->header_lines = sonde_xcalloc(cfg->headers.n + 2, sizeof(char *));
    for (size_t i = 0; i < cfg->headers.n; i++) {
        struct sonde_buf line = {0};
        sonde_buf_printf(&line, "%s: %s", cfg->headers.keys[i], cfg->headers.values[i]);
        st->header_lines[st->nheaders++] = line.data;
    }
    if (cfg->bearer_token[0]) {
        struct sonde_buf line = {0};
        sonde_buf_printf(&line, "Authorization: Bearer %s", cfg->bearer_token);
        st->header_lines[st->nheaders++] = line.data;
    }
    *state = st;
    return 0;
}

/* FNV-1a over a series' name and labels: its identity for staleness. */
static uint64_t remote_write_fingerprint(const struct sonde_series *s)
{
    uint64_t h = 1469598103934665603ULL;
    const char *parts[2];
    for (uint32_t i = 0; i <= s->nlabels; i++) {
        parts[0] = i == 0 ? "__name__" : s->labels[i - 1].key;
        parts[1] = i == 0 ? s->family->name : s->labels[i - 1].value;
        for (int k = 0; k < 2; k++) {
            for (const char *c = parts[k]; *c; c++)
                h = (h ^ (unsigned char)*c) * 1099511628211ULL;
            h = (h ^ 0xff) * 1099511628211ULL; /* separator */
        }
    }
    return h;
}

/* Appends varint `v`. */
static void remote_write_varint(struct sonde_buf *out, uint64_t v)
{
    char tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (char)(v & 0x7f);
        v >>= 7;
        if (v)
            tmp[n] |= (char)0x80;
        n++;
    } while (v);
    sonde_buf_append(out, tmp, n);
}

/* Appends one record: WriteRequest field 1 (a TimeSeries) with the given
 * labels (name/value pairs, already sorted) and one sample. */
static void remote_write_record(struct sonde_buf *out, const char **names, const char **values,
                                size_t nlabels, double value, int64_t timestamp_ms)
{
    Prometheus__Label label_storage[64], *label_ptrs[64];
    Prometheus__Label **labels = label_ptrs;
    Prometheus__Label *storage = label_storage;
    if (nlabels > 64) {
        labels = sonde_xmalloc(nlabels * sizeof(*labels));
        storage = sonde_xmalloc(nlabels * sizeof(*storage));
    }
    for (size_t i = 0; i < nlabels; i++) {
        prometheus__label__init(&storage[i]);
        storage[i].name = (char *)(uintptr_t)names[i];
        storage[i].value = (char *)(uintptr_t)values[i];
        labels[i] = &storage[i];
    }
    Prometheus__Sample sample = PROMETHEUS__SAMPLE__INIT;
    Prometheus__Sample *samples[1] = {&sample};
    sample.value = value;
    sample.timestamp = timestamp_ms;
    Prometheus__TimeSeries ts = PROMETHEUS__TIME_SERIES__INIT;
    ts.n_labels = nlabels;
    ts.labels = labels;
    ts.n_samples = 1;
    ts.samples = samples;
    size_t size = prometheus__time_series__get_packed_size(&ts);
    sonde_buf_append(out, "\x0a", 1);
    remote_write_varint(out, size);
    uint8_t small[1024];
    uint8_t *room = size <= sizeof(small) ? small : sonde_xmalloc(size);
    prometheus__time_series__pack(&ts, room);
    sonde_buf_append(out, (const char *)room, size);
    if (room != small)
        free(room);
    if (labels != label_ptrs) {
        free(labels);
        free(storage);
    }
}

/* Merges a series' labels, its name and the external labels, sorted. */
static size_t remote_write_labels(const struct remote_write_state *st, const struct sonde_series *s,
                                  const char **names, const char **values, size_t cap)
{
    size_t n = 0;
    names[n] = "__name__";
    values[n++] = s->family->name;
    for (uint32_t i = 0; i < s->nlabels && n < cap; i++) {
        if (!s->labels[i].value[0])
            continue; /* remote_write 1.0: no empty label values (Prometheus drops them too) */
        names[n] = s->labels[i].key;
        values[n++] = s->labels[i].value;
    }
    for (size_t i = 0; i < st->nexternal && n < cap; i++) {
        bool own = false; /* the series' own label wins over an external one */
        for (uint32_t j = 0; j < s->nlabels; j++)
            own |= strcmp(s->labels[j].key, st->external[i].key) == 0 && s->labels[j].value[0];
        if (!own && st->external[i].value[0]) {
            names[n] = st->external[i].key;
            values[n++] = st->external[i].value;
        }
    }
    /* Insertion sort by name: a few labels, mostly sorted already. */
    for (size_t i = 1; i < n; i++) {
        const char *kn = names[i], *kv = values[i];
        size_t j = i;
        while (j > 0 && strcmp(names[j - 1], kn) > 0) {
            names[j] = names[j - 1];
            values[j] = values[j - 1];
            j--;
        }
        names[j] = kn;
        values[j] = kv;
    }
    return n;
}

static struct remote_write_input *remote_write_input(struct remote_write_state *st,
                                                     const char *name)
{
    for (size_t i = 0; i < st->ninputs; i++)
        if (strcmp(st->inputs[i].name, name) == 0)
            return &st->inputs[i];
    st->inputs = sonde_xrealloc(st->inputs, (st->ninputs + 1) * sizeof(*st->inputs));
    struct remote_write_input *in = &st->inputs[st->ninputs++];
    memset(in, 0, sizeof(*in));
    in->name = sonde_xstrdup(name);
    return in;
}

/* "name\0value\0..." of a record's labels, for a later stale marker. */
static char *remote_write_pack_labels(const char **names, const char **values, size_t n)
{
    struct sonde_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        sonde_buf_append(&b, names[i], strlen(names[i]) + 1);
        sonde_buf_append(&b, values[i], strlen(values[i]) + 1);
    }
    sonde_buf_append(&b, "", 1);
    return b.data;
}

static void remote_write_seen_free(struct remote_write_seen *seen)
{
    for (size_t i = 0; i < seen->n; i++)
        free(seen->labels[i]);
    free(seen->fingerprints);
    free(seen->labels);
    memset(seen, 0, sizeof(*seen));
}

struct remote_write_entry {
    uint64_t fingerprint;
    char *labels;
};

static int remote_write_entry_compare(const void *a, const void *b)
{
    uint64_t x = ((const struct remote_write_entry *)a)->fingerprint;
    uint64_t y = ((const struct remote_write_entry *)b)->fingerprint;
    return x < y ? -1 : x > y;
}

static bool remote_write_seen_has(const struct remote_write_seen *seen, uint64_t fp)
{
    size_t lo = 0, hi = seen->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (seen->fingerprints[mid] < fp)
            lo = mid + 1;
        else if (seen->fingerprints[mid] > fp)
            hi = mid;
        else
            return true;
    }
    return false;
}

/* Stale markers for what `before` had and `now` lacks. */
static size_t remote_write_stale(struct sonde_buf *out, const struct remote_write_seen *before,
                                 const struct remote_write_seen *now, int64_t timestamp_ms)
{
    union {
        uint64_t bits;
        double value;
    } stale = {.bits = REMOTE_WRITE_STALE_NAN};
    size_t written = 0;
    for (size_t i = 0; i < before->n; i++) {
        if (remote_write_seen_has(now, before->fingerprints[i]))
            continue;
        const char *names[128], *values[128];
        size_t n = 0;
        for (const char *p = before->labels[i]; *p && n < 128;) {
            names[n] = p;
            p += strlen(p) + 1;
            values[n++] = p;
            p += strlen(p) + 1;
        }
        remote_write_record(out, names, values, n, stale.value, timestamp_ms);
        written++;
    }
    return written;
}

/* On a reload: stale markers for every series of the inputs that are gone,
 * which no later batch of theirs will ever mark. */
static int remote_write_inputs_gone(void *state, const char *const *remaining, size_t nremaining,
                                    int64_t timestamp_ns, struct sonde_buf *out, size_t *nrecords)
{
    struct remote_write_state *st = state;
    struct remote_write_seen none = {0};
    for (size_t i = 0; i < st->ninputs; i++) {
        bool kept = false;
        for (size_t j = 0; j < nremaining && !kept; j++)
            kept = strcmp(remaining[j], st->inputs[i].name) == 0;
        if (kept)
            continue;
        *nrecords += remote_write_stale(out, &st->inputs[i].seen, &none, timestamp_ns / 1000000);
        remote_write_seen_free(&st->inputs[i].seen);
    }
    return 0;
}

#define REMOTE_WRITE_MAX_LABELS 128

static int remote_write_encode(void *state, const struct sonde_batch *batch, struct sonde_buf *out,
                               size_t *nrecords)
{
    struct remote_write_state *st = state;
    int64_t ts = batch->timestamp_ns / 1000000;
    struct remote_write_entry *entries =
        sonde_xmalloc((batch->nseries ? batch->nseries : 1) * sizeof(*entries));
    const char *names[REMOTE_WRITE_MAX_LABELS], *values[REMOTE_WRITE_MAX_LABELS];
    for (size_t i = 0; i < batch->nseries; i++) {
        const struct sonde_series *s = &batch->series[i];
        size_t n = remote_write_labels(st, s, names, values, REMOTE_WRITE_MAX_LABELS);
        remote_write_record(out, names, values, n, s->value, ts);
        entries[i].fingerprint = remote_write_fingerprint(s);
        entries[i].labels = remote_write_pack_labels(names, values, n);
    }
    *nrecords += batch->nseries;
    qsort(entries, batch->nseries, sizeof(*entries), remote_write_entry_compare);
    struct remote_write_seen now = {0};
    now.fingerprints = sonde_xmalloc((batch->nseries ? batch->nseries : 1) * sizeof(uint64_t));
    now.labels = sonde_xmalloc((batch->nseries ? batch->nseries : 1) * sizeof(char *));
    for (size_t i = 0; i < batch->nseries; i++) {
        if (now.n && now.fingerprints[now.n - 1] == entries[i].fingerprint) {
            free(entries[i].labels); /* the same series twice: keep one */
            continue;
        }
        now.fingerprints[now.n] = entries[i].fingerprint;
        now.labels[now.n++] = entries[i].labels;
    }
    free(entries);
    struct remote_write_input *in = remote_write_input(st, batch->input);
    *nrecords += remote_write_stale(out, &in->seen, &now, ts);
    remote_write_seen_free(&in->seen);
    in->seen = now;
    return 0;
}

/* A record: the 0x0a tag, a varint length, that many bytes. */
static size_t remote_write_record_size(const char *buf, size_t len)
{
    if (len < 2 || buf[0] != 0x0a)
        return len; /* not ours: treat the rest as one record */
    uint64_t size = 0;
    size_t i = 1;
    for (int shift = 0; i < len && shift < 64; shift += 7) {
        unsigned char c = (unsigned char)buf[i++];
        size |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return size > len - i ? len : i + (size_t)size;
    }
    return len;
}

static int remote_write_request(void *state, bool gzip, struct sonde_request *req)
{
    (void)gzip; /* remote_write is always snappy */
    struct remote_write_state *st = state;
    req->url = st->url;
    req->content_type = "application/x-protobuf";
    req->compression = SONDE_COMPRESS_SNAPPY;
    req->username = st->username;
    req->password = st->password;
    size_t h = 0;
    req->headers[h++] = "X-Prometheus-Remote-Write-Version: 0.1.0";
    for (size_t i = 0; i < st->nheaders && h < SONDE_REQUEST_MAX_HEADERS - 1; i++)
        req->headers[h++] = st->header_lines[i];
    req->headers[h] = NULL;
    return 0;
}

static void remote_write_destroy(void *state)
{
    struct remote_write_state *st = state;
    for (size_t i = 0; i < st->ninputs; i++) {
        remote_write_seen_free(&st->inputs[i].seen);
        free(st->inputs[i].name);
    }
    free(st->inputs);
    for (size_t i = 0; i < st->nheaders; i++)
        free(st->header_lines[i]);
    free(st->header_lines);
    free(st->external);
    free(st);
}

static const struct sonde_push remote_write_push = {
    .unit = "samples",                       /* one record per sample */
    .gzip_default = false,                   /* snappy, always */
    .series = true,                          /* encodes the Prometheus series */
    .encode = remote_write_encode,           /* TimeSeries records, stale markers */
    .record_size = remote_write_record_size, /* tag, varint length, bytes */
    .request = remote_write_request,         /* protobuf, snappy, version header */
    .rejected = NULL,                        /* a 4xx refuses the whole request */
    .inputs_gone = remote_write_inputs_gone, /* stale markers on reload */
};

const struct sonde_plugin sonde_plugin_remote_write = {
    .name = "remote_write",                                      /* configuration key */
    .kind = SONDE_OUTPUT,                                        /* an output */
    .summary = "Prometheus remote_write 1.0 (protobuf, snappy)", /* for --help and docs */
    .config_size = sizeof(struct remote_write_config),           /* options land here */
    .options = remote_write_options,                             /* url, headers, auth, labels */
    .init = remote_write_init,                                   /* external labels, headers */
    .read = NULL,                                                /* not an input */
    .write = NULL,                                               /* the core sends */
    .push = &remote_write_push,                                  /* encoding and request */
    .destroy = remote_write_destroy,                             /* frees the series memory */
};
