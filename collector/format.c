/*
 * format.c - numbers as text for the encoders: the shortest decimal form
 * that reads back as the same double (what Go's strconv 'g' -1 gives
 * node_exporter), with fast paths for integral values, which most
 * counters are, and for values with one to three decimals (seconds counted
 * in clock ticks or milliseconds, load averages), which most of the rest are.
 * Also the UTF-8 check label values must pass.
 */
#include <math.h>
#include <stdint.h>
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

/* A value that is exactly k / 10^d for d in 1..3 (the division rounding as
 * strtod rounds "k/10^d" written out) is written as that decimal, trailing
 * zeros dropped. Below 1e9 a double's spacing is far finer than 0.001, so no
 * shorter decimal reads back as the same value: this is the shortest form,
 * and %g would print it without an exponent too (0.001 <= |value| < 1e9).
 * Returns the length, or 0 when the value is not such a decimal. */
static size_t format_fixed(char *out, double value)
{
    double magnitude = fabs(value);
    if (magnitude < 0.001 || magnitude >= 1e9)
        return 0;
    static const double scales[] = {10, 100, 1000};
    for (int d = 1; d <= 3; d++) {
        double scaled = nearbyint(value * scales[d - 1]);
        if (scaled / scales[d - 1] != value)
            continue;
        char digits[24];
        size_t nd = format_int64(digits, (long long)fabs(scaled));
        size_t frac = (size_t)d; /* digits of `digits` after the point */
        while (frac > 1 && digits[nd - 1] == '0') {
            nd--;
            frac--;
        }
        size_t len = 0;
        if (value < 0)
            out[len++] = '-';
        size_t whole = nd > frac ? nd - frac : 0;
        if (whole == 0)
            out[len++] = '0';
        memcpy(out + len, digits, whole);
        len += whole;
        out[len++] = '.';
        for (size_t z = nd; z < frac; z++) /* 0.0x: zeros between the point and the digits */
            out[len++] = '0';
        memcpy(out + len, digits + whole, nd - whole);
        len += nd - whole;
        out[len] = '\0';
        return len;
    }
    return 0;
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
    size_t fixed = format_fixed(out, value);
    if (fixed)
        return fixed;
    for (int precision = 15; precision <= 17; precision++) {
        int n = snprintf(out, 32, "%.*g", precision, value);
        if (precision == 17 || strtod(out, NULL) == value)
            return (size_t)n;
    }
    return strlen(out);
}

bool sonde_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        size_t n;
        uint32_t r;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
            r = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            r = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            r = c & 0x07;
        } else {
            return false;
        }
        if (i + n > len)
            return false;
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            r = (r << 6) | (p[i + k] & 0x3F);
        }
        if ((n == 3 && (r < 0x800 || (r >= 0xD800 && r <= 0xDFFF))) ||
            (n == 4 && (r < 0x10000 || r > 0x10FFFF)))
            return false;
        i += n;
    }
    return true;
}
