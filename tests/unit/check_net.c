/*
 * check_net.c - unit tests of the net input: the /proc/net/dev line and file
 * parsers (odd names, truncated lines, counters near 2^64, empty files), the
 * /proc/net/snmp parser, Telegraf's interface choice, and full reads over
 * fixture directories (a capture of this machine and hand-made odd cases).
 */
#include "../../plugins/net.c"

#include "testutil.h"

/* Runs init + read + destroy over a fixture root holding proc/ and sys/. */
static int net_read_dir(const char *root, const struct net_config *cfg, struct sonde_batch *b)
{
    char procfs[512], sysfs[512];
    snprintf(procfs, sizeof(procfs), "%s/proc", root);
    snprintf(sysfs, sizeof(sysfs), "%s/sys", root);
    struct sonde_context ctx = {
        .procfs = procfs, .sysfs = sysfs, .rootfs = "/", .hostname = "t", .instance = "net"};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_net.init(&state, cfg, &ctx), 0);
    int rc = sonde_plugin_net.read(state, b);
    sonde_plugin_net.destroy(state);
    batch_finish(b);
    return rc;
}

static double net_value(const struct sonde_batch *b, const char *name, const char *device)
{
    const struct sonde_series *s = series_find(b, name, "device", device, NULL);
    ck_assert_msg(s != NULL, "%s{device=%s} missing", name, device);
    ck_assert_uint_eq(s->nlabels, 1);
    return s->value;
}

static int64_t net_field(const struct sonde_point *p, const char *key)
{
    const struct sonde_field *f = field_get(p, key);
    ck_assert_msg(f != NULL, "field %s missing", key);
    ck_assert_int_eq(f->type, SONDE_FIELD_INT);
    return f->v.i;
}

START_TEST(test_parse_line)
{
    struct net_dev d;
    const char *l = "  eth0: 65403706    1925    0    0    0     0          0         0    92430"
                    "    1222    0    0    0     0       0          0";
    ck_assert_int_eq(net_parse_line(l, l + strlen(l), &d), 0);
    ck_assert_str_eq(d.name, "eth0");
    ck_assert_uint_eq(d.column[NET_RX_BYTES], 65403706);
    ck_assert_uint_eq(d.column[NET_RX_PACKETS], 1925);
    ck_assert_uint_eq(d.column[NET_TX_BYTES], 92430);
    ck_assert_uint_eq(d.column[NET_TX_PACKETS], 1222);

    /* A wide counter leaves no blank after the colon. */
    l = "eth1:12345678901 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16";
    ck_assert_int_eq(net_parse_line(l, l + strlen(l), &d), 0);
    ck_assert_str_eq(d.name, "eth1");
    ck_assert_uint_eq(d.column[NET_RX_BYTES], 12345678901ull);
    ck_assert_uint_eq(d.column[NET_TX_COMPRESSED], 16);
    ck_assert_uint_eq(d.column[NET_TX_COLLS], 14);
    ck_assert_uint_eq(d.column[NET_TX_CARRIER], 15);
}
END_TEST

START_TEST(test_parse_line_odd_names)
{
    struct net_dev d;
    /* The name ends at the LAST colon. */
    const char *l = "ibr10:30:       1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16";
    ck_assert_int_eq(net_parse_line(l, l + strlen(l), &d), 0);
    ck_assert_str_eq(d.name, "ibr10:30");
    ck_assert_uint_eq(d.column[NET_RX_BYTES], 1);
    ck_assert_uint_eq(d.column[NET_TX_COMPRESSED], 16);

    l = "  my dev : 100 200 0 0 0 0 0 0 300 400 0 0 0 0 0 0";
    ck_assert_int_eq(net_parse_line(l, l + strlen(l), &d), 0);
    ck_assert_str_eq(d.name, "my dev");
    ck_assert_uint_eq(d.column[NET_TX_PACKETS], 400);

    l = "a23456789012345678901234567890123456789012345678901234567890abcd: 0 0 0 0 0 0 0 0 0 0 "
        "0 0 0 0 0 0";
    ck_assert_int_eq(net_parse_line(l, l + strlen(l), &d), -ENAMETOOLONG);
}
END_TEST

START_TEST(test_parse_line_bad)
{
    struct net_dev d;
    const char *bad[] = {
        " trunc:  1 2 3 4 5",
        "   big: 18446744073709551616 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0",
        "   neg: -1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0",
        "nocolon 1 2 3",
        "    : 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0",
        "  x: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 1x",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(net_parse_line(bad[i], bad[i] + strlen(bad[i]), &d) < 0, "%s", bad[i]);

    /* A truncated line must not borrow numbers from the next line. */
    const char *two = "  a: 1 2 3\n  b: 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19\n";
    ck_assert_int_lt(net_parse_line(two, strchr(two, '\n'), &d), 0);
}
END_TEST

START_TEST(test_parse_fixture)
{
    char *buf = fixture_read("net/proc/net/dev");
    struct net_devs devs = {0};
    net_parse_dev(buf, &devs);
    ck_assert_uint_eq(devs.skipped, 0);
    ck_assert_uint_eq(devs.n, 4);
    ck_assert_str_eq(devs.items[0].name, "lo");
    ck_assert_uint_eq(devs.items[0].column[NET_RX_BYTES], 182652);
    ck_assert_uint_eq(devs.items[0].column[NET_TX_PACKETS], 141);
    ck_assert_str_eq(devs.items[1].name, "ifb0");
    ck_assert_str_eq(devs.items[3].name, "eth0");
    ck_assert_uint_eq(devs.items[3].column[NET_RX_BYTES], 65403706);
    ck_assert_uint_eq(devs.items[3].column[NET_TX_BYTES], 92430);
    net_devs_free(&devs);
    free(buf);
}
END_TEST

START_TEST(test_parse_empty_and_headers)
{
    struct net_devs devs = {0};
    net_parse_dev("", &devs);
    ck_assert_uint_eq(devs.n, 0);
    ck_assert_uint_eq(devs.skipped, 0);
    char *buf = fixture_read("net/headers/proc/net/dev");
    net_parse_dev(buf, &devs);
    ck_assert_uint_eq(devs.n, 0);
    ck_assert_uint_eq(devs.skipped, 0);
    net_devs_free(&devs);
    free(buf);
}
END_TEST

/* This machine, Telegraf's default choice: only eth0 is up and not loopback
 * (lo has IFF_LOOPBACK, ifb0/ifb1 are down); Prometheus gets all four. */
START_TEST(test_read_fixture)
{
    struct net_config cfg = {.ignore_protocol_stats = true};
    struct sonde_batch *b = batch_new("net");
    ck_assert_int_eq(net_read_dir(FIXTURES "/net", &cfg, b), 0);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(b->nseries, 4 * 17); /* 16 columns and rx_nohandler from sysfs */
    for (size_t c = 0; c < NET_NCOLUMNS; c++)
        ck_assert_uint_eq(series_count(b, net_families[c].name), 4);
    ck_assert_double_eq(net_value(b, "node_network_receive_nohandler_total", "eth0"), 7.0);
    ck_assert_double_eq(net_value(b, "node_network_receive_nohandler_total", "lo"), 0.0);
    ck_assert_double_eq(net_value(b, "node_network_receive_bytes_total", "eth0"), 65403706.0);
    ck_assert_double_eq(net_value(b, "node_network_receive_packets_total", "eth0"), 1925.0);
    ck_assert_double_eq(net_value(b, "node_network_transmit_bytes_total", "eth0"), 92430.0);
    ck_assert_double_eq(net_value(b, "node_network_transmit_packets_total", "eth0"), 1222.0);
    ck_assert_double_eq(net_value(b, "node_network_receive_bytes_total", "lo"), 182652.0);
    ck_assert_double_eq(net_value(b, "node_network_transmit_carrier_total", "ifb1"), 0.0);
    const struct sonde_series *s = series_find(b, "node_network_transmit_colls_total", NULL);
    ck_assert_int_eq(s->family->type, SONDE_COUNTER);
    ck_assert_str_eq(s->family->help, "Network device statistic transmit_colls.");

    ck_assert_uint_eq(b->npoints, 1);
    const struct sonde_point *p = point_find(b, "net", "interface", "eth0", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->ntags, 1);
    ck_assert_uint_eq(p->nfields, 8);
    ck_assert_int_eq(net_field(p, "bytes_recv"), 65403706);
    ck_assert_int_eq(net_field(p, "packets_recv"), 1925);
    ck_assert_int_eq(net_field(p, "bytes_sent"), 92430);
    ck_assert_int_eq(net_field(p, "packets_sent"), 1222);
    ck_assert_int_eq(net_field(p, "err_in"), 0);
    ck_assert_int_eq(net_field(p, "err_out"), 0);
    ck_assert_int_eq(net_field(p, "drop_in"), 0);
    ck_assert_int_eq(net_field(p, "drop_out"), 0);
    batch_free(b);
}
END_TEST

START_TEST(test_read_odd)
{
    struct net_config cfg = {.ignore_protocol_stats = true};
    struct sonde_batch *b = batch_new("net");
    ck_assert_int_eq(net_read_dir(FIXTURES "/net/odd", &cfg, b), 0);
    ck_assert_uint_eq(b->skipped, 4); /* trunc, big, neg, nocolon */
    ck_assert_uint_eq(b->nseries, 4 * 16);
    ck_assert_double_eq(net_value(b, "node_network_receive_bytes_total", "ibr10:30"), 1.0);
    ck_assert_double_eq(net_value(b, "node_network_transmit_carrier_total", "ibr10:30"), 15.0);
    ck_assert_double_eq(net_value(b, "node_network_transmit_packets_total", "my dev"), 400.0);
    /* Near 2^64: the double rounds, as node_exporter's float64 does. */
    ck_assert_double_eq(net_value(b, "node_network_receive_bytes_total", "eth0"),
                        18446744073709551615.0);
    ck_assert_double_eq(net_value(b, "node_network_transmit_bytes_total", "eth0"),
                        9007199254740992.0);
    ck_assert_ptr_null(series_find(b, "node_network_receive_bytes_total", "device", "trunc", NULL));

    /* Line protocol: eth0 and ibr10:30 are up; "my dev" is down, lo loopback. */
    ck_assert_uint_eq(b->npoints, 2);
    const struct sonde_point *p = point_find(b, "net", "interface", "eth0", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(net_field(p, "bytes_recv"), INT64_MAX); /* clamped as Telegraf does */
    ck_assert_int_eq(net_field(p, "packets_recv"), INT64_MAX);
    ck_assert_int_eq(net_field(p, "bytes_sent"), 9007199254740993); /* exact in an int */
    p = point_find(b, "net", "interface", "ibr10:30", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(net_field(p, "err_in"), 3);
    ck_assert_int_eq(net_field(p, "drop_in"), 4);
    ck_assert_int_eq(net_field(p, "err_out"), 11);
    ck_assert_int_eq(net_field(p, "drop_out"), 12);
    batch_free(b);
}
END_TEST

START_TEST(test_read_empty)
{
    struct net_config cfg = {.ignore_protocol_stats = true};
    const char *dirs[] = {FIXTURES "/net/empty", FIXTURES "/net/headers"};
    for (size_t i = 0; i < 2; i++) {
        struct sonde_batch *b = batch_new("net");
        ck_assert_int_eq(net_read_dir(dirs[i], &cfg, b), 0);
        ck_assert_uint_eq(b->nseries, 0);
        ck_assert_uint_eq(b->npoints, 0);
        ck_assert_uint_eq(b->skipped, 0);
        batch_free(b);
    }
}
END_TEST

START_TEST(test_read_missing)
{
    struct net_config cfg = {.ignore_protocol_stats = true};
    struct sonde_batch *b = batch_new("net");
    ck_assert_int_eq(net_read_dir(FIXTURES "/net/no-such-dir", &cfg, b), -ENOENT);
    ck_assert_uint_eq(b->nseries, 0);
    batch_free(b);
}
END_TEST

/* An explicit list (globs) is taken as is: loopback and down included. */
START_TEST(test_interfaces_option)
{
    char *items[] = {"lo", "if*"};
    struct net_config cfg = {.interfaces = {items, 2}, .ignore_protocol_stats = true};
    struct sonde_batch *b = batch_new("net");
    ck_assert_int_eq(net_read_dir(FIXTURES "/net", &cfg, b), 0);
    ck_assert_uint_eq(b->nseries, 4 * 17); /* Prometheus is not filtered */
    ck_assert_uint_eq(b->npoints, 3);
    ck_assert_ptr_nonnull(point_find(b, "net", "interface", "lo", NULL));
    ck_assert_ptr_nonnull(point_find(b, "net", "interface", "ifb0", NULL));
    ck_assert_ptr_nonnull(point_find(b, "net", "interface", "ifb1", NULL));
    ck_assert_ptr_null(point_find(b, "net", "interface", "eth0", NULL));
    ck_assert_int_eq(net_field(point_find(b, "net", "interface", "lo", NULL), "bytes_recv"),
                     182652);
    batch_free(b);
}
END_TEST

START_TEST(test_devices_exclude_option)
{
    struct net_config cfg = {.ignore_protocol_stats = true, .devices_exclude = "^(lo|ifb[0-9]+)$"};
    struct sonde_batch *b = batch_new("net");
    ck_assert_int_eq(net_read_dir(FIXTURES "/net", &cfg, b), 0);
    ck_assert_uint_eq(b->nseries, 17); /* eth0 only */
    ck_assert_ptr_null(series_find(b, "node_network_receive_bytes_total", "device", "lo", NULL));
    ck_assert_double_eq(net_value(b, "node_network_receive_bytes_total", "eth0"), 65403706.0);
    ck_assert_uint_eq(b->npoints, 1); /* line protocol is not filtered by it */
    batch_free(b);
}
END_TEST

START_TEST(test_parse_snmp_fixture)
{
    char *buf = fixture_read("net/proc/net/snmp");
    struct net_protos protos = {0};
    net_parse_snmp(buf, &protos);
    ck_assert_uint_eq(protos.skipped, 0);
    /* Ip 20 + Icmp 29 + IcmpMsg 1 + Tcp 15 + Udp 9 + UdpLite 9 */
    ck_assert_uint_eq(protos.n, 83);
    ck_assert_str_eq(protos.items[0].key, "ip_forwarding");
    ck_assert_int_eq(protos.items[0].value, 2);
    bool maxconn = false, intype3 = false;
    for (size_t i = 0; i < protos.n; i++) {
        if (strcmp(protos.items[i].key, "tcp_maxconn") == 0) {
            ck_assert_int_eq(protos.items[i].value, -1);
            maxconn = true;
        }
        if (strcmp(protos.items[i].key, "icmpmsg_intype3") == 0) {
            ck_assert_int_eq(protos.items[i].value, 1);
            intype3 = true;
        }
    }
    ck_assert(maxconn && intype3);
    net_protos_free(&protos);
    free(buf);
}
END_TEST

START_TEST(test_read_protocols)
{
    struct net_config cfg = {.ignore_protocol_stats = false};
    struct sonde_batch *b = batch_new("net");
    ck_assert_int_eq(net_read_dir(FIXTURES "/net", &cfg, b), 0);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(b->npoints, 2);
    const struct sonde_point *p = point_find(b, "net", "interface", "all", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->nfields, 83);
    ck_assert_int_eq(net_field(p, "ip_defaultttl"), 64);
    ck_assert_int_eq(net_field(p, "tcp_rtomax"), 120000);
    ck_assert_int_eq(net_field(p, "tcp_insegs"), 2037);
    ck_assert_int_eq(net_field(p, "udp_indatagrams"), 26);
    ck_assert_int_eq(net_field(p, "udplite_memerrors"), 0);
    batch_free(b);
}
END_TEST

/* Mismatched pairs are skipped whole; a names line without values too. */
START_TEST(test_read_protocols_odd)
{
    struct net_config cfg = {.ignore_protocol_stats = false};
    struct sonde_batch *b = batch_new("net");
    /* snmp-odd has no net/dev: the read fails before the protocols. */
    ck_assert_int_eq(net_read_dir(FIXTURES "/net/snmp-odd", &cfg, b), -ENOENT);
    batch_free(b);

    char *buf = fixture_read("net/snmp-odd/proc/net/snmp");
    struct net_protos protos = {0};
    net_parse_snmp(buf, &protos);
    ck_assert_uint_eq(protos.skipped, 3);
    ck_assert_uint_eq(protos.n, 3);
    ck_assert_str_eq(protos.items[0].key, "ip_forwarding");
    ck_assert_int_eq(protos.items[0].value, 1);
    ck_assert_str_eq(protos.items[1].key, "ip_defaultttl");
    ck_assert_str_eq(protos.items[2].key, "udplite_indatagrams");
    ck_assert_int_eq(protos.items[2].value, 9);
    net_protos_free(&protos);
    free(buf);
}
END_TEST

/* Two reads of one instance: reused arrays must not accumulate. */
START_TEST(test_read_twice)
{
    struct net_config cfg = {.ignore_protocol_stats = false};
    struct sonde_context ctx = {.procfs = FIXTURES "/net/proc",
                                .sysfs = FIXTURES "/net/sys",
                                .rootfs = "/",
                                .hostname = "t",
                                .instance = "net"};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_net.init(&state, &cfg, &ctx), 0);
    for (int i = 0; i < 2; i++) {
        struct sonde_batch *b = batch_new("net");
        ck_assert_int_eq(sonde_plugin_net.read(state, b), 0);
        ck_assert_uint_eq(b->nseries, 68);
        ck_assert_uint_eq(b->npoints, 2);
        batch_free(b);
    }
    sonde_plugin_net.destroy(state);
}
END_TEST

/* ---- the rtnetlink dump (net_links.c) ---- */

#include <dirent.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

/* Appends one attribute to the message in `buf` (its header's length grows). */
static void nl_attr(char *buf, unsigned short type, const void *data, size_t len)
{
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    struct rtattr *a = (struct rtattr *)(buf + NLMSG_ALIGN(h->nlmsg_len));
    a->rta_type = type;
    a->rta_len = (unsigned short)RTA_LENGTH(len);
    memcpy(RTA_DATA(a), data, len);
    h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

START_TEST(test_links_parse)
{
    _Alignas(8) char buf[4096] = {0};
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    h->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
    h->nlmsg_type = RTM_NEWLINK;
    struct ifinfomsg *ifi = NLMSG_DATA(h);
    ifi->ifi_flags = IFF_UP | IFF_BROADCAST;
    nl_attr(buf, IFLA_MTU, &(unsigned){1500}, sizeof(unsigned));
    nl_attr(buf, IFLA_IFNAME, "veth0:1", 8);
    struct rtnl_link_stats64 st;
    memset(&st, 0, sizeof(st));
    st.rx_nohandler = 12345678901ULL;
    st.rx_bytes = 7;
    nl_attr(buf, IFLA_STATS64, &st, sizeof(st));
    struct net_link link;
    ck_assert(net_links_parse(h, &link));
    ck_assert_str_eq(link.name, "veth0:1");
    ck_assert(link.has_nohandler);
    ck_assert_uint_eq(link.rx_nohandler, 12345678901ULL);
    ck_assert_uint_eq(link.flags, IFF_UP | IFF_BROADCAST);

    /* A kernel older than 4.6: stats64 without the field. */
    h->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
    nl_attr(buf, IFLA_IFNAME, "eth1", 5);
    nl_attr(buf, IFLA_STATS64, &st, offsetof(struct rtnl_link_stats64, rx_nohandler));
    ck_assert(net_links_parse(h, &link));
    ck_assert(!link.has_nohandler);

    /* No name, a name too long for an interface, another message type. */
    h->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
    ck_assert(!net_links_parse(h, &link));
    nl_attr(buf, IFLA_IFNAME, "a-name-of-twenty-bytes", 23);
    ck_assert(!net_links_parse(h, &link));
    h->nlmsg_type = RTM_NEWADDR;
    ck_assert(!net_links_parse(h, &link));
    /* A truncated message. */
    h->nlmsg_type = RTM_NEWLINK;
    h->nlmsg_len = 8;
    ck_assert(!net_links_parse(h, &link));
}
END_TEST

/* The dump against this machine's sysfs: every interface, its flags and
 * receive_nohandler (read before and after, the counter may move). */
START_TEST(test_links_live)
{
    struct net_links links;
    net_links_init(&links);
    ck_assert_int_eq(net_links_dump(&links), 0);
    ck_assert(links.ok);
    DIR *d = opendir("/sys/class/net");
    ck_assert_ptr_nonnull(d);
    size_t seen = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[512], text[64];
        snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/rx_nohandler", de->d_name);
        ck_assert_int_gt(sonde_read_small(path, text, sizeof(text)), 0);
        unsigned long long before = strtoull(text, NULL, 10);
        ck_assert_int_eq(net_links_dump(&links), 0);
        const struct net_link *link = net_links_find(&links, de->d_name);
        ck_assert_msg(link != NULL, "%s is not in the dump", de->d_name);
        ck_assert(link->has_nohandler);
        ck_assert_int_gt(sonde_read_small(path, text, sizeof(text)), 0);
        ck_assert_uint_ge(link->rx_nohandler, before);
        ck_assert_uint_le(link->rx_nohandler, strtoull(text, NULL, 10));
        snprintf(path, sizeof(path), "/sys/class/net/%s/flags", de->d_name);
        ck_assert_int_gt(sonde_read_small(path, text, sizeof(text)), 0);
        unsigned long flags = strtoul(text, NULL, 0);
        ck_assert_uint_eq(link->flags & (IFF_UP | IFF_LOOPBACK), flags & (IFF_UP | IFF_LOOPBACK));
        seen++;
    }
    closedir(d);
    ck_assert_uint_eq(seen, links.n);
    ck_assert_ptr_null(net_links_find(&links, "no-such-if0"));
    net_links_free(&links);
}
END_TEST

static Suite *net_suite(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_line);
    tcase_add_test(tc, test_links_parse);
    tcase_add_test(tc, test_links_live);
    tcase_add_test(tc, test_parse_line_odd_names);
    tcase_add_test(tc, test_parse_line_bad);
    tcase_add_test(tc, test_parse_fixture);
    tcase_add_test(tc, test_parse_empty_and_headers);
    tcase_add_test(tc, test_read_fixture);
    tcase_add_test(tc, test_read_odd);
    tcase_add_test(tc, test_read_empty);
    tcase_add_test(tc, test_read_missing);
    tcase_add_test(tc, test_interfaces_option);
    tcase_add_test(tc, test_devices_exclude_option);
    tcase_add_test(tc, test_parse_snmp_fixture);
    tcase_add_test(tc, test_read_protocols);
    tcase_add_test(tc, test_read_protocols_odd);
    tcase_add_test(tc, test_read_twice);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(net_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
