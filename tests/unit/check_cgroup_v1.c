/*
 * check_cgroup_v1.c - unit tests of the cgroup v1 reader: each parser on
 * captured and odd text, then cgroup_v1_read over the hybrid fixture (a
 * capture of a docker-style cgroup of this machine) and the pure-v1 one (an
 * older kernel: flat blkio files, no oom_kill), and a cgroup removed while
 * its files are open (on this machine's real v1 memory hierarchy).
 */
#include <sys/stat.h>

#include "cgroup.h"
#include "testutil.h"

#define HYBRID FIXTURES "/cgroup/hybrid/sys/fs/cgroup"
#define V1     FIXTURES "/cgroup/v1/sys/fs/cgroup"
#define IDA    "8081bd04d15a8db1cec572a18f6b76f3c122416df5a1fb5dec7533e62e3c0a29"

START_TEST(test_cpuacct_stat)
{
    uint64_t u = 0, s = 0;
    char *buf = fixture_read("cgroup/hybrid/sys/fs/cgroup/cpuacct/docker/" IDA "/cpuacct.stat");
    ck_assert(cgroup_v1_parse_cpuacct_stat(buf, &u, &s));
    ck_assert_uint_eq(u, 109);
    ck_assert_uint_eq(s, 8);
    free(buf);
    ck_assert(cgroup_v1_parse_cpuacct_stat("system 2\nuser 1", &u, &s)); /* order, no newline */
    ck_assert_uint_eq(u, 1);
    ck_assert_uint_eq(s, 2);
    ck_assert(!cgroup_v1_parse_cpuacct_stat("user 1\n", &u, &s));
    ck_assert(!cgroup_v1_parse_cpuacct_stat("user x\nsystem 2\n", &u, &s));
    ck_assert(!cgroup_v1_parse_cpuacct_stat("user -1\nsystem 2\n", &u, &s));
    ck_assert(!cgroup_v1_parse_cpuacct_stat("", &u, &s));
}
END_TEST

START_TEST(test_cpu_stat)
{
    struct cgroup_throttling t = {0};
    char *buf = fixture_read("cgroup/hybrid/sys/fs/cgroup/cpu/docker/" IDA "/cpu.stat");
    ck_assert(cgroup_v1_parse_cpu_stat(buf, &t)); /* 6.x: nr_bursts and burst_time too */
    ck_assert_uint_eq(t.periods, 25);
    ck_assert_uint_eq(t.throttled_periods, 22);
    ck_assert_uint_eq(t.throttled_ns, 1029809433);
    free(buf);
    ck_assert(!cgroup_v1_parse_cpu_stat("nr_periods 1\nnr_throttled 1\n", &t));
    ck_assert_uint_eq(t.periods, 25); /* untouched on failure */
    ck_assert(!cgroup_v1_parse_cpu_stat("", &t));
    ck_assert(!cgroup_v1_parse_cpu_stat("nr_periods 1\nnr_throttled\nthrottled_time 3\n", &t));
}
END_TEST

START_TEST(test_oom_control)
{
    uint64_t n = 99;
    char *buf =
        fixture_read("cgroup/hybrid/sys/fs/cgroup/memory/docker/" IDA "/memory.oom_control");
    ck_assert(cgroup_v1_parse_oom_control(buf, &n));
    ck_assert_uint_eq(n, 0);
    free(buf);
    ck_assert(cgroup_v1_parse_oom_control("oom_kill_disable 0\nunder_oom 1\noom_kill 12\n", &n));
    ck_assert_uint_eq(n, 12);
    ck_assert(!cgroup_v1_parse_oom_control("oom_kill_disable 0\nunder_oom 0\n", &n));
}
END_TEST

START_TEST(test_limits)
{
    uint64_t v;
    bool unlimited, quota;
    ck_assert(cgroup_v1_parse_limit("268435456\n", &v, &unlimited));
    ck_assert_uint_eq(v, 268435456);
    ck_assert(!unlimited);
    ck_assert(cgroup_v1_parse_limit("9223372036854771712\n", &v, &unlimited));
    ck_assert(unlimited);
    ck_assert(v == UINT64_MAX);
    ck_assert(cgroup_v1_parse_limit("max\n", &v, &unlimited)); /* pids.max */
    ck_assert(unlimited);
    ck_assert(!cgroup_v1_parse_limit("-1\n", &v, &unlimited));
    ck_assert(!cgroup_v1_parse_limit("", &v, &unlimited));
    ck_assert(!cgroup_v1_parse_limit("12 34\n", &v, &unlimited));
    ck_assert(cgroup_v1_parse_quota("50000\n", &quota));
    ck_assert(quota);
    ck_assert(cgroup_v1_parse_quota("-1\n", &quota));
    ck_assert(!quota);
    ck_assert(!cgroup_v1_parse_quota("-2\n", &quota));
}
END_TEST

START_TEST(test_blkio)
{
    struct cgroup_stats st = {0};
    char *buf = fixture_read("cgroup/hybrid/sys/fs/cgroup/blkio/docker/" IDA
                             "/blkio.throttle.io_service_bytes_recursive");
    ck_assert_uint_eq(cgroup_v1_parse_blkio(buf, false, &st), 0);
    free(buf);
    buf = fixture_read("cgroup/hybrid/sys/fs/cgroup/blkio/docker/" IDA
                       "/blkio.throttle.io_serviced_recursive");
    ck_assert_uint_eq(cgroup_v1_parse_blkio(buf, true, &st), 0);
    free(buf);
    ck_assert_uint_eq(st.nio, 1); /* the last "Total" line is not a device */
    ck_assert_uint_eq(st.io[0].major, 254);
    ck_assert_uint_eq(st.io[0].minor, 0);
    ck_assert_uint_eq(st.io[0].bytes[CG_IO_READ], 4194304);
    ck_assert_uint_eq(st.io[0].bytes[CG_IO_WRITE], 1052672);
    ck_assert_uint_eq(st.io[0].bytes[CG_IO_DISCARD], 8192);
    ck_assert_uint_eq(st.io[0].bytes[CG_IO_TOTAL], 5255168);
    ck_assert_uint_eq(st.io[0].ios[CG_IO_READ], 64);
    ck_assert_uint_eq(st.io[0].ios[CG_IO_WRITE], 17);
    ck_assert_uint_eq(st.io[0].has_bytes, 0x3f);
    ck_assert_uint_eq(st.io[0].has_ios, 0x3f);

    /* Odd lines: two devices, an unknown operation (skipped, not counted),
     * three malformed lines (counted). */
    cgroup_stats_reset(&st);
    const char *odd = "8:0 Read 10\n8:16 Write 20\n8:0 Frobnicate 5\n8:0 Read\nx:y Read 1\n"
                      "8:0 Read 1 2\n\nTotal 30\n";
    ck_assert_uint_eq(cgroup_v1_parse_blkio(odd, false, &st), 3);
    ck_assert_uint_eq(st.nio, 2);
    ck_assert_uint_eq(st.io[0].bytes[CG_IO_READ], 10);
    ck_assert_uint_eq(st.io[0].has_bytes, 1u << CG_IO_READ);
    ck_assert_uint_eq(st.io[1].minor, 16);
    ck_assert_uint_eq(st.io[1].bytes[CG_IO_WRITE], 20);
    cgroup_stats_free(&st);
}
END_TEST

START_TEST(test_memory_stat)
{
    struct cgroup_mem_stats m = {0};
    struct cgroup_reader r = {0};
    char *buf = fixture_read("cgroup/hybrid/sys/fs/cgroup/memory/docker/" IDA "/memory.stat");
    cgroup_parse_memory_stat(&r, buf, &m);
    free(buf);
    ck_assert_uint_eq(r.skipped, 0);
    ck_assert(m.has_stat);
    ck_assert_uint_eq(m.stat[CG_MS_CACHE], 4194304);
    ck_assert_uint_eq(m.stat[CG_MS_RSS], 40914944);
    ck_assert_uint_eq(m.stat[CG_MS_TOTAL_INACTIVE_FILE], 4194304);
    ck_assert_uint_eq(m.stat[CG_MS_HIERARCHICAL_MEMORY_LIMIT], 268435456);
    ck_assert_uint_eq(m.stat[CG_MS_PGFAULT], 19985);
    ck_assert(cgroup_memstat_has(&m, CG_MS_TOTAL_WRITEBACK));
    ck_assert(!cgroup_memstat_has(&m, CG_MS_ANON)); /* a v2 key */
    /* Every key of the table is found through the hash table, and only those. */
    for (int k = 0; k < CG_MS_N; k++) {
        const char *name = cgroup_memstat_name(k);
        ck_assert_int_eq(cgroup_memstat_find(&r, name, strlen(name)), k);
        ck_assert_int_eq(cgroup_memstat_find(&r, name, strlen(name) - 1), -1);
    }
    ck_assert_int_eq(cgroup_memstat_find(&r, "rss_hugeX", 9), -1);
    ck_assert_int_eq(cgroup_memstat_find(&r, "zzz", 3), -1);
    cgroup_parse_memory_stat(&r, "rss 12x\ncache 7\nunknown_key abc\nnovalue\n", &m);
    ck_assert_uint_eq(r.skipped, 2); /* rss, novalue; unknown keys are not looked at */
    ck_assert(!cgroup_memstat_has(&m, CG_MS_RSS));
    ck_assert_uint_eq(m.stat[CG_MS_CACHE], 7);
}
END_TEST

/* A layout over a fixture tree of v1 controllers. */
static void v1_layout(struct cgroup_layout *l, const char *base, const char *cpu,
                      const char *cpuacct)
{
    char p[512];
    memset(l, 0, sizeof(*l));
    snprintf(p, sizeof(p), "%s/%s", base, cpu);
    l->v1[CG_CPU] = strdup(p);
    snprintf(p, sizeof(p), "%s/%s", base, cpuacct);
    l->v1[CG_CPUACCT] = strdup(p);
    snprintf(p, sizeof(p), "%s/memory", base);
    l->v1[CG_MEMORY] = strdup(p);
    snprintf(p, sizeof(p), "%s/blkio", base);
    l->v1[CG_BLKIO] = strdup(p);
    snprintf(p, sizeof(p), "%s/pids", base);
    l->v1[CG_PIDS] = strdup(p);
    l->root = l->v1[CG_MEMORY];
}

static void v1_layout_free(struct cgroup_layout *l)
{
    for (int c = 0; c < CG_NCTRL; c++)
        free(l->v1[c]);
}

static void handle_init(struct cgroup_handle *h, const struct cgroup_layout *l, const char *rel)
{
    memset(h, 0, sizeof(*h));
    h->layout = l;
    h->rel = rel;
    for (int i = 0; i < CG_NFILES; i++)
        h->fd[i] = CG_FD_CLOSED;
}

START_TEST(test_read_hybrid)
{
    struct cgroup_layout l;
    v1_layout(&l, HYBRID, "cpu", "cpuacct");
    struct cgroup_handle h;
    handle_init(&h, &l, "/docker/" IDA);
    struct cgroup_reader r = {
        .ticks_per_second = 100, .max_fds = 100, .limits = true, .want_points = true};
    struct cgroup_stats st = {0};
    cgroup_v1_read(&r, &h, &st);
    ck_assert(!st.vanished);
    ck_assert_uint_eq(r.skipped, 0);
    ck_assert_uint_eq(r.errors, 0);
    ck_assert(st.cpu.has_usage);
    ck_assert_uint_eq(st.cpu.usage_ns, 1175373659);
    ck_assert_uint_eq(st.cpu.user_ns, 1090000000); /* 109 ticks at USER_HZ 100 */
    ck_assert_uint_eq(st.cpu.system_ns, 80000000);
    ck_assert(h.limits.cpu_quota);
    ck_assert(st.cpu.has_throttling);
    ck_assert_uint_eq(st.cpu.throttling.throttled_periods, 22);
    ck_assert(st.mem.has_usage);
    ck_assert_uint_eq(st.mem.usage, 45490176);
    ck_assert_uint_eq(st.mem.stat[CG_MS_TOTAL_RSS], 40914944);
    ck_assert(st.mem.has_oom);
    ck_assert_uint_eq(st.mem.oom_kills, 0);
    ck_assert_uint_eq(st.mem.max_usage, 49963008);
    ck_assert(st.mem.has_failcnt);
    ck_assert(h.limits.has_memory);
    ck_assert_uint_eq(h.limits.memory, 268435456);
    ck_assert(h.limits.has_pids);
    ck_assert_uint_eq(h.limits.pids, 100);
    ck_assert(st.has_pids);
    ck_assert_uint_eq(st.pids, 1);
    ck_assert_uint_eq(st.nio, 1);
    ck_assert_uint_eq(st.io[0].bytes[CG_IO_READ], 4194304);
    /* Kept open: cpuacct x2, cpu.stat (a quota is set), memory x5, blkio x2, pids. */
    ck_assert_uint_eq(r.open_fds, 11);

    /* Second read, without limits: same values from the open descriptors. */
    cgroup_stats_reset(&st);
    r.limits = false;
    cgroup_v1_read(&r, &h, &st);
    ck_assert_uint_eq(st.cpu.usage_ns, 1175373659);
    ck_assert_uint_eq(st.cpu.throttling.periods, 25);
    ck_assert_uint_eq(r.open_fds, 11);
    cgroup_handle_close(&r, &h);
    ck_assert_uint_eq(r.open_fds, 0);

    /* No descriptor budget: every file is opened and closed, same values. */
    r.max_fds = 0;
    r.limits = true;
    cgroup_stats_reset(&st);
    cgroup_v1_read(&r, &h, &st);
    ck_assert_uint_eq(st.mem.usage, 45490176);
    ck_assert_uint_eq(st.io[0].ios[CG_IO_WRITE], 17);
    ck_assert_uint_eq(r.open_fds, 0);
    for (int i = 0; i < CG_NFILES; i++)
        ck_assert_int_lt(h.fd[i], 0);

    cgroup_stats_free(&st);
    free(r.buf);
    v1_layout_free(&l);
}
END_TEST

/* No quota: cpu.stat is read with the limits only, and its last reading
 * is kept for the following reads. */
START_TEST(test_read_no_quota)
{
    struct cgroup_layout l;
    v1_layout(&l, HYBRID, "cpu", "cpuacct");
    struct cgroup_handle h;
    handle_init(&h, &l,
                "/system.slice/docker-b1d2c3e4f5a60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a"
                "4b5c6d7e8f90.scope");
    struct cgroup_reader r = {.ticks_per_second = 100, .max_fds = 100, .limits = true};
    struct cgroup_stats st = {0};
    cgroup_v1_read(&r, &h, &st);
    ck_assert(h.limits.has_cpu);
    ck_assert(!h.limits.cpu_quota);
    ck_assert(st.cpu.has_throttling);
    ck_assert_uint_eq(st.cpu.throttling.periods, 0);
    ck_assert_int_eq(h.fd[CG_V1_CPU_STAT], CG_FD_CLOSED); /* not kept */
    ck_assert(h.limits.has_memory);
    ck_assert(h.limits.memory == UINT64_MAX);
    ck_assert_uint_eq(h.limits.pids, 0); /* "max" */
    ck_assert_uint_eq(st.nio, 0);        /* "Total 0" only ... */
    ck_assert_int_ge(h.fd[CG_V1_BLKIO_BYTES], 0);
    ck_assert_int_eq(h.fd[CG_V1_BLKIO_OPS], CG_FD_CLOSED); /* ... so the ops file is not read */
    ck_assert_uint_eq(st.cpu.usage_ns, 123456789);
    ck_assert_uint_eq(st.cpu.user_ns, 70000000);
    ck_assert_int_eq(h.fd[CG_V1_MEM_MAX_USAGE], CG_FD_CLOSED); /* not for Prometheus only */
    cgroup_stats_reset(&st);
    r.limits = false;
    cgroup_v1_read(&r, &h, &st);
    ck_assert(st.cpu.has_throttling); /* kept */
    ck_assert_int_eq(h.fd[CG_V1_CPU_STAT], CG_FD_CLOSED);
    cgroup_handle_close(&r, &h);
    cgroup_stats_free(&st);
    free(r.buf);
    v1_layout_free(&l);
}
END_TEST

/* An older kernel: cpu,cpuacct co-mounted, no *_recursive blkio files, no
 * oom_kill line. Missing files are not errors. */
START_TEST(test_read_old_kernel)
{
    struct cgroup_layout l;
    v1_layout(&l, V1, "cpu,cpuacct", "cpu,cpuacct");
    struct cgroup_handle h;
    handle_init(&h, &l, "/docker/3333333333333333333333333333333333333333333333333333333333333333");
    struct cgroup_reader r = {
        .ticks_per_second = 100, .max_fds = 100, .limits = true, .want_points = true};
    struct cgroup_stats st = {0};
    cgroup_v1_read(&r, &h, &st);
    ck_assert_uint_eq(r.skipped, 0);
    ck_assert_uint_eq(r.errors, 0);
    ck_assert(!st.vanished);
    ck_assert(h.blkio_flat);
    ck_assert_uint_eq(st.nio, 1);
    ck_assert_uint_eq(st.io[0].bytes[CG_IO_READ], 40960);
    ck_assert_uint_eq(st.io[0].ios[CG_IO_READ], 10);
    ck_assert(!st.mem.has_oom);
    ck_assert(!st.mem.has_max_usage); /* the fixture has no such file */
    ck_assert_int_eq(h.fd[CG_V1_MEM_MAX_USAGE], CG_FD_ABSENT);
    ck_assert_uint_eq(st.cpu.usage_ns, 7000000000ull);
    ck_assert_uint_eq(st.pids, 5);
    /* A missing container: nothing found, nothing counted, not "vanished"
     * (only a descriptor that goes stale says that). */
    struct cgroup_handle gone;
    handle_init(&gone, &l, "/docker/nothere");
    cgroup_stats_reset(&st);
    cgroup_v1_read(&r, &gone, &st);
    ck_assert(!st.cpu.has_usage && !st.mem.has_usage && !st.has_pids);
    ck_assert(!st.vanished);
    ck_assert_uint_eq(r.errors, 0);
    cgroup_handle_close(&r, &h);
    cgroup_handle_close(&r, &gone);
    cgroup_stats_free(&st);
    free(r.buf);
    v1_layout_free(&l);
}
END_TEST

/* A real cgroup removed while its files are open: the descriptors answer
 * ENODEV and the reader reports the container vanished. Needs root and a
 * v1 memory hierarchy (this machine has both); otherwise there is nothing
 * to test against and the test says so. */
START_TEST(test_vanished_real)
{
    char dir[256];
    snprintf(dir, sizeof(dir), "/sys/fs/cgroup/memory/sonde-unit-%d", (int)getpid());
    if (mkdir(dir, 0755) != 0) {
        fprintf(stderr, "test_vanished_real: cannot create %s: %s (not tested)\n", dir,
                strerror(errno));
        return;
    }
    struct cgroup_layout l = {0};
    l.v1[CG_MEMORY] = "/sys/fs/cgroup/memory";
    l.root = l.v1[CG_MEMORY];
    struct cgroup_handle h;
    handle_init(&h, &l, strrchr(dir, '/'));
    struct cgroup_reader r = {.ticks_per_second = 100, .max_fds = 100};
    struct cgroup_stats st = {0};
    cgroup_v1_read(&r, &h, &st);
    ck_assert(st.mem.has_usage);
    ck_assert_int_ge(h.fd[CG_V1_MEM_USAGE], 0);
    ck_assert_int_eq(rmdir(dir), 0);
    cgroup_stats_reset(&st);
    cgroup_v1_read(&r, &h, &st);
    ck_assert(st.vanished);
    ck_assert(!st.mem.has_usage);
    ck_assert_uint_eq(r.errors, 0);
    cgroup_handle_close(&r, &h);
    cgroup_stats_free(&st);
    free(r.buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cgroup_v1");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_cpuacct_stat);
    tcase_add_test(tc, test_cpu_stat);
    tcase_add_test(tc, test_oom_control);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_blkio);
    tcase_add_test(tc, test_memory_stat);
    tcase_add_test(tc, test_read_hybrid);
    tcase_add_test(tc, test_read_no_quota);
    tcase_add_test(tc, test_read_old_kernel);
    tcase_add_test(tc, test_vanished_real);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
