/*
 * filefd.c - the `filefd` input: open file handles from /proc/sys/fs/file-nr
 * as node_exporter's filefd collector (node_filefd_allocated, _maximum), and
 * the /proc/sys/fs counters as Telegraf's inputs.linux_sysctl_fs.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sonde.h"

/* No options: node_exporter's collector and Telegraf's input have none. */
struct filefd_config {
    char unused; /* keeps the struct non-empty (ISO C) */
};

static const struct sonde_option filefd_options[] = {
    {NULL},
};

static const struct sonde_family filefd_allocated_family = {
    "node_filefd_allocated", SONDE_GAUGE, "File descriptor statistics: allocated."};
static const struct sonde_family filefd_maximum_family = {"node_filefd_maximum", SONDE_GAUGE,
                                                          "File descriptor statistics: maximum."};

/* The files of /proc/sys/fs Telegraf reads, and the field each column of
 * them becomes; NULL skips a column (file-nr's always-zero middle one). */
#define FILEFD_MAX_COLUMNS 4
static const struct {
    const char *file;
    const char *fields[FILEFD_MAX_COLUMNS];
} filefd_lp_files[] = {
    {"aio-nr", {"aio-nr"}},
    {"aio-max-nr", {"aio-max-nr"}},
    {"dquot-nr", {"dquot-nr"}},
    {"dquot-max", {"dquot-max"}},
    {"super-nr", {"super-nr"}},
    {"super-max", {"super-max"}},
    {"inode-state", {"inode-nr", "inode-free-nr", "inode-preshrink-nr"}},
    {"dentry-state", {"dentry-nr", "dentry-unused-nr", "dentry-age-limit", "dentry-want-pages"}},
    {"file-nr", {"file-nr", NULL, "file-max"}},
};
#define FILEFD_LP_FILES (sizeof(filefd_lp_files) / sizeof(filefd_lp_files[0]))
#define FILEFD_FILE_NR  (FILEFD_LP_FILES - 1) /* index of file-nr above */

struct filefd_state {
    struct sonde_file files[FILEFD_LP_FILES]; /* <procfs>/sys/fs/<file>, kept open */
    struct sonde_ratelimit malformed_log;
};

/* Parses up to `max` blank-separated unsigned numbers of `buf` into `out`.
 * Returns how many were read, or -EINVAL when a word is not a number (the
 * numbers before it stay in `out`). */
static int filefd_parse_numbers(const char *buf, uint64_t *out, size_t max)
{
    const char *p = buf;
    size_t n = 0;
    while (n < max) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        if (*p < '0' || *p > '9')
            return -EINVAL; /* strtoull would take "-1" */
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (errno == ERANGE || (*end && *end != ' ' && *end != '\t' && *end != '\n'))
            return -EINVAL;
        out[n++] = v;
        p = end;
    }
    return (int)n;
}

/* node_exporter's reading of file-nr: "allocated unused maximum". Returns 0
 * or -EINVAL when the file does not hold three numbers. */
static int filefd_parse_file_nr(const char *buf, uint64_t *allocated, uint64_t *maximum)
{
    uint64_t v[3];
    if (filefd_parse_numbers(buf, v, 3) != 3)
        return -EINVAL;
    *allocated = v[0];
    *maximum = v[2];
    return 0;
}

/* Telegraf writes uint64 as an int field, clamped to the int64 range. */
static int64_t filefd_int(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* Adds the fields of one /proc/sys/fs file to the linux_sysctl_fs point.
 * A missing file (dquot-* without quota support, super-* on new kernels) is
 * left out as Telegraf does; a malformed one is skipped and counted. */
static void filefd_lp_file(struct filefd_state *st, size_t i, struct sonde_batch *batch,
                           struct sonde_point *point)
{
    int rc = sonde_file_read(&st->files[i]);
    if (rc == -ENOENT)
        return;
    uint64_t v[FILEFD_MAX_COLUMNS];
    int n = rc < 0 ? rc : filefd_parse_numbers(st->files[i].buf, v, FILEFD_MAX_COLUMNS);
    if (n <= 0) {
        batch->skipped++;
        sonde_log_limited(&st->malformed_log, 300, SONDE_LOG_WARN, "filefd: %s: %s",
                          st->files[i].path, n < 0 ? strerror(-n) : "empty");
        return;
    }
    for (int c = 0; c < n && c < FILEFD_MAX_COLUMNS; c++)
        if (filefd_lp_files[i].fields[c])
            sonde_point_int(batch, point, filefd_lp_files[i].fields[c], filefd_int(v[c]));
}

static int filefd_init(void **state, const void *config, const struct sonde_context *ctx)
{
    (void)config;
    struct filefd_state *st = sonde_xcalloc(1, sizeof(*st));
    for (size_t i = 0; i < FILEFD_LP_FILES; i++) {
        char path[4096];
        if (snprintf(path, sizeof(path), "%s/sys/fs/%s", ctx->procfs, filefd_lp_files[i].file) >=
            (int)sizeof(path)) {
            for (size_t j = 0; j < i; j++)
                sonde_file_close(&st->files[j]);
            free(st);
            return -ENAMETOOLONG;
        }
        sonde_file_init(&st->files[i], path);
    }
    *state = st;
    return 0;
}

static int filefd_read(void *state, struct sonde_batch *batch)
{
    struct filefd_state *st = state;
    struct sonde_file *file_nr = &st->files[FILEFD_FILE_NR];
    int rc = 0;
    if (batch->want_series) {
        /* node_exporter fails the collector when file-nr is unreadable. */
        rc = sonde_file_read(file_nr);
        uint64_t allocated, maximum;
        if (rc == 0 && filefd_parse_file_nr(file_nr->buf, &allocated, &maximum) == 0) {
            sonde_emit(batch, &filefd_allocated_family, (double)allocated, NULL);
            sonde_emit(batch, &filefd_maximum_family, (double)maximum, NULL);
        } else if (rc == 0) {
            batch->skipped++;
            rc = -EINVAL;
        }
    }
    if (batch->want_points) {
        struct sonde_point *p = sonde_point(batch, "linux_sysctl_fs");
        for (size_t i = 0; i < FILEFD_LP_FILES; i++)
            filefd_lp_file(st, i, batch, p);
    }
    return rc;
}

static void filefd_destroy(void *state)
{
    struct filefd_state *st = state;
    if (!st)
        return;
    for (size_t i = 0; i < FILEFD_LP_FILES; i++)
        sonde_file_close(&st->files[i]);
    free(st);
}

const struct sonde_plugin sonde_plugin_filefd = {
    .name = "filefd",                                    /* node_exporter's collector name */
    .kind = SONDE_INPUT,                                 /* reads the host */
    .summary = "File handles and /proc/sys/fs counters", /* for --help and docs */
    .config_size = sizeof(struct filefd_config),         /* no options */
    .options = filefd_options,                           /* empty table */
    .init = filefd_init,                                 /* opens nothing yet */
    .read = filefd_read,                                 /* node_filefd_*, linux_sysctl_fs */
    .write = NULL,                                       /* inputs do not write */
    .destroy = filefd_destroy,                           /* closes the files */
};
