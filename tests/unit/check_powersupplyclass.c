/*
 * check_powersupplyclass.c - unit tests of plugins/powersupplyclass.c: the integer parser,
 * which read errors mean "no value", and reads over sysfs fixtures (a laptop's AC adapter
 * and battery, a battery with every attribute node_exporter knows, a HID mouse battery; odd
 * trees: a stray file, a dangling link, malformed and out-of-range values, a USB-C port).
 */
#include "../../plugins/powersupplyclass.c"

#include "testutil.h"

static struct sonde_batch *psc_run(const char *sysfs, const char *ignored)
{
    struct powersupplyclass_config cfg = {.ignored_supplies = (char *)ignored};
    struct sonde_context ctx = {.procfs = "/proc",
                                .sysfs = sysfs,
                                .rootfs = "/",
                                .hostname = "t",
                                .instance = "powersupplyclass"};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_powersupplyclass.init(&state, &cfg, &ctx), 0);
    struct sonde_batch *b = batch_new("powersupplyclass");
    ck_assert_int_eq(sonde_plugin_powersupplyclass.read(state, b), 0);
    sonde_plugin_powersupplyclass.destroy(state);
    batch_finish(b);
    return b;
}

static double psc_value(const struct sonde_batch *b, const char *name, const char *supply)
{
    const struct sonde_series *s = series_find(b, name, "power_supply", supply, NULL);
    ck_assert_msg(s != NULL, "%s{power_supply=%s} missing", name, supply);
    ck_assert_uint_eq(s->nlabels, 1);
    return s->value;
}

static size_t psc_count_supply(const struct sonde_batch *b, const char *supply)
{
    size_t n = 0;
    for (size_t i = 0; i < b->nseries; i++) {
        const char *v = label_get(b->series[i].labels, b->series[i].nlabels, "power_supply");
        n += v && strcmp(v, supply) == 0;
    }
    return n;
}

START_TEST(test_parse)
{
    int64_t v;
    ck_assert_int_eq(powersupplyclass_parse_int("57000000", &v), 0);
    ck_assert_int_eq(v, 57000000);
    ck_assert_int_eq(powersupplyclass_parse_int("-100", &v), 0);
    ck_assert_int_eq(v, -100);
    ck_assert_int_eq(powersupplyclass_parse_int("0x10", &v), 0);
    ck_assert_int_eq(v, 16);
    ck_assert_int_eq(powersupplyclass_parse_int("abc", &v), -EINVAL);
    ck_assert_int_eq(powersupplyclass_parse_int("", &v), -EINVAL);
    ck_assert_int_eq(powersupplyclass_parse_int("99999999999999999999", &v), -EINVAL);
    ck_assert(powersupplyclass_absent(-ENODATA));
    ck_assert(powersupplyclass_absent(-ENODEV));
    ck_assert(powersupplyclass_absent(-ENOENT));
    ck_assert(!powersupplyclass_absent(-EIO));
}
END_TEST

/* node_exporter 1.5 printed these 61 series, HELP texts included. */
START_TEST(test_read_fixture)
{
    struct sonde_batch *b = psc_run(FIXTURES "/powersupplyclass/sys", NULL);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(b->nseries, 61);
    ck_assert_uint_eq(psc_count_supply(b, "AC"), 2);
    ck_assert_uint_eq(psc_count_supply(b, "BAT0"), 10);
    ck_assert_uint_eq(psc_count_supply(b, "BAT1"), 45);
    ck_assert_uint_eq(psc_count_supply(b, "hidpp_battery_0"), 4);
    ck_assert_double_eq(psc_value(b, "node_power_supply_online", "AC"), 1.0);
    ck_assert_double_eq(psc_value(b, "node_power_supply_online", "BAT1"), 0.0);
    ck_assert_double_eq(psc_value(b, "node_power_supply_capacity", "BAT0"), 80.0);
    ck_assert_double_eq(psc_value(b, "node_power_supply_cyclecount", "BAT0"), 123.0);
    ck_assert_double_eq(psc_value(b, "node_power_supply_energy_watthour", "BAT0"), 40.0);
    ck_assert_double_eq(psc_value(b, "node_power_supply_voltage_volt", "BAT0"), 12.34);
    ck_assert_double_eq(psc_value(b, "node_power_supply_power_watt", "BAT0"), 8.5);
    ck_assert_double_eq(psc_value(b, "node_power_supply_charge_ampere", "BAT1"), 1.65);
    ck_assert_double_eq(psc_value(b, "node_power_supply_current_ampere", "BAT1"), 0.45);
    ck_assert_double_eq(psc_value(b, "node_power_supply_charge_control_limit", "BAT1"), 3e-6);
    ck_assert_double_eq(psc_value(b, "node_power_supply_temp_celsius", "BAT1"), 30.1);
    ck_assert_double_eq(psc_value(b, "node_power_supply_temp_ambient_min_celsius", "BAT1"), -10.0);
    ck_assert_double_eq(psc_value(b, "node_power_supply_time_to_empty_seconds", "BAT1"), 7200.0);
    ck_assert_double_eq(psc_value(b, "node_power_supply_time_to_full_seconds", "BAT1"), 1200.0);
    /* not exported by node_exporter 1.5 (the *_avg attributes, alarm) */
    ck_assert_ptr_null(series_find(b, "node_power_supply_current_avg", NULL));
    ck_assert_ptr_null(series_find(b, "node_power_supply_alarm", NULL));

    const struct sonde_series *s =
        series_find(b, "node_power_supply_info", "power_supply", "BAT0", NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->nlabels, 8);
    ck_assert_str_eq(label_get(s->labels, s->nlabels, "serial_number"), "1234"); /* trimmed */
    ck_assert_str_eq(label_get(s->labels, s->nlabels, "technology"), "Li-ion");
    ck_assert_str_eq(label_get(s->labels, s->nlabels, "capacity_level"), "Normal");
    ck_assert_ptr_null(label_get(s->labels, s->nlabels, "health"));
    s = series_find(b, "node_power_supply_info", "power_supply", "AC", NULL);
    ck_assert_uint_eq(s->nlabels, 2);
    ck_assert_str_eq(label_get(s->labels, 2, "type"), "Mains");
    s = series_find(b, "node_power_supply_info", "power_supply", "BAT1", NULL);
    ck_assert_uint_eq(s->nlabels, 10);
    ck_assert_str_eq(label_get(s->labels, 10, "usb_type"), "[C] PD PD_PPS");
    ck_assert_str_eq(s->family->help, "info of /sys/class/power_supply/<power_supply>.");
    s = series_find(b, "node_power_supply_online", NULL);
    ck_assert_str_eq(s->family->help, "online value of /sys/class/power_supply/<power_supply>.");
    ck_assert_int_eq(s->family->type, SONDE_GAUGE);
    batch_free(b);
}
END_TEST

START_TEST(test_read_odd)
{
    struct sonde_batch *b = psc_run(FIXTURES "/powersupplyclass/odd/sys", NULL);
    /* BAT9: capacity "abc" and energy_now above INT64_MAX (node_exporter fails
     * the collector on either) */
    ck_assert_uint_eq(b->skipped, 2);
    ck_assert_uint_eq(b->nseries, 8);
    ck_assert_double_eq(psc_value(b, "node_power_supply_cyclecount", "BAT9"), 16.0); /* 0x10 */
    ck_assert_double_eq(psc_value(b, "node_power_supply_current_ampere", "BAT9"), -1.5);
    ck_assert_ptr_null(series_find(b, "node_power_supply_capacity", NULL));
    const struct sonde_series *s =
        series_find(b, "node_power_supply_info", "power_supply", "BAT9", NULL);
    ck_assert_uint_eq(s->nlabels, 2); /* empty status: no label */
    ck_assert_double_eq(
        psc_value(b, "node_power_supply_voltage_max", "ucsi-source-psy-USBC000:001"), 20.0);
    ck_assert_uint_eq(psc_count_supply(b, "stray"), 0);
    ck_assert_uint_eq(psc_count_supply(b, "gone"), 0);
    batch_free(b);
}
END_TEST

START_TEST(test_ignored_supplies)
{
    struct sonde_batch *b = psc_run(FIXTURES "/powersupplyclass/sys", "^(BAT[0-9]+|hidpp_.*)$");
    ck_assert_uint_eq(b->nseries, 2);
    ck_assert_double_eq(psc_value(b, "node_power_supply_online", "AC"), 1.0);
    batch_free(b);
}
END_TEST

START_TEST(test_read_missing)
{
    struct sonde_batch *b = psc_run(FIXTURES "/powersupplyclass/no-such-dir", NULL);
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(b->skipped, 0);
    batch_free(b);
}
END_TEST

START_TEST(test_read_twice)
{
    struct powersupplyclass_config cfg = {0};
    struct sonde_context ctx = {.procfs = "/proc",
                                .sysfs = FIXTURES "/powersupplyclass/sys",
                                .rootfs = "/",
                                .hostname = "t",
                                .instance = "powersupplyclass"};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_powersupplyclass.init(&state, &cfg, &ctx), 0);
    for (int i = 0; i < 2; i++) {
        struct sonde_batch *b = batch_new("powersupplyclass");
        ck_assert_int_eq(sonde_plugin_powersupplyclass.read(state, b), 0);
        ck_assert_uint_eq(b->nseries, 61);
        batch_free(b);
    }
    struct sonde_batch *b = batch_new("powersupplyclass");
    b->want_series = false;
    ck_assert_int_eq(sonde_plugin_powersupplyclass.read(state, b), 0);
    ck_assert_uint_eq(b->nseries, 0);
    batch_free(b);
    sonde_plugin_powersupplyclass.destroy(state);
}
END_TEST

static Suite *powersupplyclass_suite(void)
{
    Suite *s = suite_create("powersupplyclass");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse);
    tcase_add_test(tc, test_read_fixture);
    tcase_add_test(tc, test_read_odd);
    tcase_add_test(tc, test_ignored_supplies);
    tcase_add_test(tc, test_read_missing);
    tcase_add_test(tc, test_read_twice);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(powersupplyclass_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
