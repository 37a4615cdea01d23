/*
 * log.c - logging to stderr (journald adds its own timestamps), rate
 * limiting for recurring messages, clocks, and the fatal-on-OOM allocators
 * that are sonde's one allocation-failure policy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"

static _Atomic int log_level = SONDE_LOG_INFO;

void log_set_level(enum sonde_log_level level)
{
    log_level = (int)level;
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static void log_vwrite(enum sonde_log_level level, const char *suffix, const char *fmt, va_list ap)
{
    char line[1024];
    int n = snprintf(line, sizeof(line), "sonde: %s: ", level_names[level]);
    if (n < 0)
        return;
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    fprintf(stderr, "%s%s\n", line, suffix);
}

void sonde_log(enum sonde_log_level level, const char *fmt, ...)
{
    if ((int)level > log_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, "", fmt, ap);
    va_end(ap);
}

void sonde_log_limited(struct sonde_ratelimit *rl, int period_s, enum sonde_log_level level,
                       const char *fmt, ...)
{
    if ((int)level > log_level)
        return;
    int64_t now = clock_monotonic_ns();
    if (rl->last_ns && now - rl->last_ns < (int64_t)period_s * 1000000000) {
        rl->suppressed++;
        return;
    }
    char suffix[64] = "";
    if (rl->suppressed)
        snprintf(suffix, sizeof(suffix), " (%llu similar suppressed)",
                 (unsigned long long)rl->suppressed);
    rl->last_ns = now;
    rl->suppressed = 0;
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, suffix, fmt, ap);
    va_end(ap);
}

int64_t clock_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t clock_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sonde_oom(size_t size)
{
    fprintf(stderr, "sonde: error: out of memory allocating %zu bytes\n", size);
    abort();
}

void *sonde_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        sonde_oom(size);
    return p;
}

void *sonde_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        sonde_oom(n * size);
    return p;
}

void *sonde_xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        sonde_oom(size);
    return q;
}

char *sonde_xstrdup(const char *s)
{
    size_t len = strlen(s) + 1;
    char *copy = sonde_xmalloc(len);
    memcpy(copy, s, len);
    return copy;
}
