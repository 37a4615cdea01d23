/*
 * systemd.c - the `systemd` input: unit states and socket, service and timer counters from
 * systemd's D-Bus API, as node_exporter 1.5's systemd collector (node_systemd_*) and as
 * Telegraf's inputs.systemd_units ("systemd_units"). Off by default, as in node_exporter.
 *
 * Design note: sd-bus comes from libsystemd, loaded with dlopen when an instance starts
 * (include/sonde_dynlib.h). The connection stays open between reads and is dropped when a
 * call fails in transport (or times out); the next read connects again. Every call of a read
 * shares one deadline (`timeout`), so a hung systemd costs one timeout per read, never one
 * per unit. A host without systemd on the bus (no bus, no org.freedesktop.systemd1) is not a
 * failure: the read reports no data (-ENODATA) and says so once in the log.
 */
#include <errno.h>
#include <fnmatch.h>
#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sonde.h"
#include "sonde_dynlib.h"

#define SYSTEMD_SERVICE        "org.freedesktop.systemd1"
#define SYSTEMD_PATH           "/org/freedesktop/systemd1"
#define SYSTEMD_IFACE          "org.freedesktop.systemd1."
#define SYSTEMD_PROPERTIES     "org.freedesktop.DBus.Properties"
#define SYSTEMD_PRIVATE_SOCKET "/run/systemd/private"
#define SYSTEMD_PRIVATE        "unix:path=" SYSTEMD_PRIVATE_SOCKET
#define SYSTEMD_SYSTEM_BUS     "unix:path=/run/dbus/system_bus_socket"
/* node_exporter's unit-exclude default. */
#define SYSTEMD_DEFAULT_EXCLUDE ".+\\.(automount|device|mount|scope|slice)"
/* Timers' LastTriggerUSec and the manager's SystemState came with systemd 212. */
#define SYSTEMD_VERSION_SYSTEM_STATE 212

struct systemd_config {
    char *address;                  /* D-Bus address; empty: private socket or system bus */
    int64_t timeout;                /* ns: the bound of one read's D-Bus calls */
    char *unit_include;             /* regex, anchored at both ends */
    char *unit_exclude;             /* regex, anchored at both ends */
    bool enable_restarts_metrics;   /* node_systemd_service_restart_total */
    bool enable_task_metrics;       /* node_systemd_unit_tasks_{current,max} */
    bool enable_start_time_metrics; /* node_systemd_unit_start_time_seconds */
    char *unittype;                 /* line protocol: unit types, comma-separated */
    char *pattern;                  /* line protocol: name globs, space-separated; empty: all */
};

static const struct sonde_option systemd_options[] = {
    {"address", SONDE_OPT_STRING, offsetof(struct systemd_config, address), "", false,
     "D-Bus address of systemd; empty: " SYSTEMD_PRIVATE " when it can be used (root), else the "
     "system bus"},
    {"timeout", SONDE_OPT_DURATION, offsetof(struct systemd_config, timeout), "2s", false,
     "Time all of one read's D-Bus calls may take together"},
    {"unit_include", SONDE_OPT_REGEX, offsetof(struct systemd_config, unit_include), ".+", false,
     "Units exported (node_exporter's --collector.systemd.unit-include)"},
    {"unit_exclude", SONDE_OPT_REGEX, offsetof(struct systemd_config, unit_exclude),
     SYSTEMD_DEFAULT_EXCLUDE, false,
     "Units left out (node_exporter's --collector.systemd.unit-exclude)"},
    {"enable_restarts_metrics", SONDE_OPT_BOOL,
     offsetof(struct systemd_config, enable_restarts_metrics), "false", false,
     "node_systemd_service_restart_total (node_exporter's --collector.systemd.enable-restarts-"
     "metrics)"},
    {"enable_task_metrics", SONDE_OPT_BOOL, offsetof(struct systemd_config, enable_task_metrics),
     "false", false,
     "node_systemd_unit_tasks_current and _max (--collector.systemd.enable-task-metrics)"},
    {"enable_start_time_metrics", SONDE_OPT_BOOL,
     offsetof(struct systemd_config, enable_start_time_metrics), "false", false,
     "node_systemd_unit_start_time_seconds (--collector.systemd.enable-start-time-metrics)"},
    {"unittype", SONDE_OPT_STRING, offsetof(struct systemd_config, unittype), "service", false,
     "line protocol: unit types written, comma-separated (Telegraf's unittype)"},
    {"pattern", SONDE_OPT_STRING, offsetof(struct systemd_config, pattern), "", false,
     "line protocol: unit name globs, space-separated; empty: every unit (Telegraf's pattern)"},
    {NULL},
};

/* ------------------------------------------------------------------ */
/* Names and tables                                                     */
/* ------------------------------------------------------------------ */

/* The active states node_exporter gives a unit_state series each (and a
 * units count even when no unit is in them), in its order. */
static const char *const systemd_states[] = {"active", "activating", "deactivating", "inactive",
                                             "failed"};
#define SYSTEMD_NSTATES (sizeof(systemd_states) / sizeof(systemd_states[0]))

struct systemd_code {
    const char *name;
    int code;
};

/* Telegraf's codes for systemctl's LOAD, ACTIVE and SUB columns (systemd's
 * unit-def.c tables; a sub state two unit types share keeps one code). */
static const struct systemd_code systemd_load_codes[] = {
    {"loaded", 0}, {"stub", 1},   {"not-found", 2}, {"bad-setting", 3},
    {"error", 4},  {"merged", 5}, {"masked", 6},    {NULL, 0},
};

static const struct systemd_code systemd_active_codes[] = {
    {"active", 0},     {"reloading", 1},    {"inactive", 2}, {"failed", 3},
    {"activating", 4}, {"deactivating", 5}, {NULL, 0},
};

static const struct systemd_code systemd_sub_codes[] = {
    /* service */
    {"running", 0x00},
    {"dead", 0x01},
    {"start-pre", 0x02},
    {"start", 0x03},
    {"exited", 0x04},
    {"reload", 0x05},
    {"stop", 0x06},
    {"stop-watchdog", 0x07},
    {"stop-sigterm", 0x08},
    {"stop-sigkill", 0x09},
    {"stop-post", 0x0a},
    {"final-sigterm", 0x0b},
    {"failed", 0x0c},
    {"auto-restart", 0x0d},
    /* automount */
    {"waiting", 0x10},
    /* device */
    {"tentative", 0x20},
    {"plugged", 0x21},
    /* mount */
    {"mounting", 0x30},
    {"mounting-done", 0x31},
    {"mounted", 0x32},
    {"remounting", 0x33},
    {"unmounting", 0x34},
    {"remounting-sigterm", 0x35},
    {"remounting-sigkill", 0x36},
    {"unmounting-sigterm", 0x37},
    {"unmounting-sigkill", 0x38},
    /* scope */
    {"abandoned", 0x50},
    /* slice */
    {"active", 0x60},
    /* socket */
    {"start-chown", 0x70},
    {"start-post", 0x71},
    {"listening", 0x72},
    {"stop-pre", 0x73},
    {"stop-pre-sigterm", 0x74},
    {"stop-pre-sigkill", 0x75},
    {"final-sigkill", 0x76},
    /* swap */
    {"activating", 0x80},
    {"activating-done", 0x81},
    {"deactivating", 0x82},
    {"deactivating-sigterm", 0x83},
    {"deactivating-sigkill", 0x84},
    /* timer */
    {"elapsed", 0xa0},
    {NULL, 0},
};

static const struct sonde_family systemd_unit_state_family = {"node_systemd_unit_state",
                                                              SONDE_GAUGE, "Systemd unit"};
static const struct sonde_family systemd_units_family = {"node_systemd_units", SONDE_GAUGE,
                                                         "Summary of systemd unit states"};
static const struct sonde_family systemd_version_family = {"node_systemd_version", SONDE_GAUGE,
                                                           "Detected systemd version"};
static const struct sonde_family systemd_system_running_family = {
    "node_systemd_system_running", SONDE_GAUGE,
    "Whether the system is operational (see 'systemctl is-system-running')"};
static const struct sonde_family systemd_restarts_family = {
    "node_systemd_service_restart_total", SONDE_COUNTER, "Service unit count of Restart triggers"};
static const struct sonde_family systemd_start_time_family = {
    "node_systemd_unit_start_time_seconds", SONDE_GAUGE,
    "Start time of the unit since unix epoch in seconds."};
static const struct sonde_family systemd_tasks_current_family = {
    "node_systemd_unit_tasks_current", SONDE_GAUGE, "Current number of tasks per Systemd unit"};
static const struct sonde_family systemd_tasks_max_family = {
    "node_systemd_unit_tasks_max", SONDE_GAUGE, "Maximum number of tasks per Systemd unit"};
static const struct sonde_family systemd_timer_family = {
    "node_systemd_timer_last_trigger_seconds", SONDE_GAUGE, "Seconds since epoch of last trigger."};
static const struct sonde_family systemd_accepted_family = {
    "node_systemd_socket_accepted_connections_total", SONDE_COUNTER,
    "Total number of accepted socket connections"};
static const struct sonde_family systemd_current_family = {
    "node_systemd_socket_current_connections", SONDE_GAUGE, "Current number of socket connections"};
/* A gauge despite its name: node_exporter 1.5 types it so. */
static const struct sonde_family systemd_refused_family = {
    "node_systemd_socket_refused_connections_total", SONDE_GAUGE,
    "Total number of refused socket connections"};

/* The unit properties read, by interface: Type (Service, Mount), NRestarts,
 * TasksCurrent, TasksMax (Service), NAccepted, NConnections, NRefused
 * (Socket), LastTriggerUSec (Timer), ActiveEnterTimestamp (Unit). */
enum systemd_prop {
    SYSTEMD_TYPE,
    SYSTEMD_NRESTARTS,
    SYSTEMD_TASKS_CURRENT,
    SYSTEMD_TASKS_MAX,
    SYSTEMD_NACCEPTED,
    SYSTEMD_NCONNECTIONS,
    SYSTEMD_NREFUSED,
    SYSTEMD_LAST_TRIGGER,
    SYSTEMD_ACTIVE_ENTER,
    SYSTEMD_NPROPS
};

static const char *const systemd_prop_names[SYSTEMD_NPROPS] = {
    "Type",     "NRestarts",       "TasksCurrent",        "TasksMax", "NAccepted", "NConnections",
    "NRefused", "LastTriggerUSec", "ActiveEnterTimestamp"};

#define SYSTEMD_BIT(p) (1u << (p))

/* What the properties of a unit said; a property systemd did not give
 * (older versions lack NRefused, NRestarts) has no bit in `have`. */
struct systemd_props {
    unsigned have;                  /* SYSTEMD_BIT(prop) per property read */
    uint64_t value[SYSTEMD_NPROPS]; /* the numbers */
    const char *type;               /* Type, in the batch arena */
};

/* One row of ListUnits; the strings are borrowed from the reply. */
struct systemd_unit {
    const char *name, *load, *active, *sub;
    const char *path; /* its object path */
};

struct systemd_units {
    struct systemd_unit *items; /* reused across reads (freed by destroy) */
    size_t n, cap;
};

/* What the last read found, for the log lines said on a change only. */
enum systemd_presence { SYSTEMD_UNKNOWN, SYSTEMD_PRESENT, SYSTEMD_ABSENT };

struct systemd_state {
    const struct systemd_config *cfg; /* borrowed from the core */
    const struct sonde_sdbus *sd;     /* libsystemd, loaded by init */
    sd_bus *bus;                      /* NULL until connected, and after a failure */
    const char *bus_address;          /* the address of `bus` (static, config or environment) */
    regex_t include, exclude;
    char *lp_types_buf; /* owned: unittype, split in place into lp_types */
    char **lp_types;    /* owned array */
    size_t nlp_types;
    char *lp_patterns_buf; /* owned: pattern, split in place into lp_patterns */
    char **lp_patterns;    /* owned array */
    size_t nlp_patterns;
    struct systemd_units units;
    int64_t deadline_ns; /* CLOCK_MONOTONIC: the end of this read's calls */
    enum systemd_presence presence;
    bool absent_logged; /* the last change to absent was logged (not rate-limited away) */
    char absent_reason[256];
    struct sonde_ratelimit presence_log, lp_log;
};

/* ------------------------------------------------------------------ */
/* Pure parts: version, filters, codes, emitting                        */
/* ------------------------------------------------------------------ */

/*
 * node_exporter's number for the Version property: the first run of three
 * or more digits, with the ".digits" after it if any ("252.38-1~deb12u1"
 * is 252.38). 0 when there is none (node_exporter's value for "unknown").
 */
static double systemd_parse_version(const char *s)
{
    for (const char *p = s; *p;) {
        if (*p < '0' || *p > '9') {
            p++;
            continue;
        }
        const char *start = p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p - start < 3)
            continue;
        if (*p == '.' && p[1] >= '0' && p[1] <= '9')
            for (p++; *p >= '0' && *p <= '9'; p++)
                ;
        char buf[64];
        if ((size_t)(p - start) >= sizeof(buf))
            return 0;
        memcpy(buf, start, (size_t)(p - start));
        buf[p - start] = '\0';
        return strtod(buf, NULL);
    }
    return 0;
}

/* Telegraf's code for `name` in `table`, or -1 when the table lacks it. */
static int systemd_code(const struct systemd_code *table, const char *name)
{
    for (const struct systemd_code *c = table; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c->code;
    return -1;
}

/* The unit's type: what follows the last dot of its name ("" without one). */
static const char *systemd_unit_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot ? dot + 1 : "";
}

static bool systemd_has_type(const char *name, const char *type)
{
    return strcmp(systemd_unit_type(name), type) == 0;
}

/* node_exporter's filter: loaded units whose whole name matches unit_include
 * and not unit_exclude. */
static bool systemd_unit_wanted(const struct systemd_state *st, const struct systemd_unit *u)
{
    return strcmp(u->load, "loaded") == 0 && regexec(&st->include, u->name, 0, NULL, 0) == 0 &&
           regexec(&st->exclude, u->name, 0, NULL, 0) != 0;
}

/* Telegraf's filter: `systemctl list-units --all --type=UNITTYPE PATTERN...`. */
static bool systemd_lp_wanted(const struct systemd_state *st, const char *name)
{
    bool typed = false;
    for (size_t i = 0; i < st->nlp_types && !typed; i++)
        typed = systemd_has_type(name, st->lp_types[i]);
    if (!typed)
        return false;
    for (size_t i = 0; i < st->nlp_patterns; i++)
        if (fnmatch(st->lp_patterns[i], name, FNM_NOESCAPE) == 0)
            return true;
    return st->nlp_patterns == 0;
}

/* node_systemd_units{state}: every unit listed (filters do not apply), the
 * five states always, and any other state (reloading) that some unit is in. */
static void systemd_emit_summary(struct sonde_batch *batch, const struct systemd_units *units)
{
    for (size_t s = 0; s < SYSTEMD_NSTATES; s++) {
        size_t count = 0;
        for (size_t i = 0; i < units->n; i++)
            count += strcmp(units->items[i].active, systemd_states[s]) == 0;
        sonde_emit(batch, &systemd_units_family, (double)count, "state", systemd_states[s], NULL);
    }
    for (size_t i = 0; i < units->n; i++) {
        const char *state = units->items[i].active;
        bool counted = false;
        for (size_t s = 0; s < SYSTEMD_NSTATES && !counted; s++)
            counted = strcmp(state, systemd_states[s]) == 0;
        for (size_t j = 0; j < i && !counted; j++) /* its first unit counted them all */
            counted = strcmp(state, units->items[j].active) == 0;
        if (counted)
            continue;
        size_t count = 0;
        for (size_t j = i; j < units->n; j++)
            count += strcmp(units->items[j].active, state) == 0;
        sonde_emit(batch, &systemd_units_family, (double)count, "state", state, NULL);
    }
}

/* node_systemd_unit_state: 1 for the unit's active state, 0 for the others
 * (all 0 for a state outside the five, such as reloading). */
static void systemd_emit_unit_state(struct sonde_batch *batch, const struct systemd_unit *u,
                                    const char *type)
{
    for (size_t s = 0; s < SYSTEMD_NSTATES; s++)
        sonde_emit(batch, &systemd_unit_state_family, strcmp(u->active, systemd_states[s]) == 0,
                   "name", u->name, "state", systemd_states[s], "type", type, NULL);
}

/* The series of one unit's properties, as node_exporter reads them: a socket
 * counter it cannot read stops the ones after it; tasks at UINT64_MAX mean
 * "no limit" or "not counted" and are left out. */
static void systemd_emit_props(struct sonde_batch *batch, const struct systemd_unit *u,
                               const struct systemd_props *p)
{
#define HAVE(prop) (p->have & SYSTEMD_BIT(prop))
    if (HAVE(SYSTEMD_NRESTARTS))
        sonde_emit(batch, &systemd_restarts_family, (double)p->value[SYSTEMD_NRESTARTS], "name",
                   u->name, NULL);
    if (HAVE(SYSTEMD_ACTIVE_ENTER))
        sonde_emit(batch, &systemd_start_time_family, (double)p->value[SYSTEMD_ACTIVE_ENTER] / 1e6,
                   "name", u->name, NULL);
    if (HAVE(SYSTEMD_TASKS_CURRENT) && p->value[SYSTEMD_TASKS_CURRENT] != UINT64_MAX)
        sonde_emit(batch, &systemd_tasks_current_family, (double)p->value[SYSTEMD_TASKS_CURRENT],
                   "name", u->name, NULL);
    if (HAVE(SYSTEMD_TASKS_MAX) && p->value[SYSTEMD_TASKS_MAX] != UINT64_MAX)
        sonde_emit(batch, &systemd_tasks_max_family, (double)p->value[SYSTEMD_TASKS_MAX], "name",
                   u->name, NULL);
    if (HAVE(SYSTEMD_LAST_TRIGGER))
        sonde_emit(batch, &systemd_timer_family, (double)p->value[SYSTEMD_LAST_TRIGGER] / 1e6,
                   "name", u->name, NULL);
    if (HAVE(SYSTEMD_NACCEPTED)) {
        sonde_emit(batch, &systemd_accepted_family, (double)p->value[SYSTEMD_NACCEPTED], "name",
                   u->name, NULL);
        if (HAVE(SYSTEMD_NCONNECTIONS)) {
            sonde_emit(batch, &systemd_current_family, (double)p->value[SYSTEMD_NCONNECTIONS],
                       "name", u->name, NULL);
            if (HAVE(SYSTEMD_NREFUSED))
                sonde_emit(batch, &systemd_refused_family, (double)p->value[SYSTEMD_NREFUSED],
                           "name", u->name, NULL);
        }
    }
#undef HAVE
}

/* One "systemd_units" point per unit Telegraf would list; a unit in a state
 * its tables lack is left out and counted, as Telegraf reports it an error. */
static void systemd_emit_lp(struct systemd_state *st, struct sonde_batch *batch)
{
    for (size_t i = 0; i < st->units.n; i++) {
        const struct systemd_unit *u = &st->units.items[i];
        if (!systemd_lp_wanted(st, u->name))
            continue;
        int load = systemd_code(systemd_load_codes, u->load);
        int active = systemd_code(systemd_active_codes, u->active);
        int sub = systemd_code(systemd_sub_codes, u->sub);
        if (load < 0 || active < 0 || sub < 0) {
            batch->skipped++;
            sonde_log_limited(&st->lp_log, 300, SONDE_LOG_WARN,
                              "systemd: unit %s: state %s/%s/%s has no Telegraf code; left "
                              "out of line protocol",
                              u->name, u->load, u->active, u->sub);
            continue;
        }
        struct sonde_point *p = sonde_point(batch, "systemd_units");
        sonde_point_tag(batch, p, "name", u->name);
        sonde_point_tag(batch, p, "load", u->load);
        sonde_point_tag(batch, p, "active", u->active);
        sonde_point_tag(batch, p, "sub", u->sub);
        sonde_point_int(batch, p, "load_code", load);
        sonde_point_int(batch, p, "active_code", active);
        sonde_point_int(batch, p, "sub_code", sub);
    }
}

/* ------------------------------------------------------------------ */
/* Reading D-Bus messages                                               */
/* ------------------------------------------------------------------ */

/* Reads the variant at the message's position as property `prop` when it
 * has the type systemd gives it (a string for Type, an unsigned number for
 * the others), else skips it. 0 or -errno (a malformed message). */
static int systemd_read_value(const struct sonde_sdbus *sd, sd_bus_message *m,
                              enum systemd_prop prop, struct systemd_props *props,
                              struct sonde_arena *arena)
{
    char kind;
    const char *contents;
    int rc = sd->message_peek_type(m, &kind, &contents);
    if (rc <= 0)
        return rc < 0 ? rc : -EBADMSG;
    if (kind != 'v' || !contents)
        return -EBADMSG;
    bool text = prop == SYSTEMD_TYPE;
    bool fits = text ? strcmp(contents, "s") == 0
                     : strcmp(contents, "u") == 0 || strcmp(contents, "t") == 0;
    if (!fits)
        return sd->message_skip(m, "v");
    rc = sd->message_enter_container(m, 'v', contents);
    if (rc < 0)
        return rc;
    if (text) {
        const char *s;
        rc = sd->message_read_basic(m, 's', &s);
        if (rc > 0)
            props->type = sonde_arena_strdup(arena, s);
    } else if (contents[0] == 'u') {
        uint32_t v;
        rc = sd->message_read_basic(m, 'u', &v);
        props->value[prop] = v;
    } else {
        uint64_t v;
        rc = sd->message_read_basic(m, 't', &v);
        props->value[prop] = v;
    }
    if (rc <= 0)
        return rc < 0 ? rc : -EBADMSG;
    props->have |= SYSTEMD_BIT(prop);
    return sd->message_exit_container(m);
}

/* Reads a GetAll answer (a{sv}), keeping the properties in `wanted` and
 * skipping the others. 0 or -errno. */
static int systemd_read_all(const struct sonde_sdbus *sd, sd_bus_message *m, unsigned wanted,
                            struct systemd_props *props, struct sonde_arena *arena)
{
    int rc = sd->message_enter_container(m, 'a', "{sv}");
    if (rc < 0)
        return rc;
    while ((rc = sd->message_enter_container(m, 'e', "sv")) > 0) {
        const char *name;
        rc = sd->message_read_basic(m, 's', &name);
        if (rc < 0)
            return rc;
        int prop = -1;
        for (int i = 0; i < SYSTEMD_NPROPS && prop < 0; i++)
            if ((wanted & SYSTEMD_BIT(i)) && strcmp(name, systemd_prop_names[i]) == 0)
                prop = i;
        rc = prop < 0 ? sd->message_skip(m, "v")
                      : systemd_read_value(sd, m, (enum systemd_prop)prop, props, arena);
        if (rc < 0)
            return rc;
        rc = sd->message_exit_container(m);
        if (rc < 0)
            return rc;
    }
    if (rc < 0)
        return rc;
    return sd->message_exit_container(m);
}

/* Reads a ListUnits answer, a(ssssssouso), into `units`; the strings stay
 * the message's. 0 or -errno. */
static int systemd_read_units(const struct sonde_sdbus *sd, sd_bus_message *m,
                              struct systemd_units *units)
{
    units->n = 0;
    int rc = sd->message_enter_container(m, 'a', "(ssssssouso)");
    if (rc < 0)
        return rc;
    for (;;) {
        if (units->n == units->cap) {
            units->cap = units->cap ? units->cap * 2 : 64;
            units->items = sonde_xrealloc(units->items, units->cap * sizeof(*units->items));
        }
        struct systemd_unit *u = &units->items[units->n];
        const char *description, *following, *job_type, *job_path;
        uint32_t job_id;
        rc = sd->message_read(m, "(ssssssouso)", &u->name, &description, &u->load, &u->active,
                              &u->sub, &following, &u->path, &job_id, &job_type, &job_path);
        if (rc <= 0)
            break;
        units->n++;
    }
    if (rc < 0)
        return rc;
    return sd->message_exit_container(m);
}

/* ------------------------------------------------------------------ */
/* Talking to systemd                                                   */
/* ------------------------------------------------------------------ */

static int64_t systemd_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Microseconds left before the read's deadline; 0 when it has passed. */
static uint64_t systemd_usec_left(const struct systemd_state *st)
{
    int64_t left = st->deadline_ns - systemd_now_ns();
    return left >= 1000 ? (uint64_t)(left / 1000) : 0;
}

/* Failures that say nothing is there to answer: no socket, nobody
 * listening on it, or the peer hung up while we said hello. */
static bool systemd_is_absence(int rc)
{
    return rc == -ENOENT || rc == -ECONNREFUSED || rc == -ECONNRESET || rc == -ENOTCONN ||
           rc == -EPIPE || rc == -ENOTDIR;
}

static void systemd_disconnect(struct systemd_state *st)
{
    if (!st->bus)
        return;
    /* sd_bus_close drops what is unsent: no flush that a hung peer could stall. */
    st->sd->bus_close(st->bus);
    st->sd->bus_unref(st->bus);
    st->bus = NULL;
}

/* Connects to `address` (as a bus client, or straight to systemd) and waits,
 * until the read's deadline, for the connection to be ready. 0 or -errno. */
static int systemd_connect_to(struct systemd_state *st, const char *address, bool bus_client)
{
    const struct sonde_sdbus *sd = st->sd;
    sd_bus *bus = NULL;
    st->bus_address = address; /* also what a failure names */
    int rc = sd->bus_new(&bus);
    if (rc < 0)
        return rc;
    rc = sd->bus_set_address(bus, address);
    if (rc >= 0)
        rc = sd->bus_set_bus_client(bus, bus_client);
    if (rc >= 0)
        rc = sd->bus_start(bus);
    /* The authentication and, on a bus, the Hello call: driven here so that
     * they too end at the deadline (sd-bus would wait up to 90 s). */
    while (rc >= 0 && (rc = sd->bus_is_ready(bus)) == 0) {
        rc = sd->bus_process(bus, NULL);
        if (rc != 0)
            continue;
        uint64_t left = systemd_usec_left(st);
        rc = left ? sd->bus_wait(bus, left) : -ETIMEDOUT;
        if (rc >= 0 && !sd->bus_is_open(bus))
            rc = -ECONNRESET;
    }
    if (rc < 0) {
        sd->bus_close(bus);
        sd->bus_unref(bus);
        return rc;
    }
    st->bus = bus;
    return 0;
}

/* Connects as configured: `address`; by default systemd's private socket
 * when we may use it (systemd takes root only there), else the system bus. */
static int systemd_connect(struct systemd_state *st)
{
    const char *address = st->cfg->address;
    if (address && address[0])
        return systemd_connect_to(st, address,
                                  strncmp(address, SYSTEMD_PRIVATE, strlen(SYSTEMD_PRIVATE)) != 0);
    if (geteuid() == 0 && access(SYSTEMD_PRIVATE_SOCKET, R_OK | W_OK) == 0 &&
        systemd_connect_to(st, SYSTEMD_PRIVATE, false) == 0)
        return 0;
    address = getenv("DBUS_SYSTEM_BUS_ADDRESS");
    return systemd_connect_to(st, address && address[0] ? address : SYSTEMD_SYSTEM_BUS, true);
}

/* What a failed call means for the read. */
enum systemd_failure {
    SYSTEMD_REFUSED, /* systemd answered with an error: that property or unit is not there */
    SYSTEMD_GONE,    /* the bus answered that nobody owns org.freedesktop.systemd1 */
    SYSTEMD_BROKEN   /* the connection failed or timed out: dropped */
};

static enum systemd_failure systemd_classify(struct systemd_state *st, int rc,
                                             const sd_bus_error *err)
{
    if (st->sd->error_has_name(err, "org.freedesktop.DBus.Error.ServiceUnknown") > 0 ||
        st->sd->error_has_name(err, "org.freedesktop.DBus.Error.NameHasNoOwner") > 0)
        return SYSTEMD_GONE;
    /* Not by the errno alone: sd-bus maps systemd's own error names to errnos
     * too (NoSuchUnit is ENOENT), and those leave the connection fine. */
    if (rc == -ETIMEDOUT || st->sd->bus_is_open(st->bus) <= 0)
        return SYSTEMD_BROKEN;
    return SYSTEMD_REFUSED;
}

/*
 * Calls `member` of `iface` on systemd's object `path`, with up to two
 * string arguments (`signature` "", "s" or "ss"), bounded by the read's
 * deadline. 0 with *reply (the caller unrefs it), or -errno with *failure
 * set; a broken connection is dropped here.
 */
static int systemd_call(struct systemd_state *st, const char *path, const char *iface,
                        const char *member, const char *signature, const char *arg1,
                        const char *arg2, sd_bus_message **reply, enum systemd_failure *failure)
{
    const struct sonde_sdbus *sd = st->sd;
    sd_bus_message *m = NULL;
    sd_bus_error err = SD_BUS_ERROR_NULL;
    *reply = NULL;
    *failure = SYSTEMD_BROKEN;
    uint64_t left = systemd_usec_left(st);
    if (!left) { /* 0 would mean sd-bus' default of 25 s */
        systemd_disconnect(st);
        return -ETIMEDOUT;
    }
    int rc = sd->message_new_method_call(st->bus, &m, SYSTEMD_SERVICE, path, iface, member);
    if (rc >= 0 && signature[0])
        rc = sd->message_append(m, signature, arg1, arg2);
    if (rc >= 0)
        rc = sd->call(st->bus, m, left, &err, reply);
    sd->message_unref(m);
    if (rc < 0) {
        *failure = systemd_classify(st, rc, &err);
        sonde_log(SONDE_LOG_DEBUG, "systemd: %s %s.%s: %s", path, iface, member,
                  err.message ? err.message : strerror(-rc));
        if (*failure == SYSTEMD_BROKEN)
            systemd_disconnect(st);
    }
    sd->error_free(&err);
    return rc < 0 ? rc : 0;
}

/* Notes why systemd is not there, for the log line said on the change. */
static void systemd_set_absent(struct systemd_state *st, const char *address, const char *why)
{
    snprintf(st->absent_reason, sizeof(st->absent_reason), "%s: %s", address, why);
}

/* Handles what arrived on a kept connection since the last read (the bus'
 * NameAcquired, a peer's Ping), so that nothing piles up, and notices a
 * connection the peer closed: it is dropped before a call finds it broken. */
static void systemd_drain(struct systemd_state *st)
{
    for (int i = 0; st->bus && i < 64; i++) {
        int rc = st->sd->bus_process(st->bus, NULL);
        if (rc == 0)
            return;
        if (rc < 0 || st->sd->bus_is_open(st->bus) <= 0)
            systemd_disconnect(st);
    }
}

/*
 * Connects if needed and lists the units into st->units (borrowing from
 * *reply, which the caller unrefs). A connection kept from an earlier read
 * that turns out broken is replaced once. 0, -ENODATA when no systemd
 * answers (the reason in st->absent_reason), or another -errno.
 */
static int systemd_list_units(struct systemd_state *st, sd_bus_message **reply)
{
    *reply = NULL;
    systemd_drain(st);
    for (int attempt = 0; attempt < 2; attempt++) {
        bool kept = st->bus != NULL;
        if (!kept) {
            int rc = systemd_connect(st);
            if (rc < 0) {
                systemd_set_absent(st, st->bus_address, strerror(-rc));
                return systemd_is_absence(rc) ? -ENODATA : rc;
            }
        }
        enum systemd_failure failure;
        int rc = systemd_call(st, SYSTEMD_PATH, SYSTEMD_IFACE "Manager", "ListUnits", "", NULL,
                              NULL, reply, &failure);
        if (rc == 0) {
            rc = systemd_read_units(st->sd, *reply, &st->units);
            return rc < 0 ? -EBADMSG : 0;
        }
        if (failure == SYSTEMD_GONE) {
            systemd_set_absent(st, st->bus_address, SYSTEMD_SERVICE " is not on the bus");
            return -ENODATA;
        }
        if (failure == SYSTEMD_BROKEN && kept && rc != -ETIMEDOUT)
            continue; /* the peer went away since the last read: connect again */
        if (failure == SYSTEMD_BROKEN && systemd_is_absence(rc)) {
            systemd_set_absent(st, st->bus_address, strerror(-rc));
            return -ENODATA;
        }
        return rc;
    }
    return -ENODATA; /* not reached: the second attempt connects afresh */
}

/*
 * Reads the properties in `wanted` of one interface ("Service") of the
 * unit's object into *props: one Get for a single property, one GetAll for
 * more. A property or unit systemd does not have is left out; returns 0,
 * or -errno when the connection failed (the read stops there).
 */
static int systemd_unit_props(struct systemd_state *st, struct sonde_batch *batch,
                              const struct systemd_unit *u, const char *iface, unsigned wanted,
                              struct systemd_props *props)
{
    char name[64];
    snprintf(name, sizeof(name), SYSTEMD_IFACE "%s", iface);
    int single = -1;
    if ((wanted & (wanted - 1)) == 0)
        for (int i = 0; i < SYSTEMD_NPROPS; i++)
            if (wanted == SYSTEMD_BIT(i))
                single = i;
    sd_bus_message *reply;
    enum systemd_failure failure;
    int rc = single >= 0 ? systemd_call(st, u->path, SYSTEMD_PROPERTIES, "Get", "ss", name,
                                        systemd_prop_names[single], &reply, &failure)
                         : systemd_call(st, u->path, SYSTEMD_PROPERTIES, "GetAll", "s", name, NULL,
                                        &reply, &failure);
    if (rc < 0)
        return failure == SYSTEMD_REFUSED ? 0 : rc;
    rc = single >= 0
             ? systemd_read_value(st->sd, reply, (enum systemd_prop)single, props, batch->arena)
             : systemd_read_all(st->sd, reply, wanted, props, batch->arena);
    st->sd->message_unref(reply);
    if (rc < 0) {
        batch->skipped++;
        sonde_log(SONDE_LOG_DEBUG, "systemd: %s: malformed %s properties", u->name, iface);
    }
    return 0;
}

/* A manager property that is a string, copied into the batch arena; NULL
 * when systemd does not give it. 0, or -errno when the connection failed. */
static int systemd_manager_string(struct systemd_state *st, struct sonde_batch *batch,
                                  const char *property, const char **out)
{
    *out = NULL;
    sd_bus_message *reply;
    enum systemd_failure failure;
    int rc = systemd_call(st, SYSTEMD_PATH, SYSTEMD_PROPERTIES, "Get", "ss",
                          SYSTEMD_IFACE "Manager", property, &reply, &failure);
    if (rc < 0)
        return failure == SYSTEMD_REFUSED ? 0 : rc;
    const char *s;
    if (st->sd->message_read(reply, "v", "s", &s) > 0)
        *out = sonde_arena_strdup(batch->arena, s);
    st->sd->message_unref(reply);
    return 0;
}

/* The properties node_exporter reads for one filtered unit, and its series. */
static int systemd_read_unit(struct systemd_state *st, struct sonde_batch *batch,
                             const struct systemd_unit *u, double version)
{
    const struct systemd_config *cfg = st->cfg;
    struct systemd_props props = {0};
    unsigned wanted = 0;
    const char *iface = NULL;
    if (systemd_has_type(u->name, "service")) {
        iface = "Service";
        wanted = SYSTEMD_BIT(SYSTEMD_TYPE);
        if (cfg->enable_restarts_metrics)
            wanted |= SYSTEMD_BIT(SYSTEMD_NRESTARTS);
        if (cfg->enable_task_metrics)
            wanted |= SYSTEMD_BIT(SYSTEMD_TASKS_CURRENT) | SYSTEMD_BIT(SYSTEMD_TASKS_MAX);
    } else if (systemd_has_type(u->name, "mount")) {
        iface = "Mount";
        wanted = SYSTEMD_BIT(SYSTEMD_TYPE);
    } else if (systemd_has_type(u->name, "socket")) {
        iface = "Socket";
        wanted = SYSTEMD_BIT(SYSTEMD_NACCEPTED) | SYSTEMD_BIT(SYSTEMD_NCONNECTIONS) |
                 SYSTEMD_BIT(SYSTEMD_NREFUSED);
    } else if (systemd_has_type(u->name, "timer") && version >= SYSTEMD_VERSION_SYSTEM_STATE) {
        iface = "Timer";
        wanted = SYSTEMD_BIT(SYSTEMD_LAST_TRIGGER);
    }
    int rc = iface ? systemd_unit_props(st, batch, u, iface, wanted, &props) : 0;
    if (rc < 0)
        return rc;
    if (cfg->enable_start_time_metrics) {
        if (strcmp(u->active, "active") == 0) {
            rc =
                systemd_unit_props(st, batch, u, "Unit", SYSTEMD_BIT(SYSTEMD_ACTIVE_ENTER), &props);
            if (rc < 0)
                return rc;
        } else { /* node_exporter's 0 for a unit not active */
            props.have |= SYSTEMD_BIT(SYSTEMD_ACTIVE_ENTER);
            props.value[SYSTEMD_ACTIVE_ENTER] = 0;
        }
    }
    systemd_emit_unit_state(batch, u, props.type ? props.type : "");
    systemd_emit_props(batch, u, &props);
    return 0;
}

/* node_exporter's series: version, the units summary, each filtered unit,
 * and whether the system is running. */
static int systemd_emit_series(struct systemd_state *st, struct sonde_batch *batch)
{
    const char *version_text;
    int rc = systemd_manager_string(st, batch, "Version", &version_text);
    if (rc < 0)
        return rc;
    double version = version_text ? systemd_parse_version(version_text) : 0;
    /* node_exporter labels an unreadable version "" with 0. */
    sonde_emit(batch, &systemd_version_family, version, "version", version > 0 ? version_text : "",
               NULL);
    systemd_emit_summary(batch, &st->units);
    for (size_t i = 0; i < st->units.n; i++) {
        if (!systemd_unit_wanted(st, &st->units.items[i]))
            continue;
        rc = systemd_read_unit(st, batch, &st->units.items[i], version);
        if (rc < 0)
            return rc;
    }
    if (version < SYSTEMD_VERSION_SYSTEM_STATE)
        return 0;
    const char *state;
    rc = systemd_manager_string(st, batch, "SystemState", &state);
    if (rc < 0)
        return rc;
    if (!state) /* node_exporter fails the scrape without it */
        return -ENOMSG;
    sonde_emit(batch, &systemd_system_running_family, strcmp(state, "running") == 0, NULL);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Plugin callbacks                                                     */
/* ------------------------------------------------------------------ */

/* Compiles `re` anchored at both ends, as node_exporter's ^(?:re)$. */
static int systemd_compile(regex_t *out, const char *option, const char *re)
{
    size_t len = strlen(re) + 5;
    char *anchored = sonde_xmalloc(len);
    snprintf(anchored, len, "^(%s)$", re);
    int rc = regcomp(out, anchored, REG_EXTENDED | REG_NOSUB);
    free(anchored);
    if (rc != 0) {
        sonde_log(SONDE_LOG_ERROR, "systemd: %s: cannot compile \"%s\"", option, re);
        return -EINVAL;
    }
    return 0;
}

/* Splits `text` (copied into *buf) at any of `seps` into *words (owned
 * array); empty words are dropped. Returns the number of words. */
static size_t systemd_split(const char *text, const char *seps, char **buf, char ***words)
{
    *buf = sonde_xstrdup(text ? text : "");
    *words = sonde_xcalloc(strlen(*buf) / 2 + 1, sizeof(char *));
    size_t n = 0;
    char *save = NULL;
    for (char *w = strtok_r(*buf, seps, &save); w; w = strtok_r(NULL, seps, &save))
        (*words)[n++] = w;
    return n;
}

static int systemd_init(void **out, const void *config, const struct sonde_context *ctx)
{
    (void)ctx;
    const struct systemd_config *cfg = config;
    if (cfg->timeout <= 0) {
        sonde_log(SONDE_LOG_ERROR, "systemd: timeout must be more than 0");
        return -EINVAL;
    }
    char err[256];
    const struct sonde_sdbus *sd = sonde_sdbus(err, sizeof(err));
    if (!sd) {
        sonde_log(SONDE_LOG_ERROR, "systemd: %s", err);
        return -ENOSYS;
    }
    struct systemd_state *st = sonde_xcalloc(1, sizeof(*st));
    st->cfg = cfg;
    st->sd = sd;
    if (systemd_compile(&st->include, "unit_include", cfg->unit_include ? cfg->unit_include : "") <
        0) {
        free(st);
        return -EINVAL;
    }
    if (systemd_compile(&st->exclude, "unit_exclude", cfg->unit_exclude ? cfg->unit_exclude : "") <
        0) {
        regfree(&st->include);
        free(st);
        return -EINVAL;
    }
    st->nlp_types = systemd_split(cfg->unittype, ", ", &st->lp_types_buf, &st->lp_types);
    st->nlp_patterns = systemd_split(cfg->pattern, " \t", &st->lp_patterns_buf, &st->lp_patterns);
    *out = st;
    return 0;
}

/* Logs a change between "systemd answers" and "no systemd here": the line
 * saying it is gone at most once in ten minutes however often it flaps, the
 * line saying it is back only after a line that said it was gone. */
static void systemd_set_presence(struct systemd_state *st, enum systemd_presence presence)
{
    if (presence == st->presence)
        return;
    if (presence == SYSTEMD_ABSENT) {
        sonde_log_limited(&st->presence_log, 600, SONDE_LOG_INFO,
                          "systemd: no systemd to ask (%s); the input reports nothing until "
                          "it answers",
                          st->absent_reason);
        st->absent_logged = st->presence_log.suppressed == 0;
    } else if (st->presence == SYSTEMD_ABSENT && st->absent_logged) {
        sonde_log(SONDE_LOG_INFO, "systemd: systemd answers on %s again", st->bus_address);
    }
    st->presence = presence;
}

/*
 * One ListUnits for both sides; for Prometheus, then, node_exporter's calls
 * for the filtered units. A failure after the list keeps what was emitted.
 */
static int systemd_read(void *arg, struct sonde_batch *batch)
{
    struct systemd_state *st = arg;
    if (!batch->want_series && !batch->want_points)
        return 0;
    st->deadline_ns = systemd_now_ns() + st->cfg->timeout;
    sd_bus_message *list;
    int rc = systemd_list_units(st, &list);
    if (rc == -ENODATA) {
        systemd_set_presence(st, SYSTEMD_ABSENT);
        return rc;
    }
    if (rc == 0) {
        systemd_set_presence(st, SYSTEMD_PRESENT);
        if (batch->want_points)
            systemd_emit_lp(st, batch);
        if (batch->want_series)
            rc = systemd_emit_series(st, batch);
    }
    if (list)
        st->sd->message_unref(list);
    st->units.n = 0; /* they borrowed from the list */
    return rc;
}

static void systemd_destroy(void *arg)
{
    struct systemd_state *st = arg;
    if (!st)
        return;
    systemd_disconnect(st);
    regfree(&st->include);
    regfree(&st->exclude);
    free(st->lp_types);
    free(st->lp_types_buf);
    free(st->lp_patterns);
    free(st->lp_patterns_buf);
    free(st->units.items);
    free(st);
}

const struct sonde_plugin sonde_plugin_systemd = {
    .name = "systemd",                            /* configuration key, node_exporter's */
    .kind = SONDE_INPUT,                          /* reads the host */
    .summary = "systemd units (D-Bus)",           /* for --help and docs */
    .config_size = sizeof(struct systemd_config), /* filled from systemd_options */
    .options = systemd_options,                   /* address, timeout, unit filters ... */
    .init = systemd_init,                         /* loads libsystemd; connects on first read */
    .read = systemd_read,                         /* node_systemd_* and "systemd_units" */
    .write = NULL,                                /* inputs do not write */
    .destroy = systemd_destroy,                   /* closes the connection */
};
