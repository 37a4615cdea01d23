/*
 * check_system.c - unit tests of plugins/system.c: /proc/loadavg,
 * /proc/uptime, the online CPU count, utmp user counting and Telegraf's
 * uptime_format, on captured fixtures and a utmp file built here.
 */
#include <limits.h>
#include <sys/stat.h>

#include "../../plugins/system.c"
#include "testutil.h"

#define EPS 1e-9

/* Runs one read() with procfs and rootfs at the given directories; the
 * batch is the caller's (batch_free). */
static struct sonde_batch *system_test_read(const char *procfs, const char *rootfs, int expect_rc)
{
    struct sonde_context ctx = {.procfs = procfs,
                                .sysfs = "/sys",
                                .rootfs = rootfs,
                                .hostname = "test",
                                .instance = "system"};
    struct system_config config = {0};
    void *state = NULL;
    ck_assert_int_eq(system_init(&state, &config, &ctx), 0);
    struct sonde_batch *b = batch_new("system");
    ck_assert_int_eq(system_read(state, b), expect_rc);
    system_destroy(state);
    batch_finish(b);
    return b;
}

/* The "system" point that has field `key`, or NULL. */
static const struct sonde_point *point_with(const struct sonde_batch *b, const char *key)
{
    for (size_t i = 0; i < b->npoints; i++)
        if (strcmp(b->points[i]->measurement, "system") == 0 && field_get(b->points[i], key))
            return b->points[i];
    return NULL;
}

static const struct sonde_field *field_of(const struct sonde_batch *b, const char *key,
                                          enum sonde_field_type type)
{
    const struct sonde_point *p = point_with(b, key);
    ck_assert_msg(p != NULL, "field %s missing", key);
    const struct sonde_field *f = field_get(p, key);
    ck_assert_int_eq(f->type, type);
    return f;
}

/* Appends one utmp record to `f`. */
static void utmp_add(FILE *f, short type, const char *user, const char *line)
{
    struct utmp u;
    memset(&u, 0, sizeof(u));
    u.ut_type = type;
    u.ut_pid = 1000;
    if (user)
        memcpy(u.ut_user, user, strnlen(user, sizeof(u.ut_user)));
    if (line)
        memcpy(u.ut_line, line, strnlen(line, sizeof(u.ut_line)));
    ck_assert_uint_eq(fwrite(&u, sizeof(u), 1, f), 1);
}

/* Writes <dir>/var/run/utmp with the sessions the tests expect: four user
 * sessions of three users (one name fills ut_user with no NUL), plus
 * records that are not sessions. `tail` bytes of a partial record follow. */
static void utmp_build(const char *dir, size_t tail)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/var", dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/var/run", dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/var/run/utmp", dir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    utmp_add(f, BOOT_TIME, "reboot", "~");
    utmp_add(f, RUN_LVL, "runlevel", "~");
    utmp_add(f, LOGIN_PROCESS, "LOGIN", "tty1");
    utmp_add(f, USER_PROCESS, "alice", "pts/0");
    utmp_add(f, USER_PROCESS, "bob", "pts/1");
    utmp_add(f, USER_PROCESS, "alice", "pts/2");
    utmp_add(f, DEAD_PROCESS, "carol", "pts/3");
    utmp_add(f, USER_PROCESS, "a_user_name_of_exactly_32_chars_", "pts/4");
    for (size_t i = 0; i < tail; i++)
        fputc('x', f);
    fclose(f);
}

static void utmp_remove(const char *dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/var/run/utmp", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/var/run", dir);
    rmdir(path);
    snprintf(path, sizeof(path), "%s/var", dir);
    rmdir(path);
    rmdir(dir);
}

/* ---- parsers ---- */

START_TEST(test_parse_loadavg)
{
    char *text = fixture_read("system/proc/loadavg");
    double load[3];
    ck_assert_int_eq(system_parse_loadavg(text, load), 0);
    ck_assert_double_eq_tol(load[0], 0.08, EPS);
    ck_assert_double_eq_tol(load[1], 0.04, EPS);
    ck_assert_double_eq_tol(load[2], 0.01, EPS);
    free(text);
    text = fixture_read("system/loadavg.malformed");
    ck_assert_int_eq(system_parse_loadavg(text, load), -EINVAL);
    free(text);
    text = fixture_read("system/loadavg.short");
    ck_assert_int_eq(system_parse_loadavg(text, load), -EINVAL);
    free(text);
}
END_TEST

START_TEST(test_parse_uptime)
{
    char *text = fixture_read("system/proc/uptime");
    uint64_t up = 0;
    ck_assert_int_eq(system_parse_uptime(text, &up), 0);
    ck_assert_uint_eq(up, 352); /* 352.49 */
    free(text);
    text = fixture_read("system/uptime.malformed");
    ck_assert_int_eq(system_parse_uptime(text, &up), -EINVAL);
    free(text);
    ck_assert_int_eq(system_parse_uptime("inf 1.0\n", &up), -EINVAL);
}
END_TEST

START_TEST(test_count_cpus)
{
    char *text = fixture_read("system/proc/stat");
    ck_assert_int_eq(system_count_cpus(text), 2);
    free(text);
    text = fixture_read("cpu/stat.offline");
    ck_assert_int_eq(system_count_cpus(text), 1);
    free(text);
    ck_assert_int_eq(system_count_cpus("cpu  1 2 3 4\ncpu0 1 2 3 4\ncpu7 1 2 3 4"), 2);
    ck_assert_int_eq(system_count_cpus(""), 0);
}
END_TEST

START_TEST(test_format_uptime)
{
    char out[64];
    system_format_uptime(0, out, sizeof(out));
    ck_assert_str_eq(out, " 0:00");
    system_format_uptime(352, out, sizeof(out));
    ck_assert_str_eq(out, " 0:05");
    system_format_uptime(5 * 3600 + 7 * 60 + 59, out, sizeof(out));
    ck_assert_str_eq(out, " 5:07");
    system_format_uptime(86400, out, sizeof(out));
    ck_assert_str_eq(out, "1 day,  0:00");
    system_format_uptime(2 * 86400 + 13 * 3600 + 4 * 60 + 59, out, sizeof(out));
    ck_assert_str_eq(out, "2 days, 13:04");
    system_format_uptime(400 * 86400 + 23 * 3600, out, sizeof(out));
    ck_assert_str_eq(out, "400 days, 23:00");
}
END_TEST

START_TEST(test_count_users)
{
    char dir[] = "/tmp/check_system.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    utmp_build(dir, 100);
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/var/run/utmp", dir);
    FILE *f = fopen(path, "rb");
    char *buf = malloc(16 * sizeof(struct utmp));
    size_t len = fread(buf, 1, 16 * sizeof(struct utmp), f);
    fclose(f);
    ck_assert_uint_eq(len, 8 * sizeof(struct utmp) + 100);

    struct system_users users;
    system_count_users(buf, len, &users);
    ck_assert_int_eq(users.sessions, 4);
    ck_assert_int_eq(users.unique, 3); /* alice, bob, the 32-character name */
    ck_assert_uint_eq(users.partial, 100);
    system_count_users(buf, 3 * sizeof(struct utmp), &users); /* no session yet */
    ck_assert_int_eq(users.sessions, 0);
    ck_assert_int_eq(users.unique, 0);
    system_count_users(NULL, 0, &users);
    ck_assert_int_eq(users.sessions, 0);
    free(buf);
    utmp_remove(dir);
}
END_TEST

/* ---- read() ---- */

START_TEST(test_read_captured)
{
    char dir[] = "/tmp/check_system.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    utmp_build(dir, 0);
    struct sonde_batch *b = system_test_read(FIXTURES "/system/proc", dir, 0);
    utmp_remove(dir);

    /* Prometheus: the loadavg collector only. */
    ck_assert_uint_eq(b->nseries, 3);
    const struct sonde_series *s = series_find(b, "node_load1", NULL);
    ck_assert_double_eq_tol(s->value, 0.08, EPS);
    ck_assert_int_eq(s->family->type, SONDE_GAUGE);
    ck_assert_str_eq(s->family->help, "1m load average.");
    ck_assert_double_eq_tol(series_find(b, "node_load5", NULL)->value, 0.04, EPS);
    ck_assert_double_eq_tol(series_find(b, "node_load15", NULL)->value, 0.01, EPS);
    ck_assert_str_eq(series_find(b, "node_load15", NULL)->family->help, "15m load average.");

    /* Line protocol: three points, as Telegraf writes them. */
    ck_assert_uint_eq(b->npoints, 3);
    const struct sonde_point *gauges = point_with(b, "load1");
    ck_assert_uint_eq(gauges->ntags, 0);
    ck_assert_uint_eq(gauges->nfields, 6);
    ck_assert_double_eq_tol(field_of(b, "load1", SONDE_FIELD_FLOAT)->v.f, 0.08, EPS);
    ck_assert_double_eq_tol(field_of(b, "load5", SONDE_FIELD_FLOAT)->v.f, 0.04, EPS);
    ck_assert_double_eq_tol(field_of(b, "load15", SONDE_FIELD_FLOAT)->v.f, 0.01, EPS);
    ck_assert_int_eq(field_of(b, "n_cpus", SONDE_FIELD_INT)->v.i, 2);
    ck_assert_int_eq(field_of(b, "n_users", SONDE_FIELD_INT)->v.i, 4);
    ck_assert_int_eq(field_of(b, "n_unique_users", SONDE_FIELD_INT)->v.i, 3);
    const struct sonde_point *p = point_with(b, "uptime");
    ck_assert_uint_eq(p->nfields, 1);
    ck_assert_int_eq(field_of(b, "uptime", SONDE_FIELD_INT)->v.i, 352);
    p = point_with(b, "uptime_format");
    ck_assert_uint_eq(p->nfields, 1);
    ck_assert_str_eq(field_of(b, "uptime_format", SONDE_FIELD_STRING)->v.s, " 0:05");
    ck_assert_uint_eq(b->skipped, 0);
    batch_free(b);
}
END_TEST

START_TEST(test_read_without_utmp)
{
    /* The fixture root has no var/run/utmp: nobody logged in, no error. */
    struct sonde_batch *b = system_test_read(FIXTURES "/system/proc", FIXTURES "/system", 0);
    ck_assert_int_eq(field_of(b, "n_users", SONDE_FIELD_INT)->v.i, 0);
    ck_assert_int_eq(field_of(b, "n_unique_users", SONDE_FIELD_INT)->v.i, 0);
    ck_assert_uint_eq(b->npoints, 3);
    ck_assert_uint_eq(b->skipped, 0);
    batch_free(b);
}
END_TEST

START_TEST(test_read_partial_utmp)
{
    char dir[] = "/tmp/check_system.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    utmp_build(dir, 17); /* a record being written */
    struct sonde_batch *b = system_test_read(FIXTURES "/system/proc", dir, 0);
    utmp_remove(dir);
    ck_assert_int_eq(field_of(b, "n_users", SONDE_FIELD_INT)->v.i, 4);
    ck_assert_uint_eq(b->skipped, 1);
    batch_free(b);
}
END_TEST

START_TEST(test_read_malformed)
{
    /* loadavg "nan ...", uptime "up ...", a stat with no cpu line: all
     * skipped and counted; only the user counts are left. */
    struct sonde_batch *b =
        system_test_read(FIXTURES "/system/malformed/proc", FIXTURES "/system", 0);
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(b->npoints, 1);
    ck_assert_uint_eq(b->points[0]->nfields, 2);
    ck_assert_ptr_null(point_with(b, "load1"));
    ck_assert_ptr_null(point_with(b, "uptime"));
    ck_assert_uint_eq(b->skipped, 3);
    batch_free(b);
}
END_TEST

START_TEST(test_read_missing_procfs)
{
    struct sonde_batch *b =
        system_test_read(FIXTURES "/system/nonexistent", FIXTURES "/system", -ENOENT);
    ck_assert_uint_eq(b->nseries, 0);
    /* utmp was still readable (absent: 0 users). */
    ck_assert_uint_eq(b->npoints, 1);
    ck_assert_int_eq(field_of(b, "n_users", SONDE_FIELD_INT)->v.i, 0);
    batch_free(b);
}
END_TEST

START_TEST(test_utmp_path)
{
    struct sonde_context ctx = {.procfs = "/proc", .sysfs = "/sys", .rootfs = "/"};
    struct system_config config = {0};
    void *state = NULL;
    ck_assert_int_eq(system_init(&state, &config, &ctx), 0);
    ck_assert_str_eq(((struct system_state *)state)->utmp_path, "/var/run/utmp");
    system_destroy(state);
    ctx.rootfs = "/host";
    ck_assert_int_eq(system_init(&state, &config, &ctx), 0);
    ck_assert_str_eq(((struct system_state *)state)->utmp_path, "/host/var/run/utmp");
    system_destroy(state);
}
END_TEST

START_TEST(test_descriptor)
{
    ck_assert_str_eq(sonde_plugin_system.name, "system");
    ck_assert_int_eq(sonde_plugin_system.kind, SONDE_INPUT);
    ck_assert_ptr_null(sonde_plugin_system.options[0].name);
    ck_assert_ptr_null(sonde_plugin_system.write);
}
END_TEST

static Suite *system_suite(void)
{
    Suite *s = suite_create("system");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_parse_loadavg);
    tcase_add_test(tc, test_parse_uptime);
    tcase_add_test(tc, test_count_cpus);
    tcase_add_test(tc, test_format_uptime);
    tcase_add_test(tc, test_count_users);
    suite_add_tcase(s, tc);
    tc = tcase_create("read");
    tcase_add_test(tc, test_read_captured);
    tcase_add_test(tc, test_read_without_utmp);
    tcase_add_test(tc, test_read_partial_utmp);
    tcase_add_test(tc, test_read_malformed);
    tcase_add_test(tc, test_read_missing_procfs);
    tcase_add_test(tc, test_utmp_path);
    tcase_add_test(tc, test_descriptor);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(system_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
