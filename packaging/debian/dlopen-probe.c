/*
 * dlopen-probe.c - never installed: linked against the libraries sonde loads
 * with dlopen (collector/dynlib.c), so that dpkg-shlibdeps, which only sees
 * what an executable links, computes their package dependencies too.
 */
#include <curl/curl.h>
#include <snappy-c.h>
#include <systemd/sd-bus.h>

int main(void)
{
    /* sd_bus_is_ready is the newest sd-bus function sonde calls (libsystemd 237):
     * it sets the version the dependency asks for. */
    sd_bus *bus = NULL;
    return curl_easy_init() != NULL && snappy_max_compressed_length(1) > 0 &&
           sd_bus_new(&bus) >= 0 && sd_bus_is_ready(bus) >= 0 && sd_bus_unref(bus) == NULL;
}
