/*
 * main.c - sonde's command line: flags (node_exporter's names where they
 * exist), --check-config, --once, and the daemon's life: start, SIGHUP
 * reload, SIGTERM/SIGINT stop.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "webconfig.h"

struct options {
    const char *config_path;
    bool check_config, once;
    const char *interval, *listen_address, *telemetry_path, *log_level, *cycles;
    const char *web_config_file;
    struct agent_paths paths;
    /* --collector.NAME / --no-collector.NAME, in command-line order */
    const char *collectors[128];
    bool collector_on[128];
    size_t ncollectors;
    bool disable_defaults; /* --collector.disable-defaults */
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sonde [flags]\n"
            "\n"
            "A monitoring agent: samples this host, serves Prometheus metrics and\n"
            "writes InfluxDB line protocol.\n"
            "\n"
            "  --config FILE              configuration file (default: the embedded default)\n"
            "  --check-config             validate the configuration and exit (0 ok, 2 invalid)\n"
            "  --once                     run every input once, print line protocol, exit\n"
            "                             (0 when every input succeeded, 1 otherwise)\n"
            "  --interval DURATION        collection interval, e.g. 100ms, 10s, 1m\n"
            "  --web.listen-address ADDR  endpoint address (default :9110; empty: off)\n"
            "  --web.telemetry-path PATH  metrics path (default /metrics)\n"
            "  --web.config.file FILE     TLS, basic auth and headers, in the Prometheus\n"
            "                             exporters' web configuration format\n"
            "  --path.procfs PATH         procfs mount point (default /proc)\n"
            "  --path.sysfs PATH          sysfs mount point (default /sys)\n"
            "  --path.rootfs PATH         root filesystem mount point (default /)\n"
            "  --collector.NAME           turn an input on (node_exporter's collector names)\n"
            "  --no-collector.NAME        turn an input off\n"
            "  --collector.disable-defaults  only the inputs named by --collector.NAME\n"
            "  --log.level LEVEL          error, warn, info or debug\n"
            "  --cycles N                 stop after N collection rounds (tests, benchmarks)\n"
            "  --version                  print the version and exit\n"
            "  --help-plugins             list every plugin with its options and defaults\n"
            "  --help                     print this help and exit\n"
            "\n"
            "Both --flag=value and --flag value are accepted.\n"
            "Plugins:");
    for (size_t i = 0; sonde_registry[i]; i++)
        fprintf(out, " %s", sonde_registry[i]->name);
    fprintf(out, "\n");
}

/* Matches argv[*i] against `name`, taking the value from "=value" or the
 * next argument. Returns 1 on a match, 0 if not this flag, -1 on a missing
 * value. */
static int flag_value(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *arg = argv[*i];
    size_t len = strlen(name);
    if (strncmp(arg, name, len) != 0)
        return 0;
    if (arg[len] == '=') {
        *value = arg + len + 1;
        return 1;
    }
    if (arg[len] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *value = argv[++*i];
    return 1;
}

static const char *option_type_text(enum sonde_option_type type)
{
    static const char *const names[] = {"string", "bool",  "int",  "duration",
                                        "size",   "regex", "list", "map"};
    return (size_t)type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}

/* --help-plugins: every plugin with its options, defaults and help. */
static void usage_plugins(FILE *out)
{
    for (size_t i = 0; sonde_registry[i]; i++) {
        const struct sonde_plugin *p = sonde_registry[i];
        fprintf(out, "%s %s: %s\n", p->kind == SONDE_INPUT ? "input" : "output", p->name,
                p->summary ? p->summary : "");
        for (const struct sonde_option *opt = p->options; opt && opt->name; opt++)
            fprintf(out, "  %-24s %-8s %s%s%s%s\n", opt->name, option_type_text(opt->type),
                    opt->help ? opt->help : "", opt->default_value ? " (default: " : "",
                    opt->default_value ? opt->default_value : "",
                    opt->default_value ? ")" : (opt->required ? " (required)" : ""));
    }
}

/* --collector.NAME, --no-collector.NAME, --collector.disable-defaults, as
 * node_exporter has them. Returns true when `arg` was one of them. */
static bool parse_collector_flag(const char *arg, struct options *o)
{
    bool on = strncmp(arg, "--collector.", 12) == 0;
    if (!on && strncmp(arg, "--no-collector.", 15) != 0)
        return false;
    const char *name = arg + (on ? 12 : 15);
    if (on && strcmp(name, "disable-defaults") == 0) {
        o->disable_defaults = true;
        return true;
    }
    if (strchr(name, '.') || strchr(name, '=')) {
        fprintf(stderr,
                "sonde: %s: collector options are set in the configuration file "
                "(inputs: {PLUGIN: {OPTION: VALUE}}); see the README\n",
                arg);
        exit(2);
    }
    if (o->ncollectors == sizeof(o->collectors) / sizeof(o->collectors[0])) {
        fprintf(stderr, "sonde: too many --collector flags\n");
        exit(2);
    }
    o->collectors[o->ncollectors] = name;
    o->collector_on[o->ncollectors++] = on;
    return true;
}

/* Applies the --collector flags to the inputs. 0 or -EINVAL (reported). */
static int apply_collector_flags(const struct options *o, struct sonde_config *config)
{
    const struct sonde_plugin *plugins[128];
    for (size_t i = 0; i < o->ncollectors; i++) {
        plugins[i] = registry_find(o->collectors[i]);
        if (!plugins[i] || plugins[i]->kind != SONDE_INPUT) {
            fprintf(stderr, "sonde: --%scollector.%s: no such collector (see sonde --help)\n",
                    o->collector_on[i] ? "" : "no-", o->collectors[i]);
            return -EINVAL;
        }
    }
    if (o->disable_defaults) {
        for (size_t k = 0; sonde_registry[k]; k++) {
            bool wanted = false;
            for (size_t i = 0; i < o->ncollectors; i++)
                wanted |= plugins[i] == sonde_registry[k] && o->collector_on[i];
            if (!wanted && sonde_registry[k]->kind == SONDE_INPUT)
                config_disable_input(config, sonde_registry[k]);
        }
    }
    for (size_t i = 0; i < o->ncollectors; i++) {
        if (o->collector_on[i])
            config_enable_input(config, plugins[i]);
        else
            config_disable_input(config, plugins[i]);
    }
    return 0;
}

/* Parses the command line; exits with 0 (--help, --version) or 2 (bad
 * flag). */
static void parse_flags(int argc, char **argv, struct options *o)
{
    static const struct {
        const char *name;
        size_t offset;
    } valued[] = {
        {"--config", offsetof(struct options, config_path)},
        {"--interval", offsetof(struct options, interval)},
        {"--web.listen-address", offsetof(struct options, listen_address)},
        {"--web.telemetry-path", offsetof(struct options, telemetry_path)},
        {"--web.config.file", offsetof(struct options, web_config_file)},
        {"--log.level", offsetof(struct options, log_level)},
        {"--cycles", offsetof(struct options, cycles)},
        {"--path.procfs", offsetof(struct options, paths.procfs)},
        {"--path.sysfs", offsetof(struct options, paths.sysfs)},
        {"--path.rootfs", offsetof(struct options, paths.rootfs)},
    };
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(arg, "--help-plugins") == 0) {
            usage_plugins(stdout);
            exit(0);
        }
        if (strcmp(arg, "--version") == 0) {
            printf("sonde %s\n", SONDE_VERSION);
            exit(0);
        }
        if (strcmp(arg, "--check-config") == 0) {
            o->check_config = true;
            continue;
        }
        if (strcmp(arg, "--once") == 0) {
            o->once = true;
            continue;
        }
        if (parse_collector_flag(arg, o))
            continue;
        int matched = 0;
        for (size_t k = 0; k < sizeof(valued) / sizeof(valued[0]) && !matched; k++) {
            const char *value;
            matched = flag_value(argc, argv, &i, valued[k].name, &value);
            if (matched == 1)
                *(const char **)((char *)o + valued[k].offset) = value;
        }
        if (matched == -1) {
            fprintf(stderr, "sonde: flag %s needs a value\n", arg);
            exit(2);
        }
        if (!matched) {
            fprintf(stderr, "sonde: unknown flag %s (see sonde --help)\n", arg);
            exit(2);
        }
    }
}

/* Command-line flags win over the file. Returns 0 or -EINVAL (reported). */
static int apply_flags(const struct options *o, struct sonde_config *config)
{
    if (apply_collector_flags(o, config) < 0)
        return -EINVAL;
    if (o->interval) {
        int64_t ns;
        if (config_parse_duration(o->interval, &ns) < 0 || ns <= 0) {
            fprintf(stderr,
                    "sonde: --interval: expected a duration like 100ms, 10s or 1m, got "
                    "\"%s\"\n",
                    o->interval);
            return -EINVAL;
        }
        config->interval_ns = ns;
    }
    if (o->listen_address) {
        free(config->listen_address);
        config->listen_address = sonde_xstrdup(o->listen_address);
    }
    if (o->telemetry_path) {
        if (o->telemetry_path[0] != '/') {
            fprintf(stderr, "sonde: --web.telemetry-path must start with /\n");
            return -EINVAL;
        }
        free(config->telemetry_path);
        config->telemetry_path = sonde_xstrdup(o->telemetry_path);
    }
    if (o->web_config_file) {
        free(config->web_config_file);
        config->web_config_file = sonde_xstrdup(o->web_config_file);
    }
    /* The web configuration is part of the configuration: a broken one
     * stops the start (exit 2), fails --check-config and refuses a reload. */
    if (config->web_config_file[0] && webconfig_check(config->web_config_file) < 0)
        return -EINVAL;
    if (o->cycles) {
        char *end;
        unsigned long long n = strtoull(o->cycles, &end, 10);
        if (end == o->cycles || *end || n == 0) {
            fprintf(stderr, "sonde: --cycles: expected a positive number, got \"%s\"\n", o->cycles);
            return -EINVAL;
        }
    }
    const char *level = o->log_level ? o->log_level : config->log_level;
    static const char *const levels[] = {"error", "warn", "info", "debug"};
    for (int l = 0; l < 4; l++) {
        if (strcmp(level, levels[l]) == 0) {
            log_set_level((enum sonde_log_level)l);
            return 0;
        }
    }
    fprintf(stderr, "sonde: --log.level: expected error, warn, info or debug\n");
    return -EINVAL;
}

static int load(const struct options *o, struct sonde_config *config)
{
    if (config_load(config, o->config_path) < 0)
        return -EINVAL;
    if (apply_flags(o, config) < 0) {
        config_free(config);
        return -EINVAL;
    }
    return 0;
}

/* --once: two rounds a moment apart (CPU percentages need a previous
 * sample), then the second round as line protocol on stdout. */
static int run_once(struct sonde_config *config, const struct agent_paths *paths)
{
    size_t noutputs = config->noutputs;
    config->noutputs = 0; /* --once prints; configured outputs stay idle */
    struct agent agent;
    int rc = agent_init(&agent, config, paths, NULL);
    agent.want_series = false;
    agent.want_points = true;
    for (size_t i = 0; i < agent.ninputs; i++)
        agent_collect(&agent, &agent.inputs[i]);
    nanosleep(&(struct timespec){.tv_nsec = 250 * 1000000}, NULL);
    struct sonde_buf out = {0};
    struct sonde_lp_stats stats = {0};
    for (size_t i = 0; i < agent.ninputs; i++) {
        struct agent_input *in = &agent.inputs[i];
        int read = agent_collect(&agent, in);
        if (read < 0 && read != -ENODATA) { /* ENODATA: absent here, not failed */
            rc = -EIO;
            continue;
        }
        sonde_lp_encode_batch(&out, agent.store.slots[i], &stats);
    }
    if (out.len)
        fwrite(out.data, 1, out.len, stdout);
    fflush(stdout);
    sonde_buf_free(&out);
    agent_destroy(&agent);
    config->noutputs = noutputs;
    return rc < 0 ? 1 : 0;
}

struct running {
    struct agent agent;
    struct endpoint *endpoint;
};

static int start(struct running *run, struct sonde_config *config, const struct options *o,
                 struct agent_handovers *adopt)
{
    if (agent_init(&run->agent, config, &o->paths, adopt) < 0)
        sonde_log(SONDE_LOG_WARN, "some plugins failed to start; the others run");
    run->agent.max_rounds = o->cycles ? strtoull(o->cycles, NULL, 10) : 0;
    run->endpoint = NULL;
    if (config->listen_address[0]) {
        run->endpoint = endpoint_start(&run->agent, config->listen_address, config->telemetry_path);
        if (!run->endpoint) {
            agent_destroy(&run->agent);
            return -EADDRINUSE;
        }
    }
    if (scheduler_start(&run->agent) < 0) {
        endpoint_stop(run->endpoint);
        agent_destroy(&run->agent);
        return -EAGAIN;
    }
    sonde_log(SONDE_LOG_INFO, "started: %zu inputs, %zu outputs, interval %.3gs", config->ninputs,
              config->noutputs, (double)config->interval_ns / 1e9);
    return 0;
}

static void stop(struct running *run)
{
    scheduler_stop(&run->agent);
    endpoint_stop(run->endpoint);
    agent_destroy(&run->agent);
}

static int run_daemon(const struct options *o, struct sonde_config *config)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by every thread */
    signal(SIGPIPE, SIG_IGN);

    struct running run;
    if (start(&run, config, o, NULL) < 0)
        return 1;
    for (;;) {
        int sig;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig != SIGHUP) {
            sonde_log(SONDE_LOG_INFO, "signal %d: stopping", sig);
            break;
        }
        struct sonde_config fresh;
        if (load(o, &fresh) < 0) {
            sonde_log(SONDE_LOG_ERROR, "reload: configuration invalid; keeping the running one");
            continue;
        }
        /* Push outputs keep what they queued: the new agent adopts it. */
        struct agent_handovers handovers = {0};
        scheduler_stop(&run.agent);
        agent_hand_over(&run.agent, &handovers, &fresh);
        stop(&run);
        config_free(config);
        *config = fresh;
        int rc = start(&run, config, o, &handovers);
        agent_handovers_free(&handovers);
        if (rc < 0)
            return 1;
        sonde_log(SONDE_LOG_INFO, "reload: configuration %s applied", config->source);
    }
    stop(&run);
    return 0;
}

int main(int argc, char **argv)
{
    struct options o = {.paths = {.procfs = "/proc", .sysfs = "/sys", .rootfs = "/"}};
    parse_flags(argc, argv, &o);
    struct sonde_config config;
    if (load(&o, &config) < 0)
        return 2;
    if (o.check_config) {
        printf("%s: ok (%zu inputs, %zu outputs)\n", config.source, config.ninputs,
               config.noutputs);
        config_free(&config);
        return 0;
    }
    int rc = o.once ? run_once(&config, &o.paths) : run_daemon(&o, &config);
    config_free(&config);
    return rc;
}
