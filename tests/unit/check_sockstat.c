/*
 * check_sockstat.c - unit tests of the sockstat input: the line parser,
 * reads of a capture of this machine (sockstat and sockstat6), hand-made odd
 * lines, a missing sockstat6, and the want_series switch.
 */
#include "../../plugins/sockstat.c"

#include "testutil.h"

static int sockstat_read_dir(const char *root, struct sonde_batch *b)
{
    char procfs[512];
    snprintf(procfs, sizeof(procfs), "%s/proc", root);
    struct sonde_context ctx = {
        .procfs = procfs, .sysfs = "/sys", .rootfs = "/", .hostname = "t", .instance = "sockstat"};
    struct sockstat_config cfg = {0};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_sockstat.init(&state, &cfg, &ctx), 0);
    int rc = sonde_plugin_sockstat.read(state, b);
    sonde_plugin_sockstat.destroy(state);
    batch_finish(b);
    return rc;
}

static double sockstat_value(const struct sonde_batch *b, const char *name)
{
    const struct sonde_series *s = series_find(b, name, NULL);
    ck_assert_msg(s != NULL, "%s missing", name);
    ck_assert_uint_eq(s->nlabels, 0);
    ck_assert_int_eq(s->family->type, SONDE_GAUGE);
    return s->value;
}

static double sockstat_page_size(void)
{
    long page = sysconf(_SC_PAGESIZE);
    return page > 0 ? (double)page : 4096.0;
}

START_TEST(test_parse_line)
{
    struct sockstat_proto proto;
    bool is_used;
    int64_t used;
    const char *l = "TCP: inuse 8 orphan 0 tw 106 alloc 8 mem 133";
    ck_assert_int_eq(sockstat_parse_line(l, l + strlen(l), &proto, &is_used, &used), 0);
    ck_assert(!is_used);
    ck_assert_uint_eq(proto.name_len, 3);
    ck_assert_int_eq(memcmp(proto.name, "TCP", 3), 0);
    ck_assert(proto.has[SOCKSTAT_INUSE] && proto.has[SOCKSTAT_TW] && proto.has[SOCKSTAT_MEM]);
    ck_assert(!proto.has[SOCKSTAT_MEMORY]);
    ck_assert_int_eq(proto.value[SOCKSTAT_TW], 106);
    ck_assert_int_eq(proto.value[SOCKSTAT_MEM], 133);

    l = "sockets: used 20";
    ck_assert_int_eq(sockstat_parse_line(l, l + strlen(l), &proto, &is_used, &used), 0);
    ck_assert(is_used);
    ck_assert_int_eq(used, 20);

    l = "  ";
    ck_assert_int_eq(sockstat_parse_line(l, l + strlen(l), &proto, &is_used, &used), -ENODATA);
    const char *bad[] = {
        "TCP: inuse", "TCP: inuse 1 tw", "TCP: inuse 0x", "TCP inuse 1", "T-P: inuse 1",
        "TCP:",       ": inuse 1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(sockstat_parse_line(bad[i], bad[i] + strlen(bad[i]), &proto, &is_used,
                                          &used) == -EINVAL,
                      "%s", bad[i]);
}
END_TEST

/* This machine: the 20 series node_exporter printed here. */
START_TEST(test_read_fixture)
{
    struct sonde_batch *b = batch_new("sockstat");
    ck_assert_int_eq(sockstat_read_dir(FIXTURES "/sockstat", b), 0);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(b->nseries, 20);
    ck_assert_double_eq(sockstat_value(b, "node_sockstat_sockets_used"), 20.0);
    ck_assert_double_eq(sockstat_value(b, "node_sockstat_TCP_inuse"), 8.0);
    ck_assert_double_eq(sockstat_value(b, "node_sockstat_TCP_orphan"), 0.0);
    ck_assert_double_eq(sockstat_value(b, "node_sockstat_TCP_tw"), 106.0);
    ck_assert_double_eq(sockstat_value(b, "node_sockstat_TCP_alloc"), 8.0);
    ck_assert_double_eq(sockstat_value(b, "node_sockstat_TCP_mem"), 133.0);
    ck_assert_double_eq(sockstat_value(b, "node_sockstat_TCP_mem_bytes"),
                        133.0 * sockstat_page_size());
    ck_assert_double_eq(sockstat_value(b, "node_sockstat_UDP_mem_bytes"), 0.0);
    ck_assert_double_eq(sockstat_value(b, "node_sockstat_FRAG_memory"), 0.0);
    ck_assert_double_eq(sockstat_value(b, "node_sockstat_UDPLITE6_inuse"), 0.0);
    ck_assert_double_eq(sockstat_value(b, "node_sockstat_FRAG6_memory"), 0.0);
    ck_assert_ptr_null(series_find(b, "node_sockstat_UDP_tw", NULL));
    ck_assert_ptr_null(series_find(b, "node_sockstat_TCP6_mem", NULL));
    ck_assert_str_eq(series_find(b, "node_sockstat_TCP_tw", NULL)->family->help,
                     "Number of TCP sockets in state tw.");
    ck_assert_str_eq(series_find(b, "node_sockstat_sockets_used", NULL)->family->help,
                     "Number of IPv4 sockets in use.");
    ck_assert_uint_eq(b->npoints, 0);
    batch_free(b);
}
END_TEST

/* Bad lines skipped and counted; sockstat6 absent (IPv6 off) is fine. */
START_TEST(test_read_odd)
{
    struct sonde_batch *b = batch_new("sockstat");
    ck_assert_int_eq(sockstat_read_dir(FIXTURES "/sockstat/odd", b), 0);
    ck_assert_uint_eq(b->skipped, 5); /* UDPLITE, RAW, BAD-NAME, NOCOLON, SCTP */
    ck_assert_uint_eq(b->nseries, 13);
    ck_assert_double_eq(sockstat_value(b, "node_sockstat_sockets_used"), 42.0);
    ck_assert_double_eq(sockstat_value(b, "node_sockstat_TCP_orphan"), 1.0);
    ck_assert_double_eq(sockstat_value(b, "node_sockstat_UDP_inuse"), 2.0);
    ck_assert_double_eq(sockstat_value(b, "node_sockstat_UDP_mem_bytes"),
                        5.0 * sockstat_page_size());
    ck_assert_ptr_null(series_find(b, "node_sockstat_UDP_extra", NULL));
    /* inuse is always there, as procfs gives node_exporter a plain int. */
    ck_assert_double_eq(sockstat_value(b, "node_sockstat_FRAG_inuse"), 0.0);
    ck_assert_double_eq(sockstat_value(b, "node_sockstat_FRAG_memory"), 3.0);
    ck_assert_double_eq(sockstat_value(b, "node_sockstat_TCP6_inuse"), -2.0);
    ck_assert_ptr_null(series_find(b, "node_sockstat_RAW_inuse", NULL));
    batch_free(b);
}
END_TEST

START_TEST(test_read_empty_missing_unwanted)
{
    struct sonde_batch *b = batch_new("sockstat");
    ck_assert_int_eq(sockstat_read_dir(FIXTURES "/sockstat/empty", b), 0);
    ck_assert_uint_eq(b->nseries, 0);
    batch_free(b);

    /* Neither file: nothing, and no error (node_exporter says success). */
    b = batch_new("sockstat");
    ck_assert_int_eq(sockstat_read_dir(FIXTURES "/sockstat/no-such-dir", b), 0);
    ck_assert_uint_eq(b->nseries, 0);
    batch_free(b);

    b = batch_new("sockstat");
    b->want_series = false;
    ck_assert_int_eq(sockstat_read_dir(FIXTURES "/sockstat", b), 0);
    ck_assert_uint_eq(b->nseries + b->npoints, 0);
    batch_free(b);
}
END_TEST

/* A "sockets" line in sockstat6 would not be IPv4's: node_exporter ignores it. */
START_TEST(test_used_only_from_ipv4)
{
    struct sockstat_file f = {0};
    sockstat_parse("sockets: used 3\nTCP6: inuse 1\n", &f);
    ck_assert(f.has_used);
    struct sonde_batch *b = batch_new("sockstat");
    sockstat_emit(b, &f, true, 4096.0);
    ck_assert_uint_eq(b->nseries, 1);
    ck_assert_double_eq(sockstat_value(b, "node_sockstat_TCP6_inuse"), 1.0);
    batch_free(b);
    b = batch_new("sockstat");
    sockstat_emit(b, &f, false, 4096.0);
    ck_assert_uint_eq(b->nseries, 2);
    ck_assert_double_eq(sockstat_value(b, "node_sockstat_sockets_used"), 3.0);
    batch_free(b);
    sockstat_file_free(&f);
}
END_TEST

static Suite *sockstat_suite(void)
{
    Suite *s = suite_create("sockstat");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_line);
    tcase_add_test(tc, test_read_fixture);
    tcase_add_test(tc, test_read_odd);
    tcase_add_test(tc, test_read_empty_missing_unwanted);
    tcase_add_test(tc, test_used_only_from_ipv4);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sockstat_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
