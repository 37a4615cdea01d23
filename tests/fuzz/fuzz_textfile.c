/*
 * fuzz_textfile.c - libFuzzer harness for the textfile input: the fuzz
 * data becomes a.prom in a scratch directory beside a fixed b.prom (so the
 * merge of families across files is exercised too), the input reads the
 * directory, and the batch is rendered in both exposition formats.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "core.h"

extern const struct sonde_plugin sonde_plugin_textfile;

static char fuzz_dir[512];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *tmp = getenv("TMPDIR"); /* fuzz.sh gives each run its own */
    snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/sonde-fuzz-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(fuzz_dir))
        abort();
    char path[640];
    snprintf(path, sizeof(path), "%s/b.prom", fuzz_dir);
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fputs("# HELP foo A gauge.\n# TYPE foo gauge\nfoo{a=\"1\"} 1\nbar 2\n"
          "# TYPE h histogram\nh_bucket{le=\"0.5\"} 1\nh_count 2\nh_sum 3\n",
          f);
    fclose(f);
    log_set_level(SONDE_LOG_ERROR);
    return 0;
}

/* Sets the plugin's `directory` option (found by name in its table). */
static void fuzz_set_directory(const struct sonde_plugin *plugin, void *config, const char *dir)
{
    for (const struct sonde_option *o = plugin->options; o->name; o++)
        if (strcmp(o->name, "directory") == 0) {
            char **slot = (char **)((char *)config + o->offset);
            free(*slot);
            *slot = sonde_xstrdup(dir);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[640];
    snprintf(path, sizeof(path), "%s/a.prom", fuzz_dir);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);

    const struct sonde_plugin *plugin = &sonde_plugin_textfile;
    void *config = sonde_xcalloc(1, plugin->config_size);
    config_options_defaults(plugin->options, config);
    fuzz_set_directory(plugin, config, fuzz_dir);
    struct sonde_context ctx = {.procfs = "/proc",
                                .sysfs = "/sys",
                                .rootfs = "/",
                                .hostname = "fuzz",
                                .instance = plugin->name};
    void *state = NULL;
    if (plugin->init(&state, config, &ctx) == 0) {
        struct sonde_batch *b = batch_new(plugin->name);
        plugin->read(state, b);
        batch_finish(b);
        const struct sonde_batch *batches[] = {b};
        struct expo_source src = {.batches = batches, .nbatches = 1};
        struct sonde_buf out = {0};
        expo_render(&out, &src, EXPO_TEXT);
        expo_render(&out, &src, EXPO_OPENMETRICS);
        sonde_buf_free(&out);
        batch_free(b);
        plugin->destroy(state);
    }
    config_options_free(plugin->options, config);
    free(config);
    return 0;
}
