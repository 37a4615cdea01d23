/*
 * check_processes.c - unit tests of plugins/processes.c: the stat parser
 * (command names with spaces and parentheses, short and overlong lines), a
 * capture of four processes of this machine and a hand-made tree of odd
 * ones (whose node_exporter 1.5 output was recorded): vanished pids and
 * threads, a task-less zombie, a parked task, a missing limit file.
 */
#include "../../plugins/processes.c"

#include "testutil.h"

static int processes_read_dir(const char *root, struct sonde_batch *b)
{
    char procfs[512];
    snprintf(procfs, sizeof(procfs), "%s/proc", root);
    struct sonde_context ctx = {
        .procfs = procfs, .sysfs = "/sys", .rootfs = "/", .hostname = "t", .instance = "processes"};
    struct processes_config cfg = {0};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_processes.init(&state, &cfg, &ctx), 0);
    int rc = sonde_plugin_processes.read(state, b);
    sonde_plugin_processes.destroy(state);
    batch_finish(b);
    return rc;
}

static double prom(const struct sonde_batch *b, const char *name, const char *key,
                   const char *value)
{
    const struct sonde_series *s =
        key ? series_find(b, name, key, value, NULL) : series_find(b, name, NULL);
    ck_assert_msg(s != NULL, "%s{%s=%s} missing", name, key ? key : "", value ? value : "");
    ck_assert_int_eq(s->family->type, SONDE_GAUGE);
    return s->value;
}

static int64_t lp(const struct sonde_point *p, const char *key)
{
    const struct sonde_field *f = field_get(p, key);
    ck_assert_msg(f != NULL, "field %s missing", key);
    ck_assert_int_eq(f->type, SONDE_FIELD_INT);
    return f->v.i;
}

START_TEST(test_parse_stat)
{
    struct processes_stat st;
    const char *l = "1 (process_api) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 11 0 5\n";
    ck_assert_int_eq(processes_parse_stat(l, strlen(l), &st), 0);
    ck_assert_int_eq(st.state, 'S');
    ck_assert_uint_eq(st.num_threads, 11);
    l = "100 (a) b)) Z 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 6 0";
    ck_assert_int_eq(processes_parse_stat(l, strlen(l), &st), 0);
    ck_assert_int_eq(st.state, 'Z');
    ck_assert_uint_eq(st.num_threads, 1);
    const char *bad[] = {
        "102 garbage without paren\n",
        "5 (x) S 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0\n", /* ends before num_threads */
        "5 (x) SS 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0\n",
        "5 (x) S 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 -1 0\n",
        "5 (x)S 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0\n",
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(processes_parse_stat(bad[i], strlen(bad[i]), &st) == -EINVAL, "%s", bad[i]);
}
END_TEST

/* Four processes captured here; node_exporter 1.5 gave the same numbers. */
START_TEST(test_read_fixture)
{
    struct sonde_batch *b = batch_new("processes");
    ck_assert_int_eq(processes_read_dir(FIXTURES "/processes", b), 0);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_double_eq(prom(b, "node_processes_pids", NULL, NULL), 4.0);
    ck_assert_double_eq(prom(b, "node_processes_threads", NULL, NULL), 18.0);
    ck_assert_double_eq(prom(b, "node_processes_max_threads", NULL, NULL), 193102.0);
    ck_assert_double_eq(prom(b, "node_processes_max_processes", NULL, NULL), 32768.0);
    ck_assert_double_eq(prom(b, "node_processes_state", "state", "S"), 3.0);
    ck_assert_double_eq(prom(b, "node_processes_state", "state", "I"), 1.0);
    ck_assert_uint_eq(series_count(b, "node_processes_state"), 2);
    ck_assert_double_eq(prom(b, "node_processes_threads_state", "thread_state", "S"), 17.0);
    ck_assert_double_eq(prom(b, "node_processes_threads_state", "thread_state", "I"), 1.0);
    ck_assert_uint_eq(series_count(b, "node_processes_threads_state"), 2);
    ck_assert_str_eq(series_find(b, "node_processes_pids", NULL)->family->help, "Number of PIDs");

    ck_assert_uint_eq(b->npoints, 1);
    const struct sonde_point *p = point_find(b, "processes", NULL);
    ck_assert_uint_eq(p->ntags, 0);
    ck_assert_int_eq(lp(p, "sleeping"), 3);
    ck_assert_int_eq(lp(p, "idle"), 1);
    ck_assert_int_eq(lp(p, "running"), 0);
    ck_assert_int_eq(lp(p, "blocked"), 0);
    ck_assert_int_eq(lp(p, "zombies"), 0);
    ck_assert_int_eq(lp(p, "stopped"), 0);
    ck_assert_int_eq(lp(p, "dead"), 0);
    ck_assert_int_eq(lp(p, "paging"), 0);
    ck_assert_int_eq(lp(p, "unknown"), 0);
    ck_assert_int_eq(lp(p, "total"), 4);
    ck_assert_int_eq(lp(p, "total_threads"), 18);
    ck_assert_ptr_null(field_get(p, "parked"));
    ck_assert_uint_eq(p->nfields, 11);
    batch_free(b);
}
END_TEST

/* 100: zombie "a) b)" without a task directory (no thread state, as
 * node_exporter); 101: no stat (vanished); 102: malformed (counted); 103:
 * parked, its thread 104 blocked, thread 105 vanished; 106: state K; 107:
 * empty stat (exited while read); no threads-max: the read fails after
 * everything else is out, as node_exporter fails its collector. */
START_TEST(test_read_odd)
{
    struct sonde_batch *b = batch_new("processes");
    ck_assert_int_eq(processes_read_dir(FIXTURES "/processes/odd", b), -ENOENT);
    ck_assert_uint_eq(b->skipped, 1);
    ck_assert_double_eq(prom(b, "node_processes_pids", NULL, NULL), 3.0);
    ck_assert_double_eq(prom(b, "node_processes_threads", NULL, NULL), 5.0);
    ck_assert_double_eq(prom(b, "node_processes_state", "state", "Z"), 1.0);
    ck_assert_double_eq(prom(b, "node_processes_state", "state", "P"), 1.0);
    ck_assert_double_eq(prom(b, "node_processes_state", "state", "K"), 1.0);
    ck_assert_double_eq(prom(b, "node_processes_threads_state", "thread_state", "P"), 1.0);
    ck_assert_double_eq(prom(b, "node_processes_threads_state", "thread_state", "D"), 1.0);
    ck_assert_uint_eq(series_count(b, "node_processes_threads_state"), 2);
    ck_assert_ptr_null(series_find(b, "node_processes_max_threads", NULL));
    ck_assert_double_eq(prom(b, "node_processes_max_processes", NULL, NULL), 4194304.0);

    const struct sonde_point *p = point_find(b, "processes", NULL);
    ck_assert_int_eq(lp(p, "zombies"), 1);
    ck_assert_int_eq(lp(p, "parked"), 1);
    ck_assert_int_eq(lp(p, "blocked"), 0); /* 104 is a thread, not a process */
    ck_assert_int_eq(lp(p, "total"), 3);   /* K only counts in the total */
    ck_assert_int_eq(lp(p, "total_threads"), 5);
    batch_free(b);
}
END_TEST

START_TEST(test_want_switches_and_missing)
{
    /* Line protocol only: no task walk, no limit files needed. */
    struct sonde_batch *b = batch_new("processes");
    b->want_series = false;
    ck_assert_int_eq(processes_read_dir(FIXTURES "/processes/odd", b), 0);
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(b->npoints, 1);
    batch_free(b);
    b = batch_new("processes");
    ck_assert_int_eq(processes_read_dir(FIXTURES "/processes/no-such-dir", b), -ENOENT);
    ck_assert_uint_eq(b->nseries + b->npoints, 0);
    batch_free(b);
}
END_TEST

/* The live /proc: this test itself is there, and running. */
START_TEST(test_scan_live)
{
    struct processes_counts *c = malloc(sizeof(*c));
    ck_assert_int_eq(processes_scan("/proc", true, c), 0);
    ck_assert_uint_gt(c->pids, 1);
    ck_assert_uint_ge(c->threads, c->pids);
    ck_assert_uint_ge(c->proc_states['R'], 1);
    uint64_t threads = 0;
    for (int s = 0; s < 256; s++)
        threads += c->thread_states[s];
    ck_assert_uint_ge(threads, c->pids - 2); /* processes may exit during the walk */
    free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("processes");
    TCase *tc = tcase_create("processes");
    tcase_add_test(tc, test_parse_stat);
    tcase_add_test(tc, test_read_fixture);
    tcase_add_test(tc, test_read_odd);
    tcase_add_test(tc, test_want_switches_and_missing);
    tcase_add_test(tc, test_scan_live);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
