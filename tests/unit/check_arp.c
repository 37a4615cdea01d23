/*
 * check_arp.c - unit tests of the arp input: the line parser, counts per
 * device over a capture of this machine and a hand-made table (incomplete
 * entries, bad widths, over-long names), the include/exclude filters.
 */
#include "../../plugins/arp.c"

#include "testutil.h"

static int arp_read_dir(const char *root, const struct arp_config *cfg, struct sonde_batch *b)
{
    char procfs[512];
    snprintf(procfs, sizeof(procfs), "%s/proc", root);
    struct sonde_context ctx = {
        .procfs = procfs, .sysfs = "/sys", .rootfs = "/", .hostname = "t", .instance = "arp"};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_arp.init(&state, cfg, &ctx), 0);
    int rc = sonde_plugin_arp.read(state, b);
    sonde_plugin_arp.destroy(state);
    batch_finish(b);
    return rc;
}

static double arp_value(const struct sonde_batch *b, const char *device)
{
    const struct sonde_series *s = series_find(b, "node_arp_entries", "device", device, NULL);
    ck_assert_msg(s != NULL, "node_arp_entries{device=%s} missing", device);
    ck_assert_uint_eq(s->nlabels, 1);
    ck_assert_int_eq(s->family->type, SONDE_GAUGE);
    return s->value;
}

START_TEST(test_parse_line)
{
    const char *dev;
    size_t len;
    const char *l = "192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *        eth0";
    ck_assert_int_eq(arp_parse_line(l, l + strlen(l), &dev, &len), 0);
    ck_assert_uint_eq(len, 4);
    ck_assert_int_eq(memcmp(dev, "eth0", 4), 0);
    l = "IP address       HW type     Flags       HW address            Mask     Device";
    ck_assert_int_eq(arp_parse_line(l, l + strlen(l), &dev, &len), -ENODATA);
    l = " \t";
    ck_assert_int_eq(arp_parse_line(l, l + strlen(l), &dev, &len), -ENODATA);
    l = "192.0.2.1 0x1 0x2 02:fc:00:00:00:05 *";
    ck_assert_int_eq(arp_parse_line(l, l + strlen(l), &dev, &len), -EINVAL);
}
END_TEST

START_TEST(test_read_fixture)
{
    struct arp_config cfg = {0};
    struct sonde_batch *b = batch_new("arp");
    ck_assert_int_eq(arp_read_dir(FIXTURES "/arp", &cfg, b), 0);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(b->nseries, 1);
    ck_assert_double_eq(arp_value(b, "eth0"), 1.0);
    ck_assert_str_eq(b->series[0].family->help, "ARP entries by device");
    ck_assert_uint_eq(b->npoints, 0);
    batch_free(b);
}
END_TEST

START_TEST(test_read_odd)
{
    struct arp_config cfg = {0};
    struct sonde_batch *b = batch_new("arp");
    ck_assert_int_eq(arp_read_dir(FIXTURES "/arp/odd", &cfg, b), 0);
    ck_assert_uint_eq(b->skipped, 3); /* 5 columns, 7 columns, 65-byte name */
    ck_assert_uint_eq(b->nseries, 3);
    ck_assert_double_eq(arp_value(b, "eth0"), 2.0); /* the incomplete entry counts */
    ck_assert_double_eq(arp_value(b, "br-lan"), 2.0);
    ck_assert_double_eq(arp_value(b, "wg0"), 1.0); /* last line, no newline */
    batch_free(b);
}
END_TEST

START_TEST(test_filters)
{
    struct arp_config cfg = {.devices_exclude = "^eth"};
    struct sonde_batch *b = batch_new("arp");
    ck_assert_int_eq(arp_read_dir(FIXTURES "/arp/odd", &cfg, b), 0);
    ck_assert_uint_eq(b->nseries, 2);
    ck_assert_ptr_null(series_find(b, "node_arp_entries", "device", "eth0", NULL));
    batch_free(b);

    cfg = (struct arp_config){.devices_include = "lan|wg"};
    b = batch_new("arp");
    ck_assert_int_eq(arp_read_dir(FIXTURES "/arp/odd", &cfg, b), 0);
    ck_assert_uint_eq(b->nseries, 2);
    ck_assert_double_eq(arp_value(b, "br-lan"), 2.0);
    ck_assert_double_eq(arp_value(b, "wg0"), 1.0);
    batch_free(b);

    cfg = (struct arp_config){.devices_include = "", .devices_exclude = ""};
    b = batch_new("arp");
    ck_assert_int_eq(arp_read_dir(FIXTURES "/arp/odd", &cfg, b), 0);
    ck_assert_uint_eq(b->nseries, 3);
    batch_free(b);
}
END_TEST

START_TEST(test_read_empty_missing_unwanted)
{
    struct arp_config cfg = {0};
    struct sonde_batch *b = batch_new("arp");
    ck_assert_int_eq(arp_read_dir(FIXTURES "/arp/empty", &cfg, b), 0);
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(b->skipped, 0);
    batch_free(b);

    b = batch_new("arp");
    ck_assert_int_eq(arp_read_dir(FIXTURES "/arp/no-such-dir", &cfg, b), -ENOENT);
    batch_free(b);

    b = batch_new("arp");
    b->want_series = false;
    ck_assert_int_eq(arp_read_dir(FIXTURES "/arp", &cfg, b), 0);
    ck_assert_uint_eq(b->nseries + b->npoints, 0);
    batch_free(b);
}
END_TEST

static Suite *arp_suite(void)
{
    Suite *s = suite_create("arp");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_line);
    tcase_add_test(tc, test_read_fixture);
    tcase_add_test(tc, test_read_odd);
    tcase_add_test(tc, test_filters);
    tcase_add_test(tc, test_read_empty_missing_unwanted);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(arp_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
