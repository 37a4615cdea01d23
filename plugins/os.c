/*
 * os.c - the `os` input: the distribution from <rootfs>/etc/os-release (or
 * <rootfs>/usr/lib/os-release) as node_exporter 1.5's os collector:
 * node_os_info with twelve labels and node_os_version (major.minor). The
 * file is parsed as node_exporter's envparse library does. No line
 * protocol: Telegraf has no such input.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sonde.h"

struct os_config {
    char unused; /* no options; keeps the struct non-empty (ISO C) */
};

static const struct sonde_option os_options[] = {
    {NULL},
};

static const struct sonde_family os_info_family = {
    "node_os_info", SONDE_GAUGE,
    "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, "
    "image_version, name, pretty_name, variant, variant_id, version, version_codename, "
    "version_id."};
static const struct sonde_family os_version_family = {
    "node_os_version", SONDE_GAUGE, "Metric containing the major.minor part of the OS version."};

/* The os-release keys node_exporter reads, and their label names. */
enum os_key {
    OS_BUILD_ID,
    OS_ID,
    OS_ID_LIKE,
    OS_IMAGE_ID,
    OS_IMAGE_VERSION,
    OS_NAME,
    OS_PRETTY_NAME,
    OS_VARIANT,
    OS_VARIANT_ID,
    OS_VERSION,
    OS_VERSION_CODENAME,
    OS_VERSION_ID,
    OS_NKEYS
};

static const struct {
    const char *key, *label;
} os_keys[OS_NKEYS] = {
    {"BUILD_ID", "build_id"},
    {"ID", "id"},
    {"ID_LIKE", "id_like"},
    {"IMAGE_ID", "image_id"},
    {"IMAGE_VERSION", "image_version"},
    {"NAME", "name"},
    {"PRETTY_NAME", "pretty_name"},
    {"VARIANT", "variant"},
    {"VARIANT_ID", "variant_id"},
    {"VERSION", "version"},
    {"VERSION_CODENAME", "version_codename"},
    {"VERSION_ID", "version_id"},
};

/* The files tried in order, relative to the root file system. */
static const char *const os_files[] = {"/etc/os-release", "/usr/lib/os-release"};
#define OS_NFILES (sizeof(os_files) / sizeof(os_files[0]))

/* Bounds: os-release files are a few hundred bytes. Go's line scanner
 * refuses lines of 64 KiB and more; we refuse files over 1 MiB. */
#define OS_MAX_LINE (64 * 1024 - 1)
#define OS_MAX_FILE (1024 * 1024)

/* A parsed file: the values of the keys above ("" when absent; owned). */
struct os_release {
    char *values[OS_NKEYS];
    double version; /* major.minor of VERSION_ID; 0 when there is none */
};

struct os_state {
    char *paths[OS_NFILES]; /* <rootfs> + os_files[i]; owned */
    char *buf;              /* file contents, reused; owned */
    size_t cap;
    /* The cached parse and the file it came from (node_exporter re-parses
     * only when the path or the modification time changes). */
    bool cached;
    size_t cached_path;
    struct stat cached_stat;
    struct os_release release;
    struct sonde_ratelimit log;
};

static void os_release_free(struct os_release *r)
{
    for (size_t i = 0; i < OS_NKEYS; i++)
        free(r->values[i]);
    memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------------ */
/* envparse, as node_exporter 1.5 vendors it                            */
/* ------------------------------------------------------------------ */

/* Length of the Unicode white space character (Go's unicode.IsSpace) that
 * starts at s[0..len), or 0. */
static size_t os_space_at(const unsigned char *s, size_t len)
{
    if (len >= 1 && (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r')))
        return 1;
    if (len >= 2 && s[0] == 0xC2 && (s[1] == 0x85 || s[1] == 0xA0))
        return 2; /* U+0085, U+00A0 */
    if (len >= 3 && s[0] == 0xE1 && s[1] == 0x9A && s[2] == 0x80)
        return 3; /* U+1680 */
    if (len >= 3 && s[0] == 0xE2 && s[1] == 0x80 &&
        ((s[2] >= 0x80 && s[2] <= 0x8A) || s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF))
        return 3; /* U+2000..U+200A, U+2028, U+2029, U+202F */
    if (len >= 3 && s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0x9F)
        return 3; /* U+205F */
    if (len >= 3 && s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80)
        return 3; /* U+3000 */
    return 0;
}

/* Go's bytes.TrimSpace on [*s, *s + *len). */
static void os_trim(const char **s, size_t *len)
{
    const unsigned char *p = (const unsigned char *)*s;
    size_t n = *len, k;
    while (n && (k = os_space_at(p, n))) {
        p += k;
        n -= k;
    }
    for (;;) {
        size_t before = n;
        for (size_t w = 1; w <= 3 && w <= n; w++)
            if (os_space_at(p + n - w, w) == w) {
                n -= w;
                break;
            }
        if (n == before)
            break;
    }
    *s = (const char *)p;
    *len = n;
}

/* Encodes code point `r` as UTF-8 into out (room for 4); returns the length. */
static size_t os_utf8_put(char *out, uint32_t r)
{
    if (r >= 0xD800 && r <= 0xDFFF)
        r = 0xFFFD; /* Go encodes a lone surrogate as the replacement character */
    if (r < 0x80) {
        out[0] = (char)r;
        return 1;
    }
    if (r < 0x800) {
        out[0] = (char)(0xC0 | (r >> 6));
        out[1] = (char)(0x80 | (r & 0x3F));
        return 2;
    }
    if (r < 0x10000) {
        out[0] = (char)(0xE0 | (r >> 12));
        out[1] = (char)(0x80 | ((r >> 6) & 0x3F));
        out[2] = (char)(0x80 | (r & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (r >> 18));
    out[1] = (char)(0x80 | ((r >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((r >> 6) & 0x3F));
    out[3] = (char)(0x80 | (r & 0x3F));
    return 4;
}

/* Four hex digits at s[0..len) as a code point; -EINVAL when short or bad. */
static int os_hex4(const char *s, size_t len, uint32_t *out)
{
    if (len < 4)
        return -EINVAL;
    uint32_t r = 0;
    for (size_t i = 0; i < 4; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -EINVAL;
        r = r * 16 + d;
    }
    *out = r;
    return 0;
}

/* A "\uXXXX" escape at v[*i] (the 'u'), with its surrogate pair partner;
 * appends the character to out and moves *i to the last digit used. */
static int os_unicode_escape(const char *v, size_t len, size_t *i, char *out, size_t *n)
{
    uint32_t r;
    if (os_hex4(v + *i + 1, len - *i - 1, &r) < 0)
        return -EINVAL;
    *i += 4;
    if (r >= 0xD800 && r <= 0xDFFF) {
        uint32_t r2;
        if (len < *i + 7 || v[*i + 1] != '\\' || v[*i + 2] != 'u' ||
            os_hex4(v + *i + 3, len - *i - 3, &r2) < 0)
            return -EINVAL; /* an incomplete surrogate pair */
        *i += 6;
        if (r <= 0xDBFF && r2 >= 0xDC00 && r2 <= 0xDFFF)
            r = 0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00);
        else
            r = 0xFFFD; /* Go's utf16.DecodeRune of a bad pair */
    }
    *n += os_utf8_put(out + *n, r);
    return 0;
}

enum os_mode { OS_NORMAL, OS_DOUBLE, OS_SINGLE, OS_ESCAPE };

/*
 * Unquotes a value (already trimmed) into out (room for len + 4 bytes):
 * double quotes with JSON escapes, single quotes verbatim, '#' outside
 * quotes starting a comment (blanks before it dropped). Control characters
 * are errors. Returns the length or -EINVAL.
 */
static long os_unquote(const char *v, size_t len, char *out)
{
    size_t n = 0, last = 0;
    enum os_mode mode = OS_NORMAL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 32)
            return -EINVAL;
        if (c > 127) {
            if (mode == OS_ESCAPE)
                return -EINVAL;
            /* Significant, but envparse records its index, not the index
             * after it: a comment right after it cuts its last byte. */
            last = n;
            out[n++] = (char)c;
            continue;
        }
        switch (mode) {
        case OS_NORMAL:
            if (c == '"') {
                mode = OS_DOUBLE;
            } else if (c == '\'') {
                mode = OS_SINGLE;
            } else if (c == '#') {
                return (long)last;
            } else {
                out[n++] = (char)c;
                if (c != ' ' && c != '\t')
                    last = n;
            }
            break;
        case OS_DOUBLE:
            if (c == '"') {
                mode = OS_NORMAL;
            } else if (c == '\\') {
                mode = OS_ESCAPE;
            } else {
                out[n++] = (char)c;
                last = n;
            }
            break;
        case OS_ESCAPE: {
            static const char from[] = "\"\\/bfrnt", to[] = "\"\\/\b\f\r\n\t";
            const char *e = c ? strchr(from, c) : NULL;
            if (e) {
                out[n++] = to[e - from];
            } else if (c == 'u') {
                if (os_unicode_escape(v, len, &i, out, &n) < 0)
                    return -EINVAL;
            } else {
                return -EINVAL;
            }
            last = n;
            mode = OS_DOUBLE;
            break;
        }
        case OS_SINGLE:
            if (c == '\'') {
                mode = OS_NORMAL;
            } else {
                out[n++] = (char)c;
                last = n;
            }
            break;
        }
    }
    return mode == OS_NORMAL ? (long)n : -EINVAL;
}

/* Stores `value` for `key` when it is one node_exporter reads (a later
 * assignment replaces an earlier one). */
static void os_release_set(struct os_release *r, const char *key, size_t klen, const char *value,
                           size_t vlen)
{
    for (size_t k = 0; k < OS_NKEYS; k++) {
        if (strlen(os_keys[k].key) != klen || memcmp(os_keys[k].key, key, klen) != 0)
            continue;
        free(r->values[k]);
        r->values[k] = sonde_xmalloc(vlen + 1);
        memcpy(r->values[k], value, vlen);
        r->values[k][vlen] = '\0';
        return;
    }
}

/* One line (without its newline, carriage return dropped): blank, a
 * comment, or KEY=value with an optional "export " before the key. 0 or
 * -EINVAL. `scratch` has room for len + 4 bytes. */
static int os_parse_line(const char *line, size_t len, struct os_release *r, char *scratch)
{
    os_trim(&line, &len);
    if (len == 0 || line[0] == '#')
        return 0;
    const char *eq = memchr(line, '=', len);
    if (!eq)
        return -EINVAL;
    const char *key = line, *value = eq + 1;
    size_t klen = (size_t)(eq - line), vlen = len - klen - 1;
    os_trim(&key, &klen);
    os_trim(&value, &vlen);
    if (klen > 7 && memcmp(key, "export ", 7) == 0) {
        key += 7;
        klen -= 7;
    }
    if (klen == 0)
        return -EINVAL;
    char c0 = key[0];
    if (!((c0 >= 'A' && c0 <= 'Z') || (c0 >= 'a' && c0 <= 'z') || c0 == '_'))
        return -EINVAL;
    for (size_t i = 1; i < klen; i++) {
        char c = key[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '/'))
            return -EINVAL;
    }
    long n = os_unquote(value, vlen, scratch);
    if (n < 0 || !sonde_utf8_valid(scratch, (size_t)n))
        return -EINVAL;
    os_release_set(r, key, klen, scratch, (size_t)n);
    return 0;
}

/* node_exporter's `^[0-9]+\.?[0-9]*` of VERSION_ID, as a number. */
static double os_version_number(const char *version_id)
{
    const char *p = version_id;
    if (*p < '0' || *p > '9')
        return 0;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p == '.')
        p++;
    while (*p >= '0' && *p <= '9')
        p++;
    char tmp[64];
    size_t len = (size_t)(p - version_id);
    if (len >= sizeof(tmp))
        len = sizeof(tmp) - 1; /* the digits past 63 do not change a double */
    memcpy(tmp, version_id, len);
    tmp[len] = '\0';
    return strtod(tmp, NULL);
}

/* Parses a whole file of `len` bytes into `r` (emptied first). 0 or
 * -EINVAL; on error `r` holds nothing. */
static int os_parse(const char *buf, size_t len, struct os_release *r)
{
    os_release_free(r);
    char *scratch = sonde_xmalloc(OS_MAX_LINE + 5);
    int rc = 0;
    for (size_t pos = 0; pos < len && rc == 0;) {
        const char *line = buf + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t llen = nl ? (size_t)(nl - line) : len - pos;
        pos += llen + (nl ? 1 : 0);
        if (llen && line[llen - 1] == '\r')
            llen--;
        if (llen > OS_MAX_LINE)
            rc = -EINVAL;
        else
            rc = os_parse_line(line, llen, r, scratch);
    }
    free(scratch);
    if (rc < 0) {
        os_release_free(r);
        return rc;
    }
    for (size_t k = 0; k < OS_NKEYS; k++)
        if (!r->values[k])
            r->values[k] = sonde_xstrdup("");
    r->version = os_version_number(r->values[OS_VERSION_ID]);
    return 0;
}

static void os_emit(const struct os_release *r, struct sonde_batch *batch)
{
    struct sonde_label labels[OS_NKEYS];
    for (size_t k = 0; k < OS_NKEYS; k++) {
        labels[k].key = os_keys[k].label;
        labels[k].value = r->values[k];
    }
    sonde_emitv(batch, &os_info_family, 1.0, labels, OS_NKEYS);
    if (r->version > 0)
        sonde_emit(batch, &os_version_family, r->version, "id", r->values[OS_ID], "id_like",
                   r->values[OS_ID_LIKE], "name", r->values[OS_NAME], NULL);
}

/* ------------------------------------------------------------------ */
/* Plugin callbacks                                                     */
/* ------------------------------------------------------------------ */

static int os_init(void **state, const void *config, const struct sonde_context *ctx)
{
    (void)config;
    /* "/" + "/etc/os-release" would work, but reads badly in logs. */
    const char *root = strcmp(ctx->rootfs, "/") == 0 ? "" : ctx->rootfs;
    struct os_state *st = sonde_xcalloc(1, sizeof(*st));
    for (size_t i = 0; i < OS_NFILES; i++) {
        size_t len = strlen(root) + strlen(os_files[i]) + 1;
        st->paths[i] = sonde_xmalloc(len);
        snprintf(st->paths[i], len, "%s%s", root, os_files[i]);
    }
    *state = st;
    return 0;
}

/* Reads the open file into st->buf; the length or -errno. */
static long os_read_fd(struct os_state *st, int fd)
{
    size_t len = 0;
    for (;;) {
        if (st->cap - len < 4096) {
            if (st->cap >= OS_MAX_FILE + 4096)
                return -EFBIG;
            st->cap = st->cap ? st->cap * 2 : 8192;
            st->buf = sonde_xrealloc(st->buf, st->cap);
        }
        ssize_t n = read(fd, st->buf + len, st->cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > OS_MAX_FILE)
            return -EFBIG;
    }
    return (long)len;
}

static bool os_same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Opens the first file that exists and parses it unless it is the one
 * parsed last time, unchanged. 0, -ENODATA when neither file exists (as
 * node_exporter: no data), or -errno. */
static int os_load(struct os_state *st)
{
    for (size_t i = 0; i < OS_NFILES; i++) {
        int fd = open(st->paths[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
            continue;
        if (fd < 0)
            return -errno;
        struct stat sb;
        if (fstat(fd, &sb) < 0) {
            int err = errno;
            close(fd);
            return -err;
        }
        if (st->cached && st->cached_path == i && os_same_file(&sb, &st->cached_stat)) {
            close(fd);
            return 0;
        }
        st->cached = false;
        long len = os_read_fd(st, fd);
        close(fd);
        if (len < 0)
            return (int)len;
        int rc = os_parse(st->buf, (size_t)len, &st->release);
        if (rc < 0) {
            sonde_log_limited(&st->log, 300, SONDE_LOG_WARN, "os: %s: malformed", st->paths[i]);
            return rc;
        }
        st->cached = true;
        st->cached_path = i;
        st->cached_stat = sb;
        return 0;
    }
    st->cached = false;
    sonde_log_limited(&st->log, 3600, SONDE_LOG_DEBUG, "os: no os-release file (%s, %s)",
                      st->paths[0], st->paths[1]);
    return -ENODATA;
}

static int os_read(void *state, struct sonde_batch *batch)
{
    struct os_state *st = state;
    if (!batch->want_series)
        return 0; /* nothing for line protocol */
    int rc = os_load(st);
    if (rc == -EINVAL)
        batch->skipped++;
    if (rc < 0)
        return rc;
    os_emit(&st->release, batch);
    return 0;
}

static void os_destroy(void *state)
{
    struct os_state *st = state;
    if (!st)
        return;
    for (size_t i = 0; i < OS_NFILES; i++)
        free(st->paths[i]);
    os_release_free(&st->release);
    free(st->buf);
    free(st);
}

const struct sonde_plugin sonde_plugin_os = {
    .name = "os",                                       /* node_exporter's collector */
    .kind = SONDE_INPUT,                                /* reads the host */
    .summary = "Operating system release (os-release)", /* for --help and docs */
    .config_size = sizeof(struct os_config),            /* no options */
    .options = os_options,                              /* empty table */
    .init = os_init,                                    /* builds the two paths */
    .read = os_read,                                    /* re-parses only a changed file */
    .write = NULL,                                      /* inputs do not write */
    .destroy = os_destroy,                              /* frees the cache */
};
