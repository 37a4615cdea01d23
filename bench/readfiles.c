/*
 * readfiles.c - the benchmark floor: reads the kernel files sonde reads in one
 * collection cycle, N times, with no parsing, and prints the CPU time per
 * iteration (getrusage). No agent can collect these inputs for less.
 * Usage: readfiles [ITERATIONS [PACE_MS [PROCFS]]]
 *        readfiles --list FILE [ITERATIONS [PACE_MS]]
 * With --list, the files come from FILE (bench.py writes it from the system
 * calls a running sonde made): one "KIND PATH" per line, KIND p (kept open,
 * pread from 0 until EOF), o (opened, read until EOF and closed each round),
 * d (a directory listed each round), s (statvfs) or n (PATH is RTM_GETSTATS:
 * one rtnetlink dump of the interfaces' counters, on a socket kept open). A
 * file of kind o is opened relative to its directory, kept open, as the
 * cheapest way there.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define READFILES_MAX_FS 64
#define READFILES_BUF    (1 << 16)

/* Files sonde re-reads every cycle; kept open and re-read from offset 0 with
 * pread, as sonde's struct sonde_file does (an open per cycle would cost more
 * and flatter sonde). */
static const char *const readfiles_names[] = {
    "stat",      "meminfo",     "vmstat",
    "loadavg",   "uptime",      "net/dev",
    "diskstats", "1/mountinfo", "sys/kernel/random/entropy_avail",
};
#define READFILES_NFILES (sizeof(readfiles_names) / sizeof(readfiles_names[0]))

struct readfiles_state {
    int fds[READFILES_NFILES];
    char *mounts[READFILES_MAX_FS]; /* owned; statvfs targets */
    size_t nmounts;
    char buf[READFILES_BUF];
};

/* Filesystem types and mount points node_exporter's filesystem collector
 * leaves out by default: what is left is a "real" filesystem. */
static const char *const readfiles_skip_types[] = {
    "autofs",   "binfmt_misc", "bpf",     "cgroup",    "cgroup2",    "configfs",   "debugfs",
    "devpts",   "devtmpfs",    "fusectl", "hugetlbfs", "iso9660",    "mqueue",     "nsfs",
    "overlay",  "proc",        "procfs",  "pstore",    "rpc_pipefs", "securityfs", "selinuxfs",
    "squashfs", "sysfs",       "tracefs", NULL,
};
static const char *const readfiles_skip_dirs[] = {
    "/dev",
    "/proc",
    "/sys",
    "/run/credentials/",
    "/var/lib/docker/",
    "/var/lib/containers/storage/",
    NULL,
};

static double readfiles_cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* Reads a whole file from offset 0; returns bytes read or -errno. */
static long readfiles_pread_all(int fd, char *buf, size_t size)
{
    size_t len = 0;
    for (;;) {
        ssize_t n = pread(fd, buf + len, size - len, (off_t)len);
        if (n < 0)
            return -errno;
        if (n == 0 || (size_t)n == size - len)
            return (long)(len + (size_t)n);
        len += (size_t)n;
    }
}

/* Undoes mountinfo's octal escapes (\040 is a space) in place. */
static void readfiles_unescape(char *s)
{
    char *out = s;
    for (char *in = s; *in; in++) {
        if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] >= '0' && in[2] <= '7' &&
            in[3] >= '0' && in[3] <= '7') {
            *out++ = (char)((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
            in += 3;
        } else {
            *out++ = *in;
        }
    }
    *out = '\0';
}

static int readfiles_skipped(const char *dir, const char *type)
{
    for (size_t i = 0; readfiles_skip_types[i]; i++)
        if (strcmp(type, readfiles_skip_types[i]) == 0)
            return 1;
    for (size_t i = 0; readfiles_skip_dirs[i]; i++) {
        size_t n = strlen(readfiles_skip_dirs[i]);
        if (strncmp(dir, readfiles_skip_dirs[i], n) == 0 &&
            (readfiles_skip_dirs[i][n - 1] == '/' || dir[n] == '\0' || dir[n] == '/'))
            return 1;
    }
    return 0;
}

/* Picks the statvfs targets from mountinfo (field 5 is the mount point, the
 * field after " - " the type); duplicates are kept, as a collector sees them. */
static void readfiles_mounts(struct readfiles_state *st, char *text)
{
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *sep = strstr(line, " - ");
        if (!sep)
            continue;
        *sep = '\0';
        char *type = sep + 3;
        type[strcspn(type, " ")] = '\0';
        char *dir = line;
        for (int f = 0; f < 4 && dir; f++) {
            dir = strchr(dir, ' ');
            if (dir)
                dir++;
        }
        if (!dir)
            continue;
        dir[strcspn(dir, " ")] = '\0';
        readfiles_unescape(dir);
        if (readfiles_skipped(dir, type) || st->nmounts == READFILES_MAX_FS)
            continue;
        size_t n = strlen(dir) + 1;
        st->mounts[st->nmounts] = malloc(n); /* freed at exit in main */
        if (!st->mounts[st->nmounts])
            continue;
        memcpy(st->mounts[st->nmounts++], dir, n);
    }
}

/* One iteration: every file once, statvfs of every real filesystem. Returns
 * the bytes read, so the work cannot be optimised away. */
static long readfiles_once(struct readfiles_state *st)
{
    long total = 0;
    for (size_t i = 0; i < READFILES_NFILES; i++) {
        long n = st->fds[i] >= 0 ? readfiles_pread_all(st->fds[i], st->buf, sizeof(st->buf)) : 0;
        total += n > 0 ? n : 0;
    }
    for (size_t i = 0; i < st->nmounts; i++) {
        struct statvfs sv;
        if (statvfs(st->mounts[i], &sv) == 0)
            total += (long)(sv.f_bavail & 1);
    }
    return total;
}

static int readfiles_parse_count(const char *s, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v == 0)
        return -EINVAL;
    *out = (unsigned long)v;
    return 0;
}

/* ---- --list: the files a running sonde read, from bench.py ---- */

#define READFILES_LIST_MAX 8192

struct readfiles_entry {
    char kind;        /* p, o, d, s or n */
    char *path;       /* owned */
    int fd;           /* kind p: the file, kept open; o: its directory; n: the socket */
    const char *name; /* kind o: the file's name in that directory (in path) */
};

/* Reads FILE into entries; returns the count or -errno. */
static long readfiles_load_list(const char *file, struct readfiles_entry *entries)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return -errno;
    char line[4096];
    long n = 0;
    while (n < READFILES_LIST_MAX && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strlen(line) < 3 || line[1] != ' ' || !strchr("podsn", line[0]))
            continue;
        size_t len = strlen(line + 2) + 1;
        char *path = malloc(len); /* freed at exit in readfiles_list_main */
        if (!path)
            break;
        memcpy(path, line + 2, len);
        entries[n].kind = line[0];
        entries[n].path = path;
        entries[n].fd = -1;
        if (line[0] == 'p')
            entries[n].fd = open(path, O_RDONLY | O_CLOEXEC);
        if (line[0] == 'n')
            entries[n].fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        char *slash = strrchr(path, '/');
        if (line[0] == 'o' && slash && slash != path) {
            /* The directory of the previous entry is often this one's. */
            if (n > 0 && entries[n - 1].kind == 'o' && entries[n - 1].name &&
                (size_t)(entries[n - 1].name - entries[n - 1].path) == (size_t)(slash - path) + 1 &&
                strncmp(entries[n - 1].path, path, (size_t)(slash - path) + 1) == 0) {
                entries[n].fd = dup(entries[n - 1].fd);
            } else {
                *slash = '\0';
                entries[n].fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                *slash = '/';
            }
            entries[n].name = slash + 1;
        }
        n++;
    }
    fclose(f);
    return n;
}

/* One RTM_GETSTATS dump of every interface's 64-bit counters, read to its
 * end; returns the bytes received. */
static long readfiles_netlink_stats(int fd, char *buf, size_t size)
{
    struct {
        struct nlmsghdr h;
        struct if_stats_msg stats;
    } req = {
        .h = {.nlmsg_len = sizeof(req),
              .nlmsg_type = RTM_GETSTATS,
              .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
        .stats = {.family = AF_UNSPEC, .filter_mask = IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64)}};
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (fd < 0 || sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
        return 0;
    long n = 0;
    for (;;) {
        ssize_t got = recv(fd, buf, size, 0);
        if (got <= 0)
            return n;
        n += got;
        int left = (int)got;
        for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf; NLMSG_OK(h, left);
             h = NLMSG_NEXT(h, left))
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
                return n;
    }
}

/* One entry's work; returns bytes seen so the work is not optimised away. */
static long readfiles_entry_once(struct readfiles_entry *e, char *buf, size_t size)
{
    long n = 0;
    switch (e->kind) {
    case 'p':
        return e->fd >= 0 ? readfiles_pread_all(e->fd, buf, size) : 0;
    case 'o': {
        int fd = e->name ? openat(e->fd, e->name, O_RDONLY | O_CLOEXEC)
                         : open(e->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return 0;
        ssize_t r;
        while ((r = read(fd, buf, size)) > 0)
            n += r;
        close(fd);
        return n;
    }
    case 'n':
        return readfiles_netlink_stats(e->fd, buf, size);
    case 'd': {
        DIR *dir = opendir(e->path);
        if (!dir)
            return 0;
        struct dirent *de;
        while ((de = readdir(dir)))
            n += de->d_name[0];
        closedir(dir);
        return n;
    }
    default: {
        struct statvfs sv;
        return statvfs(e->path, &sv) == 0 ? (long)(sv.f_bavail & 1) : 0;
    }
    }
}

static int readfiles_list_main(int argc, char **argv)
{
    unsigned long n = 2000, pace_ms = 0;
    if (argc < 3 || (argc > 3 && readfiles_parse_count(argv[3], &n) < 0) ||
        (argc > 4 && strcmp(argv[4], "0") != 0 && readfiles_parse_count(argv[4], &pace_ms) < 0)) {
        fprintf(stderr, "usage: readfiles --list FILE [ITERATIONS [PACE_MS]]\n");
        return 2;
    }
    static struct readfiles_entry entries[READFILES_LIST_MAX];
    static char buf[READFILES_BUF];
    long count = readfiles_load_list(argv[2], entries);
    if (count <= 0) {
        fprintf(stderr, "readfiles: %s: %s\n", argv[2],
                count < 0 ? strerror((int)-count) : "empty");
        return 1;
    }
    long sink = 0;
    for (int w = 0; w < 20; w++) /* warm the dentry and page caches */
        for (long i = 0; i < count; i++)
            sink += readfiles_entry_once(&entries[i], buf, sizeof(buf));
    /* Per kind, then the whole set. */
    unsigned long per = n / 4 ? n / 4 : 1;
    for (const char *k = "podsn"; *k; k++) {
        long of_kind = 0;
        double t0 = readfiles_cpu_us();
        for (unsigned long it = 0; it < per; it++)
            for (long i = 0; i < count; i++)
                if (entries[i].kind == *k) {
                    sink += readfiles_entry_once(&entries[i], buf, sizeof(buf));
                    of_kind += it == 0;
                }
        printf("kind %c %ld %.2f\n", *k, of_kind, (readfiles_cpu_us() - t0) / (double)per);
    }
    double t0 = readfiles_cpu_us();
    for (unsigned long it = 0; it < n; it++)
        for (long i = 0; i < count; i++)
            sink += readfiles_entry_once(&entries[i], buf, sizeof(buf));
    printf("iterations %lu\nentries %ld\ncpu_us_per_iteration %.2f\n", n, count,
           (readfiles_cpu_us() - t0) / (double)n);
    if (pace_ms) { /* one round per PACE_MS, as an agent runs (see main) */
        struct timespec gap = {.tv_sec = (time_t)(pace_ms / 1000),
                               .tv_nsec = (long)(pace_ms % 1000) * 1000000L};
        unsigned long paced = n / 20 ? n / 20 : 1;
        t0 = readfiles_cpu_us();
        for (unsigned long it = 0; it < paced; it++) {
            nanosleep(&gap, NULL);
            for (long i = 0; i < count; i++)
                sink += readfiles_entry_once(&entries[i], buf, sizeof(buf));
        }
        printf("paced_iterations %lu\npace_ms %lu\npaced_cpu_us_per_iteration %.2f\n", paced,
               pace_ms, (readfiles_cpu_us() - t0) / (double)paced);
    }
    printf("sink %ld\n", sink);
    for (long i = 0; i < count; i++) {
        if (entries[i].fd >= 0)
            close(entries[i].fd);
        free(entries[i].path);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--list") == 0)
        return readfiles_list_main(argc, argv);
    unsigned long n = 2000, pace_ms = 0;
    const char *procfs = argc > 3 ? argv[3] : "/proc";
    if ((argc > 1 && readfiles_parse_count(argv[1], &n) < 0) ||
        (argc > 2 && strcmp(argv[2], "0") != 0 && readfiles_parse_count(argv[2], &pace_ms) < 0)) {
        fprintf(stderr, "usage: readfiles [ITERATIONS [PACE_MS [PROCFS]]]\n");
        return 2;
    }
    static struct readfiles_state st;
    for (size_t i = 0; i < READFILES_NFILES; i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", procfs, readfiles_names[i]);
        st.fds[i] = open(path, O_RDONLY | O_CLOEXEC);
        if (st.fds[i] < 0)
            fprintf(stderr, "readfiles: %s: %s (skipped)\n", path, strerror(errno));
    }
    size_t mi = 7; /* 1/mountinfo */
    long len = st.fds[mi] >= 0 ? readfiles_pread_all(st.fds[mi], st.buf, sizeof(st.buf) - 1) : 0;
    if (len > 0) {
        st.buf[len] = '\0';
        readfiles_mounts(&st, st.buf);
    }

    long sink = 0;
    for (unsigned long i = 0; i < 20; i++) /* warm the dentry and page caches */
        sink += readfiles_once(&st);

    /* Per file, then the whole set: the breakdown shows what each read costs. */
    unsigned long per = n / 4 ? n / 4 : 1;
    for (size_t f = 0; f < READFILES_NFILES; f++) {
        if (st.fds[f] < 0)
            continue;
        double t0 = readfiles_cpu_us();
        for (unsigned long i = 0; i < per; i++)
            sink += readfiles_pread_all(st.fds[f], st.buf, sizeof(st.buf));
        printf("file %s %.2f\n", readfiles_names[f], (readfiles_cpu_us() - t0) / (double)per);
    }
    double t0 = readfiles_cpu_us();
    for (unsigned long i = 0; i < per; i++)
        for (size_t m = 0; m < st.nmounts; m++) {
            struct statvfs sv;
            sink += statvfs(st.mounts[m], &sv);
        }
    printf("file statvfs(x%zu) %.2f\n", st.nmounts, (readfiles_cpu_us() - t0) / (double)per);

    t0 = readfiles_cpu_us();
    for (unsigned long i = 0; i < n; i++)
        sink += readfiles_once(&st);
    double us = (readfiles_cpu_us() - t0) / (double)n;
    printf("iterations %lu\nmounts %zu\ncpu_us_per_iteration %.2f\n", n, st.nmounts, us);

    /* Paced: one iteration per PACE_MS, as an agent runs. Caches and branch
     * predictors go cold between rounds and each wake-up costs a context
     * switch, so this is the fair floor for a collector on an interval; the
     * CPU of the sleeps' wake-ups is counted, as it is for sonde. */
    if (pace_ms) {
        struct timespec gap = {.tv_sec = (time_t)(pace_ms / 1000),
                               .tv_nsec = (long)(pace_ms % 1000) * 1000000L};
        unsigned long paced = n / 20 ? n / 20 : 1;
        t0 = readfiles_cpu_us();
        for (unsigned long i = 0; i < paced; i++) {
            nanosleep(&gap, NULL);
            sink += readfiles_once(&st);
        }
        printf("paced_iterations %lu\npace_ms %lu\npaced_cpu_us_per_iteration %.2f\n", paced,
               pace_ms, (readfiles_cpu_us() - t0) / (double)paced);
    }
    printf("sink %ld\n", sink);
    for (size_t i = 0; i < st.nmounts; i++)
        free(st.mounts[i]);
    for (size_t i = 0; i < READFILES_NFILES; i++)
        if (st.fds[i] >= 0)
            close(st.fds[i]);
    return 0;
}
