/*
 * config.h - the agent's configuration as loaded from YAML (file, conf.d
 * beside it, or the embedded default) and overridden by command-line flags.
 */
#ifndef SONDE_CONFIG_H
#define SONDE_CONFIG_H

#include "sonde.h"

/* Options every push output takes, parsed by the core. */
struct push_options {
    int64_t flush_interval_ns;     /* send at least this often */
    int64_t batch_size;            /* records per request */
    int64_t timeout_ns;            /* per request */
    bool gzip;                     /* default from the plugin */
    uint64_t queue_limit;          /* bytes in memory */
    struct sonde_string_map spool; /* dir, limit */
    char *spool_dir;               /* from spool.dir; NULL: no spool */
    uint64_t spool_limit;          /* from spool.limit */
    char *ca_file, *cert_file, *key_file;
    bool insecure_skip_verify;
    int64_t max_retry_interval_ns; /* backoff ceiling */
    int64_t flush_timeout_ns;      /* on stop, how long to go on sending */
};

/* One configured plugin instance: `config` is the plugin's own struct,
 * filled from its option table; owned by this entry. */
struct config_instance {
    const struct sonde_plugin *plugin;
    void *config;
    char *name;                   /* "cpu", or "nginx/1" for a second instance */
    int64_t interval_ns;          /* 0: the agent's interval */
    struct sonde_string_map tags; /* extra line-protocol tags */
    struct push_options push;     /* push outputs only */
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
    int64_t max_connections_per_ip; /* 0: no limit */
    char *web_config_file;          /* empty: no TLS, no auth (--web.config.file) */

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
const char *registry_collector_name(const struct sonde_plugin *plugin);

/* --collector.NAME: one instance of the plugin with its defaults, unless the
 * configuration has one already. --no-collector.NAME: none of them. */
void config_enable_input(struct sonde_config *config, const struct sonde_plugin *plugin);
void config_disable_input(struct sonde_config *config, const struct sonde_plugin *plugin);

#endif
