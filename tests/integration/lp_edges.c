/*
 * lp_edges.c - integration-test helper: encodes points with sonde's own line-protocol
 * encoder from strings given on the command line (spaces, commas, quotes, newlines ...),
 * so test_influxdb.sh can check that InfluxDB stores them as they were meant.
 * usage: lp_edges TIMESTAMP_NS (MEASUREMENT TAG_KEY TAG_VALUE FIELD_KEY STRING_VALUE)...
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core.h"

int main(int argc, char **argv)
{
    if (argc < 7 || (argc - 2) % 5 != 0) {
        fprintf(stderr, "usage: lp_edges TIMESTAMP_NS (MEASUREMENT TAG_KEY TAG_VALUE "
                        "FIELD_KEY STRING_VALUE)...\n");
        return 2;
    }
    char *end;
    errno = 0;
    long long ts = strtoll(argv[1], &end, 10);
    if (errno || end == argv[1] || *end) {
        fprintf(stderr, "lp_edges: bad timestamp \"%s\"\n", argv[1]);
        return 2;
    }
    struct sonde_buf out = {0}; /* freed below */
    struct sonde_lp_stats stats = {0};
    uint64_t points = 0;
    for (int i = 2; i + 4 < argc; i += 5) {
        /* One batch per point: the encoder's unit. argv outlives the batch, so the
         * borrowed measurement and keys are safe. */
        struct sonde_batch *b = batch_new("lp_edges");
        b->timestamp_ns = ts;
        struct sonde_point *p = sonde_point(b, argv[i]);
        sonde_point_tag(b, p, argv[i + 1], argv[i + 2]);
        sonde_point_string(b, p, argv[i + 3], argv[i + 4]);
        sonde_point_int(b, p, "n", (i - 2) / 5);
        batch_finish(b);
        sonde_lp_encode_batch(&out, b, &stats);
        batch_free(b);
        points++;
    }
    if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len)
        return 1;
    sonde_buf_free(&out);
    if (stats.lines != points) {
        fprintf(stderr, "lp_edges: %llu of %llu points written (%llu empty)\n",
                (unsigned long long)stats.lines, (unsigned long long)points,
                (unsigned long long)stats.empty_points);
        return 1;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
