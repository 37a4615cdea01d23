/*
 * check_dynlib.c - libcurl, snappy and libsystemd are mapped only once asked
 * for, and the loaded tables work: snappy's block format for a known input,
 * curl's date parser and an easy handle, an sd-bus connection that finds no
 * bus.
 */
#include <errno.h>
#include <stdbool.h>

#include "sonde_dynlib.h"
#include "testutil.h"

/* Whether a library whose file name starts with `prefix` is mapped. */
static bool mapped(const char *prefix)
{
    FILE *f = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(f);
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f)) {
        const char *slash = strrchr(line, '/');
        found = slash && strncmp(slash + 1, prefix, strlen(prefix)) == 0;
    }
    fclose(f);
    return found;
}

START_TEST(test_curl_loaded_on_first_use)
{
    ck_assert(!mapped("libcurl"));
    char err[256] = "";
    const struct sonde_curl *cu = sonde_curl(err, sizeof(err));
    ck_assert_msg(cu != NULL, "%s", err);
    ck_assert(mapped("libcurl"));
    ck_assert_ptr_eq(sonde_curl(err, sizeof(err)), cu); /* once per process */
    ck_assert_int_eq(cu->getdate("Wed, 21 Oct 2015 07:28:00 GMT", NULL), 1445412480);
    CURL *c = cu->easy_init();
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(cu->easy_setopt(c, CURLOPT_URL, "http://127.0.0.1:1/"), CURLE_OK);
    ck_assert_str_eq(cu->easy_strerror(CURLE_COULDNT_CONNECT), "Couldn't connect to server");
    struct curl_slist *list = cu->slist_append(NULL, "X-A: b");
    ck_assert_str_eq(list->data, "X-A: b");
    cu->slist_free_all(list);
    cu->easy_cleanup(c);
}
END_TEST

START_TEST(test_snappy_loaded_on_first_use)
{
    ck_assert(!mapped("libsnappy"));
    char err[256] = "";
    const struct sonde_snappy *sn = sonde_snappy(err, sizeof(err));
    ck_assert_msg(sn != NULL, "%s", err);
    ck_assert(mapped("libsnappy"));
    /* The block format: the length as a varint, then a literal of 5 bytes
     * (tag (5-1)<<2). */
    char out[64];
    size_t len = sizeof(out);
    ck_assert_uint_ge(sn->max_compressed_length(5), 7);
    ck_assert_int_eq(sn->compress("hello", 5, out, &len), 0);
    ck_assert_uint_eq(len, 7);
    ck_assert_mem_eq(out, "\x05\x10hello", 7);
    /* A repeated run compresses to far less than its length. */
    char in[1000];
    memset(in, 'a', sizeof(in));
    char big[1200];
    len = sizeof(big);
    ck_assert_int_eq(sn->compress(in, sizeof(in), big, &len), 0);
    ck_assert_uint_lt(len, 100);
}
END_TEST

START_TEST(test_sdbus_loaded_on_first_use)
{
    ck_assert(!mapped("libsystemd"));
    char err[256] = "";
    const struct sonde_sdbus *sd = sonde_sdbus(err, sizeof(err));
    ck_assert_msg(sd != NULL, "%s", err);
    ck_assert(mapped("libsystemd"));
    ck_assert_ptr_eq(sonde_sdbus(err, sizeof(err)), sd);
    sd_bus *bus = NULL;
    ck_assert_int_eq(sd->bus_new(&bus), 0);
    ck_assert_int_ge(sd->bus_set_address(bus, "unix:path=/nonexistent/sonde/bus"), 0);
    ck_assert_int_eq(sd->bus_start(bus), -ENOENT);
    ck_assert_int_eq(sd->bus_is_open(bus), 0);
    ck_assert_ptr_null(sd->bus_unref(bus));
    sd_bus_error e = SD_BUS_ERROR_MAKE_CONST("org.freedesktop.DBus.Error.ServiceUnknown", "x");
    ck_assert_int_gt(sd->error_has_name(&e, "org.freedesktop.DBus.Error.ServiceUnknown"), 0);
}
END_TEST

static Suite *dynlib_suite(void)
{
    Suite *s = suite_create("dynlib");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_curl_loaded_on_first_use);
    tcase_add_test(tc, test_snappy_loaded_on_first_use);
    tcase_add_test(tc, test_sdbus_loaded_on_first_use);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(dynlib_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
