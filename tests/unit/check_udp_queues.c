/*
 * check_udp_queues.c - unit tests of the udp_queues input: the socket line
 * parser, sums over a capture of this machine (sockets with queued data),
 * hand-made odd lines, IPv6 off, both files missing ("no data").
 */
#include "../../plugins/udp_queues.c"

#include "testutil.h"

static int udp_queues_read_dir(const char *root, struct sonde_batch *b)
{
    char procfs[512];
    snprintf(procfs, sizeof(procfs), "%s/proc", root);
    struct sonde_context ctx = {.procfs = procfs,
                                .sysfs = "/sys",
                                .rootfs = "/",
                                .hostname = "t",
                                .instance = "udp_queues"};
    struct udp_queues_config cfg = {0};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_udp_queues.init(&state, &cfg, &ctx), 0);
    int rc = sonde_plugin_udp_queues.read(state, b);
    sonde_plugin_udp_queues.destroy(state);
    batch_finish(b);
    return rc;
}

static double udp_queues_value(const struct sonde_batch *b, const char *ip, const char *queue)
{
    const struct sonde_series *s =
        series_find(b, "node_udp_queues", "ip", ip, "queue", queue, NULL);
    ck_assert_msg(s != NULL, "node_udp_queues{ip=%s,queue=%s} missing", ip, queue);
    ck_assert_uint_eq(s->nlabels, 2);
    ck_assert_int_eq(s->family->type, SONDE_GAUGE);
    return s->value;
}

START_TEST(test_parse_line)
{
    uint64_t tx, rx;
    const char *l = " 7789: 0100007F:C419 00000000:0000 07 00000000:00000900 00:00000000 00000000"
                    "     0        0 6175835 2 000000004f086f99 0       ";
    ck_assert_int_eq(udp_queues_parse_line(l, l + strlen(l), &tx, &rx), 0);
    ck_assert_uint_eq(tx, 0);
    ck_assert_uint_eq(rx, 2304);
    l = "   ";
    ck_assert_int_eq(udp_queues_parse_line(l, l + strlen(l), &tx, &rx), -ENODATA);
    const char *bad[] = {
        "1: 0:0 0:0 07 1:1 0:0 0",    /* 7 columns */
        "1 0:0 0:0 07 1:1 0:0 0 0",   /* no colon after sl */
        "1: 00 0:0 07 1:1 0:0 0 0",   /* address without port */
        "1: 0:0 0:0 07 11 0:0 0 0",   /* queues without colon */
        "1: 0:0 0:0 07 1:x 0:0 0 0",  /* bad hex */
        "1: 0:0 0:0 07 :1 0:0 0 0",   /* empty tx */
        "sl: 0:0 0:0 07 1:1 0:0 0 0", /* the header's kind of first word */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(udp_queues_parse_line(bad[i], bad[i] + strlen(bad[i]), &tx, &rx) == -EINVAL,
                      "%s", bad[i]);
}
END_TEST

/* Captured with three datagrams of 100 bytes and one of 1000 waiting on two
 * IPv4 sockets, one of 50 on an IPv6 one (queues count allocated memory). */
START_TEST(test_read_fixture)
{
    struct sonde_batch *b = batch_new("udp_queues");
    ck_assert_int_eq(udp_queues_read_dir(FIXTURES "/udp_queues", b), 0);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(b->nseries, 4);
    ck_assert_double_eq(udp_queues_value(b, "v4", "rx"), 0x900 + 0x9c0);
    ck_assert_double_eq(udp_queues_value(b, "v4", "tx"), 0.0);
    ck_assert_double_eq(udp_queues_value(b, "v6", "rx"), 0x340);
    ck_assert_double_eq(udp_queues_value(b, "v6", "tx"), 0.0);
    ck_assert_uint_eq(b->npoints, 0);
    batch_free(b);
}
END_TEST

START_TEST(test_read_odd)
{
    struct sonde_batch *b = batch_new("udp_queues");
    ck_assert_int_eq(udp_queues_read_dir(FIXTURES "/udp_queues/odd", b), 0);
    ck_assert_uint_eq(b->skipped, 4); /* bad hex, short, "x12:", queues without colon */
    ck_assert_uint_eq(b->nseries, 4);
    ck_assert_double_eq(udp_queues_value(b, "v4", "tx"), 0x100 + 0xffffffffull);
    ck_assert_double_eq(udp_queues_value(b, "v4", "rx"), 0x200 + 0x10);
    ck_assert_double_eq(udp_queues_value(b, "v6", "tx"), 0.0); /* a header alone */
    ck_assert_double_eq(udp_queues_value(b, "v6", "rx"), 0.0);
    batch_free(b);
}
END_TEST

START_TEST(test_read_missing)
{
    struct sonde_batch *b = batch_new("udp_queues");
    ck_assert_int_eq(udp_queues_read_dir(FIXTURES "/udp_queues/no-ipv6", b), 0);
    ck_assert_uint_eq(b->nseries, 2);
    ck_assert_double_eq(udp_queues_value(b, "v4", "rx"), 0x900 + 0x9c0);
    ck_assert_ptr_null(series_find(b, "node_udp_queues", "ip", "v6", NULL));
    batch_free(b);

    b = batch_new("udp_queues");
    ck_assert_int_eq(udp_queues_read_dir(FIXTURES "/udp_queues/no-such-dir", b), -ENODATA);
    ck_assert_uint_eq(b->nseries, 0);
    batch_free(b);

    b = batch_new("udp_queues");
    b->want_series = false;
    ck_assert_int_eq(udp_queues_read_dir(FIXTURES "/udp_queues", b), 0);
    ck_assert_uint_eq(b->nseries + b->npoints, 0);
    batch_free(b);

    struct udp_queues_sum sum;
    udp_queues_parse("", &sum);
    ck_assert_uint_eq(sum.sockets + sum.skipped, 0);
    udp_queues_parse("  sl  local_address", &sum);
    ck_assert_uint_eq(sum.sockets + sum.skipped, 0);
}
END_TEST

static Suite *udp_queues_suite(void)
{
    Suite *s = suite_create("udp_queues");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_line);
    tcase_add_test(tc, test_read_fixture);
    tcase_add_test(tc, test_read_odd);
    tcase_add_test(tc, test_read_missing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(udp_queues_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
