/*
 * interrupts.c - the `interrupts` input: per-CPU interrupt counts from
 * /proc/interrupts as node_exporter's interrupts collector
 * (node_interrupts_total{cpu,type,info,devices}), and /proc/interrupts and
 * /proc/softirqs as Telegraf's inputs.interrupts (measurements interrupts
 * and soft_interrupts, tags irq, type, device; fields CPU0.. and total, or
 * a cpu tag and a count field with cpu_as_tag).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sonde.h"

struct interrupts_config {
    bool cpu_as_tag; /* line protocol: one point per CPU with a cpu tag */
};

static const struct sonde_option interrupts_options[] = {
    {"cpu_as_tag", SONDE_OPT_BOOL, offsetof(struct interrupts_config, cpu_as_tag), "false", false,
     "Line protocol: a point per CPU (tag cpu=cpuN, field count) instead of fields CPU0..N"},
    {NULL},
};

static const struct sonde_family interrupts_family = {"node_interrupts_total", SONDE_COUNTER,
                                                      "Interrupt details."};

/* One word of a line: [p, p + len). */
struct interrupts_word {
    const char *p;
    size_t len;
};

/* A line split into words; the array grows and is reused (owned). */
struct interrupts_words {
    struct interrupts_word *items;
    size_t n, cap;
};

/* An IRQ line as node_exporter reads it: the words of the line (pointing
 * into the file buffer) and its position, for "the last one wins". */
struct interrupts_irq {
    struct interrupts_word *words; /* into `interrupts_state.all_words` */
    size_t nwords;
    size_t line;  /* order in the file */
    bool dropped; /* a later line has the same name */
};

struct interrupts_state {
    struct interrupts_config config;
    struct sonde_file interrupts; /* <procfs>/interrupts */
    struct sonde_file softirqs;   /* <procfs>/softirqs, line protocol only */
    struct interrupts_words words;
    /* node_exporter's parse: every kept line's words, then the lines. */
    struct interrupts_word *all_words;
    size_t nall, all_cap;
    struct interrupts_irq *irqs;
    size_t nirqs, irqs_cap;
    struct sonde_buf text; /* joins words into one label value; reused */
    struct sonde_ratelimit log;
};

static bool interrupts_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Splits [line, end) at blanks (Go's strings.Fields on ASCII). */
static void interrupts_split(const char *line, const char *end, struct interrupts_words *w)
{
    w->n = 0;
    for (const char *p = line; p < end;) {
        while (p < end && interrupts_blank(*p))
            p++;
        if (p == end)
            break;
        const char *s = p;
        while (p < end && !interrupts_blank(*p))
            p++;
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 64;
            w->items = sonde_xrealloc(w->items, w->cap * sizeof(*w->items));
        }
        w->items[w->n].p = s;
        w->items[w->n].len = (size_t)(p - s);
        w->n++;
    }
}

/* An unsigned decimal word; false when it is anything else. */
static bool interrupts_u64(const struct interrupts_word *w, uint64_t *out)
{
    if (w->len == 0 || w->len > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < w->len; i++) {
        char c = w->p[i];
        if (c < '0' || c > '9')
            return false;
        uint64_t d = (uint64_t)(c - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Go's strconv.Atoi/ParseInt test: an optional sign, then digits. */
static bool interrupts_is_number(const char *p, size_t len)
{
    size_t i = (len && (p[0] == '+' || p[0] == '-')) ? 1 : 0;
    if (i == len || len - i > 18)
        return false; /* 19 digits may overflow int64: not a number to Go */
    for (; i < len; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

/* Joins words [from, n) with single spaces into st->text (NUL-terminated). */
static const char *interrupts_join(struct interrupts_state *st, const struct interrupts_word *w,
                                   size_t from, size_t n)
{
    st->text.len = 0;
    sonde_buf_append(&st->text, "", 0);
    for (size_t i = from; i < n; i++) {
        if (i > from)
            sonde_buf_append(&st->text, " ", 1);
        sonde_buf_append(&st->text, w[i].p, w[i].len);
    }
    return st->text.data;
}

/* ------------------------------------------------------------------ */
/* node_exporter                                                        */
/* ------------------------------------------------------------------ */

static int interrupts_irq_compare(const void *a, const void *b)
{
    const struct interrupts_irq *x = a, *y = b;
    size_t lx = x->words[0].len - 1, ly = y->words[0].len - 1; /* without the colon */
    int c = memcmp(x->words[0].p, y->words[0].p, lx < ly ? lx : ly);
    if (c == 0 && lx != ly)
        c = lx < ly ? -1 : 1;
    if (c == 0)
        c = x->line < y->line ? -1 : 1;
    return c;
}

/*
 * Parses /proc/interrupts as node_exporter does: the header's word count
 * is the CPU count; a line needs the name, one number per CPU and at least
 * one more word (ERR and MIS have fewer and are left out); the name loses
 * its last character (the colon); for a numbered IRQ the next word is
 * `info` (the chip) and the rest `devices`, otherwise the rest is `info`.
 * Fills st->irqs; returns the CPU count, or -EINVAL for an empty file.
 * Lines with a non-numeric count are skipped and counted in *malformed.
 */
static long interrupts_parse_prom(struct interrupts_state *st, const char *buf, uint64_t *malformed)
{
    st->nall = 0;
    st->nirqs = 0;
    const char *nl = strchr(buf, '\n');
    const char *end = nl ? nl : buf + strlen(buf);
    if (end == buf && !nl)
        return -EINVAL;
    interrupts_split(buf, end, &st->words);
    size_t ncpu = st->words.n;
    for (const char *line = nl ? nl + 1 : end; *line;) {
        nl = strchr(line, '\n');
        end = nl ? nl : line + strlen(line);
        interrupts_split(line, end, &st->words);
        line = nl ? nl + 1 : end;
        const struct interrupts_word *w = st->words.items;
        if (st->words.n < ncpu + 2)
            continue;
        uint64_t v;
        bool ok = true;
        for (size_t c = 1; c <= ncpu && ok; c++)
            ok = interrupts_u64(&w[c], &v);
        if (!ok) {
            (*malformed)++;
            continue;
        }
        if (st->nall + st->words.n > st->all_cap) {
            while (st->nall + st->words.n > st->all_cap)
                st->all_cap = st->all_cap ? st->all_cap * 2 : 1024;
            struct interrupts_word *old = st->all_words;
            st->all_words = sonde_xrealloc(st->all_words, st->all_cap * sizeof(*st->all_words));
            for (size_t i = 0; i < st->nirqs; i++) /* re-point into the moved array */
                st->irqs[i].words = st->all_words + (st->irqs[i].words - old);
        }
        if (st->nirqs == st->irqs_cap) {
            st->irqs_cap = st->irqs_cap ? st->irqs_cap * 2 : 128;
            st->irqs = sonde_xrealloc(st->irqs, st->irqs_cap * sizeof(*st->irqs));
        }
        memcpy(st->all_words + st->nall, w, st->words.n * sizeof(*w));
        st->irqs[st->nirqs] = (struct interrupts_irq){
            .words = st->all_words + st->nall, .nwords = st->words.n, .line = st->nirqs};
        st->nall += st->words.n;
        st->nirqs++;
    }
    /* node_exporter keeps its IRQs in a map: a repeated name keeps the last. */
    if (st->nirqs > 1)
        qsort(st->irqs, st->nirqs, sizeof(*st->irqs), interrupts_irq_compare);
    for (size_t i = 0; i + 1 < st->nirqs; i++) {
        const struct interrupts_word *a = &st->irqs[i].words[0], *b = &st->irqs[i + 1].words[0];
        st->irqs[i].dropped = a->len == b->len && memcmp(a->p, b->p, a->len - 1) == 0;
    }
    if (st->nirqs)
        st->irqs[st->nirqs - 1].dropped = false;
    return (long)ncpu;
}

static void interrupts_emit_prom(struct interrupts_state *st, size_t ncpu,
                                 struct sonde_batch *batch)
{
    for (size_t i = 0; i < st->nirqs; i++) {
        const struct interrupts_irq *irq = &st->irqs[i];
        if (irq->dropped)
            continue;
        const struct interrupts_word *w = irq->words;
        size_t namelen = w[0].len - 1; /* without the colon */
        const char *type = sonde_arena_strndup(batch->arena, w[0].p, namelen);
        const char *info, *devices = "";
        if (interrupts_is_number(w[0].p, namelen)) {
            info = sonde_arena_strndup(batch->arena, w[ncpu + 1].p, w[ncpu + 1].len);
            devices = interrupts_join(st, w, ncpu + 2, irq->nwords);
        } else {
            info = interrupts_join(st, w, ncpu + 1, irq->nwords);
        }
        for (size_t c = 0; c < ncpu; c++) {
            uint64_t v = 0;
            char cpu[24];
            interrupts_u64(&w[c + 1], &v);
            snprintf(cpu, sizeof(cpu), "%zu", c);
            sonde_emit(batch, &interrupts_family, (double)v, "cpu", cpu, "devices", devices, "info",
                       info, "type", type, NULL);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Telegraf                                                             */
/* ------------------------------------------------------------------ */

/* Telegraf writes int64 fields; a count past it is clamped. */
static int64_t interrupts_int(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

/*
 * One file as Telegraf reads it: the header must start with CPU0; a line
 * whose first word does not end in ':' is passed over; up to one number
 * per CPU is read (ERR has one) and a non-number drops the line; a
 * numbered IRQ with words left has a type and a device, any other line's
 * remaining words are its type. Returns -EINVAL for a bad header.
 */
static int interrupts_emit_lp(struct interrupts_state *st, const char *buf, const char *measurement,
                              struct sonde_batch *batch)
{
    if (!*buf)
        return 0; /* Telegraf: an empty file has no lines, and no error */
    const char *nl = strchr(buf, '\n');
    const char *end = nl ? nl : buf + strlen(buf);
    interrupts_split(buf, end, &st->words);
    if (st->words.n == 0 || st->words.items[0].len != 4 ||
        memcmp(st->words.items[0].p, "CPU0", 4) != 0)
        return -EINVAL;
    size_t ncpu = st->words.n;
    /* Field and tag names are borrowed by the batch: they live in its arena. */
    const char **names = sonde_arena_alloc(batch->arena, ncpu * sizeof(*names));
    for (size_t c = 0; c < ncpu; c++)
        names[c] = sonde_arena_printf(batch->arena, st->config.cpu_as_tag ? "cpu%zu" : "CPU%zu", c);
    uint64_t *values = sonde_arena_alloc(batch->arena, (ncpu ? ncpu : 1) * sizeof(*values));
    for (const char *line = nl ? nl + 1 : end; *line;) {
        nl = strchr(line, '\n');
        end = nl ? nl : line + strlen(line);
        interrupts_split(line, end, &st->words);
        line = nl ? nl + 1 : end;
        const struct interrupts_word *w = st->words.items;
        size_t n = st->words.n;
        if (n == 0 || w[0].p[w[0].len - 1] != ':')
            continue;
        size_t nvalues = n - 1 < ncpu ? n - 1 : ncpu;
        bool ok = true;
        uint64_t total = 0;
        for (size_t c = 0; c < nvalues && ok; c++) {
            ok = interrupts_u64(&w[c + 1], &values[c]) && values[c] <= (uint64_t)INT64_MAX;
            total += ok ? values[c] : 0;
        }
        if (!ok) {
            batch->skipped++;
            continue;
        }
        size_t idlen = w[0].len;
        while (idlen && w[0].p[idlen - 1] == ':')
            idlen--;
        char *irq = sonde_arena_strndup(batch->arena, w[0].p, idlen);
        char *type = "", *device = "";
        if (interrupts_is_number(irq, idlen) && n >= ncpu + 2) {
            type = sonde_arena_strndup(batch->arena, w[ncpu + 1].p, w[ncpu + 1].len);
            device = sonde_arena_strdup(batch->arena, interrupts_join(st, w, ncpu + 2, n));
        } else if (n > ncpu) {
            type = sonde_arena_strdup(batch->arena, interrupts_join(st, w, ncpu + 1, n));
        }
        if (st->config.cpu_as_tag) {
            for (size_t c = 0; c < nvalues; c++) {
                struct sonde_point *p = sonde_point(batch, measurement);
                sonde_point_tag(batch, p, "cpu", names[c]);
                sonde_point_tag(batch, p, "irq", irq);
                sonde_point_tag(batch, p, "type", type);
                sonde_point_tag(batch, p, "device", device);
                sonde_point_int(batch, p, "count", (int64_t)values[c]);
            }
            continue;
        }
        struct sonde_point *p = sonde_point(batch, measurement);
        sonde_point_tag(batch, p, "irq", irq);
        sonde_point_tag(batch, p, "type", type);
        sonde_point_tag(batch, p, "device", device);
        sonde_point_int(batch, p, "total", interrupts_int(total));
        for (size_t c = 0; c < nvalues; c++)
            sonde_point_int(batch, p, names[c], (int64_t)values[c]);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Plugin callbacks                                                     */
/* ------------------------------------------------------------------ */

static int interrupts_init(void **state, const void *config, const struct sonde_context *ctx)
{
    char irq[4096], soft[4096];
    if (snprintf(irq, sizeof(irq), "%s/interrupts", ctx->procfs) >= (int)sizeof(irq) ||
        snprintf(soft, sizeof(soft), "%s/softirqs", ctx->procfs) >= (int)sizeof(soft))
        return -ENAMETOOLONG;
    struct interrupts_state *st = sonde_xcalloc(1, sizeof(*st));
    st->config = *(const struct interrupts_config *)config;
    sonde_file_init(&st->interrupts, irq);
    sonde_file_init(&st->softirqs, soft);
    *state = st;
    return 0;
}

static int interrupts_read(void *state, struct sonde_batch *batch)
{
    struct interrupts_state *st = state;
    int rc = sonde_file_read(&st->interrupts);
    if (rc < 0)
        return rc;
    if (batch->want_series) {
        uint64_t malformed = 0;
        long ncpu = interrupts_parse_prom(st, st->interrupts.buf, &malformed);
        batch->skipped += malformed;
        if (malformed)
            sonde_log_limited(&st->log, 300, SONDE_LOG_WARN,
                              "interrupts: %s: skipped %llu malformed line(s)", st->interrupts.path,
                              (unsigned long long)malformed);
        if (ncpu < 0) {
            batch->skipped++;
            rc = (int)ncpu; /* node_exporter: "interrupts empty", a failure */
        } else {
            interrupts_emit_prom(st, (size_t)ncpu, batch);
        }
    }
    if (batch->want_points) {
        /* Telegraf reports a file it cannot read or parse and goes on. */
        if (interrupts_emit_lp(st, st->interrupts.buf, "interrupts", batch) < 0)
            batch->skipped++;
        if (sonde_file_read(&st->softirqs) < 0 ||
            interrupts_emit_lp(st, st->softirqs.buf, "soft_interrupts", batch) < 0)
            batch->skipped++;
    }
    return rc;
}

static void interrupts_destroy(void *state)
{
    struct interrupts_state *st = state;
    if (!st)
        return;
    sonde_file_close(&st->interrupts);
    sonde_file_close(&st->softirqs);
    free(st->words.items);
    free(st->all_words);
    free(st->irqs);
    sonde_buf_free(&st->text);
    free(st);
}

const struct sonde_plugin sonde_plugin_interrupts = {
    .name = "interrupts", /* node_exporter's collector */
    .kind = SONDE_INPUT,  /* reads the host */
    .summary = "Interrupt counts per CPU (/proc/interrupts, /proc/softirqs)", /* for --help */
    .config_size = sizeof(struct interrupts_config),                          /* cpu_as_tag */
    .options = interrupts_options, /* see the table above */
    .init = interrupts_init,       /* opens nothing yet */
    .read = interrupts_read,       /* node_interrupts_total, interrupts */
    .write = NULL,                 /* inputs do not write */
    .destroy = interrupts_destroy, /* closes the files */
};
