/*
 * dlopen-probe.c - never installed: linked against the libraries sonde loads
 * with dlopen (collector/dynlib.c), so that dpkg-shlibdeps, which only sees
 * what an executable links, computes their package dependencies too.
 */
#include <curl/curl.h>
#include <snappy-c.h>

int main(void)
{
    return curl_easy_init() != NULL && snappy_max_compressed_length(1) > 0;
}
