/*
 * check_thermal_zone.c - unit tests of plugins/thermal_zone.c: the integer parser, the
 * zone/device name match, and reads over sysfs fixtures (a laptop's zones and cooling
 * devices, a disabled zone, intel_powerclamp's -1; odd trees: no policy, no cur_state, a
 * malformed temperature, a name that only looks like a zone).
 */
#include "../../plugins/thermal_zone.c"

#include "testutil.h"

static struct sonde_batch *thermal_zone_run(const char *sysfs)
{
    struct thermal_zone_config cfg = {0};
    struct sonde_context ctx = {.procfs = "/proc",
                                .sysfs = sysfs,
                                .rootfs = "/",
                                .hostname = "t",
                                .instance = "thermal_zone"};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_thermal_zone.init(&state, &cfg, &ctx), 0);
    struct sonde_batch *b = batch_new("thermal_zone");
    ck_assert_int_eq(sonde_plugin_thermal_zone.read(state, b), 0);
    sonde_plugin_thermal_zone.destroy(state);
    batch_finish(b);
    return b;
}

static double zone_temp(const struct sonde_batch *b, const char *zone, const char *type)
{
    const struct sonde_series *s =
        series_find(b, "node_thermal_zone_temp", "zone", zone, "type", type, NULL);
    ck_assert_msg(s != NULL, "zone %s (%s) missing", zone, type);
    ck_assert_uint_eq(s->nlabels, 2);
    return s->value;
}

static double cooling(const struct sonde_batch *b, const char *family, const char *name,
                      const char *type)
{
    const struct sonde_series *s = series_find(b, family, "name", name, "type", type, NULL);
    ck_assert_msg(s != NULL, "%s{name=%s,type=%s} missing", family, name, type);
    ck_assert_uint_eq(s->nlabels, 2);
    return s->value;
}

START_TEST(test_parse)
{
    int64_t v;
    ck_assert_int_eq(thermal_zone_parse_int("27800", &v), 0);
    ck_assert_int_eq(v, 27800);
    ck_assert_int_eq(thermal_zone_parse_int("-1", &v), 0);
    ck_assert_int_eq(v, -1);
    ck_assert_int_eq(thermal_zone_parse_int("12x", &v), -EINVAL);
    ck_assert_int_eq(thermal_zone_parse_int("", &v), -EINVAL);
    ck_assert_int_eq(thermal_zone_parse_int("0x10", &v), -EINVAL); /* base 10 only */
    ck_assert_int_eq(thermal_zone_parse_int("99999999999999999999", &v), -EINVAL);
    ck_assert_str_eq(thermal_zone_suffix("thermal_zone12", "thermal_zone"), "12");
    ck_assert_ptr_null(thermal_zone_suffix("thermal_zoneX", "thermal_zone"));
    ck_assert_ptr_null(thermal_zone_suffix("thermal_zone", "thermal_zone"));
    ck_assert_str_eq(thermal_zone_suffix("cooling_device3", "cooling_device"), "3");
}
END_TEST

/* node_exporter 1.5 printed these 10 series for this tree. */
START_TEST(test_read_fixture)
{
    struct sonde_batch *b = thermal_zone_run(FIXTURES "/thermal_zone/sys");
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(b->nseries, 10);
    ck_assert_double_eq(zone_temp(b, "0", "acpitz"), 27.8);
    ck_assert_double_eq(zone_temp(b, "1", "x86_pkg_temp"), 52.0);
    ck_assert_double_eq(zone_temp(b, "2", "pch_cannonlake"), -1.5);
    ck_assert_double_eq(zone_temp(b, "3", "iwlwifi_1"), 40.0); /* mode disabled: still there */
    ck_assert_double_eq(cooling(b, "node_cooling_device_cur_state", "0", "Processor"), 0.0);
    ck_assert_double_eq(cooling(b, "node_cooling_device_max_state", "0", "Processor"), 10.0);
    ck_assert_double_eq(cooling(b, "node_cooling_device_cur_state", "1", "intel_powerclamp"), -1.0);
    ck_assert_double_eq(cooling(b, "node_cooling_device_max_state", "2", "TCC Offset"), 63.0);
    ck_assert_double_eq(cooling(b, "node_cooling_device_cur_state", "2", "TCC Offset"), 5.0);
    const struct sonde_series *s = series_find(b, "node_thermal_zone_temp", NULL);
    ck_assert_str_eq(s->family->help, "Zone temperature in Celsius");
    ck_assert_int_eq(s->family->type, SONDE_GAUGE);
    s = series_find(b, "node_cooling_device_cur_state", NULL);
    ck_assert_str_eq(s->family->help, "Current throttle state of the cooling device");
    batch_free(b);
}
END_TEST

/* node_exporter fails the whole collector on the first two; we skip the
 * entry, count it, and report the rest. */
START_TEST(test_read_odd)
{
    struct sonde_batch *b = thermal_zone_run(FIXTURES "/thermal_zone/odd/sys");
    /* zone0 without policy, zone2 with temp "12x", cooling_device1 without cur_state */
    ck_assert_uint_eq(b->skipped, 3);
    ck_assert_uint_eq(b->nseries, 5);
    ck_assert_double_eq(zone_temp(b, "1", "good"), 45.5);
    ck_assert_ptr_null(series_find(b, "node_thermal_zone_temp", "type", "notazone", NULL));
    ck_assert_double_eq(cooling(b, "node_cooling_device_cur_state", "0", "Fan"), 1.0);
    /* blanks trimmed as procfs does */
    ck_assert_double_eq(cooling(b, "node_cooling_device_cur_state", "2", "Spaced Type"), 2.0);
    ck_assert_double_eq(cooling(b, "node_cooling_device_max_state", "2", "Spaced Type"), 7.0);
    batch_free(b);
}
END_TEST

START_TEST(test_read_missing)
{
    struct sonde_batch *b = thermal_zone_run(FIXTURES "/thermal_zone/no-such-dir");
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(b->skipped, 0);
    batch_free(b);
}
END_TEST

START_TEST(test_read_twice)
{
    struct thermal_zone_config cfg = {0};
    struct sonde_context ctx = {.procfs = "/proc",
                                .sysfs = FIXTURES "/thermal_zone/sys",
                                .rootfs = "/",
                                .hostname = "t",
                                .instance = "thermal_zone"};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_thermal_zone.init(&state, &cfg, &ctx), 0);
    for (int i = 0; i < 2; i++) {
        struct sonde_batch *b = batch_new("thermal_zone");
        ck_assert_int_eq(sonde_plugin_thermal_zone.read(state, b), 0);
        ck_assert_uint_eq(b->nseries, 10);
        batch_free(b);
    }
    struct sonde_batch *b = batch_new("thermal_zone");
    b->want_series = false; /* line protocol only: nothing to do */
    ck_assert_int_eq(sonde_plugin_thermal_zone.read(state, b), 0);
    ck_assert_uint_eq(b->nseries, 0);
    batch_free(b);
    sonde_plugin_thermal_zone.destroy(state);
}
END_TEST

static Suite *thermal_zone_suite(void)
{
    Suite *s = suite_create("thermal_zone");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse);
    tcase_add_test(tc, test_read_fixture);
    tcase_add_test(tc, test_read_odd);
    tcase_add_test(tc, test_read_missing);
    tcase_add_test(tc, test_read_twice);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(thermal_zone_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
