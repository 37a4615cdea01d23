/*
 * check_cgroup_v2.c - unit tests of the cgroup v2 reader: the parsers of
 * cpu.stat, memory.max/pids.max, cpu.max, memory.events, io.stat and the
 * pressure files on kernel-format text and odd text, then cgroup_v2_read
 * over the v2 fixture (a docker systemd-driver scope with every file), the
 * odd fixture (empty and malformed files, missing controllers) and the
 * unified tree of the hybrid capture (pressure only).
 */
#include "cgroup.h"
#include "testutil.h"

#define V2  FIXTURES "/cgroup/v2/sys/fs/cgroup"
#define IDC "cccccccc0123456789abcdef0123456789abcdef0123456789abcdef01234567"

START_TEST(test_cpu_stat)
{
    struct cgroup_cpu_stats c;
    char *buf = fixture_read("cgroup/v2/sys/fs/cgroup/system.slice/docker-" IDC ".scope/cpu.stat");
    ck_assert(cgroup_v2_parse_cpu_stat(buf, &c));
    free(buf);
    ck_assert(c.has_usage && c.has_user_system && c.has_throttling);
    ck_assert_uint_eq(c.usage_ns, 12345678000ull);
    ck_assert_uint_eq(c.user_ns, 10000000000ull);
    ck_assert_uint_eq(c.system_ns, 2345678000ull);
    ck_assert_uint_eq(c.throttling.periods, 1000);
    ck_assert_uint_eq(c.throttling.throttled_periods, 250);
    ck_assert_uint_eq(c.throttling.throttled_ns, 7654321000ull);
    /* Without the cpu controller: the core keys only. */
    ck_assert(cgroup_v2_parse_cpu_stat("usage_usec 5\nuser_usec 3\nsystem_usec 2\n", &c));
    ck_assert(c.has_usage && !c.has_throttling);
    ck_assert_uint_eq(c.usage_ns, 5000);
    ck_assert(!cgroup_v2_parse_cpu_stat("", &c));
    ck_assert(!cgroup_v2_parse_cpu_stat("usage_usec x\n", &c));
    ck_assert(!cgroup_v2_parse_cpu_stat("other 1\n", &c));
}
END_TEST

START_TEST(test_limits)
{
    uint64_t v;
    bool unlimited, quota;
    ck_assert(cgroup_v2_parse_max("536870912\n", &v, &unlimited));
    ck_assert_uint_eq(v, 536870912);
    ck_assert(!unlimited);
    ck_assert(cgroup_v2_parse_max("max\n", &v, &unlimited));
    ck_assert(unlimited);
    ck_assert(!cgroup_v2_parse_max("-1\n", &v, &unlimited));
    ck_assert(!cgroup_v2_parse_max("maximum\n", &v, &unlimited));
    ck_assert(cgroup_v2_parse_cpu_max("50000 100000\n", &quota));
    ck_assert(quota);
    ck_assert(cgroup_v2_parse_cpu_max("max 100000\n", &quota));
    ck_assert(!quota);
    ck_assert(!cgroup_v2_parse_cpu_max("max\n", &quota));
    ck_assert(!cgroup_v2_parse_cpu_max("50000\n", &quota));
}
END_TEST

START_TEST(test_memory_events)
{
    uint64_t n;
    ck_assert(cgroup_v2_parse_memory_events(
        "low 0\nhigh 0\nmax 7\noom 3\noom_kill 2\noom_group_kill 0\n", &n));
    ck_assert_uint_eq(n, 2);
    ck_assert(!cgroup_v2_parse_memory_events("low 0\nhigh 0\nmax 0\noom 0\n", &n));
    ck_assert(!cgroup_v2_parse_memory_events("oom_kill\n", &n));
}
END_TEST

START_TEST(test_io_stat)
{
    struct cgroup_stats st = {0};
    char *buf = fixture_read("cgroup/v2/sys/fs/cgroup/system.slice/docker-" IDC ".scope/io.stat");
    ck_assert_uint_eq(cgroup_v2_parse_io_stat(buf, &st), 0);
    free(buf);
    ck_assert_uint_eq(st.nio, 2);
    ck_assert_uint_eq(st.io[0].major, 8);
    ck_assert_uint_eq(st.io[0].bytes[CG_IO_READ], 1048576);
    ck_assert_uint_eq(st.io[0].bytes[CG_IO_WRITE], 2097152);
    ck_assert_uint_eq(st.io[0].ios[CG_IO_READ], 256);
    ck_assert_uint_eq(st.io[0].ios[CG_IO_WRITE], 512);
    ck_assert_uint_eq(st.io[0].has_bytes, (1u << CG_IO_READ) | (1u << CG_IO_WRITE));
    /* io.cost keys (cost.vrate=100.00 ...) are passed over. */
    ck_assert_uint_eq(st.io[1].major, 253);
    ck_assert_uint_eq(st.io[1].bytes[CG_IO_READ], 4096);
    ck_assert_uint_eq(st.io[1].ios[CG_IO_READ], 1);

    cgroup_stats_reset(&st);
    const char *odd = "8:0 rbytes=12x wbytes=1\ngarbage\n259:0 rbytes=1 wbytes=2 rios=3 wios=4\n"
                      "8:16\n8:32 dbytes=5\n8:48 rbytes=\n";
    /* Counted: "12x", "garbage", "rbytes=" without digits. "8:16" alone and a
     * line with only keys we do not use are fine but keep no device. */
    ck_assert_uint_eq(cgroup_v2_parse_io_stat(odd, &st), 3);
    ck_assert_uint_eq(st.nio, 1);
    ck_assert_uint_eq(st.io[0].major, 259);
    ck_assert_uint_eq(st.io[0].ios[CG_IO_WRITE], 4);
    cgroup_stats_free(&st);
}
END_TEST

START_TEST(test_pressure)
{
    struct cgroup_psi p;
    char *buf = fixture_read("cgroup/hybrid/sys/fs/cgroup/unified/docker/"
                             "8081bd04d15a8db1cec572a18f6b76f3c122416df5a1fb5dec7533e62e3c0a29/"
                             "cpu.pressure");
    ck_assert(cgroup_v2_parse_pressure(buf, &p));
    free(buf);
    ck_assert(p.has_some && p.has_full);
    ck_assert_uint_eq(p.some_us, 625757);
    ck_assert_uint_eq(p.full_us, 620591);
    ck_assert(cgroup_v2_parse_pressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=42\n", &p));
    ck_assert(p.has_some && !p.has_full); /* cpu before 5.13 */
    ck_assert_uint_eq(p.some_us, 42);
    ck_assert(!cgroup_v2_parse_pressure("nonsense\n", &p));
    ck_assert(!cgroup_v2_parse_pressure("", &p));
    ck_assert(!cgroup_v2_parse_pressure("some avg10=0.00 total=x\n", &p));
    ck_assert(!cgroup_v2_parse_pressure("full avg10=0.00 total=1\n", &p)); /* no some */
}
END_TEST

static void handle_init(struct cgroup_handle *h, const struct cgroup_layout *l, const char *rel)
{
    memset(h, 0, sizeof(*h));
    h->layout = l;
    h->rel = rel;
    for (int i = 0; i < CG_NFILES; i++)
        h->fd[i] = CG_FD_CLOSED;
}

static void v2_layout(struct cgroup_layout *l, const char *v2)
{
    memset(l, 0, sizeof(*l));
    l->v2 = (char *)v2;
    for (int c = 0; c < CG_NCTRL; c++)
        l->v2_ctrl[c] = true;
    l->root = l->v2;
}

START_TEST(test_read_v2)
{
    struct cgroup_layout l;
    v2_layout(&l, V2);
    struct cgroup_handle h;
    handle_init(&h, &l, "/system.slice/docker-" IDC ".scope");
    struct cgroup_reader r = {
        .max_fds = 100, .limits = true, .want_points = true, .pressure = true};
    struct cgroup_stats st = {0};
    cgroup_v2_read(&r, &h, &st);
    ck_assert_uint_eq(r.skipped, 0);
    ck_assert_uint_eq(r.errors, 0);
    ck_assert(!st.vanished);
    ck_assert_uint_eq(st.cpu.usage_ns, 12345678000ull);
    ck_assert(st.cpu.has_throttling);
    ck_assert(h.limits.cpu_quota);
    ck_assert(h.limits.has_memory);
    ck_assert_uint_eq(h.limits.memory, 536870912);
    ck_assert_uint_eq(h.limits.pids, 1024);
    ck_assert(st.mem.v2);
    ck_assert_uint_eq(st.mem.usage, 163577856);
    ck_assert_uint_eq(st.mem.stat[CG_MS_ANON], 104857600);
    ck_assert_uint_eq(st.mem.stat[CG_MS_FILE], 52428800);
    ck_assert_uint_eq(st.mem.stat[CG_MS_INACTIVE_FILE], 31457280);
    ck_assert(!cgroup_memstat_has(&st.mem, CG_MS_RSS)); /* a v1 key */
    ck_assert_uint_eq(st.mem.oom_kills, 2);
    ck_assert_uint_eq(st.mem.max_usage, 209715200);
    ck_assert_uint_eq(st.nio, 2);
    ck_assert_uint_eq(st.pids, 3);
    ck_assert_uint_eq(st.psi[CG_PSI_CPU].some_us, 2500000);
    ck_assert_uint_eq(st.psi[CG_PSI_MEMORY].full_us, 300000);
    ck_assert_uint_eq(st.psi[CG_PSI_IO].some_us, 60000);
    /* cpu.stat, memory x4, io.stat, pids.current, pressure x3 */
    ck_assert_uint_eq(r.open_fds, 10);
    cgroup_handle_close(&r, &h);

    /* Pressure off, limits not due: the limits stay as they were. */
    r.pressure = false;
    r.limits = false;
    cgroup_stats_reset(&st);
    cgroup_v2_read(&r, &h, &st);
    ck_assert(!st.psi[CG_PSI_CPU].has_some);
    ck_assert_uint_eq(h.limits.memory, 536870912);
    ck_assert_uint_eq(r.open_fds, 7);
    cgroup_handle_close(&r, &h);
    cgroup_stats_free(&st);
    free(r.buf);
}
END_TEST

/* Empty files, malformed numbers, a container with no controller file at
 * all: each bad value is counted once, nothing else is invented. */
START_TEST(test_read_odd)
{
    struct cgroup_layout l;
    v2_layout(&l, FIXTURES "/cgroup/odd/sys/fs/cgroup");
    struct cgroup_handle h;
    handle_init(
        &h, &l,
        "/system.slice/docker-0000000000000000000000000000000000000000000000000000000000000001"
        ".scope");
    struct cgroup_reader r = {
        .max_fds = 100, .limits = true, .want_points = true, .pressure = true};
    struct cgroup_stats st = {0};
    cgroup_v2_read(&r, &h, &st);
    /* cpu.stat empty, memory.current "abc", io.stat: two bad lines,
     * memory.pressure "nonsense". memory.events without oom_kill is an old
     * kernel, not bad data. */
    ck_assert_uint_eq(r.skipped, 5);
    ck_assert_uint_eq(r.errors, 0);
    ck_assert(!st.cpu.has_usage);
    ck_assert(!st.mem.has_usage);
    ck_assert(st.mem.has_stat);
    ck_assert_uint_eq(st.mem.stat_present, 0);
    ck_assert(!st.mem.has_oom);
    ck_assert(h.limits.has_memory);
    ck_assert(h.limits.memory == UINT64_MAX);
    ck_assert(h.limits.has_pids);
    ck_assert_uint_eq(h.limits.pids, 0);
    ck_assert(!h.limits.cpu_quota);
    ck_assert_uint_eq(st.nio, 1);
    ck_assert_uint_eq(st.io[0].major, 259);
    ck_assert(st.psi[CG_PSI_CPU].has_some && !st.psi[CG_PSI_CPU].has_full);
    ck_assert(!st.psi[CG_PSI_MEMORY].has_some);
    ck_assert(!st.psi[CG_PSI_IO].has_some); /* absent */
    ck_assert_int_eq(h.fd[CG_V2_PSI_IO], CG_FD_ABSENT);
    cgroup_handle_close(&r, &h);

    struct cgroup_handle bare;
    handle_init(
        &bare, &l,
        "/system.slice/docker-0000000000000000000000000000000000000000000000000000000000000003"
        ".scope");
    r.skipped = 0;
    cgroup_stats_reset(&st);
    cgroup_v2_read(&r, &bare, &st);
    /* memory.current 2^64, memory.max "-1", pids.current empty. */
    ck_assert_uint_eq(r.skipped, 3);
    ck_assert(!st.mem.has_usage && !bare.limits.has_memory && !st.has_pids);
    ck_assert_uint_eq(r.errors, 0);
    cgroup_handle_close(&r, &bare);
    cgroup_stats_free(&st);
    free(r.buf);
}
END_TEST

/* A hybrid host: controllers on v1, so v2 only gives the pressure files,
 * and a container missing from the unified tree is not "vanished". */
START_TEST(test_read_hybrid_unified)
{
    struct cgroup_layout l = {0};
    l.v2 = FIXTURES "/cgroup/hybrid/sys/fs/cgroup/unified";
    for (int c = 0; c < CG_NCTRL; c++)
        l.v1[c] = FIXTURES "/cgroup/hybrid/sys/fs/cgroup/memory"; /* any non-NULL */
    l.root = l.v1[CG_MEMORY];
    struct cgroup_handle h;
    handle_init(&h, &l, "/docker/8081bd04d15a8db1cec572a18f6b76f3c122416df5a1fb5dec7533e62e3c0a29");
    struct cgroup_reader r = {.max_fds = 100, .limits = true, .pressure = true};
    struct cgroup_stats st = {0};
    cgroup_v2_read(&r, &h, &st);
    ck_assert(!st.cpu.has_usage); /* from v1 cpuacct, not from here */
    ck_assert_uint_eq(st.psi[CG_PSI_CPU].some_us, 625757);
    ck_assert_uint_eq(st.psi[CG_PSI_IO].full_us, 1899);
    ck_assert_uint_eq(r.open_fds, 3);
    cgroup_handle_close(&r, &h);

    struct cgroup_handle missing;
    handle_init(&missing, &l,
                "/system.slice/docker-b1d2c3e4f5a60718293a4b5c6d7e8f90a1b2c3d4e5f6"
                "0718293a4b5c6d7e8f90.scope");
    cgroup_stats_reset(&st);
    cgroup_v2_read(&r, &missing, &st);
    ck_assert(!st.vanished);
    ck_assert(!st.psi[CG_PSI_CPU].has_some);
    ck_assert_uint_eq(r.errors, 0);
    ck_assert_uint_eq(r.skipped, 0);
    cgroup_handle_close(&r, &missing);
    cgroup_stats_free(&st);
    free(r.buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cgroup_v2");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_cpu_stat);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_memory_events);
    tcase_add_test(tc, test_io_stat);
    tcase_add_test(tc, test_pressure);
    tcase_add_test(tc, test_read_v2);
    tcase_add_test(tc, test_read_odd);
    tcase_add_test(tc, test_read_hybrid_unified);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
