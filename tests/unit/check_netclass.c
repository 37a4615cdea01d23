/*
 * check_netclass.c - unit tests of plugins/netclass.c: the attribute parsers, and full reads
 * over sysfs fixture trees (this machine's /sys/class/net, and hand-made odd cases: a
 * regular file among the devices, a dangling link, malformed and missing attributes).
 */
#include "../../plugins/netclass.c"

#include "testutil.h"

/* Runs init + read + destroy with `cfg` over a fixture sysfs root. */
static int netclass_run(const char *sysfs, const struct netclass_config *cfg, struct sonde_batch *b)
{
    struct sonde_context ctx = {
        .procfs = "/proc", .sysfs = sysfs, .rootfs = "/", .hostname = "t", .instance = "netclass"};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_netclass.init(&state, cfg, &ctx), 0);
    int rc = sonde_plugin_netclass.read(state, b);
    sonde_plugin_netclass.destroy(state);
    batch_finish(b);
    return rc;
}

static double netclass_value(const struct sonde_batch *b, const char *name, const char *device)
{
    const struct sonde_series *s = series_find(b, name, "device", device, NULL);
    ck_assert_msg(s != NULL, "%s{device=%s} missing", name, device);
    ck_assert_uint_eq(s->nlabels, 1);
    return s->value;
}

static size_t netclass_count_device(const struct sonde_batch *b, const char *device)
{
    size_t n = 0;
    for (size_t i = 0; i < b->nseries; i++) {
        const char *d = label_get(b->series[i].labels, b->series[i].nlabels, "device");
        n += d && strcmp(d, device) == 0;
    }
    return n;
}

START_TEST(test_parse_number)
{
    int64_t v = 0;
    ck_assert_int_eq(netclass_parse_number("0x1003", &v), 0);
    ck_assert_int_eq(v, 4099);
    ck_assert_int_eq(netclass_parse_number("-1", &v), 0);
    ck_assert_int_eq(v, -1);
    ck_assert_int_eq(netclass_parse_number("65536", &v), 0);
    ck_assert_int_eq(v, 65536);
    ck_assert_int_eq(netclass_parse_number("010", &v), 0); /* base 0, as Go's ParseInt */
    ck_assert_int_eq(v, 8);
    ck_assert_int_eq(netclass_parse_number("9223372036854775807", &v), 0);
    ck_assert_int_eq(v, INT64_MAX);
    const char *bad[] = {"", "abc", "1x", " 5", "0x", "18446744073709551615", "-", "1 2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(netclass_parse_number(bad[i], &v) == -EINVAL, "'%s'", bad[i]);
}
END_TEST

START_TEST(test_trim_and_absent)
{
    char buf[32] = "  1000  \n";
    ck_assert_uint_eq(netclass_trim(buf, strlen(buf)), 4);
    ck_assert_str_eq(buf, "1000");
    char empty[4] = "\n";
    ck_assert_uint_eq(netclass_trim(empty, 1), 0);
    ck_assert_str_eq(empty, "");
    /* What procfs passes over; anything else is counted as a skip. */
    ck_assert(netclass_absent(-EINVAL));
    ck_assert(netclass_absent(-ENOENT));
    ck_assert(netclass_absent(-EOPNOTSUPP));
    ck_assert(netclass_absent(-EACCES));
    ck_assert(!netclass_absent(-EIO));
    ck_assert(!netclass_absent(-ENODEV));
}
END_TEST

/* This machine: eth0 (virtio, up), lo, and two ifb devices that are down and
 * refuse carrier, dormant, duplex, speed and name_assign_type with EINVAL
 * (the capture has no such files). node_exporter 1.5 printed the same 67
 * series for this tree. */
START_TEST(test_read_fixture)
{
    struct netclass_config cfg = {0};
    struct sonde_batch *b = batch_new("netclass");
    ck_assert_int_eq(netclass_run(FIXTURES "/netclass/sys", &cfg, b), 0);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(b->npoints, 0);
    ck_assert_uint_eq(b->nseries, 67);
    ck_assert_uint_eq(netclass_count_device(b, "eth0"), 19);
    ck_assert_uint_eq(netclass_count_device(b, "lo"), 18);
    ck_assert_uint_eq(netclass_count_device(b, "ifb0"), 15);
    ck_assert_uint_eq(netclass_count_device(b, "ifb1"), 15);

    ck_assert_double_eq(netclass_value(b, "node_network_up", "eth0"), 1.0);
    ck_assert_double_eq(netclass_value(b, "node_network_up", "lo"), 0.0); /* operstate unknown */
    ck_assert_double_eq(netclass_value(b, "node_network_speed_bytes", "eth0"), -125000.0);
    ck_assert_double_eq(netclass_value(b, "node_network_flags", "eth0"), 4099.0);
    ck_assert_double_eq(netclass_value(b, "node_network_flags", "ifb0"), 130.0);
    ck_assert_double_eq(netclass_value(b, "node_network_mtu_bytes", "eth0"), 1400.0);
    ck_assert_double_eq(netclass_value(b, "node_network_mtu_bytes", "lo"), 65536.0);
    ck_assert_double_eq(netclass_value(b, "node_network_protocol_type", "lo"), 772.0);
    ck_assert_double_eq(netclass_value(b, "node_network_carrier", "eth0"), 1.0);
    ck_assert_double_eq(netclass_value(b, "node_network_carrier_changes_total", "eth0"), 2.0);
    ck_assert_double_eq(netclass_value(b, "node_network_carrier_up_changes_total", "eth0"), 1.0);
    ck_assert_double_eq(netclass_value(b, "node_network_carrier_down_changes_total", "eth0"), 1.0);
    ck_assert_double_eq(netclass_value(b, "node_network_iface_id", "ifb1"), 3.0);
    ck_assert_double_eq(netclass_value(b, "node_network_iface_link", "eth0"), 4.0);
    ck_assert_double_eq(netclass_value(b, "node_network_transmit_queue_length", "ifb0"), 32.0);
    ck_assert_double_eq(netclass_value(b, "node_network_name_assign_type", "lo"), 2.0);
    ck_assert_double_eq(netclass_value(b, "node_network_address_assign_type", "ifb0"), 1.0);
    ck_assert_ptr_null(series_find(b, "node_network_carrier", "device", "ifb0", NULL));
    ck_assert_ptr_null(series_find(b, "node_network_speed_bytes", "device", "lo", NULL));
    ck_assert_ptr_null(series_find(b, "node_network_dormant", "device", "ifb1", NULL));

    const struct sonde_series *s = series_find(b, "node_network_info", "device", "eth0", NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->nlabels, 6);
    ck_assert_double_eq(s->value, 1.0);
    ck_assert_str_eq(label_get(s->labels, 6, "address"), "02:fc:00:00:00:01");
    ck_assert_str_eq(label_get(s->labels, 6, "broadcast"), "ff:ff:ff:ff:ff:ff");
    ck_assert_str_eq(label_get(s->labels, 6, "duplex"), "unknown");
    ck_assert_str_eq(label_get(s->labels, 6, "ifalias"), "");
    ck_assert_str_eq(label_get(s->labels, 6, "operstate"), "up");
    s = series_find(b, "node_network_info", "device", "ifb0", NULL);
    ck_assert_str_eq(label_get(s->labels, 6, "duplex"), ""); /* EINVAL on a down link */
    ck_assert_str_eq(label_get(s->labels, 6, "operstate"), "down");

    s = series_find(b, "node_network_carrier_changes_total", NULL);
    ck_assert_int_eq(s->family->type, SONDE_COUNTER);
    ck_assert_str_eq(s->family->help, "Network device property: carrier_changes_total");
    s = series_find(b, "node_network_up", NULL);
    ck_assert_int_eq(s->family->type, SONDE_GAUGE);
    ck_assert_str_eq(s->family->help, "Value is 1 if operstate is 'up', 0 otherwise.");
    batch_free(b);
}
END_TEST

/* Hand-made: bonding_masters (a regular file) is no device; `gone` is a
 * dangling link (an interface removed during the read) and is passed over
 * without failing the others; wlan0 is a plain directory with odd values. */
START_TEST(test_read_odd)
{
    struct netclass_config cfg = {0};
    struct sonde_batch *b = batch_new("netclass");
    ck_assert_int_eq(netclass_run(FIXTURES "/netclass/odd/sys", &cfg, b), 0);
    /* wlan0: mtu "abc", carrier_changes above INT64_MAX, carrier_down_count
     * empty. node_exporter exports those as 0; we leave them out, counted. */
    ck_assert_uint_eq(b->skipped, 3);
    ck_assert_ptr_null(series_find(b, "node_network_mtu_bytes", "device", "wlan0", NULL));
    ck_assert_ptr_null(series_find(b, "node_network_up", "device", "bonding_masters", NULL));
    ck_assert_ptr_null(series_find(b, "node_network_up", "device", "gone", NULL));
    ck_assert_uint_eq(netclass_count_device(b, "wlan0"), 16);
    ck_assert_uint_eq(netclass_count_device(b, "br0"), 2);
    ck_assert_uint_eq(netclass_count_device(b, "dummy0"), 4);
    ck_assert_uint_eq(b->nseries, 22);

    ck_assert_double_eq(netclass_value(b, "node_network_speed_bytes", "wlan0"), 125000000.0);
    ck_assert_double_eq(netclass_value(b, "node_network_speed_bytes", "dummy0"), 1250000.0);
    ck_assert_double_eq(netclass_value(b, "node_network_device_id", "wlan0"), 16.0);
    ck_assert_double_eq(netclass_value(b, "node_network_transmit_queue_length", "wlan0"), 1000.0);
    ck_assert_double_eq(netclass_value(b, "node_network_carrier_up_changes_total", "wlan0"),
                        9223372036854775807.0);
    ck_assert_double_eq(netclass_value(b, "node_network_up", "wlan0"), 0.0); /* dormant */
    ck_assert_double_eq(netclass_value(b, "node_network_up", "br0"), 1.0);
    const struct sonde_series *s = series_find(b, "node_network_info", "device", "wlan0", NULL);
    ck_assert_str_eq(label_get(s->labels, 6, "ifalias"), "uplink to core");
    ck_assert_str_eq(label_get(s->labels, 6, "duplex"), "full");
    ck_assert_str_eq(label_get(s->labels, 6, "operstate"), "dormant");
    s = series_find(b, "node_network_info", "device", "br0", NULL);
    ck_assert_str_eq(label_get(s->labels, 6, "address"), "02:00:00:00:00:0b");
    ck_assert_str_eq(label_get(s->labels, 6, "broadcast"), "");
    batch_free(b);
}
END_TEST

START_TEST(test_ignored_devices)
{
    struct netclass_config cfg = {.ignored_devices = "^(ifb[0-9]+|lo)$"};
    struct sonde_batch *b = batch_new("netclass");
    ck_assert_int_eq(netclass_run(FIXTURES "/netclass/sys", &cfg, b), 0);
    ck_assert_uint_eq(b->nseries, 19);
    ck_assert_uint_eq(netclass_count_device(b, "eth0"), 19);
    batch_free(b);

    /* node_exporter's default "^$" ignores nothing. */
    cfg.ignored_devices = "^$";
    b = batch_new("netclass");
    ck_assert_int_eq(netclass_run(FIXTURES "/netclass/sys", &cfg, b), 0);
    ck_assert_uint_eq(b->nseries, 67);
    batch_free(b);
}
END_TEST

START_TEST(test_ignore_invalid_speed)
{
    struct netclass_config cfg = {.ignore_invalid_speed = true};
    struct sonde_batch *b = batch_new("netclass");
    ck_assert_int_eq(netclass_run(FIXTURES "/netclass/sys", &cfg, b), 0);
    ck_assert_uint_eq(b->nseries, 66);
    ck_assert_ptr_null(series_find(b, "node_network_speed_bytes", "device", "eth0", NULL));
    batch_free(b);
    b = batch_new("netclass");
    ck_assert_int_eq(netclass_run(FIXTURES "/netclass/odd/sys", &cfg, b), 0);
    ck_assert_double_eq(netclass_value(b, "node_network_speed_bytes", "wlan0"), 125000000.0);
    batch_free(b);
}
END_TEST

/* No /sys/class/net (a container without sysfs): no series, no error. */
START_TEST(test_read_missing)
{
    struct netclass_config cfg = {0};
    struct sonde_batch *b = batch_new("netclass");
    ck_assert_int_eq(netclass_run(FIXTURES "/netclass/no-such-dir", &cfg, b), 0);
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(b->skipped, 0);
    batch_free(b);
}
END_TEST

/* Only line protocol wanted: the input has nothing to do. */
START_TEST(test_points_only)
{
    struct netclass_config cfg = {0};
    struct sonde_batch *b = batch_new("netclass");
    b->want_series = false;
    ck_assert_int_eq(netclass_run(FIXTURES "/netclass/sys", &cfg, b), 0);
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(b->npoints, 0);
    batch_free(b);
}
END_TEST

START_TEST(test_read_twice)
{
    struct netclass_config cfg = {0};
    struct sonde_context ctx = {.procfs = "/proc",
                                .sysfs = FIXTURES "/netclass/sys",
                                .rootfs = "/",
                                .hostname = "t",
                                .instance = "netclass"};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_netclass.init(&state, &cfg, &ctx), 0);
    for (int i = 0; i < 2; i++) {
        struct sonde_batch *b = batch_new("netclass");
        ck_assert_int_eq(sonde_plugin_netclass.read(state, b), 0);
        ck_assert_uint_eq(b->nseries, 67);
        batch_free(b);
    }
    sonde_plugin_netclass.destroy(state);
}
END_TEST

static Suite *netclass_suite(void)
{
    Suite *s = suite_create("netclass");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_number);
    tcase_add_test(tc, test_trim_and_absent);
    tcase_add_test(tc, test_read_fixture);
    tcase_add_test(tc, test_read_odd);
    tcase_add_test(tc, test_ignored_devices);
    tcase_add_test(tc, test_ignore_invalid_speed);
    tcase_add_test(tc, test_read_missing);
    tcase_add_test(tc, test_points_only);
    tcase_add_test(tc, test_read_twice);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(netclass_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
