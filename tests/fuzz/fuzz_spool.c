/*
 * fuzz_spool.c - libFuzzer harness for the spool's recovery: the fuzz
 * bytes become a segment file of a scratch spool (the first byte picks
 * the case: the last segment or an older one, with or without a cursor
 * taken from the next bytes, checksums left or made right), which is
 * opened and replayed to the end, then pushed to and reopened. Never a
 * crash, a leak, or a refusal to start.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core.h"
#include "outq.h"

#define FUZZ_CURSOR_LEN 24

static char fuzz_dir[512];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *tmp = getenv("TMPDIR"); /* fuzz.sh gives each run its own */
    snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/sonde-fuzz-spool-XXXXXX",
             tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(fuzz_dir))
        abort();
    log_set_level(SONDE_LOG_ERROR); /* every case logs warnings */
    return 0;
}

static void fuzz_write(const char *name, const uint8_t *data, size_t size)
{
    char path[640];
    snprintf(path, sizeof(path), "%s/%s", fuzz_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (size)
        fwrite(data, 1, size, f);
    fclose(f);
}

static void fuzz_clean(void)
{
    DIR *d = opendir(fuzz_dir);
    if (!d)
        abort();
    char path[896];
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", fuzz_dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

static uint32_t fuzz_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void fuzz_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Rewrites the checksums of what looks like records (and of a cursor), so
 * that the fuzzer reaches past the CRC checks: replay of many records,
 * cursors inside and past segments. */
static void fuzz_fix_crcs(uint8_t *seg, size_t size, uint8_t *cursor)
{
    if (cursor)
        fuzz_put32(cursor + 20, (uint32_t)crc32(0L, cursor, 20));
    size_t off = 0;
    while (size - off >= 16 && seg[off] == 'S' && seg[off + 1] == 'Q') {
        uint32_t len = fuzz_get32(seg + off + 4);
        if (len > size - off - 16)
            break;
        uLong crc = crc32(crc32(0L, seg + off, 12), seg + off + 16, len);
        fuzz_put32(seg + off + 12, (uint32_t)crc);
        off += 16 + (size_t)len;
    }
}

/* Takes everything, as a sender would, checking what the queue says. */
static void fuzz_drain(struct outq *q)
{
    struct outq_batch b;
    while (outq_peek(q, 7, &b)) {
        if (b.nchunks == 0 || (b.len && !b.data))
            abort();
        outq_commit(q, b.end);
        outq_batch_free(&b);
    }
    if (outq_pending(q) != 0)
        abort(); /* the sender would spin */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t mode = data[0];
    uint8_t *copy = malloc(size); /* who frees: this function */
    memcpy(copy, data + 1, size - 1);
    uint8_t *seg = copy, *cursor = NULL;
    size--;
    fuzz_clean();
    if ((mode & 2) && size >= FUZZ_CURSOR_LEN) {
        cursor = seg;
        seg += FUZZ_CURSOR_LEN;
        size -= FUZZ_CURSOR_LEN;
    }
    if (mode & 8)
        fuzz_fix_crcs(seg, size, cursor);
    if (cursor)
        fuzz_write("cursor", cursor, FUZZ_CURSOR_LEN);
    fuzz_write("seg-00000000000000000001.sonde", seg, size);
    free(copy);
    if (mode & 1) /* the fuzzed segment is an older one */
        fuzz_write("seg-00000000000000000002.sonde", NULL, 0);
    struct outq *q = outq_spool(fuzz_dir, 1 << 20);
    if (!q)
        abort(); /* never refuse to start over bad content */
    if (mode & 4) {
        static const char line[] = "m v=1i\n";
        if (outq_push(q, line, sizeof(line) - 1, 1) != 0)
            abort();
    }
    fuzz_drain(q);
    outq_free(q);
    /* What recovery left must reopen cleanly, with nothing to replay. */
    q = outq_spool(fuzz_dir, 1 << 20);
    if (!q)
        abort();
    struct outq_stats st;
    outq_get_stats(q, &st);
    if (outq_pending(q) != 0 || st.corrupt_records != 0)
        abort();
    outq_free(q);
    return 0;
}
