/*
 * sonde_dynlib.h - libcurl and snappy, loaded on first use. Most hosts run
 * sonde with no push output and no container runtime to ask, and these two
 * libraries (with TLS, Kerberos and C++ runtimes behind them) would
 * otherwise be mapped and initialised in every process; loading them only
 * when an output or a name lookup needs them keeps the daemon small.
 */
#ifndef SONDE_DYNLIB_H
#define SONDE_DYNLIB_H

#include <curl/curl.h>
#include <stddef.h>

/* The libcurl functions sonde calls, resolved from libcurl.so.4. */
struct sonde_curl {
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *curl);
    CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
    void (*easy_reset)(CURL *curl);
    void (*easy_cleanup)(CURL *curl);
    const char *(*easy_strerror)(CURLcode code);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *string);
    void (*slist_free_all)(struct curl_slist *list);
    time_t (*getdate)(const char *date, const time_t *unused);
};

/* The snappy C interface (snappy-c.h), resolved from libsnappy.so.1; the
 * status is SNAPPY_OK (0) on success. */
struct sonde_snappy {
    int (*compress)(const char *input, size_t input_length, char *compressed,
                    size_t *compressed_length);
    size_t (*max_compressed_length)(size_t source_length);
};

/* Loads libcurl once per process (thread-safe) and runs its global set-up.
 * Returns the table (static, never freed) or NULL with the reason in `err`
 * (at least 128 bytes). */
const struct sonde_curl *sonde_curl(char *err, size_t errlen);

/* Loads snappy once per process; NULL with the reason in `err`. */
const struct sonde_snappy *sonde_snappy(char *err, size_t errlen);

#endif
