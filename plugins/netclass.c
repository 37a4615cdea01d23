/*
 * netclass.c - the `netclass` input: node_exporter's netclass collector, the attributes of
 * /sys/class/net/<iface>/ (node_network_up, _info, _mtu_bytes, _speed_bytes, _carrier ...
 * {device}). Prometheus only: Telegraf has no input for these attributes (its `net` input
 * covers the counters, and so does our net input).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sonde.h"

struct netclass_config {
    char *ignored_devices;     /* regex; node_exporter's --collector.netclass.ignored-devices */
    bool ignore_invalid_speed; /* leave out node_network_speed_bytes when speed is -1 */
};

static const struct sonde_option netclass_options[] = {
    {"ignored_devices", SONDE_OPT_REGEX, offsetof(struct netclass_config, ignored_devices), "^$",
     false, "Devices left out (node_exporter's --collector.netclass.ignored-devices)"},
    {"ignore_invalid_speed", SONDE_OPT_BOOL, offsetof(struct netclass_config, ignore_invalid_speed),
     "false", false, "Leave out node_network_speed_bytes of devices whose speed is unknown (-1)"},
    {NULL},
};

/* The numeric attributes node_exporter 1.5 exports, in its order. */
enum netclass_number {
    NETCLASS_ADDR_ASSIGN_TYPE,
    NETCLASS_CARRIER,
    NETCLASS_CARRIER_CHANGES,
    NETCLASS_CARRIER_UP,
    NETCLASS_CARRIER_DOWN,
    NETCLASS_DEV_ID,
    NETCLASS_DORMANT,
    NETCLASS_FLAGS,
    NETCLASS_IFINDEX,
    NETCLASS_IFLINK,
    NETCLASS_LINK_MODE,
    NETCLASS_MTU,
    NETCLASS_NETDEV_GROUP,
    NETCLASS_NAME_ASSIGN_TYPE,
    NETCLASS_SPEED,
    NETCLASS_TX_QUEUE_LEN,
    NETCLASS_TYPE,
    NETCLASS_NNUMBERS
};

/* The file each numeric attribute comes from. */
static const char *const netclass_number_files[NETCLASS_NNUMBERS] = {
    "addr_assign_type", "carrier", "carrier_changes", "carrier_up_count", "carrier_down_count",
    "dev_id",           "dormant", "flags",           "ifindex",          "iflink",
    "link_mode",        "mtu",     "netdev_group",    "name_assign_type", "speed",
    "tx_queue_len",     "type"};

static const struct sonde_family netclass_families[NETCLASS_NNUMBERS] = {
    {"node_network_address_assign_type", SONDE_GAUGE,
     "Network device property: address_assign_type"},
    {"node_network_carrier", SONDE_GAUGE, "Network device property: carrier"},
    {"node_network_carrier_changes_total", SONDE_COUNTER,
     "Network device property: carrier_changes_total"},
    {"node_network_carrier_up_changes_total", SONDE_COUNTER,
     "Network device property: carrier_up_changes_total"},
    {"node_network_carrier_down_changes_total", SONDE_COUNTER,
     "Network device property: carrier_down_changes_total"},
    {"node_network_device_id", SONDE_GAUGE, "Network device property: device_id"},
    {"node_network_dormant", SONDE_GAUGE, "Network device property: dormant"},
    {"node_network_flags", SONDE_GAUGE, "Network device property: flags"},
    {"node_network_iface_id", SONDE_GAUGE, "Network device property: iface_id"},
    {"node_network_iface_link", SONDE_GAUGE, "Network device property: iface_link"},
    {"node_network_iface_link_mode", SONDE_GAUGE, "Network device property: iface_link_mode"},
    {"node_network_mtu_bytes", SONDE_GAUGE, "Network device property: mtu_bytes"},
    {"node_network_net_dev_group", SONDE_GAUGE, "Network device property: net_dev_group"},
    {"node_network_name_assign_type", SONDE_GAUGE, "Network device property: name_assign_type"},
    {"node_network_speed_bytes", SONDE_GAUGE, "Network device property: speed_bytes"},
    {"node_network_transmit_queue_length", SONDE_GAUGE,
     "Network device property: transmit_queue_length"},
    {"node_network_protocol_type", SONDE_GAUGE, "Network device property: protocol_type"},
};

static const struct sonde_family netclass_up_family = {
    "node_network_up", SONDE_GAUGE, "Value is 1 if operstate is 'up', 0 otherwise."};
static const struct sonde_family netclass_info_family = {
    "node_network_info", SONDE_GAUGE,
    "Non-numeric data from /sys/class/net/<iface>, value is always 1."};

/* The text attributes of node_network_info. */
enum netclass_text {
    NETCLASS_ADDRESS,
    NETCLASS_BROADCAST,
    NETCLASS_DUPLEX,
    NETCLASS_IFALIAS,
    NETCLASS_OPERSTATE,
    NETCLASS_NTEXTS
};

static const char *const netclass_text_files[NETCLASS_NTEXTS] = {"address", "broadcast", "duplex",
                                                                 "ifalias", "operstate"};

/* A sysfs attribute is at most a page; ifalias (256 bytes) is the longest we read. */
#define NETCLASS_ATTR_MAX 4096
#define NETCLASS_TEXT_MAX 320

/* What one interface directory says. Absent attributes (not there, or refused
 * with EINVAL as speed is on a down link) have their `has` bit clear. */
struct netclass_iface {
    bool has[NETCLASS_NNUMBERS];
    int64_t number[NETCLASS_NNUMBERS];
    char text[NETCLASS_NTEXTS][NETCLASS_TEXT_MAX]; /* "" when absent */
    uint64_t malformed;                            /* attributes present but unreadable */
};

struct netclass_state {
    char *class_net; /* <sysfs>/class/net; owned */
    regex_t ignored; /* compiled ignored_devices, when has_ignored */
    bool has_ignored;
    bool ignore_invalid_speed;
};

/* ------------------------------------------------------------------ */
/* Parsing                                                              */
/* ------------------------------------------------------------------ */

static bool netclass_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Trims whitespace at both ends of buf[0..len) in place (procfs' SysReadFile
 * does so) and returns the new length. */
static size_t netclass_trim(char *buf, size_t len)
{
    size_t start = 0;
    while (start < len && netclass_is_space(buf[start]))
        start++;
    while (len > start && netclass_is_space(buf[len - 1]))
        len--;
    if (start)
        memmove(buf, buf + start, len - start);
    buf[len - start] = '\0';
    return len - start;
}

/* Parses an attribute's number as procfs does (Go's ParseInt with base 0):
 * decimal, 0x hexadecimal (flags, dev_id) or 0 octal, optionally signed
 * (speed is -1 when unknown). 0 or -EINVAL. */
static int netclass_parse_number(const char *text, int64_t *out)
{
    const char *p = text[0] == '-' || text[0] == '+' ? text + 1 : text;
    if (*p < '0' || *p > '9')
        return -EINVAL; /* empty, or blanks strtoll would skip */
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 0);
    if (errno == ERANGE || *end != '\0')
        return -EINVAL;
    *out = v;
    return 0;
}

/* Errors procfs passes over without a word: the attribute is not there for
 * this device (EINVAL: speed, duplex, carrier of a link that is down;
 * EOPNOTSUPP: phys_port_name of most drivers). */
static bool netclass_absent(int err)
{
    return err == -ENOENT || err == -EINVAL || err == -EOPNOTSUPP || err == -EACCES ||
           err == -EPERM;
}

/* Reads one attribute under `dirfd` into buf (NUL-terminated, trimmed).
 * Returns the length or -errno. Attributes are opened and closed on each read:
 * interfaces come and go, and holding 22 descriptors per interface would not
 * pay on hosts with hundreds of veth devices. */
static long netclass_read_attr(int dirfd, const char *name, char *buf, size_t cap)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    ssize_t n;
    do {
        n = read(fd, buf, cap - 1);
    } while (n < 0 && errno == EINTR);
    int err = n < 0 ? -errno : 0;
    close(fd);
    if (err)
        return err;
    return (long)netclass_trim(buf, (size_t)n);
}

/* Reads every attribute node_exporter uses from one interface directory. */
static void netclass_read_iface(int dirfd, struct netclass_iface *iface)
{
    char buf[NETCLASS_ATTR_MAX];
    memset(iface->has, 0, sizeof(iface->has));
    iface->malformed = 0;
    for (size_t i = 0; i < NETCLASS_NNUMBERS; i++) {
        long len = netclass_read_attr(dirfd, netclass_number_files[i], buf, sizeof(buf));
        if (len < 0) {
            iface->malformed += !netclass_absent((int)len);
            continue;
        }
        if (netclass_parse_number(buf, &iface->number[i]) == 0)
            iface->has[i] = true;
        else
            iface->malformed++;
    }
    for (size_t i = 0; i < NETCLASS_NTEXTS; i++) {
        iface->text[i][0] = '\0';
        long len = netclass_read_attr(dirfd, netclass_text_files[i], buf, sizeof(buf));
        if (len < 0) {
            iface->malformed += !netclass_absent((int)len);
            continue;
        }
        if ((size_t)len >= sizeof(iface->text[i])) {
            iface->malformed++; /* longer than any real attribute: not cut silently */
            continue;
        }
        memcpy(iface->text[i], buf, (size_t)len + 1);
    }
}

/* ------------------------------------------------------------------ */
/* The plugin                                                           */
/* ------------------------------------------------------------------ */

static int netclass_init(void **state, const void *config, const struct sonde_context *ctx)
{
    const struct netclass_config *cfg = config;
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/class/net", ctx->sysfs) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    struct netclass_state *st = sonde_xcalloc(1, sizeof(*st));
    if (cfg->ignored_devices && cfg->ignored_devices[0]) {
        if (regcomp(&st->ignored, cfg->ignored_devices, REG_EXTENDED | REG_NOSUB) != 0) {
            free(st);
            return -EINVAL; /* the core checked it already */
        }
        st->has_ignored = true;
    }
    st->ignore_invalid_speed = cfg->ignore_invalid_speed;
    st->class_net = sonde_xstrdup(path);
    *state = st;
    return 0;
}

static void netclass_emit(const struct netclass_state *st, const char *device,
                          const struct netclass_iface *iface, struct sonde_batch *batch)
{
    const char *operstate = iface->text[NETCLASS_OPERSTATE];
    sonde_emit(batch, &netclass_up_family, strcmp(operstate, "up") == 0 ? 1.0 : 0.0, "device",
               device, NULL);
    sonde_emit(batch, &netclass_info_family, 1.0, "device", device, "address",
               iface->text[NETCLASS_ADDRESS], "broadcast", iface->text[NETCLASS_BROADCAST],
               "duplex", iface->text[NETCLASS_DUPLEX], "ifalias", iface->text[NETCLASS_IFALIAS],
               "operstate", operstate, NULL);
    for (size_t i = 0; i < NETCLASS_NNUMBERS; i++) {
        if (!iface->has[i])
            continue;
        double value = (double)iface->number[i];
        if (i == NETCLASS_SPEED) {
            /* Mbit/s to bytes/s; -1 (unknown) gives -125000, as node_exporter. */
            if (iface->number[i] < 0 && st->ignore_invalid_speed)
                continue;
            value = (double)iface->number[i] * 125000.0;
        }
        sonde_emit(batch, &netclass_families[i], value, "device", device, NULL);
    }
}

/* Entries of class/net are symlinks to the devices; regular files there
 * (bonding_masters) are not interfaces. */
static bool netclass_is_candidate(int dirfd, const struct dirent *de)
{
    if (de->d_name[0] == '.')
        return false;
    if (de->d_type == DT_REG)
        return false;
    if (de->d_type == DT_UNKNOWN) {
        struct stat sb;
        if (fstatat(dirfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 || S_ISREG(sb.st_mode))
            return false;
    }
    return true;
}

static int netclass_read(void *state, struct sonde_batch *batch)
{
    struct netclass_state *st = state;
    if (!batch->want_series)
        return 0; /* Prometheus only */
    DIR *dir = opendir(st->class_net);
    if (!dir)
        return errno == ENOENT ? 0 : -errno; /* no networking in sysfs: nothing to say */
    int dirfd_net = dirfd(dir);
    struct netclass_iface *iface = sonde_arena_alloc(batch->arena, sizeof(*iface));
    for (struct dirent *de; (de = readdir(dir));) {
        if (!netclass_is_candidate(dirfd_net, de))
            continue;
        if (st->has_ignored && regexec(&st->ignored, de->d_name, 0, NULL, 0) == 0)
            continue;
        int fd = openat(dirfd_net, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            continue; /* the interface went away since readdir, or a dangling link */
        netclass_read_iface(fd, iface);
        close(fd);
        batch->skipped += iface->malformed;
        netclass_emit(st, de->d_name, iface, batch);
    }
    closedir(dir);
    return 0;
}

static void netclass_destroy(void *state)
{
    struct netclass_state *st = state;
    if (!st)
        return;
    if (st->has_ignored)
        regfree(&st->ignored);
    free(st->class_net);
    free(st);
}

const struct sonde_plugin sonde_plugin_netclass = {
    .name = "netclass",                                         /* node_exporter's collector name */
    .kind = SONDE_INPUT,                                        /* an input */
    .summary = "Network interface attributes (/sys/class/net)", /* for --help and docs */
    .config_size = sizeof(struct netclass_config),              /* ignored_devices, invalid speed */
    .options = netclass_options,                                /* see the table above */
    .init = netclass_init,                                      /* opens nothing yet */
    .read = netclass_read,                                      /* node_network_* attributes */
    .write = NULL,                                              /* not an output */
    .destroy = netclass_destroy,                                /* frees the state */
};
