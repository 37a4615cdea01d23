/*
 * uname.c - the `uname` input: node_uname_info, the uname(2) strings as
 * labels, as node_exporter's uname collector. No line protocol: Telegraf
 * has no uname input.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "sonde.h"

struct uname_config {
    char unused; /* no options; keeps the struct non-empty (ISO C) */
};

static const struct sonde_option uname_options[] = {
    {NULL},
};

static const struct sonde_family uname_info_family = {
    "node_uname_info", SONDE_GAUGE,
    "Labeled system information as provided by the uname system call."};

/* The info series: every field a label, value 1. The fields are
 * NUL-terminated by the kernel; domainname is "(none)" when unset, and is
 * exported as such, as node_exporter does. */
static void uname_emit(const struct utsname *u, struct sonde_batch *batch)
{
    sonde_emit(batch, &uname_info_family, 1.0, "domainname", u->domainname, "machine", u->machine,
               "nodename", u->nodename, "release", u->release, "sysname", u->sysname, "version",
               u->version, NULL);
}

static int uname_init(void **state, const void *config, const struct sonde_context *ctx)
{
    (void)config;
    (void)ctx;
    *state = NULL; /* nothing to keep: the node name can change, so ask each read */
    return 0;
}

static int uname_read(void *state, struct sonde_batch *batch)
{
    (void)state;
    if (!batch->want_series)
        return 0; /* nothing for line protocol */
    struct utsname u;
    if (uname(&u) < 0)
        return -errno;
    uname_emit(&u, batch);
    return 0;
}

static void uname_destroy(void *state)
{
    (void)state;
}

const struct sonde_plugin sonde_plugin_uname = {
    .name = "uname",                                 /* node_exporter's collector */
    .kind = SONDE_INPUT,                             /* reads the host */
    .summary = "Kernel name, release and host name", /* for --help and docs */
    .config_size = sizeof(struct uname_config),      /* no options */
    .options = uname_options,                        /* empty table */
    .init = uname_init,                              /* no state */
    .read = uname_read,                              /* one uname(2) per cycle */
    .write = NULL,                                   /* inputs do not write */
    .destroy = uname_destroy,                        /* nothing to free */
};
