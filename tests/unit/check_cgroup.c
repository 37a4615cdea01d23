/*
 * check_cgroup.c - unit tests of the cgroup input as a whole: what a
 * directory name is (every runtime's layout), the layout found in
 * mountinfo, Telegraf's image split, then full reads over the fixture
 * trees (hybrid capture of this machine, v2, pure v1 of an older kernel,
 * odd files) checking cAdvisor's series and Telegraf's points with exact
 * values, names from a Docker-API server on a unix socket, containers that
 * disappear and come back, and usage_percent across two reads.
 */
#include "../../plugins/cgroup.c"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "testutil.h"

#define IDA            "8081bd04d15a8db1cec572a18f6b76f3c122416df5a1fb5dec7533e62e3c0a29"
#define IDB            "b1d2c3e4f5a60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
#define IDC            "cccccccc0123456789abcdef0123456789abcdef0123456789abcdef01234567"
#define IDD            "dddddddd0123456789abcdef0123456789abcdef0123456789abcdef01234567"
#define IDE            "eeeeeeee0123456789abcdef0123456789abcdef0123456789abcdef01234567"
#define IDF            "ffffffff0123456789abcdef0123456789abcdef0123456789abcdef01234567"
#define IDG            "aaaaaaaa0123456789abcdef0123456789abcdef0123456789abcdef01234567"
#define IDA_SHORT_NAME "8081bd04d15a"
#define RELA           "/docker/" IDA
#define RELB           "/system.slice/docker-" IDB ".scope"
#define RELC           "/system.slice/docker-" IDC ".scope"

/* ---- helpers ---- */

static struct cgroup_config test_config(void)
{
    struct cgroup_config cfg = {.docker_socket = "",
                                .podman_socket = "",
                                .name_refresh = 30000000000LL,
                                .pressure = true,
                                .processes = true};
    return cfg;
}

static void *open_tree(const char *root, const struct cgroup_config *cfg)
{
    char procfs[512], sysfs[512];
    snprintf(procfs, sizeof(procfs), "%s/proc", root);
    snprintf(sysfs, sizeof(sysfs), "%s/sys", root);
    struct sonde_context ctx = {
        .procfs = procfs, .sysfs = sysfs, .rootfs = "/", .hostname = "t", .instance = "cgroup"};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_cgroup.init(&state, cfg, &ctx), 0);
    return state;
}

static struct sonde_batch *read_once(void *state)
{
    struct sonde_batch *b = batch_new("cgroup");
    ck_assert_int_eq(sonde_plugin_cgroup.read(state, b), 0);
    batch_finish(b);
    return b;
}

/* Value of series `name` of container `id` (with one extra label pair or
 * NULL); fails when absent. */
static double value(const struct sonde_batch *b, const char *name, const char *id, const char *k,
                    const char *v)
{
    const struct sonde_series *s =
        k ? series_find(b, name, "id", id, k, v, NULL) : series_find(b, name, "id", id, NULL);
    ck_assert_msg(s != NULL, "%s{id=%s,%s=%s} missing", name, id, k ? k : "", v ? v : "");
    return s->value;
}

static bool has(const struct sonde_batch *b, const char *name, const char *id)
{
    return series_find(b, name, "id", id, NULL) != NULL;
}

static const char *label(const struct sonde_batch *b, const char *name, const char *id,
                         const char *key)
{
    const struct sonde_series *s = series_find(b, name, "id", id, NULL);
    ck_assert_msg(s != NULL, "%s{id=%s} missing", name, id);
    return label_get(s->labels, s->nlabels, key);
}

static uint64_t field_u(const struct sonde_point *p, const char *key)
{
    const struct sonde_field *f = field_get(p, key);
    ck_assert_msg(f != NULL, "field %s missing", key);
    ck_assert_int_eq(f->type, SONDE_FIELD_UINT);
    return f->v.u;
}

/* ---- a Docker Engine API on a unix socket, serving the fixture ---- */

struct api {
    pid_t pid;
    char path[108];
};

static void api_start(struct api *a, const char *tag)
{
    snprintf(a->path, sizeof(a->path), "/tmp/sonde-cg-%d-%s.sock", (int)getpid(), tag);
    unlink(a->path);
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    memcpy(addr.sun_path, a->path, strlen(a->path) + 1);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    ck_assert_int_eq(listen(lfd, 8), 0);
    char *body = fixture_read("cgroup/docker_containers.json");
    a->pid = fork();
    if (a->pid == 0) {
        for (;;) {
            int c = accept(lfd, NULL, NULL);
            if (c < 0)
                _exit(1);
            char req[4096];
            ssize_t n = read(c, req, sizeof(req)); /* one small GET */
            (void)n;
            char head[200];
            int hl = snprintf(head, sizeof(head),
                              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                              "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                              strlen(body));
            (void)!write(c, head, (size_t)hl);
            (void)!write(c, body, strlen(body));
            close(c);
        }
    }
    free(body);
    close(lfd);
}

static void api_stop(struct api *a)
{
    kill(a->pid, SIGKILL);
    waitpid(a->pid, NULL, 0);
    unlink(a->path);
}

/* ---- classification ---- */

START_TEST(test_classify)
{
    struct cgroup_ident id;
    enum cgroup_walk_ctx next;
    ck_assert_uint_eq(cgroup_classify(CG_CTX_TOP, "docker-" IDA ".scope", false, &id, &next),
                      CG_FOUND_CONTAINER);
    ck_assert_int_eq(id.kind, CG_KIND_DOCKER);
    ck_assert_str_eq(id.id, IDA);
    ck_assert_uint_eq(cgroup_classify(CG_CTX_TOP, "libpod-" IDD ".scope", false, &id, &next),
                      CG_FOUND_CONTAINER);
    ck_assert_int_eq(id.kind, CG_KIND_PODMAN);
    ck_assert_uint_eq(cgroup_classify(CG_CTX_TOP, "libpod-conmon-" IDD ".scope", false, &id, &next),
                      0);
    ck_assert_uint_eq(
        cgroup_classify(CG_CTX_TOP, "cri-containerd-" IDE ".scope", false, &id, &next),
        CG_FOUND_CONTAINER);
    ck_assert_int_eq(id.kind, CG_KIND_CONTAINERD);
    ck_assert_uint_eq(cgroup_classify(CG_CTX_TOP, "crio-" IDF ".scope", false, &id, &next),
                      CG_FOUND_CONTAINER);
    ck_assert_int_eq(id.kind, CG_KIND_CRIO);
    ck_assert_uint_eq(cgroup_classify(CG_CTX_TOP, "crio-conmon-" IDF ".scope", false, &id, &next),
                      0);
    /* Upper case, short or long ids are not container ids. */
    ck_assert_uint_eq(cgroup_classify(CG_CTX_TOP, "docker-ABCDEF.scope", false, &id, &next), 0);
    ck_assert_uint_eq(cgroup_classify(CG_CTX_DOCKER, IDA "0", false, &id, &next), 0);
    ck_assert_uint_eq(cgroup_classify(CG_CTX_DOCKER, IDA, false, &id, &next), CG_FOUND_CONTAINER);
    ck_assert_int_eq(id.kind, CG_KIND_DOCKER);
    ck_assert_uint_eq(cgroup_classify(CG_CTX_TOP, IDA, false, &id, &next),
                      0); /* not under docker/ */
    ck_assert_uint_eq(cgroup_classify(CG_CTX_LIBPOD, "libpod-" IDD, false, &id, &next),
                      CG_FOUND_CONTAINER);
    ck_assert_int_eq(id.kind, CG_KIND_PODMAN);
    /* kubepods, cgroupfs driver */
    ck_assert_uint_eq(cgroup_classify(CG_CTX_TOP, "kubepods", false, &id, &next), CG_FOUND_DESCEND);
    ck_assert_int_eq(next, CG_CTX_KUBEPODS);
    ck_assert_uint_eq(cgroup_classify(CG_CTX_KUBEPODS, "burstable", false, &id, &next),
                      CG_FOUND_DESCEND);
    ck_assert_int_eq(next, CG_CTX_KUBEPODS);
    ck_assert_uint_eq(cgroup_classify(CG_CTX_KUBEPODS, "pod1b2c", false, &id, &next),
                      CG_FOUND_DESCEND);
    ck_assert_int_eq(next, CG_CTX_POD);
    ck_assert_uint_eq(cgroup_classify(CG_CTX_POD, IDE, false, &id, &next), CG_FOUND_CONTAINER);
    ck_assert_int_eq(id.kind, CG_KIND_KUBE);
    /* LXC */
    ck_assert_uint_eq(cgroup_classify(CG_CTX_TOP, "lxc.payload.web", false, &id, &next),
                      CG_FOUND_CONTAINER);
    ck_assert_int_eq(id.kind, CG_KIND_LXC);
    ck_assert_uint_eq(id.name_len, 3);
    ck_assert_int_eq(memcmp(id.name, "web", 3), 0);
    ck_assert_uint_eq(cgroup_classify(CG_CTX_TOP, "lxc.monitor.web", false, &id, &next), 0);
    ck_assert_uint_eq(cgroup_classify(CG_CTX_LXC, "web1", false, &id, &next), CG_FOUND_CONTAINER);
    ck_assert_uint_eq(cgroup_classify(CG_CTX_LXC, "lxc.monitor.web1", false, &id, &next), 0);
    /* systemd */
    ck_assert_uint_eq(cgroup_classify(CG_CTX_TOP, "system.slice", false, &id, &next),
                      CG_FOUND_DESCEND);
    ck_assert_int_eq(next, CG_CTX_TOP);
    ck_assert_uint_eq(cgroup_classify(CG_CTX_TOP, "nginx.service", false, &id, &next), 0);
    ck_assert_uint_eq(cgroup_classify(CG_CTX_TOP, "nginx.service", true, &id, &next),
                      CG_FOUND_CONTAINER);
    ck_assert_int_eq(id.kind, CG_KIND_SERVICE);
    ck_assert_uint_eq(id.name_len, 13);
    ck_assert_uint_eq(cgroup_classify(CG_CTX_TOP, "user@1000.service", false, &id, &next),
                      CG_FOUND_DESCEND);
    ck_assert_uint_eq(cgroup_classify(CG_CTX_TOP, "user@1000.service", true, &id, &next),
                      CG_FOUND_DESCEND | CG_FOUND_CONTAINER);
    ck_assert_uint_eq(cgroup_classify(CG_CTX_TOP, ".service", true, &id, &next), 0);
    ck_assert_uint_eq(cgroup_classify(CG_CTX_TOP, "session-1.scope", true, &id, &next), 0);
    ck_assert_uint_eq(cgroup_classify(CG_CTX_TOP, "init.scope", true, &id, &next), 0);
    ck_assert_uint_eq(cgroup_classify(CG_CTX_TOP, "docker", false, &id, &next), CG_FOUND_DESCEND);
    ck_assert_int_eq(next, CG_CTX_DOCKER);
    ck_assert_uint_eq(cgroup_classify(CG_CTX_DOCKER, "notacontainer", false, &id, &next), 0);
}
END_TEST

/* ---- layout ---- */

START_TEST(test_layout_hybrid)
{
    struct cgroup_config cfg = test_config();
    struct cgroup_state *st = open_tree(FIXTURES "/cgroup/hybrid", &cfg);
    ck_assert_str_eq(st->layout.v1[CG_CPU], FIXTURES "/cgroup/hybrid/sys/fs/cgroup/cpu");
    ck_assert_str_eq(st->layout.v1[CG_CPUACCT], FIXTURES "/cgroup/hybrid/sys/fs/cgroup/cpuacct");
    ck_assert_str_eq(st->layout.v1[CG_PIDS], FIXTURES "/cgroup/hybrid/sys/fs/cgroup/pids");
    ck_assert_str_eq(st->layout.v2, FIXTURES "/cgroup/hybrid/sys/fs/cgroup/unified");
    ck_assert(!st->layout.v2_ctrl[CG_MEMORY]); /* the unified tree has only hugetlb here */
    ck_assert_ptr_eq(st->layout.root, st->layout.v1[CG_MEMORY]);
    sonde_plugin_cgroup.destroy(st);
}
END_TEST

START_TEST(test_layout_v1_v2)
{
    struct cgroup_config cfg = test_config();
    struct cgroup_state *st = open_tree(FIXTURES "/cgroup/v1", &cfg);
    /* cpu and cpuacct co-mounted; the second pids mount (escaped name) loses. */
    ck_assert_str_eq(st->layout.v1[CG_CPU], FIXTURES "/cgroup/v1/sys/fs/cgroup/cpu,cpuacct");
    ck_assert_str_eq(st->layout.v1[CG_CPUACCT], FIXTURES "/cgroup/v1/sys/fs/cgroup/cpu,cpuacct");
    ck_assert_str_eq(st->layout.v1[CG_PIDS], FIXTURES "/cgroup/v1/sys/fs/cgroup/pids");
    ck_assert_ptr_null(st->layout.v2);
    ck_assert_ptr_eq(st->layout.root, st->layout.v1[CG_MEMORY]);
    sonde_plugin_cgroup.destroy(st);

    st = open_tree(FIXTURES "/cgroup/v2", &cfg);
    ck_assert_str_eq(st->layout.v2, FIXTURES "/cgroup/v2/sys/fs/cgroup");
    for (int c = 0; c < CG_NCTRL; c++) {
        ck_assert_ptr_null(st->layout.v1[c]);
        ck_assert(st->layout.v2_ctrl[c]);
    }
    ck_assert_ptr_eq(st->layout.root, st->layout.v2);
    sonde_plugin_cgroup.destroy(st);

    /* No cgroup file system at all: the source is absent on this host. */
    st = open_tree(FIXTURES "/cgroup/nothing", &cfg);
    struct sonde_batch *b = batch_new("cgroup");
    ck_assert_int_eq(sonde_plugin_cgroup.read(st, b), -ENODATA);
    ck_assert_int_eq(sonde_plugin_cgroup.read(st, b), -ENODATA); /* not looked for again yet */
    ck_assert_uint_eq(b->nseries, 0);
    batch_free(b);
    sonde_plugin_cgroup.destroy(st);
}
END_TEST

START_TEST(test_layout_line)
{
    struct cgroup_state st = {.sysfs = "/host/sys", .rootfs = "/host"};
    char l1[] = "40 1 0:29 / /mnt/my\\040cg rw,relatime shared:16 master:2 - cgroup cg "
                "rw,memory\n";
    cgroup_layout_line(&st, l1);
    ck_assert_str_eq(st.layout.v1[CG_MEMORY], "/host/mnt/my cg");
    char l2[] = "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
    cgroup_layout_line(&st, l2);
    ck_assert_str_eq(st.layout.v2, "/host/sys/fs/cgroup/unified");
    char l3[] = "42 31 0:39 / /sys/fs/cgroup/x rw - cgroup cgroup rw,cpuacctx,name=cpu\n";
    cgroup_layout_line(&st, l3); /* no controller of ours: "cpuacctx", "name=cpu" */
    ck_assert_ptr_null(st.layout.v1[CG_CPU]);
    ck_assert_ptr_null(st.layout.v1[CG_CPUACCT]);
    char l4[] = "garbage without separator";
    cgroup_layout_line(&st, l4);
    char l5[] = "1 2 - cgroup2";
    cgroup_layout_line(&st, l5);
    cgroup_layout_free(&st.layout);
}
END_TEST

START_TEST(test_image)
{
    struct cgroup_container c = {0};
    static const struct {
        const char *image, *name, *version;
    } cases[] = {
        {"nginx:1.25", "nginx", "1.25"},
        {"nginx", "nginx", "unknown"},
        {"library/nginx:latest", "library/nginx", "latest"},
        {"registry.example.com:5000/team/postgres:15", "registry.example.com:5000/team/postgres",
         "15"},
        {"registry.example.com:5000/team/postgres", "registry.example.com:5000/team/postgres",
         "unknown"},
        {"localhost/app", "localhost/app", "unknown"},
        {"sha256:2222", "sha256", "2222"},
        {"", "", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cgroup_set_image(&c, cases[i].image);
        ck_assert_str_eq(c.image, cases[i].image);
        ck_assert_str_eq(c.lp_image, cases[i].name);
        ck_assert_str_eq(c.lp_version, cases[i].version);
    }
    free(c.image);
    free(c.lp_image);
    free(c.lp_version);
}
END_TEST

/* ---- full reads ---- */

START_TEST(test_read_hybrid)
{
    struct cgroup_config cfg = test_config();
    void *st = open_tree(FIXTURES "/cgroup/hybrid", &cfg);
    struct sonde_batch *b = read_once(st);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(((struct cgroup_state *)st)->n, 3); /* A, B, the LXC one */
    ck_assert_uint_eq(series_count(b, "container_memory_usage_bytes"), 3);

    /* A: a cgroupfs-driver docker container with a quota, limits, I/O, network. */
    ck_assert_double_eq_tol(value(b, "container_cpu_usage_seconds_total", RELA, "cpu", "total"),
                            1.175373659, 1e-12);
    ck_assert_double_eq_tol(value(b, "container_cpu_user_seconds_total", RELA, NULL, NULL), 1.09,
                            1e-12);
    ck_assert_double_eq_tol(value(b, "container_cpu_system_seconds_total", RELA, NULL, NULL), 0.08,
                            1e-12);
    ck_assert_double_eq(value(b, "container_cpu_cfs_periods_total", RELA, NULL, NULL), 25);
    ck_assert_double_eq(value(b, "container_cpu_cfs_throttled_periods_total", RELA, NULL, NULL),
                        22);
    ck_assert_double_eq_tol(value(b, "container_cpu_cfs_throttled_seconds_total", RELA, NULL, NULL),
                            1.029809433, 1e-12);
    ck_assert_double_eq(value(b, "container_memory_usage_bytes", RELA, NULL, NULL), 45490176);
    ck_assert_double_eq(value(b, "container_memory_working_set_bytes", RELA, NULL, NULL),
                        45490176 - 4194304);
    ck_assert_double_eq(value(b, "container_memory_rss", RELA, NULL, NULL), 40914944);
    ck_assert_double_eq(value(b, "container_memory_cache", RELA, NULL, NULL), 4194304);
    ck_assert_double_eq(value(b, "container_spec_memory_limit_bytes", RELA, NULL, NULL), 268435456);
    ck_assert_double_eq(value(b, "container_oom_events_total", RELA, NULL, NULL), 0);
    ck_assert_double_eq(value(b, "container_fs_reads_bytes_total", RELA, "device", "/dev/vda"),
                        4194304);
    ck_assert_double_eq(value(b, "container_fs_writes_bytes_total", RELA, "device", "/dev/vda"),
                        1052672);
    ck_assert_double_eq(value(b, "container_fs_reads_total", RELA, "device", "/dev/vda"), 64);
    ck_assert_double_eq(value(b, "container_fs_writes_total", RELA, "device", "/dev/vda"), 17);
    ck_assert_double_eq(
        value(b, "container_network_transmit_packets_total", RELA, "interface", "eth0"), 108);
    ck_assert_double_eq(
        value(b, "container_network_transmit_bytes_total", RELA, "interface", "eth0"), 14856);
    ck_assert_double_eq(
        value(b, "container_network_receive_bytes_total", RELA, "interface", "eth1"), 14856);
    ck_assert_double_eq(
        value(b, "container_network_receive_packets_dropped_total", RELA, "interface", "eth0"), 0);
    ck_assert_ptr_null(
        series_find(b, "container_network_receive_bytes_total", "interface", "lo", NULL));
    ck_assert_uint_eq(series_count(b, "container_network_receive_bytes_total"), 2);
    ck_assert_double_eq(value(b, "container_processes", RELA, NULL, NULL), 1);
    ck_assert_double_eq(value(b, "container_threads", RELA, NULL, NULL), 1);
    ck_assert_double_eq(value(b, "container_threads_max", RELA, NULL, NULL), 100);
    ck_assert_double_eq_tol(
        value(b, "container_pressure_cpu_waiting_seconds_total", RELA, NULL, NULL), 0.625757,
        1e-12);
    ck_assert_double_eq_tol(
        value(b, "container_pressure_cpu_stalled_seconds_total", RELA, NULL, NULL), 0.620591,
        1e-12);
    ck_assert_double_eq_tol(
        value(b, "container_pressure_io_waiting_seconds_total", RELA, NULL, NULL), 0.001899, 1e-12);
    ck_assert_double_eq(
        value(b, "container_pressure_memory_stalled_seconds_total", RELA, NULL, NULL), 0);
    /* No runtime to ask: name and image empty, the id is there. */
    ck_assert_str_eq(label(b, "container_memory_rss", RELA, "name"), "");
    ck_assert_str_eq(label(b, "container_memory_rss", RELA, "image"), "");
    const struct sonde_series *s = series_find(b, "container_memory_rss", "id", RELA, NULL);
    ck_assert_uint_eq(s->nlabels, 3);
    ck_assert_str_eq(s->labels[0].key, "id"); /* sorted */
    ck_assert_str_eq(s->labels[2].key, "name");

    /* B: systemd-driver scope, no quota (no cfs series), no limits, no
     * process (no network), not in the unified tree (no pressure). */
    ck_assert_double_eq_tol(value(b, "container_cpu_usage_seconds_total", RELB, "cpu", "total"),
                            0.123456789, 1e-12);
    ck_assert(!has(b, "container_cpu_cfs_periods_total", RELB));
    ck_assert_double_eq(value(b, "container_spec_memory_limit_bytes", RELB, NULL, NULL), 0);
    ck_assert_double_eq(value(b, "container_threads_max", RELB, NULL, NULL), 0);
    ck_assert_double_eq(value(b, "container_processes", RELB, NULL, NULL), 0);
    ck_assert(!has(b, "container_pressure_cpu_waiting_seconds_total", RELB));
    ck_assert(!has(b, "container_fs_reads_bytes_total", RELB));

    /* LXC: named by its directory; only memory and cpuacct exist for it. */
    ck_assert_str_eq(label(b, "container_memory_usage_bytes", "/lxc.payload.blog", "name"), "blog");
    ck_assert(has(b, "container_cpu_usage_seconds_total", "/lxc.payload.blog"));
    ck_assert(!has(b, "container_threads", "/lxc.payload.blog"));
    ck_assert(!has(b, "container_cpu_cfs_periods_total", "/lxc.payload.blog"));

    /* Not containers: services (off), sessions, a container's child. */
    ck_assert(!has(b, "container_memory_usage_bytes", "/system.slice/cron.service"));
    ck_assert(!has(b, "container_memory_usage_bytes", RELA "/child"));

    /* Line protocol, Telegraf's docker input. */
    const struct sonde_point *p =
        point_find(b, "docker_container_mem", "container_name", IDA_SHORT_NAME, NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(field_u(p, "usage"), 45490176 - 4194304); /* less "cache" */
    ck_assert_uint_eq(field_u(p, "limit"), 268435456);
    ck_assert_uint_eq(field_u(p, "max_usage"), 49963008);
    ck_assert_uint_eq(field_u(p, "total_rss"), 40914944);
    ck_assert_uint_eq(field_u(p, "hierarchical_memory_limit"), 268435456);
    ck_assert_ptr_null(field_get(p, "fail_count")); /* only when not 0 */
    ck_assert_ptr_null(field_get(p, "anon"));
    const struct sonde_field *f = field_get(p, "usage_percent");
    ck_assert_int_eq(f->type, SONDE_FIELD_FLOAT);
    ck_assert_double_eq_tol(f->v.f, 100.0 * (45490176 - 4194304) / 268435456.0, 1e-9);
    f = field_get(p, "container_id");
    ck_assert_int_eq(f->type, SONDE_FIELD_STRING);
    ck_assert_str_eq(f->v.s, IDA);
    /* No limit: Docker reports the machine's memory. */
    p = point_find(b, "docker_container_mem", "container_name", "b1d2c3e4f5a6", NULL);
    ck_assert_uint_eq(field_u(p, "limit"), 24731708ull * 1024);
    p = point_find(b, "docker_container_cpu", "container_name", IDA_SHORT_NAME, "cpu", "cpu-total",
                   NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(field_u(p, "usage_total"), 1175373659);
    ck_assert_uint_eq(field_u(p, "usage_in_usermode"), 1090000000);
    ck_assert_uint_eq(field_u(p, "throttling_throttled_time"), 1029809433);
    /* The first seven columns of the cpu line, in ns. */
    ck_assert_uint_eq(field_u(p, "usage_system"),
                      (208925ull + 0 + 68040 + 617967 + 20854 + 0 + 8327) * 10000000ull);
    ck_assert_double_eq(field_get(p, "usage_percent")->v.f, 0.0); /* no previous read */
    p = point_find(b, "docker_container_net", "container_name", IDA_SHORT_NAME, "network", "eth0",
                   NULL);
    ck_assert_uint_eq(field_u(p, "tx_packets"), 108);
    ck_assert_uint_eq(field_u(p, "rx_bytes"), 656);
    p = point_find(b, "docker_container_blkio", "container_name", IDA_SHORT_NAME, "device", "254:0",
                   NULL);
    ck_assert_uint_eq(field_u(p, "io_service_bytes_recursive_read"), 4194304);
    ck_assert_uint_eq(field_u(p, "io_service_bytes_recursive_discard"), 8192);
    ck_assert_uint_eq(field_u(p, "io_serviced_recursive_total"), 83);
    p = point_find(b, "docker_container_mem", "container_name", "blog", NULL); /* the LXC one */
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(field_get(p, "container_id")->v.s, "/lxc.payload.blog");
    batch_free(b);
    sonde_plugin_cgroup.destroy(st);
}
END_TEST

START_TEST(test_read_hybrid_names)
{
    struct api api;
    api_start(&api, "h");
    struct cgroup_config cfg = test_config();
    cfg.docker_socket = api.path;
    cfg.systemd_services = true;
    void *st = open_tree(FIXTURES "/cgroup/hybrid", &cfg);
    struct sonde_batch *b = read_once(st);
    ck_assert_str_eq(label(b, "container_memory_usage_bytes", RELA, "name"), "web");
    ck_assert_str_eq(label(b, "container_memory_usage_bytes", RELA, "image"), "nginx:1.25");
    ck_assert_str_eq(label(b, "container_memory_usage_bytes", RELB, "name"), "cache");
    const struct sonde_point *p =
        point_find(b, "docker_container_cpu", "container_name", "web", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(label_get(p->tags, p->ntags, "container_image"), "nginx");
    ck_assert_str_eq(label_get(p->tags, p->ntags, "container_version"), "1.25");
    /* The service, with pid 1 in the host's network: no network series. */
    ck_assert_str_eq(label(b, "container_memory_usage_bytes", "/system.slice/cron.service", "name"),
                     "cron.service");
    ck_assert(!has(b, "container_network_receive_bytes_total", "/system.slice/cron.service"));
    ck_assert_uint_eq(series_count(b, "container_memory_usage_bytes"), 4);
    batch_free(b);
    sonde_plugin_cgroup.destroy(st);
    api_stop(&api);
}
END_TEST

START_TEST(test_read_v2)
{
    struct api api;
    api_start(&api, "v2");
    struct cgroup_config cfg = test_config();
    cfg.docker_socket = api.path;
    void *st = open_tree(FIXTURES "/cgroup/v2", &cfg);
    struct sonde_batch *b = read_once(st);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(((struct cgroup_state *)st)->n, 5);
    const char *relD = "/machine.slice/libpod-" IDD ".scope";
    const char *relE = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c3d4e_"
                       "5f60_4718_93a4_b5c6d7e8f901.slice/cri-containerd-" IDE ".scope";
    const char *relF = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c3d4e_"
                       "5f60_4718_93a4_b5c6d7e8f901.slice/crio-" IDF ".scope";
    const char *relG =
        "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" IDG ".scope";
    /* C: every file; named from the API (upper-case id in the answer). */
    ck_assert_str_eq(label(b, "container_memory_rss", RELC, "name"), "db");
    ck_assert_str_eq(label(b, "container_memory_rss", RELC, "image"),
                     "registry.example.com:5000/team/postgres:15");
    ck_assert_double_eq_tol(value(b, "container_cpu_usage_seconds_total", RELC, "cpu", "total"),
                            12.345678, 1e-9);
    ck_assert_double_eq_tol(value(b, "container_cpu_cfs_throttled_seconds_total", RELC, NULL, NULL),
                            7.654321, 1e-9);
    ck_assert_double_eq(value(b, "container_memory_usage_bytes", RELC, NULL, NULL), 163577856);
    ck_assert_double_eq(value(b, "container_memory_working_set_bytes", RELC, NULL, NULL),
                        163577856 - 31457280);
    ck_assert_double_eq(value(b, "container_memory_rss", RELC, NULL, NULL), 104857600);
    ck_assert_double_eq(value(b, "container_memory_cache", RELC, NULL, NULL), 52428800);
    ck_assert_double_eq(value(b, "container_spec_memory_limit_bytes", RELC, NULL, NULL), 536870912);
    ck_assert_double_eq(value(b, "container_oom_events_total", RELC, NULL, NULL), 2);
    ck_assert_double_eq(value(b, "container_fs_writes_total", RELC, "device", "/dev/sda"), 512);
    ck_assert_double_eq(value(b, "container_fs_reads_bytes_total", RELC, "device", "/dev/dm-0"),
                        4096);
    ck_assert_double_eq(
        value(b, "container_network_receive_bytes_total", RELC, "interface", "eth0"), 1234567);
    ck_assert_double_eq(
        value(b, "container_network_transmit_packets_dropped_total", RELC, "interface", "eth0"), 5);
    ck_assert_uint_eq(series_count(b, "container_network_receive_bytes_total"),
                      1); /* no lo, veth */
    ck_assert_double_eq(value(b, "container_processes", RELC, NULL, NULL), 2);
    ck_assert_double_eq(value(b, "container_threads", RELC, NULL, NULL), 3);
    ck_assert_double_eq(value(b, "container_threads_max", RELC, NULL, NULL), 1024);
    ck_assert_double_eq_tol(
        value(b, "container_pressure_memory_waiting_seconds_total", RELC, NULL, NULL), 0.4, 1e-12);
    ck_assert_double_eq_tol(
        value(b, "container_pressure_io_stalled_seconds_total", RELC, NULL, NULL), 0.05, 1e-12);
    /* D: podman, no limits, no quota; not in Docker's answer, no podman socket. */
    ck_assert_str_eq(label(b, "container_memory_usage_bytes", relD, "name"), "");
    ck_assert_double_eq(value(b, "container_spec_memory_limit_bytes", relD, NULL, NULL), 0);
    ck_assert_double_eq(value(b, "container_threads_max", relD, NULL, NULL), 0);
    ck_assert(!has(b, "container_cpu_cfs_periods_total", relD));
    /* E: only the core cpu.stat. F: only memory.current. G: only pids. */
    ck_assert_double_eq(value(b, "container_cpu_usage_seconds_total", relE, "cpu", "total"), 2);
    ck_assert_double_eq(value(b, "container_cpu_user_seconds_total", relE, NULL, NULL), 1.5);
    ck_assert(!has(b, "container_memory_usage_bytes", relE));
    ck_assert_double_eq(value(b, "container_memory_usage_bytes", relF, NULL, NULL), 1048576);
    ck_assert_double_eq(value(b, "container_memory_working_set_bytes", relF, NULL, NULL), 1048576);
    ck_assert(!has(b, "container_memory_rss", relF));
    ck_assert(!has(b, "container_spec_memory_limit_bytes", relF));
    ck_assert_double_eq(value(b, "container_threads", relG, NULL, NULL), 2);
    /* Line protocol on v2: Telegraf's fields that exist there, plus rss and cache. */
    const struct sonde_point *p =
        point_find(b, "docker_container_mem", "container_name", "db", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(label_get(p->tags, p->ntags, "container_image"),
                     "registry.example.com:5000/team/postgres");
    ck_assert_str_eq(label_get(p->tags, p->ntags, "container_version"), "15");
    ck_assert_uint_eq(field_u(p, "usage"), 163577856 - 31457280); /* less inactive_file */
    ck_assert_uint_eq(field_u(p, "limit"), 536870912);
    ck_assert_uint_eq(field_u(p, "max_usage"), 209715200); /* memory.peak */
    ck_assert_uint_eq(field_u(p, "active_anon"), 104726528);
    ck_assert_uint_eq(field_u(p, "pgmajfault"), 17);
    ck_assert_uint_eq(field_u(p, "rss"), 104857600);
    ck_assert_uint_eq(field_u(p, "cache"), 52428800);
    ck_assert_ptr_null(field_get(p, "total_rss"));
    ck_assert_ptr_null(field_get(p, "mapped_file")); /* v2 says file_mapped: not Telegraf's */
    p = point_find(b, "docker_container_blkio", "container_name", "db", "device", "8:0", NULL);
    ck_assert_uint_eq(field_u(p, "io_service_bytes_recursive_write"), 2097152);
    ck_assert_uint_eq(field_u(p, "io_serviced_recursive_read"), 256);
    ck_assert_uint_eq(p->nfields, 5); /* read/write bytes and ios, container_id */
    p = point_find(b, "docker_container_mem", "container_name", "dddddddd0123", NULL);
    ck_assert_uint_eq(field_u(p, "limit"), 2000000ull * 1024);
    batch_free(b);
    sonde_plugin_cgroup.destroy(st);
    api_stop(&api);
}
END_TEST

START_TEST(test_read_v2_services)
{
    struct cgroup_config cfg = test_config();
    cfg.systemd_services = true;
    cfg.pressure = false;
    void *st = open_tree(FIXTURES "/cgroup/v2", &cfg);
    struct sonde_batch *b = read_once(st);
    ck_assert_double_eq(
        value(b, "container_memory_usage_bytes", "/system.slice/nginx.service", NULL, NULL),
        8388608);
    ck_assert_str_eq(
        label(b, "container_memory_usage_bytes", "/system.slice/nginx.service", "name"),
        "nginx.service");
    ck_assert(has(b, "container_processes", "/system.slice/systemd-journald.service"));
    ck_assert_uint_eq(series_count(b, "container_pressure_cpu_waiting_seconds_total"), 0);
    batch_free(b);
    sonde_plugin_cgroup.destroy(st);
}
END_TEST

START_TEST(test_read_v1)
{
    struct cgroup_config cfg = test_config();
    void *st = open_tree(FIXTURES "/cgroup/v1", &cfg);
    struct sonde_batch *b = read_once(st);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(((struct cgroup_state *)st)->n, 4);
    const char *relK = "/kubepods/burstable/pod1b2c3d4e-5f60-4718-93a4-b5c6d7e8f901/"
                       "1111111111111111111111111111111111111111111111111111111111111111";
    ck_assert_double_eq(value(b, "container_cpu_usage_seconds_total", relK, "cpu", "total"), 5);
    ck_assert_double_eq(value(b, "container_cpu_cfs_throttled_periods_total", relK, NULL, NULL), 4);
    ck_assert_double_eq_tol(value(b, "container_cpu_cfs_throttled_seconds_total", relK, NULL, NULL),
                            0.4, 1e-12);
    ck_assert(has(b, "container_memory_usage_bytes",
                  "/libpod_parent/libpod-2222222222222222222222222222222222222222222222222222222222"
                  "222222"));
    ck_assert_double_eq(
        value(b, "container_fs_reads_bytes_total",
              "/docker/3333333333333333333333333333333333333333333333333333333333333333", "device",
              "/dev/sda"),
        40960);
    ck_assert_str_eq(label(b, "container_memory_usage_bytes", "/lxc/web1", "name"), "web1");
    ck_assert_uint_eq(series_count(b, "container_oom_events_total"), 0); /* before 4.13 */
    ck_assert_uint_eq(series_count(b, "container_pressure_cpu_waiting_seconds_total"), 0);
    ck_assert_uint_eq(series_count(b, "container_threads_max"), 4);
    batch_free(b);
    sonde_plugin_cgroup.destroy(st);
}
END_TEST

START_TEST(test_read_odd)
{
    struct cgroup_config cfg = test_config();
    void *st = open_tree(FIXTURES "/cgroup/odd", &cfg);
    struct sonde_batch *b = read_once(st);
    /* 5 in the first container (see check_cgroup_v2), "12x" in cgroup.procs
     * of the second, three in the third. */
    ck_assert_uint_eq(b->skipped, 9);
    const char *rel1 = "/system.slice/docker-"
                       "0000000000000000000000000000000000000000000000000000000000000001.scope";
    ck_assert(!has(b, "container_memory_usage_bytes", rel1));
    ck_assert(!has(b, "container_memory_rss", rel1));
    ck_assert_double_eq(value(b, "container_spec_memory_limit_bytes", rel1, NULL, NULL), 0);
    ck_assert_double_eq(value(b, "container_fs_reads_total", rel1, "device", ""), 3);
    ck_assert_double_eq(value(b, "container_pressure_cpu_waiting_seconds_total", rel1, NULL, NULL),
                        0.000042);
    ck_assert(!has(b, "container_pressure_cpu_stalled_seconds_total", rel1));
    /* No CPU or memory usage anywhere: no cpu or mem point; the I/O is there. */
    ck_assert_ptr_null(point_find(b, "docker_container_cpu", NULL));
    ck_assert_ptr_null(point_find(b, "docker_container_mem", NULL));
    const struct sonde_point *p = point_find(b, "docker_container_blkio", "device", "259:0", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(field_u(p, "io_serviced_recursive_write"), 4);
    batch_free(b);
    sonde_plugin_cgroup.destroy(st);
}
END_TEST

/* ---- containers that come and go ---- */

static void copy_tree(const char *from, char *to, size_t cap)
{
    snprintf(to, cap, "/tmp/sonde-cg-tree-%d", (int)getpid());
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "rm -rf %s && cp -a %s %s", to, from, to);
    ck_assert_int_eq(system(cmd), 0);
}

static void remove_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void write_file(const char *root, const char *rel, const char *text)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(test_disappear)
{
    char tree[256];
    copy_tree(FIXTURES "/cgroup/hybrid", tree, sizeof(tree));
    struct cgroup_config cfg = test_config();
    struct cgroup_state *st = open_tree(tree, &cfg);
    struct sonde_batch *b = read_once(st);
    ck_assert(has(b, "container_memory_usage_bytes", RELA));
    size_t open_before = st->reader.open_fds;
    ck_assert_uint_gt(open_before, 20);
    batch_free(b);

    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s/sys/fs/cgroup/memory/docker/%s", tree, IDA);
    ck_assert_int_eq(system(cmd), 0);
    b = read_once(st);
    ck_assert(!has(b, "container_memory_usage_bytes", RELA));
    ck_assert(!has(b, "container_cpu_usage_seconds_total", RELA));
    ck_assert_uint_eq(series_count(b, "container_memory_usage_bytes"), 2);
    ck_assert_uint_eq(st->n, 2);
    ck_assert_uint_lt(st->reader.open_fds, open_before); /* its descriptors are closed */
    batch_free(b);

    /* Back under the same path (a restart): a new container. */
    snprintf(cmd, sizeof(cmd),
             "cp -a %s/sys/fs/cgroup/memory/docker/%s %s/sys/fs/cgroup/memory/docker/",
             FIXTURES "/cgroup/hybrid", IDA, tree);
    ck_assert_int_eq(system(cmd), 0);
    b = read_once(st);
    ck_assert_double_eq(value(b, "container_memory_usage_bytes", RELA, NULL, NULL), 45490176);
    ck_assert_uint_eq(st->n, 3);
    batch_free(b);
    sonde_plugin_cgroup.destroy(st);
    remove_tree(tree);
}
END_TEST

/* usage_percent as `docker stats`: container CPU delta over host CPU
 * delta, times the online CPUs. */
START_TEST(test_usage_percent)
{
    char tree[256];
    copy_tree(FIXTURES "/cgroup/hybrid", tree, sizeof(tree));
    struct cgroup_config cfg = test_config();
    struct cgroup_state *st = open_tree(tree, &cfg);
    batch_free(read_once(st));
    /* One second of host time (100 ticks of idle), half a second of container CPU. */
    write_file(tree, "proc/stat", "cpu  208925 0 68040 618067 20854 0 8327 832 0 0\n");
    write_file(tree, "sys/fs/cgroup/cpuacct/docker/" IDA "/cpuacct.usage", "1675373659\n");
    struct sonde_batch *b = read_once(st);
    const struct sonde_point *p =
        point_find(b, "docker_container_cpu", "container_name", IDA_SHORT_NAME, NULL);
    double cpus = (double)sysconf(_SC_NPROCESSORS_ONLN);
    ck_assert_double_eq_tol(field_get(p, "usage_percent")->v.f, 50.0 * cpus, 1e-9);
    /* B used no CPU meanwhile: 0. */
    p = point_find(b, "docker_container_cpu", "container_name", "b1d2c3e4f5a6", NULL);
    ck_assert_double_eq(field_get(p, "usage_percent")->v.f, 0.0);
    batch_free(b);
    sonde_plugin_cgroup.destroy(st);
    remove_tree(tree);
}
END_TEST

/* Without container_processes, cgroup.procs is read only to find the
 * process whose network to read, then again with the limits. */
START_TEST(test_no_processes)
{
    struct cgroup_config cfg = test_config();
    cfg.processes = false;
    struct cgroup_state *st = open_tree(FIXTURES "/cgroup/hybrid", &cfg);
    for (int round = 0; round < 2; round++) {
        struct sonde_batch *b = read_once(st);
        ck_assert_uint_eq(series_count(b, "container_processes"), 0);
        ck_assert_double_eq(
            value(b, "container_network_transmit_packets_total", RELA, "interface", "eth0"), 108);
        ck_assert_double_eq(value(b, "container_threads", RELA, NULL, NULL), 1);
        batch_free(b);
    }
    struct cgroup_container *a =
        cgroup_lookup(st, RELA, strlen(RELA), cgroup_hash(RELA, strlen(RELA)));
    ck_assert_int_eq(a->net_pid, 31907);
    /* B has no process: its cgroup.procs is read on every cycle. */
    struct cgroup_container *b =
        cgroup_lookup(st, RELB, strlen(RELB), cgroup_hash(RELB, strlen(RELB)));
    ck_assert_int_ge(b->h.fd[CG_PROCS], 0);
    sonde_plugin_cgroup.destroy(st);
}
END_TEST

/* OOM kills count in the host's vmstat too: while that count stays, the
 * containers' files are not read again (their last counts are kept); when
 * it moves, they are. */
START_TEST(test_oom_vmstat)
{
    char tree[256];
    copy_tree(FIXTURES "/cgroup/hybrid", tree, sizeof(tree));
    write_file(tree, "proc/vmstat", "pgfault 1\noom_kill 5\nnr_free_pages 7\n");
    struct cgroup_config cfg = test_config();
    struct cgroup_state *st = open_tree(tree, &cfg);
    struct sonde_batch *b = read_once(st);
    ck_assert_double_eq(value(b, "container_oom_events_total", RELA, NULL, NULL), 0);
    batch_free(b);
    write_file(tree, "sys/fs/cgroup/memory/docker/" IDA "/memory.oom_control",
               "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
    b = read_once(st); /* vmstat says no kill happened: the file is not read */
    ck_assert_double_eq(value(b, "container_oom_events_total", RELA, NULL, NULL), 0);
    batch_free(b);
    write_file(tree, "proc/vmstat", "pgfault 1\noom_kill 8\nnr_free_pages 7\n");
    b = read_once(st);
    ck_assert_double_eq(value(b, "container_oom_events_total", RELA, NULL, NULL), 3);
    batch_free(b);
    write_file(tree, "proc/vmstat", "pgfault 1\n"); /* no oom_kill line (before 4.13): read */
    write_file(tree, "sys/fs/cgroup/memory/docker/" IDA "/memory.oom_control",
               "oom_kill_disable 0\nunder_oom 0\noom_kill 4\n");
    b = read_once(st);
    ck_assert_double_eq(value(b, "container_oom_events_total", RELA, NULL, NULL), 4);
    batch_free(b);
    sonde_plugin_cgroup.destroy(st);
    remove_tree(tree);
}
END_TEST

/* cpuacct.stat moves only with the usage: it is read again only then. */
START_TEST(test_ticks_follow_usage)
{
    char tree[256];
    copy_tree(FIXTURES "/cgroup/hybrid", tree, sizeof(tree));
    struct cgroup_config cfg = test_config();
    struct cgroup_state *st = open_tree(tree, &cfg);
    batch_free(read_once(st));
    write_file(tree, "sys/fs/cgroup/cpuacct/docker/" IDA "/cpuacct.stat", "user 200\nsystem 9\n");
    struct sonde_batch *b = read_once(st);
    ck_assert_double_eq_tol(value(b, "container_cpu_user_seconds_total", RELA, NULL, NULL), 1.09,
                            1e-12);
    batch_free(b);
    write_file(tree, "sys/fs/cgroup/cpuacct/docker/" IDA "/cpuacct.usage", "2100000000\n");
    b = read_once(st);
    ck_assert_double_eq_tol(value(b, "container_cpu_user_seconds_total", RELA, NULL, NULL), 2.0,
                            1e-12);
    ck_assert_double_eq_tol(value(b, "container_cpu_system_seconds_total", RELA, NULL, NULL), 0.09,
                            1e-12);
    batch_free(b);
    sonde_plugin_cgroup.destroy(st);
    remove_tree(tree);
}
END_TEST

/* What the core does not want is neither emitted nor read. */
START_TEST(test_wants)
{
    struct cgroup_config cfg = test_config();
    struct cgroup_state *st = open_tree(FIXTURES "/cgroup/hybrid", &cfg);
    struct sonde_batch *b = batch_new("cgroup");
    b->want_points = false;
    ck_assert_int_eq(sonde_plugin_cgroup.read(st, b), 0);
    ck_assert_uint_eq(b->npoints, 0);
    ck_assert_uint_gt(b->nseries, 50);
    struct cgroup_container *a =
        cgroup_lookup(st, RELA, strlen(RELA), cgroup_hash(RELA, strlen(RELA)));
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->h.fd[CG_V1_MEM_MAX_USAGE], CG_FD_CLOSED); /* line protocol only */
    batch_free(b);
    b = batch_new("cgroup");
    b->want_series = false;
    ck_assert_int_eq(sonde_plugin_cgroup.read(st, b), 0);
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_gt(b->npoints, 5);
    batch_free(b);
    sonde_plugin_cgroup.destroy(st);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cgroup");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_classify);
    tcase_add_test(tc, test_layout_hybrid);
    tcase_add_test(tc, test_layout_v1_v2);
    tcase_add_test(tc, test_layout_line);
    tcase_add_test(tc, test_image);
    tcase_add_test(tc, test_read_hybrid);
    tcase_add_test(tc, test_read_hybrid_names);
    tcase_add_test(tc, test_read_v2);
    tcase_add_test(tc, test_read_v2_services);
    tcase_add_test(tc, test_read_v1);
    tcase_add_test(tc, test_read_odd);
    tcase_add_test(tc, test_disappear);
    tcase_add_test(tc, test_usage_percent);
    tcase_add_test(tc, test_no_processes);
    tcase_add_test(tc, test_oom_vmstat);
    tcase_add_test(tc, test_ticks_follow_usage);
    tcase_add_test(tc, test_wants);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
