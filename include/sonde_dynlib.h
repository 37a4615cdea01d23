/*
 * sonde_dynlib.h - libcurl, snappy and libsystemd's sd-bus, loaded on first
 * use. Most hosts run sonde with no push output, no container runtime to ask
 * and no systemd input, and these libraries (with TLS, Kerberos, C++
 * runtimes, libgcrypt and three compressors behind them) would otherwise be
 * mapped and initialised in every process; loading them only when an output,
 * a name lookup or an input needs them keeps the daemon small.
 */
#ifndef SONDE_DYNLIB_H
#define SONDE_DYNLIB_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

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

/* The sd-bus functions the systemd input calls, resolved from
 * libsystemd.so.0; each is the sd_bus_<name> of the same name. */
struct sonde_sdbus {
    int (*bus_new)(sd_bus **ret);
    int (*bus_set_address)(sd_bus *bus, const char *address);
    int (*bus_set_bus_client)(sd_bus *bus, int b);
    int (*bus_start)(sd_bus *bus);
    int (*bus_is_open)(sd_bus *bus);
    int (*bus_is_ready)(sd_bus *bus);
    int (*bus_process)(sd_bus *bus, sd_bus_message **r);
    int (*bus_wait)(sd_bus *bus, uint64_t timeout_usec);
    void (*bus_close)(sd_bus *bus);
    sd_bus *(*bus_unref)(sd_bus *bus);
    int (*call)(sd_bus *bus, sd_bus_message *m, uint64_t usec, sd_bus_error *ret_error,
                sd_bus_message **reply);
    int (*message_new_method_call)(sd_bus *bus, sd_bus_message **m, const char *destination,
                                   const char *path, const char *interface, const char *member);
    int (*message_append)(sd_bus_message *m, const char *types, ...);
    int (*message_read)(sd_bus_message *m, const char *types, ...);
    int (*message_read_basic)(sd_bus_message *m, char type, void *p);
    int (*message_skip)(sd_bus_message *m, const char *types);
    int (*message_peek_type)(sd_bus_message *m, char *type, const char **contents);
    int (*message_enter_container)(sd_bus_message *m, char type, const char *contents);
    int (*message_exit_container)(sd_bus_message *m);
    sd_bus_message *(*message_unref)(sd_bus_message *m);
    int (*error_has_name)(const sd_bus_error *e, const char *name);
    void (*error_free)(sd_bus_error *e);
};

/* Loads libcurl once per process (thread-safe) and runs its global set-up.
 * Returns the table (static, never freed) or NULL with the reason in `err`
 * (at least 128 bytes). */
const struct sonde_curl *sonde_curl(char *err, size_t errlen);

/* Loads snappy once per process; NULL with the reason in `err`. */
const struct sonde_snappy *sonde_snappy(char *err, size_t errlen);

/* Loads libsystemd once per process; NULL with the reason in `err`. */
const struct sonde_sdbus *sonde_sdbus(char *err, size_t errlen);

#endif
