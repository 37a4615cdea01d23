/*
 * check_diskio.c - tests for plugins/diskio.c: the /proc/diskstats and udev
 * parsers, and full reads against captured and hand-made fixtures, checked
 * against node_exporter 1.5's own output for the captured file.
 */
#include "../../plugins/diskio.c"

#include "config.h"
#include "testutil.h"

#define DISKIO_FIX FIXTURES "/diskio"

static struct diskio_config diskio_test_config(void)
{
    struct diskio_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.devices_exclude = DISKIO_DEFAULT_EXCLUDE;
    return cfg;
}

/* A state reading fixture directory `dir` (procfs, with rootfs/ and sys/
 * inside it); the caller destroys it. */
static struct diskio_state *diskio_test_state(const struct diskio_config *cfg, const char *dir)
{
    char rootfs[256], sysfs[256];
    snprintf(rootfs, sizeof(rootfs), "%s/rootfs", dir);
    snprintf(sysfs, sizeof(sysfs), "%s/sys", dir);
    struct sonde_context ctx = {
        .procfs = dir, .sysfs = sysfs, .rootfs = rootfs, .hostname = "h", .instance = "diskio"};
    void *state = NULL;
    ck_assert_int_eq(diskio_init(&state, cfg, &ctx), 0);
    return state;
}

/* The series `name` whose labels are exactly the pairs given. */
static const struct sonde_series *series_exact(const struct sonde_batch *b, const char *name,
                                               const char *const *kv, size_t npairs)
{
    for (size_t i = 0; i < b->nseries; i++) {
        const struct sonde_series *s = &b->series[i];
        if (strcmp(s->family->name, name) != 0 || s->nlabels != npairs)
            continue;
        size_t j = 0;
        for (; j < npairs; j++) {
            const char *have = label_get(s->labels, s->nlabels, kv[2 * j]);
            if (!have || strcmp(have, kv[2 * j + 1]) != 0)
                break;
        }
        if (j == npairs)
            return s;
    }
    return NULL;
}

/* Every sample of a node_exporter text capture must be in the batch with
 * the same labels and the same double, and nothing else named `prefix`. */
static void assert_same_as_node_exporter(const struct sonde_batch *b, const char *fixture,
                                         const char *prefix)
{
    char *text = fixture_read(fixture);
    size_t samples = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        const char *kv[32];
        size_t npairs = 0;
        char *value = strrchr(line, ' ');
        ck_assert_ptr_nonnull(value);
        *value++ = '\0';
        char *brace = strchr(line, '{');
        if (brace) {
            *brace = '\0';
            char *p = brace + 1;
            while (*p && *p != '}') {
                char *eq = strchr(p, '=');
                ck_assert_ptr_nonnull(eq);
                *eq = '\0';
                kv[2 * npairs] = p;
                char *close = strchr(eq + 2, '"');
                ck_assert_ptr_nonnull(close);
                *close = '\0';
                kv[2 * npairs + 1] = eq + 2;
                npairs++;
                p = close + 1;
                if (*p == ',')
                    p++;
            }
        }
        const struct sonde_series *s = series_exact(b, line, kv, npairs);
        ck_assert_msg(s != NULL, "%s (%zu labels) missing", line, npairs);
        ck_assert_msg(s->value == strtod(value, NULL), "%s: %.17g, node_exporter %s", line,
                      s->value, value);
        samples++;
    }
    size_t ours = 0;
    for (size_t i = 0; i < b->nseries; i++)
        ours += strncmp(b->series[i].family->name, prefix, strlen(prefix)) == 0;
    ck_assert_uint_eq(ours, samples);
    free(text);
}

static uint64_t field_u(const struct sonde_point *p, const char *key)
{
    const struct sonde_field *f = field_get(p, key);
    ck_assert_msg(f != NULL, "field %s missing", key);
    ck_assert_int_eq(f->type, SONDE_FIELD_UINT);
    return f->v.u;
}

static double field_f(const struct sonde_point *p, const char *key)
{
    const struct sonde_field *f = field_get(p, key);
    ck_assert_msg(f != NULL, "field %s missing", key);
    ck_assert_int_eq(f->type, SONDE_FIELD_FLOAT);
    return f->v.f;
}

/* ------------------------------------------------------------------ */

START_TEST(test_parse_captured_line)
{
    char *text = fixture_read("diskio/proc/diskstats");
    char *vda = strstr(text, " 254 ");
    ck_assert_ptr_nonnull(vda);
    struct diskio_line line;
    ck_assert_int_eq(diskio_parse_line(vda, (size_t)(strchr(vda, '\n') - vda), &line), 0);
    ck_assert_uint_eq(line.major, 254);
    ck_assert_uint_eq(line.minor, 0);
    ck_assert_str_eq(line.name, "vda");
    ck_assert_int_eq(line.nstats, 17);
    ck_assert_uint_eq(line.stats[DISKIO_READS], 27902);
    ck_assert_uint_eq(line.stats[DISKIO_READ_SECTORS], 2162082);
    ck_assert_uint_eq(line.stats[DISKIO_IO_WEIGHTED_MS], 26443);
    ck_assert_uint_eq(line.stats[DISKIO_DISCARD_SECTORS], 131096);
    ck_assert_uint_eq(line.stats[DISKIO_FLUSHES], 1564);
    ck_assert_uint_eq(line.stats[DISKIO_FLUSH_MS], 42);
    free(text);
}
END_TEST

START_TEST(test_parse_column_counts)
{
    struct diskio_line line;
    const char *old = "   8       0 sda 1 2 3 4 5 6 7 8 9 10 11";
    ck_assert_int_eq(diskio_parse_line(old, strlen(old), &line), 0);
    ck_assert_int_eq(line.nstats, 11);
    ck_assert_uint_eq(line.stats[DISKIO_IO_WEIGHTED_MS], 11);

    const char *discards = "8 1 sda1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15";
    ck_assert_int_eq(diskio_parse_line(discards, strlen(discards), &line), 0);
    ck_assert_int_eq(line.nstats, 15);
    ck_assert_uint_eq(line.stats[DISKIO_DISCARD_MS], 15);

    /* Columns a future kernel adds are ignored, not an error. */
    const char *future = "253 0 dm-0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20";
    ck_assert_int_eq(diskio_parse_line(future, strlen(future), &line), 0);
    ck_assert_int_eq(line.nstats, 17);
    ck_assert_uint_eq(line.stats[DISKIO_FLUSH_MS], 17);

    /* The parser stops at `len`: the next line's numbers are not borrowed. */
    const char *two = "8 2 sdb 1 2 3 4\n5 6 7 8 9 10 11";
    ck_assert_int_eq(diskio_parse_line(two, 15, &line), -EINVAL);
}
END_TEST

START_TEST(test_parse_malformed)
{
    struct diskio_line line;
    const char *bad[] = {
        "8 16 sdb 1 2 x 4 5 6 7 8 9 10 11",
        "8 32 sdc 1 2 3 4",
        "8 48 sdd -1 2 3 4 5 6 7 8 9 10 11",
        "8 48 sdd 1 2 3 4 5 6 7 8 9 10 99999999999999999999",
        "x 0 sda 1 2 3 4 5 6 7 8 9 10 11",
        "8 4294967296 sda 1 2 3 4 5 6 7 8 9 10 11",
        "8 0",
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(diskio_parse_line(bad[i], strlen(bad[i]), &line) == -EINVAL, "%s", bad[i]);
    const char *longname =
        "8 64 a_device_name_that_is_far_longer_than_the_kernel_would_ever_print_here 1 2 3 4 "
        "5 6 7 8 9 10 11";
    ck_assert_int_eq(diskio_parse_line(longname, strlen(longname), &line), -ENAMETOOLONG);
}
END_TEST

START_TEST(test_parse_udev)
{
    char *text = fixture_read("diskio/odd/rootfs/run/udev/data/b8:0");
    struct diskio_udev udev;
    diskio_parse_udev(text, strlen(text), &udev);
    ck_assert_uint_eq(udev.len[UDEV_ID_MODEL], strlen("Samsung_SSD_860_EVO_500GB"));
    ck_assert(memcmp(udev.value[UDEV_ID_MODEL], "Samsung_SSD_860_EVO_500GB", 25) == 0);
    ck_assert(memcmp(udev.value[UDEV_ID_WWN], "0x5002538e40a1b2c3", 18) == 0);
    ck_assert(memcmp(udev.value[UDEV_ID_PATH], "pci-0000:00:17.0-ata-1", 22) == 0);
    ck_assert_uint_eq(udev.len[UDEV_ID_PATH], 22);
    ck_assert_ptr_null(udev.value[UDEV_SCSI_IDENT_SERIAL]);
    ck_assert_ptr_null(udev.value[UDEV_DM_NAME]);
    free(text);

    /* Last value wins; '=' inside a value is kept; no newline at the end. */
    const char *dup = "E:ID_MODEL=first\nS:disk/by-id/x\nE:ID_MODEL=se=cond\nE:ID_PATH";
    diskio_parse_udev(dup, strlen(dup), &udev);
    ck_assert_uint_eq(udev.len[UDEV_ID_MODEL], 7);
    ck_assert(memcmp(udev.value[UDEV_ID_MODEL], "se=cond", 7) == 0);
    ck_assert_ptr_null(udev.value[UDEV_ID_PATH]);
}
END_TEST

START_TEST(test_read_captured_matches_node_exporter)
{
    struct diskio_config cfg = diskio_test_config();
    struct diskio_state *st = diskio_test_state(&cfg, DISKIO_FIX "/proc");
    struct sonde_batch *b = batch_new("diskio");
    ck_assert_int_eq(diskio_read(st, b), 0);
    batch_finish(b);

    /* loop0-7 are excluded by the default regex; vda and zram0 are kept,
     * with empty udev labels since there is no udev database. */
    assert_same_as_node_exporter(b, "diskio/proc/node_exporter.prom", "node_disk_");
    ck_assert_uint_eq(series_count(b, "node_disk_info"), 2);
    ck_assert_ptr_null(series_find(b, "node_disk_reads_completed_total", "device", "loop0", NULL));
    ck_assert_uint_eq(b->skipped, 0);

    /* Telegraf: all-zero devices (loops, zram0) are not reported. */
    ck_assert_uint_eq(b->npoints, 1);
    const struct sonde_point *p = point_find(b, "diskio", "name", "vda", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->ntags, 1);
    ck_assert_uint_eq(field_u(p, "reads"), 27902);
    ck_assert_uint_eq(field_u(p, "merged_reads"), 5209);
    ck_assert_uint_eq(field_u(p, "read_bytes"), 2162082ull * 512);
    ck_assert_uint_eq(field_u(p, "read_time"), 21789);
    ck_assert_uint_eq(field_u(p, "writes"), 9663);
    ck_assert_uint_eq(field_u(p, "merged_writes"), 6402);
    ck_assert_uint_eq(field_u(p, "write_bytes"), 1150864ull * 512);
    ck_assert_uint_eq(field_u(p, "write_time"), 4424);
    ck_assert_uint_eq(field_u(p, "iops_in_progress"), 0);
    ck_assert_uint_eq(field_u(p, "io_time"), 14024);
    ck_assert_uint_eq(field_u(p, "weighted_io_time"), 26443);
    ck_assert_uint_eq(p->nfields, 11); /* no derived fields on the first read */

    batch_free(b);
    diskio_destroy(st);
}
END_TEST

START_TEST(test_read_odd_prometheus)
{
    struct diskio_config cfg = diskio_test_config();
    struct diskio_state *st = diskio_test_state(&cfg, DISKIO_FIX "/odd");
    struct sonde_batch *b = batch_new("diskio");
    ck_assert_int_eq(diskio_read(st, b), 0);
    batch_finish(b);

    /* sdb (x), sdc (4 columns), sdd (-1) and the over-long name. */
    ck_assert_uint_eq(b->skipped, 4);

    /* Partitions and loops are excluded; disks and dm devices are kept. */
    ck_assert_uint_eq(series_count(b, "node_disk_info"), 4);
    ck_assert_ptr_null(series_find(b, "node_disk_info", "device", "sda1", NULL));
    ck_assert_ptr_null(series_find(b, "node_disk_info", "device", "nvme0n1p1", NULL));
    ck_assert_ptr_null(series_find(b, "node_disk_info", "device", "loop0", NULL));

    /* Columns present decide the families: sda has 11, nvme0n1 17, dm-0 20. */
    ck_assert_ptr_nonnull(
        series_find(b, "node_disk_io_time_weighted_seconds_total", "device", "sda", NULL));
    ck_assert_ptr_null(series_find(b, "node_disk_discards_completed_total", "device", "sda", NULL));
    ck_assert_uint_eq(series_count(b, "node_disk_discards_completed_total"), 3);
    ck_assert_uint_eq(series_count(b, "node_disk_flush_requests_total"), 3);
    const struct sonde_series *s =
        series_find(b, "node_disk_flush_requests_time_seconds_total", "device", "dm-0", NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_double_eq(s->value, 7 * (1.0 / 1000.0));
    s = series_find(b, "node_disk_read_bytes_total", "device", "nvme0n1", NULL);
    ck_assert_double_eq(s->value, 320000.0 * 512);
    s = series_find(b, "node_disk_discarded_sectors_total", "device", "nvme0n1", NULL);
    ck_assert_double_eq(s->value, 2048);
    s = series_find(b, "node_disk_io_now", "device", "sda", NULL);
    ck_assert_int_eq(s->family->type, SONDE_GAUGE);
    ck_assert_double_eq(s->value, 2);

    /* udev labels: sda from ID_SERIAL_SHORT, nvme0n1 prefers SCSI_IDENT_SERIAL. */
    s = series_find(b, "node_disk_info", "device", "sda", "major", "8", "minor", "0", "model",
                    "Samsung_SSD_860_EVO_500GB", "path", "pci-0000:00:17.0-ata-1", "revision",
                    "RVT04B6Q", "serial", "S3Z1NB0K123456A", "wwn", "0x5002538e40a1b2c3", NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->nlabels, 8);
    ck_assert_ptr_nonnull(series_find(b, "node_disk_info", "device", "nvme0n1", "serial",
                                      "vol0123456789abcdef-scsi", "model",
                                      "Amazon Elastic Block Store", "wwn", "", NULL));
    ck_assert_ptr_nonnull(
        series_find(b, "node_disk_info", "device", "dm-0", "model", "second", "serial", "", NULL));
    ck_assert_ptr_nonnull(series_find(b, "node_disk_info", "device", "dm-1", "path", "", NULL));

    /* ATA gauges for sda only (nvme0n1's ID_ATA is empty). */
    ck_assert_uint_eq(series_count(b, "node_disk_ata_rotation_rate_rpm"), 1);
    ck_assert_double_eq(
        series_find(b, "node_disk_ata_rotation_rate_rpm", "device", "sda", NULL)->value, 7200);
    ck_assert_double_eq(
        series_find(b, "node_disk_ata_write_cache_enabled", "device", "sda", NULL)->value, 0);
    ck_assert_double_eq(series_find(b, "node_disk_ata_write_cache", "device", "sda", NULL)->value,
                        1);

    /* Filesystem and device-mapper info for dm-0. */
    ck_assert_uint_eq(series_count(b, "node_disk_filesystem_info"), 1);
    ck_assert_ptr_nonnull(series_find(b, "node_disk_filesystem_info", "device", "dm-0", "type",
                                      "ext4", "usage", "filesystem", "uuid", "1111-2222", "version",
                                      "1.0", NULL));
    ck_assert_uint_eq(series_count(b, "node_disk_device_mapper_info"), 1);
    ck_assert_ptr_nonnull(series_find(b, "node_disk_device_mapper_info", "device", "dm-0", "name",
                                      "vg0-root", "uuid", "LVM-Xy12ab", "vg_name", "vg0", "lv_name",
                                      "root", "lv_layer", "", NULL));
    batch_free(b);
    diskio_destroy(st);
}
END_TEST

START_TEST(test_read_odd_line_protocol)
{
    struct diskio_config cfg = diskio_test_config();
    struct diskio_state *st = diskio_test_state(&cfg, DISKIO_FIX "/odd");
    struct sonde_batch *b = batch_new("diskio");
    ck_assert_int_eq(diskio_read(st, b), 0);
    batch_finish(b);

    /* Partitions and loops included (Telegraf has no default filter);
     * dm-1 (all zero) left out. */
    ck_assert_uint_eq(b->npoints, 6);
    ck_assert_ptr_nonnull(point_find(b, "diskio", "name", "sda1", NULL));
    ck_assert_ptr_nonnull(point_find(b, "diskio", "name", "loop0", NULL));
    ck_assert_ptr_null(point_find(b, "diskio", "name", "dm-1", NULL));

    const struct sonde_point *p = point_find(b, "diskio", "name", "sda", NULL);
    ck_assert_str_eq(label_get(p->tags, p->ntags, "wwid"), "naa.5002538e40a1b2c3");
    ck_assert_uint_eq(field_u(p, "iops_in_progress"), 2);
    ck_assert_uint_eq(field_u(p, "read_bytes"), 80000ull * 512);
    p = point_find(b, "diskio", "name", "nvme0n1", NULL);
    ck_assert_uint_eq(p->ntags, 1);
    ck_assert_uint_eq(field_u(p, "weighted_io_time"), 1700);
    batch_free(b);
    diskio_destroy(st);
}
END_TEST

/* Switches a state to another fixture's diskstats (the file is static). */
static void diskio_test_repoint(struct diskio_state *st, const char *path)
{
    sonde_file_close(&st->diskstats);
    sonde_file_init(&st->diskstats, path);
}

START_TEST(test_derived_fields)
{
    struct diskio_config cfg = diskio_test_config();
    struct diskio_state *st = diskio_test_state(&cfg, DISKIO_FIX "/odd");
    struct sonde_batch *b1 = batch_new("diskio");
    b1->timestamp_ns = 10000000000;
    ck_assert_int_eq(diskio_read(st, b1), 0);
    ck_assert_uint_eq(st->ndevices, 6);

    diskio_test_repoint(st, DISKIO_FIX "/odd2/diskstats");
    struct sonde_batch *b2 = batch_new("diskio");
    b2->timestamp_ns = 12000999999; /* 2000 whole milliseconds later */
    ck_assert_int_eq(diskio_read(st, b2), 0);
    batch_finish(b2);

    /* sda: 300 I/Os (+100 reads, +200 writes) took 100 + 300 ms; busy 200 ms. */
    const struct sonde_point *p = point_find(b2, "diskio", "name", "sda", NULL);
    ck_assert_double_eq(field_f(p, "io_await"), 400.0 / 300.0);
    ck_assert_double_eq(field_f(p, "io_svctm"), 200.0 / 300.0);
    ck_assert_double_eq(field_f(p, "io_util"), 10.0);
    ck_assert_uint_eq(p->nfields, 14);
    /* nvme0n1 went backwards: no derived field at all. */
    p = point_find(b2, "diskio", "name", "nvme0n1", NULL);
    ck_assert_uint_eq(p->nfields, 11);
    /* dm-0 idle: no I/O to average over, but a 0% utilisation. */
    p = point_find(b2, "diskio", "name", "dm-0", NULL);
    ck_assert_ptr_null(field_get(p, "io_await"));
    ck_assert_double_eq(field_f(p, "io_util"), 0.0);
    /* Devices absent from the second read are forgotten. */
    ck_assert_uint_eq(st->ndevices, 3);

    /* sda1 comes back without a stale baseline. */
    diskio_test_repoint(st, DISKIO_FIX "/odd/diskstats");
    struct sonde_batch *b3 = batch_new("diskio");
    b3->timestamp_ns = 14000000000;
    ck_assert_int_eq(diskio_read(st, b3), 0);
    batch_finish(b3);
    p = point_find(b3, "diskio", "name", "sda1", NULL);
    ck_assert_uint_eq(p->nfields, 11);
    /* sda went back from odd2's values: a wrap, so no derived fields. */
    p = point_find(b3, "diskio", "name", "sda", NULL);
    ck_assert_uint_eq(p->nfields, 11);

    batch_free(b1);
    batch_free(b2);
    batch_free(b3);
    diskio_destroy(st);
}
END_TEST

/* The regex's answers are kept per line of diskstats: a device that moves
 * to another line, or a new one on a known line, is judged again. */
START_TEST(test_exclude_follows_lines)
{
    char dir[] = "/tmp/check_diskio_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[512];
    snprintf(path, sizeof(path), "%s/diskstats", dir);
    const char *const tables[] = {
        "   8       0 sda 1 0 8 1 1 0 8 1 0 1 2 0 0 0 0 0 0\n"
        "   7       0 loop0 1 0 8 1 0 0 0 0 0 1 1 0 0 0 0 0 0\n",
        "   7       0 loop0 1 0 8 1 0 0 0 0 0 1 1 0 0 0 0 0 0\n"
        "   8       0 sda 1 0 8 1 1 0 8 1 0 1 2 0 0 0 0 0 0\n",
        "   8      16 sdb 1 0 8 1 1 0 8 1 0 1 2 0 0 0 0 0 0\n"
        "   8       0 sda 1 0 8 1 1 0 8 1 0 1 2 0 0 0 0 0 0\n",
    };
    struct diskio_config cfg = diskio_test_config();
    struct diskio_state *st = diskio_test_state(&cfg, dir);
    for (size_t i = 0; i < 3; i++) {
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(tables[i], f);
        fclose(f);
        struct sonde_batch *b = batch_new("diskio");
        ck_assert_int_eq(diskio_read(st, b), 0);
        ck_assert_ptr_nonnull(series_find(b, "node_disk_info", "device", "sda", NULL));
        ck_assert_ptr_null(series_find(b, "node_disk_info", "device", "loop0", NULL));
        ck_assert_uint_eq(series_count(b, "node_disk_info"), i == 2 ? 2 : 1);
        batch_free(b);
    }
    diskio_destroy(st);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(test_filters)
{
    struct diskio_config cfg = diskio_test_config();
    char *devices[] = {"sd?", "/dev/nvme0n1", "dm-[0-9]"};
    cfg.devices.items = devices;
    cfg.devices.n = 3;
    cfg.devices_exclude = "^(sd|dm-)";
    struct diskio_state *st = diskio_test_state(&cfg, DISKIO_FIX "/odd");
    struct sonde_batch *b = batch_new("diskio");
    ck_assert_int_eq(diskio_read(st, b), 0);
    batch_finish(b);

    /* Line protocol: sda, nvme0n1, dm-0 (dm-1 is all zero). */
    ck_assert_uint_eq(b->npoints, 3);
    ck_assert_ptr_nonnull(point_find(b, "diskio", "name", "nvme0n1", NULL));
    ck_assert_ptr_null(point_find(b, "diskio", "name", "sda1", NULL));
    /* Prometheus: devices does not apply; the custom regex does. */
    ck_assert_uint_eq(series_count(b, "node_disk_info"), 3);
    ck_assert_ptr_nonnull(series_find(b, "node_disk_info", "device", "loop0", NULL));
    ck_assert_ptr_nonnull(series_find(b, "node_disk_info", "device", "nvme0n1p1", NULL));
    batch_free(b);
    diskio_destroy(st);

    /* An empty regex excludes nothing (regcomp("") would match everything). */
    cfg = diskio_test_config();
    cfg.devices_exclude = "";
    st = diskio_test_state(&cfg, DISKIO_FIX "/proc");
    b = batch_new("diskio");
    ck_assert_int_eq(diskio_read(st, b), 0);
    ck_assert_uint_eq(series_count(b, "node_disk_info"), 10);
    batch_free(b);
    diskio_destroy(st);
}
END_TEST

START_TEST(test_errors)
{
    struct diskio_config cfg = diskio_test_config();
    cfg.devices_exclude = "^(unclosed";
    struct sonde_context ctx = {.procfs = DISKIO_FIX "/proc",
                                .sysfs = "/nonexistent",
                                .rootfs = "/nonexistent",
                                .hostname = "h",
                                .instance = "diskio"};
    void *state = (void *)1;
    ck_assert_int_eq(diskio_init(&state, &cfg, &ctx), -EINVAL);

    cfg = diskio_test_config();
    ctx.procfs = DISKIO_FIX "/missing";
    ck_assert_int_eq(diskio_init(&state, &cfg, &ctx), 0);
    struct sonde_batch *b = batch_new("diskio");
    ck_assert_int_eq(diskio_read(state, b), -ENOENT);
    ck_assert_uint_eq(b->nseries, 0);
    batch_free(b);
    diskio_destroy(state);
}
END_TEST

START_TEST(test_descriptor)
{
    ck_assert_str_eq(sonde_plugin_diskio.name, "diskio");
    ck_assert_int_eq(sonde_plugin_diskio.kind, SONDE_INPUT);
    ck_assert_ptr_null(sonde_plugin_diskio.write);
    ck_assert_str_eq(sonde_plugin_diskio.options[0].default_value,
                     "^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme[0-9]+n[0-9]+p)[0-9]+$");
    ck_assert_ptr_null(sonde_plugin_diskio.options[2].name);
    struct diskio_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    config_options_defaults(sonde_plugin_diskio.options, &cfg); /* as for "diskio: {}" */
    ck_assert_str_eq(cfg.devices_exclude, DISKIO_DEFAULT_EXCLUDE);
    ck_assert_uint_eq(cfg.devices.n, 0);
    config_options_free(sonde_plugin_diskio.options, &cfg);
    /* The default regex behaves as node_exporter's. */
    regex_t re;
    ck_assert_int_eq(regcomp(&re, DISKIO_DEFAULT_EXCLUDE, REG_EXTENDED | REG_NOSUB), 0);
    const char *excluded[] = {"ram0", "loop12", "fd0",       "sda1",       "hdb2",
                              "vda3", "xvda1",  "nvme0n1p1", "nvme10n2p15"};
    const char *kept[] = {"sda",  "vda",   "xvdf", "nvme0n1",   "zram0",
                          "dm-0", "md127", "sr0",  "mmcblk0p1", "sdaa1"};
    for (size_t i = 0; i < sizeof(excluded) / sizeof(excluded[0]); i++)
        ck_assert_msg(regexec(&re, excluded[i], 0, NULL, 0) == 0, "%s", excluded[i]);
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
        ck_assert_msg(regexec(&re, kept[i], 0, NULL, 0) != 0, "%s", kept[i]);
    regfree(&re);
}
END_TEST

static Suite *diskio_suite(void)
{
    Suite *s = suite_create("diskio");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_captured_line);
    tcase_add_test(tc, test_parse_column_counts);
    tcase_add_test(tc, test_parse_malformed);
    tcase_add_test(tc, test_parse_udev);
    tcase_add_test(tc, test_read_captured_matches_node_exporter);
    tcase_add_test(tc, test_read_odd_prometheus);
    tcase_add_test(tc, test_read_odd_line_protocol);
    tcase_add_test(tc, test_derived_fields);
    tcase_add_test(tc, test_filters);
    tcase_add_test(tc, test_exclude_follows_lines);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_descriptor);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(diskio_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
