/*
 * sonde.h - the plugin API: what an input or output plugin may use, and
 * nothing else. A plugin file includes this header only; the core provides
 * the implementations (collector/).
 *
 * Memory policy: allocation failure is fatal (sonde_oom aborts with a log
 * line), so no function here returns NULL for lack of memory. Errors are 0
 * or a negative errno value.
 */
#ifndef SONDE_H
#define SONDE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SONDE_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ------------------------------------------------------------------ */
/* Logging                                                              */
/* ------------------------------------------------------------------ */

enum sonde_log_level { SONDE_LOG_ERROR, SONDE_LOG_WARN, SONDE_LOG_INFO, SONDE_LOG_DEBUG };

void sonde_log(enum sonde_log_level level, const char *fmt, ...) SONDE_PRINTF(2, 3);

/* A rate limiter for one recurring message: at most one line per `period_s`
 * seconds; the number of suppressed lines is appended to the next one. */
struct sonde_ratelimit {
    int64_t last_ns;
    uint64_t suppressed;
};
void sonde_log_limited(struct sonde_ratelimit *rl, int period_s, enum sonde_log_level level,
                       const char *fmt, ...) SONDE_PRINTF(4, 5);

/* ------------------------------------------------------------------ */
/* Arena: per-batch allocations, freed all at once by the core.         */
/* ------------------------------------------------------------------ */

struct sonde_arena;

/* An arena of the plugin's own, for what it keeps between reads (a batch
 * has one already); reset empties it, keeping its largest chunk. */
struct sonde_arena *sonde_arena_new(void);
void sonde_arena_reset(struct sonde_arena *arena);
void sonde_arena_free(struct sonde_arena *arena);

/* Returns zeroed memory owned by the arena, aligned for any type. */
void *sonde_arena_alloc(struct sonde_arena *arena, size_t size);
/* Copies `s` (or its first `len` bytes) into the arena, NUL-terminated. */
char *sonde_arena_strdup(struct sonde_arena *arena, const char *s);
char *sonde_arena_strndup(struct sonde_arena *arena, const char *s, size_t len);
char *sonde_arena_printf(struct sonde_arena *arena, const char *fmt, ...) SONDE_PRINTF(2, 3);

/* Heap helpers with the fatal-on-OOM policy; free with free(). */
void *sonde_xmalloc(size_t size);
void *sonde_xcalloc(size_t n, size_t size);
void *sonde_xrealloc(void *p, size_t size);
char *sonde_xstrdup(const char *s);

/* ------------------------------------------------------------------ */
/* Metric model                                                         */
/* ------------------------------------------------------------------ */

/* Prometheus side: a family is a metric name with its type and help.
 * Families are static tables in the plugin (or live in a batch arena);
 * a batch borrows them. */
enum sonde_metric_type { SONDE_GAUGE, SONDE_COUNTER, SONDE_UNTYPED, SONDE_INFO };

struct sonde_family {
    const char *name;            /* node_cpu_seconds_total; counters end in _total */
    enum sonde_metric_type type; /* counter, gauge, ... */
    const char *help;            /* one line, for # HELP */
};

struct sonde_label {
    const char *key;   /* borrowed: static storage or the batch arena */
    const char *value; /* owned by the batch arena */
};

/* One Prometheus sample. Labels are sorted by key. */
struct sonde_series {
    const struct sonde_family *family;
    struct sonde_label *labels;
    uint32_t nlabels;
    double value;
};

/* InfluxDB side: a point is a measurement, tags and typed fields. */
enum sonde_field_type {
    SONDE_FIELD_FLOAT,
    SONDE_FIELD_INT,
    SONDE_FIELD_UINT,
    SONDE_FIELD_BOOL,
    SONDE_FIELD_STRING
};

struct sonde_field {
    const char *key; /* borrowed: static storage or the batch arena */
    enum sonde_field_type type;
    union {
        double f;
        int64_t i;
        uint64_t u;
        bool b;
        const char *s; /* owned by the batch arena */
    } v;
};

struct sonde_point {
    const char *measurement;  /* borrowed: static storage or the batch arena */
    struct sonde_label *tags; /* sorted by key when the point is finished */
    uint32_t ntags, tags_cap;
    struct sonde_field *fields;
    uint32_t nfields, fields_cap;
};

/*
 * A batch: everything one read of one input instance produced, with one
 * timestamp. The core creates it, stamps it, hands it to the input's read(),
 * then shares it read-only with the store and the outputs.
 */
struct sonde_batch {
    struct sonde_arena *arena;
    int64_t timestamp_ns; /* wall clock, set by the core before read() */
    const char *input;    /* plugin name, for self-metrics and logs */

    struct sonde_series *series;
    size_t nseries, series_cap;
    struct sonde_point **points;
    size_t npoints, points_cap;

    /* Line-protocol tags every point of this batch gets: host, the agent's
     * global_tags and the input instance's tags, sorted by key. Set by the
     * core; owned by the input instance. */
    const struct sonde_label *lp_tags;
    size_t nlp_tags;

    /* What this batch's consumers need, set by the core: series for the
     * scrape endpoint (or a Prometheus push), points for line-protocol
     * outputs. When one side is not wanted, the emit functions of that side
     * do nothing, and an input may skip work that only that side needs
     * (state it keeps between reads must still be updated). */
    bool want_series;
    bool want_points;

    uint64_t skipped;           /* malformed values skipped by the input: counted */
    struct sonde_point discard; /* what sonde_point returns when points are not wanted */
};

/*
 * Adds one Prometheus sample. After `value` come label key/value pairs
 * terminated by NULL: sonde_emit(b, &fam, 1.5, "cpu", "0", "mode", "user",
 * NULL). Keys are borrowed (static), values are copied into the arena.
 */
void sonde_emit(struct sonde_batch *batch, const struct sonde_family *family, double value, ...)
    __attribute__((sentinel));
void sonde_emitv(struct sonde_batch *batch, const struct sonde_family *family, double value,
                 const struct sonde_label *labels, size_t nlabels);

/* Starts a line-protocol point; the measurement is borrowed. */
struct sonde_point *sonde_point(struct sonde_batch *batch, const char *measurement);
/* The value is copied; empty values are kept here and skipped by the encoder. */
void sonde_point_tag(struct sonde_batch *batch, struct sonde_point *point, const char *key,
                     const char *value);
void sonde_point_float(struct sonde_batch *batch, struct sonde_point *point, const char *key,
                       double value);
void sonde_point_int(struct sonde_batch *batch, struct sonde_point *point, const char *key,
                     int64_t value);
void sonde_point_uint(struct sonde_batch *batch, struct sonde_point *point, const char *key,
                      uint64_t value);
void sonde_point_bool(struct sonde_batch *batch, struct sonde_point *point, const char *key,
                      bool value);
void sonde_point_string(struct sonde_batch *batch, struct sonde_point *point, const char *key,
                        const char *value);

/* Creates a family in the batch arena, for names known only at read time
 * (node_memory_<key>_bytes). Name and help are copied. */
const struct sonde_family *sonde_family_new(struct sonde_batch *batch, const char *name,
                                            enum sonde_metric_type type, const char *help);

/* ------------------------------------------------------------------ */
/* Files: kept open, re-read from offset 0 each cycle.                  */
/* ------------------------------------------------------------------ */

struct sonde_file {
    char *path; /* owned */
    int fd;     /* -1 when closed */
    char *buf;  /* owned, NUL-terminated after a read */
    size_t len, cap;
};

/* Sets up `file` for `path` (copied); opens nothing yet. */
void sonde_file_init(struct sonde_file *file, const char *path);
/* Reads the whole file into file->buf (opening or reopening as needed).
 * Returns 0 or -errno. */
int sonde_file_read(struct sonde_file *file);
/* The same, for a file several inputs read (/proc/stat): within one round
 * of the scheduler, the content another input's file of the same path got
 * is copied instead of asked of the kernel again, so those inputs also see
 * one snapshot. Outside rounds (--once, tests) it is sonde_file_read. The
 * buffer is the next reader's source: parse it, never write into it. */
int sonde_file_read_shared(struct sonde_file *file);
void sonde_file_close(struct sonde_file *file);

/* Reads sysfs attribute `name` under directory `dirfd` into `buf`
 * (NUL-terminated, blanks trimmed at both ends, as procfs' SysReadFile),
 * opened and closed on each call. Returns the length or -errno. */
long sonde_read_attr(int dirfd, const char *name, char *buf, size_t cap);

/* Reads a small file once into `buf` (NUL-terminated, trailing newline
 * removed). Returns the length or -errno. */
long sonde_read_small(const char *path, char *buf, size_t cap);

/* Whether s[0..len) is valid UTF-8 (no overlongs, surrogates or values past
 * U+10FFFF): Go's utf8.ValidString, which node_exporter's label values pass. */
bool sonde_utf8_valid(const char *s, size_t len);

/* ------------------------------------------------------------------ */
/* Plugins                                                              */
/* ------------------------------------------------------------------ */

enum sonde_option_type {
    SONDE_OPT_STRING,      /* char *            (owned by the core) */
    SONDE_OPT_BOOL,        /* bool */
    SONDE_OPT_INT,         /* int64_t */
    SONDE_OPT_DURATION,    /* int64_t nanoseconds: "100ms", "10s", "1m" */
    SONDE_OPT_SIZE,        /* uint64_t bytes: "64MiB", "1GB", "4096" */
    SONDE_OPT_REGEX,       /* char *: a POSIX extended regex, checked by the core */
    SONDE_OPT_STRING_LIST, /* struct sonde_strings */
    SONDE_OPT_STRING_MAP   /* struct sonde_string_map */
};

struct sonde_strings {
    char **items;
    size_t n;
};

struct sonde_string_map {
    char **keys;
    char **values;
    size_t n;
};

/* One option of a plugin's configuration, parsed and validated by the core
 * into the plugin's config struct at `offset`. */
struct sonde_option {
    const char *name;            /* YAML key */
    enum sonde_option_type type; /* how to parse it */
    size_t offset;               /* offsetof(struct plugin_config, field) */
    const char *default_value;   /* text as a user would write it; lists:
                                    comma-separated; NULL: zero */
    bool required;               /* missing key is a configuration error */
    const char *help;            /* one line, for docs and --help-plugins */
    bool secret;                 /* a password, token ...: the core never prints its value
                                    (errors say <redacted>); names containing password,
                                    token or secret are treated as secret anyway */
};

/* Paths and facts every plugin may read; owned by the core. */
struct sonde_context {
    const char *procfs;   /* "/proc" or --path.procfs */
    const char *sysfs;    /* "/sys" or --path.sysfs */
    const char *rootfs;   /* "/" or --path.rootfs */
    const char *hostname; /* the `host` tag */
    const char *instance; /* "cpu", or "nginx[1]" for the second instance */
};

enum sonde_plugin_kind { SONDE_INPUT, SONDE_OUTPUT };

/* ---- Push outputs: the plugin encodes and describes the request; the core
 * queues the encoded bytes (memory or disk spool), batches, compresses,
 * sends with libcurl and retries. ---- */

struct sonde_buf; /* below */

enum sonde_compression { SONDE_COMPRESS_NONE, SONDE_COMPRESS_GZIP, SONDE_COMPRESS_SNAPPY };

#define SONDE_REQUEST_MAX_HEADERS 16

/* How to send: filled once by the plugin's request(); strings are owned by
 * the plugin state and stay valid while the instance lives. */
struct sonde_request {
    const char *url;
    const char *headers[SONDE_REQUEST_MAX_HEADERS]; /* "Name: value"; NULL-terminated */
    const char *username, *password;                /* HTTP basic auth, or NULL */
    const char *content_type;
    enum sonde_compression compression;
};

struct sonde_push {
    const char *unit;  /* what one record is: "lines", "samples" */
    bool gzip_default; /* default of the common `gzip` option */
    bool series;       /* encodes the Prometheus series (else line-protocol points) */
    /* Appends the batch to `out` as records (lines, encoded time series)
     * and adds their number to *nrecords. */
    int (*encode)(void *state, const struct sonde_batch *batch, struct sonde_buf *out,
                  size_t *nrecords);
    /* Length of the record at the start of buf[0..len): how the core splits
     * a request the backend found too large (413). */
    size_t (*record_size)(const char *buf, size_t len);
    /* Describes the requests; `gzip` is the common option's value. */
    int (*request)(void *state, bool gzip, struct sonde_request *req);
    /* For a 4xx answer that rejects data: how many of the `nrecords` sent
     * were dropped (InfluxDB's partial write names them); NULL: all. */
    size_t (*rejected)(void *state, long status, const char *body, size_t nrecords);
    /* Optional: on a reload, what to send for the input instances that are
     * gone (those not in `remaining`), e.g. stale markers; appended to
     * `out` like encode() does. */
    int (*inputs_gone)(void *state, const char *const *remaining, size_t nremaining,
                       int64_t timestamp_ns, struct sonde_buf *out, size_t *nrecords);
};

/*
 * A plugin: one const descriptor per plugin file, listed in the registry
 * (collector/registry.c). NULL callbacks mean "not provided".
 */
struct sonde_plugin {
    const char *name;                   /* the configuration key */
    enum sonde_plugin_kind kind;        /* input or output */
    const char *summary;                /* one line, for --help and docs */
    size_t config_size;                 /* sizeof the plugin's config struct */
    const struct sonde_option *options; /* terminated by a {NULL} entry */

    /* Builds per-instance state from a validated config (borrowed, lives as
     * long as the instance). Returns 0 or -errno; *state is freed by destroy. */
    int (*init)(void **state, const void *config, const struct sonde_context *ctx);
    /* Inputs: appends samples to `batch`. Returns 0, or -errno when the read
     * failed (what was appended is still published); -ENODATA when the
     * source does not exist on this host (not logged as a failure). */
    int (*read)(void *state, struct sonde_batch *batch);
    /* Outputs: takes a finished batch (borrowed, read-only). */
    int (*write)(void *state, const struct sonde_batch *batch);
    /* Push outputs: encoding and request; write is then NULL. */
    const struct sonde_push *push;
    /* Frees the state. */
    void (*destroy)(void *state);
};

/* ------------------------------------------------------------------ */
/* Encoders plugins may call (outputs)                                  */
/* ------------------------------------------------------------------ */

struct sonde_buf {
    char *data; /* owned, NUL-terminated */
    size_t len, cap;
};

void sonde_buf_append(struct sonde_buf *buf, const char *s, size_t len);
void sonde_buf_puts(struct sonde_buf *buf, const char *s);
void sonde_buf_printf(struct sonde_buf *buf, const char *fmt, ...) SONDE_PRINTF(2, 3);
void sonde_buf_free(struct sonde_buf *buf);

/* Counts of what an encoder left out; every skip is counted, never silent. */
struct sonde_lp_stats {
    uint64_t lines;            /* lines written */
    uint64_t nonfinite_fields; /* NaN or infinite fields skipped */
    uint64_t empty_points;     /* points with no field left: not written */
};

/* Appends the batch as InfluxDB line protocol, one line per point, adding
 * batch->lp_tags to each. */
void sonde_lp_encode_batch(struct sonde_buf *out, const struct sonde_batch *batch,
                           struct sonde_lp_stats *stats);

/* Helpers for line-protocol push outputs (struct sonde_push slots). */
int sonde_lp_push_encode(void *state, const struct sonde_batch *batch, struct sonde_buf *out,
                         size_t *nrecords);
/* One record is one line, newline included. */
size_t sonde_lp_record_size(const char *buf, size_t len);
/* Lines an InfluxDB error answer says it dropped ("... dropped=N"); all
 * `nrecords` when it does not say. */
size_t sonde_lp_rejected(void *state, long status, const char *body, size_t nrecords);

/* Appends `s` percent-encoded for a URL query (RFC 3986 unreserved kept). */
void sonde_url_escape(struct sonde_buf *out, const char *s);

#endif
