/*
 * check_uname.c - unit tests of plugins/uname.c: the label set from a
 * given utsname (odd characters kept as they are) and a live read that
 * agrees with uname(2).
 */
#include "../../plugins/uname.c"

#include "testutil.h"

START_TEST(test_emit)
{
    struct utsname u;
    memset(&u, 0, sizeof(u));
    snprintf(u.sysname, sizeof(u.sysname), "Linux");
    snprintf(u.nodename, sizeof(u.nodename), "vm");
    snprintf(u.release, sizeof(u.release), "6.18.44-fc-v657");
    snprintf(u.version, sizeof(u.version), "#1 SMP PREEMPT_DYNAMIC @0 \"quoted\"");
    snprintf(u.machine, sizeof(u.machine), "x86_64");
    snprintf(u.domainname, sizeof(u.domainname), "(none)");
    struct sonde_batch *b = batch_new("uname");
    uname_emit(&u, b);
    ck_assert_uint_eq(b->nseries, 1);
    const struct sonde_series *s = &b->series[0];
    ck_assert_str_eq(s->family->name, "node_uname_info");
    ck_assert_int_eq(s->family->type, SONDE_GAUGE);
    ck_assert_double_eq(s->value, 1.0);
    ck_assert_uint_eq(s->nlabels, 6);
    /* Sorted by key, as node_exporter prints them. */
    ck_assert_str_eq(s->labels[0].key, "domainname");
    ck_assert_str_eq(s->labels[0].value, "(none)");
    ck_assert_str_eq(s->labels[1].value, "x86_64");
    ck_assert_str_eq(s->labels[2].value, "vm");
    ck_assert_str_eq(s->labels[3].value, "6.18.44-fc-v657");
    ck_assert_str_eq(s->labels[4].value, "Linux");
    ck_assert_str_eq(s->labels[5].key, "version");
    ck_assert_str_eq(s->labels[5].value, "#1 SMP PREEMPT_DYNAMIC @0 \"quoted\"");
    batch_free(b);
}
END_TEST

START_TEST(test_read_live)
{
    struct utsname u;
    ck_assert_int_eq(uname(&u), 0);
    struct uname_config cfg = {0};
    struct sonde_context ctx = {.procfs = "/proc", .sysfs = "/sys", .rootfs = "/"};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_uname.init(&state, &cfg, &ctx), 0);
    struct sonde_batch *b = batch_new("uname");
    ck_assert_int_eq(sonde_plugin_uname.read(state, b), 0);
    ck_assert_ptr_nonnull(series_find(b, "node_uname_info", "sysname", u.sysname, "release",
                                      u.release, "machine", u.machine, NULL));
    batch_free(b);
    b = batch_new("uname");
    b->want_series = false;
    ck_assert_int_eq(sonde_plugin_uname.read(state, b), 0);
    ck_assert_uint_eq(b->nseries + b->npoints, 0);
    batch_free(b);
    sonde_plugin_uname.destroy(state);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("uname");
    TCase *tc = tcase_create("uname");
    tcase_add_test(tc, test_emit);
    tcase_add_test(tc, test_read_live);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
