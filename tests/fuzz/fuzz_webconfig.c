/*
 * fuzz_webconfig.c - libFuzzer harness for the web configuration parser
 * (the exporters' --web.config.file format): any bytes must give either a
 * configuration or positioned errors, never a crash or a leak. Files named
 * by the input are not read (webconfig_parse only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "webconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        quiet = 1;
        log_set_level(SONDE_LOG_ERROR); /* the ignored-key warnings */
    }
    struct webconfig wc;
    struct sonde_buf errors = {0};
    int rc = webconfig_parse(&wc, (const char *)data, size, "dir/fuzz.yml", &errors);
    if (rc < 0 && !errors.len)
        abort(); /* every refusal says why */
    /* Only cheap hashes: a mutated cost of 31 would take hours. */
    if (rc == 0 && wc.nusers && strncmp(wc.users[0].hash + 4, "05", 2) <= 0)
        webconfig_authenticate(&wc, wc.users[0].name, "x");
    sonde_buf_free(&errors);
    webconfig_free(&wc);
    return 0;
}
