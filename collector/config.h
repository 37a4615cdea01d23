/*
 * config.h - the agent's configuration as loaded from YAML (file, conf.d
 * beside it, or the embedded default) and overridden by command-line flags.
 */
#ifndef SONDE_CONFIG_H
#define SONDE_CONFIG_H

#include "sonde.h"

/* One configured plugin instance: `config` is the plugin's own struct,
 * filled from its option table; owned by this entry. */
struct config_instance {
    const struct sonde_plugin *plugin;
    void *config;
    char *name;                   /* "cpu", or "nginx/1" for a second instance */
    int64_t interval_ns;          /* 0: the agent's interval */
    struct sonde_string_map tags; /* extra line-protocol tags */
};

struct sonde_config {
    char *source; /* file the configuration came from ("<embedded>" for the default) */

    int64_t interval_ns;
    char *hostname; /* empty: the system's host name */
    bool omit_hostname;
    struct sonde_string_map global_tags;
    char *log_level;

    char *listen_address; /* empty: the endpoint is off */
    char *telemetry_path;
    int64_t max_connections;
    int64_t request_timeout_ns;

    struct config_instance *inputs;
    size_t ninputs;
    struct config_instance *outputs;
    size_t noutputs;
};

/* Loads `path` and then the .yaml files of conf.d beside it in name order; NULL
 * loads the embedded default. Errors are printed as FILE:LINE:COLUMN:
 * message on stderr; returns 0 or -EINVAL (bad configuration) / -errno. */
int config_load(struct sonde_config *config, const char *path);
/* Loads from a string (tests); `name` is used in messages. */
int config_load_string(struct sonde_config *config, const char *yaml, const char *name);
void config_free(struct sonde_config *config);

/* Parses "100ms", "1.5s", "1m30s" into nanoseconds; 0 or -EINVAL. */
int config_parse_duration(const char *text, int64_t *out);
/* Parses "64MiB", "1GB", "4096" into bytes; 0 or -EINVAL. */
int config_parse_size(const char *text, uint64_t *out);

/* Fills a plugin config struct with its options' defaults, and frees what
 * an option table put in one (strings, lists, maps; not the struct). */
void config_options_defaults(const struct sonde_option *options, void *base);
void config_options_free(const struct sonde_option *options, void *base);

/* The embedded default configuration (packaging/sonde.yaml). */
extern const char sonde_default_config[];

/* ---- registry.c ---- */
const struct sonde_plugin *registry_find(const char *name);
/* NULL-terminated list of every plugin. */
extern const struct sonde_plugin *const sonde_registry[];

#endif
