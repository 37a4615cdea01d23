/*
 * fuzz_http.c - libFuzzer harness for what the endpoint takes from a
 * request: the Accept header's content negotiation.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    enum expo_format f = expo_negotiate(text);
    if (f != EXPO_TEXT && f != EXPO_OPENMETRICS)
        abort();
    free(text);
    return 0;
}
