/*
 * check_config.c - configuration loading: defaults, sections, instances,
 * environment expansion, conf.d merging, and the FILE:LINE:COLUMN errors
 * for every kind of mistake.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "testutil.h"

/* Loads `yaml`, capturing stderr; returns the loader's result and leaves
 * the message in `err`. */
static int load_capture(struct sonde_config *cfg, const char *yaml, char *err, size_t cap)
{
    fflush(stderr);
    FILE *tmp = tmpfile();
    int saved = dup(2);
    dup2(fileno(tmp), 2);
    int rc = config_load_string(cfg, yaml, "test.yaml");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(err, 1, cap - 1, tmp);
    err[n] = '\0';
    fclose(tmp);
    return rc;
}

static void expect_error(const char *yaml, const char *message)
{
    struct sonde_config cfg;
    char err[2048];
    ck_assert_int_eq(load_capture(&cfg, yaml, err, sizeof(err)), -EINVAL);
    ck_assert_msg(strstr(err, message) != NULL, "expected \"%s\" in \"%s\"", message, err);
}

START_TEST(test_defaults)
{
    struct sonde_config cfg;
    ck_assert_int_eq(config_load_string(&cfg, "", "empty.yaml"), 0);
    ck_assert_int_eq(cfg.interval_ns, 10000000000LL);
    ck_assert_str_eq(cfg.listen_address, ":9110");
    ck_assert_str_eq(cfg.telemetry_path, "/metrics");
    ck_assert_int_eq(cfg.max_connections, 64);
    ck_assert_uint_eq(cfg.ninputs, 0);
    config_free(&cfg);
}
END_TEST

START_TEST(test_embedded_default_is_valid)
{
    struct sonde_config cfg;
    ck_assert_int_eq(config_load(&cfg, NULL), 0);
    ck_assert_uint_ge(cfg.ninputs, 8);
    ck_assert_str_eq(cfg.inputs[0].plugin->name, "cpu");
    config_free(&cfg);
}
END_TEST

START_TEST(test_embedded_default_equals_shipped_file)
{
    char *shipped = fixture_read("../../packaging/sonde.yaml");
    ck_assert_str_eq(shipped, sonde_default_config);
    free(shipped);
}
END_TEST

START_TEST(test_sections_and_instances)
{
    struct sonde_config cfg;
    setenv("SONDE_TEST_DC", "par1", 1);
    unsetenv("SONDE_TEST_UNSET");
    const char *yaml =
        "agent:\n"
        "  interval: 1m30s\n"
        "  hostname: box\n"
        "  global_tags: {dc: \"${SONDE_TEST_DC}\", rack: \"${SONDE_TEST_UNSET:-r9}\","
        " cost: \"$$5\"}\n"
        "web:\n"
        "  listen_address: 127.0.0.1:19110\n"
        "inputs:\n"
        "  cpu: {percpu: false}\n"
        "  mem:\n"
        "  disk:\n"
        "    - {interval: 100ms, tags: {role: db}}\n"
        "    - {}\n"
        "outputs:\n"
        "  stdout: {}\n";
    ck_assert_int_eq(config_load_string(&cfg, yaml, "t.yaml"), 0);
    ck_assert_int_eq(cfg.interval_ns, 90000000000LL);
    ck_assert_str_eq(cfg.hostname, "box");
    ck_assert_uint_eq(cfg.global_tags.n, 3);
    ck_assert_str_eq(cfg.global_tags.values[0], "par1");
    ck_assert_str_eq(cfg.global_tags.values[1], "r9");
    ck_assert_str_eq(cfg.global_tags.values[2], "$5");
    ck_assert_str_eq(cfg.listen_address, "127.0.0.1:19110");
    ck_assert_uint_eq(cfg.ninputs, 4);
    ck_assert_str_eq(cfg.inputs[1].name, "mem");
    ck_assert_str_eq(cfg.inputs[2].name, "disk");
    ck_assert_str_eq(cfg.inputs[3].name, "disk/1");
    ck_assert_int_eq(cfg.inputs[2].interval_ns, 100000000);
    ck_assert_int_eq(cfg.inputs[3].interval_ns, 0);
    ck_assert_str_eq(cfg.inputs[2].tags.values[0], "db");
    ck_assert_uint_eq(cfg.noutputs, 1);
    config_free(&cfg);
}
END_TEST

START_TEST(test_errors_have_positions)
{
    expect_error("agent:\n  intervall: 10s\n",
                 "test.yaml:2:3: agent: unknown option \"intervall\" (expected one of: interval,");
    expect_error("agent:\n  interval: 10 s\n",
                 "test.yaml:2:13: agent: option interval: expected a duration like 100ms, 10s or "
                 "1m, got \"10 s\"");
    expect_error("agent:\n  interval: 0s\n", "test.yaml:2:3: agent: interval must be greater");
    expect_error("inputs:\n  cpu:\n    percpu: maybe\n",
                 "test.yaml:3:13: input cpu: option percpu: expected a boolean");
    expect_error("inputs:\n  nosuch: {}\n",
                 "test.yaml:2:3: inputs: unknown input plugin \"nosuch\" (known: cpu,");
    expect_error("inputs:\n  stdout: {}\n", "test.yaml:2:3: inputs: unknown input plugin");
    expect_error("outputs:\n  cpu: {}\n", "test.yaml:2:3: outputs: unknown output plugin");
    expect_error("web:\n  max_connections: lots\n",
                 "test.yaml:2:20: web: option max_connections: expected an integer");
    expect_error("inputs:\n  disk: {fs_types_exclude: \"^(tmpfs\"}\n",
                 "test.yaml:2:28: input disk: option fs_types_exclude: expected a POSIX extended "
                 "regular expression, got \"^(tmpfs\"");
    expect_error("web: [1, 2]\n", "test.yaml:1:6: web: expected a map of options");
    expect_error("bogus: 1\n", "test.yaml:1:1: unknown section \"bogus\"");
    expect_error("agent:\n  global_tags: [a]\n", "test.yaml:2:16: agent: option global_tags");
    expect_error("agent: {hostname: \"${SONDE_TEST_UNSET}\"}\n",
                 "test.yaml:1:19: environment variable SONDE_TEST_UNSET is not set");
    expect_error("agent:\n  interval: 1s\n  interval: 2s\n",
                 "test.yaml:3:3: duplicate key \"interval\" (first at line 2)");
    expect_error("agent: {interval: 1s\n", "test.yaml:2:1: did not find expected ',' or '}'");
    expect_error("- a\n- b\n", "test.yaml:1:1: expected a map with agent");
}
END_TEST

START_TEST(test_durations_and_sizes)
{
    int64_t ns;
    ck_assert_int_eq(config_parse_duration("100ms", &ns), 0);
    ck_assert_int_eq(ns, 100000000);
    ck_assert_int_eq(config_parse_duration("1h2m3.5s", &ns), 0);
    ck_assert_int_eq(ns, 3723500000000LL);
    ck_assert_int_eq(config_parse_duration("250us", &ns), 0);
    ck_assert_int_eq(ns, 250000);
    ck_assert_int_eq(config_parse_duration("10", &ns), -EINVAL);
    ck_assert_int_eq(config_parse_duration("s", &ns), -EINVAL);
    ck_assert_int_eq(config_parse_duration("-1s", &ns), -EINVAL);
    ck_assert_int_eq(config_parse_duration("", &ns), -EINVAL);
    uint64_t bytes;
    ck_assert_int_eq(config_parse_size("64MiB", &bytes), 0);
    ck_assert_uint_eq(bytes, 67108864);
    ck_assert_int_eq(config_parse_size("1GB", &bytes), 0);
    ck_assert_uint_eq(bytes, 1000000000);
    ck_assert_int_eq(config_parse_size("4096", &bytes), 0);
    ck_assert_uint_eq(bytes, 4096);
    ck_assert_int_eq(config_parse_size("12 parsecs", &bytes), -EINVAL);
}
END_TEST

START_TEST(test_conf_d_merged_in_order)
{
    char dir[] = "/tmp/sonde-config-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256], sub[256];
    snprintf(path, sizeof(path), "%s/sonde.yaml", dir);
    snprintf(sub, sizeof(sub), "%s/conf.d", dir);
    mkdir(sub, 0700);
    FILE *f = fopen(path, "w");
    fputs("agent: {interval: 5s}\ninputs: {cpu: {}}\n", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/conf.d/20-b.yaml", dir);
    f = fopen(path, "w");
    fputs("agent: {interval: 7s}\ninputs: {mem: {}}\n", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/conf.d/10-a.yaml", dir);
    f = fopen(path, "w");
    fputs("agent: {interval: 6s, hostname: a}\ninputs: {cpu: {}}\n", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/sonde.yaml", dir);
    struct sonde_config cfg;
    ck_assert_int_eq(config_load(&cfg, path), 0);
    ck_assert_int_eq(cfg.interval_ns, 7000000000LL);
    ck_assert_str_eq(cfg.hostname, "a");
    ck_assert_uint_eq(cfg.ninputs, 3);
    ck_assert_str_eq(cfg.inputs[1].name, "cpu/1");
    ck_assert_str_eq(cfg.inputs[2].name, "mem");
    config_free(&cfg);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_embedded_default_is_valid);
    tcase_add_test(tc, test_embedded_default_equals_shipped_file);
    tcase_add_test(tc, test_sections_and_instances);
    tcase_add_test(tc, test_errors_have_positions);
    tcase_add_test(tc, test_durations_and_sizes);
    tcase_add_test(tc, test_conf_d_merged_in_order);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
