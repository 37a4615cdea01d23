/*
 * check_disk.c - tests for plugins/disk.c: the mountinfo parser and its odd
 * cases, and full reads of fixture mount tables with a fake statvfs (the
 * fixture mounts do not exist on the test machine); the plan kept between
 * reads, with a fixture that changes and with a real mount and unmount in a
 * private mount namespace.
 */
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "../../plugins/disk.c"

#include "config.h"
#include "testutil.h"

#define DISK_FIX FIXTURES "/disk"

/* ------------------------------------------------------------------ */
/* A fake statvfs answering from a table, recording the paths asked.    */
/* ------------------------------------------------------------------ */

struct fake_fs {
    const char *path;
    int error; /* errno to fail with; 0: answer */
    unsigned long bsize;
    fsblkcnt_t blocks, bfree, bavail;
    fsfilcnt_t files, ffree;
};

static const struct fake_fs fake_table[] = {
    {"/", 0, 4096, 1000000, 400000, 300000, 65536, 60000},
    {"/mnt/my disk", 0, 4096, 2000, 1000, 900, 100, 50},
    {"/mnt/tab\there\nnl\\bs", 0, 1024, 500, 100, 100, 10, 5},
    {"/srv/bind", 0, 4096, 3000, 1500, 1200, 300, 100},
    {"/srv/bind2", 0, 4096, 3000, 1500, 1200, 300, 100},
    {"/run/user/1000", 0, 4096, 25600, 25600, 25600, 1000, 990},
    {"/data", 0, 4096, 100, 50, 40, 10, 20}, /* more free inodes than inodes */
    {"/boot", 0, 1024, 1000, 500, 450, 256, 200},
    {"/mnt/ro-super", 0, 4096, 10, 10, 10, 5, 5},
    {"/mnt/broken", EIO, 0, 0, 0, 0, 0, 0},
    {"/proc", 0, 4096, 0, 0, 0, 0, 0},
    {"/sys/fs/cgroup", 0, 4096, 0, 0, 0, 0, 0},
    {"/mnt/zero", 0, 4096, 0, 0, 0, 0, 0},
    {"/host", 0, 4096, 8000, 4000, 2000, 800, 400},
    {"/host/boot", 0, 4096, 500, 250, 200, 50, 40},
    {"/host/hostile", 0, 512, 64, 32, 16, 8, 4},
    {"/host/proc", 0, 4096, 0, 0, 0, 0, 0},
};

static char fake_calls[64][128];
static size_t fake_ncalls;

static int fake_statvfs(const char *path, struct statvfs *out)
{
    ck_assert_uint_lt(fake_ncalls, 64);
    snprintf(fake_calls[fake_ncalls++], sizeof(fake_calls[0]), "%s", path);
    for (size_t i = 0; i < sizeof(fake_table) / sizeof(fake_table[0]); i++) {
        const struct fake_fs *f = &fake_table[i];
        if (strcmp(f->path, path) != 0)
            continue;
        if (f->error) {
            errno = f->error;
            return -1;
        }
        memset(out, 0, sizeof(*out));
        out->f_bsize = f->bsize;
        out->f_frsize = f->bsize;
        out->f_blocks = f->blocks;
        out->f_bfree = f->bfree;
        out->f_bavail = f->bavail;
        out->f_files = f->files;
        out->f_ffree = f->ffree;
        return 0;
    }
    ck_abort_msg("unexpected statvfs(\"%s\")", path);
    return -1;
}

/* The captured mount table: pseudo filesystems are empty, the rest not. */
static int fake_statvfs_captured(const char *path, struct statvfs *out)
{
    memset(out, 0, sizeof(*out));
    out->f_bsize = 4096;
    if (strncmp(path, "/proc", 5) == 0 || strncmp(path, "/sys", 4) == 0 ||
        strncmp(path, "/dev/pts", 8) == 0)
        return 0;
    out->f_blocks = 1000;
    out->f_bfree = 600;
    out->f_bavail = 500;
    out->f_files = 100;
    out->f_ffree = 90;
    return 0;
}

static bool fake_called(const char *path)
{
    for (size_t i = 0; i < fake_ncalls; i++)
        if (strcmp(fake_calls[i], path) == 0)
            return true;
    return false;
}

/* ------------------------------------------------------------------ */

static char *default_ignore_fs[] = {"tmpfs",   "devtmpfs", "devfs",   "iso9660",
                                    "overlay", "aufs",     "squashfs"};

static struct disk_config disk_test_config(void)
{
    struct disk_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.mount_points_exclude = DISK_DEFAULT_MOUNT_POINTS_EXCLUDE;
    cfg.fs_types_exclude = DISK_DEFAULT_FS_TYPES_EXCLUDE;
    cfg.ignore_fs.items = default_ignore_fs;
    cfg.ignore_fs.n = 7;
    return cfg;
}

static struct disk_state *disk_test_state(const struct disk_config *cfg, const char *procfs,
                                          const char *rootfs, const char *sysfs, disk_statvfs_fn fn)
{
    struct sonde_context ctx = {
        .procfs = procfs, .sysfs = sysfs, .rootfs = rootfs, .hostname = "h", .instance = "disk"};
    void *state = NULL;
    ck_assert_int_eq(disk_init(&state, cfg, &ctx), 0);
    struct disk_state *st = state;
    st->statvfs_fn = fn;
    fake_ncalls = 0;
    return st;
}

static double prom_value(const struct sonde_batch *b, const char *name, const char *mountpoint)
{
    const struct sonde_series *s = series_find(b, name, "mountpoint", mountpoint, NULL);
    ck_assert_msg(s != NULL, "%s{mountpoint=\"%s\"} missing", name, mountpoint);
    return s->value;
}

static uint64_t field_u(const struct sonde_point *p, const char *key)
{
    const struct sonde_field *f = field_get(p, key);
    ck_assert_msg(f != NULL, "field %s missing", key);
    ck_assert_int_eq(f->type, SONDE_FIELD_UINT);
    return f->v.u;
}

static const char *tag(const struct sonde_point *p, const char *key)
{
    const char *v = label_get(p->tags, p->ntags, key);
    ck_assert_msg(v != NULL, "tag %s missing", key);
    return v;
}

static size_t points_with_path(const struct sonde_batch *b, const char *path)
{
    size_t n = 0;
    for (size_t i = 0; i < b->npoints; i++) {
        const char *v = label_get(b->points[i]->tags, b->points[i]->ntags, "path");
        n += v && strcmp(v, path) == 0;
    }
    return n;
}

/* ------------------------------------------------------------------ */

START_TEST(test_parse_captured)
{
    struct sonde_batch *b = batch_new("disk");
    char *text = fixture_read("disk/proc/1/mountinfo");
    struct disk_mount m;
    const char *line = strstr(text, "27 1 254:0");
    ck_assert_ptr_nonnull(line);
    ck_assert_int_eq(
        disk_parse_mountinfo_line(line, (size_t)(strchr(line, '\n') - line), b->arena, &m), 0);
    ck_assert_uint_eq(m.major, 254);
    ck_assert_uint_eq(m.minor, 0);
    ck_assert_str_eq(m.mount_point, "/");
    ck_assert_str_eq(m.fstype, "ext4");
    ck_assert_str_eq(m.source, "/dev/vda");
    ck_assert(m.opt_rw && !m.opt_ro && !m.super_ro);

    line = strstr(text, "28 27 0:25");
    ck_assert_int_eq(
        disk_parse_mountinfo_line(line, (size_t)(strchr(line, '\n') - line), b->arena, &m), 0);
    ck_assert_str_eq(m.mount_point, "/mnt/sandboxing/model_tools_env/v1/python");
    ck_assert_str_eq(m.source, "model_tools_unavailable");
    ck_assert(m.opt_ro && !m.opt_rw && m.super_ro);

    /* Every line of the captured table parses. */
    size_t n = 0;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save), n++)
        ck_assert_int_eq(disk_parse_mountinfo_line(l, strlen(l), b->arena, &m), 0);
    ck_assert_uint_eq(n, 20);
    free(text);
    batch_free(b);
}
END_TEST

START_TEST(test_parse_escapes_and_optional_fields)
{
    struct sonde_batch *b = batch_new("disk");
    struct disk_mount m;

    /* Three optional fields before the separator. */
    const char *l1 = "60 27 8:1 / /mnt/my\\040disk rw,noatime shared:30 master:2 "
                     "propagate_from:1 - ext4 /dev/sda1 rw";
    ck_assert_int_eq(disk_parse_mountinfo_line(l1, strlen(l1), b->arena, &m), 0);
    ck_assert_str_eq(m.mount_point, "/mnt/my disk");
    ck_assert_str_eq(m.mount_point_ne, "/mnt/my disk");
    ck_assert_str_eq(m.fstype, "ext4");
    ck_assert_str_eq(m.source, "/dev/sda1");

    /* No optional field; tab, newline and backslash escapes. node_exporter
     * decodes only \040 and \011. */
    const char *l2 = "61 27 8:2 / /mnt/tab\\011here\\012nl\\134bs ro,relatime - xfs "
                     "/dev/sda2 rw,attr2";
    ck_assert_int_eq(disk_parse_mountinfo_line(l2, strlen(l2), b->arena, &m), 0);
    ck_assert_str_eq(m.mount_point, "/mnt/tab\there\nnl\\bs");
    ck_assert_str_eq(m.mount_point_ne, "/mnt/tab\there\\012nl\\134bs");
    ck_assert(m.opt_ro && !m.super_ro);

    /* Not escapes: \0 would truncate, \9 is not octal, a short one at the end. */
    const char *l3 = "62 27 8:3 / /a\\000b\\9xy\\04 rw - ext4 /dev/x\\040y rw";
    ck_assert_int_eq(disk_parse_mountinfo_line(l3, strlen(l3), b->arena, &m), 0);
    ck_assert_str_eq(m.mount_point, "/a\\000b\\9xy\\04");
    ck_assert_str_eq(m.source, "/dev/x\\040y"); /* sources stay as printed */

    /* Super options: "ro" only as a whole option. */
    const char *l4 = "63 27 8:4 / /x rw - ext4 /dev/y rw,errors=remount-ro";
    ck_assert_int_eq(disk_parse_mountinfo_line(l4, strlen(l4), b->arena, &m), 0);
    ck_assert(!m.super_ro);
    /* No super options at all is tolerated. */
    const char *l5 = "64 27 8:5 / /z rw - ext4 /dev/z";
    ck_assert_int_eq(disk_parse_mountinfo_line(l5, strlen(l5), b->arena, &m), 0);
    ck_assert_str_eq(m.source, "/dev/z");
    batch_free(b);
}
END_TEST

START_TEST(test_parse_malformed)
{
    struct sonde_batch *b = batch_new("disk");
    struct disk_mount m;
    const char *bad[] = {
        "this line is not a mount",
        "70 27 8:33 / /mnt/nosep rw,relatime ext4 /dev/sdc1 rw",
        "76 27 x:1 / /mnt/badnum rw - ext4 /dev/sdd1 rw",
        "76 27 8 / /mnt/badnum rw - ext4 /dev/sdd1 rw",
        "76 27 8:99999999999 / /mnt/badnum rw - ext4 /dev/sdd1 rw",
        "77 27 8:65 / /mnt/late rw,relatime - ext4",
        "78 27 8:65 / relative rw - ext4 /dev/sde1 rw",
        "a 27 8:65 / /x rw - ext4 /dev/sde1 rw",
        "79 27 8:65 / /x rw -",
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(disk_parse_mountinfo_line(bad[i], strlen(bad[i]), b->arena, &m) == -EINVAL,
                      "%s", bad[i]);
    batch_free(b);
}
END_TEST

START_TEST(test_read_odd_prometheus)
{
    struct disk_config cfg = disk_test_config();
    struct disk_state *st =
        disk_test_state(&cfg, DISK_FIX "/odd", "/", DISK_FIX "/odd/sys", fake_statvfs);
    struct sonde_batch *b = batch_new("disk");
    ck_assert_int_eq(disk_read(st, b), 0);
    batch_finish(b);

    /* Four malformed lines, plus /mnt/broken's missing line-protocol point. */
    ck_assert_uint_eq(b->skipped, 5);

    /* 11 mounts survive the exclusions; /srv/bind's second line is merged. */
    ck_assert_uint_eq(series_count(b, "node_filesystem_device_error"), 11);
    ck_assert_uint_eq(series_count(b, "node_filesystem_size_bytes"), 10);
    ck_assert_uint_eq(series_count(b, "node_filesystem_readonly"), 10);
    const char *excluded[] = {"/proc",          "/var/lib/docker/overlay2/abc/merged",
                              "/media/cdrom",   "/net",
                              "/sys/fs/cgroup", "/dev/shm"};
    for (size_t i = 0; i < sizeof(excluded) / sizeof(excluded[0]); i++)
        ck_assert_ptr_null(
            series_find(b, "node_filesystem_device_error", "mountpoint", excluded[i], NULL));

    const struct sonde_series *s =
        series_find(b, "node_filesystem_size_bytes", "device", "/dev/vda", "fstype", "ext4",
                    "mountpoint", "/", NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->nlabels, 3);
    ck_assert_double_eq(s->value, 1000000.0 * 4096);
    ck_assert_double_eq(prom_value(b, "node_filesystem_free_bytes", "/"), 400000.0 * 4096);
    ck_assert_double_eq(prom_value(b, "node_filesystem_avail_bytes", "/"), 300000.0 * 4096);
    ck_assert_double_eq(prom_value(b, "node_filesystem_files", "/"), 65536);
    ck_assert_double_eq(prom_value(b, "node_filesystem_files_free", "/"), 60000);
    ck_assert_double_eq(prom_value(b, "node_filesystem_readonly", "/"), 0);
    ck_assert_double_eq(prom_value(b, "node_filesystem_device_error", "/"), 0);

    /* Labels keep node_exporter's partial decoding; the values come from
     * statvfs on the real path. */
    ck_assert_double_eq(prom_value(b, "node_filesystem_size_bytes", "/mnt/my disk"), 2000.0 * 4096);
    ck_assert_double_eq(prom_value(b, "node_filesystem_size_bytes", "/mnt/tab\there\\012nl\\134bs"),
                        500.0 * 1024);
    ck_assert_double_eq(prom_value(b, "node_filesystem_readonly", "/mnt/tab\there\\012nl\\134bs"),
                        1);
    ck_assert(fake_called("/mnt/tab\there\nnl\\bs"));

    /* Bind mounts: one series per mount point, merged when repeated. */
    s = series_find(b, "node_filesystem_avail_bytes", "device", "/dev/sda1", "mountpoint",
                    "/srv/bind", NULL);
    ck_assert_double_eq(s->value, 1200.0 * 4096);
    ck_assert_ptr_nonnull(series_find(b, "node_filesystem_avail_bytes", "device", "/dev/sda1",
                                      "mountpoint", "/srv/bind2", NULL));
    size_t bind = 0;
    for (size_t i = 0; i < b->nseries; i++)
        bind += strcmp(b->series[i].family->name, "node_filesystem_size_bytes") == 0 &&
                strcmp(label_get(b->series[i].labels, 3, "mountpoint"), "/srv/bind") == 0;
    ck_assert_uint_eq(bind, 1);

    /* A read-only superblock under a read-write mount reads as read-only. */
    ck_assert_double_eq(prom_value(b, "node_filesystem_readonly", "/mnt/ro-super"), 1);
    /* statvfs failure: device_error 1 and nothing else. */
    ck_assert_double_eq(prom_value(b, "node_filesystem_device_error", "/mnt/broken"), 1);
    ck_assert_ptr_null(
        series_find(b, "node_filesystem_size_bytes", "mountpoint", "/mnt/broken", NULL));
    ck_assert_ptr_null(
        series_find(b, "node_filesystem_readonly", "mountpoint", "/mnt/broken", NULL));
    /* Devices as printed (no /dev/root or mapper resolution); tmpfs kept. */
    ck_assert_ptr_nonnull(series_find(b, "node_filesystem_files", "device", "/dev/root",
                                      "mountpoint", "/boot", NULL));
    ck_assert_ptr_nonnull(series_find(b, "node_filesystem_files", "device", "/dev/mapper/vg0-data",
                                      "mountpoint", "/data", NULL));
    ck_assert_double_eq(prom_value(b, "node_filesystem_size_bytes", "/run/user/1000"),
                        25600.0 * 4096);
    ck_assert_double_eq(prom_value(b, "node_filesystem_size_bytes", "/mnt/zero"), 0);

    /* statvfs is not called for mounts neither format wants. */
    ck_assert(!fake_called("/dev/shm"));
    ck_assert(!fake_called("/net"));
    ck_assert(!fake_called("/media/cdrom"));
    ck_assert(!fake_called("/var/lib/docker/overlay2/abc/merged"));
    /* nor for pseudo filesystems whose size is always zero (proc, sysfs ...) */
    ck_assert(!fake_called("/proc") && !fake_called("/sys"));
    ck_assert_uint_eq(fake_ncalls, 12);

    batch_free(b);
    disk_destroy(st);
}
END_TEST

START_TEST(test_read_odd_line_protocol)
{
    struct disk_config cfg = disk_test_config();
    struct disk_state *st =
        disk_test_state(&cfg, DISK_FIX "/odd", "/", DISK_FIX "/odd/sys", fake_statvfs);
    struct sonde_batch *b = batch_new("disk");
    ck_assert_int_eq(disk_read(st, b), 0);
    batch_finish(b);

    /* ignore_fs drops tmpfs, overlay, iso9660; autofs always; size 0
     * drops proc, cgroup2 and fuse.zero; statvfs failure drops nfs4. */
    ck_assert_uint_eq(b->npoints, 9);
    ck_assert_uint_eq(points_with_path(b, "/srv/bind"), 2); /* Telegraf does not merge */
    ck_assert_uint_eq(points_with_path(b, "/run/user/1000"), 0);
    ck_assert_uint_eq(points_with_path(b, "/proc"), 0);
    ck_assert_uint_eq(points_with_path(b, "/mnt/zero"), 0);
    ck_assert_uint_eq(points_with_path(b, "/mnt/broken"), 0);

    const struct sonde_point *p = point_find(b, "disk", "path", "/", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->ntags, 4);
    ck_assert_str_eq(tag(p, "device"), "vda");
    ck_assert_str_eq(tag(p, "fstype"), "ext4");
    ck_assert_str_eq(tag(p, "mode"), "rw");
    ck_assert_uint_eq(field_u(p, "total"), 1000000ull * 4096);
    ck_assert_uint_eq(field_u(p, "free"), 300000ull * 4096); /* available, not free */
    ck_assert_uint_eq(field_u(p, "used"), 600000ull * 4096);
    ck_assert_uint_eq(field_u(p, "inodes_total"), 65536);
    ck_assert_uint_eq(field_u(p, "inodes_free"), 60000);
    ck_assert_uint_eq(field_u(p, "inodes_used"), 5536);
    const struct sonde_field *f = field_get(p, "used_percent");
    ck_assert_int_eq(f->type, SONDE_FIELD_FLOAT);
    ck_assert_double_eq(f->v.f, 600000.0 / (600000.0 + 300000.0) * 100.0);
    ck_assert_uint_eq(p->nfields, 7);

    /* The path is fully decoded; a read-only mount says so. */
    p = point_find(b, "disk", "path", "/mnt/tab\there\nnl\\bs", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(tag(p, "mode"), "ro");
    ck_assert_str_eq(tag(p, "device"), "sda2");
    ck_assert_ptr_nonnull(point_find(b, "disk", "path", "/mnt/my disk", "device", "sda1", NULL));
    /* Mode follows the mount's own options, not the superblock's. */
    ck_assert_str_eq(tag(point_find(b, "disk", "path", "/mnt/ro-super", NULL), "mode"), "rw");

    /* /dev/root resolves through sysfs; an unresolvable mapper link keeps
     * its name minus /dev/. */
    ck_assert_str_eq(tag(point_find(b, "disk", "path", "/boot", NULL), "device"), "sda3");
    p = point_find(b, "disk", "path", "/data", NULL);
    ck_assert_str_eq(tag(p, "device"), "mapper/vg0-data");
    /* More free inodes than inodes: gopsutil reports nothing used. */
    ck_assert_uint_eq(field_u(p, "used"), 0);
    ck_assert_uint_eq(field_u(p, "inodes_used"), 0);
    ck_assert_double_eq(field_get(p, "used_percent")->v.f, 0.0);

    batch_free(b);
    disk_destroy(st);
}
END_TEST

START_TEST(test_lp_device_mapper)
{
    char *rootfs = realpath(DISK_FIX "/odd/rootfs", NULL);
    ck_assert_ptr_nonnull(rootfs);
    struct disk_config cfg = disk_test_config();
    struct disk_state *st =
        disk_test_state(&cfg, DISK_FIX "/odd", rootfs, DISK_FIX "/odd/sys", fake_statvfs);
    struct sonde_batch *b = batch_new("disk");
    struct disk_mount m;
    const char *line = "66 27 253:0 / /data rw,relatime - ext4 /dev/mapper/vg0-data rw";
    ck_assert_int_eq(disk_parse_mountinfo_line(line, strlen(line), b->arena, &m), 0);
    ck_assert_str_eq(disk_lp_device(st, b->arena, &m), "dm-3");
    m.source = "server:/dev/export/dev/x"; /* every "/dev/" goes, as strings.ReplaceAll */
    ck_assert_str_eq(disk_lp_device(st, b->arena, &m), "server:exportx");
    batch_free(b);
    disk_destroy(st);
    free(rootfs);
}
END_TEST

START_TEST(test_read_rootfs)
{
    struct disk_config cfg = disk_test_config();
    struct disk_state *st =
        disk_test_state(&cfg, DISK_FIX "/host", "/host/", "/nonexistent", fake_statvfs);
    ck_assert_str_eq(st->rootfs, "/host");
    struct sonde_batch *b = batch_new("disk");
    ck_assert_int_eq(disk_read(st, b), 0);
    batch_finish(b);

    /* /host is "/", /host/boot is "/boot"; /hostile only shares a prefix. */
    ck_assert_uint_eq(series_count(b, "node_filesystem_device_error"), 3);
    ck_assert_double_eq(prom_value(b, "node_filesystem_size_bytes", "/"), 8000.0 * 4096);
    ck_assert_double_eq(prom_value(b, "node_filesystem_size_bytes", "/boot"), 500.0 * 4096);
    ck_assert_double_eq(prom_value(b, "node_filesystem_readonly", "/boot"), 1);
    ck_assert_double_eq(prom_value(b, "node_filesystem_size_bytes", "/hostile"), 64.0 * 512);
    ck_assert(fake_called("/host") && fake_called("/host/boot") && fake_called("/host/hostile"));
    ck_assert(!fake_called("/host/proc")); /* proc's size is always 0: no statvfs */

    ck_assert_uint_eq(b->npoints, 3);
    ck_assert_ptr_nonnull(point_find(b, "disk", "path", "/", "device", "vda1", NULL));
    ck_assert_ptr_nonnull(point_find(b, "disk", "path", "/boot", "mode", "ro", NULL));
    ck_assert_ptr_nonnull(point_find(b, "disk", "path", "/hostile", "device", "vdb", NULL));
    batch_free(b);
    disk_destroy(st);
}
END_TEST

START_TEST(test_read_captured)
{
    struct disk_config cfg = disk_test_config();
    struct disk_state *st =
        disk_test_state(&cfg, DISK_FIX "/proc", "/", "/nonexistent", fake_statvfs_captured);
    struct sonde_batch *b = batch_new("disk");
    ck_assert_int_eq(disk_read(st, b), 0);
    batch_finish(b);
    ck_assert_uint_eq(b->skipped, 0);

    /* The same series as node_exporter (run with the upstream default),
     * with its device_error and readonly values. */
    char *ne = fixture_read("disk/proc/node_exporter.prom");
    size_t ne_samples = 0;
    char *save = NULL;
    for (char *l = strtok_r(ne, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char name[64], device[128], fstype[64], mountpoint[256];
        double value;
        ck_assert_int_eq(sscanf(l,
                                "%63[^{]{device=\"%127[^\"]\",fstype=\"%63[^\"]\","
                                "mountpoint=\"%255[^\"]\"} %lf",
                                name, device, fstype, mountpoint, &value),
                         5);
        const struct sonde_series *s = series_find(b, name, "device", device, "fstype", fstype,
                                                   "mountpoint", mountpoint, NULL);
        ck_assert_msg(s != NULL, "%s", l);
        if (strcmp(name, "node_filesystem_readonly") == 0 ||
            strcmp(name, "node_filesystem_device_error") == 0)
            ck_assert_double_eq(s->value, value);
        ne_samples++;
    }
    ck_assert_uint_eq(ne_samples, 14);
    ck_assert_uint_eq(b->nseries, ne_samples);
    free(ne);

    /* Telegraf: only the ext4 root (tmpfs, devtmpfs ignored; the pseudo
     * filesystems have size 0). */
    ck_assert_uint_eq(b->npoints, 1);
    ck_assert_ptr_nonnull(
        point_find(b, "disk", "path", "/", "device", "vda", "fstype", "ext4", "mode", "rw", NULL));
    batch_free(b);
    disk_destroy(st);
}
END_TEST

/* A mountinfo that is not on procfs is read on every read: an edit shows
 * in the next one. */
START_TEST(test_plan_rereads_plain_files)
{
    char dir[] = "/tmp/check_disk_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char sub[PATH_MAX], path[PATH_MAX + 16];
    snprintf(sub, sizeof(sub), "%s/1", dir);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    snprintf(path, sizeof(path), "%s/mountinfo", sub);
    const char *one = "22 1 8:1 / / rw - ext4 /dev/vda1 rw\n";
    const char *two = "22 1 8:1 / / rw - ext4 /dev/vda1 rw\n"
                      "23 22 8:2 / /data rw - ext4 /dev/vda2 rw\n";
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(one, f);
    fclose(f);

    struct disk_config cfg = disk_test_config();
    struct disk_state *st = disk_test_state(&cfg, dir, "/", "/nonexistent", fake_statvfs);
    struct sonde_batch *b = batch_new("disk");
    ck_assert_int_eq(disk_read(st, b), 0);
    ck_assert_uint_eq(series_count(b, "node_filesystem_size_bytes"), 1);
    ck_assert(!st->plan.pollable);
    batch_free(b);

    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(two, f);
    fclose(f);
    b = batch_new("disk");
    ck_assert_int_eq(disk_read(st, b), 0);
    ck_assert_uint_eq(series_count(b, "node_filesystem_size_bytes"), 2);
    ck_assert_ptr_nonnull(
        series_find(b, "node_filesystem_size_bytes", "mountpoint", "/data", NULL));
    ck_assert_uint_eq(st->plans_made, 2);
    batch_free(b);
    disk_destroy(st);
    unlink(path);
    rmdir(sub);
    rmdir(dir);
}
END_TEST

/* Reads the real /proc/self/mountinfo (through <procfs>/1, a link to it)
 * into a batch; returns the batch. */
static struct sonde_batch *disk_read_real(struct disk_state *st)
{
    struct sonde_batch *b = batch_new("disk");
    ck_assert_int_eq(disk_read(st, b), 0);
    return b;
}

/* On procfs the plan is kept until the kernel reports a mount or an unmount:
 * a tmpfs mounted in a private namespace appears on the next read, and
 * goes with its unmount. Needs CAP_SYS_ADMIN. */
START_TEST(test_plan_follows_real_mounts)
{
    if (unshare(CLONE_NEWNS) != 0) {
        fprintf(stderr, "test_plan_follows_real_mounts: unshare: %s: needs root\n",
                strerror(errno));
        ck_assert_int_ne(geteuid(), 0); /* as root it must work */
        return;
    }
    ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
    char dir[] = "/tmp/check_disk_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char link[PATH_MAX], target[64], mnt[PATH_MAX];
    snprintf(link, sizeof(link), "%s/1", dir);
    snprintf(target, sizeof(target), "/proc/%d", (int)getpid());
    ck_assert_int_eq(symlink(target, link), 0);
    snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
    ck_assert_int_eq(mkdir(mnt, 0755), 0);

    struct disk_config cfg = disk_test_config();
    struct disk_state *st = disk_test_state(&cfg, dir, "/", "/sys", statvfs);
    struct sonde_batch *b = disk_read_real(st);
    ck_assert(st->plan.pollable);
    ck_assert_ptr_null(series_find(b, "node_filesystem_size_bytes", "mountpoint", mnt, NULL));
    size_t before = b->nseries;
    ck_assert_uint_gt(before, 0);
    batch_free(b);

    b = disk_read_real(st); /* nothing changed: the plan serves */
    ck_assert_uint_eq(st->plans_made, 1);
    ck_assert_uint_eq(b->nseries, before);
    batch_free(b);

    ck_assert_int_eq(mount("sonde-test", mnt, "tmpfs", 0, "size=1m"), 0);
    b = disk_read_real(st);
    ck_assert_uint_eq(st->plans_made, 2);
    ck_assert_double_eq(prom_value(b, "node_filesystem_size_bytes", mnt), 1024.0 * 1024.0);
    batch_free(b);

    ck_assert_int_eq(umount(mnt), 0);
    b = disk_read_real(st);
    ck_assert_uint_eq(st->plans_made, 3);
    ck_assert_ptr_null(series_find(b, "node_filesystem_size_bytes", "mountpoint", mnt, NULL));
    ck_assert_uint_eq(b->nseries, before);
    batch_free(b);

    /* With no change, mountinfo is still read again after DISK_PLAN_READS. */
    for (int i = 1; i < DISK_PLAN_READS; i++)
        batch_free(disk_read_real(st));
    ck_assert_uint_eq(st->plans_made, 3);
    batch_free(disk_read_real(st));
    ck_assert_uint_eq(st->plans_made, 4);

    disk_destroy(st);
    unlink(link);
    rmdir(mnt);
    rmdir(dir);
}
END_TEST

START_TEST(test_fallback_and_errors)
{
    struct disk_config cfg = disk_test_config();
    struct disk_state *st =
        disk_test_state(&cfg, DISK_FIX "/selfonly", "/", "/nonexistent", fake_statvfs);
    struct sonde_batch *b = batch_new("disk");
    ck_assert_int_eq(disk_read(st, b), 0);
    ck_assert_uint_eq(series_count(b, "node_filesystem_size_bytes"), 1);
    ck_assert_str_eq(st->mountinfo_self.path, DISK_FIX "/selfonly/self/mountinfo");
    batch_free(b);
    disk_destroy(st);

    st = disk_test_state(&cfg, DISK_FIX "/missing", "/", "/nonexistent", fake_statvfs);
    b = batch_new("disk");
    ck_assert_int_eq(disk_read(st, b), -ENOENT);
    ck_assert_uint_eq(b->nseries, 0);
    batch_free(b);
    disk_destroy(st);

    /* Empty regexes exclude nothing; an empty ignore_fs keeps tmpfs. */
    cfg.mount_points_exclude = "";
    cfg.fs_types_exclude = "";
    cfg.ignore_fs.n = 0;
    st = disk_test_state(&cfg, DISK_FIX "/proc", "/", "/nonexistent", fake_statvfs_captured);
    b = batch_new("disk");
    ck_assert_int_eq(disk_read(st, b), 0);
    /* 20 lines, two duplicates (/dev/pts and /dev/shm are mounted twice). */
    ck_assert_uint_eq(series_count(b, "node_filesystem_device_error"), 18);
    ck_assert_ptr_nonnull(point_find(b, "disk", "path", "/dev/shm", NULL));
    batch_free(b);
    disk_destroy(st);

    cfg = disk_test_config();
    cfg.fs_types_exclude = "^(bad";
    struct sonde_context ctx = {.procfs = DISK_FIX "/proc",
                                .sysfs = "/sys",
                                .rootfs = "/",
                                .hostname = "h",
                                .instance = "disk"};
    void *state = NULL;
    ck_assert_int_eq(disk_init(&state, &cfg, &ctx), -EINVAL);
}
END_TEST

START_TEST(test_descriptor)
{
    ck_assert_str_eq(sonde_plugin_disk.name, "disk");
    ck_assert_int_eq(sonde_plugin_disk.kind, SONDE_INPUT);
    ck_assert_ptr_null(sonde_plugin_disk.write);
    ck_assert_ptr_null(sonde_plugin_disk.options[3].name);

    /* The defaults as the core applies them ("disk: {}"). */
    struct disk_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    config_options_defaults(sonde_plugin_disk.options, &cfg);
    ck_assert_str_eq(cfg.mount_points_exclude, "^/(dev|proc|run/credentials/.+|sys|"
                                               "var/lib/docker/.+|var/lib/containers/storage/.+)"
                                               "($|/)");
    ck_assert_str_eq(cfg.fs_types_exclude, DISK_DEFAULT_FS_TYPES_EXCLUDE);
    ck_assert_uint_eq(cfg.ignore_fs.n, 7);
    for (size_t i = 0; i < 7; i++)
        ck_assert_str_eq(cfg.ignore_fs.items[i], default_ignore_fs[i]);
    config_options_free(sonde_plugin_disk.options, &cfg);

    /* The default regexes behave as node_exporter's. */
    regex_t mp, fs;
    ck_assert_int_eq(regcomp(&mp, DISK_DEFAULT_MOUNT_POINTS_EXCLUDE, REG_EXTENDED | REG_NOSUB), 0);
    ck_assert_int_eq(regcomp(&fs, DISK_DEFAULT_FS_TYPES_EXCLUDE, REG_EXTENDED | REG_NOSUB), 0);
    const char *mp_out[] = {"/dev",
                            "/dev/shm",
                            "/proc",
                            "/sys/fs/cgroup",
                            "/run/credentials/x.service",
                            "/var/lib/docker/overlay2/a/merged",
                            "/var/lib/containers/storage/overlay"};
    const char *mp_in[] = {"/",     "/devices", "/run", "/run/credentials", "/var/lib/docker",
                           "/home", "/system"};
    for (size_t i = 0; i < sizeof(mp_out) / sizeof(mp_out[0]); i++)
        ck_assert_msg(regexec(&mp, mp_out[i], 0, NULL, 0) == 0, "%s", mp_out[i]);
    for (size_t i = 0; i < sizeof(mp_in) / sizeof(mp_in[0]); i++)
        ck_assert_msg(regexec(&mp, mp_in[i], 0, NULL, 0) != 0, "%s", mp_in[i]);
    ck_assert(regexec(&fs, "cgroup", 0, NULL, 0) == 0 && regexec(&fs, "cgroup2", 0, NULL, 0) == 0);
    ck_assert(regexec(&fs, "tracefs", 0, NULL, 0) == 0);
    ck_assert(regexec(&fs, "tmpfs", 0, NULL, 0) != 0 && regexec(&fs, "ext4", 0, NULL, 0) != 0);
    ck_assert(regexec(&fs, "fuse.sshfs", 0, NULL, 0) != 0);
    regfree(&mp);
    regfree(&fs);
}
END_TEST

static Suite *disk_suite(void)
{
    Suite *s = suite_create("disk");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_captured);
    tcase_add_test(tc, test_parse_escapes_and_optional_fields);
    tcase_add_test(tc, test_parse_malformed);
    tcase_add_test(tc, test_read_odd_prometheus);
    tcase_add_test(tc, test_read_odd_line_protocol);
    tcase_add_test(tc, test_lp_device_mapper);
    tcase_add_test(tc, test_read_rootfs);
    tcase_add_test(tc, test_read_captured);
    tcase_add_test(tc, test_fallback_and_errors);
    tcase_add_test(tc, test_plan_rereads_plain_files);
    tcase_add_test(tc, test_plan_follows_real_mounts);
    tcase_add_test(tc, test_descriptor);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(disk_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
