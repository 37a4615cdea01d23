/*
 * webconfig.h - the endpoint's web configuration file, in the format of the
 * Prometheus exporters' --web.config.file (exporter-toolkit): TLS with
 * optional client certificates, basic auth users with bcrypt hashes, extra
 * response headers. Loaded at start-up, checked by --check-config, and
 * re-read by the endpoint when one of its files changes.
 */
#ifndef SONDE_WEBCONFIG_H
#define SONDE_WEBCONFIG_H

#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "sonde.h"

/* The exporter-toolkit's client_auth_type values (Go's tls.ClientAuthType). */
enum webconfig_client_auth {
    WEBCONFIG_NO_CLIENT_CERT,
    WEBCONFIG_REQUEST_CLIENT_CERT,
    WEBCONFIG_REQUIRE_ANY_CLIENT_CERT,
    WEBCONFIG_VERIFY_CLIENT_CERT_IF_GIVEN,
    WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT
};

/* Which files a loaded configuration came from, and what stat() said of each
 * just before it was read: any difference later means it changed. */
enum { WEBCONFIG_FILE, WEBCONFIG_CERT, WEBCONFIG_KEY, WEBCONFIG_CA, WEBCONFIG_NFILES };

struct webconfig_stamp {
    bool taken; /* this file was looked at */
    int err;    /* errno of stat(), 0 when it succeeded */
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_ns, ctime_ns;
    bool hashed;   /* the file was read: content_hash is its FNV-1a */
    uint64_t hash; /* compared while mtime is recent (file times are coarser than writes) */
};

struct webconfig_watch {
    char *paths[WEBCONFIG_NFILES]; /* owned; NULL: not used */
    struct webconfig_stamp stamps[WEBCONFIG_NFILES];
};

/* Where a value was in the file, for errors found after parsing. */
struct webconfig_mark {
    size_t line, column; /* 1-based */
};

struct webconfig_tls {
    bool enabled; /* some TLS key is set: the endpoint speaks HTTPS only */
    char *cert_file, *key_file, *client_ca_file; /* owned; relative to the file's directory */
    struct webconfig_mark section_mark, cert_mark, key_mark, ca_mark;
    enum webconfig_client_auth client_auth;
    int min_version, max_version; /* 10 for TLS 1.0 ... 13 for TLS 1.3 */
    bool prefer_server_cipher_suites;

    /* Loaded by webconfig_load (not by webconfig_parse): */
    char *cert_pem, *key_pem; /* owned; key_pem is wiped when freed */
    char *priorities;         /* GnuTLS priority string, owned */
    gnutls_certificate_credentials_t credentials;
    gnutls_priority_t priority;
};

struct webconfig_user {
    char *name;
    char *hash; /* bcrypt: $2a$, $2b$ or $2y$, cost 4-31; never printed */
};

struct webconfig_header {
    char *name, *value;
};

/*
 * Verified user/password pairs, so that a scrape pays bcrypt once per
 * configuration rather than once per request. An entry is an HMAC-SHA256
 * (random key per load) of user and password: the password itself is not
 * kept. Failures are never cached. Dropped with the configuration, so any
 * change of the file empties it.
 */
#define WEBCONFIG_AUTH_CACHE 64

struct webconfig_auth {
    pthread_mutex_t lock;        /* the entries */
    pthread_mutex_t bcrypt_lock; /* one bcrypt at a time, as the exporters do: an attacker
                                    guessing passwords takes one core, not all */
    unsigned char key[32];
    struct {
        unsigned char mac[32];
        size_t user; /* index into users */
        bool used;
    } entries[WEBCONFIG_AUTH_CACHE];
    size_t next;                 /* ring position of the next insertion */
    void *crypt_data;            /* struct crypt_data for crypt_rn, under bcrypt_lock; owned */
    _Atomic uint64_t bcrypts;    /* bcrypt computations done (measurements, tests) */
    _Atomic uint64_t cache_hits; /* verifications answered from the cache */
};

struct webconfig {
    char *path; /* owned */
    struct webconfig_tls tls;
    struct webconfig_user *users; /* owned, in file order */
    size_t nusers;
    struct webconfig_header *headers; /* owned */
    size_t nheaders;
    struct webconfig_watch watch;
    struct webconfig_auth auth;
};

/* Parses the YAML `text` of the file `path` (names errors and is the base of
 * relative paths) into `wc`, without reading the files it names. Errors are
 * appended to `errors` as "FILE:LINE:COLUMN: message\n" lines. Returns 0 or
 * -EINVAL; `wc` must be freed with webconfig_free either way. */
int webconfig_parse(struct webconfig *wc, const char *text, size_t len, const char *path,
                    struct sonde_buf *errors);
/* Reads `path`, parses it and loads the certificate, key and CA files it
 * names. Same conventions as webconfig_parse. */
int webconfig_load(struct webconfig *wc, const char *path, struct sonde_buf *errors);
/* Loads and frees `path`, printing its errors on stderr: --check-config and
 * start-up. 0 or -EINVAL. */
int webconfig_check(const char *path);
void webconfig_free(struct webconfig *wc);

/* Whether a file of the watch changed since its stamp was taken. */
bool webconfig_watch_changed(const struct webconfig_watch *watch);
/* Moves the watch out of `wc` (the files of a load that failed: not worth
 * retrying until one of them changes). */
void webconfig_watch_take(struct webconfig_watch *dst, struct webconfig *wc);
void webconfig_watch_free(struct webconfig_watch *watch);

/* Gives a new server session the configuration's certificate, priorities
 * and client certificate policy. 0 or -EPROTO. */
int webconfig_session_setup(const struct webconfig *wc, gnutls_session_t session);

/* Whether user and password match basic_auth_users. An unknown user still
 * costs one bcrypt (against the first user's hash), so timing does not tell
 * which users exist. Thread-safe. */
bool webconfig_authenticate(struct webconfig *wc, const char *user, const char *password);

const char *webconfig_client_auth_name(enum webconfig_client_auth mode);

#endif
