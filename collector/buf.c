/*
 * buf.c - growable byte buffers for encoders: always NUL-terminated,
 * doubling growth, fatal on OOM like every allocation in sonde.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

void buf_reserve(struct sonde_buf *buf, size_t extra)
{
    size_t need = buf->len + extra + 1;
    if (need <= buf->cap)
        return;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < need)
        cap *= 2;
    buf->data = sonde_xrealloc(buf->data, cap);
    buf->cap = cap;
}

void sonde_buf_append(struct sonde_buf *buf, const char *s, size_t len)
{
    buf_reserve(buf, len);
    memcpy(buf->data + buf->len, s, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
}

void sonde_buf_puts(struct sonde_buf *buf, const char *s)
{
    sonde_buf_append(buf, s, strlen(s));
}

void sonde_buf_printf(struct sonde_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        sonde_buf_append(buf, small, (size_t)n);
        return;
    }
    buf_reserve(buf, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
}

void sonde_buf_free(struct sonde_buf *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}
