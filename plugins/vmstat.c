/*
 * vmstat.c - the `vmstat` input: /proc/vmstat as node_exporter's vmstat
 * collector (untyped node_vmstat_<field> for the fields its --collector.vmstat.fields
 * regex selects) and as Telegraf's inputs.kernel_vmstat (one point, every field an int).
 */
#include <errno.h>
#include <regex.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sonde.h"

struct vmstat_config {
    char *fields; /* POSIX ERE over the field name; Prometheus only */
};

static const struct sonde_option vmstat_options[] = {
    {"fields", SONDE_OPT_REGEX, offsetof(struct vmstat_config, fields),
     "^(oom_kill|pgpg|pswp|pg.*fault).*", false,
     "Fields exported as node_vmstat_<field> (node_exporter's --collector.vmstat.fields)"},
    {NULL},
};

/* One "name value" line of /proc/vmstat. `name` points into the buffer. */
struct vmstat_line {
    const char *name;
    size_t name_len;
    uint64_t value;
};

/*
 * What we decided about the field at one position of the file. The kernel
 * lists the same fields in the same order on every read, so a read only
 * compares the name with the one seen there last time instead of running the
 * regex again; any difference (another kernel, a test) rebuilds the entry.
 */
struct vmstat_field {
    char *name;      /* owned */
    size_t name_len; /* strlen(name) */
    bool wanted;     /* matched `fields` */
    char *prom_name; /* "node_vmstat_<name>", owned; NULL unless wanted */
    char *help;      /* owned; NULL unless wanted */
};

struct vmstat_state {
    struct sonde_file file;        /* <procfs>/vmstat, kept open */
    regex_t fields;                /* compiled `fields` */
    struct vmstat_field *known;    /* by position in the file; owned */
    size_t nknown, known_cap;      /* entries of `known` in use, allocated */
    struct sonde_ratelimit badlog; /* malformed lines */
};

/* ------------------------------------------------------------------ */
/* Parsing                                                              */
/* ------------------------------------------------------------------ */

static bool vmstat_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Field names become part of a metric name: only [A-Za-z0-9_] may pass. */
static bool vmstat_name_ok(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

/* Parses one line [line, end) "name value". Returns 0, -ENODATA for a blank
 * line, -EINVAL for anything else (missing, negative, overflowing or extra
 * tokens). */
static int vmstat_parse_line(const char *line, const char *end, struct vmstat_line *out)
{
    const char *p = line;
    while (p < end && vmstat_is_blank(*p))
        p++;
    if (p == end)
        return -ENODATA;
    const char *name = p;
    while (p < end && !vmstat_is_blank(*p))
        p++;
    size_t name_len = (size_t)(p - name);
    while (p < end && vmstat_is_blank(*p))
        p++;
    if (p == end || *p < '0' || *p > '9' || !vmstat_name_ok(name, name_len))
        return -EINVAL;
    char *stop;
    errno = 0;
    unsigned long long v = strtoull(p, &stop, 10);
    if (errno == ERANGE || stop > end)
        return -EINVAL;
    for (const char *q = stop; q < end; q++)
        if (!vmstat_is_blank(*q))
            return -EINVAL;
    out->name = name;
    out->name_len = name_len;
    out->value = v;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The field cache                                                      */
/* ------------------------------------------------------------------ */

static void vmstat_field_clear(struct vmstat_field *f)
{
    free(f->name);
    free(f->prom_name);
    free(f->help);
    memset(f, 0, sizeof(*f));
}

/* The decision for the field at `pos` named as `line` says; rebuilt when
 * the name there changed. */
static const struct vmstat_field *vmstat_field_at(struct vmstat_state *st, size_t pos,
                                                  const struct vmstat_line *line)
{
    if (pos < st->nknown) {
        struct vmstat_field *f = &st->known[pos];
        if (f->name_len == line->name_len && memcmp(f->name, line->name, line->name_len) == 0)
            return f;
        vmstat_field_clear(f);
    } else {
        if (pos >= st->known_cap) {
            size_t cap = st->known_cap ? st->known_cap * 2 : 64;
            while (cap <= pos)
                cap *= 2;
            st->known = sonde_xrealloc(st->known, cap * sizeof(*st->known));
            st->known_cap = cap;
        }
        memset(&st->known[st->nknown], 0, (pos + 1 - st->nknown) * sizeof(*st->known));
        st->nknown = pos + 1;
    }
    struct vmstat_field *f = &st->known[pos];
    f->name = sonde_xmalloc(line->name_len + 1);
    memcpy(f->name, line->name, line->name_len);
    f->name[line->name_len] = '\0';
    f->name_len = line->name_len;
    f->wanted = regexec(&st->fields, f->name, 0, NULL, 0) == 0;
    if (f->wanted) {
        size_t n = line->name_len + 64;
        f->prom_name = sonde_xmalloc(n);
        snprintf(f->prom_name, n, "node_vmstat_%s", f->name);
        f->help = sonde_xmalloc(n);
        snprintf(f->help, n, "/proc/vmstat information field %s.", f->name);
    }
    return f;
}

/* ------------------------------------------------------------------ */
/* Plugin callbacks                                                     */
/* ------------------------------------------------------------------ */

static int vmstat_init(void **out, const void *config, const struct sonde_context *ctx)
{
    const struct vmstat_config *cfg = config;
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/vmstat", ctx->procfs) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    struct vmstat_state *st = sonde_xcalloc(1, sizeof(*st));
    /* NULL only when a test builds the config by hand: then every field. */
    const char *re = cfg->fields ? cfg->fields : "";
    if (regcomp(&st->fields, re, REG_EXTENDED | REG_NOSUB) != 0) {
        free(st);
        return -EINVAL; /* the core validated it; unreachable in practice */
    }
    sonde_file_init(&st->file, path);
    *out = st;
    return 0;
}

/* Telegraf writes uint64 as an int field, clamped to the int64 range. */
static int64_t vmstat_int(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

static int vmstat_read(void *arg, struct sonde_batch *batch)
{
    struct vmstat_state *st = arg;
    if (!batch->want_series && !batch->want_points)
        return 0;
    int rc = sonde_file_read(&st->file);
    if (rc < 0)
        return rc;
    struct sonde_point *p = NULL;
    size_t pos = 0;
    uint64_t bad = 0;
    for (const char *line = st->file.buf; *line;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        struct vmstat_line v;
        rc = vmstat_parse_line(line, end, &v);
        line = nl ? nl + 1 : end;
        if (rc == -ENODATA)
            continue;
        if (rc < 0) {
            bad++;
            continue;
        }
        if (batch->want_series) {
            const struct vmstat_field *f = vmstat_field_at(st, pos++, &v);
            if (f->wanted)
                sonde_emit(batch, sonde_family_new(batch, f->prom_name, SONDE_UNTYPED, f->help),
                           (double)v.value, NULL);
        }
        if (batch->want_points) {
            if (!p)
                p = sonde_point(batch, "kernel_vmstat");
            sonde_point_int(batch, p, sonde_arena_strndup(batch->arena, v.name, v.name_len),
                            vmstat_int(v.value));
        }
    }
    if (bad) {
        batch->skipped += bad;
        sonde_log_limited(&st->badlog, 300, SONDE_LOG_WARN,
                          "vmstat: %s: skipped %llu malformed line(s)", st->file.path,
                          (unsigned long long)bad);
    }
    return 0;
}

static void vmstat_destroy(void *arg)
{
    struct vmstat_state *st = arg;
    if (!st)
        return;
    sonde_file_close(&st->file);
    regfree(&st->fields);
    for (size_t i = 0; i < st->nknown; i++)
        vmstat_field_clear(&st->known[i]);
    free(st->known);
    free(st);
}

const struct sonde_plugin sonde_plugin_vmstat = {
    .name = "vmstat",    /* configuration key, node_exporter's name */
    .kind = SONDE_INPUT, /* reads the host */
    .summary = "Virtual memory counters (/proc/vmstat)", /* for --help and docs */
    .config_size = sizeof(struct vmstat_config),         /* filled from vmstat_options */
    .options = vmstat_options,                           /* fields */
    .init = vmstat_init,                                 /* compiles the regex; opens nothing yet */
    .read = vmstat_read,                                 /* node_vmstat_* and "kernel_vmstat" */
    .write = NULL,                                       /* inputs do not write */
    .destroy = vmstat_destroy,                           /* closes the file, frees the cache */
};
