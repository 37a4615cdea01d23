/*
 * fuzz_config.c - libFuzzer harness for the configuration loader: any
 * bytes must give either a configuration or positioned errors, never a
 * crash or a leak.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        quiet = 1;
        if (!freopen("/dev/null", "w", stderr))
            abort();
    }
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    struct sonde_config config;
    if (config_load_string(&config, text, "fuzz.yaml") == 0)
        config_free(&config);
    free(text);
    return 0;
}
