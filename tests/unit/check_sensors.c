/*
 * check_sensors.c - unit tests of plugins/sensors.c without a sensor chip: the libsensors
 * unit factors, Telegraf's feature tags, field names and rounding, and both encodings of
 * chips given as libsensors would read them (values in °C, V, W ...). The chip paths point
 * at the hwmon fixture tree, so node_hwmon_* can be checked against the hwmon input's own
 * reading of it. libsensors itself, on a virtual chip, is tested by
 * tests/integration/test_sensors.sh.
 */
#include "../../plugins/sensors.c"

#include "testutil.h"

#define HWMON_FIXTURE FIXTURES "/hwmon/sys/class/hwmon"

START_TEST(test_scale_and_raw)
{
    ck_assert_double_eq(sensors_scale(SENSORS_SUBFEATURE_TEMP_INPUT), 1000.0);
    ck_assert_double_eq(sensors_scale(SENSORS_SUBFEATURE_TEMP_CRIT), 1000.0);
    ck_assert_double_eq(sensors_scale(SENSORS_SUBFEATURE_TEMP_CRIT_ALARM), 1.0);
    ck_assert_double_eq(sensors_scale(SENSORS_SUBFEATURE_TEMP_TYPE), 1.0);
    ck_assert_double_eq(sensors_scale(SENSORS_SUBFEATURE_TEMP_OFFSET), 1000.0);
    ck_assert_double_eq(sensors_scale(SENSORS_SUBFEATURE_IN_MAX), 1000.0);
    ck_assert_double_eq(sensors_scale(SENSORS_SUBFEATURE_IN_ALARM), 1.0);
    ck_assert_double_eq(sensors_scale(SENSORS_SUBFEATURE_FAN_INPUT), 1.0);
    ck_assert_double_eq(sensors_scale(SENSORS_SUBFEATURE_FAN_DIV), 1.0);
    ck_assert_double_eq(sensors_scale(SENSORS_SUBFEATURE_POWER_INPUT), 1e6);
    ck_assert_double_eq(sensors_scale(SENSORS_SUBFEATURE_POWER_AVERAGE_INTERVAL), 1000.0);
    ck_assert_double_eq(sensors_scale(SENSORS_SUBFEATURE_ENERGY_INPUT), 1e6);
    ck_assert_double_eq(sensors_scale(SENSORS_SUBFEATURE_CURR_INPUT), 1000.0);
    ck_assert_double_eq(sensors_scale(SENSORS_SUBFEATURE_HUMIDITY_INPUT), 1000.0);
    ck_assert_double_eq(sensors_scale(SENSORS_SUBFEATURE_VID), 1000.0);
    ck_assert_double_eq(sensors_scale(SENSORS_SUBFEATURE_INTRUSION_ALARM), 1.0);
    ck_assert_double_eq(sensors_scale(SENSORS_SUBFEATURE_BEEP_ENABLE), 1.0);
    /* libsensors' 35850 / 1000 times 1000 is 35850 again, to the bit */
    ck_assert_double_eq(sensors_raw(35850 / 1000.0, SENSORS_SUBFEATURE_TEMP_INPUT), 35850.0);
    ck_assert_double_eq(sensors_raw(1128 / 1000.0, SENSORS_SUBFEATURE_IN_INPUT), 1128.0);
    ck_assert_double_eq(sensors_raw(345000000 / 1e6, SENSORS_SUBFEATURE_POWER_AVERAGE),
                        345000000.0);
    /* a computed value keeps its fraction */
    ck_assert_double_eq_tol(sensors_raw(1.2345678, SENSORS_SUBFEATURE_IN_INPUT), 1234.5678, 1e-9);
}
END_TEST

START_TEST(test_telegraf_names)
{
    struct sonde_arena *arena = sonde_arena_new();
    ck_assert_str_eq(sensors_feature_tag("Package id 0", arena), "package_id_0");
    ck_assert_str_eq(sensors_feature_tag("temp1", arena), "temp1");
    ck_assert_str_eq(sensors_feature_tag(" Core 0 ", arena), "core_0_");
    ck_assert_str_eq(sensors_feature_tag("CPU:", arena), "cpu");
    ck_assert_str_eq(sensors_feature_tag("+3.3V", arena), "+3.3v");
    ck_assert_str_eq(sensors_field_name("temp1_input", true, arena), "temp_input");
    ck_assert_str_eq(sensors_field_name("in10_input", true, arena), "in_input");
    ck_assert_str_eq(sensors_field_name("power1_average_interval", true, arena),
                     "power_average_interval");
    ck_assert_str_eq(sensors_field_name("temp1_input", false, arena), "temp1_input");
    ck_assert_double_eq(sensors_round3(12.345678), 12.346);
    ck_assert_double_eq(sensors_round3(35.85), 35.85);
    ck_assert_double_eq(sensors_round3(0.0004), 0.0);
    ck_assert_str_eq(sensors_hwmon_dir("/sys/class/hwmon/hwmon7/device", arena),
                     "/sys/class/hwmon/hwmon7");
    ck_assert_str_eq(sensors_hwmon_dir("/sys/class/hwmon/hwmon1", arena),
                     "/sys/class/hwmon/hwmon1");
    sonde_arena_free(arena);
}
END_TEST

/* coretemp as libsensors reads the hwmon fixture's hwmon1. */
static struct sensors_reading coretemp_temp1[] = {
    {"temp1_input", SENSORS_SUBFEATURE_TEMP_INPUT, 45.0},
    {"temp1_max", SENSORS_SUBFEATURE_TEMP_MAX, 80.0},
    {"temp1_crit", SENSORS_SUBFEATURE_TEMP_CRIT, 100.0},
    {"temp1_crit_alarm", SENSORS_SUBFEATURE_TEMP_CRIT_ALARM, 0.0},
};
static struct sensors_reading coretemp_temp2[] = {
    {"temp2_input", SENSORS_SUBFEATURE_TEMP_INPUT, 43.0},
    {"temp2_max", SENSORS_SUBFEATURE_TEMP_MAX, 80.0},
};
static struct sensors_feature_read coretemp_features[] = {
    {"temp1", "Package id 0", coretemp_temp1, 4},
    {"temp2", "Core 0", coretemp_temp2, 2},
    {"temp9", "temp9", NULL, 0}, /* nothing readable: no point */
};

/* nct6775 (hwmon3), with a computed voltage and a configured fan label. */
static struct sensors_reading nct_in0[] = {
    {"in0_input", SENSORS_SUBFEATURE_IN_INPUT, 1.128},
    {"in0_max", SENSORS_SUBFEATURE_IN_MAX, 1.744},
    {"in0_alarm", SENSORS_SUBFEATURE_IN_ALARM, 0.0},
    {"in0_beep", SENSORS_SUBFEATURE_IN_BEEP, 0.0},
};
static struct sensors_reading nct_in1[] = {
    {"in1_input", SENSORS_SUBFEATURE_IN_INPUT, 2.0 * 1.000}, /* compute in1 @*2 */
};
static struct sensors_reading nct_fan1[] = {
    {"fan1_input", SENSORS_SUBFEATURE_FAN_INPUT, 1024.0},
    {"fan1_min", SENSORS_SUBFEATURE_FAN_MIN, 500.0},
    {"fan1_div", SENSORS_SUBFEATURE_FAN_DIV, 8.0},
};
static struct sensors_reading nct_vid[] = {
    {"cpu0_vid", SENSORS_SUBFEATURE_VID, 1.1},
};
static struct sensors_reading nct_intrusion[] = {
    {"intrusion0_alarm", SENSORS_SUBFEATURE_INTRUSION_ALARM, 1.0},
};
static struct sensors_reading nct_beep[] = {
    {"beep_enable", SENSORS_SUBFEATURE_BEEP_ENABLE, 0.0},
};
static struct sensors_feature_read nct_features[] = {
    {"in0", "Vcore", nct_in0, 4},
    {"in1", "in1", nct_in1, 1},
    {"fan1", "Case Fan", nct_fan1, 3},
    {"cpu0_vid", "cpu0_vid", nct_vid, 1},
    {"intrusion0", "intrusion0", nct_intrusion, 1},
    {"beep_enable", "beep_enable", nct_beep, 1},
};

/* it87 (hwmon7): libsensors found its attributes on the device. */
static struct sensors_reading it87_temp1[] = {
    {"temp1_input", SENSORS_SUBFEATURE_TEMP_INPUT, 41.0},
};
static struct sensors_feature_read it87_features[] = {
    {"temp1", "temp1", it87_temp1, 1},
};

/* power meter (hwmon5) and ina226 (hwmon8): microwatts and the interval. */
static struct sensors_reading pm_power1[] = {
    {"power1_average", SENSORS_SUBFEATURE_POWER_AVERAGE, 345.0},
    {"power1_average_interval", SENSORS_SUBFEATURE_POWER_AVERAGE_INTERVAL, 1.0},
};
static struct sensors_feature_read pm_features[] = {
    {"power1", "power1", pm_power1, 2},
};
static struct sensors_reading ina_power1[] = {
    {"power1_input", SENSORS_SUBFEATURE_POWER_INPUT, 18.0},
};
static struct sensors_reading ina_curr1[] = {
    {"curr1_input", SENSORS_SUBFEATURE_CURR_INPUT, 1.5},
};
static struct sensors_feature_read ina_features[] = {
    {"power1", "power1", ina_power1, 1},
    {"curr1", "curr1", ina_curr1, 1},
};

static struct sensors_chip_read test_chips[] = {
    {"coretemp-isa-0000", HWMON_FIXTURE "/hwmon1", coretemp_features, 3},
    {"nct6775-isa-0290", HWMON_FIXTURE "/hwmon3", nct_features, 6},
    {"it8718-isa-0a20", HWMON_FIXTURE "/hwmon7/device", it87_features, 1},
    {"power_meter-acpi-0", HWMON_FIXTURE "/hwmon5", pm_features, 1},
    {"ina226-i2c-2-40", HWMON_FIXTURE "/hwmon8", ina_features, 2},
};
#define NTEST_CHIPS (sizeof(test_chips) / sizeof(test_chips[0]))

static double lp_field(const struct sonde_point *p, const char *key)
{
    const struct sonde_field *f = field_get(p, key);
    ck_assert_msg(f != NULL, "field %s missing", key);
    ck_assert_int_eq(f->type, SONDE_FIELD_FLOAT);
    return f->v.f;
}

START_TEST(test_emit_lp)
{
    struct sensors_state st = {.remove_numbers = true};
    struct sonde_batch *b = batch_new("sensors");
    for (size_t i = 0; i < NTEST_CHIPS; i++)
        sensors_emit_lp(&st, &test_chips[i], b);
    batch_finish(b);
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(b->npoints, 12);
    const struct sonde_point *p =
        point_find(b, "sensors", "chip", "coretemp-isa-0000", "feature", "package_id_0", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->ntags, 2);
    ck_assert_uint_eq(p->nfields, 4);
    ck_assert_double_eq(lp_field(p, "temp_input"), 45.0);
    ck_assert_double_eq(lp_field(p, "temp_max"), 80.0);
    ck_assert_double_eq(lp_field(p, "temp_crit"), 100.0);
    ck_assert_double_eq(lp_field(p, "temp_crit_alarm"), 0.0);
    ck_assert_ptr_null(point_find(b, "sensors", "feature", "temp9", NULL));
    p = point_find(b, "sensors", "chip", "nct6775-isa-0290", "feature", "vcore", NULL);
    ck_assert_double_eq(lp_field(p, "in_input"), 1.128);
    ck_assert_double_eq(lp_field(p, "in_alarm"), 0.0);
    p = point_find(b, "sensors", "chip", "nct6775-isa-0290", "feature", "case_fan", NULL);
    ck_assert_double_eq(lp_field(p, "fan_input"), 1024.0);
    ck_assert_double_eq(lp_field(p, "fan_div"), 8.0);
    p = point_find(b, "sensors", "chip", "nct6775-isa-0290", "feature", "cpu0_vid", NULL);
    ck_assert_double_eq(lp_field(p, "cpu_vid"), 1.1);
    p = point_find(b, "sensors", "chip", "power_meter-acpi-0", "feature", "power1", NULL);
    ck_assert_double_eq(lp_field(p, "power_average"), 345.0);
    ck_assert_double_eq(lp_field(p, "power_average_interval"), 1.0);
    batch_free(b);

    st.remove_numbers = false;
    b = batch_new("sensors");
    sensors_emit_lp(&st, &test_chips[0], b);
    p = point_find(b, "sensors", "feature", "core_0", NULL);
    ck_assert_double_eq(lp_field(p, "temp2_input"), 43.0);
    batch_free(b);
}
END_TEST

/* node_hwmon_* from libsensors readings equal the hwmon input's reading of
 * the same files, series for series. */
START_TEST(test_emit_prom_matches_hwmon)
{
    struct sonde_batch *b = batch_new("sensors");
    struct hwmon_ne_families fams = {0};
    for (size_t i = 0; i < NTEST_CHIPS; i++)
        sensors_emit_prom(&test_chips[i], &fams, b);
    batch_finish(b);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(b->npoints, 0);

    /* The hwmon input over the same tree, through its descriptor (defaults:
     * a zeroed config). */
    extern const struct sonde_plugin sonde_plugin_hwmon;
    void *hcfg = sonde_xcalloc(1, sonde_plugin_hwmon.config_size);
    struct sonde_context ctx = {.procfs = "/proc",
                                .sysfs = FIXTURES "/hwmon/sys",
                                .rootfs = "/",
                                .hostname = "t",
                                .instance = "hwmon"};
    void *hst = NULL;
    ck_assert_int_eq(sonde_plugin_hwmon.init(&hst, hcfg, &ctx), 0);
    struct sonde_batch *h = batch_new("hwmon");
    h->want_points = false;
    ck_assert_int_eq(sonde_plugin_hwmon.read(hst, h), 0);
    sonde_plugin_hwmon.destroy(hst);
    free(hcfg);
    batch_finish(h);

    size_t compared = 0;
    for (size_t i = 0; i < b->nseries; i++) {
        const struct sonde_series *s = &b->series[i];
        const char *chip = label_get(s->labels, s->nlabels, "chip");
        const char *sensor = label_get(s->labels, s->nlabels, "sensor");
        if (strcmp(s->family->name, "node_hwmon_chip_names") == 0) {
            const char *name = label_get(s->labels, s->nlabels, "chip_name");
            ck_assert_ptr_nonnull(
                series_find(h, s->family->name, "chip", chip, "chip_name", name, NULL));
            continue;
        }
        if (strcmp(s->family->name, "node_hwmon_sensor_label") == 0)
            continue; /* configuration labels are the sensors input's own */
        if (strcmp(chip, "platform_nct6775_656") == 0 && strcmp(sensor, "in1") == 0)
            continue; /* computed */
        const struct sonde_series *t =
            series_find(h, s->family->name, "chip", chip, "sensor", sensor, NULL);
        ck_assert_msg(t != NULL, "%s{chip=%s,sensor=%s} not in hwmon's", s->family->name, chip,
                      sensor);
        ck_assert_msg(t->value == s->value, "%s{chip=%s,sensor=%s}: hwmon %.17g, sensors %.17g",
                      s->family->name, chip, sensor, t->value, s->value);
        ck_assert_str_eq(t->family->help, s->family->help);
        ck_assert_int_eq(t->family->type, s->family->type);
        compared++;
    }
    ck_assert_uint_eq(compared, 21);

    /* chip names as node_exporter derives them; none for it87 (no name file
     * in its hwmon directory), its chip from the device path */
    ck_assert_uint_eq(series_count(b, "node_hwmon_chip_names"), 4);
    ck_assert_ptr_nonnull(series_find(b, "node_hwmon_temp_celsius", "chip", "platform_it87_2608",
                                      "sensor", "temp1", NULL));
    ck_assert_double_eq(
        series_find(b, "node_hwmon_in_volts", "chip", "platform_nct6775_656", "sensor", "in1", NULL)
            ->value,
        2.0);
    const struct sonde_series *s = series_find(b, "node_hwmon_sensor_label", "chip",
                                               "platform_nct6775_656", "sensor", "fan1", NULL);
    ck_assert_str_eq(label_get(s->labels, s->nlabels, "label"), "Case Fan");
    s = series_find(b, "node_hwmon_sensor_label", "chip", "platform_coretemp_0", "sensor", "temp1",
                    NULL);
    ck_assert_str_eq(label_get(s->labels, s->nlabels, "label"), "Package id 0");
    ck_assert_uint_eq(series_count(b, "node_hwmon_sensor_label"), 4);
    s = series_find(b, "node_hwmon_beep_enabled", NULL);
    ck_assert_str_eq(label_get(s->labels, s->nlabels, "sensor"), "beep_enable0");
    batch_free(b);
    batch_free(h);
}
END_TEST

/* libsensors has one configuration per process: a second instance asking
 * for another one is refused. */
START_TEST(test_one_configuration)
{
    struct sensors_config a = {.remove_numbers = true, .config_file = ""};
    struct sensors_config other = {.remove_numbers = true, .config_file = "/nonexistent.conf"};
    struct sonde_context ctx = {.procfs = "/proc", .sysfs = "/sys", .rootfs = "/", .hostname = "t"};
    void *s1 = NULL, *s2 = NULL, *s3 = NULL;
    ck_assert_int_eq(sonde_plugin_sensors.init(&s1, &a, &ctx), 0);
    ck_assert_int_eq(sonde_plugin_sensors.init(&s2, &other, &ctx), -EINVAL);
    ck_assert_int_eq(sonde_plugin_sensors.init(&s3, &a, &ctx), 0);
    ck_assert_uint_eq(sensors_shared.users, 2);
    sonde_plugin_sensors.destroy(s1);
    sonde_plugin_sensors.destroy(s3);
    ck_assert_uint_eq(sensors_shared.users, 0);
    ck_assert(!sensors_shared.loaded);
}
END_TEST

static Suite *sensors_suite(void)
{
    Suite *s = suite_create("sensors");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_scale_and_raw);
    tcase_add_test(tc, test_telegraf_names);
    tcase_add_test(tc, test_emit_lp);
    tcase_add_test(tc, test_emit_prom_matches_hwmon);
    tcase_add_test(tc, test_one_configuration);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sensors_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
