/*
 * format.c - numbers as text for the encoders: the shortest decimal form
 * that reads back as the same double (what Go's strconv 'g' -1 gives
 * node_exporter), with a fast path for integral values, which most
 * counters are.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* Writes a signed integer; returns its length. */
static size_t format_int64(char *out, long long v)
{
    char tmp[24];
    size_t n = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t len = 0;
    if (v < 0)
        out[len++] = '-';
    while (n)
        out[len++] = tmp[--n];
    out[len] = '\0';
    return len;
}

size_t format_double(char *out, double value)
{
    if (isnan(value)) {
        memcpy(out, "NaN", 4);
        return 3;
    }
    if (isinf(value)) {
        memcpy(out, value > 0 ? "+Inf" : "-Inf", 5);
        return 4;
    }
    /* Integral and exactly representable: plain digits, as %g would give
     * up to 1e15 (beyond that %g switches to an exponent). */
    if (value == floor(value) && fabs(value) < 1e15)
        return format_int64(out, (long long)value);
    for (int precision = 15; precision <= 17; precision++) {
        int n = snprintf(out, 32, "%.*g", precision, value);
        if (precision == 17 || strtod(out, NULL) == value)
            return (size_t)n;
    }
    return strlen(out);
}
