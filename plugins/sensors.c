/*
 * sensors.c - the `sensors` input: every chip, feature and subfeature libsensors (lm-sensors)
 * knows, with its configuration's labels, computations and ignores applied, as Telegraf's
 * inputs.sensors (measurement sensors, tags chip and feature, fields temp_input, fan_input
 * ...) and, when the `prometheus` option says so, as node_exporter's node_hwmon_* families.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sensors/error.h>
#include <sensors/sensors.h>

#include "hwmon_ne.h"
#include "sonde.h"

struct sensors_config {
    bool remove_numbers; /* Telegraf's remove_numbers: temp1_input is field temp_input */
    bool prometheus;     /* also node_hwmon_*: off by default, the hwmon input exports them */
    char *config_file;   /* libsensors configuration; empty: /etc/sensors3.conf, sensors.d */
};

static const struct sonde_option sensors_options[] = {
    {"remove_numbers", SONDE_OPT_BOOL, offsetof(struct sensors_config, remove_numbers), "true",
     false, "line protocol: drop the digits of field names (temp1_input is temp_input)"},
    {"prometheus", SONDE_OPT_BOOL, offsetof(struct sensors_config, prometheus), "false", false,
     "Also export node_hwmon_* (turn the hwmon input off then: it exports the same families)"},
    {"config_file", SONDE_OPT_STRING, offsetof(struct sensors_config, config_file), "", false,
     "libsensors configuration file; empty: libsensors' default (/etc/sensors3.conf)"},
    {NULL},
};

/* libsensors reads this directory, whatever --path.sysfs says. */
#define SENSORS_HWMON_DIR "/sys/class/hwmon"

/*
 * libsensors keeps one process-wide state (its configuration and the chips it
 * found), and is not thread-safe. So all instances of this input share it,
 * under one lock: the count of instances, whether it is loaded, the
 * configuration it was loaded from, and a signature of /sys/class/hwmon at
 * that moment (libsensors looks for chips only when loaded: a driver loaded
 * later, or a hot-plugged device, is found by loading again when the
 * signature changes). This is the one mutable file-level state of the input,
 * forced by the library's design.
 */
static struct {
    pthread_mutex_t lock;
    unsigned users;     /* instances between init and destroy */
    bool loaded;        /* sensors_init succeeded, sensors_cleanup not called since */
    char *config_file;  /* shared by all instances; NULL: the default; owned */
    uint64_t signature; /* of SENSORS_HWMON_DIR at the last load */
    struct sonde_ratelimit load_log;
} sensors_shared = {.lock = PTHREAD_MUTEX_INITIALIZER};

struct sensors_state {
    bool remove_numbers;
    bool prometheus;
};

/* ------------------------------------------------------------------ */
/* What one read finds, in the batch arena                              */
/* ------------------------------------------------------------------ */

/* One readable subfeature. */
struct sensors_reading {
    const char *name; /* the sysfs attribute: "temp1_input" */
    int type;         /* its sensors_subfeature_type */
    double value;     /* libsensors' value: in °C, V, RPM ..., computations applied */
};

/* One feature: "temp1", its label and readings. */
struct sensors_feature_read {
    const char *name;  /* "temp1", or "cpu0_vid", "beep_enable" */
    const char *label; /* sensors_get_label: the configuration's label, the driver's, or name */
    struct sensors_reading *readings;
    size_t n;
};

/* One chip. */
struct sensors_chip_read {
    const char *name; /* "coretemp-isa-0000", as sensors(1) prints it */
    const char *path; /* libsensors' path: the hwmon directory, or its device */
    struct sensors_feature_read *features;
    size_t n;
};

/* ------------------------------------------------------------------ */
/* Line protocol: Telegraf's inputs.sensors (it parses `sensors -A -u`) */
/* ------------------------------------------------------------------ */

/* The feature tag: Telegraf's snake case of the line "<label>:": blanks
 * trimmed, lower case, spaces as '_', trailing ':' removed. Arena copy. */
static const char *sensors_feature_tag(const char *label, struct sonde_arena *arena)
{
    size_t start = 0, end = strlen(label);
    while (start < end && (label[start] == ' ' || (label[start] >= '\t' && label[start] <= '\r')))
        start++;
    char *out = sonde_arena_alloc(arena, end - start + 1);
    size_t n = 0;
    for (size_t i = start; i < end; i++) {
        char c = label[i];
        out[n++] = c == ' ' ? '_' : (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    /* "<label>:" trimmed: trailing blanks of the label stay inside; then every
     * trailing ':' goes, the printed one and any of the label's own. */
    while (n > 0 && out[n - 1] == ':')
        n--;
    out[n] = '\0';
    return out;
}

/* The field name: the attribute name, without its digits when
 * remove_numbers (Telegraf removes every digit). Arena copy. */
static const char *sensors_field_name(const char *name, bool remove_numbers,
                                      struct sonde_arena *arena)
{
    if (!remove_numbers)
        return sonde_arena_strdup(arena, name);
    char *out = sonde_arena_alloc(arena, strlen(name) + 1);
    size_t n = 0;
    for (const char *p = name; *p; p++)
        if (*p < '0' || *p > '9')
            out[n++] = *p;
    out[n] = '\0';
    return out;
}

/* sensors(1) prints values with "%.3f" and Telegraf parses that text: the
 * same rounding, so both agree to the last digit. */
static double sensors_round3(double value)
{
    char text[64];
    snprintf(text, sizeof(text), "%.3f", value);
    return strtod(text, NULL);
}

static void sensors_emit_lp(const struct sensors_state *st, const struct sensors_chip_read *chip,
                            struct sonde_batch *batch)
{
    for (size_t f = 0; f < chip->n; f++) {
        const struct sensors_feature_read *feature = &chip->features[f];
        if (feature->n == 0)
            continue; /* Telegraf drops a feature without values */
        struct sonde_point *p = sonde_point(batch, "sensors");
        sonde_point_tag(batch, p, "chip", chip->name);
        sonde_point_tag(batch, p, "feature", sensors_feature_tag(feature->label, batch->arena));
        for (size_t i = 0; i < feature->n; i++) {
            const struct sensors_reading *r = &feature->readings[i];
            sonde_point_float(batch, p,
                              sensors_field_name(r->name, st->remove_numbers, batch->arena),
                              sensors_round3(r->value));
        }
    }
}

/* ------------------------------------------------------------------ */
/* Prometheus: node_exporter's hwmon families                           */
/* ------------------------------------------------------------------ */

/* libsensors divides each sysfs value by a power of ten chosen by the
 * subfeature's type (its get_type_scaling): millidegrees, millivolts,
 * milliamperes and per-mille humidity by 1000, microwatts and microjoules by
 * 1e6, alarms and the like by 1. node_exporter works from the sysfs values,
 * so we multiply back. */
static double sensors_scale(int type)
{
    switch (type & 0xFF80) {
    case SENSORS_SUBFEATURE_IN_INPUT:
    case SENSORS_SUBFEATURE_TEMP_INPUT:
    case SENSORS_SUBFEATURE_CURR_INPUT:
    case SENSORS_SUBFEATURE_HUMIDITY_INPUT:
        return 1000.0;
    case SENSORS_SUBFEATURE_FAN_INPUT:
        return 1.0;
    case SENSORS_SUBFEATURE_POWER_AVERAGE:
    case SENSORS_SUBFEATURE_ENERGY_INPUT:
        return 1000000.0;
    }
    switch (type) {
    case SENSORS_SUBFEATURE_POWER_AVERAGE_INTERVAL:
    case SENSORS_SUBFEATURE_VID:
    case SENSORS_SUBFEATURE_TEMP_OFFSET:
        return 1000.0;
    default:
        return 1.0;
    }
}

/* The sysfs value behind a libsensors value. Sysfs values are integers; a
 * product that lands within rounding error of one is that integer (so that
 * node_hwmon_* agree with the hwmon input to the last bit). A value changed
 * by a `compute` statement keeps its fraction. */
static double sensors_raw(double value, int type)
{
    double raw = value * sensors_scale(type);
    double r = nearbyint(raw);
    if (fabs(raw - r) <= 1e-9 * fmax(1.0, fabs(raw)))
        raw = r;
    return raw;
}

/* The hwmon directory of a chip: libsensors' path, or its parent when the
 * attributes were on the device (old kernels), like node_exporter names it. */
static const char *sensors_hwmon_dir(const char *path, struct sonde_arena *arena)
{
    size_t len = strlen(path);
    if (len > 7 && strcmp(path + len - 7, "/device") == 0)
        return sonde_arena_strndup(arena, path, len - 7);
    return path;
}

/* node_exporter's sensor key ("temp1", "cpu0", "beep_enable0") and type of an
 * attribute name; false when node_exporter would not read it. */
static bool sensors_ne_key(const char *name, struct sonde_arena *arena, const char **key,
                           const char **type, const char **property)
{
    struct hwmon_ne_attr a;
    if (!hwmon_ne_explode(name, &a) || !hwmon_ne_known_type(a.type, a.type_len))
        return false;
    *type = sonde_arena_strndup(arena, a.type, a.type_len);
    *key = sonde_arena_printf(arena, "%s%lld", *type, a.number);
    *property = a.property;
    return true;
}

static void sensors_emit_prom(const struct sensors_chip_read *chip, struct hwmon_ne_families *fams,
                              struct sonde_batch *batch)
{
    const char *dir = sensors_hwmon_dir(chip->path, batch->arena);
    char label[HWMON_NE_CHIP_MAX];
    if (hwmon_ne_chip_label(dir, label, sizeof(label)) < 0) {
        batch->skipped++;
        return;
    }
    char path[4096], text[HWMON_NE_CHIP_MAX], clean[HWMON_NE_CHIP_MAX];
    long len;
    if (snprintf(path, sizeof(path), "%s/name", dir) < (int)sizeof(path) &&
        (len = hwmon_ne_read_file(path, text, sizeof(text))) > 0 &&
        hwmon_ne_clean(text, (size_t)len, clean, sizeof(clean)) > 0)
        sonde_emit(batch, &hwmon_ne_chip_names_family, 1.0, "chip", label, "chip_name", clean,
                   NULL);

    for (size_t f = 0; f < chip->n; f++) {
        const struct sensors_feature_read *feature = &chip->features[f];
        const char *key, *type, *property;
        /* A label of the driver or of the configuration: node_exporter's
         * sensor_label (sensors_get_label gives the name when there is none). */
        if (strcmp(feature->label, feature->name) != 0 &&
            sensors_ne_key(feature->name, batch->arena, &key, &type, &property))
            sonde_emit(batch, &hwmon_ne_sensor_label_family, 1.0, "chip", label, "sensor", key,
                       "label", feature->label, NULL);
        for (size_t i = 0; i < feature->n; i++) {
            const struct sensors_reading *r = &feature->readings[i];
            if (!sensors_ne_key(r->name, batch->arena, &key, &type, &property))
                continue;
            struct hwmon_ne_metric m;
            double raw = sensors_raw(r->value, r->type);
            if (hwmon_ne_whole_type(type)) {
                if (property[0])
                    continue;
                hwmon_ne_describe_whole(type, raw, &m);
            } else if (!hwmon_ne_describe(type, property, false, raw, &m)) {
                continue;
            }
            sonde_emit(batch, hwmon_ne_family(batch, fams, &m), m.value, "chip", label, "sensor",
                       key, NULL);
        }
    }
}

/* ------------------------------------------------------------------ */
/* libsensors                                                           */
/* ------------------------------------------------------------------ */

static void sensors_parse_error_wfn_log(const char *err, const char *filename, int lineno)
{
    sonde_log(SONDE_LOG_ERROR, "sensors: %s:%d: %s", filename ? filename : "(configuration)",
              lineno, err);
}

/* A signature of SENSORS_HWMON_DIR: the entries and where they point (a
 * number is reused when a device goes and another comes). 0 without the
 * directory. FNV-1a over each entry, summed so that order does not matter. */
static uint64_t sensors_signature(void)
{
    DIR *dir = opendir(SENSORS_HWMON_DIR);
    if (!dir)
        return 0;
    uint64_t sig = 1;
    for (struct dirent *de; (de = readdir(dir));) {
        if (de->d_name[0] == '.')
            continue;
        char target[512];
        ssize_t n = readlinkat(dirfd(dir), de->d_name, target, sizeof(target) - 1);
        target[n > 0 ? n : 0] = '\0';
        uint64_t h = 1469598103934665603ull;
        for (const char *p = de->d_name; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ull;
        h = (h ^ '/') * 1099511628211ull;
        for (const char *p = target; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ull;
        sig += h;
    }
    closedir(dir);
    return sig;
}

/* (Re)loads libsensors: its configuration and the chips. Lock held. Returns
 * 0, or -EINVAL when the configuration does not parse (logged). */
static int sensors_load_locked(uint64_t signature)
{
    if (sensors_shared.loaded) {
        sensors_cleanup();
        sensors_shared.loaded = false;
    }
    sensors_parse_error_wfn = sensors_parse_error_wfn_log;
    FILE *f = NULL;
    if (sensors_shared.config_file) {
        f = fopen(sensors_shared.config_file, "re");
        if (!f) {
            sonde_log_limited(&sensors_shared.load_log, 60, SONDE_LOG_ERROR, "sensors: %s: %s",
                              sensors_shared.config_file, strerror(errno));
            return -ENOENT;
        }
    }
    int rc = sensors_init(f);
    if (f)
        fclose(f);
    if (rc != 0) {
        sonde_log_limited(&sensors_shared.load_log, 60, SONDE_LOG_ERROR,
                          "sensors: libsensors failed to start: %s", sensors_strerror(rc));
        sensors_cleanup();
        return -EINVAL;
    }
    sensors_shared.loaded = true;
    sensors_shared.signature = signature;
    return 0;
}

/* Reads every readable subfeature of every chip into the arena. Lock held.
 * A value libsensors cannot read (a sensor asleep, a fan without a tach)
 * is left out, as sensors(1) leaves it out of its output. */
static size_t sensors_collect_locked(struct sonde_arena *arena, struct sensors_chip_read **out)
{
    size_t nchips = 0, cap = 0;
    struct sensors_chip_read *chips = NULL;
    const sensors_chip_name *cn;
    for (int cnr = 0; (cn = sensors_get_detected_chips(NULL, &cnr));) {
        char name[256];
        if (sensors_snprintf_chip_name(name, sizeof(name), cn) < 0)
            continue;
        if (nchips == cap) {
            cap = cap ? cap * 2 : 8;
            struct sensors_chip_read *grown = sonde_arena_alloc(arena, cap * sizeof(*grown));
            if (nchips)
                memcpy(grown, chips, nchips * sizeof(*grown));
            chips = grown;
        }
        struct sensors_chip_read *chip = &chips[nchips++];
        *chip = (struct sensors_chip_read){sonde_arena_strdup(arena, name),
                                           sonde_arena_strdup(arena, cn->path), NULL, 0};
        size_t fcap = 0;
        const sensors_feature *feat;
        for (int fnr = 0; (feat = sensors_get_features(cn, &fnr));) {
            if (chip->n == fcap) {
                fcap = fcap ? fcap * 2 : 16;
                struct sensors_feature_read *grown =
                    sonde_arena_alloc(arena, fcap * sizeof(*grown));
                if (chip->n)
                    memcpy(grown, chip->features, chip->n * sizeof(*grown));
                chip->features = grown;
            }
            struct sensors_feature_read *fr = &chip->features[chip->n++];
            char *label = sensors_get_label(cn, feat); /* malloc'd by libsensors */
            *fr = (struct sensors_feature_read){sonde_arena_strdup(arena, feat->name),
                                                sonde_arena_strdup(arena, label ? label : ""), NULL,
                                                0};
            free(label);
            size_t rcap = 0;
            const sensors_subfeature *sf;
            for (int snr = 0; (sf = sensors_get_all_subfeatures(cn, feat, &snr));) {
                double value;
                if (!(sf->flags & SENSORS_MODE_R) || sensors_get_value(cn, sf->number, &value) < 0)
                    continue;
                if (fr->n == rcap) {
                    rcap = rcap ? rcap * 2 : 8;
                    struct sensors_reading *grown = sonde_arena_alloc(arena, rcap * sizeof(*grown));
                    if (fr->n)
                        memcpy(grown, fr->readings, fr->n * sizeof(*grown));
                    fr->readings = grown;
                }
                fr->readings[fr->n++] =
                    (struct sensors_reading){sonde_arena_strdup(arena, sf->name), sf->type, value};
            }
        }
    }
    *out = chips;
    return nchips;
}

/* ------------------------------------------------------------------ */
/* The plugin                                                           */
/* ------------------------------------------------------------------ */

static int sensors_init_plugin(void **state, const void *config, const struct sonde_context *ctx)
{
    const struct sensors_config *cfg = config;
    const char *file = cfg->config_file && cfg->config_file[0] ? cfg->config_file : NULL;
    if (strcmp(ctx->sysfs, "/sys") != 0)
        sonde_log(SONDE_LOG_INFO, "sensors: libsensors reads /sys, not %s", ctx->sysfs);
    pthread_mutex_lock(&sensors_shared.lock);
    int rc = 0;
    if (sensors_shared.users > 0) {
        const char *have = sensors_shared.config_file;
        if ((have == NULL) != (file == NULL) || (have && strcmp(have, file) != 0)) {
            sonde_log(SONDE_LOG_ERROR, "sensors: every instance must use the same config_file "
                                       "(libsensors has one configuration per process)");
            rc = -EINVAL;
        }
    } else {
        sensors_shared.config_file = file ? sonde_xstrdup(file) : NULL;
        uint64_t signature = sensors_signature();
        /* Without hwmon there is nothing to find yet: load when it appears. */
        if (signature != 0)
            rc = sensors_load_locked(signature);
        if (rc < 0) {
            free(sensors_shared.config_file);
            sensors_shared.config_file = NULL;
        }
    }
    if (rc == 0)
        sensors_shared.users++;
    pthread_mutex_unlock(&sensors_shared.lock);
    if (rc < 0)
        return rc;
    struct sensors_state *st = sonde_xcalloc(1, sizeof(*st));
    st->remove_numbers = cfg->remove_numbers;
    st->prometheus = cfg->prometheus;
    *state = st;
    return 0;
}

static int sensors_read(void *state, struct sonde_batch *batch)
{
    struct sensors_state *st = state;
    bool series = st->prometheus && batch->want_series;
    if (!series && !batch->want_points)
        return 0;
    pthread_mutex_lock(&sensors_shared.lock);
    int rc = 0;
    struct sensors_chip_read *chips = NULL;
    size_t n = 0;
    uint64_t signature = sensors_signature();
    if (signature == 0) {
        /* No hwmon class (this VM, a container): no sensors, and no error. */
    } else if (!sensors_shared.loaded || signature != sensors_shared.signature) {
        rc = sensors_load_locked(signature);
    }
    if (rc == 0 && signature != 0 && sensors_shared.loaded)
        n = sensors_collect_locked(batch->arena, &chips);
    pthread_mutex_unlock(&sensors_shared.lock);
    if (rc < 0)
        return -EIO;

    struct hwmon_ne_families fams = {0};
    for (size_t i = 0; i < n; i++) {
        if (batch->want_points)
            sensors_emit_lp(st, &chips[i], batch);
        if (series)
            sensors_emit_prom(&chips[i], &fams, batch);
    }
    return 0;
}

static void sensors_destroy(void *state)
{
    if (!state)
        return;
    pthread_mutex_lock(&sensors_shared.lock);
    if (sensors_shared.users > 0 && --sensors_shared.users == 0) {
        if (sensors_shared.loaded)
            sensors_cleanup();
        sensors_shared.loaded = false;
        free(sensors_shared.config_file);
        sensors_shared.config_file = NULL;
    }
    pthread_mutex_unlock(&sensors_shared.lock);
    free(state);
}

const struct sonde_plugin sonde_plugin_sensors = {
    .name = "sensors",                            /* Telegraf's input name */
    .kind = SONDE_INPUT,                          /* an input */
    .summary = "Hardware sensors (libsensors)",   /* for --help and docs */
    .config_size = sizeof(struct sensors_config), /* remove_numbers, prometheus, config_file */
    .options = sensors_options,                   /* see the table above */
    .init = sensors_init_plugin,                  /* loads libsensors (shared) */
    .read = sensors_read,                         /* "sensors" points, node_hwmon_* */
    .write = NULL,                                /* not an output */
    .destroy = sensors_destroy,                   /* unloads libsensors with the last one */
};
