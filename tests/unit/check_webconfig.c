/*
 * check_webconfig.c - the web configuration file (collector/webconfig.c): a
 * good file, every kind of error with its FILE:LINE:COLUMN, the header rules
 * of the exporter-toolkit, certificate loading, change detection, and the
 * basic auth cache. Also that config.c never prints a secret option's value.
 */
#include <crypt.h>
#include <errno.h>
#include <gnutls/x509.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "webconfig.h"

/* config.c's static option parser, for the secrets test. */
#include "../../collector/config.c"

static char tmpdir[64];

static void tmp_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

static void write_file(const char *name, const char *content)
{
    char path[256];
    tmp_path(path, sizeof(path), name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(content, f);
    fclose(f);
}

static void setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/sonde-webconfig-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Parses `yaml` as the file "conf/web.yml"; the errors stay in `errors`. */
static int parse(struct webconfig *wc, const char *yaml, struct sonde_buf *errors)
{
    return webconfig_parse(wc, yaml, strlen(yaml), "conf/web.yml", errors);
}

static void expect_error(const char *yaml, const char *message)
{
    struct webconfig wc;
    struct sonde_buf errors = {0};
    ck_assert_int_eq(parse(&wc, yaml, &errors), -EINVAL);
    ck_assert_msg(errors.data && strstr(errors.data, message), "expected \"%s\" in \"%s\"", message,
                  errors.data ? errors.data : "");
    webconfig_free(&wc);
    sonde_buf_free(&errors);
}

static void expect_ok(const char *yaml)
{
    struct webconfig wc;
    struct sonde_buf errors = {0};
    ck_assert_msg(parse(&wc, yaml, &errors) == 0, "unexpected errors: %s",
                  errors.data ? errors.data : "");
    webconfig_free(&wc);
    sonde_buf_free(&errors);
}

#define HASH_A "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"

START_TEST(test_good_file)
{
    const char *yaml = "tls_server_config:\n"
                       "  cert_file: tls/server.pem\n"
                       "  key_file: /etc/sonde/server.key\n"
                       "  client_auth_type: RequireAndVerifyClientCert\n"
                       "  client_ca_file: ca.pem\n"
                       "  min_version: TLS13\n"
                       "  max_version: TLS13\n"
                       "  prefer_server_cipher_suites: false\n"
                       "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n"
                       "http_server_config:\n"
                       "  http2: false\n"
                       "  headers:\n"
                       "    X-Frame-Options: sameorigin\n"
                       "    Content-Security-Policy: \"default-src 'self'\"\n"
                       "basic_auth_users:\n"
                       "  alice: " HASH_A "\n"
                       "  bob: '$2b$04$abcdefghijklmnopqrstuu5JrEQOyxq7TU0kYpKTm8AQBRx8yQE5K'\n";
    struct webconfig wc;
    struct sonde_buf errors = {0};
    ck_assert_int_eq(parse(&wc, yaml, &errors), 0);
    ck_assert_ptr_null(errors.data);
    ck_assert(wc.tls.enabled);
    ck_assert_str_eq(wc.tls.cert_file, "conf/tls/server.pem");
    ck_assert_str_eq(wc.tls.key_file, "/etc/sonde/server.key");
    ck_assert_str_eq(wc.tls.client_ca_file, "conf/ca.pem");
    ck_assert_int_eq(wc.tls.client_auth, WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT);
    ck_assert_int_eq(wc.tls.min_version, 13);
    ck_assert_int_eq(wc.tls.max_version, 13);
    ck_assert(!wc.tls.prefer_server_cipher_suites);
    ck_assert_int_eq(wc.tls.cert_mark.line, 2);
    ck_assert_int_eq(wc.tls.cert_mark.column, 14);
    ck_assert_uint_eq(wc.nheaders, 2);
    ck_assert_str_eq(wc.headers[0].name, "X-Frame-Options");
    ck_assert_str_eq(wc.headers[0].value, "sameorigin");
    ck_assert_str_eq(wc.headers[1].value, "default-src 'self'");
    ck_assert_uint_eq(wc.nusers, 2);
    ck_assert_str_eq(wc.users[0].name, "alice");
    ck_assert_str_eq(wc.users[0].hash, HASH_A);
    ck_assert_str_eq(wc.users[1].name, "bob");
    webconfig_free(&wc);
}
END_TEST

START_TEST(test_defaults_and_empty_files)
{
    struct webconfig wc;
    struct sonde_buf errors = {0};
    ck_assert_int_eq(parse(&wc, "", &errors), 0);
    ck_assert(!wc.tls.enabled);
    ck_assert_uint_eq(wc.nusers, 0);
    ck_assert_int_eq(wc.tls.min_version, 12); /* the exporter-toolkit's defaults */
    ck_assert_int_eq(wc.tls.max_version, 13);
    webconfig_free(&wc);
    /* An empty section, an empty client_auth_type: still plain HTTP. */
    ck_assert_int_eq(parse(&wc, "tls_server_config: {client_auth_type: ''}\n", &errors), 0);
    ck_assert(!wc.tls.enabled);
    webconfig_free(&wc);
    ck_assert_int_eq(parse(&wc, "basic_auth_users:\nhttp_server_config: {}\n", &errors), 0);
    webconfig_free(&wc);
    ck_assert_ptr_null(errors.data);
    expect_ok("tls_server_config: {cert_file: a, key_file: b, client_auth_type: "
              "RequireClientCert}\n");
}
END_TEST

START_TEST(test_errors_have_positions)
{
    expect_error("tls_server_config:\n  cert_file: a\n  key_file: b\n  bogus: 1\n",
                 "conf/web.yml:4:3: tls_server_config: unknown key \"bogus\"");
    expect_error("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Yes\n",
                 "conf/web.yml:4:21: tls_server_config: client_auth_type: expected NoClientCert");
    expect_error("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS14\n",
                 "conf/web.yml:4:16: tls_server_config: min_version: expected TLS10");
    expect_error("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n"
                 "  max_version: TLS12\n",
                 "conf/web.yml:2:3: tls_server_config: min_version TLS13 is above max_version");
    expect_error("tls_server_config:\n  cert_file: a\n",
                 "conf/web.yml:2:3: tls_server_config: missing key_file");
    expect_error("tls_server_config:\n  client_auth_type: NoClientCert\n",
                 "conf/web.yml:2:3: tls_server_config: missing cert_file");
    expect_error("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: ca.pem\n",
                 "conf/web.yml:4:19: tls_server_config: client_ca_file is set but");
    expect_error("tls_server_config:\n  cert_file: a\n  key_file: b\n"
                 "  client_auth_type: VerifyClientCertIfGiven\n",
                 "conf/web.yml:2:3: tls_server_config: client_auth_type VerifyClientCertIfGiven "
                 "needs client_ca_file");
    expect_error("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_allowed_sans: [x]\n",
                 "conf/web.yml:4:3: tls_server_config: client_allowed_sans is not supported");
    expect_error("tls_server_config:\n  cert_file: [a]\n",
                 "conf/web.yml:2:14: tls_server_config: cert_file: expected a string");
    expect_error("tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: x\n",
                 "conf/web.yml:4:18: tls_server_config: cipher_suites: expected a list");
    expect_error("tls_server_config:\n  cert_file: a\n  cert_file: b\n",
                 "conf/web.yml:3:3: tls_server_config: duplicate key \"cert_file\" (first at "
                 "line 2)");
    expect_error("tls_server_config: [a]\n",
                 "conf/web.yml:1:20: tls_server_config: expected a map");
    expect_error("basic_auth_users:\n  alice: notahash\n",
                 "conf/web.yml:2:10: basic_auth_users: user \"alice\": expected a bcrypt hash");
    expect_error("basic_auth_users:\n  alice:\n", "conf/web.yml:2:9: basic_auth_users: user");
    expect_error("basic_auth_users:\n  alice: '$2y$03$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/"
                 "VcEd00UAV/LDeSi'\n",
                 "conf/web.yml:2:10: basic_auth_users: user \"alice\"");
    expect_error("basic_auth_users:\n  alice: " HASH_A "\n  alice: " HASH_A "\n",
                 "conf/web.yml:3:3: basic_auth_users: duplicate key \"alice\"");
    expect_error("http_server_config:\n  http2: maybe\n",
                 "conf/web.yml:2:10: http_server_config: http2: expected true or false");
    expect_error("http_server_config:\n  headerz: {}\n",
                 "conf/web.yml:2:3: http_server_config: unknown key \"headerz\"");
    expect_error("http_server_config:\n  headers: [a]\n",
                 "conf/web.yml:2:12: http_server_config: headers: expected a map");
    expect_error("rate_limit: {burst: 1}\n", "conf/web.yml:1:1: rate_limit is not supported");
    expect_error("tls_config: {}\n", "conf/web.yml:1:1: unknown key \"tls_config\"");
    expect_error("- a\n", "conf/web.yml:1:1: expected a map with tls_server_config");
    expect_error("tls_server_config: {cert_file: a\n", "conf/web.yml:2:1: did not find expected");
}
END_TEST

START_TEST(test_hashes_are_never_printed)
{
    /* Almost a bcrypt hash (59 characters): refused, and not shown. */
    expect_error("basic_auth_users:\n  alice: '$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/"
                 "VcEd00UAV/LDeS'\n",
                 "user \"alice\": expected a bcrypt hash");
    struct webconfig wc;
    struct sonde_buf errors = {0};
    ck_assert_int_eq(
        parse(&wc, "basic_auth_users:\n  alice: '$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUm'\n",
              &errors),
        -EINVAL);
    ck_assert_ptr_null(strstr(errors.data, "QOauhQ"));
    webconfig_free(&wc);
    sonde_buf_free(&errors);
}
END_TEST

START_TEST(test_header_rules)
{
    /* The exporter-toolkit's five headers, names exactly as it spells them. */
    expect_ok("http_server_config:\n  headers:\n"
              "    Strict-Transport-Security: max-age=31536000; includeSubDomains\n"
              "    X-Content-Type-Options: nosniff\n"
              "    X-Frame-Options: deny\n"
              "    X-XSS-Protection: 1\n"
              "    Content-Security-Policy: \"default-src 'self' *.test.example.net\"\n");
    expect_ok("http_server_config:\n  headers: {X-Frame-Options: sameorigin}\n");
    expect_error("http_server_config:\n  headers:\n    Content-Type: foo\n",
                 "conf/web.yml:3:5: http_server_config: headers: Content-Type cannot be "
                 "configured (allowed: Strict-Transport-Security, X-Content-Type-Options,");
    expect_error("http_server_config:\n  headers:\n    x-frame-options: deny\n",
                 "conf/web.yml:3:5: http_server_config: headers: x-frame-options cannot be");
    expect_error("http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
                 "conf/web.yml:3:22: http_server_config: headers: X-Frame-Options must be deny "
                 "or sameorigin, got \"allow\"");
    expect_error("http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n",
                 "conf/web.yml:3:29: http_server_config: headers: X-Content-Type-Options must be "
                 "nosniff, got \"sniff\"");
    expect_error(
        "http_server_config:\n  headers:\n    X-XSS-Protection: \"1\\r\\nSet-Cookie: a\"\n",
        "conf/web.yml:3:23: http_server_config: headers: X-XSS-Protection: control "
        "characters are not allowed");
    expect_error("http_server_config:\n  headers:\n    X-XSS-Protection: {a: b}\n",
                 "conf/web.yml:3:23: http_server_config: headers: X-XSS-Protection: expected a "
                 "string");
}
END_TEST

/* Writes NAME.key and NAME.pem into tmpdir: a new P-256 key and a
 * self-signed certificate for it. */
static void make_cert(const char *name)
{
    gnutls_x509_privkey_t key;
    gnutls_x509_crt_t crt;
    ck_assert_int_eq(gnutls_x509_privkey_init(&key), 0);
    ck_assert_int_eq(gnutls_x509_privkey_generate(
                         key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
                     0);
    ck_assert_int_eq(gnutls_x509_crt_init(&crt), 0);
    unsigned char serial[8] = {0x01, 0x02};
    time_t now = time(NULL);
    ck_assert_int_eq(gnutls_x509_crt_set_version(crt, 3), 0);
    ck_assert_int_eq(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)), 0);
    ck_assert_int_eq(gnutls_x509_crt_set_activation_time(crt, now - 60), 0);
    ck_assert_int_eq(gnutls_x509_crt_set_expiration_time(crt, now + 3600), 0);
    ck_assert_int_eq(
        gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, name, strlen(name)), 0);
    ck_assert_int_eq(gnutls_x509_crt_set_key(crt, key), 0);
    ck_assert_int_eq(gnutls_x509_crt_set_basic_constraints(crt, 1, -1), 0);
    ck_assert_int_eq(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);
    gnutls_datum_t pem;
    char file[64], path[256];
    ck_assert_int_eq(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem), 0);
    snprintf(file, sizeof(file), "%s.pem", name);
    tmp_path(path, sizeof(path), file);
    FILE *f = fopen(path, "w");
    fwrite(pem.data, 1, pem.size, f);
    fclose(f);
    gnutls_free(pem.data);
    ck_assert_int_eq(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &pem), 0);
    snprintf(file, sizeof(file), "%s.key", name);
    tmp_path(path, sizeof(path), file);
    f = fopen(path, "w");
    fwrite(pem.data, 1, pem.size, f);
    fclose(f);
    gnutls_free(pem.data);
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_privkey_deinit(key);
}

/* Loads tmpdir/web.yml with `yaml`; returns the result, errors in `errors`. */
static int load(struct webconfig *wc, const char *yaml, struct sonde_buf *errors)
{
    char path[256];
    write_file("web.yml", yaml);
    tmp_path(path, sizeof(path), "web.yml");
    return webconfig_load(wc, path, errors);
}

static void expect_load_error(const char *yaml, const char *message)
{
    struct webconfig wc;
    struct sonde_buf errors = {0};
    ck_assert_int_eq(load(&wc, yaml, &errors), -EINVAL);
    ck_assert_msg(errors.data && strstr(errors.data, message), "expected \"%s\" in \"%s\"", message,
                  errors.data ? errors.data : "");
    webconfig_free(&wc);
    sonde_buf_free(&errors);
}

START_TEST(test_tls_material)
{
    make_cert("server");
    make_cert("other");
    make_cert("ca");
    struct webconfig wc;
    struct sonde_buf errors = {0};
    int rc = load(&wc,
                  "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n"
                  "  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.pem\n",
                  &errors);
    ck_assert_msg(rc == 0, "%s", errors.data ? errors.data : "");
    ck_assert_ptr_nonnull(wc.tls.credentials);
    ck_assert_ptr_nonnull(wc.tls.priority);
    ck_assert_str_eq(wc.tls.priorities,
                     "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.3:%SERVER_PRECEDENCE");
    ck_assert_ptr_nonnull(strstr(wc.tls.cert_pem, "BEGIN CERTIFICATE"));
    ck_assert_ptr_nonnull(strstr(wc.tls.key_pem, "PRIVATE KEY"));
    ck_assert(!webconfig_watch_changed(&wc.watch));
    ck_assert_ptr_nonnull(wc.watch.paths[WEBCONFIG_CA]);
    webconfig_free(&wc);

    expect_load_error("tls_server_config:\n  cert_file: server.pem\n  key_file: other.key\n",
                      "/web.yml:3:13: tls_server_config: cert_file ");
    expect_load_error("tls_server_config:\n  cert_file: nosuch.pem\n  key_file: server.key\n",
                      "/web.yml:2:14: tls_server_config: cert_file ");
    expect_load_error("tls_server_config:\n  cert_file: nosuch.pem\n  key_file: server.key\n",
                      "nosuch.pem: cannot read: No such file or directory");
    expect_load_error("tls_server_config:\n  cert_file: .\n  key_file: server.key\n",
                      "cannot read: not a regular file");
    write_file("empty.pem", "no certificate here\n");
    expect_load_error("tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n"
                      "  client_auth_type: RequireAndVerifyClientCert\n"
                      "  client_ca_file: empty.pem\n",
                      "/web.yml:5:19: tls_server_config: client_ca_file ");
    /* A failed load still says which files it looked at. */
    ck_assert_int_eq(
        load(&wc, "tls_server_config: {cert_file: nosuch.pem, key_file: k}\n", &errors), -EINVAL);
    struct webconfig_watch failed = {0};
    webconfig_watch_take(&failed, &wc);
    ck_assert_ptr_nonnull(failed.paths[WEBCONFIG_CERT]);
    ck_assert_int_eq(failed.stamps[WEBCONFIG_CERT].err, ENOENT);
    ck_assert(!webconfig_watch_changed(&failed));
    make_cert("nosuch");
    ck_assert(webconfig_watch_changed(&failed)); /* the missing file appeared */
    webconfig_watch_free(&failed);
    webconfig_free(&wc);
    sonde_buf_free(&errors);
}
END_TEST

START_TEST(test_change_detection)
{
    struct webconfig wc;
    struct sonde_buf errors = {0};
    char path[256], moved[256];
    tmp_path(path, sizeof(path), "web.yml");
    tmp_path(moved, sizeof(moved), "web.yml.new");
    ck_assert_int_eq(load(&wc, "basic_auth_users: {a: " HASH_A "}\n", &errors), 0);
    ck_assert(!webconfig_watch_changed(&wc.watch));
    /* Same size, same second, same inode: the content tells. */
    write_file("web.yml", "basic_auth_users: {b: " HASH_A "}\n");
    ck_assert(webconfig_watch_changed(&wc.watch));
    webconfig_free(&wc);
    ck_assert_int_eq(load(&wc, "basic_auth_users: {a: " HASH_A "}\n", &errors), 0);
    /* Replaced by rename (what configuration management does). */
    write_file("web.yml.new", "basic_auth_users: {a: " HASH_A "}\n");
    ck_assert_int_eq(rename(moved, path), 0);
    ck_assert(webconfig_watch_changed(&wc.watch));
    webconfig_free(&wc);
    ck_assert_int_eq(load(&wc, "", &errors), 0);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert(webconfig_watch_changed(&wc.watch));
    webconfig_free(&wc);
    ck_assert_ptr_null(errors.data);
}
END_TEST

/* A bcrypt hash of `password` at `cost`, with libcrypt. */
static void hash_of(const char *password, unsigned long cost, char *out, size_t cap)
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data *data = calloc(1, sizeof(*data));
    ck_assert_ptr_nonnull(crypt_gensalt_rn("$2b$", cost, NULL, 0, salt, sizeof(salt)));
    const char *hash = crypt_rn(password, salt, data, sizeof(*data));
    ck_assert_ptr_nonnull(hash);
    snprintf(out, cap, "%s", hash);
    free(data);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(test_auth_cache)
{
    char alice[64], bob[64], yaml[256];
    hash_of("alice-pw", 4, alice, sizeof(alice));
    hash_of("bob-pw", 4, bob, sizeof(bob));
    snprintf(yaml, sizeof(yaml), "basic_auth_users:\n  alice: '%s'\n  bob: '%s'\n", alice, bob);
    struct webconfig wc;
    struct sonde_buf errors = {0};
    ck_assert_int_eq(parse(&wc, yaml, &errors), 0);
    /* First success pays bcrypt, the next ones are cached. */
    ck_assert(webconfig_authenticate(&wc, "alice", "alice-pw"));
    ck_assert_uint_eq(wc.auth.bcrypts, 1);
    ck_assert(webconfig_authenticate(&wc, "alice", "alice-pw"));
    ck_assert(webconfig_authenticate(&wc, "alice", "alice-pw"));
    ck_assert_uint_eq(wc.auth.bcrypts, 1);
    ck_assert_uint_eq(wc.auth.cache_hits, 2);
    /* Failures are never cached: each one costs a bcrypt. */
    ck_assert(!webconfig_authenticate(&wc, "alice", "wrong"));
    ck_assert(!webconfig_authenticate(&wc, "alice", "wrong"));
    ck_assert_uint_eq(wc.auth.bcrypts, 3);
    /* An unknown user costs a bcrypt too (no user enumeration by timing),
     * even with a password that is right for another user. */
    ck_assert(!webconfig_authenticate(&wc, "mallory", "alice-pw"));
    ck_assert_uint_eq(wc.auth.bcrypts, 4);
    /* alice's cached password is not bob's. */
    ck_assert(!webconfig_authenticate(&wc, "bob", "alice-pw"));
    ck_assert(webconfig_authenticate(&wc, "bob", "bob-pw"));
    ck_assert_uint_eq(wc.auth.bcrypts, 6);
    /* User and password are not confused across the separator. */
    ck_assert(!webconfig_authenticate(&wc, "alic", "ealice-pw"));
    ck_assert_uint_eq(wc.auth.cache_hits, 2);
    /* More than 72 bytes: refused, as Go's bcrypt does, even if the first
     * 72 match. */
    char longpw[100];
    memset(longpw, 'x', sizeof(longpw) - 1);
    longpw[sizeof(longpw) - 1] = '\0';
    char longhash[64];
    hash_of(longpw, 4, longhash, sizeof(longhash));
    webconfig_free(&wc);
    snprintf(yaml, sizeof(yaml), "basic_auth_users:\n  carol: '%s'\n", longhash);
    ck_assert_int_eq(parse(&wc, yaml, &errors), 0);
    ck_assert(!webconfig_authenticate(&wc, "carol", longpw));
    /* The cache is per loaded file: a reload starts empty. */
    webconfig_free(&wc);
    snprintf(yaml, sizeof(yaml), "basic_auth_users:\n  alice: '%s'\n", alice);
    ck_assert_int_eq(parse(&wc, yaml, &errors), 0);
    ck_assert(webconfig_authenticate(&wc, "alice", "alice-pw"));
    ck_assert_uint_eq(wc.auth.bcrypts, 1);
    ck_assert_uint_eq(wc.auth.cache_hits, 0);
    webconfig_free(&wc);
    ck_assert_ptr_null(errors.data);
}
END_TEST

/* A hash made by Go's bcrypt (the exporter-toolkit's decoy, "fakepassword",
 * cost 10): libcrypt must accept what the exporters' users already have.
 * Also measures what the cache saves. */
START_TEST(test_auth_go_hash_and_cost)
{
    struct webconfig wc;
    struct sonde_buf errors = {0};
    ck_assert_int_eq(parse(&wc, "basic_auth_users:\n  alice: " HASH_A "\n", &errors), 0);
    double t0 = now_s();
    ck_assert(webconfig_authenticate(&wc, "alice", "fakepassword"));
    double t1 = now_s();
    for (int i = 0; i < 1000; i++)
        ck_assert(webconfig_authenticate(&wc, "alice", "fakepassword"));
    double t2 = now_s();
    ck_assert(!webconfig_authenticate(&wc, "alice", "fakepassword2"));
    ck_assert_uint_eq(wc.auth.bcrypts, 2);
    double bcrypt_s = t1 - t0, cached_s = (t2 - t1) / 1000;
    printf("# basic auth, bcrypt cost 10: %.1f ms per verification, %.2f us cached\n",
           bcrypt_s * 1e3, cached_s * 1e6);
    ck_assert_msg(cached_s * 100 < bcrypt_s, "cached %.6f s vs bcrypt %.6f s", cached_s, bcrypt_s);
    webconfig_free(&wc);
}
END_TEST

/* config.c: an option named like a secret, or flagged secret, never has its
 * value printed in an error. */
struct secret_cfg {
    int64_t password_as_int;
    char *api_token;
    int64_t pin;
    int64_t retries;
    struct sonde_string_map headers;
};

static const struct sonde_option secret_options[] = {
    {"password", SONDE_OPT_INT, offsetof(struct secret_cfg, password_as_int), NULL, false, "",
     false},
    {"api_token", SONDE_OPT_STRING, offsetof(struct secret_cfg, api_token), NULL, false, "", false},
    {"pin", SONDE_OPT_INT, offsetof(struct secret_cfg, pin), NULL, false, "", true},
    {"retries", SONDE_OPT_INT, offsetof(struct secret_cfg, retries), NULL, false, "", false},
    {"headers", SONDE_OPT_STRING_MAP, offsetof(struct secret_cfg, headers), NULL, false, "", false},
    {NULL},
};

/* Applies `yaml` (one map) to secret_options; returns what stderr got. */
static char *apply_secret_options(const char *yaml)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    ck_assert(yaml_parser_initialize(&parser));
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, strlen(yaml));
    ck_assert(yaml_parser_load(&parser, &doc));
    struct sonde_config config = {0};
    struct config_ctx c = {.file = "secret.yaml", .doc = &doc, .config = &config};
    struct secret_cfg cfg = {0};
    fflush(stderr);
    FILE *tmp = tmpfile();
    int saved = dup(2);
    dup2(fileno(tmp), 2);
    int rc = options_apply(&c, yaml_document_get_root_node(&doc), secret_options, &cfg, NULL, NULL,
                           "output test");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ck_assert_int_eq(rc, -EINVAL);
    rewind(tmp);
    char *out = calloc(1, 4096);
    size_t n = fread(out, 1, 4095, tmp);
    out[n] = '\0';
    fclose(tmp);
    config_options_free(secret_options, &cfg);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return out;
}

START_TEST(test_secrets_are_redacted)
{
    char *err = apply_secret_options("password: hunter2\npin: '0000x'\nretries: many\n");
    ck_assert_msg(strstr(err, "secret.yaml:1:11: output test: option password: expected an "
                              "integer, got \"<redacted>\""),
                  "%s", err);
    ck_assert_msg(strstr(err, "option pin: expected an integer, got \"<redacted>\""), "%s", err);
    /* Ordinary options still show the value. */
    ck_assert_msg(strstr(err, "option retries: expected an integer, got \"many\""), "%s", err);
    ck_assert_ptr_null(strstr(err, "hunter2"));
    ck_assert_ptr_null(strstr(err, "0000x"));
    free(err);
    err = apply_secret_options("api_token: \"abc${TOKEN_TAIL\"\n");
    ck_assert_msg(strstr(err, "unterminated ${ in \"<redacted>\""), "%s", err);
    ck_assert_ptr_null(strstr(err, "abc"));
    free(err);
    /* A map entry named like a secret (remote_write's headers, basic_auth). */
    err = apply_secret_options("headers: {Authorization: \"Bearer xyz${\"}\n");
    ck_assert_msg(strstr(err, "secret.yaml:1:26: unterminated ${ in \"<redacted>\""), "%s", err);
    ck_assert_ptr_null(strstr(err, "xyz"));
    free(err);
    err = apply_secret_options("headers: {X-Scope-OrgID: \"team${\"}\n");
    ck_assert_msg(strstr(err, "unterminated ${ in \"team${\""), "%s", err);
    free(err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("webconfig");
    TCase *tc = tcase_create("webconfig");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_good_file);
    tcase_add_test(tc, test_defaults_and_empty_files);
    tcase_add_test(tc, test_errors_have_positions);
    tcase_add_test(tc, test_hashes_are_never_printed);
    tcase_add_test(tc, test_header_rules);
    tcase_add_test(tc, test_tls_material);
    tcase_add_test(tc, test_change_detection);
    tcase_add_test(tc, test_auth_cache);
    tcase_add_test(tc, test_auth_go_hash_and_cost);
    tcase_add_test(tc, test_secrets_are_redacted);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
