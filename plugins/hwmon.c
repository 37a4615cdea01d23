/*
 * hwmon.c - the `hwmon` input: hardware sensors straight from /sys/class/hwmon, as
 * node_exporter's hwmon collector (node_hwmon_temp_celsius{chip,sensor}, _fan_rpm, _in_volts,
 * _chip_names, _sensor_label ..., naming shared with sensors.c in hwmon_ne.h) and as
 * Telegraf's inputs.temp (measurement temp, tag sensor, field temp; its v2 sensor names).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hwmon_ne.h"
#include "sonde.h"

struct hwmon_config {
    char *metric_format; /* Telegraf's temp metric_format: "v2" (default) or "v1" */
    bool add_device_tag; /* Telegraf's add_device_tag */
};

static const struct sonde_option hwmon_options[] = {
    {"metric_format", SONDE_OPT_STRING, offsetof(struct hwmon_config, metric_format), "v2", false,
     "line protocol: Telegraf temp's sensor naming, v2 (core_0) or v1 (core0)"},
    {"add_device_tag", SONDE_OPT_BOOL, offsetof(struct hwmon_config, add_device_tag), "false",
     false, "line protocol: add the device tag (the hwmon device's name)"},
    {NULL},
};

/* node_exporter reads one attribute with a single read of this many bytes. */
#define HWMON_READ_MAX 128

/* One attribute file of a chip, read. Strings live in the batch arena. */
struct hwmon_file {
    const char *name;  /* "temp1_input" */
    const char *value; /* content, newlines trimmed at both ends */
    bool in_device;    /* found in <hwmon>/device/ (old kernels) */
};

/* One hwmon directory, read. */
struct hwmon_chip {
    const char *entry; /* "hwmon3" */
    const char *path;  /* <sysfs>/class/hwmon/hwmon3 */
    struct hwmon_file *files;
    size_t nfiles, cap;
};

struct hwmon_state {
    char *class_hwmon;   /* <sysfs>/class/hwmon; owned */
    char *class_thermal; /* <sysfs>/class/thermal, Telegraf's fallback; owned */
    bool lp_v1;          /* metric_format v1 */
    bool add_device_tag;
};

/* ------------------------------------------------------------------ */
/* Reading a chip                                                       */
/* ------------------------------------------------------------------ */

static int hwmon_name_compare(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Reads one attribute as node_exporter does: one read of at most 128 bytes
 * (broken drivers answer EAGAIN forever to read-until-EOF loops), then the
 * newlines at both ends go. Returns the arena copy, or NULL when unreadable. */
static const char *hwmon_read_value(int dirfd, const char *name, struct sonde_arena *arena)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return NULL;
    char buf[HWMON_READ_MAX];
    ssize_t n;
    do {
        n = read(fd, buf, sizeof(buf));
    } while (n < 0 && errno == EINTR);
    close(fd);
    if (n < 0)
        return NULL;
    size_t start = 0, end = (size_t)n;
    while (start < end && buf[start] == '\n')
        start++;
    while (end > start && buf[end - 1] == '\n')
        end--;
    return sonde_arena_strndup(arena, buf + start, end - start);
}

/* Appends the sensor attributes of directory `dirfd` to `chip`, in name
 * order (as Go's ReadDir gives them, so later duplicates win the same way).
 * `temps_only`: only temp* files (line protocol alone needs no more). */
static void hwmon_read_dir(int dirfd, bool in_device, bool temps_only, struct hwmon_chip *chip,
                           struct sonde_arena *arena)
{
    int fd = dup(dirfd);
    if (fd < 0)
        return;
    DIR *dir = fdopendir(fd);
    if (!dir) {
        close(fd);
        return;
    }
    const char **names = NULL;
    size_t nnames = 0, cap = 0;
    for (struct dirent *de; (de = readdir(dir));) {
        struct hwmon_ne_attr attr;
        if (de->d_name[0] == '.' || !hwmon_ne_explode(de->d_name, &attr) ||
            !hwmon_ne_known_type(attr.type, attr.type_len))
            continue;
        if (temps_only && (attr.type_len != 4 || memcmp(attr.type, "temp", 4) != 0))
            continue;
        if (nnames == cap) {
            cap = cap ? cap * 2 : 64;
            const char **grown = sonde_arena_alloc(arena, cap * sizeof(*grown));
            if (nnames)
                memcpy(grown, names, nnames * sizeof(*grown));
            names = grown;
        }
        names[nnames++] = sonde_arena_strdup(arena, de->d_name);
    }
    closedir(dir);
    if (nnames)
        qsort(names, nnames, sizeof(*names), hwmon_name_compare);
    for (size_t i = 0; i < nnames; i++) {
        const char *value = hwmon_read_value(dirfd, names[i], arena);
        if (!value)
            continue; /* a sensor that is absent or asleep: as node_exporter, no sample */
        if (chip->nfiles == chip->cap) {
            size_t ncap = chip->cap ? chip->cap * 2 : 64;
            struct hwmon_file *grown = sonde_arena_alloc(arena, ncap * sizeof(*grown));
            if (chip->nfiles)
                memcpy(grown, chip->files, chip->nfiles * sizeof(*grown));
            chip->files = grown;
            chip->cap = ncap;
        }
        chip->files[chip->nfiles++] = (struct hwmon_file){names[i], value, in_device};
    }
}

/* Reads a chip: its own attributes (`top`), then those of its device (where
 * old kernels put them; node_exporter reads both, the device's winning). */
static void hwmon_read_chip(struct hwmon_chip *chip, bool top, bool device, bool temps_only,
                            struct sonde_arena *arena)
{
    int dirfd = open(chip->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return;
    if (top)
        hwmon_read_dir(dirfd, false, temps_only, chip, arena);
    if (device) {
        int devfd = openat(dirfd, "device", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (devfd >= 0) {
            hwmon_read_dir(devfd, true, temps_only, chip, arena);
            close(devfd);
        }
    }
    close(dirfd);
}

/* The chips: every entry of class/hwmon that is a directory or a link to one. */
static size_t hwmon_list_chips(const struct hwmon_state *st, struct sonde_arena *arena,
                               struct hwmon_chip **out)
{
    DIR *dir = opendir(st->class_hwmon);
    if (!dir)
        return 0; /* no hwmon class: a host (or VM) without sensors */
    const char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *de; (de = readdir(dir));) {
        if (de->d_name[0] == '.')
            continue;
        struct stat sb;
        if (fstatat(dirfd(dir), de->d_name, &sb, 0) < 0 || !S_ISDIR(sb.st_mode))
            continue; /* a dangling link or a stray file */
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            const char **grown = sonde_arena_alloc(arena, cap * sizeof(*grown));
            if (n)
                memcpy(grown, names, n * sizeof(*grown));
            names = grown;
        }
        names[n++] = sonde_arena_strdup(arena, de->d_name);
    }
    closedir(dir);
    if (n)
        qsort(names, n, sizeof(*names), hwmon_name_compare);
    struct hwmon_chip *chips = sonde_arena_alloc(arena, (n ? n : 1) * sizeof(*chips));
    for (size_t i = 0; i < n; i++) {
        chips[i].entry = names[i];
        chips[i].path = sonde_arena_printf(arena, "%s/%s", st->class_hwmon, names[i]);
    }
    *out = chips;
    return n;
}

/* ------------------------------------------------------------------ */
/* Prometheus: node_exporter's hwmon collector                          */
/* ------------------------------------------------------------------ */

/* One attribute keyed as node_exporter keys it: sensor "temp1" (type and
 * number; "temp01" is "temp1" too), property "input". */
struct hwmon_attr {
    const char *sensor;
    const char *type;
    const char *property;
    const char *value;
    size_t order; /* position in the chip's file list: later wins */
};

static int hwmon_attr_compare(const void *a, const void *b)
{
    const struct hwmon_attr *x = a, *y = b;
    int c = strcmp(x->sensor, y->sensor);
    if (!c)
        c = strcmp(x->property, y->property);
    if (!c)
        c = x->order < y->order ? -1 : x->order > y->order;
    return c;
}

/* Parses a value as Go's ParseFloat takes it: the whole string, no blanks. */
static bool hwmon_parse_float(const char *text, double *out)
{
    if (!text[0] || text[0] == ' ' || text[0] == '\t' || text[0] == '\n')
        return false;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (*end || (errno == ERANGE && v != 0.0))
        return false;
    *out = v;
    return true;
}

/* Emits the samples of one sensor: attrs[0..n) share the sensor key and are
 * sorted by property, one per property. */
static void hwmon_emit_sensor(const char *chip, const struct hwmon_attr *attrs, size_t n,
                              struct hwmon_ne_families *fams, struct sonde_batch *batch)
{
    const char *sensor = attrs[0].sensor, *type = attrs[0].type;
    bool has_bare = false;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(attrs[i].property, "label") == 0)
            sonde_emit(batch, &hwmon_ne_sensor_label_family, 1.0, "chip", chip, "sensor", sensor,
                       "label", attrs[i].value, NULL);
        has_bare |= attrs[i].property[0] == '\0';
    }
    struct hwmon_ne_metric m;
    double raw;
    if (hwmon_ne_whole_type(type)) {
        for (size_t i = 0; i < n; i++) {
            if (attrs[i].property[0])
                continue;
            /* beep_enable compares the text with "1"; the others need a number. */
            if (strcmp(type, "beep_enable") == 0)
                raw = strcmp(attrs[i].value, "1") == 0 ? 1.0 : 0.0;
            else if (!hwmon_parse_float(attrs[i].value, &raw))
                break;
            hwmon_ne_describe_whole(type, raw, &m);
            sonde_emit(batch, hwmon_ne_family(batch, fams, &m), m.value, "chip", chip, "sensor",
                       sensor, NULL);
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *property = attrs[i].property;
        if (strcmp(property, "label") == 0)
            continue;
        if (!hwmon_parse_float(attrs[i].value, &raw)) {
            /* Text attributes (power1_model_number) are normal; an unreadable
             * reading is not. */
            batch->skipped += strcmp(property, "input") == 0;
            continue;
        }
        if (hwmon_ne_describe(type, property, has_bare, raw, &m))
            sonde_emit(batch, hwmon_ne_family(batch, fams, &m), m.value, "chip", chip, "sensor",
                       sensor, NULL);
    }
}

static void hwmon_emit_chip(const struct hwmon_chip *chip, struct hwmon_ne_families *fams,
                            struct sonde_batch *batch)
{
    char label[HWMON_NE_CHIP_MAX];
    if (hwmon_ne_chip_label(chip->path, label, sizeof(label)) < 0) {
        batch->skipped++; /* node_exporter fails the collector here; we go on */
        return;
    }
    char path[4096], text[HWMON_NE_CHIP_MAX], clean[HWMON_NE_CHIP_MAX];
    long len;
    if (snprintf(path, sizeof(path), "%s/name", chip->path) < (int)sizeof(path) &&
        (len = hwmon_ne_read_file(path, text, sizeof(text))) > 0 &&
        hwmon_ne_clean(text, (size_t)len, clean, sizeof(clean)) > 0)
        sonde_emit(batch, &hwmon_ne_chip_names_family, 1.0, "chip", label, "chip_name", clean,
                   NULL);

    struct hwmon_attr *attrs =
        sonde_arena_alloc(batch->arena, (chip->nfiles ? chip->nfiles : 1) * sizeof(*attrs));
    size_t n = 0;
    for (size_t i = 0; i < chip->nfiles; i++) {
        struct hwmon_ne_attr a;
        if (!hwmon_ne_explode(chip->files[i].name, &a))
            continue;
        char *type = sonde_arena_strndup(batch->arena, a.type, a.type_len);
        attrs[n] = (struct hwmon_attr){
            .sensor = sonde_arena_printf(batch->arena, "%s%lld", type, a.number),
            .type = type,
            .property = a.property,
            .value = chip->files[i].value,
            .order = i,
        };
        n++;
    }
    if (n > 1)
        qsort(attrs, n, sizeof(*attrs), hwmon_attr_compare);
    /* Keep the last of each (sensor, property), then emit sensor by sensor. */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (kept && strcmp(attrs[kept - 1].sensor, attrs[i].sensor) == 0 &&
            strcmp(attrs[kept - 1].property, attrs[i].property) == 0)
            attrs[kept - 1] = attrs[i];
        else
            attrs[kept++] = attrs[i];
    }
    for (size_t i = 0; i < kept;) {
        size_t j = i + 1;
        while (j < kept && strcmp(attrs[j].sensor, attrs[i].sensor) == 0)
            j++;
        hwmon_emit_sensor(label, attrs + i, j - i, fams, batch);
        i = j;
    }
}

/* ------------------------------------------------------------------ */
/* Line protocol: Telegraf's inputs.temp                                */
/* ------------------------------------------------------------------ */

/* Go's strings.TrimSpace into an arena copy. */
static char *hwmon_trim_space(const char *s, struct sonde_arena *arena)
{
    size_t start = 0, end = strlen(s);
    while (start < end && (s[start] == ' ' || (s[start] >= '\t' && s[start] <= '\r')))
        start++;
    while (end > start && (s[end - 1] == ' ' || (s[end - 1] >= '\t' && s[end - 1] <= '\r')))
        end--;
    return sonde_arena_strndup(arena, s + start, end - start);
}

/* Go's strconv.ParseBool. */
static bool hwmon_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < 6; i++) {
        if (strcmp(s, yes[i]) == 0)
            return *out = true, true;
        if (strcmp(s, no[i]) == 0)
            return *out = false, true;
    }
    return false;
}

/* Telegraf's sensor name and device for a directory holding temp*_input:
 * the device link's last element, and the `name` attribute (trimmed) or,
 * without one, that device name. */
static void hwmon_lp_names(const char *dir, struct sonde_arena *arena, const char **name,
                           const char **device)
{
    char path[4096], link[4096], text[HWMON_NE_CHIP_MAX];
    *device = "";
    if (snprintf(path, sizeof(path), "%s/device", dir) < (int)sizeof(path)) {
        ssize_t n = readlink(path, link, sizeof(link) - 1);
        if (n > 0) {
            link[n] = '\0';
            size_t len;
            const char *base = hwmon_ne_basename(link, &len);
            *device = sonde_arena_strndup(arena, base, len);
        }
    }
    long len;
    if (snprintf(path, sizeof(path), "%s/name", dir) < (int)sizeof(path) &&
        (len = hwmon_ne_read_file(path, text, sizeof(text))) >= 0)
        *name = hwmon_trim_space(text, arena);
    else
        *name = *device;
}

static void hwmon_lp_point(const struct hwmon_state *st, struct sonde_batch *batch,
                           const char *sensor, const char *device, const char *field, bool is_bool,
                           double value, bool flag)
{
    struct sonde_point *p = sonde_point(batch, "temp");
    sonde_point_tag(batch, p, "sensor", sensor);
    if (st->add_device_tag)
        sonde_point_tag(batch, p, "device", device);
    if (is_bool)
        sonde_point_bool(batch, p, field, flag);
    else
        sonde_point_float(batch, p, field, value);
}

/* The base of Telegraf's sensor tag: name, then the lowered label with its
 * spaces as '_' (v2) or removed (v1). */
static const char *hwmon_lp_sensor_base(const struct hwmon_state *st, const char *name,
                                        const char *label, struct sonde_arena *arena)
{
    if (!label || !label[0])
        return name;
    size_t len = strlen(label);
    char *out = sonde_arena_alloc(arena, strlen(name) + len + 2);
    size_t k = strlen(name);
    memcpy(out, name, k);
    out[k++] = '_';
    for (size_t i = 0; i < len; i++) {
        char c = label[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c == ' ') {
            if (st->lp_v1)
                continue;
            c = '_';
        }
        out[k++] = c;
    }
    out[k] = '\0';
    return out;
}

/* The points of one temperature sensor: files[0..n) are the "<prefix>_*"
 * attributes of one directory, `input` among them. */
static void hwmon_lp_sensor(const struct hwmon_state *st, const char *name, const char *device,
                            const char *prefix, const struct hwmon_file *files, size_t n,
                            struct sonde_batch *batch)
{
    size_t plen = strlen(prefix);
    const char *label = NULL, *input = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *prop = files[i].name + plen + 1;
        if (strcmp(prop, "label") == 0)
            label = hwmon_trim_space(files[i].value, batch->arena);
        else if (strcmp(prop, "input") == 0)
            input = files[i].value;
    }
    if (!input)
        return;
    const char *base = hwmon_lp_sensor_base(st, name, label, batch->arena);
    double v = 0.0; /* Telegraf reports 0 for an input it cannot parse */
    if (!hwmon_parse_float(hwmon_trim_space(input, batch->arena), &v) && !batch->want_series)
        batch->skipped++; /* (counted once: by the Prometheus side when it runs) */
    char *tag = sonde_arena_printf(batch->arena, "%s_input", base);
    hwmon_lp_point(st, batch, tag, device, "temp", false, v / 1000.0, false);
    for (size_t i = 0; i < n; i++) {
        const char *prop = files[i].name + plen + 1;
        if (strcmp(prop, "label") == 0 || strcmp(prop, "input") == 0)
            continue;
        const char *text = hwmon_trim_space(files[i].value, batch->arena);
        tag = sonde_arena_printf(batch->arena, "%s_%s", base, prop);
        bool flag;
        if (strcmp(prop, "alarm") == 0) {
            if (hwmon_parse_bool(text, &flag))
                hwmon_lp_point(st, batch, tag, device, "active", true, 0.0, flag);
        } else if (hwmon_parse_float(text, &v)) {
            hwmon_lp_point(st, batch, tag, device, "temp", false, v / 1000.0, false);
        }
    }
}

/* Telegraf's view of one chip: the temp<N>_input files of the chip's own
 * directory, or of its device directory when `from_device`. */
static void hwmon_lp_chip(const struct hwmon_state *st, const struct hwmon_chip *chip,
                          bool from_device, struct sonde_batch *batch)
{
    const char *dir =
        from_device ? sonde_arena_printf(batch->arena, "%s/device", chip->path) : chip->path;
    const char *name, *device;
    bool named = false;
    for (size_t i = 0; i < chip->nfiles; i++) {
        const struct hwmon_file *f = &chip->files[i];
        const char *us = strchr(f->name, '_');
        if (f->in_device != from_device || strncmp(f->name, "temp", 4) != 0 || !us ||
            strcmp(us + 1, "input") != 0)
            continue;
        if (!named) {
            hwmon_lp_names(dir, batch->arena, &name, &device);
            named = true;
        }
        char *prefix = sonde_arena_strndup(batch->arena, f->name, (size_t)(us - f->name));
        size_t plen = strlen(prefix);
        /* The prefix's attributes are contiguous: the list is in name order. */
        size_t first = i, last = i;
        while (first > 0 && chip->files[first - 1].in_device == from_device &&
               strncmp(chip->files[first - 1].name, prefix, plen) == 0 &&
               chip->files[first - 1].name[plen] == '_')
            first--;
        while (last + 1 < chip->nfiles && chip->files[last + 1].in_device == from_device &&
               strncmp(chip->files[last + 1].name, prefix, plen) == 0 &&
               chip->files[last + 1].name[plen] == '_')
            last++;
        hwmon_lp_sensor(st, name, device, prefix, chip->files + first, last - first + 1, batch);
    }
}

static bool hwmon_chip_has_input(const struct hwmon_chip *chip, bool in_device)
{
    for (size_t i = 0; i < chip->nfiles; i++) {
        const char *us = strchr(chip->files[i].name, '_');
        if (chip->files[i].in_device == in_device && us && strcmp(us + 1, "input") == 0 &&
            strncmp(chip->files[i].name, "temp", 4) == 0)
            return true;
    }
    return false;
}

/* Without any hwmon temperature Telegraf reads the thermal zones: one point
 * per zone, sensor "<type>_input". */
static void hwmon_lp_thermal_zones(const struct hwmon_state *st, struct sonde_batch *batch)
{
    DIR *dir = opendir(st->class_thermal);
    if (!dir)
        return;
    for (struct dirent *de; (de = readdir(dir));) {
        if (strncmp(de->d_name, "thermal_zone", 12) != 0)
            continue;
        int fd = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            continue;
        const char *type = hwmon_read_value(fd, "type", batch->arena);
        const char *temp = hwmon_read_value(fd, "temp", batch->arena);
        close(fd);
        double v;
        if (!type || !temp || !hwmon_parse_float(hwmon_trim_space(temp, batch->arena), &v))
            continue; /* asleep (EAGAIN) or gone: Telegraf passes over it too */
        char *tag =
            sonde_arena_printf(batch->arena, "%s_input", hwmon_trim_space(type, batch->arena));
        hwmon_lp_point(st, batch, tag, "", "temp", false, v / 1000.0, false);
    }
    closedir(dir);
}

static void hwmon_emit_lp(const struct hwmon_state *st, struct hwmon_chip *chips, size_t n,
                          bool device_read, struct sonde_batch *batch)
{
    /* Telegraf globs hwmonN/tempM_input, and only when that finds nothing
     * hwmonN/device/tempM_input (CentOS' layout). */
    bool top = false;
    for (size_t i = 0; i < n && !top; i++)
        top = strncmp(chips[i].entry, "hwmon", 5) == 0 && hwmon_chip_has_input(&chips[i], false);
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(chips[i].entry, "hwmon", 5) != 0)
            continue;
        if (!top && !device_read)
            hwmon_read_chip(&chips[i], false, true, true, batch->arena); /* the device's */
        if (hwmon_chip_has_input(&chips[i], !top)) {
            hwmon_lp_chip(st, &chips[i], !top, batch);
            any = true;
        }
    }
    if (!any)
        hwmon_lp_thermal_zones(st, batch);
}

/* ------------------------------------------------------------------ */
/* The plugin                                                           */
/* ------------------------------------------------------------------ */

static int hwmon_init(void **state, const void *config, const struct sonde_context *ctx)
{
    const struct hwmon_config *cfg = config;
    const char *format = cfg->metric_format && cfg->metric_format[0] ? cfg->metric_format : "v2";
    if (strcmp(format, "v1") != 0 && strcmp(format, "v2") != 0) {
        sonde_log(SONDE_LOG_ERROR, "hwmon: metric_format must be v1 or v2, not \"%s\"", format);
        return -EINVAL;
    }
    char hwmon[4096], thermal[4096];
    if (snprintf(hwmon, sizeof(hwmon), "%s/class/hwmon", ctx->sysfs) >= (int)sizeof(hwmon) ||
        snprintf(thermal, sizeof(thermal), "%s/class/thermal", ctx->sysfs) >= (int)sizeof(thermal))
        return -ENAMETOOLONG;
    struct hwmon_state *st = sonde_xcalloc(1, sizeof(*st));
    st->class_hwmon = sonde_xstrdup(hwmon);
    st->class_thermal = sonde_xstrdup(thermal);
    st->lp_v1 = strcmp(format, "v1") == 0;
    st->add_device_tag = cfg->add_device_tag;
    *state = st;
    return 0;
}

static int hwmon_read(void *state, struct sonde_batch *batch)
{
    struct hwmon_state *st = state;
    if (!batch->want_series && !batch->want_points)
        return 0;
    struct hwmon_chip *chips = NULL;
    size_t n = hwmon_list_chips(st, batch->arena, &chips);
    /* Line protocol alone needs only the temperatures, and the device
     * directories only in Telegraf's fallback (read on demand). */
    bool full = batch->want_series;
    for (size_t i = 0; i < n; i++)
        hwmon_read_chip(&chips[i], true, full, !full, batch->arena);
    if (batch->want_series) {
        struct hwmon_ne_families fams = {0};
        for (size_t i = 0; i < n; i++)
            hwmon_emit_chip(&chips[i], &fams, batch);
    }
    if (batch->want_points)
        hwmon_emit_lp(st, chips, n, full, batch);
    return 0; /* a host without sensors reports none, and that is no error */
}

static void hwmon_destroy(void *state)
{
    struct hwmon_state *st = state;
    if (!st)
        return;
    free(st->class_hwmon);
    free(st->class_thermal);
    free(st);
}

const struct sonde_plugin sonde_plugin_hwmon = {
    .name = "hwmon",                                  /* node_exporter's collector name */
    .kind = SONDE_INPUT,                              /* an input */
    .summary = "Hardware sensors (/sys/class/hwmon)", /* for --help and docs */
    .config_size = sizeof(struct hwmon_config),       /* Telegraf temp's options */
    .options = hwmon_options,                         /* see the table above */
    .init = hwmon_init,                               /* opens nothing yet */
    .read = hwmon_read,                               /* node_hwmon_* and "temp" */
    .write = NULL,                                    /* not an output */
    .destroy = hwmon_destroy,                         /* frees the state */
};
