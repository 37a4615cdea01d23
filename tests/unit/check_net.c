/*
 * check_net.c - unit tests of the net input: the /proc/net/dev line and file
 * parsers (odd names, truncated lines, counters near 2^64, empty files), the
 * /proc/net/snmp parser, Telegraf's interface choice, full reads over
 * fixture directories (a capture of this machine and hand-made odd cases),
 * and the rtnetlink side: its parsers, the index-to-name table across
 * renames, new and removed interfaces, and the dumps against /proc/net/dev
 * and sysfs, on this machine and in a network namespace of the test's own.
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

/* ---- rtnetlink (net_links.c) ---- */

#include <dirent.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Starts a netlink message of `type` with a `hdr`-byte family header. */
static struct nlmsghdr *nl_start(char *buf, unsigned short type, uint32_t pid, uint32_t seq,
                                 size_t hdr)
{
    memset(buf, 0, NLMSG_SPACE(hdr));
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    h->nlmsg_len = NLMSG_LENGTH(hdr);
    h->nlmsg_type = type;
    h->nlmsg_pid = pid;
    h->nlmsg_seq = seq;
    return h;
}

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

/* An RTM_NEWLINK as the kernel sends it, in answer or as a notification. */
static struct nlmsghdr *nl_link(char *buf, unsigned short type, uint32_t pid, uint32_t seq,
                                int index, unsigned flags, const char *name)
{
    struct nlmsghdr *h = nl_start(buf, type, pid, seq, sizeof(struct ifinfomsg));
    struct ifinfomsg *ifi = NLMSG_DATA(h);
    ifi->ifi_index = index;
    ifi->ifi_flags = flags;
    nl_attr(buf, IFLA_MTU, &(unsigned){1500}, sizeof(unsigned));
    nl_attr(buf, IFLA_IFNAME, name, strlen(name) + 1);
    return h;
}

/* An RTM_NEWSTATS with the first `size` bytes of `stats`. */
static struct nlmsghdr *nl_stats(char *buf, uint32_t pid, uint32_t seq, int index,
                                 const struct rtnl_link_stats64 *stats, size_t size)
{
    struct nlmsghdr *h = nl_start(buf, RTM_NEWSTATS, pid, seq, sizeof(struct if_stats_msg));
    struct if_stats_msg *ifsm = NLMSG_DATA(h);
    ifsm->ifindex = (uint32_t)index;
    ifsm->filter_mask = IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64);
    nl_attr(buf, IFLA_STATS_LINK_64, stats, size);
    return h;
}

/* Counters all different, so that a column taken from the wrong field shows. */
static struct rtnl_link_stats64 nl_counters(uint64_t base)
{
    struct rtnl_link_stats64 s;
    uint64_t *field = (uint64_t *)&s;
    for (size_t i = 0; i < sizeof(s) / sizeof(uint64_t); i++)
        field[i] = base + (1ULL << i);
    return s;
}

START_TEST(test_links_parse_link)
{
    _Alignas(8) char buf[4096];
    struct net_link link;
    struct nlmsghdr *h = nl_link(buf, RTM_NEWLINK, 0, 0, 7, IFF_UP | IFF_BROADCAST, "veth0:1");
    ck_assert(net_links_parse_link(h, &link));
    ck_assert_str_eq(link.name, "veth0:1");
    ck_assert_int_eq(link.index, 7);
    ck_assert_uint_eq(link.flags, IFF_UP | IFF_BROADCAST);

    /* No name, a name too long for an interface, another message type. */
    h = nl_start(buf, RTM_NEWLINK, 0, 0, sizeof(struct ifinfomsg));
    ck_assert(!net_links_parse_link(h, &link));
    nl_attr(buf, IFLA_IFNAME, "a-name-of-twenty-bytes", 23);
    ck_assert(!net_links_parse_link(h, &link));
    h = nl_link(buf, RTM_NEWADDR, 0, 0, 7, 0, "eth0");
    ck_assert(!net_links_parse_link(h, &link));
    /* A truncated message. */
    h = nl_link(buf, RTM_NEWLINK, 0, 0, 7, 0, "eth0");
    h->nlmsg_len = 8;
    ck_assert(!net_links_parse_link(h, &link));
}
END_TEST

START_TEST(test_links_parse_stats)
{
    _Alignas(8) char buf[4096];
    struct net_link_stats out;
    struct rtnl_link_stats64 st = nl_counters(1000);
    st.rx_nohandler = 12345678901ULL;
    struct nlmsghdr *h = nl_stats(buf, 0, 0, 3, &st, sizeof(st));
    ck_assert(net_links_parse_stats(h, &out));
    ck_assert_int_eq(out.index, 3);
    ck_assert(out.has_nohandler);
    ck_assert_uint_eq(out.stats.rx_nohandler, 12345678901ULL);
    ck_assert_uint_eq(out.stats.tx_compressed, st.tx_compressed);
    ck_assert_uint_eq(out.stats.rx_bytes, st.rx_bytes);

    /* A kernel older than 4.6: the 23 fields of /proc/net/dev, no rx_nohandler. */
    size_t old = offsetof(struct rtnl_link_stats64, rx_nohandler);
    h = nl_stats(buf, 0, 0, 3, &st, old);
    ck_assert(net_links_parse_stats(h, &out));
    ck_assert(!out.has_nohandler);
    ck_assert_uint_eq(out.stats.rx_nohandler, 0);
    ck_assert_uint_eq(out.stats.tx_compressed, st.tx_compressed);

    /* A pad attribute before the counters (64-bit alignment on some machines). */
    h = nl_start(buf, RTM_NEWSTATS, 0, 0, sizeof(struct if_stats_msg));
    ((struct if_stats_msg *)NLMSG_DATA(h))->ifindex = 9;
    nl_attr(buf, IFLA_STATS_UNSPEC, "", 0);
    nl_attr(buf, IFLA_STATS_LINK_64, &st, sizeof(st));
    ck_assert(net_links_parse_stats(h, &out));
    ck_assert_int_eq(out.index, 9);
    ck_assert_uint_eq(out.stats.tx_packets, st.tx_packets);

    /* Fewer fields than /proc/net/dev needs; no counters; another type; truncated. */
    h = nl_stats(buf, 0, 0, 3, &st, old - sizeof(uint64_t));
    ck_assert(!net_links_parse_stats(h, &out));
    h = nl_start(buf, RTM_NEWSTATS, 0, 0, sizeof(struct if_stats_msg));
    nl_attr(buf, IFLA_STATS_LINK_XSTATS, &st, 16);
    ck_assert(!net_links_parse_stats(h, &out));
    h = nl_link(buf, RTM_NEWLINK, 0, 0, 3, 0, "eth0");
    ck_assert(!net_links_parse_stats(h, &out));
    h = nl_stats(buf, 0, 0, 3, &st, sizeof(st));
    h->nlmsg_len = NLMSG_LENGTH(4);
    ck_assert(!net_links_parse_stats(h, &out));
}
END_TEST

/* /proc/net/dev's sums, field by field (dev_seq_printf_stats). */
START_TEST(test_columns_from_stats)
{
    struct rtnl_link_stats64 s = nl_counters(0);
    uint64_t c[NET_NCOLUMNS];
    net_columns_from_stats(&s, c);
    ck_assert_uint_eq(c[NET_RX_BYTES], s.rx_bytes);
    ck_assert_uint_eq(c[NET_RX_PACKETS], s.rx_packets);
    ck_assert_uint_eq(c[NET_RX_ERRS], s.rx_errors);
    ck_assert_uint_eq(c[NET_RX_DROP], s.rx_dropped + s.rx_missed_errors);
    ck_assert_uint_eq(c[NET_RX_FIFO], s.rx_fifo_errors);
    ck_assert_uint_eq(c[NET_RX_FRAME],
                      s.rx_length_errors + s.rx_over_errors + s.rx_crc_errors + s.rx_frame_errors);
    ck_assert_uint_eq(c[NET_RX_COMPRESSED], s.rx_compressed);
    ck_assert_uint_eq(c[NET_RX_MULTICAST], s.multicast);
    ck_assert_uint_eq(c[NET_TX_BYTES], s.tx_bytes);
    ck_assert_uint_eq(c[NET_TX_PACKETS], s.tx_packets);
    ck_assert_uint_eq(c[NET_TX_ERRS], s.tx_errors);
    ck_assert_uint_eq(c[NET_TX_DROP], s.tx_dropped);
    ck_assert_uint_eq(c[NET_TX_FIFO], s.tx_fifo_errors);
    ck_assert_uint_eq(c[NET_TX_COLLS], s.collisions);
    ck_assert_uint_eq(c[NET_TX_CARRIER], s.tx_carrier_errors + s.tx_aborted_errors +
                                             s.tx_window_errors + s.tx_heartbeat_errors);
    ck_assert_uint_eq(c[NET_TX_COMPRESSED], s.tx_compressed);
    /* The kernel's u64 sums wrap; so do ours. */
    s.rx_dropped = UINT64_MAX;
    s.rx_missed_errors = 2;
    net_columns_from_stats(&s, c);
    ck_assert_uint_eq(c[NET_RX_DROP], 1);
}
END_TEST

/* Answers are told from notifications by port id and sequence number. */
START_TEST(test_links_take)
{
    _Alignas(8) char buf[4096];
    struct net_links links;
    net_links_init(&links);
    links.portid = 4242;
    links.seq = 5;
    struct rtnl_link_stats64 st = nl_counters(0);

    /* A notification (the kernel's own, or one caused by another process's
     * request, carrying that one's port and sequence) marks the table. */
    ck_assert_int_eq(net_links_take(&links, nl_link(buf, RTM_NEWLINK, 0, 0, 2, 0, "eth0")), 0);
    ck_assert(links.changed);
    links.changed = false;
    ck_assert_int_eq(net_links_take(&links, nl_link(buf, RTM_DELLINK, 999, 5, 2, 0, "eth0")), 0);
    ck_assert(links.changed);
    ck_assert_uint_eq(links.nlinks, 0);
    links.changed = false;
    /* Other notifications, and answers to an earlier request, are passed over. */
    ck_assert_int_eq(net_links_take(&links, nl_start(buf, RTM_NEWADDR, 0, 0, 16)), 0);
    ck_assert_int_eq(net_links_take(&links, nl_stats(buf, 4242, 4, 1, &st, sizeof(st))), 0);
    ck_assert_int_eq(net_links_take(&links, nl_start(buf, NLMSG_DONE, 4242, 4, 4)), 0);
    ck_assert(!links.changed);
    ck_assert_uint_eq(links.nstats, 0);

    /* Answers. */
    ck_assert_int_eq(net_links_take(&links, nl_link(buf, RTM_NEWLINK, 4242, 5, 2, 1, "eth0")), 0);
    ck_assert_int_eq(net_links_take(&links, nl_stats(buf, 4242, 5, 2, &st, sizeof(st))), 0);
    ck_assert(!links.changed);
    ck_assert_uint_eq(links.nlinks, 1);
    ck_assert_uint_eq(links.nstats, 1);
    ck_assert_int_eq(net_links_take(&links, nl_start(buf, NLMSG_DONE, 4242, 5, 4)), 1);
    struct nlmsghdr *h = nl_start(buf, NLMSG_ERROR, 4242, 5, sizeof(struct nlmsgerr));
    ((struct nlmsgerr *)NLMSG_DATA(h))->error = -EOPNOTSUPP;
    ck_assert_int_eq(net_links_take(&links, h), -EOPNOTSUPP);
    net_links_free(&links);
}
END_TEST

/* Feeds one RTM_GETLINK answer: `n` links {index, name}, all up. */
static void links_table(struct net_links *links, const int *index, const char *const *name,
                        size_t n)
{
    _Alignas(8) char buf[4096];
    links->nlinks = 0;
    links->changed = false;
    for (size_t i = 0; i < n; i++)
        net_links_take(
            links, nl_link(buf, RTM_NEWLINK, links->portid, links->seq, index[i], IFF_UP, name[i]));
    links->have_links = true;
}

/* Feeds one RTM_GETSTATS answer for `n` indexes; rx_bytes is 100 * index. */
static void links_counters(struct net_links *links, const int *index, size_t n)
{
    _Alignas(8) char buf[4096];
    links->nstats = 0;
    for (size_t i = 0; i < n; i++) {
        struct rtnl_link_stats64 st = nl_counters(0);
        st.rx_bytes = 100 * (uint64_t)index[i];
        net_links_take(links, nl_stats(buf, links->portid, links->seq, index[i], &st, sizeof(st)));
    }
}

static const struct net_dev *devs_find(const struct net_devs *devs, const char *name)
{
    for (size_t i = 0; i < devs->n; i++)
        if (strcmp(devs->items[i].name, name) == 0)
            return &devs->items[i];
    return NULL;
}

/* The index-to-name table across cycles: an interface appearing, renamed,
 * gone, and gone between the two dumps of one cycle. */
START_TEST(test_links_mapping)
{
    _Alignas(8) char buf[4096];
    struct net_links links;
    net_links_init(&links);
    links.portid = 1;
    links.seq = 1;
    struct net_devs devs = {0};

    ck_assert(net_links_stale(&links)); /* no table yet */
    links_table(&links, (int[]){2, 1}, (const char *const[]){"eth0", "lo"}, 2);
    links_counters(&links, (int[]){2, 1}, 2);
    net_links_sort(&links);
    ck_assert(!net_links_stale(&links));
    net_devs_from_links(&links, &devs);
    ck_assert_uint_eq(devs.n, 2);
    ck_assert_str_eq(devs.items[0].name, "lo"); /* index order */
    ck_assert_str_eq(devs.items[1].name, "eth0");
    ck_assert_uint_eq(devs.items[1].column[NET_RX_BYTES], 200);
    ck_assert(devs.items[1].has_nohandler);
    ck_assert_uint_eq(devs.items[1].flags, IFF_UP);

    /* A new interface: its counters come before any notification is read. */
    links.seq++;
    links_counters(&links, (int[]){1, 2, 3}, 3);
    net_links_sort(&links);
    ck_assert(net_links_stale(&links));
    links_table(&links, (int[]){1, 2, 3}, (const char *const[]){"lo", "eth0", "veth0"}, 3);
    net_links_sort(&links);
    ck_assert(!net_links_stale(&links));
    net_devs_from_links(&links, &devs);
    ck_assert_uint_eq(devs.n, 3);
    ck_assert_uint_eq(devs_find(&devs, "veth0")->column[NET_RX_BYTES], 300);

    /* eth0 renamed wan0: same index, announced by a notification. */
    links.seq++;
    ck_assert_int_eq(net_links_take(&links, nl_link(buf, RTM_NEWLINK, 0, 0, 2, IFF_UP, "wan0")), 0);
    links_counters(&links, (int[]){1, 2, 3}, 3);
    ck_assert(net_links_stale(&links));
    links_table(&links, (int[]){1, 2, 3}, (const char *const[]){"lo", "wan0", "veth0"}, 3);
    net_links_sort(&links);
    net_devs_from_links(&links, &devs);
    ck_assert_uint_eq(devs.n, 3);
    ck_assert_ptr_null(devs_find(&devs, "eth0"));
    ck_assert_uint_eq(devs_find(&devs, "wan0")->column[NET_RX_BYTES], 200);

    /* veth0 gone: no counters, no series, whether or not the table knows yet. */
    links.seq++;
    links_counters(&links, (int[]){1, 2}, 2);
    net_links_sort(&links);
    ck_assert(!net_links_stale(&links));
    net_devs_from_links(&links, &devs);
    ck_assert_uint_eq(devs.n, 2);
    ck_assert_ptr_null(devs_find(&devs, "veth0"));

    /* wan0 removed between the counters and the table: left out. */
    links.seq++;
    links_counters(&links, (int[]){1, 2, 4}, 3);
    links_table(&links, (int[]){1, 4}, (const char *const[]){"lo", "new0"}, 2);
    net_links_sort(&links);
    net_devs_from_links(&links, &devs);
    ck_assert_uint_eq(devs.n, 2);
    ck_assert_ptr_null(devs_find(&devs, "wan0"));
    ck_assert_uint_eq(devs_find(&devs, "new0")->column[NET_RX_BYTES], 400);

    /* A restarted dump repeating an interface gives it once. */
    links.seq++;
    links_counters(&links, (int[]){4, 1, 4}, 3);
    net_links_sort(&links);
    net_devs_from_links(&links, &devs);
    ck_assert_uint_eq(devs.n, 2);
    net_devs_free(&devs);
    net_links_free(&links);
}
END_TEST

/* This namespace's /proc/net/dev, parsed. */
static void proc_net_dev(struct net_devs *devs)
{
    static char text[1 << 16];
    FILE *f = fopen("/proc/net/dev", "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    ck_assert_uint_lt(n, sizeof(text) - 1);
    text[n] = '\0';
    net_parse_dev(text, devs);
    ck_assert_uint_eq(devs->skipped, 0);
}

static uint64_t sysfs_number(const char *name, const char *attr)
{
    char path[512], text[64];
    snprintf(path, sizeof(path), "/sys/class/net/%s/%s", name, attr);
    ck_assert_int_gt(sonde_read_small(path, text, sizeof(text)), 0);
    return strtoull(text, NULL, 0);
}

/* This machine: every interface of /proc/net/dev, its 16 columns between
 * two reads of the file around the dumps, its receive_nohandler between two
 * reads of sysfs, its flags as sysfs has them. */
START_TEST(test_links_live)
{
    struct net_links links;
    net_links_init(&links);
    struct net_devs before = {0}, after = {0}, got = {0};
    proc_net_dev(&before);
    for (size_t i = 0; i < before.n; i++) {
        const char *name = before.items[i].name;
        uint64_t nohandler = sysfs_number(name, "statistics/rx_nohandler");
        proc_net_dev(&before);
        ck_assert_int_eq(net_links_update(&links), 0);
        proc_net_dev(&after);
        net_devs_from_links(&links, &got);
        ck_assert_uint_eq(got.n, before.n);
        const struct net_dev *b = devs_find(&before, name), *a = devs_find(&after, name);
        const struct net_dev *g = devs_find(&got, name);
        ck_assert_msg(g != NULL, "%s is not in the dump", name);
        for (size_t c = 0; c < NET_NCOLUMNS; c++) {
            ck_assert_uint_ge(g->column[c], b->column[c]);
            ck_assert_uint_le(g->column[c], a->column[c]);
        }
        ck_assert(g->has_nohandler);
        ck_assert_uint_ge(g->rx_nohandler, nohandler);
        ck_assert_uint_le(g->rx_nohandler, sysfs_number(name, "statistics/rx_nohandler"));
        unsigned mask = IFF_UP | IFF_LOOPBACK;
        ck_assert_uint_eq(g->flags & mask, sysfs_number(name, "flags") & mask);
    }
    ck_assert_uint_ge(links.dumps, 1);
    net_devs_free(&before);
    net_devs_free(&after);
    net_devs_free(&got);
    net_links_free(&links);
}
END_TEST

/* The rest runs in a network namespace of its own, in a child process: no
 * ck_assert there, a failed check exits with its line number. */
#define NS_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);                             \
            _exit(__LINE__ % 200 + 1);                                                             \
        }                                                                                          \
    } while (0)

static bool ns_sh(const char *cmd)
{
    int rc = system(cmd);
    return rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
}

static bool ns_only(const struct net_devs *devs, const char *const *names, size_t n)
{
    if (devs->n != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!devs_find(devs, names[i]))
            return false;
    return true;
}

/* One read of the input over the live paths, against /proc/net/dev read
 * after it: nothing moves in this namespace once the packets are counted. */
static void ns_read_matches_proc(size_t want_points)
{
    struct net_config cfg = {.ignore_protocol_stats = true};
    struct sonde_context ctx = {
        .procfs = "/proc", .sysfs = "/sys", .rootfs = "/", .hostname = "t", .instance = "net"};
    void *state = NULL;
    NS_CHECK(sonde_plugin_net.init(&state, &cfg, &ctx) == 0);
    struct sonde_batch *b = batch_new("net");
    NS_CHECK(sonde_plugin_net.read(state, b) == 0);
    NS_CHECK(((struct net_state *)state)->from_links);
    sonde_plugin_net.destroy(state);
    batch_finish(b);
    struct net_devs proc = {0};
    proc_net_dev(&proc);
    NS_CHECK(b->nseries == proc.n * (NET_NCOLUMNS + 1));
    for (size_t i = 0; i < proc.n; i++) {
        const char *name = proc.items[i].name;
        for (size_t c = 0; c < NET_NCOLUMNS; c++) {
            const struct sonde_series *s =
                series_find(b, net_families[c].name, "device", name, NULL);
            NS_CHECK(s && s->value == (double)proc.items[i].column[c]);
        }
        NS_CHECK(series_find(b, "node_network_receive_nohandler_total", "device", name, NULL));
    }
    NS_CHECK(b->npoints == want_points);
    net_devs_free(&proc);
    batch_free(b);
}

/* Sends a few datagrams over lo so that its counters are not all 0. */
static void ns_traffic(void)
{
    int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(to);
    NS_CHECK(rx >= 0 && tx >= 0 && bind(rx, (struct sockaddr *)&to, sizeof(to)) == 0);
    NS_CHECK(getsockname(rx, (struct sockaddr *)&to, &len) == 0);
    for (int i = 0; i < 5; i++)
        NS_CHECK(sendto(tx, "sonde", 5, 0, (struct sockaddr *)&to, sizeof(to)) == 5);
    char got[8];
    for (int i = 0; i < 5; i++)
        NS_CHECK(recv(rx, got, sizeof(got), 0) == 5);
    close(rx);
    close(tx);
}

static void ns_scenario(void)
{
    struct net_links links;
    net_links_init(&links);
    struct net_devs devs = {0};
    NS_CHECK(net_links_update(&links) == 0);
    net_devs_from_links(&links, &devs);
    NS_CHECK(ns_only(&devs, (const char *const[]){"lo"}, 1));
    NS_CHECK(links.dumps == 1);
    /* Nothing changed: the counters only. */
    NS_CHECK(net_links_update(&links) == 0 && links.dumps == 1);

    NS_CHECK(ns_sh("ip link add v0 type veth peer name v1"));
    NS_CHECK(net_links_update(&links) == 0 && links.dumps == 2);
    net_devs_from_links(&links, &devs);
    NS_CHECK(ns_only(&devs, (const char *const[]){"lo", "v0", "v1"}, 3));
    int v0 = (int)if_nametoindex("v0");
    NS_CHECK(v0 > 0);

    NS_CHECK(ns_sh("ip link set v0 name w0"));
    NS_CHECK(net_links_update(&links) == 0 && links.dumps == 3);
    net_devs_from_links(&links, &devs);
    NS_CHECK(ns_only(&devs, (const char *const[]){"lo", "v1", "w0"}, 3));
    NS_CHECK(net_links_by_index(&links, v0) && !strcmp(net_links_by_index(&links, v0)->name, "w0"));
    NS_CHECK(!(devs_find(&devs, "w0")->flags & IFF_UP));

    NS_CHECK(ns_sh("ip link set w0 up && ip link set lo up"));
    NS_CHECK(net_links_update(&links) == 0);
    net_devs_from_links(&links, &devs);
    NS_CHECK(devs_find(&devs, "w0")->flags & IFF_UP);
    NS_CHECK(devs_find(&devs, "lo")->flags & IFF_UP);
    NS_CHECK(!(devs_find(&devs, "v1")->flags & IFF_UP));
    uint64_t dumps = links.dumps;
    NS_CHECK(net_links_update(&links) == 0 && links.dumps == dumps);

    ns_traffic();
    net_devs_from_links(&links, &devs);
    ns_read_matches_proc(1); /* w0 is the one up, non-loopback interface */

    NS_CHECK(ns_sh("ip link del w0"));
    NS_CHECK(net_links_update(&links) == 0);
    net_devs_from_links(&links, &devs);
    NS_CHECK(ns_only(&devs, (const char *const[]){"lo"}, 1));
    NS_CHECK(devs.items[0].column[NET_RX_PACKETS] >= 5);
    net_devs_free(&devs);
    net_links_free(&links);
}

/* Interfaces added, renamed, brought up and removed in a namespace of the
 * test's own, against the real kernel. Needs CAP_SYS_ADMIN and ip(8). */
START_TEST(test_links_netns)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (unshare(CLONE_NEWNET) < 0)
            _exit(errno == EPERM ? 250 : 2);
        if (!ns_sh("ip -V >/dev/null 2>&1"))
            _exit(251);
        ns_scenario();
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    if (WEXITSTATUS(status) >= 250) {
        fprintf(stderr, "test_links_netns: skipped (%s)\n",
                WEXITSTATUS(status) == 250 ? "no permission for a network namespace" : "no ip(8)");
        return;
    }
    ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

static Suite *net_suite(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_line);
    tcase_add_test(tc, test_links_parse_link);
    tcase_add_test(tc, test_links_parse_stats);
    tcase_add_test(tc, test_columns_from_stats);
    tcase_add_test(tc, test_links_take);
    tcase_add_test(tc, test_links_mapping);
    tcase_add_test(tc, test_links_live);
    tcase_add_test(tc, test_links_netns);
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
