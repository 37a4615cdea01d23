/*
 * powersupplyclass.c - the `powersupplyclass` input: node_exporter's powersupplyclass
 * collector, batteries, AC adapters and USB supplies from /sys/class/power_supply
 * (node_power_supply_online, _capacity, _energy_watthour ... {power_supply}, and _info).
 * Prometheus only: Telegraf has no input for this class.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sonde.h"

struct powersupplyclass_config {
    char *ignored_supplies; /* regex; node_exporter's --collector.powersupply.ignored-supplies */
};

static const struct sonde_option powersupplyclass_options[] = {
    {"ignored_supplies", SONDE_OPT_REGEX,
     offsetof(struct powersupplyclass_config, ignored_supplies), "^$", false,
     "Power supplies left out (node_exporter's --collector.powersupply.ignored-supplies)"},
    {NULL},
};

/* One numeric attribute: its file, node_exporter's family, and the divisor
 * that turns the kernel's unit into the family's (µA, µV, µW, µWh, µAh are
 * divided by 1e6; tenths of a degree by 10). */
struct powersupplyclass_number {
    const char *file;
    struct sonde_family family;
    double divisor;
};

#define PSC_HELP(name) #name " value of /sys/class/power_supply/<power_supply>."
#define PSC(file, name, div)                                                                       \
    {                                                                                              \
        file, {"node_power_supply_" #name, SONDE_GAUGE, PSC_HELP(name)}, div                       \
    }

static const struct powersupplyclass_number powersupplyclass_numbers[] = {
    PSC("authentic", authentic, 1),
    PSC("calibrate", calibrate, 1),
    PSC("capacity", capacity, 1),
    PSC("capacity_alert_max", capacity_alert_max, 1),
    PSC("capacity_alert_min", capacity_alert_min, 1),
    PSC("cycle_count", cyclecount, 1),
    PSC("online", online, 1),
    PSC("present", present, 1),
    PSC("time_to_empty_now", time_to_empty_seconds, 1),
    PSC("time_to_full_now", time_to_full_seconds, 1),
    PSC("current_boot", current_boot, 1e6),
    PSC("current_max", current_max, 1e6),
    PSC("current_now", current_ampere, 1e6),
    PSC("energy_empty", energy_empty, 1e6),
    PSC("energy_empty_design", energy_empty_design, 1e6),
    PSC("energy_full", energy_full, 1e6),
    PSC("energy_full_design", energy_full_design, 1e6),
    PSC("energy_now", energy_watthour, 1e6),
    PSC("voltage_boot", voltage_boot, 1e6),
    PSC("voltage_max", voltage_max, 1e6),
    PSC("voltage_max_design", voltage_max_design, 1e6),
    PSC("voltage_min", voltage_min, 1e6),
    PSC("voltage_min_design", voltage_min_design, 1e6),
    PSC("voltage_now", voltage_volt, 1e6),
    PSC("voltage_ocv", voltage_ocv, 1e6),
    PSC("charge_control_limit", charge_control_limit, 1e6),
    PSC("charge_control_limit_max", charge_control_limit_max, 1e6),
    PSC("charge_counter", charge_counter, 1e6),
    PSC("charge_empty", charge_empty, 1e6),
    PSC("charge_empty_design", charge_empty_design, 1e6),
    PSC("charge_full", charge_full, 1e6),
    PSC("charge_full_design", charge_full_design, 1e6),
    PSC("charge_now", charge_ampere, 1e6),
    PSC("charge_term_current", charge_term_current, 1e6),
    PSC("constant_charge_current", constant_charge_current, 1e6),
    PSC("constant_charge_current_max", constant_charge_current_max, 1e6),
    PSC("constant_charge_voltage", constant_charge_voltage, 1e6),
    PSC("constant_charge_voltage_max", constant_charge_voltage_max, 1e6),
    PSC("precharge_current", precharge_current, 1e6),
    PSC("input_current_limit", input_current_limit, 1e6),
    PSC("power_now", power_watt, 1e6),
    PSC("temp", temp_celsius, 10),
    PSC("temp_alert_max", temp_alert_max_celsius, 10),
    PSC("temp_alert_min", temp_alert_min_celsius, 10),
    PSC("temp_ambient", temp_ambient_celsius, 10),
    PSC("temp_ambient_max", temp_ambient_max_celsius, 10),
    PSC("temp_ambient_min", temp_ambient_min_celsius, 10),
    PSC("temp_max", temp_max_celsius, 10),
    PSC("temp_min", temp_min_celsius, 10),
};

#define PSC_NNUMBERS (sizeof(powersupplyclass_numbers) / sizeof(powersupplyclass_numbers[0]))

/* The text attributes of node_power_supply_info; each is a label when not
 * empty (the supply's name always is). */
static const char *const powersupplyclass_texts[] = {
    "capacity_level", "charge_type", "health", "manufacturer", "model_name", "serial_number",
    "status",         "technology",  "type",   "usb_type",     "scope"};

#define PSC_NTEXTS (sizeof(powersupplyclass_texts) / sizeof(powersupplyclass_texts[0]))

static const struct sonde_family powersupplyclass_info_family = {
    "node_power_supply_info", SONDE_GAUGE, "info of /sys/class/power_supply/<power_supply>."};

/* Attribute values are short; a model name or serial is the longest. */
#define PSC_ATTR_MAX 4096
#define PSC_TEXT_MAX 256

/* What one supply directory says. */
struct powersupplyclass_supply {
    bool has[PSC_NNUMBERS];
    int64_t number[PSC_NNUMBERS];
    char text[PSC_NTEXTS][PSC_TEXT_MAX]; /* "" when absent */
    uint64_t malformed;
};

struct powersupplyclass_state {
    char *class_power_supply; /* <sysfs>/class/power_supply; owned */
    regex_t ignored;          /* compiled ignored_supplies, when has_ignored */
    bool has_ignored;
};

/* ------------------------------------------------------------------ */
/* Parsing                                                              */
/* ------------------------------------------------------------------ */

/* An integer as procfs reads these files (Go's ParseInt with base 0). 0 or
 * -EINVAL. */
static int powersupplyclass_parse_int(const char *text, int64_t *out)
{
    const char *p = text[0] == '-' || text[0] == '+' ? text + 1 : text;
    if (*p < '0' || *p > '9')
        return -EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 0);
    if (errno == ERANGE || *end)
        return -EINVAL;
    *out = v;
    return 0;
}

/* A read error that means "no value now" rather than bad data: the file is
 * not there, or the driver has nothing to say (a battery that is not
 * discharging answers time_to_empty_now with ENODATA, a removed one ENODEV). */
static bool powersupplyclass_absent(long err)
{
    return err == -ENOENT || err == -ENODATA || err == -ENODEV || err == -EINVAL ||
           err == -EOPNOTSUPP || err == -EAGAIN || err == -EACCES || err == -EPERM;
}

static void powersupplyclass_read_supply(int dirfd, struct powersupplyclass_supply *ps)
{
    char buf[PSC_ATTR_MAX];
    ps->malformed = 0;
    for (size_t i = 0; i < PSC_NNUMBERS; i++) {
        ps->has[i] = false;
        long len = sonde_read_attr(dirfd, powersupplyclass_numbers[i].file, buf, sizeof(buf));
        if (len < 0) {
            ps->malformed += !powersupplyclass_absent(len);
            continue;
        }
        if (powersupplyclass_parse_int(buf, &ps->number[i]) == 0)
            ps->has[i] = true;
        else
            ps->malformed++;
    }
    for (size_t i = 0; i < PSC_NTEXTS; i++) {
        ps->text[i][0] = '\0';
        long len = sonde_read_attr(dirfd, powersupplyclass_texts[i], buf, sizeof(buf));
        if (len < 0) {
            ps->malformed += !powersupplyclass_absent(len);
            continue;
        }
        if ((size_t)len >= sizeof(ps->text[i])) {
            ps->malformed++;
            continue;
        }
        memcpy(ps->text[i], buf, (size_t)len + 1);
    }
}

/* ------------------------------------------------------------------ */
/* The plugin                                                           */
/* ------------------------------------------------------------------ */

static int powersupplyclass_init(void **state, const void *config, const struct sonde_context *ctx)
{
    const struct powersupplyclass_config *cfg = config;
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/class/power_supply", ctx->sysfs) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    struct powersupplyclass_state *st = sonde_xcalloc(1, sizeof(*st));
    if (cfg->ignored_supplies && cfg->ignored_supplies[0]) {
        if (regcomp(&st->ignored, cfg->ignored_supplies, REG_EXTENDED | REG_NOSUB) != 0) {
            free(st);
            return -EINVAL; /* the core checked it already */
        }
        st->has_ignored = true;
    }
    st->class_power_supply = sonde_xstrdup(path);
    *state = st;
    return 0;
}

static void powersupplyclass_emit(const char *name, const struct powersupplyclass_supply *ps,
                                  struct sonde_batch *batch)
{
    for (size_t i = 0; i < PSC_NNUMBERS; i++) {
        if (!ps->has[i])
            continue;
        const struct powersupplyclass_number *n = &powersupplyclass_numbers[i];
        double value = (double)ps->number[i];
        if (n->divisor != 1)
            value /= n->divisor;
        sonde_emit(batch, &n->family, value, "power_supply", name, NULL);
    }
    struct sonde_label labels[PSC_NTEXTS + 1];
    size_t nlabels = 0;
    labels[nlabels++] = (struct sonde_label){"power_supply", name};
    for (size_t i = 0; i < PSC_NTEXTS; i++)
        if (ps->text[i][0])
            labels[nlabels++] = (struct sonde_label){powersupplyclass_texts[i], ps->text[i]};
    sonde_emitv(batch, &powersupplyclass_info_family, 1.0, labels, nlabels);
}

static int powersupplyclass_read(void *state, struct sonde_batch *batch)
{
    struct powersupplyclass_state *st = state;
    if (!batch->want_series)
        return 0; /* Prometheus only */
    DIR *dir = opendir(st->class_power_supply);
    if (!dir)
        return errno == ENOENT ? 0 : -errno; /* no power supply class: nothing to report */
    struct powersupplyclass_supply *ps = sonde_arena_alloc(batch->arena, sizeof(*ps));
    for (struct dirent *de; (de = readdir(dir));) {
        if (de->d_name[0] == '.')
            continue;
        if (st->has_ignored && regexec(&st->ignored, de->d_name, 0, NULL, 0) == 0)
            continue;
        int fd = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            continue; /* unplugged since readdir, or not a supply */
        powersupplyclass_read_supply(fd, ps);
        close(fd);
        batch->skipped += ps->malformed;
        powersupplyclass_emit(de->d_name, ps, batch);
    }
    closedir(dir);
    return 0;
}

static void powersupplyclass_destroy(void *state)
{
    struct powersupplyclass_state *st = state;
    if (!st)
        return;
    if (st->has_ignored)
        regfree(&st->ignored);
    free(st->class_power_supply);
    free(st);
}

const struct sonde_plugin sonde_plugin_powersupplyclass = {
    .name = "powersupplyclass",                            /* node_exporter's collector name */
    .kind = SONDE_INPUT,                                   /* an input */
    .summary = "Batteries and power supplies",             /* for --help and docs */
    .config_size = sizeof(struct powersupplyclass_config), /* ignored_supplies */
    .options = powersupplyclass_options,                   /* see the table above */
    .init = powersupplyclass_init,                         /* opens nothing yet */
    .read = powersupplyclass_read,                         /* node_power_supply_* */
    .write = NULL,                                         /* not an output */
    .destroy = powersupplyclass_destroy,                   /* frees the state */
};
