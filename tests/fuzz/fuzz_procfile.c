/*
 * fuzz_procfile.c - libFuzzer harness for an input plugin's file parsers:
 * the fuzz data becomes one file of a scratch procfs/sysfs tree (the
 * others are copies of the plugin's fixtures), then the plugin is
 * initialised and read twice, as two collection cycles would. Built once
 * per (plugin, file) with -DFUZZ_PLUGIN=cpu -DFUZZ_FILE='"proc/stat"'
 * -DFUZZ_FIXTURES='"tests/fixtures/cpu"'.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "core.h"

#define FUZZ_CAT2(a, b) a##b
#define FUZZ_CAT(a, b)  FUZZ_CAT2(a, b)
extern const struct sonde_plugin FUZZ_CAT(sonde_plugin_, FUZZ_PLUGIN);
#define FUZZ_DESCRIPTOR FUZZ_CAT(sonde_plugin_, FUZZ_PLUGIN)

static char fuzz_root[512];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *tmp = getenv("TMPDIR"); /* fuzz.sh gives each run its own */
    snprintf(fuzz_root, sizeof(fuzz_root), "%s/sonde-fuzz-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(fuzz_root))
        abort();
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "cp -r %s/. %s/ 2>/dev/null; mkdir -p %s/proc %s/sys $(dirname %s/%s)", FUZZ_FIXTURES,
             fuzz_root, fuzz_root, fuzz_root, fuzz_root, FUZZ_FILE);
    (void)!system(cmd); /* a fixture tree that partly failed to copy is still usable */
    log_set_level(SONDE_LOG_ERROR);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[1024], procfs[640], sysfs[640];
    snprintf(path, sizeof(path), "%s/%s", fuzz_root, FUZZ_FILE);
    snprintf(procfs, sizeof(procfs), "%s/proc", fuzz_root);
    snprintf(sysfs, sizeof(sysfs), "%s/sys", fuzz_root);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        abort();
    }
    fwrite(data, 1, size, f);
    fclose(f);

    const struct sonde_plugin *plugin = &FUZZ_DESCRIPTOR;
    void *config = sonde_xcalloc(1, plugin->config_size ? plugin->config_size : 1);
    config_options_defaults(plugin->options, config); /* as for "cpu: {}" */
    struct sonde_context ctx = {.procfs = procfs,
                                .sysfs = sysfs,
                                .rootfs = fuzz_root,
                                .hostname = "fuzz",
                                .instance = plugin->name};
    void *state = NULL;
    if (plugin->init(&state, config, &ctx) == 0) {
        for (int round = 0; round < 2; round++) {
            struct sonde_batch *b = batch_new(plugin->name);
            plugin->read(state, b);
            batch_finish(b);
            struct sonde_buf out = {0};
            struct sonde_lp_stats stats = {0};
            sonde_lp_encode_batch(&out, b, &stats);
            sonde_buf_free(&out);
            batch_free(b);
        }
        plugin->destroy(state);
    }
    config_options_free(plugin->options, config);
    free(config);
    return 0;
}
