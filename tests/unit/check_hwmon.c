/*
 * check_hwmon.c - unit tests of plugins/hwmon.c and the node_exporter naming it shares with
 * the sensors input (hwmon_ne.h): attribute names, chip labels, families and units, and full
 * reads over sysfs fixture trees (eleven chips of real kinds, odd names and values, the old
 * device-only layout, a host whose only temperatures are thermal zones). node_exporter 1.5,
 * run with --path.sysfs on these trees, printed the series counted here.
 */
#include "../../plugins/hwmon.c"

#include "testutil.h"

#define EPS 1e-9

static struct sonde_batch *hwmon_run(const char *sysfs, const struct hwmon_config *cfg,
                                     bool want_series, bool want_points)
{
    struct sonde_context ctx = {
        .procfs = "/proc", .sysfs = sysfs, .rootfs = "/", .hostname = "t", .instance = "hwmon"};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_hwmon.init(&state, cfg, &ctx), 0);
    struct sonde_batch *b = batch_new("hwmon");
    b->want_series = want_series;
    b->want_points = want_points;
    ck_assert_int_eq(sonde_plugin_hwmon.read(state, b), 0);
    sonde_plugin_hwmon.destroy(state);
    batch_finish(b);
    return b;
}

static double hwmon_value(const struct sonde_batch *b, const char *name, const char *chip,
                          const char *sensor)
{
    const struct sonde_series *s = series_find(b, name, "chip", chip, "sensor", sensor, NULL);
    ck_assert_msg(s != NULL, "%s{chip=%s,sensor=%s} missing", name, chip, sensor);
    ck_assert_uint_eq(s->nlabels, 2);
    return s->value;
}

static double temp_point(const struct sonde_batch *b, const char *sensor)
{
    const struct sonde_point *p = point_find(b, "temp", "sensor", sensor, NULL);
    ck_assert_msg(p != NULL, "temp,sensor=%s missing", sensor);
    ck_assert_uint_eq(p->nfields, 1);
    const struct sonde_field *f = field_get(p, "temp");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->type, SONDE_FIELD_FLOAT);
    return f->v.f;
}

START_TEST(test_explode)
{
    struct hwmon_ne_attr a;
    ck_assert(hwmon_ne_explode("temp1_crit_alarm", &a));
    ck_assert_uint_eq(a.type_len, 4);
    ck_assert_int_eq(a.number, 1);
    ck_assert_str_eq(a.property, "crit_alarm");
    ck_assert(hwmon_ne_explode("beep_enable", &a));
    ck_assert_uint_eq(a.type_len, 11);
    ck_assert_int_eq(a.number, 0);
    ck_assert_str_eq(a.property, "");
    ck_assert(hwmon_ne_explode("pwm1", &a));
    ck_assert_uint_eq(a.type_len, 3);
    ck_assert_str_eq(a.property, "");
    ck_assert(hwmon_ne_explode("cpu0_vid", &a));
    ck_assert_str_eq(a.property, "vid");
    ck_assert(hwmon_ne_explode("temp01_input", &a));
    ck_assert_int_eq(a.number, 1);
    ck_assert(hwmon_ne_explode("energy17_input", &a));
    ck_assert_int_eq(a.number, 17);
    /* The greedy split fails; a shorter type before '_' matches. */
    ck_assert(hwmon_ne_explode("fan_x1_", &a));
    ck_assert_uint_eq(a.type_len, 3);
    ck_assert_str_eq(a.property, "x1_");
    ck_assert(!hwmon_ne_explode("temp1_", &a));
    ck_assert(!hwmon_ne_explode("1abc", &a));
    ck_assert(!hwmon_ne_explode("temp1a_input", &a));
    ck_assert(!hwmon_ne_explode("temp99999999999999999999_input", &a));
    ck_assert(hwmon_ne_known_type("intrusion", 9));
    ck_assert(!hwmon_ne_known_type("name", 4));
    ck_assert(!hwmon_ne_known_type("temp_input", 10));
}
END_TEST

START_TEST(test_clean)
{
    char out[64];
    const char *in = "Package id 0";
    ck_assert_uint_eq(hwmon_ne_clean(in, strlen(in), out, sizeof(out)), 12);
    ck_assert_str_eq(out, "package_id_0");
    in = "Weird Name!\n";
    hwmon_ne_clean(in, strlen(in), out, sizeof(out));
    ck_assert_str_eq(out, "weird_name");
    in = "lnxsybus:00";
    hwmon_ne_clean(in, strlen(in), out, sizeof(out));
    ck_assert_str_eq(out, "lnxsybus:00");
    in = "___";
    ck_assert_uint_eq(hwmon_ne_clean(in, strlen(in), out, sizeof(out)), 0);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_describe)
{
    struct hwmon_ne_metric m;
    ck_assert(hwmon_ne_describe("temp", "input", false, 45000, &m));
    ck_assert_str_eq(m.name, "node_hwmon_temp_celsius");
    ck_assert_str_eq(m.help, "Hardware monitor for temperature (input)");
    ck_assert_double_eq(m.value, 45.0);
    ck_assert(hwmon_ne_describe("temp", "crit_alarm", false, 1, &m));
    ck_assert_str_eq(m.name, "node_hwmon_temp_crit_alarm_celsius");
    ck_assert_double_eq(m.value, 0.001); /* node_exporter's unit, kept */
    ck_assert(hwmon_ne_describe("temp", "type", false, 4, &m));
    ck_assert_str_eq(m.name, "node_hwmon_temp_type");
    ck_assert_str_eq(m.help, "Hardware monitor temp element type");
    ck_assert(hwmon_ne_describe("temp", "", true, 10000, &m)); /* the bare temp1 */
    ck_assert_str_eq(m.name, "node_hwmon_temp_celsius");
    ck_assert_str_eq(m.help, "Hardware monitor for temperature (input)");
    ck_assert(hwmon_ne_describe("temp", "input", true, 20000, &m));
    ck_assert_str_eq(m.name, "node_hwmon_temp_input_celsius");
    ck_assert(hwmon_ne_describe("fan", "min", false, 500, &m));
    ck_assert_str_eq(m.name, "node_hwmon_fan_min_rpm");
    ck_assert_double_eq(m.value, 500.0);
    ck_assert(hwmon_ne_describe("fan", "div", false, 8, &m));
    ck_assert_str_eq(m.name, "node_hwmon_fan_div");
    ck_assert_str_eq(m.help, "Hardware monitor fan element div");
    ck_assert(hwmon_ne_describe("fan", "alarm", false, 1, &m));
    ck_assert_str_eq(m.name, "node_hwmon_fan_alarm");
    ck_assert_str_eq(m.help, "Hardware sensor alarm status (fan)");
    ck_assert(hwmon_ne_describe("in", "beep", false, 1, &m));
    ck_assert_str_eq(m.name, "node_hwmon_in_beep_enabled");
    ck_assert(hwmon_ne_describe("cpu", "vid", false, 1100, &m));
    ck_assert_str_eq(m.name, "node_hwmon_cpu_vid_volts");
    ck_assert_double_eq_tol(m.value, 1.1, EPS);
    ck_assert(hwmon_ne_describe("curr", "input", false, 1500, &m));
    ck_assert_str_eq(m.name, "node_hwmon_curr_amps");
    ck_assert(hwmon_ne_describe("energy", "input", false, 123456789012.0, &m));
    ck_assert_str_eq(m.name, "node_hwmon_energy_joule_total");
    ck_assert_int_eq(m.type, SONDE_COUNTER);
    ck_assert_double_eq(m.value, 123456.789012);
    ck_assert(hwmon_ne_describe("power", "average_interval", false, 1000, &m));
    ck_assert_str_eq(m.name, "node_hwmon_power_average_interval_seconds");
    ck_assert(hwmon_ne_describe("power", "accuracy", false, 95000, &m));
    ck_assert_str_eq(m.name, "node_hwmon_power_accuracy");
    ck_assert_double_eq(m.value, 0.095);
    ck_assert(hwmon_ne_describe("power", "input", false, 18000000, &m));
    ck_assert_str_eq(m.name, "node_hwmon_power_watt");
    ck_assert_double_eq(m.value, 18.0);
    ck_assert(hwmon_ne_describe("humidity", "input", false, 45300, &m));
    ck_assert_str_eq(m.name, "node_hwmon_humidity");
    ck_assert_double_eq(m.value, 0.0453);
    ck_assert(hwmon_ne_describe("pwm", "", false, 128, &m));
    ck_assert_str_eq(m.name, "node_hwmon_pwm");
    ck_assert_str_eq(m.help, "Hardware monitor pwm element ");
    hwmon_ne_describe_whole("update_interval", 2, &m);
    ck_assert_str_eq(m.name, "node_hwmon_update_interval_seconds");
    ck_assert_double_eq(m.value, 0.002);
}
END_TEST

START_TEST(test_chip_label)
{
    char out[HWMON_NE_CHIP_MAX];
    const struct {
        const char *dir, *want;
    } cases[] = {
        {FIXTURES "/hwmon/sys/class/hwmon/hwmon1", "platform_coretemp_0"},
        {FIXTURES "/hwmon/sys/class/hwmon/hwmon0", "thermal_thermal_zone0"},
        {FIXTURES "/hwmon/sys/class/hwmon/hwmon2", "nvme_nvme0"},
        {FIXTURES "/hwmon/sys/class/hwmon/hwmon4", "hwmon4"},
        {FIXTURES "/hwmon/sys/class/hwmon/hwmon5", "lnxsybus:00_acpi000d:00"},
        {FIXTURES "/hwmon/sys/class/hwmon/hwmon6", "i2c_1_1_0044"},
        {FIXTURES "/hwmon/odd/sys/class/hwmon/hwmon1", "bus_type_my_dev_1"},
        {FIXTURES "/hwmon/odd/sys/class/hwmon/hwmon0", "hwmon0"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_int_eq(hwmon_ne_chip_label(cases[i].dir, out, sizeof(out)), 0);
        ck_assert_str_eq(out, cases[i].want);
    }
    ck_assert_int_eq(hwmon_ne_chip_label(FIXTURES "/hwmon/no-such", out, sizeof(out)), -ENOENT);
}
END_TEST

START_TEST(test_read_fixture)
{
    struct hwmon_config cfg = {0};
    struct sonde_batch *b = hwmon_run(FIXTURES "/hwmon/sys", &cfg, true, true);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(b->nseries, 100);
    ck_assert_uint_eq(series_count(b, "node_hwmon_chip_names"), 9); /* not hwmon4 nor it87 */
    ck_assert_uint_eq(series_count(b, "node_hwmon_temp_celsius"), 13);
    ck_assert_uint_eq(series_count(b, "node_hwmon_sensor_label"), 11);

    ck_assert_double_eq(hwmon_value(b, "node_hwmon_temp_celsius", "platform_coretemp_0", "temp1"),
                        45.0);
    ck_assert_double_eq(
        hwmon_value(b, "node_hwmon_temp_max_celsius", "platform_coretemp_0", "temp2"), 80.0);
    ck_assert_double_eq(
        hwmon_value(b, "node_hwmon_temp_crit_celsius", "platform_coretemp_0", "temp3"), 100.0);
    ck_assert_double_eq(
        hwmon_value(b, "node_hwmon_temp_crit_alarm_celsius", "platform_coretemp_0", "temp1"), 0.0);
    ck_assert_double_eq(
        hwmon_value(b, "node_hwmon_temp_crit_hyst_celsius", "pci0000:00_0000:00:18_3", "temp1"),
        65.0);
    /* The thermal zone's own "temp" file, read through device/, is sensor temp0. */
    ck_assert_double_eq(hwmon_value(b, "node_hwmon_temp_celsius", "thermal_thermal_zone0", "temp0"),
                        27.8);
    ck_assert_double_eq(hwmon_value(b, "node_hwmon_temp_min_celsius", "nvme_nvme0", "temp1"),
                        -273150 * 0.001);
    ck_assert_double_eq(hwmon_value(b, "node_hwmon_fan_rpm", "platform_nct6775_656", "fan1"),
                        1024.0);
    ck_assert_double_eq(hwmon_value(b, "node_hwmon_fan_min_rpm", "platform_nct6775_656", "fan1"),
                        500.0);
    ck_assert_double_eq(hwmon_value(b, "node_hwmon_in_volts", "platform_nct6775_656", "in0"),
                        1128 * 0.001);
    ck_assert_double_eq(hwmon_value(b, "node_hwmon_in_volts", "platform_it87_2608", "in0"), 1.2);
    ck_assert_double_eq(
        hwmon_value(b, "node_hwmon_power_average_watt", "lnxsybus:00_acpi000d:00", "power1"),
        345.0);
    ck_assert_double_eq(hwmon_value(b, "node_hwmon_curr_amps", "i2c_2_2_0040", "curr1"), 1.5);
    ck_assert_double_eq(hwmon_value(b, "node_hwmon_humidity", "i2c_1_1_0044", "humidity1"), 0.0453);
    ck_assert_double_eq(
        hwmon_value(b, "node_hwmon_intrusion_alarm", "platform_nct6775_656", "intrusion0"), 1.0);
    ck_assert_double_eq(
        hwmon_value(b, "node_hwmon_beep_enabled", "platform_nct6775_656", "beep_enable0"), 0.0);
    ck_assert_double_eq(hwmon_value(b, "node_hwmon_pwm", "platform_nct6775_656", "pwm1"), 128.0);
    ck_assert_double_eq(
        hwmon_value(b, "node_hwmon_update_interval_seconds", "i2c_2_2_0040", "update_interval0"),
        0.002);
    ck_assert_double_eq(
        hwmon_value(b, "node_hwmon_energy_joule_total", "platform_amd_energy_0", "energy17"),
        987654.321);

    const struct sonde_series *s = series_find(
        b, "node_hwmon_chip_names", "chip", "platform_coretemp_0", "chip_name", "coretemp", NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->family->help, "Annotation metric for human-readable chip names");
    /* node_exporter 1.5 keeps the label text as the driver wrote it. */
    s = series_find(b, "node_hwmon_sensor_label", "chip", "platform_coretemp_0", "sensor", "temp1",
                    NULL);
    ck_assert_str_eq(label_get(s->labels, s->nlabels, "label"), "Package id 0");
    s = series_find(b, "node_hwmon_energy_joule_total", NULL);
    ck_assert_int_eq(s->family->type, SONDE_COUNTER);
    ck_assert_str_eq(s->family->help, "Hardware monitor for joules used so far (input)");
    ck_assert_ptr_null(series_find(b, "node_hwmon_power_model_number", NULL)); /* text */

    /* Telegraf's temp: v2 names, the input and every other temp<N>_ file. */
    ck_assert_uint_eq(b->npoints, 36);
    ck_assert_double_eq(temp_point(b, "coretemp_package_id_0_input"), 45.0);
    ck_assert_double_eq(temp_point(b, "coretemp_core_1_crit"), 100.0);
    ck_assert_double_eq(temp_point(b, "nvme_composite_input"), 35.85);
    ck_assert_double_eq(temp_point(b, "nvme_sensor_1_max"), 65261.85);
    ck_assert_double_eq(temp_point(b, "k10temp_tctl_input"), 33.25);
    ck_assert_double_eq(temp_point(b, "k10temp_tctl_crit_hyst"), 65.0);
    ck_assert_double_eq(temp_point(b, "acpitz_input"), 27.8);
    const struct sonde_point *p = point_find(b, "temp", "sensor", "nvme_composite_alarm", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(field_get(p, "active")->type, SONDE_FIELD_BOOL);
    ck_assert(!field_get(p, "active")->v.b);
    /* it87 keeps its attributes on the device: other chips have top-level
     * temperatures, so Telegraf does not look there. */
    ck_assert_ptr_null(point_find(b, "temp", "sensor", "it8718_input", NULL));
    batch_free(b);
}
END_TEST

START_TEST(test_read_odd)
{
    struct hwmon_config cfg = {0};
    struct sonde_batch *b = hwmon_run(FIXTURES "/hwmon/odd/sys", &cfg, true, true);
    /* temp2_input "N/A" and temp6_input "12000 " (node_exporter parses
     * without trimming blanks) */
    ck_assert_uint_eq(b->skipped, 2);
    ck_assert_uint_eq(b->nseries, 21);
    /* bare temp1 and temp1_input: two families */
    ck_assert_double_eq(hwmon_value(b, "node_hwmon_temp_celsius", "hwmon0", "temp1"), 10.0);
    ck_assert_double_eq(hwmon_value(b, "node_hwmon_temp_input_celsius", "hwmon0", "temp1"), 20.0);
    ck_assert_double_eq(hwmon_value(b, "node_hwmon_in_volts", "hwmon0", "in0"), 3300 * 0.001);
    ck_assert_double_eq(hwmon_value(b, "node_hwmon_in_input_volts", "hwmon0", "in0"), 3300 * 0.001);
    /* temp05_input and temp5_input are one sensor; the later name wins */
    ck_assert_double_eq(hwmon_value(b, "node_hwmon_temp_celsius", "hwmon0", "temp5"), 5.5);
    ck_assert_double_eq(hwmon_value(b, "node_hwmon_fan_x1", "hwmon0", "fan0"), 7.0);
    ck_assert_double_eq(hwmon_value(b, "node_hwmon_voltage_regulator_version", "hwmon0", "vrm0"),
                        9.1);
    ck_assert_double_eq(hwmon_value(b, "node_hwmon_beep_enabled", "hwmon0", "beep_enable0"),
                        0.0); /* "yes" is not "1" */
    ck_assert_ptr_null(series_find(b, "node_hwmon_temp_celsius", "sensor", "temp2", NULL));
    ck_assert_ptr_null(series_find(b, "node_hwmon_temp_celsius", "sensor", "temp9", NULL));
    const struct sonde_series *s =
        series_find(b, "node_hwmon_sensor_label", "chip", "hwmon0", "sensor", "temp2", NULL);
    ck_assert_str_eq(label_get(s->labels, 3, "label"), "  spaced label  ");
    s = series_find(b, "node_hwmon_sensor_label", "chip", "hwmon0", "sensor", "temp3", NULL);
    ck_assert_str_eq(label_get(s->labels, 3, "label"), "");
    s = series_find(b, "node_hwmon_sensor_label", "chip", "hwmon0", "sensor", "temp8", NULL);
    ck_assert_uint_eq(strlen(label_get(s->labels, 3, "label")), 128); /* one 128-byte read */
    ck_assert_double_eq(hwmon_value(b, "node_hwmon_temp_celsius", "bus_type_my_dev_1", "temp1"),
                        -5.0);
    ck_assert_ptr_nonnull(series_find(b, "node_hwmon_chip_names", "chip", "bus_type_my_dev_1",
                                      "chip_name", "weird_name", NULL));

    /* Telegraf: sensor names from the raw name; "N/A" is a 0 reading. */
    ck_assert_double_eq(temp_point(b, "Weird Name!_input"), -5.0);
    ck_assert_double_eq(temp_point(b, "Weird Name!_crit_alarm"), 0.001);
    ck_assert_double_eq(temp_point(b, "_spaced_label_input"), 0.0);
    ck_assert_double_eq(temp_point(b, "_max"), 90.0);
    const struct sonde_point *p = point_find(b, "temp", "sensor", "Weird Name!_alarm", NULL);
    ck_assert(field_get(p, "active")->v.b);
    ck_assert_uint_eq(b->npoints, 12);
    batch_free(b);
}
END_TEST

/* CentOS' layout: no top-level temperature anywhere, so Telegraf reads the
 * device directories; the same with Prometheus off (read on demand). */
START_TEST(test_lp_device_fallback)
{
    struct hwmon_config cfg = {0};
    for (int series = 1; series >= 0; series--) {
        struct sonde_batch *b = hwmon_run(FIXTURES "/hwmon/centos/sys", &cfg, series, true);
        ck_assert_uint_eq(b->npoints, 3);
        ck_assert_double_eq(temp_point(b, "it8718_cpu_temp_input"), 41.0);
        ck_assert_double_eq(temp_point(b, "it8718_cpu_temp_max"), 70.0);
        ck_assert_double_eq(temp_point(b, "it8718_input"), 36.0);
        ck_assert_uint_eq(b->nseries, series ? 7 : 0);
        if (series)
            ck_assert_double_eq(
                hwmon_value(b, "node_hwmon_fan_rpm", "platform_w83627ehf_656", "fan1"), 1500.0);
        batch_free(b);
    }
}
END_TEST

START_TEST(test_lp_thermal_fallback)
{
    struct hwmon_config cfg = {0};
    struct sonde_batch *b = hwmon_run(FIXTURES "/hwmon/zones/sys", &cfg, true, true);
    ck_assert_uint_eq(b->npoints, 2);
    ck_assert_double_eq(temp_point(b, "x86_pkg_temp_input"), 52.0);
    ck_assert_double_eq(temp_point(b, "acpitz_input"), 27.8);
    ck_assert_uint_eq(b->nseries, 2);
    ck_assert_double_eq(hwmon_value(b, "node_hwmon_fan_rpm", "fan_only", "fan1"), 900.0);
    batch_free(b);
}
END_TEST

START_TEST(test_lp_v1_and_device_tag)
{
    struct hwmon_config cfg = {.metric_format = "v1", .add_device_tag = true};
    struct sonde_batch *b = hwmon_run(FIXTURES "/hwmon/sys", &cfg, false, true);
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(b->npoints, 36);
    ck_assert_double_eq(temp_point(b, "coretemp_core0_input"), 43.0);
    ck_assert_double_eq(temp_point(b, "coretemp_packageid0_max"), 80.0);
    const struct sonde_point *p = point_find(b, "temp", "sensor", "nvme_sensor1_input", NULL);
    ck_assert_str_eq(label_get(p->tags, p->ntags, "device"), "nvme0");
    p = point_find(b, "temp", "sensor", "coretemp_core1_input", NULL);
    ck_assert_str_eq(label_get(p->tags, p->ntags, "device"), "coretemp.0");
    batch_free(b);

    cfg.metric_format = "v3";
    void *state = NULL;
    struct sonde_context ctx = {.procfs = "/proc", .sysfs = "/sys", .rootfs = "/", .hostname = "t"};
    ck_assert_int_eq(sonde_plugin_hwmon.init(&state, &cfg, &ctx), -EINVAL);
}
END_TEST

/* Prometheus alone gives the same series as both sides together. */
START_TEST(test_series_only)
{
    struct hwmon_config cfg = {0};
    struct sonde_batch *b = hwmon_run(FIXTURES "/hwmon/sys", &cfg, true, false);
    ck_assert_uint_eq(b->nseries, 100);
    ck_assert_uint_eq(b->npoints, 0);
    batch_free(b);
}
END_TEST

/* A host without hwmon nor thermal zones (this VM): nothing, and no error. */
START_TEST(test_no_sensors)
{
    struct hwmon_config cfg = {0};
    struct sonde_batch *b = hwmon_run(FIXTURES "/hwmon/no-such-dir", &cfg, true, true);
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(b->npoints, 0);
    ck_assert_uint_eq(b->skipped, 0);
    batch_free(b);
}
END_TEST

START_TEST(test_read_twice)
{
    struct hwmon_config cfg = {0};
    struct sonde_context ctx = {.procfs = "/proc",
                                .sysfs = FIXTURES "/hwmon/sys",
                                .rootfs = "/",
                                .hostname = "t",
                                .instance = "hwmon"};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_hwmon.init(&state, &cfg, &ctx), 0);
    for (int i = 0; i < 2; i++) {
        struct sonde_batch *b = batch_new("hwmon");
        ck_assert_int_eq(sonde_plugin_hwmon.read(state, b), 0);
        ck_assert_uint_eq(b->nseries, 100);
        ck_assert_uint_eq(b->npoints, 36);
        batch_free(b);
    }
    sonde_plugin_hwmon.destroy(state);
}
END_TEST

static Suite *hwmon_suite(void)
{
    Suite *s = suite_create("hwmon");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_explode);
    tcase_add_test(tc, test_clean);
    tcase_add_test(tc, test_describe);
    tcase_add_test(tc, test_chip_label);
    tcase_add_test(tc, test_read_fixture);
    tcase_add_test(tc, test_read_odd);
    tcase_add_test(tc, test_lp_device_fallback);
    tcase_add_test(tc, test_lp_thermal_fallback);
    tcase_add_test(tc, test_lp_v1_and_device_tag);
    tcase_add_test(tc, test_series_only);
    tcase_add_test(tc, test_no_sensors);
    tcase_add_test(tc, test_read_twice);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(hwmon_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
