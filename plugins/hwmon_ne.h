/*
 * hwmon_ne.h - node_exporter 1.5's hwmon naming, shared by the hwmon input (which reads
 * /sys/class/hwmon itself) and the sensors input (which reads it through libsensors), so
 * that both fill node_hwmon_* with the same chip and sensor labels, names and units.
 * Included by exactly those two plugin files; everything here is static.
 */
#ifndef SONDE_HWMON_NE_H
#define SONDE_HWMON_NE_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sonde.h"

/* Longest family name and help text we build; longer ones (a driver with an
 * absurd attribute name) are skipped. */
#define HWMON_NE_NAME_MAX 192
#define HWMON_NE_HELP_MAX 320
/* Chip labels are at most a cleaned device path element or two. */
#define HWMON_NE_CHIP_MAX 256

/* The sensor types node_exporter reads; attributes of other types are not
 * exported. */
static const char *const hwmon_ne_types[] = {
    "vrm",  "beep_enable", "update_interval", "in",     "cpu",      "fan",      "pwm",
    "temp", "curr",        "power",           "energy", "humidity", "intrusion"};

/* An attribute file name split as node_exporter's regular expression
 * ^([^0-9]+)([0-9]*)?(_(.+))?$ splits it: "temp1_crit_alarm" is type "temp",
 * number 1, property "crit_alarm". Pointers go into the name. */
struct hwmon_ne_attr {
    const char *type;
    size_t type_len;
    long long number;     /* 0 when the name has no digits ("beep_enable") */
    const char *property; /* "" for a bare attribute ("pwm1") */
};

/* Splits `name`; false when it does not match the expression (or the number
 * overflows, as Go's Atoi would). */
static bool hwmon_ne_explode(const char *name, struct hwmon_ne_attr *out)
{
    size_t type_len = 0;
    while (name[type_len] && (name[type_len] < '0' || name[type_len] > '9'))
        type_len++;
    if (type_len == 0)
        return false;
    const char *digits = name + type_len;
    size_t ndigits = 0;
    while (digits[ndigits] >= '0' && digits[ndigits] <= '9')
        ndigits++;
    const char *rest = digits + ndigits;
    if (rest[0] == '\0' || (rest[0] == '_' && rest[1] != '\0')) {
        long long number = 0;
        for (size_t i = 0; i < ndigits; i++) {
            if (number > (LLONG_MAX - (digits[i] - '0')) / 10)
                return false;
            number = number * 10 + (digits[i] - '0');
        }
        out->type = name;
        out->type_len = type_len;
        out->number = number;
        out->property = rest[0] ? rest + 1 : rest;
        return true;
    }
    /* The greedy split failed; the expression may still match with a shorter
     * type ending just before an underscore inside the leading letters (and
     * then no number): "fan_x1_" is type "fan", property "x1_". The longest
     * such type is the one a backtracking matcher finds first. */
    for (size_t p = type_len; p-- > 1;) {
        if (name[p] == '_' && name[p + 1] != '\0') {
            out->type = name;
            out->type_len = p;
            out->number = 0;
            out->property = name + p + 1;
            return true;
        }
    }
    return false;
}

static bool hwmon_ne_known_type(const char *type, size_t len)
{
    for (size_t i = 0; i < sizeof(hwmon_ne_types) / sizeof(hwmon_ne_types[0]); i++)
        if (strlen(hwmon_ne_types[i]) == len && memcmp(hwmon_ne_types[i], type, len) == 0)
            return true;
    return false;
}

/* node_exporter's cleanMetricName: lower case, every character but [a-z0-9:_]
 * becomes '_', then leading and trailing '_' go. Returns the length written to
 * `out` (cut at cap - 1). */
static size_t hwmon_ne_clean(const char *in, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < cap; i++) {
        char c = in[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ':' || c == '_'))
            c = '_';
        out[n++] = c;
    }
    size_t start = 0;
    while (start < n && out[start] == '_')
        start++;
    while (n > start && out[n - 1] == '_')
        n--;
    memmove(out, out + start, n - start);
    out[n - start] = '\0';
    return n - start;
}

/* Reads a whole small file (at most cap - 1 bytes, not trimmed). Returns the
 * length or -errno. */
static long hwmon_ne_read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    size_t n = fread(buf, 1, cap - 1, f);
    int err = ferror(f) ? -EIO : 0;
    fclose(f);
    buf[n] = '\0';
    return err ? err : (long)n;
}

/* The last element of `path` ("" for "/"); the pointer goes into path. */
static const char *hwmon_ne_basename(const char *path, size_t *len)
{
    size_t end = strlen(path);
    while (end > 1 && path[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    *len = end - start;
    return path + start;
}

/*
 * node_exporter's chip label for the hwmon directory `dir`, in its order of
 * preference: from the device the directory's `device` link resolves to
 * ("platform_coretemp_0": parent directory and device, cleaned), else the
 * cleaned `name` attribute, else the cleaned name of the directory itself
 * ("hwmon4"). Returns 0, or -ENOENT when nothing gives a name.
 */
static int hwmon_ne_chip_label(const char *dir, char *out, size_t cap)
{
    char path[PATH_MAX], real[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/device", dir) < (int)sizeof(path) &&
        realpath(path, real)) {
        size_t name_len, type_len;
        const char *name = hwmon_ne_basename(real, &name_len);
        char parent[PATH_MAX];
        size_t plen = (size_t)(name - real);
        memcpy(parent, real, plen);
        parent[plen] = '\0';
        const char *type = hwmon_ne_basename(parent, &type_len);
        char clean_name[HWMON_NE_CHIP_MAX], clean_type[HWMON_NE_CHIP_MAX];
        size_t n = hwmon_ne_clean(name, name_len, clean_name, sizeof(clean_name));
        size_t t = hwmon_ne_clean(type, type_len, clean_type, sizeof(clean_type));
        if (n && t && snprintf(out, cap, "%s_%s", clean_type, clean_name) < (int)cap)
            return 0;
        if (n && snprintf(out, cap, "%s", clean_name) < (int)cap)
            return 0;
    }
    char text[HWMON_NE_CHIP_MAX];
    long len;
    if (snprintf(path, sizeof(path), "%s/name", dir) < (int)sizeof(path) &&
        (len = hwmon_ne_read_file(path, text, sizeof(text))) > 0 &&
        hwmon_ne_clean(text, (size_t)len, out, cap) > 0)
        return 0;
    if (realpath(dir, real)) {
        size_t len2;
        const char *base = hwmon_ne_basename(real, &len2);
        if (hwmon_ne_clean(base, len2, out, cap) > 0)
            return 0;
    }
    return -ENOENT;
}

/* One node_hwmon_* sample: family name, help and type, and the value in the
 * family's unit. */
struct hwmon_ne_metric {
    char name[HWMON_NE_NAME_MAX];
    char help[HWMON_NE_HELP_MAX];
    enum sonde_metric_type type;
    double value;
};

/* Types node_exporter exports whole, from their bare attribute only. */
static bool hwmon_ne_whole_type(const char *type)
{
    return strcmp(type, "beep_enable") == 0 || strcmp(type, "vrm") == 0 ||
           strcmp(type, "update_interval") == 0;
}

/* The sample of a whole-sensor type (beep_enable, vrm, update_interval) from
 * its raw value. */
static void hwmon_ne_describe_whole(const char *type, double raw, struct hwmon_ne_metric *m)
{
    m->type = SONDE_GAUGE;
    if (strcmp(type, "beep_enable") == 0) {
        snprintf(m->name, sizeof(m->name), "node_hwmon_beep_enabled");
        snprintf(m->help, sizeof(m->help), "Hardware beep enabled");
        m->value = raw == 1.0 ? 1.0 : 0.0;
    } else if (strcmp(type, "vrm") == 0) {
        snprintf(m->name, sizeof(m->name), "node_hwmon_voltage_regulator_version");
        snprintf(m->help, sizeof(m->help), "Hardware voltage regulator");
        m->value = raw;
    } else {
        snprintf(m->name, sizeof(m->name), "node_hwmon_update_interval_seconds");
        snprintf(m->help, sizeof(m->help), "Hardware monitor update interval");
        m->value = raw * 0.001;
    }
}

/*
 * The sample node_exporter makes of attribute `element` of a sensor of `type`
 * with raw sysfs value `raw` (millidegrees, millivolts, microwatts ...).
 * `has_bare` says whether the sensor also has a bare attribute ("temp1"
 * beside "temp1_input"), which changes the name of the input's family. The
 * units and factors are node_exporter's, oddities included (an alarm of a
 * temperature is "celsius" and multiplied by 0.001). False when the name does
 * not fit.
 */
static bool hwmon_ne_describe(const char *type, const char *element, bool has_bare, double raw,
                              struct hwmon_ne_metric *m)
{
    char base[HWMON_NE_NAME_MAX], clean[HWMON_NE_NAME_MAX];
    int n;
    if (strcmp(element, "input") == 0)
        n = snprintf(base, sizeof(base), "node_hwmon_%s%s", type, has_bare ? "_input" : "");
    else if (element[0] && hwmon_ne_clean(element, strlen(element), clean, sizeof(clean)) > 0)
        n = snprintf(base, sizeof(base), "node_hwmon_%s_%s", type, clean);
    else if (element[0])
        n = snprintf(base, sizeof(base), "node_hwmon_%s_", type); /* cleaned to nothing */
    else
        n = snprintf(base, sizeof(base), "node_hwmon_%s", type);
    if (n < 0 || n >= (int)sizeof(base))
        return false;

    const char *suffix = "", *help_fmt = NULL;
    const char *help_element = element;
    double value = raw;
    m->type = SONDE_GAUGE;
    if (strcmp(element, "fault") == 0 || strcmp(element, "alarm") == 0) {
        n = snprintf(m->help, sizeof(m->help), "Hardware sensor %s status (%s)", element, type);
    } else if (strcmp(element, "beep") == 0) {
        suffix = "_enabled";
        n = snprintf(m->help, sizeof(m->help), "Hardware monitor sensor has beeping enabled");
    } else {
        if (strcmp(type, "in") == 0 || strcmp(type, "cpu") == 0) {
            suffix = "_volts", help_fmt = "Hardware monitor for voltage (%s)", value = raw * 0.001;
        } else if (strcmp(type, "temp") == 0 && strcmp(element, "type") != 0) {
            if (!element[0])
                help_element = "input";
            suffix = "_celsius", help_fmt = "Hardware monitor for temperature (%s)";
            value = raw * 0.001;
        } else if (strcmp(type, "curr") == 0) {
            suffix = "_amps", help_fmt = "Hardware monitor for current (%s)", value = raw * 0.001;
        } else if (strcmp(type, "energy") == 0) {
            suffix = "_joule_total", help_fmt = "Hardware monitor for joules used so far (%s)";
            value = raw / 1000000.0;
            m->type = SONDE_COUNTER;
        } else if (strcmp(type, "power") == 0 && strcmp(element, "accuracy") == 0) {
            help_fmt = "Hardware monitor power meter accuracy, as a ratio";
            value = raw / 1000000.0;
        } else if (strcmp(type, "power") == 0 && (strcmp(element, "average_interval") == 0 ||
                                                  strcmp(element, "average_interval_min") == 0 ||
                                                  strcmp(element, "average_interval_max") == 0)) {
            suffix = "_seconds", help_fmt = "Hardware monitor power usage update interval (%s)";
            value = raw * 0.001;
        } else if (strcmp(type, "power") == 0) {
            suffix = "_watt", help_fmt = "Hardware monitor for power usage in watts (%s)";
            value = raw / 1000000.0;
        } else if (strcmp(type, "humidity") == 0) {
            help_fmt = "Hardware monitor for humidity, as a ratio (multiply with 100.0 to get the "
                       "humidity as a percentage) (%s)";
            value = raw / 1000000.0;
        } else if (strcmp(type, "fan") == 0 &&
                   (strcmp(element, "input") == 0 || strcmp(element, "min") == 0 ||
                    strcmp(element, "max") == 0 || strcmp(element, "target") == 0)) {
            suffix = "_rpm", help_fmt = "Hardware monitor for fan revolutions per minute (%s)";
        }
        if (help_fmt)
            n = snprintf(m->help, sizeof(m->help), help_fmt, help_element);
        else
            n = snprintf(m->help, sizeof(m->help), "Hardware monitor %s element %s", type, element);
    }
    if (n < 0 || n >= (int)sizeof(m->help))
        return false;
    n = snprintf(m->name, sizeof(m->name), "%s%s", base, suffix);
    if (n < 0 || n >= (int)sizeof(m->name))
        return false;
    m->value = value;
    return true;
}

/* Families made during one read, so that a name is made once per batch.
 * Lives in the batch arena, like the families themselves. */
struct hwmon_ne_families {
    const struct sonde_family **items;
    size_t n, cap;
};

static const struct sonde_family *hwmon_ne_family(struct sonde_batch *batch,
                                                  struct hwmon_ne_families *fams,
                                                  const struct hwmon_ne_metric *m)
{
    for (size_t i = 0; i < fams->n; i++)
        if (strcmp(fams->items[i]->name, m->name) == 0)
            return fams->items[i];
    if (fams->n == fams->cap) {
        size_t cap = fams->cap ? fams->cap * 2 : 32;
        const struct sonde_family **grown = sonde_arena_alloc(batch->arena, cap * sizeof(*grown));
        if (fams->n)
            memcpy(grown, fams->items, fams->n * sizeof(*grown));
        fams->items = grown;
        fams->cap = cap;
    }
    const struct sonde_family *f = sonde_family_new(batch, m->name, m->type, m->help);
    fams->items[fams->n++] = f;
    return f;
}

static const struct sonde_family hwmon_ne_chip_names_family = {
    "node_hwmon_chip_names", SONDE_GAUGE, "Annotation metric for human-readable chip names"};
static const struct sonde_family hwmon_ne_sensor_label_family = {
    "node_hwmon_sensor_label", SONDE_GAUGE, "Label for given chip and sensor"};

#endif
