/*
 * check_cgroup_names.c - unit tests of the container name resolution: the
 * /containers/json parser on a Docker Engine answer (names with links,
 * registry images, short and missing ids), then the client against a small
 * server on a unix socket started by the test (answering like the Docker
 * Engine API, failing with 500, or accepting and never answering), and the
 * back-off that keeps a dead socket from being asked more than once per
 * refresh period.
 */
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "cgroup.h"
#include "testutil.h"

#define IDA "8081bd04d15a8db1cec572a18f6b76f3c122416df5a1fb5dec7533e62e3c0a29"
#define IDC "cccccccc0123456789abcdef0123456789abcdef0123456789abcdef01234567"

START_TEST(test_parse)
{
    char *json = fixture_read("cgroup/docker_containers.json");
    struct cgroup_name_table t = {0};
    uint64_t skipped = 0;
    ck_assert_int_eq(cgroup_names_parse(json, strlen(json), &t, &skipped), 0);
    free(json);
    ck_assert_uint_eq(t.n, 4);
    ck_assert_uint_eq(skipped, 2); /* "0123" and no Id */
    /* Sorted by id; ids lower-cased as cgroup paths have them. */
    ck_assert_str_eq(t.items[0].id,
                     "1111111111111111111111111111111111111111111111111111111111111111");
    ck_assert_str_eq(t.items[0].name, ""); /* no Names */
    ck_assert_str_eq(t.items[0].image, "localhost/app");
    ck_assert_str_eq(t.items[1].id, IDA);
    ck_assert_str_eq(t.items[1].name, "web");
    ck_assert_str_eq(t.items[1].image, "nginx:1.25");
    ck_assert_str_eq(t.items[2].id,
                     "b1d2c3e4f5a60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90");
    ck_assert_str_eq(t.items[2].name, "cache");
    ck_assert_str_eq(t.items[3].id, IDC);
    ck_assert_str_eq(t.items[3].name, "db"); /* "/web/db" is a link name */
    ck_assert_str_eq(t.items[3].image, "registry.example.com:5000/team/postgres:15");

    /* Bad answers leave the previous table alone. */
    ck_assert_int_eq(cgroup_names_parse("{\"Id\": 1}", 9, &t, &skipped), -EINVAL);
    ck_assert_int_eq(cgroup_names_parse("[{\"Id\": ", 8, &t, &skipped), -EINVAL);
    ck_assert_int_eq(cgroup_names_parse("", 0, &t, &skipped), -EINVAL);
    ck_assert_uint_eq(t.n, 4);
    ck_assert_int_eq(cgroup_names_parse("[]", 2, &t, &skipped), 0);
    ck_assert_uint_eq(t.n, 0);
    ck_assert_int_eq(cgroup_names_parse("[1, \"x\", {\"Id\": null}]", 22, &t, &skipped), 0);
    ck_assert_uint_eq(t.n, 0);
    cgroup_name_table_free(&t);
}
END_TEST

/* ---- a tiny Docker Engine API on a unix socket ---- */

enum server_mode { SERVE_OK, SERVE_500, SERVE_HANG };

struct server {
    pid_t pid;
    char path[108];
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The child: answers every connection according to `mode`, until killed. */
static void server_loop(int lfd, enum server_mode mode, const char *body)
{
    for (;;) {
        int c = accept(lfd, NULL, NULL);
        if (c < 0)
            _exit(1);
        char req[4096];
        size_t len = 0;
        while (len < sizeof(req) - 1) {
            ssize_t n = read(c, req + len, sizeof(req) - 1 - len);
            if (n <= 0)
                break;
            len += (size_t)n;
            req[len] = '\0';
            if (strstr(req, "\r\n\r\n"))
                break;
        }
        if (mode == SERVE_HANG) {
            sleep(30);
            _exit(0);
        }
        char head[256];
        bool ok = mode == SERVE_OK && strncmp(req, "GET /containers/json ", 21) == 0;
        const char *b = ok ? body : "{\"message\":\"boom\"}";
        int hl = snprintf(head, sizeof(head),
                          "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                          ok ? "200 OK" : "500 Internal Server Error", strlen(b));
        (void)!write(c, head, (size_t)hl);
        (void)!write(c, b, strlen(b));
        close(c);
    }
}

static void server_start(struct server *s, enum server_mode mode)
{
    snprintf(s->path, sizeof(s->path), "/tmp/sonde-names-%d-%d.sock", (int)getpid(), (int)mode);
    unlink(s->path);
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(lfd, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    memcpy(addr.sun_path, s->path, strlen(s->path) + 1);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    ck_assert_int_eq(listen(lfd, 8), 0);
    char *body = fixture_read("cgroup/docker_containers.json");
    s->pid = fork();
    ck_assert_int_ge(s->pid, 0);
    if (s->pid == 0)
        server_loop(lfd, mode, body);
    free(body);
    close(lfd);
}

static void server_stop(struct server *s)
{
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    unlink(s->path);
}

START_TEST(test_refresh_ok)
{
    struct server srv;
    server_start(&srv, SERVE_OK);
    struct cgroup_names *n = cgroup_names_new(srv.path, "", 30000000000LL, 1000);
    int64_t t0 = 1000000000LL;
    ck_assert(cgroup_names_due(n, CG_RT_DOCKER, t0, false)); /* never asked */
    ck_assert(!cgroup_names_due(n, CG_RT_PODMAN, t0, true)); /* no socket: never */
    ck_assert_int_eq(cgroup_names_refresh(n, CG_RT_DOCKER, t0, 1000), 0);
    ck_assert_uint_eq(cgroup_names_generation(n, CG_RT_DOCKER), 1);
    const struct cgroup_name_entry *e = cgroup_names_find(n, CG_RT_DOCKER, IDA);
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(e->name, "web");
    ck_assert_str_eq(e->image, "nginx:1.25");
    ck_assert_ptr_null(cgroup_names_find(n, CG_RT_DOCKER, "0123"));
    ck_assert_ptr_null(cgroup_names_find(n, CG_RT_PODMAN, IDA));
    /* Alive: a new id is asked for at once; otherwise, after the period. */
    ck_assert(!cgroup_names_due(n, CG_RT_DOCKER, t0 + 1000000000LL, false));
    ck_assert(cgroup_names_due(n, CG_RT_DOCKER, t0 + 1000000000LL, true));
    ck_assert(cgroup_names_due(n, CG_RT_DOCKER, t0 + 30000000000LL, false));
    ck_assert_int_eq(cgroup_names_refresh(n, CG_RT_DOCKER, t0 + 2, 1000), 0);
    ck_assert_uint_eq(cgroup_names_generation(n, CG_RT_DOCKER), 2);
    cgroup_names_free(n);
    server_stop(&srv);
}
END_TEST

START_TEST(test_refresh_dead)
{
    /* Nothing listens: the failure is quick, and then the socket is not
     * asked again before the period is over, whatever appears. */
    struct cgroup_names *n =
        cgroup_names_new("/tmp/sonde-names-nothing-here.sock", NULL, 30000000000LL, 1000);
    int64_t t0 = 5000000000LL;
    int64_t start = now_ns();
    ck_assert_int_lt(cgroup_names_refresh(n, CG_RT_DOCKER, t0, 1000), 0);
    ck_assert_int_lt(now_ns() - start, 500000000LL);
    ck_assert_uint_eq(cgroup_names_generation(n, CG_RT_DOCKER), 0);
    ck_assert(!cgroup_names_due(n, CG_RT_DOCKER, t0 + 1, true));
    ck_assert(!cgroup_names_due(n, CG_RT_DOCKER, t0 + 29999999999LL, true));
    ck_assert(cgroup_names_due(n, CG_RT_DOCKER, t0 + 30000000000LL, false));
    ck_assert_ptr_null(cgroup_names_find(n, CG_RT_DOCKER, IDA));
    cgroup_names_free(n);
}
END_TEST

START_TEST(test_refresh_500)
{
    struct server srv;
    server_start(&srv, SERVE_500);
    struct cgroup_names *n = cgroup_names_new(srv.path, NULL, 30000000000LL, 1000);
    ck_assert_int_eq(cgroup_names_refresh(n, CG_RT_DOCKER, 1, 1000), -EPROTO);
    ck_assert_uint_eq(cgroup_names_generation(n, CG_RT_DOCKER), 0);
    ck_assert(!cgroup_names_due(n, CG_RT_DOCKER, 2, true));
    cgroup_names_free(n);
    server_stop(&srv);
}
END_TEST

START_TEST(test_refresh_hung)
{
    /* Accepts and never answers: the refresh gives up at the timeout
     * (300 ms here, 1 s in the plugin), and within the budget it is given. */
    struct server srv;
    server_start(&srv, SERVE_HANG);
    struct cgroup_names *n = cgroup_names_new(srv.path, NULL, 30000000000LL, 300);
    int64_t start = now_ns();
    ck_assert_int_eq(cgroup_names_refresh(n, CG_RT_DOCKER, 1, 1000), -ETIMEDOUT);
    int64_t took = now_ns() - start;
    ck_assert_int_ge(took, 250000000LL);
    ck_assert_int_lt(took, 800000000LL);
    start = now_ns();
    ck_assert_int_eq(cgroup_names_refresh(n, CG_RT_DOCKER, 2, 100), -ETIMEDOUT);
    ck_assert_int_lt(now_ns() - start, 400000000LL);
    ck_assert_int_eq(cgroup_names_refresh(n, CG_RT_DOCKER, 3, 0), -ETIMEDOUT); /* no time left */
    cgroup_names_free(n);
    server_stop(&srv);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cgroup_names");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_parse);
    tcase_add_test(tc, test_refresh_ok);
    tcase_add_test(tc, test_refresh_dead);
    tcase_add_test(tc, test_refresh_500);
    tcase_add_test(tc, test_refresh_hung);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
