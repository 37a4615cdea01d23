/*
 * check_spool.c - the disk spool: replay after a restart from the cursor,
 * torn tails and corrupt records, a bad or missing cursor, rotation and
 * the size cap, a full disk, and the on-disk format as documented in
 * collector/spool.c (the tests write segments by hand).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mount.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "outq.h"
#include "testutil.h"

#define HDR 16
#define KIB 1024
#define MIB (1024 * 1024)

static char tmp_root[64];

static void tmp_make(void)
{
    snprintf(tmp_root, sizeof(tmp_root), "/tmp/sonde-spool-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp_root));
    log_set_level(SONDE_LOG_ERROR); /* the warnings are expected here */
}

static int tmp_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static const char *spool_dir(void);

static void tmp_remove(void)
{
    umount2(spool_dir(), MNT_DETACH); /* test_full_disk's tmpfs, if a check failed */
    nftw(tmp_root, tmp_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *spool_dir(void)
{
    static char dir[128];
    snprintf(dir, sizeof(dir), "%s/spool", tmp_root);
    return dir;
}

static void seg_path(char *buf, size_t cap, uint64_t number)
{
    snprintf(buf, cap, "%s/seg-%020llu.sonde", spool_dir(), (unsigned long long)number);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static long seg_size(uint64_t number)
{
    char path[256];
    seg_path(path, sizeof(path), number);
    return file_size(path);
}

static int count_segments(void)
{
    DIR *d = opendir(spool_dir());
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strncmp(e->d_name, "seg-", 4) == 0;
    closedir(d);
    return n;
}

/* Chunk i: `size` bytes starting with "chunk NNNNNN", 2 records. */
static void chunk_fill(char *buf, size_t size, int i)
{
    memset(buf, 'a' + i % 26, size);
    char head[16];
    snprintf(head, sizeof(head), "chunk %06d", i);
    memcpy(buf, head, size < 12 ? size : 12);
}

static void push_range(struct outq *q, int first, int n, size_t size)
{
    char *buf = malloc(size);
    for (int i = first; i < first + n; i++) {
        chunk_fill(buf, size, i);
        ck_assert_int_eq(outq_push(q, buf, size, 2), 0);
    }
    free(buf);
}

/* Peeks up to `max_chunks` chunks of `size` bytes and checks they are
 * chunks first, first + 1, ...; returns the batch end. */
static uint64_t expect_chunks(struct outq *q, size_t max_chunks, const int *ids, size_t nids,
                              size_t size)
{
    struct outq_batch b;
    ck_assert(outq_peek(q, 2 * max_chunks, &b));
    ck_assert_uint_eq(b.nchunks, nids);
    ck_assert_uint_eq(b.nrecords, 2 * nids);
    ck_assert_uint_eq(b.len, nids * size);
    char *want = malloc(size);
    for (size_t i = 0; i < nids; i++) {
        chunk_fill(want, size, ids[i]);
        ck_assert_msg(memcmp(b.data + i * size, want, size) == 0,
                      "chunk %zu is not chunk %d: %.12s", i, ids[i], b.data + i * size);
    }
    free(want);
    uint64_t end = b.end;
    outq_batch_free(&b);
    return end;
}

static uint64_t expect_range(struct outq *q, int first, int n, size_t size)
{
    int *ids = malloc(sizeof(int) * (size_t)n);
    for (int i = 0; i < n; i++)
        ids[i] = first + i;
    uint64_t end = expect_chunks(q, (size_t)n, ids, (size_t)n, size);
    free(ids);
    return end;
}

static void expect_empty(struct outq *q)
{
    struct outq_batch b;
    ck_assert(!outq_peek(q, 100, &b));
    ck_assert_uint_eq(outq_pending(q), 0);
}

static struct outq *reopen(struct outq *q, uint64_t limit)
{
    outq_free(q);
    q = outq_spool(spool_dir(), limit);
    ck_assert_ptr_nonnull(q);
    return q;
}

/* queued = committed + dropped + pending, for what this run knows. */
static void expect_stats(struct outq *q, uint64_t queued, uint64_t dropped, uint64_t corrupt)
{
    struct outq_stats st;
    outq_get_stats(q, &st);
    ck_assert_uint_eq(st.queued_records, queued);
    ck_assert_uint_eq(st.dropped_records, dropped);
    ck_assert_uint_eq(st.dropped_chunks, dropped / 2);
    ck_assert_uint_eq(st.corrupt_records, corrupt);
}

static uint64_t stats_bytes(struct outq *q)
{
    struct outq_stats st;
    outq_get_stats(q, &st);
    return st.bytes;
}

/* ---- the documented format, written by hand ---- */

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static void write_record(FILE *f, const char *payload, uint32_t len, uint32_t nrecords)
{
    uint8_t hdr[HDR] = {'S', 'Q', 1, 0};
    put32(hdr + 4, len);
    put32(hdr + 8, nrecords);
    uLong crc = crc32(crc32(0L, hdr, 12), (const Bytef *)payload, len);
    put32(hdr + 12, (uint32_t)crc);
    ck_assert_uint_eq(fwrite(hdr, 1, HDR, f), HDR);
    ck_assert_uint_eq(fwrite(payload, 1, len, f), len);
}

static void write_cursor(uint64_t number, uint64_t off)
{
    uint8_t buf[24];
    memcpy(buf, "SQC\1", 4);
    put64(buf + 4, number);
    put64(buf + 12, off);
    put32(buf + 20, (uint32_t)crc32(0L, buf, 20));
    char path[256];
    snprintf(path, sizeof(path), "%s/cursor", spool_dir());
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(buf, 1, sizeof(buf), f), sizeof(buf));
    fclose(f);
}

START_TEST(test_handmade_segments_replayed)
{
    tmp_make();
    ck_assert_int_eq(mkdir(spool_dir(), 0700), 0);
    char path[256];
    seg_path(path, sizeof(path), 7);
    FILE *f = fopen(path, "wb");
    write_record(f, "old\n", 4, 1);
    write_record(f, "m a=1\n", 6, 1);
    write_record(f, "m a=2\nm a=3\n", 12, 2);
    fclose(f);
    seg_path(path, sizeof(path), 9);
    f = fopen(path, "wb");
    write_record(f, "m a=4\n", 6, 1);
    fclose(f);
    write_cursor(7, HDR + 4); /* "old" was committed */
    struct outq *q = outq_spool(spool_dir(), 1 * MIB);
    ck_assert_ptr_nonnull(q);
    ck_assert_uint_eq(outq_pending(q), 4);
    struct outq_batch b;
    ck_assert(outq_peek(q, 100, &b));
    ck_assert_uint_eq(b.len, 24);
    ck_assert(memcmp(b.data, "m a=1\nm a=2\nm a=3\nm a=4\n", 24) == 0);
    ck_assert_uint_eq(b.nchunks, 3);
    /* Position: segment 9, offset just after its record. */
    ck_assert_uint_eq(b.end, (9ULL << 32) | (HDR + 6));
    outq_batch_free(&b);
    ck_assert(outq_peek(q, 2, &b));
    ck_assert_uint_eq(b.end, (7ULL << 32) | (2 * HDR + 4 + 6));
    outq_batch_free(&b);
    expect_stats(q, 4, 0, 0);
    /* New records go to a new segment after the newest. */
    ck_assert_int_eq(outq_push(q, "m a=5\n", 6, 1), 0);
    ck_assert_int_eq(seg_size(9), 2 * (HDR + 6));
    ck_assert_int_eq(seg_size(10), -1);
    outq_free(q);
    tmp_remove();
}
END_TEST

START_TEST(test_replay_in_order)
{
    tmp_make();
    struct outq *q = outq_spool(spool_dir(), 4 * MIB);
    ck_assert_ptr_nonnull(q);
    expect_empty(q);
    push_range(q, 0, 10, 100);
    ck_assert_uint_eq(outq_pending(q), 20);
    ck_assert_uint_eq(stats_bytes(q), 10 * (100 + HDR));
    q = reopen(q, 4 * MIB);
    ck_assert_uint_eq(outq_pending(q), 20);
    ck_assert_uint_eq(stats_bytes(q), 10 * (100 + HDR));
    expect_stats(q, 20, 0, 0);
    expect_range(q, 0, 10, 100);
    /* Appends after a reopen follow the replayed ones. */
    push_range(q, 10, 2, 100);
    q = reopen(q, 4 * MIB);
    expect_range(q, 0, 12, 100);
    ck_assert_int_eq(count_segments(), 1);
    outq_free(q);
    tmp_remove();
}
END_TEST

START_TEST(test_commit_persists)
{
    tmp_make();
    struct outq *q = outq_spool(spool_dir(), 4 * MIB);
    push_range(q, 0, 10, 100);
    uint64_t end = expect_range(q, 0, 4, 100);
    outq_commit(q, end);
    ck_assert_uint_eq(outq_pending(q), 12);
    q = reopen(q, 4 * MIB);
    ck_assert_uint_eq(outq_pending(q), 12);
    expect_stats(q, 12, 0, 0);
    end = expect_range(q, 4, 3, 100);
    outq_commit(q, end);
    outq_commit(q, end); /* twice: no harm */
    q = reopen(q, 4 * MIB);
    end = expect_range(q, 7, 3, 100);
    outq_commit(q, end);
    /* All sent: the segment is gone, and a reopen finds nothing. */
    expect_empty(q);
    ck_assert_uint_eq(stats_bytes(q), 0);
    ck_assert_int_eq(count_segments(), 0);
    q = reopen(q, 4 * MIB);
    expect_empty(q);
    push_range(q, 10, 1, 100);
    q = reopen(q, 4 * MIB);
    expect_range(q, 10, 1, 100);
    outq_free(q);
    tmp_remove();
}
END_TEST

START_TEST(test_torn_tail_cut)
{
    tmp_make();
    struct outq *q = outq_spool(spool_dir(), 4 * MIB);
    push_range(q, 0, 5, 100);
    outq_free(q);
    char path[256];
    seg_path(path, sizeof(path), 1);
    ck_assert_int_eq(truncate(path, 4 * (100 + HDR) + 50), 0); /* in the fifth record */
    q = outq_spool(spool_dir(), 4 * MIB);
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(file_size(path), 4 * (100 + HDR));
    ck_assert_uint_eq(stats_bytes(q), 4 * (100 + HDR));
    expect_stats(q, 8, 0, 1);
    expect_range(q, 0, 4, 100);
    push_range(q, 5, 1, 100); /* appended right after the cut */
    q = reopen(q, 4 * MIB);
    expect_chunks(q, 5, (const int[]){0, 1, 2, 3, 5}, 5, 100);
    /* A torn header (fewer than 16 bytes) is cut too. */
    outq_free(q);
    ck_assert_int_eq(truncate(path, 5 * (100 + HDR) + 7), 0);
    q = outq_spool(spool_dir(), 4 * MIB);
    ck_assert_int_eq(file_size(path), 5 * (100 + HDR));
    ck_assert_uint_eq(outq_pending(q), 10);
    outq_free(q);
    tmp_remove();
}
END_TEST

START_TEST(test_garbage_tail_cut)
{
    tmp_make();
    struct outq *q = outq_spool(spool_dir(), 4 * MIB);
    push_range(q, 0, 5, 100);
    outq_free(q);
    char path[256];
    seg_path(path, sizeof(path), 1);
    FILE *f = fopen(path, "ab");
    fputs("SQ\1\0 this is not a record, just garbage after the last one", f);
    fclose(f);
    q = outq_spool(spool_dir(), 4 * MIB);
    ck_assert_int_eq(file_size(path), 5 * (100 + HDR));
    expect_stats(q, 10, 0, 1);
    expect_range(q, 0, 5, 100);
    push_range(q, 5, 1, 100);
    q = reopen(q, 4 * MIB);
    expect_range(q, 0, 6, 100);
    expect_stats(q, 12, 0, 0); /* this run found nothing wrong */
    outq_free(q);
    tmp_remove();
}
END_TEST

/* With a 4 MiB limit segments rotate at 1 MiB: 5 chunks of 200 KiB each. */
#define BIG       (200 * KIB)
#define PER_SEG   5
#define BIG_LIMIT (4 * MIB)

START_TEST(test_corrupt_record_in_older_segment)
{
    tmp_make();
    struct outq *q = outq_spool(spool_dir(), BIG_LIMIT);
    push_range(q, 0, 12, BIG);
    ck_assert_int_eq(count_segments(), 3);
    ck_assert_int_eq(seg_size(1), PER_SEG * (BIG + HDR));
    ck_assert_int_eq(seg_size(3), 2 * (BIG + HDR));
    outq_free(q);
    /* Flip a byte in the payload of chunk 2, the third record of segment 1. */
    char path[256];
    seg_path(path, sizeof(path), 1);
    int fd = open(path, O_RDWR);
    ck_assert_int_eq(pwrite(fd, "X", 1, 2 * (BIG + HDR) + HDR + 1000), 1);
    close(fd);
    q = outq_spool(spool_dir(), BIG_LIMIT);
    ck_assert_ptr_nonnull(q);
    expect_stats(q, 2 * 9, 0, 1);
    ck_assert_int_eq(seg_size(1), PER_SEG * (BIG + HDR)); /* an older segment is not cut */
    uint64_t end = expect_chunks(q, 100, (const int[]){0, 1, 5, 6, 7, 8, 9, 10, 11}, 9, BIG);
    outq_commit(q, end);
    expect_empty(q);
    ck_assert_int_eq(count_segments(), 0);
    outq_free(q);
    tmp_remove();
}
END_TEST

START_TEST(test_bad_or_missing_cursor)
{
    tmp_make();
    struct outq *q = outq_spool(spool_dir(), 4 * MIB);
    push_range(q, 0, 6, 100);
    outq_commit(q, expect_range(q, 0, 3, 100));
    outq_free(q);
    char path[256];
    snprintf(path, sizeof(path), "%s/cursor", spool_dir());
    /* Corrupt: replayed from the oldest segment (a resend, not a loss). */
    FILE *f = fopen(path, "r+b");
    fputs("garbage", f);
    fclose(f);
    q = outq_spool(spool_dir(), 4 * MIB);
    ck_assert_ptr_nonnull(q);
    ck_assert_uint_eq(outq_pending(q), 12);
    outq_commit(q, expect_range(q, 0, 4, 100));
    outq_free(q);
    /* Missing. */
    ck_assert_int_eq(unlink(path), 0);
    q = outq_spool(spool_dir(), 4 * MIB);
    ck_assert_uint_eq(outq_pending(q), 12);
    outq_commit(q, expect_range(q, 0, 5, 100));
    outq_free(q);
    /* Well-formed, but not at a record boundary. */
    write_cursor(1, 5 * (100 + HDR) - 3);
    q = outq_spool(spool_dir(), 4 * MIB);
    ck_assert_uint_eq(outq_pending(q), 12);
    outq_free(q);
    /* Past the end of its segment, and past the newest segment. */
    write_cursor(1, 6 * (100 + HDR) + 1);
    q = reopen(NULL, 4 * MIB);
    ck_assert_uint_eq(outq_pending(q), 12);
    outq_free(q);
    write_cursor(5, 0);
    q = reopen(NULL, 4 * MIB);
    ck_assert_uint_eq(outq_pending(q), 12);
    expect_range(q, 0, 6, 100);
    /* A new segment gets a number past the one the cursor named. */
    outq_commit(q, expect_range(q, 0, 6, 100));
    push_range(q, 6, 1, 100);
    ck_assert_int_eq(seg_size(6), 100 + HDR);
    outq_free(q);
    /* A cursor file that is a directory: unreadable, still starts. */
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    q = outq_spool(spool_dir(), 4 * MIB);
    ck_assert_ptr_nonnull(q);
    ck_assert_uint_eq(outq_pending(q), 2);
    outq_free(q);
    tmp_remove();
}
END_TEST

START_TEST(test_leftover_temp_removed_and_lock)
{
    tmp_make();
    ck_assert_int_eq(mkdir(spool_dir(), 0700), 0);
    char path[256];
    snprintf(path, sizeof(path), "%s/cursor.tmp", spool_dir());
    FILE *f = fopen(path, "wb");
    fputs("half-written", f);
    fclose(f);
    struct outq *q = outq_spool(spool_dir(), 4 * MIB);
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(access(path, F_OK), -1);
    /* One spool, one user. */
    ck_assert_ptr_null(outq_spool(spool_dir(), 4 * MIB));
    outq_free(q);
    q = outq_spool(spool_dir(), 4 * MIB);
    ck_assert_ptr_nonnull(q);
    outq_free(q);
    /* A directory that cannot be made. */
    snprintf(path, sizeof(path), "%s/cursor/sub", spool_dir());
    ck_assert_ptr_null(outq_spool(path, 4 * MIB));
    tmp_remove();
}
END_TEST

START_TEST(test_rotation_and_size_cap)
{
    tmp_make();
    struct outq *q = outq_spool(spool_dir(), BIG_LIMIT);
    push_range(q, 0, 4 * PER_SEG, BIG);
    ck_assert_int_eq(count_segments(), 4);
    ck_assert_uint_eq(stats_bytes(q), 4 * PER_SEG * (BIG + HDR));
    expect_stats(q, 40, 0, 0);
    /* Read two chunks of segment 1 and commit them, then overflow. */
    outq_commit(q, expect_range(q, 0, 2, BIG));
    push_range(q, 20, 1, BIG);
    ck_assert_int_eq(seg_size(1), -1);
    ck_assert_int_eq(seg_size(5), BIG + HDR);
    ck_assert_int_eq(count_segments(), 4);
    expect_stats(q, 42, 2 * 3, 0); /* the three unread chunks of segment 1 */
    ck_assert_uint_eq(outq_pending(q), 2 * 16);
    ck_assert_uint_eq(stats_bytes(q), (3 * PER_SEG + 1) * (BIG + HDR));
    /* A batch taken, then its first segment dropped before the commit. */
    struct outq_batch b;
    ck_assert(outq_peek(q, 2 * 7, &b));
    ck_assert_uint_eq(b.nchunks, 7); /* 5..9 in segment 2, 10..11 in segment 3 */
    push_range(q, 21, PER_SEG, BIG);
    ck_assert_int_eq(seg_size(2), -1);
    expect_stats(q, 52, 2 * 8, 0);
    outq_commit(q, b.end); /* takes 10 and 11 only */
    outq_batch_free(&b);
    ck_assert_uint_eq(outq_pending(q), 2 * (3 + 5 + 5 + 1));
    q = reopen(q, BIG_LIMIT);
    expect_range(q, 12, 14, BIG);
    /* A smaller limit on reopen drops the oldest segments, counted. */
    q = reopen(q, 2 * MIB);
    expect_stats(q, 2 * 14, 2 * 8, 0);
    expect_range(q, 20, 6, BIG);
    outq_free(q);
    tmp_remove();
}
END_TEST

START_TEST(test_chunk_bigger_than_limit_or_segment)
{
    tmp_make();
    struct outq *q = outq_spool(spool_dir(), BIG_LIMIT);
    push_range(q, 0, 1, BIG);
    char *big = calloc(1, BIG_LIMIT);
    ck_assert_int_eq(outq_push(q, big, BIG_LIMIT, 2), -EMSGSIZE);
    expect_stats(q, 4, 2, 0);
    /* Bigger than a segment but within the limit: alone in its segment. */
    ck_assert_int_eq(outq_push(q, big, 2 * MIB, 2), 0);
    push_range(q, 1, 1, BIG);
    ck_assert_int_eq(count_segments(), 3);
    ck_assert_int_eq(seg_size(2), 2 * MIB + HDR);
    q = reopen(q, BIG_LIMIT);
    ck_assert_uint_eq(outq_pending(q), 6);
    free(big);
    outq_free(q);
    tmp_remove();
}
END_TEST

/* A tmpfs of 64 KiB: the disk fills long before the spool's limit. */
START_TEST(test_full_disk)
{
    tmp_make();
    ck_assert_int_eq(mkdir(spool_dir(), 0700), 0);
    /* In a mount namespace of our own (propagation off), so that the tmpfs
     * goes away with the process even when a check fails half-way. */
    if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
        mount("tmpfs", spool_dir(), "tmpfs", 0, "size=64k") < 0) {
        fprintf(stderr,
                "check_spool: SKIP test_full_disk: cannot mount a tmpfs (%s); "
                "run as root to test a full disk\n",
                strerror(errno));
        tmp_remove();
        return;
    }
    struct outq *q = outq_spool(spool_dir(), 4 * MIB);
    ck_assert_ptr_nonnull(q);
    char chunk[4096];
    int ok = 0, rc = 0;
    for (int i = 0; i < 100; i++) {
        chunk_fill(chunk, sizeof(chunk), i);
        rc = outq_push(q, chunk, sizeof(chunk), 2);
        if (rc < 0)
            break;
        ok++;
    }
    ck_assert_int_eq(rc, -ENOSPC);
    ck_assert_int_gt(ok, 3);
    /* The partial record was cut: the file holds whole records only. */
    ck_assert_int_eq(seg_size(1), ok * (4096 + HDR));
    ck_assert_uint_eq(stats_bytes(q), (uint64_t)ok * (4096 + HDR));
    expect_stats(q, 2 * ((uint64_t)ok + 1), 2, 0);
    /* Still full: refused again, nothing else harmed. */
    ck_assert_int_eq(outq_push(q, chunk, sizeof(chunk), 2), -ENOSPC);
    outq_commit(q, expect_range(q, 0, ok, 4096));
    /* Sending everything freed the disk. */
    ck_assert_int_eq(count_segments(), 0);
    push_range(q, 1000, 1, 4096);
    q = reopen(q, 4 * MIB);
    expect_range(q, 1000, 1, 4096);
    outq_free(q);
    ck_assert_int_eq(umount(spool_dir()), 0);
    tmp_remove();
}
END_TEST

/* ---- SIGKILL ---- */

/* What the child reports on the pipe: a chunk pushed (fsync'ed), or all
 * chunks up to one committed. */
struct kill_report {
    int committed;
    int id;
};

static int chunk_id(const char *chunk)
{
    return (int)strtol(chunk + 6, NULL, 10);
}

static void kill_child(int fd, int first)
{
    struct outq *q = outq_spool(spool_dir(), 64 * MIB);
    if (!q)
        _exit(1);
    char chunk[3000];
    for (int i = first;; i++) {
        chunk_fill(chunk, sizeof(chunk), i);
        if (outq_push(q, chunk, sizeof(chunk), 2) != 0)
            _exit(2);
        struct kill_report r = {0, i};
        if (write(fd, &r, sizeof(r)) != sizeof(r))
            _exit(3);
        struct outq_batch b;
        if (i % 25 == 0 && outq_peek(q, 20, &b)) {
            outq_commit(q, b.end);
            r = (struct kill_report){1, chunk_id(b.data + b.len - sizeof(chunk))};
            outq_batch_free(&b);
            if (write(fd, &r, sizeof(r)) != sizeof(r))
                _exit(3);
        }
    }
}

START_TEST(test_sigkill_loses_nothing)
{
    tmp_make();
    int next = 0, committed = -1;
    for (int round = 0; round < 4; round++) {
        int fds[2];
        ck_assert_int_eq(pipe(fds), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(fds[0]);
            kill_child(fds[1], next);
        }
        close(fds[1]);
        int pushed = -1, want = 40 + 70 * round;
        struct kill_report r;
        while (pushed - next < want && read(fds[0], &r, sizeof(r)) == sizeof(r)) {
            if (r.committed)
                committed = r.id;
            else
                pushed = r.id;
        }
        kill(pid, SIGKILL);
        while (read(fds[0], &r, sizeof(r)) == sizeof(r)) { /* sent before the kill */
            if (r.committed)
                committed = r.id;
            else
                pushed = r.id;
        }
        close(fds[0]);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFSIGNALED(status));
        /* Everything pushed and not committed is there, in order; the
         * commits the child made are kept. */
        struct outq *q = outq_spool(spool_dir(), 64 * MIB);
        ck_assert_ptr_nonnull(q);
        struct outq_batch b;
        ck_assert(outq_peek(q, SIZE_MAX, &b));
        int first = chunk_id(b.data), last = first + (int)b.nchunks - 1;
        ck_assert_int_ge(first, committed + 1);
        ck_assert_int_le(first, committed + 11); /* a commit of 10 made, not reported */
        ck_assert_int_ge(last, pushed);
        ck_assert_int_le(last, pushed + 1); /* one more may have made it */
        char want_chunk[3000];
        for (size_t i = 0; i < b.nchunks; i++) {
            chunk_fill(want_chunk, sizeof(want_chunk), first + (int)i);
            ck_assert(memcmp(b.data + i * sizeof(want_chunk), want_chunk, sizeof(want_chunk)) == 0);
        }
        outq_batch_free(&b);
        outq_free(q);
        next = last + 1;
    }
    tmp_remove();
}
END_TEST

/* ---- threads ---- */

#define FLOW_CHUNKS 2000

struct flow {
    struct outq *q;
    _Atomic bool done;
};

static void *flow_pusher(void *arg)
{
    struct flow *f = arg;
    for (uint32_t i = 0; i < FLOW_CHUNKS; i++) {
        char chunk[64];
        memset(chunk, 0, sizeof(chunk));
        memcpy(chunk, &i, sizeof(i));
        ck_assert_int_eq(outq_push(f->q, chunk, sizeof(chunk), 1), 0);
    }
    atomic_store(&f->done, true);
    outq_wake(f->q);
    return NULL;
}

START_TEST(test_threads_spool)
{
    tmp_make();
    /* The last segment goes each time the consumer catches up, and the
     * next push makes a new one. */
    struct flow f = {.q = outq_spool(spool_dir(), 512 * KIB)};
    ck_assert_ptr_nonnull(f.q);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, flow_pusher, &f), 0);
    uint32_t expect = 0;
    for (;;) {
        struct outq_batch b;
        if (!outq_peek(f.q, 37, &b)) {
            if (atomic_load(&f.done) && !outq_peek(f.q, 37, &b))
                break;
            if (!b.data) {
                outq_wait(f.q, 10, clock_monotonic_ns() + 50000000);
                continue;
            }
        }
        for (size_t i = 0; i < b.nchunks; i++) {
            uint32_t v;
            memcpy(&v, b.data + 64 * i, sizeof(v));
            ck_assert_uint_eq(v, expect);
            expect++;
        }
        outq_commit(f.q, b.end);
        outq_batch_free(&b);
    }
    pthread_join(t, NULL);
    ck_assert_uint_eq(expect, FLOW_CHUNKS);
    struct outq_stats st;
    outq_get_stats(f.q, &st);
    ck_assert_uint_eq(st.queued_records, FLOW_CHUNKS);
    ck_assert_uint_eq(st.dropped_records, 0);
    ck_assert_uint_eq(st.bytes, 0);
    outq_free(f.q);
    tmp_remove();
}
END_TEST

static Suite *spool_suite(void)
{
    Suite *s = suite_create("spool");
    TCase *tc = tcase_create("spool");
    tcase_set_timeout(tc, 120); /* fsyncs, and valgrind */
    tcase_add_test(tc, test_handmade_segments_replayed);
    tcase_add_test(tc, test_replay_in_order);
    tcase_add_test(tc, test_commit_persists);
    tcase_add_test(tc, test_torn_tail_cut);
    tcase_add_test(tc, test_garbage_tail_cut);
    tcase_add_test(tc, test_corrupt_record_in_older_segment);
    tcase_add_test(tc, test_bad_or_missing_cursor);
    tcase_add_test(tc, test_leftover_temp_removed_and_lock);
    tcase_add_test(tc, test_rotation_and_size_cap);
    tcase_add_test(tc, test_chunk_bigger_than_limit_or_segment);
    tcase_add_test(tc, test_full_disk);
    tcase_add_test(tc, test_sigkill_loses_nothing);
    tcase_add_test(tc, test_threads_spool);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(spool_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
