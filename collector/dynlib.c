/*
 * dynlib.c - loads libcurl, snappy and libsystemd with dlopen the first time
 * an output or a plugin asks for them (see include/sonde_dynlib.h for why). Each
 * library is opened once under pthread_once; a failure is remembered with
 * its message so every later caller gets the same answer.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "sonde_dynlib.h"

#define DYNLIB_CURL   "libcurl.so.4"
#define DYNLIB_SNAPPY "libsnappy.so.1"
#define DYNLIB_SDBUS  "libsystemd.so.0"

struct dynlib_symbol {
    const char *name;
    void **slot;
};

/* Opens `soname` and fills every slot; 0, or -1 with the reason in `err`. */
static int dynlib_open(const char *soname, const struct dynlib_symbol *symbols, size_t n, char *err,
                       size_t errlen)
{
    void *handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        snprintf(err, errlen, "cannot load %s: %s", soname, dlerror());
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        *symbols[i].slot = dlsym(handle, symbols[i].name);
        if (!*symbols[i].slot) {
            snprintf(err, errlen, "%s has no %s", soname, symbols[i].name);
            dlclose(handle);
            return -1;
        }
    }
    return 0; /* the handle stays open for the life of the process */
}

static struct sonde_curl dynlib_curl;
static char dynlib_curl_error[256];
static int dynlib_curl_status = -1;
static pthread_once_t dynlib_curl_once = PTHREAD_ONCE_INIT;

static void dynlib_curl_load(void)
{
    struct sonde_curl t;
    CURLcode (*global_init)(long flags) = NULL;
    /* dlsym's result is stored through a function pointer's slot seen as an
     * object pointer's, as POSIX allows. */
    const struct dynlib_symbol symbols[] = {
        {"curl_global_init", (void **)(void *)&global_init},
        {"curl_easy_init", (void **)(void *)&t.easy_init},
        {"curl_easy_setopt", (void **)(void *)&t.easy_setopt},
        {"curl_easy_perform", (void **)(void *)&t.easy_perform},
        {"curl_easy_getinfo", (void **)(void *)&t.easy_getinfo},
        {"curl_easy_reset", (void **)(void *)&t.easy_reset},
        {"curl_easy_cleanup", (void **)(void *)&t.easy_cleanup},
        {"curl_easy_strerror", (void **)(void *)&t.easy_strerror},
        {"curl_slist_append", (void **)(void *)&t.slist_append},
        {"curl_slist_free_all", (void **)(void *)&t.slist_free_all},
        {"curl_getdate", (void **)(void *)&t.getdate},
    };
    if (dynlib_open(DYNLIB_CURL, symbols, sizeof(symbols) / sizeof(symbols[0]), dynlib_curl_error,
                    sizeof(dynlib_curl_error)) < 0)
        return;
    /* Process-wide and not thread-safe in old libcurl: done here, once. */
    CURLcode rc = global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        snprintf(dynlib_curl_error, sizeof(dynlib_curl_error), "curl_global_init failed (code %d)",
                 (int)rc);
        return;
    }
    dynlib_curl = t;
    dynlib_curl_status = 0;
}

const struct sonde_curl *sonde_curl(char *err, size_t errlen)
{
    pthread_once(&dynlib_curl_once, dynlib_curl_load);
    if (dynlib_curl_status == 0)
        return &dynlib_curl;
    snprintf(err, errlen, "%s", dynlib_curl_error);
    return NULL;
}

static struct sonde_snappy dynlib_snappy;
static char dynlib_snappy_error[256];
static int dynlib_snappy_status = -1;
static pthread_once_t dynlib_snappy_once = PTHREAD_ONCE_INIT;

static void dynlib_snappy_load(void)
{
    struct sonde_snappy t;
    const struct dynlib_symbol symbols[] = {
        {"snappy_compress", (void **)(void *)&t.compress},
        {"snappy_max_compressed_length", (void **)(void *)&t.max_compressed_length},
    };
    if (dynlib_open(DYNLIB_SNAPPY, symbols, sizeof(symbols) / sizeof(symbols[0]),
                    dynlib_snappy_error, sizeof(dynlib_snappy_error)) < 0)
        return;
    dynlib_snappy = t;
    dynlib_snappy_status = 0;
}

const struct sonde_snappy *sonde_snappy(char *err, size_t errlen)
{
    pthread_once(&dynlib_snappy_once, dynlib_snappy_load);
    if (dynlib_snappy_status == 0)
        return &dynlib_snappy;
    snprintf(err, errlen, "%s", dynlib_snappy_error);
    return NULL;
}

static struct sonde_sdbus dynlib_sdbus;
static char dynlib_sdbus_error[256];
static int dynlib_sdbus_status = -1;
static pthread_once_t dynlib_sdbus_once = PTHREAD_ONCE_INIT;

static void dynlib_sdbus_load(void)
{
    struct sonde_sdbus t;
    const struct dynlib_symbol symbols[] = {
        {"sd_bus_new", (void **)(void *)&t.bus_new},
        {"sd_bus_set_address", (void **)(void *)&t.bus_set_address},
        {"sd_bus_set_bus_client", (void **)(void *)&t.bus_set_bus_client},
        {"sd_bus_start", (void **)(void *)&t.bus_start},
        {"sd_bus_is_open", (void **)(void *)&t.bus_is_open},
        {"sd_bus_is_ready", (void **)(void *)&t.bus_is_ready},
        {"sd_bus_process", (void **)(void *)&t.bus_process},
        {"sd_bus_wait", (void **)(void *)&t.bus_wait},
        {"sd_bus_close", (void **)(void *)&t.bus_close},
        {"sd_bus_unref", (void **)(void *)&t.bus_unref},
        {"sd_bus_call", (void **)(void *)&t.call},
        {"sd_bus_message_new_method_call", (void **)(void *)&t.message_new_method_call},
        {"sd_bus_message_append", (void **)(void *)&t.message_append},
        {"sd_bus_message_read", (void **)(void *)&t.message_read},
        {"sd_bus_message_read_basic", (void **)(void *)&t.message_read_basic},
        {"sd_bus_message_skip", (void **)(void *)&t.message_skip},
        {"sd_bus_message_peek_type", (void **)(void *)&t.message_peek_type},
        {"sd_bus_message_enter_container", (void **)(void *)&t.message_enter_container},
        {"sd_bus_message_exit_container", (void **)(void *)&t.message_exit_container},
        {"sd_bus_message_unref", (void **)(void *)&t.message_unref},
        {"sd_bus_error_has_name", (void **)(void *)&t.error_has_name},
        {"sd_bus_error_free", (void **)(void *)&t.error_free},
    };
    if (dynlib_open(DYNLIB_SDBUS, symbols, sizeof(symbols) / sizeof(symbols[0]), dynlib_sdbus_error,
                    sizeof(dynlib_sdbus_error)) < 0)
        return;
    dynlib_sdbus = t;
    dynlib_sdbus_status = 0;
}

const struct sonde_sdbus *sonde_sdbus(char *err, size_t errlen)
{
    pthread_once(&dynlib_sdbus_once, dynlib_sdbus_load);
    if (dynlib_sdbus_status == 0)
        return &dynlib_sdbus;
    snprintf(err, errlen, "%s", dynlib_sdbus_error);
    return NULL;
}
