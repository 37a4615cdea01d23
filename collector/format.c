/*
 * format.c - numbers as text for the encoders: the shortest decimal form
 * that reads back as the same double (what Go's strconv 'g' -1 gives
 * node_exporter), with fast paths for integral values, which most
 * counters are, and for values of at most 15 significant digits (seconds
 * counted in clock ticks, milliseconds or nanoseconds, load averages), which
 * most of the rest are.
 * Also the UTF-8 check label values must pass.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* Writes a signed integer; returns its length. The digits are written from
 * the last, two at a time, straight to their place. */
static size_t format_int64(char *out, long long v)
{
    static const char pairs[] =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
        "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    size_t digits = 1;
    for (unsigned long long rest = u; rest >= 10; rest /= 10)
        digits++;
    if (v < 0)
        out[0] = '-';
    size_t len = (v < 0) + digits;
    out[len] = '\0';
    char *p = out + len;
    for (; u >= 100; u /= 100) {
        p -= 2;
        memcpy(p, pairs + u % 100 * 2, 2);
    }
    if (u >= 10) {
        p -= 2;
        memcpy(p, pairs + u * 2, 2);
    } else {
        p[-1] = (char)('0' + u);
    }
    return len;
}

/* Powers of ten that a double holds exactly. */
static const double format_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Lays out the decimal digits[0..nd) with the first digit's place at
 * 10^exponent (-8 <= exponent < 15), as %g does: plain from 1e-4 up, with
 * a two-digit exponent below; a fraction follows the whole digits, as the
 * value is not integral. Returns the length. */
static size_t format_layout(char *out, bool negative, const char *digits, size_t nd, int exponent)
{
    size_t len = 0;
    if (negative)
        out[len++] = '-';
    if (exponent < -4) {
        out[len++] = digits[0];
        if (nd > 1) {
            out[len++] = '.';
            memcpy(out + len, digits + 1, nd - 1);
            len += nd - 1;
        }
        out[len++] = 'e';
        out[len++] = '-';
        out[len++] = (char)('0' + -exponent / 10);
        out[len++] = (char)('0' + -exponent % 10);
    } else if (exponent < 0) { /* 0.0ddd */
        out[len++] = '0';
        out[len++] = '.';
        for (int z = exponent + 1; z < 0; z++)
            out[len++] = '0';
        memcpy(out + len, digits, nd);
        len += nd;
    } else { /* ddd.ddd */
        size_t whole = (size_t)exponent + 1;
        memcpy(out + len, digits, whole);
        len += whole;
        out[len++] = '.';
        memcpy(out + len, digits + whole, nd - whole);
        len += nd - whole;
    }
    out[len] = '\0';
    return len;
}

/* Whether the magnitude is k / 10^d for an integer k <= 10^15, k / 10^d
 * being one correctly rounded division (strtod rounds the decimal k*10^-d
 * the same way). Any rounding of magnitude * 10^d finds k: when it exists
 * the product is within a quarter of it. */
static bool format_decimal(double magnitude, int d, uint64_t *k)
{
    double scaled = magnitude * format_pow10[d];
    if (!(scaled <= 1e15))
        return false;
    *k = (uint64_t)(scaled + 0.5);
    return (double)*k / format_pow10[d] == magnitude;
}

/* The %.15g text of a non-integral value between 1e-8 and 1e14 when that
 * text reads back as the value; else 0, and then %.15g does not read back.
 *
 * If the value is the double nearest k * 10^-d for an integer k <= 10^15
 * (format_decimal), that decimal lies on the value's grid of 15 significant
 * digits, within half a unit in the last place of the double: far less
 * than half the grid's spacing, so it is the value rounded to 15 digits,
 * the text of %.15g, and it reads back. Conversely, when the text of %.15g
 * reads back, it is such a decimal with d = 14 - floor(log10(value)),
 * which is tried last (10^d is exact: d <= 22 from 1e-8 up; above 1e14
 * no fraction is left among 15 digits). Tried first: d = 3 (clock ticks,
 * milliseconds, load averages) and d = 9 (nanoseconds), which need no
 * logarithm and give fewer digits to write. */
static size_t format_short(char *out, double value)
{
    double magnitude = fabs(value);
    uint64_t k;
    int d = 3;
    if (!format_decimal(magnitude, d, &k)) {
        d = 9;
        if (!format_decimal(magnitude, d, &k)) {
            uint64_t bits;
            memcpy(&bits, &magnitude, sizeof(bits));
            int binary_exponent = (int)(bits >> 52) - 1023; /* floor(log2): a normal number */
            /* floor(binary_exponent * log10(2)): floor(log10(magnitude)) or one
             * less, so the d wanted is this one or the next tried */
            int decimal_exponent = (binary_exponent * 1233 - (binary_exponent < 0) * 4095) / 4096;
            d = 14 - decimal_exponent < 22 ? 14 - decimal_exponent : 22;
            if (!format_decimal(magnitude, d, &k) && !format_decimal(magnitude, --d, &k))
                return 0;
        }
    }
    for (; k % 10 == 0 && d > 0; d--)
        k /= 10;
    char digits[24];
    size_t nd = format_int64(digits, (long long)k);
    int exponent = (int)nd - 1 - d; /* of the first digit */
    if (exponent >= 0 && nd <= (size_t)exponent + 1)
        return 0; /* integral: not reached, those take the integer path */
    return format_layout(out, value < 0, digits, nd, exponent);
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
    /* The shortest of 15, 16 and 17 digits that reads back. */
    int precision = 15;
    if (fabs(value) >= 1e-8 && fabs(value) < 1e14) {
        size_t len = format_short(out, value);
        if (len)
            return len;
        precision = 16; /* format_short found that 15 digits do not read back */
    }
    for (; precision <= 17; precision++) {
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
