/*
 * registry.c - the one table of every plugin compiled into sonde. Adding a
 * plugin: its file in plugins/, one line here.
 */
#include <string.h>

#include "config.h"

extern const struct sonde_plugin sonde_plugin_cpu, sonde_plugin_mem, sonde_plugin_swap,
    sonde_plugin_system, sonde_plugin_kernel, sonde_plugin_net, sonde_plugin_diskio,
    sonde_plugin_disk, sonde_plugin_stdout, sonde_plugin_influxdb, sonde_plugin_influxdb_v2,
    sonde_plugin_remote_write;
extern const struct sonde_plugin sonde_plugin_vmstat, sonde_plugin_netstat, sonde_plugin_sockstat,
    sonde_plugin_softnet, sonde_plugin_udp_queues, sonde_plugin_arp, sonde_plugin_conntrack;

extern const struct sonde_plugin sonde_plugin_cgroup;

extern const struct sonde_plugin sonde_plugin_netclass, sonde_plugin_hwmon,
    sonde_plugin_thermal_zone, sonde_plugin_powersupplyclass, sonde_plugin_cpufreq,
    sonde_plugin_sensors;

extern const struct sonde_plugin sonde_plugin_timex, sonde_plugin_time, sonde_plugin_uname,
    sonde_plugin_os, sonde_plugin_filefd, sonde_plugin_entropy, sonde_plugin_pressure,
    sonde_plugin_schedstat, sonde_plugin_processes, sonde_plugin_interrupts, sonde_plugin_textfile,
    sonde_plugin_systemd;

const struct sonde_plugin *const sonde_registry[] = {
    /* inputs */
    &sonde_plugin_cpu,
    &sonde_plugin_mem,
    &sonde_plugin_swap,
    &sonde_plugin_system,
    &sonde_plugin_kernel,
    &sonde_plugin_net,
    &sonde_plugin_diskio,
    &sonde_plugin_disk,
    &sonde_plugin_vmstat,
    &sonde_plugin_netstat,
    &sonde_plugin_sockstat,
    &sonde_plugin_softnet,
    &sonde_plugin_udp_queues,
    &sonde_plugin_arp,
    &sonde_plugin_conntrack,
    &sonde_plugin_cgroup,
    &sonde_plugin_netclass,
    &sonde_plugin_hwmon,
    &sonde_plugin_thermal_zone,
    &sonde_plugin_powersupplyclass,
    &sonde_plugin_cpufreq,
    &sonde_plugin_sensors,
    &sonde_plugin_timex,
    &sonde_plugin_time,
    &sonde_plugin_uname,
    &sonde_plugin_os,
    &sonde_plugin_filefd,
    &sonde_plugin_entropy,
    &sonde_plugin_pressure,
    &sonde_plugin_schedstat,
    &sonde_plugin_processes,
    &sonde_plugin_interrupts,
    &sonde_plugin_textfile,
    &sonde_plugin_systemd,
    /* outputs */
    &sonde_plugin_stdout,
    &sonde_plugin_influxdb,
    &sonde_plugin_influxdb_v2,
    &sonde_plugin_remote_write,
    NULL,
};

/* Other names users know a plugin by (Telegraf's and node_exporter's). */
static const struct {
    const char *alias, *name;
} registry_aliases[] = {
    {"memory", "mem"}, {"meminfo", "mem"},    {"diskstats", "diskio"}, {"filesystem", "disk"},
    {"netdev", "net"}, {"loadavg", "system"}, {"stat", "kernel"},      {"systemd_units", "systemd"},
};

const struct sonde_plugin *registry_find(const char *name)
{
    for (size_t i = 0; i < sizeof(registry_aliases) / sizeof(registry_aliases[0]); i++)
        if (strcmp(registry_aliases[i].alias, name) == 0)
            name = registry_aliases[i].name;
    for (size_t i = 0; sonde_registry[i]; i++)
        if (strcmp(sonde_registry[i]->name, name) == 0)
            return sonde_registry[i];
    return NULL;
}

/* node_exporter's collector name for a plugin (node_scrape_collector_* and
 * --collector.NAME); NULL for plugins that export nothing to Prometheus. */
const char *registry_collector_name(const struct sonde_plugin *plugin)
{
    static const struct {
        const char *plugin, *collector;
    } names[] = {
        {"mem", "meminfo"}, {"system", "loadavg"},   {"kernel", "stat"},
        {"net", "netdev"},  {"diskio", "diskstats"}, {"disk", "filesystem"},
    };
    if (plugin->kind != SONDE_INPUT || strcmp(plugin->name, "swap") == 0)
        return NULL;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(names[i].plugin, plugin->name) == 0)
            return names[i].collector;
    return plugin->name;
}
