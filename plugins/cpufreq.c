/*
 * cpufreq.c - the `cpufreq` input: node_exporter's cpufreq collector, each CPU's frequency
 * from /sys/devices/system/cpu/cpuN/cpufreq/ (node_cpu_frequency_{,min_,max_}hertz and
 * node_cpu_scaling_frequency_{,min_,max_}hertz{cpu}). Prometheus only: Telegraf's classic
 * inputs have no CPU frequency.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sonde.h"

/* No options: node_exporter has none for this collector. The member only
 * keeps the struct non-empty (ISO C). */
struct cpufreq_config {
    char unused;
};

static const struct sonde_option cpufreq_options[] = {
    {NULL},
};

/* The frequencies node_exporter 1.5 exports, in kHz in sysfs. */
enum cpufreq_value {
    CPUFREQ_CPUINFO_CUR,
    CPUFREQ_CPUINFO_MAX,
    CPUFREQ_CPUINFO_MIN,
    CPUFREQ_SCALING_CUR,
    CPUFREQ_SCALING_MAX,
    CPUFREQ_SCALING_MIN,
    CPUFREQ_NVALUES
};

static const char *const cpufreq_files[CPUFREQ_NVALUES] = {"cpuinfo_cur_freq", "cpuinfo_max_freq",
                                                           "cpuinfo_min_freq", "scaling_cur_freq",
                                                           "scaling_max_freq", "scaling_min_freq"};

static const struct sonde_family cpufreq_families[CPUFREQ_NVALUES] = {
    {"node_cpu_frequency_hertz", SONDE_GAUGE, "Current cpu thread frequency in hertz."},
    {"node_cpu_frequency_max_hertz", SONDE_GAUGE, "Maximum cpu thread frequency in hertz."},
    {"node_cpu_frequency_min_hertz", SONDE_GAUGE, "Minimum cpu thread frequency in hertz."},
    {"node_cpu_scaling_frequency_hertz", SONDE_GAUGE,
     "Current scaled CPU thread frequency in hertz."},
    {"node_cpu_scaling_frequency_max_hertz", SONDE_GAUGE,
     "Maximum scaled CPU thread frequency in hertz."},
    {"node_cpu_scaling_frequency_min_hertz", SONDE_GAUGE,
     "Minimum scaled CPU thread frequency in hertz."},
};

/* What one CPU's cpufreq directory says. */
struct cpufreq_cpu {
    bool has[CPUFREQ_NVALUES];
    uint64_t khz[CPUFREQ_NVALUES];
    uint64_t malformed;
};

struct cpufreq_state {
    char *cpu_dir; /* <sysfs>/devices/system/cpu; owned */
};

/* ------------------------------------------------------------------ */
/* Parsing                                                              */
/* ------------------------------------------------------------------ */

/* Parses a frequency file's text as Go's ParseUint(TrimSpace(s), 10, 64):
 * an unsigned decimal with nothing else but blanks around it. 0 or -EINVAL. */
static int cpufreq_parse_khz(const char *text, uint64_t *out)
{
    while (*text == ' ' || *text == '\t' || *text == '\n')
        text++;
    if (*text < '0' || *text > '9')
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno == ERANGE)
        return -EINVAL;
    while (*end == ' ' || *end == '\t' || *end == '\n')
        end++;
    if (*end)
        return -EINVAL;
    *out = v;
    return 0;
}

/* Errors that mean the value is not there for us: no such file on this
 * driver, or cpuinfo_cur_freq, readable by root only. */
static bool cpufreq_absent(int err)
{
    return err == -ENOENT || err == -EACCES || err == -EPERM || err == -ENODATA || err == -EAGAIN ||
           err == -EBUSY;
}

/* Reads the frequency files of one cpufreq directory. Files are opened per
 * read: sysfs gives the live value on each open, and keeping six descriptors
 * per CPU would exhaust the descriptor limit on large machines. */
static void cpufreq_read_cpu(int dirfd, struct cpufreq_cpu *cpu)
{
    cpu->malformed = 0;
    for (size_t i = 0; i < CPUFREQ_NVALUES; i++) {
        cpu->has[i] = false;
        int fd = openat(dirfd, cpufreq_files[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            cpu->malformed += !cpufreq_absent(-errno);
            continue;
        }
        char buf[64];
        ssize_t n;
        do {
            n = read(fd, buf, sizeof(buf) - 1);
        } while (n < 0 && errno == EINTR);
        int err = n < 0 ? -errno : 0;
        close(fd);
        if (err) {
            cpu->malformed += !cpufreq_absent(err);
            continue;
        }
        buf[n] = '\0';
        if (cpufreq_parse_khz(buf, &cpu->khz[i]) == 0)
            cpu->has[i] = true;
        else
            cpu->malformed++;
    }
}

/* The N of a "cpuN" entry, or NULL for the other entries of the directory
 * (cpufreq, cpuidle, online ...). */
static const char *cpufreq_cpu_id(const char *name)
{
    if (strncmp(name, "cpu", 3) != 0 || name[3] < '0' || name[3] > '9')
        return NULL;
    return name + 3;
}

/* ------------------------------------------------------------------ */
/* The plugin                                                           */
/* ------------------------------------------------------------------ */

static int cpufreq_init(void **state, const void *config, const struct sonde_context *ctx)
{
    (void)config;
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/devices/system/cpu", ctx->sysfs) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    struct cpufreq_state *st = sonde_xcalloc(1, sizeof(*st));
    st->cpu_dir = sonde_xstrdup(path);
    *state = st;
    return 0;
}

static int cpufreq_read(void *state, struct sonde_batch *batch)
{
    struct cpufreq_state *st = state;
    if (!batch->want_series)
        return 0; /* Prometheus only */
    DIR *dir = opendir(st->cpu_dir);
    if (!dir)
        return errno == ENOENT ? 0 : -errno;
    for (struct dirent *de; (de = readdir(dir));) {
        const char *id = cpufreq_cpu_id(de->d_name);
        if (!id)
            continue;
        char sub[300];
        snprintf(sub, sizeof(sub), "%s/cpufreq", de->d_name);
        int fd = openat(dirfd(dir), sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            continue; /* no cpufreq driver (VMs), or an offline CPU */
        struct cpufreq_cpu cpu;
        cpufreq_read_cpu(fd, &cpu);
        close(fd);
        batch->skipped += cpu.malformed;
        for (size_t i = 0; i < CPUFREQ_NVALUES; i++)
            if (cpu.has[i])
                sonde_emit(batch, &cpufreq_families[i], (double)cpu.khz[i] * 1000.0, "cpu", id,
                           NULL);
    }
    closedir(dir);
    return 0;
}

static void cpufreq_destroy(void *state)
{
    struct cpufreq_state *st = state;
    if (!st)
        return;
    free(st->cpu_dir);
    free(st);
}

const struct sonde_plugin sonde_plugin_cpufreq = {
    .name = "cpufreq",                            /* node_exporter's collector name */
    .kind = SONDE_INPUT,                          /* an input */
    .summary = "CPU frequencies (cpufreq)",       /* for --help and docs */
    .config_size = sizeof(struct cpufreq_config), /* no options */
    .options = cpufreq_options,                   /* empty */
    .init = cpufreq_init,                         /* opens nothing yet */
    .read = cpufreq_read,                         /* node_cpu_*frequency*_hertz */
    .write = NULL,                                /* not an output */
    .destroy = cpufreq_destroy,                   /* frees the state */
};
