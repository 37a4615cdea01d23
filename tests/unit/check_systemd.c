/*
 * check_systemd.c - unit tests of the systemd input without systemd: node_exporter's version
 * number, unit filters (the option defaults included), units summary, unit_state and property
 * series, Telegraf's codes and points, the readers of D-Bus answers (messages built with
 * sd-bus itself), and the reads with no bus (no data) and with a bus that never answers
 * (bounded by the timeout).
 */
#include "../../plugins/systemd.c"

#include <dlfcn.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "testutil.h"

/* The default of option `name`, from the option table. */
static const char *systemd_default(const char *name)
{
    for (const struct sonde_option *o = systemd_options; o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o->default_value;
    ck_abort_msg("no option %s", name);
    return NULL;
}

/* A configuration with every option at its default. */
static struct systemd_config systemd_defaults(void)
{
    struct systemd_config cfg = {
        .address = (char *)systemd_default("address"),
        .timeout = 2000000000,
        .unit_include = (char *)systemd_default("unit_include"),
        .unit_exclude = (char *)systemd_default("unit_exclude"),
        .unittype = (char *)systemd_default("unittype"),
        .pattern = (char *)systemd_default("pattern"),
    };
    return cfg;
}

static struct systemd_state *systemd_start(const struct systemd_config *cfg)
{
    struct sonde_context ctx = {.procfs = "/proc", .sysfs = "/sys", .rootfs = "/"};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_systemd.init(&state, cfg, &ctx), 0);
    return state;
}

static struct systemd_unit systemd_u(const char *name, const char *load, const char *active,
                                     const char *sub)
{
    struct systemd_unit u = {name, load, active, sub, "/org/freedesktop/systemd1/unit/x"};
    return u;
}

static double systemd_value(const struct sonde_batch *b, const char *name, const char *key,
                            const char *value)
{
    const struct sonde_series *s = series_find(b, name, key, value, NULL);
    ck_assert_msg(s != NULL, "%s{%s=%s} missing", name, key, value);
    return s->value;
}

START_TEST(test_parse_version)
{
    /* node_exporter: the first match of [0-9]{3,}(\.[0-9]+)? */
    ck_assert_double_eq(systemd_parse_version("252.38-1~deb12u1"), 252.38);
    ck_assert_double_eq(systemd_parse_version("245"), 245);
    ck_assert_double_eq(systemd_parse_version("v249.11-0ubuntu3"), 249.11);
    ck_assert_double_eq(systemd_parse_version("239 (239-78.el8)"), 239);
    ck_assert_double_eq(systemd_parse_version("12.345"), 345);
    ck_assert_double_eq(systemd_parse_version("1000.5.3"), 1000.5);
    ck_assert_double_eq(systemd_parse_version("254."), 254);
    ck_assert_double_eq(systemd_parse_version("99"), 0);
    ck_assert_double_eq(systemd_parse_version("abc"), 0);
    ck_assert_double_eq(systemd_parse_version(""), 0);
}
END_TEST

START_TEST(test_codes)
{
    ck_assert_int_eq(systemd_code(systemd_load_codes, "loaded"), 0);
    ck_assert_int_eq(systemd_code(systemd_load_codes, "not-found"), 2);
    ck_assert_int_eq(systemd_code(systemd_load_codes, "masked"), 6);
    ck_assert_int_eq(systemd_code(systemd_active_codes, "reloading"), 1);
    ck_assert_int_eq(systemd_code(systemd_active_codes, "deactivating"), 5);
    ck_assert_int_eq(systemd_code(systemd_sub_codes, "running"), 0);
    ck_assert_int_eq(systemd_code(systemd_sub_codes, "auto-restart"), 0x0d);
    ck_assert_int_eq(systemd_code(systemd_sub_codes, "listening"), 0x72);
    ck_assert_int_eq(systemd_code(systemd_sub_codes, "elapsed"), 0xa0);
    /* Shared names keep one code: the slice's active, the socket's start-post, the swap's
     * activating. */
    ck_assert_int_eq(systemd_code(systemd_sub_codes, "active"), 0x60);
    ck_assert_int_eq(systemd_code(systemd_sub_codes, "start-post"), 0x71);
    ck_assert_int_eq(systemd_code(systemd_sub_codes, "activating"), 0x80);
    ck_assert_int_eq(systemd_code(systemd_sub_codes, "cleaning"), -1);
    ck_assert_int_eq(systemd_code(systemd_load_codes, ""), -1);
    /* No name twice in a table: a lookup would hide the second. */
    const struct systemd_code *tables[] = {systemd_load_codes, systemd_active_codes,
                                           systemd_sub_codes};
    for (size_t t = 0; t < 3; t++)
        for (const struct systemd_code *a = tables[t]; a->name; a++)
            for (const struct systemd_code *b = a + 1; b->name; b++)
                ck_assert_str_ne(a->name, b->name);
}
END_TEST

START_TEST(test_filter_defaults)
{
    ck_assert_str_eq(systemd_default("unit_exclude"), ".+\\.(automount|device|mount|scope|slice)");
    struct systemd_config cfg = systemd_defaults();
    struct systemd_state *st = systemd_start(&cfg);
    const struct {
        const char *name, *load;
        bool wanted;
    } cases[] = {
        {"ssh.service", "loaded", true},
        {"multi-user.target", "loaded", true},
        {"dbus.socket", "loaded", true},
        {"logrotate.timer", "loaded", true},
        {"getty@tty1.service", "loaded", true},
        {"missing.service", "not-found", false},
        {"masked.service", "masked", false},
        {"dev-sda.device", "loaded", false},
        {"home.mount", "loaded", false},
        {"system.slice", "loaded", false},
        {"session-2.scope", "loaded", false},
        {"proc-sys-fs-binfmt_misc.automount", "loaded", false},
        /* anchored: the exclude must match the whole name */
        {"x.mountpoint.service", "loaded", true},
        {".mount", "loaded", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct systemd_unit u = systemd_u(cases[i].name, cases[i].load, "active", "running");
        ck_assert_msg(systemd_unit_wanted(st, &u) == cases[i].wanted, "%s", cases[i].name);
    }
    sonde_plugin_systemd.destroy(st);
}
END_TEST

START_TEST(test_filter_options)
{
    struct systemd_config cfg = systemd_defaults();
    cfg.unit_include = "ssh.*|cron\\.service";
    cfg.unit_exclude = "";
    struct systemd_state *st = systemd_start(&cfg);
    struct systemd_unit u = systemd_u("ssh.service", "loaded", "active", "running");
    ck_assert(systemd_unit_wanted(st, &u));
    u.name = "cron.service";
    ck_assert(systemd_unit_wanted(st, &u));
    u.name = "anacron.service"; /* include is anchored too */
    ck_assert(!systemd_unit_wanted(st, &u));
    u.name = "ssh.mount"; /* an empty exclude excludes nothing */
    ck_assert(systemd_unit_wanted(st, &u));
    sonde_plugin_systemd.destroy(st);

    cfg.unit_include = "(";
    void *state = NULL;
    struct sonde_context ctx = {0};
    ck_assert_int_eq(sonde_plugin_systemd.init(&state, &cfg, &ctx), -EINVAL);
    cfg = systemd_defaults();
    cfg.timeout = 0;
    ck_assert_int_eq(sonde_plugin_systemd.init(&state, &cfg, &ctx), -EINVAL);
}
END_TEST

START_TEST(test_summary)
{
    struct systemd_unit items[] = {
        systemd_u("a.service", "loaded", "active", "running"),
        systemd_u("b.service", "not-found", "inactive", "dead"),
        systemd_u("c.service", "loaded", "reloading", "reload"),
        systemd_u("d.mount", "loaded", "active", "mounted"),
        systemd_u("e.service", "loaded", "failed", "failed"),
        systemd_u("f.service", "loaded", "reloading", "reload"),
        systemd_u("g.service", "loaded", "maintenance", "x"),
    };
    struct systemd_units units = {items, sizeof(items) / sizeof(items[0]), 0};
    struct sonde_batch *b = batch_new("systemd");
    systemd_emit_summary(b, &units);
    batch_finish(b);
    ck_assert_uint_eq(series_count(b, "node_systemd_units"), 7);
    ck_assert_double_eq(systemd_value(b, "node_systemd_units", "state", "active"), 2);
    ck_assert_double_eq(systemd_value(b, "node_systemd_units", "state", "inactive"), 1);
    ck_assert_double_eq(systemd_value(b, "node_systemd_units", "state", "failed"), 1);
    ck_assert_double_eq(systemd_value(b, "node_systemd_units", "state", "activating"), 0);
    ck_assert_double_eq(systemd_value(b, "node_systemd_units", "state", "deactivating"), 0);
    ck_assert_double_eq(systemd_value(b, "node_systemd_units", "state", "reloading"), 2);
    ck_assert_double_eq(systemd_value(b, "node_systemd_units", "state", "maintenance"), 1);
    batch_free(b);

    units.n = 0; /* no unit: the five states, 0 each */
    b = batch_new("systemd");
    systemd_emit_summary(b, &units);
    batch_finish(b);
    ck_assert_uint_eq(series_count(b, "node_systemd_units"), 5);
    batch_free(b);
}
END_TEST

START_TEST(test_unit_state)
{
    struct sonde_batch *b = batch_new("systemd");
    struct systemd_unit u = systemd_u("ssh.service", "loaded", "deactivating", "stop-sigterm");
    systemd_emit_unit_state(b, &u, "notify");
    u = systemd_u("r.service", "loaded", "reloading", "reload");
    systemd_emit_unit_state(b, &u, "");
    batch_finish(b);
    ck_assert_uint_eq(series_count(b, "node_systemd_unit_state"), 10);
    for (size_t i = 0; i < SYSTEMD_NSTATES; i++) {
        const char *state = systemd_states[i];
        const struct sonde_series *s =
            series_find(b, "node_systemd_unit_state", "name", "ssh.service", "state", state, NULL);
        ck_assert_ptr_nonnull(s);
        ck_assert_uint_eq(s->nlabels, 3);
        ck_assert_str_eq(label_get(s->labels, s->nlabels, "type"), "notify");
        ck_assert_double_eq(s->value, strcmp(state, "deactivating") == 0);
        s = series_find(b, "node_systemd_unit_state", "name", "r.service", "state", state, NULL);
        ck_assert_ptr_nonnull(s);
        ck_assert_str_eq(label_get(s->labels, s->nlabels, "type"), "");
        ck_assert_double_eq(s->value, 0);
    }
    batch_free(b);
}
END_TEST

START_TEST(test_emit_props)
{
    struct sonde_batch *b = batch_new("systemd");
    struct systemd_unit u = systemd_u("a.socket", "loaded", "active", "listening");
    struct systemd_props p = {0};
    p.have = SYSTEMD_BIT(SYSTEMD_NACCEPTED) | SYSTEMD_BIT(SYSTEMD_NCONNECTIONS) |
             SYSTEMD_BIT(SYSTEMD_NREFUSED);
    p.value[SYSTEMD_NACCEPTED] = 42;
    p.value[SYSTEMD_NCONNECTIONS] = 2;
    p.value[SYSTEMD_NREFUSED] = 1;
    systemd_emit_props(b, &u, &p);
    /* Without NConnections, node_exporter stops after NAccepted. */
    u.name = "b.socket";
    p.have &= ~SYSTEMD_BIT(SYSTEMD_NCONNECTIONS);
    systemd_emit_props(b, &u, &p);
    /* Without NAccepted, nothing. */
    u.name = "c.socket";
    p.have = SYSTEMD_BIT(SYSTEMD_NCONNECTIONS) | SYSTEMD_BIT(SYSTEMD_NREFUSED);
    systemd_emit_props(b, &u, &p);
    u = systemd_u("s.service", "loaded", "active", "running");
    p = (struct systemd_props){0};
    p.have = SYSTEMD_BIT(SYSTEMD_NRESTARTS) | SYSTEMD_BIT(SYSTEMD_TASKS_CURRENT) |
             SYSTEMD_BIT(SYSTEMD_TASKS_MAX) | SYSTEMD_BIT(SYSTEMD_ACTIVE_ENTER);
    p.value[SYSTEMD_NRESTARTS] = 7;
    p.value[SYSTEMD_TASKS_CURRENT] = 3;
    p.value[SYSTEMD_TASKS_MAX] = UINT64_MAX; /* no limit: left out */
    p.value[SYSTEMD_ACTIVE_ENTER] = 1700000000250000;
    systemd_emit_props(b, &u, &p);
    u = systemd_u("t.timer", "loaded", "active", "waiting");
    p = (struct systemd_props){0};
    p.have = SYSTEMD_BIT(SYSTEMD_LAST_TRIGGER);
    p.value[SYSTEMD_LAST_TRIGGER] = 1700086400123456;
    systemd_emit_props(b, &u, &p);
    batch_finish(b);

    ck_assert_double_eq(
        systemd_value(b, "node_systemd_socket_accepted_connections_total", "name", "a.socket"), 42);
    ck_assert_double_eq(
        systemd_value(b, "node_systemd_socket_current_connections", "name", "a.socket"), 2);
    ck_assert_double_eq(
        systemd_value(b, "node_systemd_socket_refused_connections_total", "name", "a.socket"), 1);
    ck_assert_uint_eq(series_count(b, "node_systemd_socket_accepted_connections_total"), 2);
    ck_assert_uint_eq(series_count(b, "node_systemd_socket_current_connections"), 1);
    ck_assert_uint_eq(series_count(b, "node_systemd_socket_refused_connections_total"), 1);
    ck_assert_double_eq(systemd_value(b, "node_systemd_service_restart_total", "name", "s.service"),
                        7);
    ck_assert_double_eq(systemd_value(b, "node_systemd_unit_tasks_current", "name", "s.service"),
                        3);
    ck_assert_uint_eq(series_count(b, "node_systemd_unit_tasks_max"), 0);
    ck_assert_double_eq(
        systemd_value(b, "node_systemd_unit_start_time_seconds", "name", "s.service"),
        1700000000.25);
    ck_assert_double_eq_tol(
        systemd_value(b, "node_systemd_timer_last_trigger_seconds", "name", "t.timer"),
        1700086400.123456, 1e-6);
    /* node_exporter's types, refused included. */
    ck_assert_int_eq(systemd_accepted_family.type, SONDE_COUNTER);
    ck_assert_int_eq(systemd_restarts_family.type, SONDE_COUNTER);
    ck_assert_int_eq(systemd_refused_family.type, SONDE_GAUGE);
    batch_free(b);
}
END_TEST

START_TEST(test_line_protocol)
{
    struct systemd_config cfg = systemd_defaults();
    cfg.unittype = "service,socket";
    cfg.pattern = "c*  s*";
    struct systemd_state *st = systemd_start(&cfg);
    struct systemd_unit items[] = {
        systemd_u("cron.service", "loaded", "active", "running"),
        systemd_u("ssh.socket", "loaded", "active", "listening"),
        systemd_u("sshd.service", "masked", "inactive", "dead"),
        systemd_u("systemd.timer", "loaded", "active", "waiting"),    /* not a wanted type */
        systemd_u("apt.service", "loaded", "active", "running"),      /* no pattern matches */
        systemd_u("clean.service", "loaded", "inactive", "cleaning"), /* no Telegraf code */
    };
    st->units.items = items;
    st->units.n = sizeof(items) / sizeof(items[0]);
    struct sonde_batch *b = batch_new("systemd");
    systemd_emit_lp(st, b);
    batch_finish(b);
    st->units.items = NULL;
    st->units.n = 0;
    ck_assert_uint_eq(b->npoints, 3);
    ck_assert_uint_eq(b->skipped, 1);
    const struct sonde_point *p = point_find(b, "systemd_units", "name", "sshd.service", "load",
                                             "masked", "active", "inactive", "sub", "dead", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->ntags, 4);
    ck_assert_int_eq(field_get(p, "load_code")->type, SONDE_FIELD_INT);
    ck_assert_int_eq(field_get(p, "load_code")->v.i, 6);
    ck_assert_int_eq(field_get(p, "active_code")->v.i, 2);
    ck_assert_int_eq(field_get(p, "sub_code")->v.i, 1);
    p = point_find(b, "systemd_units", "name", "ssh.socket", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(field_get(p, "sub_code")->v.i, 0x72);
    ck_assert_ptr_nonnull(point_find(b, "systemd_units", "name", "cron.service", NULL));
    batch_free(b);
    sonde_plugin_systemd.destroy(st);

    /* Telegraf's default: services, every name. */
    cfg = systemd_defaults();
    st = systemd_start(&cfg);
    ck_assert(systemd_lp_wanted(st, "apt.service"));
    ck_assert(!systemd_lp_wanted(st, "ssh.socket"));
    ck_assert(!systemd_lp_wanted(st, "service"));
    sonde_plugin_systemd.destroy(st);
}
END_TEST

/* ---- D-Bus answers, built with sd-bus on one end of a socket pair ---- */

struct systemd_msgs {
    const struct sonde_sdbus *sd;
    sd_bus *bus;
    int fds[2];
    int (*seal)(sd_bus_message *m, uint64_t cookie, uint64_t timeout_usec);
    int (*rewind)(sd_bus_message *m, int complete);
};

static void systemd_msgs_open(struct systemd_msgs *t)
{
    char err[256];
    t->sd = sonde_sdbus(err, sizeof(err));
    ck_assert_msg(t->sd != NULL, "%s", err);
    void *lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_NOLOAD);
    ck_assert_ptr_nonnull(lib);
    int (*set_fd)(sd_bus * bus, int in, int out) = NULL;
    *(void **)(void *)&set_fd = dlsym(lib, "sd_bus_set_fd");
    *(void **)(void *)&t->seal = dlsym(lib, "sd_bus_message_seal");
    *(void **)(void *)&t->rewind = dlsym(lib, "sd_bus_message_rewind");
    ck_assert(set_fd && t->seal && t->rewind);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, t->fds), 0);
    ck_assert_int_ge(t->sd->bus_new(&t->bus), 0);
    ck_assert_int_ge(set_fd(t->bus, t->fds[0], t->fds[0]), 0);
    ck_assert_int_ge(t->sd->bus_start(t->bus), 0);
    dlclose(lib);
}

static void systemd_msgs_close(struct systemd_msgs *t)
{
    t->sd->bus_close(t->bus); /* closes fds[0] */
    t->sd->bus_unref(t->bus);
    close(t->fds[1]);
}

/* A message to read, its body built by the caller; sealed and rewound. */
static sd_bus_message *systemd_msg_new(struct systemd_msgs *t)
{
    sd_bus_message *m = NULL;
    ck_assert_int_ge(t->sd->message_new_method_call(t->bus, &m, SYSTEMD_SERVICE, SYSTEMD_PATH,
                                                    SYSTEMD_PROPERTIES, "Get"),
                     0);
    return m;
}

static void systemd_msg_ready(struct systemd_msgs *t, sd_bus_message *m)
{
    ck_assert_int_ge(t->seal(m, 1, 0), 0);
    ck_assert_int_ge(t->rewind(m, 1), 0);
}

START_TEST(test_read_get_all)
{
    struct systemd_msgs t;
    systemd_msgs_open(&t);
    sd_bus_message *m = systemd_msg_new(&t);
    ck_assert_int_ge(
        t.sd->message_append(
            m, "a{sv}", 7, "ExecStart", "a(sasbttttuii)", 1, "/usr/sbin/sshd", 2, "/usr/sbin/sshd",
            "-D", 0, 1ull, 2ull, 3ull, 4ull, 5u, 6, 7, "Type", "s", "notify", "NRestarts", "u", 3u,
            "TasksCurrent", "t", 12ull, "TasksMax", "s", "infinity", /* not a number: left out */
            "Environment", "as", 2, "A=b", "C=d", "NAccepted", "u", 9u /* not wanted */),
        0);
    systemd_msg_ready(&t, m);
    struct sonde_batch *b = batch_new("systemd");
    struct systemd_props p = {0};
    unsigned wanted = SYSTEMD_BIT(SYSTEMD_TYPE) | SYSTEMD_BIT(SYSTEMD_NRESTARTS) |
                      SYSTEMD_BIT(SYSTEMD_TASKS_CURRENT) | SYSTEMD_BIT(SYSTEMD_TASKS_MAX);
    ck_assert_int_ge(systemd_read_all(t.sd, m, wanted, &p, b->arena), 0);
    ck_assert_uint_eq(p.have, SYSTEMD_BIT(SYSTEMD_TYPE) | SYSTEMD_BIT(SYSTEMD_NRESTARTS) |
                                  SYSTEMD_BIT(SYSTEMD_TASKS_CURRENT));
    ck_assert_str_eq(p.type, "notify");
    ck_assert_uint_eq(p.value[SYSTEMD_NRESTARTS], 3);
    ck_assert_uint_eq(p.value[SYSTEMD_TASKS_CURRENT], 12);
    t.sd->message_unref(m);

    /* A Get answer: one variant. */
    m = systemd_msg_new(&t);
    ck_assert_int_ge(t.sd->message_append(m, "v", "t", 1700086400123456ull), 0);
    systemd_msg_ready(&t, m);
    p = (struct systemd_props){0};
    ck_assert_int_ge(systemd_read_value(t.sd, m, SYSTEMD_LAST_TRIGGER, &p, b->arena), 0);
    ck_assert_uint_eq(p.have, SYSTEMD_BIT(SYSTEMD_LAST_TRIGGER));
    ck_assert_uint_eq(p.value[SYSTEMD_LAST_TRIGGER], 1700086400123456ull);
    t.sd->message_unref(m);

    /* Not a variant: malformed. */
    m = systemd_msg_new(&t);
    ck_assert_int_ge(t.sd->message_append(m, "s", "x"), 0);
    systemd_msg_ready(&t, m);
    p = (struct systemd_props){0};
    ck_assert_int_lt(systemd_read_value(t.sd, m, SYSTEMD_TYPE, &p, b->arena), 0);
    ck_assert_uint_eq(p.have, 0);
    t.sd->message_unref(m);
    batch_free(b);
    systemd_msgs_close(&t);
}
END_TEST

START_TEST(test_read_list_units)
{
    struct systemd_msgs t;
    systemd_msgs_open(&t);
    sd_bus_message *m = systemd_msg_new(&t);
    ck_assert_int_ge(t.sd->message_append(m, "a(ssssssouso)", 2, "ssh.service", "OpenSSH", "loaded",
                                          "active", "running", "",
                                          "/org/freedesktop/systemd1/unit/ssh_2eservice", 0u, "",
                                          "/", "x.socket", "", "not-found", "inactive", "dead", "",
                                          "/org/freedesktop/systemd1/unit/x_2esocket", 5u, "start",
                                          "/org/freedesktop/systemd1/job/5"),
                     0);
    systemd_msg_ready(&t, m);
    struct systemd_units units = {0};
    ck_assert_int_ge(systemd_read_units(t.sd, m, &units), 0);
    ck_assert_uint_eq(units.n, 2);
    ck_assert_str_eq(units.items[0].name, "ssh.service");
    ck_assert_str_eq(units.items[0].load, "loaded");
    ck_assert_str_eq(units.items[0].active, "active");
    ck_assert_str_eq(units.items[0].sub, "running");
    ck_assert_str_eq(units.items[0].path, "/org/freedesktop/systemd1/unit/ssh_2eservice");
    ck_assert_str_eq(units.items[1].load, "not-found");
    ck_assert_str_eq(units.items[1].path, "/org/freedesktop/systemd1/unit/x_2esocket");
    t.sd->message_unref(m);

    /* Another signature: refused, nothing kept. */
    m = systemd_msg_new(&t);
    ck_assert_int_ge(t.sd->message_append(m, "as", 1, "ssh.service"), 0);
    systemd_msg_ready(&t, m);
    ck_assert_int_lt(systemd_read_units(t.sd, m, &units), 0);
    ck_assert_uint_eq(units.n, 0);
    t.sd->message_unref(m);
    free(units.items);
    systemd_msgs_close(&t);
}
END_TEST

/* ---- Reads without systemd ---- */

START_TEST(test_no_bus)
{
    struct systemd_config cfg = systemd_defaults();
    cfg.address = "unix:path=/nonexistent/sonde-test/bus";
    struct systemd_state *st = systemd_start(&cfg);
    for (int i = 0; i < 2; i++) {
        struct sonde_batch *b = batch_new("systemd");
        b->want_points = true;
        ck_assert_int_eq(sonde_plugin_systemd.read(st, b), -ENODATA);
        batch_finish(b);
        ck_assert_uint_eq(b->nseries + b->npoints, 0);
        batch_free(b);
        ck_assert_int_eq(st->presence, SYSTEMD_ABSENT);
        ck_assert_ptr_null(st->bus);
    }
    sonde_plugin_systemd.destroy(st);
}
END_TEST

START_TEST(test_silent_bus_times_out)
{
    /* A socket that takes connections (the backlog) but never says a word. */
    char path[108];
    snprintf(path, sizeof(path), "/tmp/sonde-check-systemd.%d", (int)getpid());
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(fd, 4), 0);
    struct systemd_config cfg = systemd_defaults();
    char address[160];
    snprintf(address, sizeof(address), "unix:path=%s", path);
    cfg.address = address;
    cfg.timeout = 300000000; /* 300 ms */
    struct systemd_state *st = systemd_start(&cfg);
    struct sonde_batch *b = batch_new("systemd");
    int64_t start = systemd_now_ns();
    ck_assert_int_eq(sonde_plugin_systemd.read(st, b), -ETIMEDOUT);
    double took = (double)(systemd_now_ns() - start) / 1e9;
    ck_assert_msg(took >= 0.29 && took < 1.5, "the read took %.3f s", took);
    ck_assert_ptr_null(st->bus);
    batch_free(b);
    sonde_plugin_systemd.destroy(st);
    close(fd);
    unlink(path);
}
END_TEST

static Suite *systemd_suite(void)
{
    Suite *s = suite_create("systemd");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_version);
    tcase_add_test(tc, test_codes);
    tcase_add_test(tc, test_filter_defaults);
    tcase_add_test(tc, test_filter_options);
    tcase_add_test(tc, test_summary);
    tcase_add_test(tc, test_unit_state);
    tcase_add_test(tc, test_emit_props);
    tcase_add_test(tc, test_line_protocol);
    tcase_add_test(tc, test_read_get_all);
    tcase_add_test(tc, test_read_list_units);
    tcase_add_test(tc, test_no_bus);
    tcase_add_test(tc, test_silent_bus_times_out);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(systemd_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
