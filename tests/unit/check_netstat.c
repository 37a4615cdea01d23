/*
 * check_netstat.c - unit tests of the netstat input: the pair and snmp6
 * parsers, node_exporter's default field regex and a custom one, Telegraf's
 * nstat points with and without dump_zeros, missing files, hand-made odd
 * files, and the counter cache across reads.
 */
#include "../../plugins/netstat.c"

#include "testutil.h"

/* init + read + destroy over a fixture root holding proc/net/. */
static int netstat_read_dir(const char *root, const struct netstat_config *cfg,
                            struct sonde_batch *b)
{
    char procfs[512];
    snprintf(procfs, sizeof(procfs), "%s/proc", root);
    struct sonde_context ctx = {
        .procfs = procfs, .sysfs = "/sys", .rootfs = "/", .hostname = "t", .instance = "netstat"};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_netstat.init(&state, cfg, &ctx), 0);
    int rc = sonde_plugin_netstat.read(state, b);
    sonde_plugin_netstat.destroy(state);
    batch_finish(b);
    return rc;
}

static double netstat_value(const struct sonde_batch *b, const char *name)
{
    const struct sonde_series *s = series_find(b, name, NULL);
    ck_assert_msg(s != NULL, "%s missing", name);
    ck_assert_uint_eq(s->nlabels, 0);
    ck_assert_int_eq(s->family->type, SONDE_UNTYPED);
    return s->value;
}

static int64_t netstat_field(const struct sonde_point *p, const char *key)
{
    const struct sonde_field *f = field_get(p, key);
    ck_assert_msg(f != NULL, "field %s missing", key);
    ck_assert_int_eq(f->type, SONDE_FIELD_INT);
    return f->v.i;
}

static const struct sonde_point *netstat_point(const struct sonde_batch *b, const char *name)
{
    const struct sonde_point *p = point_find(b, "nstat", "name", name, NULL);
    ck_assert_msg(p != NULL, "nstat,name=%s missing", name);
    ck_assert_uint_eq(p->ntags, 1);
    return p;
}

START_TEST(test_parse_pairs)
{
    struct netstat_stats stats = {0};
    netstat_parse_pairs("Tcp: RtoAlgorithm MaxConn\nTcp: 1 -1\nUdp: InDatagrams\nUdp: 7\n", &stats);
    ck_assert_uint_eq(stats.skipped, 0);
    ck_assert_uint_eq(stats.n, 3);
    ck_assert_uint_eq(stats.items[1].proto_len, 3);
    ck_assert_int_eq(memcmp(stats.items[1].proto, "Tcp", 3), 0);
    ck_assert_int_eq(memcmp(stats.items[1].name, "MaxConn", 7), 0);
    ck_assert_double_eq(stats.items[1].value, -1.0);
    ck_assert_int_eq(stats.items[1].ivalue, -1);
    ck_assert_int_eq(memcmp(stats.items[2].name, "InDatagrams", 11), 0);
    ck_assert_int_eq(stats.items[2].ivalue, 7);

    /* Fewer values than names, other protocol on the values line, a bad
     * value, a name that cannot be a metric name: the pair is dropped. */
    const char *bad[] = {"Tcp: A B\nTcp: 1\n", "Tcp: A\nUdp: 1\n", "Tcp: A\nTcp: 1.5\n",
                         "Tcp: A-B\nTcp: 1\n", "Tcp A\nTcp 1\n",   "Tcp: A\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        stats.n = 0;
        stats.skipped = 0;
        netstat_parse_pairs(bad[i], &stats);
        ck_assert_msg(stats.n == 0 && stats.skipped == 1, "%s", bad[i]);
    }
    netstat_stats_free(&stats);
}
END_TEST

START_TEST(test_parse_snmp6)
{
    struct netstat_stats stats = {0};
    netstat_parse_snmp6("Ip6InReceives  \t 12\nUdpLite6InErrors 3\nIcmp6InType134 2\n", &stats);
    ck_assert_uint_eq(stats.skipped, 0);
    ck_assert_uint_eq(stats.n, 3);
    ck_assert_uint_eq(stats.items[0].proto_len, 3);
    ck_assert_int_eq(memcmp(stats.items[0].name, "InReceives", 10), 0);
    ck_assert_uint_eq(stats.items[0].name_len, 10);
    ck_assert_uint_eq(stats.items[1].proto_len, 8); /* "UdpLite6" */
    ck_assert_uint_eq(stats.items[2].proto_len, 5); /* split at the FIRST 6 */
    ck_assert_int_eq(memcmp(stats.items[2].name, "InType134", 9), 0);
    ck_assert_int_eq(stats.items[2].ivalue, 2);
    netstat_stats_free(&stats);
}
END_TEST

/* This machine with node_exporter 1.5's default regex: the 40 series its
 * netstat collector printed here; Telegraf's three nstat points. */
START_TEST(test_read_fixture)
{
    struct netstat_config cfg = {.fields = NETSTAT_DEFAULT_FIELDS};
    struct sonde_batch *b = batch_new("netstat");
    ck_assert_int_eq(netstat_read_dir(FIXTURES "/netstat", &cfg, b), 0);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(b->nseries, 40);
    ck_assert_double_eq(netstat_value(b, "node_netstat_IpExt_InOctets"), 82139794000.0);
    ck_assert_double_eq(netstat_value(b, "node_netstat_IpExt_OutOctets"), 81940696831.0);
    ck_assert_double_eq(netstat_value(b, "node_netstat_Ip_Forwarding"), 2.0);
    ck_assert_double_eq(netstat_value(b, "node_netstat_Tcp_ActiveOpens"), 2220857.0);
    ck_assert_double_eq(netstat_value(b, "node_netstat_Tcp_InSegs"), 24060378.0);
    ck_assert_double_eq(netstat_value(b, "node_netstat_Tcp_OutRsts"), 874.0);
    ck_assert_double_eq(netstat_value(b, "node_netstat_TcpExt_TCPTimeouts"), 2.0);
    ck_assert_double_eq(netstat_value(b, "node_netstat_TcpExt_ListenDrops"), 0.0);
    ck_assert_double_eq(netstat_value(b, "node_netstat_Udp_OutDatagrams"), 433.0);
    ck_assert_double_eq(netstat_value(b, "node_netstat_UdpLite_InErrors"), 0.0);
    ck_assert_double_eq(netstat_value(b, "node_netstat_Ip6_OutOctets"), 880.0);
    ck_assert_double_eq(netstat_value(b, "node_netstat_Icmp6_OutMsgs"), 9.0);
    ck_assert_double_eq(netstat_value(b, "node_netstat_UdpLite6_InErrors"), 0.0);
    /* The dashboard's extra three are not in the default set. */
    ck_assert_ptr_null(series_find(b, "node_netstat_Tcp_MaxConn", NULL));
    ck_assert_ptr_null(series_find(b, "node_netstat_TcpExt_TCPOFOQueue", NULL));
    ck_assert_str_eq(series_find(b, "node_netstat_Icmp6_InMsgs", NULL)->family->help,
                     "Statistic Icmp6InMsgs.");
    ck_assert_str_eq(series_find(b, "node_netstat_TcpExt_ListenDrops", NULL)->family->help,
                     "Statistic TcpExtListenDrops.");

    /* dump_zeros off: only the counters that are not 0. */
    ck_assert_uint_eq(b->npoints, 3);
    const struct sonde_point *p = netstat_point(b, "netstat");
    ck_assert_uint_eq(p->nfields, 28);
    ck_assert_int_eq(netstat_field(p, "IpExtInOctets"), 82139794000);
    ck_assert_int_eq(netstat_field(p, "TcpExtTCPTimeouts"), 2);
    ck_assert_ptr_null(field_get(p, "TcpExtListenDrops"));
    p = netstat_point(b, "snmp");
    ck_assert_uint_eq(p->nfields, 23);
    ck_assert_int_eq(netstat_field(p, "TcpMaxConn"), -1);
    ck_assert_int_eq(netstat_field(p, "TcpActiveOpens"), 2220857);
    ck_assert_int_eq(netstat_field(p, "IpForwarding"), 2);
    p = netstat_point(b, "snmp6");
    ck_assert_uint_eq(p->nfields, 20);
    ck_assert_int_eq(netstat_field(p, "Ip6InOctets"), 128);
    ck_assert_int_eq(netstat_field(p, "Icmp6OutMsgs"), 9);
    batch_free(b);
}
END_TEST

START_TEST(test_options)
{
    /* Every counter, and the dashboard's three extras by name. */
    struct netstat_config cfg = {.fields = ".*", .dump_zeros = true};
    struct sonde_batch *b = batch_new("netstat");
    ck_assert_int_eq(netstat_read_dir(FIXTURES "/netstat", &cfg, b), 0);
    ck_assert_uint_eq(b->nseries, 229 + 83 + 90);
    ck_assert_double_eq(netstat_value(b, "node_netstat_Tcp_MaxConn"), -1.0);
    ck_assert_double_eq(netstat_value(b, "node_netstat_TcpExt_TCPOFOQueue"), 0.0);
    ck_assert_double_eq(netstat_value(b, "node_netstat_TcpExt_TCPRcvQDrop"), 0.0);
    ck_assert_uint_eq(netstat_point(b, "netstat")->nfields, 229);
    ck_assert_uint_eq(netstat_point(b, "snmp")->nfields, 83);
    ck_assert_uint_eq(netstat_point(b, "snmp6")->nfields, 90);
    ck_assert_int_eq(netstat_field(netstat_point(b, "netstat"), "TcpExtListenDrops"), 0);
    batch_free(b);

    cfg.fields = "^(Tcp_MaxConn|TcpExt_TCP(OFOQueue|RcvQDrop))$";
    b = batch_new("netstat");
    ck_assert_int_eq(netstat_read_dir(FIXTURES "/netstat", &cfg, b), 0);
    ck_assert_uint_eq(b->nseries, 3);
    batch_free(b);
}
END_TEST

START_TEST(test_read_odd)
{
    struct netstat_config cfg = {.fields = NETSTAT_DEFAULT_FIELDS};
    struct sonde_batch *b = batch_new("netstat");
    ck_assert_int_eq(netstat_read_dir(FIXTURES "/netstat/odd", &cfg, b), 0);
    /* netstat: short pair, IpEx/IpExt, 12x, names without values; snmp6:
     * three tokens, "x", no value. */
    ck_assert_uint_eq(b->skipped, 7);
    ck_assert_uint_eq(b->nseries, 9);
    ck_assert_double_eq(netstat_value(b, "node_netstat_TcpExt_SyncookiesSent"), 5.0);
    ck_assert_double_eq(netstat_value(b, "node_netstat_Ip_Forwarding"), 1.0);
    ck_assert_double_eq(netstat_value(b, "node_netstat_Tcp_CurrEstab"), 3.0);
    ck_assert_double_eq(netstat_value(b, "node_netstat_Tcp_InSegs"), 18446744073709551615.0);
    ck_assert_double_eq(netstat_value(b, "node_netstat_Udp_InDatagrams"), 10.0);
    ck_assert_double_eq(netstat_value(b, "node_netstat_Udp_NoPorts"), 0.0);
    ck_assert_double_eq(netstat_value(b, "node_netstat_Ip6_InOctets"), 128.0);
    ck_assert_double_eq(netstat_value(b, "node_netstat_Udp6_NoPorts"), 0.0);
    ck_assert_double_eq(netstat_value(b, "node_netstat_Icmp6_InErrors"), 0.0);
    ck_assert_ptr_null(series_find(b, "node_netstat_TcpExt_ListenDrops", NULL));
    ck_assert_ptr_null(series_find(b, "node_netstat_IpExt_OutOctets", NULL));

    ck_assert_uint_eq(b->npoints, 3);
    const struct sonde_point *p = netstat_point(b, "netstat");
    ck_assert_uint_eq(p->nfields, 1);
    ck_assert_int_eq(netstat_field(p, "TcpExtSyncookiesSent"), 5);
    p = netstat_point(b, "snmp");
    ck_assert_uint_eq(p->nfields, 6);
    ck_assert_int_eq(netstat_field(p, "TcpMaxConn"), -1);
    ck_assert_int_eq(netstat_field(p, "TcpInSegs"), INT64_MAX); /* clamped */
    ck_assert_int_eq(netstat_field(p, "IpDefaultTTL"), 64);
    p = netstat_point(b, "snmp6");
    ck_assert_uint_eq(p->nfields, 2);
    ck_assert_int_eq(netstat_field(p, "Ip6InOctets"), 128);
    ck_assert_int_eq(netstat_field(p, "FooBar"), 3); /* no 6: line protocol only */
    batch_free(b);
}
END_TEST

/* snmp6 absent (IPv6 off): fine. netstat or snmp absent: the read fails
 * and nothing is emitted, as node_exporter's collector fails. */
START_TEST(test_missing_files)
{
    struct netstat_config cfg = {.fields = NETSTAT_DEFAULT_FIELDS};
    struct sonde_batch *b = batch_new("netstat");
    ck_assert_int_eq(netstat_read_dir(FIXTURES "/netstat/no-snmp6", &cfg, b), 0);
    ck_assert_uint_eq(b->nseries, 40 - 12); /* the 12 Ip6, Icmp6, Udp6, UdpLite6 ones */
    ck_assert_uint_eq(b->npoints, 2);
    ck_assert_ptr_null(point_find(b, "nstat", "name", "snmp6", NULL));
    batch_free(b);

    b = batch_new("netstat");
    ck_assert_int_eq(netstat_read_dir(FIXTURES "/netstat/no-snmp", &cfg, b), -ENOENT);
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(b->npoints, 0);
    batch_free(b);
}
END_TEST

/* One instance reading the capture, the odd files, the capture again: the
 * cache must follow what the files say. */
START_TEST(test_cache_follows_files)
{
    char tmp[] = "/tmp/sonde-netstat-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    char procfs[600], cmd[2000];
    snprintf(procfs, sizeof(procfs), "%s/proc", tmp);
    struct sonde_context ctx = {
        .procfs = procfs, .sysfs = "/sys", .rootfs = "/", .hostname = "t", .instance = "netstat"};
    struct netstat_config cfg = {.fields = NETSTAT_DEFAULT_FIELDS};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_netstat.init(&state, &cfg, &ctx), 0);
    const char *sources[] = {"netstat", "netstat/odd", "netstat"};
    const size_t want[] = {40, 9, 40};
    for (size_t i = 0; i < 3; i++) {
        /* cp rewrites the files in place: the instance keeps them open. */
        snprintf(cmd, sizeof(cmd), "mkdir -p %s/net && cp %s/%s/proc/net/* %s/net/", procfs,
                 FIXTURES, sources[i], procfs);
        ck_assert_int_eq(system(cmd), 0);
        struct sonde_batch *b = batch_new("netstat");
        ck_assert_int_eq(sonde_plugin_netstat.read(state, b), 0);
        ck_assert_uint_eq(b->nseries, want[i]);
        ck_assert_ptr_nonnull(series_find(b, "node_netstat_Ip_Forwarding", NULL));
        batch_free(b);
    }
    sonde_plugin_netstat.destroy(state);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_want_switches)
{
    struct netstat_config cfg = {.fields = NETSTAT_DEFAULT_FIELDS};
    struct sonde_batch *b = batch_new("netstat");
    b->want_points = false;
    ck_assert_int_eq(netstat_read_dir(FIXTURES "/netstat", &cfg, b), 0);
    ck_assert_uint_eq(b->nseries, 40);
    ck_assert_uint_eq(b->npoints, 0);
    batch_free(b);

    b = batch_new("netstat");
    b->want_series = false;
    ck_assert_int_eq(netstat_read_dir(FIXTURES "/netstat", &cfg, b), 0);
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(b->npoints, 3);
    batch_free(b);
}
END_TEST

static Suite *netstat_suite(void)
{
    Suite *s = suite_create("netstat");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_pairs);
    tcase_add_test(tc, test_parse_snmp6);
    tcase_add_test(tc, test_read_fixture);
    tcase_add_test(tc, test_options);
    tcase_add_test(tc, test_read_odd);
    tcase_add_test(tc, test_missing_files);
    tcase_add_test(tc, test_cache_follows_files);
    tcase_add_test(tc, test_want_switches);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(netstat_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
