/*
 * spool.c - the disk spool behind outq_spool: a write-ahead log of one push
 * output's chunks, so that nothing queued before a crash or a SIGKILL is
 * lost; bounded in bytes, replayed in order after a restart.
 *
 * Design note.
 * On disk (integers little-endian):
 *   DIR/seg-NNNNNNNNNNNNNNNNNNNN.sonde  a segment: NNN is its number (20
 *       digits, from 1, never reused), the content a sequence of records,
 *       each a 16-byte header then the chunk's bytes:
 *         0 'S' 'Q'  magic          4 u32 payload length
 *         2 u8 1     version        8 u32 nrecords (lines, samples)
 *         3 u8 0     reserved      12 u32 CRC-32 (zlib) of bytes 0-11, then of the payload
 *   DIR/cursor  24 bytes, where reading resumes (everything before it was
 *       committed): "SQC" 1, u64 segment number, u64 offset, u32 CRC-32 of
 *       bytes 0-19. Written to cursor.tmp, fsync, rename, fsync of DIR.
 *   DIR/lock  flock'ed while the spool is open: two outputs or two daemons
 *       never share a spool.
 * Positions (struct outq_batch.end): segment number << 32 | offset just
 * after the chunk. A segment rotates before it would pass seg_max (at most
 * 64 MiB); only one record bigger than that, alone in its segment, goes
 * past, and a record is kept under 4 GiB, so offsets fit 32 bits.
 * Numbers are capped at 2^32 - 1 (at 1 MiB a segment, 4 PiB written).
 *
 * Invariants (under the queue's lock, see outq.c):
 * - segs[] is sorted, oldest first; segs[0] is the one being read, from
 *   read_off; segments wholly before the read position are deleted, after
 *   the cursor was stored past them (a crash in between replays nothing
 *   twice: the open deletes segments before the cursor).
 * - Every record before segs[i].valid was checked (CRC) at open or written
 *   by us; pending = sum of segs[].nrecords - read_records.
 * - write_fd >= 0: the last segment takes appends at its size. A push
 *   returns 0 only after the record is written and fdatasync'ed, and after
 *   the directory was fsync'ed if the push created the segment.
 * - When everything was committed, the last segment is deleted too, so an
 *   empty spool holds no data bytes (and a full disk gets room back).
 * - Deletions are not fsync'ed: a deletion lost in a crash brings back a
 *   committed segment (before the cursor: deleted again at open) or one
 *   dropped for the cap (replayed: sent although counted as dropped).
 * Counting: a bad record found at open (torn tail or corrupt) counts once
 * in corrupt_records; what followed it in an older segment cannot be
 * counted (its headers are not to be trusted). Records of a segment dropped
 * for the cap, or lost after a bad record found when reading, count in
 * dropped_records. The records found at open count as queued.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "core.h"
#include "spool.h"

#define SPOOL_HDR           16
#define SPOOL_VERSION       1
#define SPOOL_CURSOR_LEN    24
#define SPOOL_SEG_FLOOR     (1ULL << 20)
#define SPOOL_SEG_CEILING   (64ULL << 20)
#define SPOOL_OFFSET_MAX    0xffffffffULL
#define SPOOL_NUMBER_MAX    0xffffffffULL
#define SPOOL_NAME_LEN      30 /* "seg-" + 20 digits + ".sonde" */
#define SPOOL_CURSOR        "cursor"
#define SPOOL_CURSOR_TMP    "cursor.tmp"
#define SPOOL_LOCK          "lock"
#define SPOOL_POS(num, off) (((uint64_t)(num) << 32) | (uint64_t)(off))

struct spool_segment {
    uint64_t number;
    uint64_t size;     /* file size, counted in stats.bytes */
    uint64_t valid;    /* end of the last good record (< size after a corrupt one) */
    uint64_t nrecords; /* lines in the good records, read ones included */
    uint64_t nchunks;
};

struct spool {
    struct outq_counters *counters; /* borrowed from the struct outq */
    char *dir;
    int dir_fd;
    int lock_fd;
    uint64_t limit;
    uint64_t seg_max;
    struct spool_segment *segs; /* oldest first */
    size_t nsegs, segs_cap;
    uint64_t bytes;    /* sum of segs[].size */
    int write_fd;      /* the last segment's, or -1: the next push creates one */
    bool write_broken; /* the last segment's tail is unknown: never append to it */
    uint64_t read_off; /* in segs[0] */
    uint64_t read_records;
    uint64_t read_chunks;
    uint64_t next_number;
    struct sonde_ratelimit write_log, drop_log, cursor_log, corrupt_log;
};

/* ---- encoding ---- */

static void spool_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void spool_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t spool_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t spool_get64(const uint8_t *p)
{
    return (uint64_t)spool_get32(p) | (uint64_t)spool_get32(p + 4) << 32;
}

static void spool_header_encode(uint8_t *hdr, const char *payload, uint32_t len, uint32_t nrecords)
{
    hdr[0] = 'S';
    hdr[1] = 'Q';
    hdr[2] = SPOOL_VERSION;
    hdr[3] = 0;
    spool_put32(hdr + 4, len);
    spool_put32(hdr + 8, nrecords);
    uLong crc = crc32(0L, hdr, 12);
    if (len)
        crc = crc32(crc, (const Bytef *)payload, len);
    spool_put32(hdr + 12, (uint32_t)crc);
}

/* False when the header is not one of ours (the CRC is checked later). */
static bool spool_header_decode(const uint8_t *hdr, uint32_t *len, uint32_t *nrecords)
{
    if (hdr[0] != 'S' || hdr[1] != 'Q' || hdr[2] != SPOOL_VERSION || hdr[3] != 0)
        return false;
    *len = spool_get32(hdr + 4);
    *nrecords = spool_get32(hdr + 8);
    return true;
}

static void spool_segment_name(char *buf, size_t cap, uint64_t number)
{
    snprintf(buf, cap, "seg-%020llu.sonde", (unsigned long long)number);
}

static bool spool_segment_parse(const char *name, uint64_t *number)
{
    if (strlen(name) != SPOOL_NAME_LEN || memcmp(name, "seg-", 4) != 0 ||
        memcmp(name + 24, ".sonde", 6) != 0)
        return false;
    for (int i = 4; i < 24; i++)
        if (!isdigit((unsigned char)name[i]))
            return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(name + 4, &end, 10);
    if (errno || end != name + 24)
        return false;
    *number = v;
    return true;
}

/* ---- file helpers ---- */

/* 0, -errno, or -ENODATA when the file ends first. */
static int spool_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -ENODATA;
        done += (size_t)n;
    }
    return 0;
}

static int spool_pwrite_record(int fd, const uint8_t *hdr, const char *data, size_t len,
                               uint64_t off)
{
    struct iovec iov[2] = {{(void *)hdr, SPOOL_HDR}, {(void *)data, len}};
    struct iovec *v = iov;
    int nv = len ? 2 : 1;
    uint64_t done = 0;
    while (nv > 0) {
        ssize_t n = pwritev(fd, v, nv, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        done += (uint64_t)n;
        while (nv > 0 && (size_t)n >= v->iov_len) {
            n -= (ssize_t)v->iov_len;
            v++;
            nv--;
        }
        if (nv > 0) {
            v->iov_base = (char *)v->iov_base + n;
            v->iov_len -= (size_t)n;
        }
    }
    return 0;
}

/* CRC of a record whose header is `hdr`, reading its payload in blocks so
 * that a bogus length never makes a big allocation. */
static int spool_record_crc(int fd, const uint8_t *hdr, uint64_t off, uint32_t len, uint32_t *out)
{
    uint8_t block[65536];
    uLong crc = crc32(0L, hdr, 12);
    uint64_t pos = off + SPOOL_HDR, left = len;
    while (left > 0) {
        size_t n = left < sizeof(block) ? (size_t)left : sizeof(block);
        int rc = spool_pread_full(fd, block, n, pos);
        if (rc < 0)
            return rc;
        crc = crc32(crc, block, (uInt)n);
        pos += n;
        left -= n;
    }
    *out = (uint32_t)crc;
    return 0;
}

static int spool_open_segment(struct spool *sp, uint64_t number, int flags)
{
    char name[64];
    spool_segment_name(name, sizeof(name), number);
    int fd = openat(sp->dir_fd, name, flags | O_CLOEXEC, 0640);
    return fd < 0 ? -errno : fd;
}

/* The fd to read segment i: the write fd, or a new one (*owned: close it). */
static int spool_read_fd(struct spool *sp, size_t i, bool *owned)
{
    *owned = false;
    if (i == sp->nsegs - 1 && sp->write_fd >= 0)
        return sp->write_fd;
    *owned = true;
    return spool_open_segment(sp, sp->segs[i].number, O_RDONLY);
}

/* ---- cursor ---- */

static int spool_cursor_load(struct spool *sp, uint64_t *number, uint64_t *off)
{
    int fd = openat(sp->dir_fd, SPOOL_CURSOR, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    uint8_t buf[SPOOL_CURSOR_LEN + 1];
    ssize_t n;
    do
        n = read(fd, buf, sizeof(buf));
    while (n < 0 && errno == EINTR);
    int err = n < 0 ? -errno : 0;
    close(fd);
    if (err)
        return err;
    if (n != SPOOL_CURSOR_LEN || memcmp(buf, "SQC\1", 4) != 0 ||
        spool_get32(buf + 20) != (uint32_t)crc32(0L, buf, 20))
        return -EBADMSG;
    *number = spool_get64(buf + 4);
    *off = spool_get64(buf + 12);
    return 0;
}

static int spool_cursor_store(struct spool *sp, uint64_t number, uint64_t off)
{
    uint8_t buf[SPOOL_CURSOR_LEN];
    memcpy(buf, "SQC\1", 4);
    spool_put64(buf + 4, number);
    spool_put64(buf + 12, off);
    spool_put32(buf + 20, (uint32_t)crc32(0L, buf, 20));
    int fd = openat(sp->dir_fd, SPOOL_CURSOR_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return -errno;
    int rc = 0;
    ssize_t n;
    do
        n = write(fd, buf, sizeof(buf));
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(buf))
        rc = n < 0 ? -errno : -ENOSPC;
    if (rc == 0 && fdatasync(fd) < 0)
        rc = -errno;
    close(fd);
    if (rc == 0 && renameat(sp->dir_fd, SPOOL_CURSOR_TMP, sp->dir_fd, SPOOL_CURSOR) < 0)
        rc = -errno;
    if (rc == 0 && fsync(sp->dir_fd) < 0)
        rc = -errno;
    if (rc < 0)
        unlinkat(sp->dir_fd, SPOOL_CURSOR_TMP, 0);
    return rc;
}

/* Stores the read position; a failure is logged and otherwise ignored:
 * after a crash the records since the last stored cursor are sent again,
 * which is better than refusing to go on. */
static void spool_cursor_save(struct spool *sp, uint64_t number, uint64_t off)
{
    int rc = spool_cursor_store(sp, number, off);
    if (rc < 0)
        sonde_log_limited(&sp->cursor_log, 60, SONDE_LOG_WARN,
                          "spool %s: cannot store the cursor: %s (after a crash, records already "
                          "sent would be sent again)",
                          sp->dir, strerror(-rc));
}

/* ---- the segment list ---- */

static struct spool_segment *spool_append_segment(struct spool *sp, uint64_t number, uint64_t size)
{
    if (sp->nsegs == sp->segs_cap) {
        sp->segs_cap = sp->segs_cap ? sp->segs_cap * 2 : 16;
        sp->segs = sonde_xrealloc(sp->segs, sp->segs_cap * sizeof(*sp->segs));
    }
    struct spool_segment *seg = &sp->segs[sp->nsegs++];
    memset(seg, 0, sizeof(*seg));
    seg->number = number;
    seg->size = size;
    seg->valid = size;
    return seg;
}

/* Deletes segs[0] and moves the read position to the start of the next
 * one. What was not read of it leaves `pending`; the caller counts it. */
static void spool_remove_first(struct spool *sp)
{
    struct spool_segment *seg = &sp->segs[0];
    if (sp->nsegs == 1 && sp->write_fd >= 0) {
        close(sp->write_fd);
        sp->write_fd = -1;
        sp->write_broken = false;
    }
    char name[64];
    spool_segment_name(name, sizeof(name), seg->number);
    if (unlinkat(sp->dir_fd, name, 0) < 0 && errno != ENOENT)
        sonde_log(SONDE_LOG_WARN, "spool %s: cannot delete %s: %s", sp->dir, name, strerror(errno));
    sp->counters->pending -= seg->nrecords - sp->read_records;
    sp->bytes -= seg->size;
    sp->counters->bytes = sp->bytes;
    memmove(sp->segs, sp->segs + 1, (sp->nsegs - 1) * sizeof(*sp->segs));
    sp->nsegs--;
    sp->read_off = sp->read_records = sp->read_chunks = 0;
}

/* Drops the oldest segment to respect the size cap, counting what it held
 * that was not committed. */
static void spool_drop_oldest(struct spool *sp)
{
    const struct spool_segment *seg = &sp->segs[0];
    uint64_t lines = seg->nrecords - sp->read_records;
    uint64_t chunks = seg->nchunks - sp->read_chunks;
    uint64_t number = seg->number;
    sp->counters->dropped_records += lines;
    sp->counters->dropped_chunks += chunks;
    spool_remove_first(sp);
    sonde_log_limited(
        &sp->drop_log, 60, SONDE_LOG_WARN,
        "spool %s: over its limit of %llu bytes: dropped segment %llu with %llu unsent records",
        sp->dir, (unsigned long long)sp->limit, (unsigned long long)number,
        (unsigned long long)lines);
}

/* Deletes the segments wholly read, the last one included unless it is an
 * empty segment waiting for appends. */
static void spool_trim(struct spool *sp)
{
    while (sp->nsegs > 0 && sp->read_off >= sp->segs[0].valid) {
        if (sp->nsegs == 1 && sp->write_fd >= 0 && sp->segs[0].size == 0)
            break;
        spool_remove_first(sp);
    }
}

/* Gives up on segment i from `off` on (a record there is bad): what it
 * held after `off` is counted as dropped, the bad record as corrupt. */
static void spool_cut(struct spool *sp, size_t i, uint64_t off, uint64_t lines_before,
                      uint64_t chunks_before, const char *why)
{
    struct spool_segment *seg = &sp->segs[i];
    uint64_t lines = seg->nrecords > lines_before ? seg->nrecords - lines_before : 0;
    uint64_t chunks = seg->nchunks > chunks_before ? seg->nchunks - chunks_before : 0;
    seg->nrecords -= lines;
    seg->nchunks -= chunks;
    seg->valid = off;
    sp->counters->corrupt_records++;
    sp->counters->dropped_records += lines;
    sp->counters->dropped_chunks += chunks;
    sp->counters->pending -= lines;
    if (i == sp->nsegs - 1)
        sp->write_broken = true;
    sonde_log_limited(&sp->corrupt_log, 60, SONDE_LOG_WARN,
                      "spool %s: segment %llu: bad record at offset %llu (%s): skipping the rest "
                      "of the segment, %llu records",
                      sp->dir, (unsigned long long)seg->number, (unsigned long long)off, why,
                      (unsigned long long)lines);
}

/* ---- recovery ---- */

/* Checks the records of `seg` from `from` on; stops at the end or at the
 * first bad record (*why says what was wrong). Adds the good ones to the
 * segment's counts and sets its `valid` end. */
static void spool_scan(struct spool_segment *seg, int fd, uint64_t from, const char **why)
{
    uint64_t off = from;
    *why = NULL;
    while (off < seg->size) {
        uint8_t hdr[SPOOL_HDR];
        uint32_t len, nrecords, crc;
        if (seg->size - off < SPOOL_HDR) {
            *why = "truncated header";
            break;
        }
        if (spool_pread_full(fd, hdr, SPOOL_HDR, off) < 0) {
            *why = "read error";
            break;
        }
        if (!spool_header_decode(hdr, &len, &nrecords)) {
            *why = "bad magic or version";
            break;
        }
        if (len > seg->size - off - SPOOL_HDR || off + SPOOL_HDR + len > SPOOL_OFFSET_MAX) {
            *why = "truncated record";
            break;
        }
        if (spool_record_crc(fd, hdr, off, len, &crc) < 0) {
            *why = "read error";
            break;
        }
        if (crc != spool_get32(hdr + 12)) {
            *why = "checksum mismatch";
            break;
        }
        off += SPOOL_HDR + len;
        seg->nrecords += nrecords;
        seg->nchunks++;
    }
    seg->valid = off;
}

/* Walks the record headers of a segment from `from` to exactly `to`,
 * counting; -EBADMSG when `to` is not where a record starts. */
static int spool_walk(int fd, uint64_t from, uint64_t to, uint64_t *lines, uint64_t *chunks)
{
    uint64_t off = from;
    while (off < to) {
        uint8_t hdr[SPOOL_HDR];
        uint32_t len, nrecords;
        if (spool_pread_full(fd, hdr, SPOOL_HDR, off) < 0 ||
            !spool_header_decode(hdr, &len, &nrecords))
            return -EBADMSG;
        off += SPOOL_HDR + (uint64_t)len;
        *lines += nrecords;
        (*chunks)++;
    }
    return off == to ? 0 : -EBADMSG;
}

static int spool_compare_segments(const void *a, const void *b)
{
    uint64_t x = ((const struct spool_segment *)a)->number;
    uint64_t y = ((const struct spool_segment *)b)->number;
    return x < y ? -1 : x > y;
}

/* Lists the segments (sorted) and removes a leftover temporary cursor. */
static int spool_list(struct spool *sp)
{
    int fd = dup(sp->dir_fd);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        int err = -errno;
        if (fd >= 0)
            close(fd);
        return err;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        uint64_t number;
        struct stat st;
        if (strcmp(e->d_name, SPOOL_CURSOR_TMP) == 0) {
            sonde_log(SONDE_LOG_WARN, "spool %s: removing a leftover %s", sp->dir, e->d_name);
            unlinkat(sp->dir_fd, e->d_name, 0);
            continue;
        }
        if (!spool_segment_parse(e->d_name, &number))
            continue;
        if (number == 0 || number > SPOOL_NUMBER_MAX) {
            sonde_log(SONDE_LOG_WARN, "spool %s: ignoring %s: not a segment number of sonde",
                      sp->dir, e->d_name);
            continue;
        }
        if (fstatat(sp->dir_fd, e->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode)) {
            sonde_log(SONDE_LOG_WARN, "spool %s: ignoring %s: not a readable file", sp->dir,
                      e->d_name);
            continue;
        }
        spool_append_segment(sp, number, (uint64_t)st.st_size);
    }
    closedir(d);
    if (sp->nsegs)
        qsort(sp->segs, sp->nsegs, sizeof(*sp->segs), spool_compare_segments);
    return 0;
}

/* Finds where reading resumes from the cursor file: segments before it are
 * deleted (they were committed). A missing or inconsistent cursor means
 * the oldest segment, with a warning when there was something to replay. */
static void spool_find_start(struct spool *sp)
{
    uint64_t number = 0, off = 0;
    int rc = spool_cursor_load(sp, &number, &off);
    if (rc == -ENOENT) {
        if (sp->nsegs)
            sonde_log(SONDE_LOG_WARN, "spool %s: no cursor file: replaying from the oldest segment",
                      sp->dir);
        return;
    }
    if (rc == 0 && (number > SPOOL_NUMBER_MAX || off > SPOOL_OFFSET_MAX))
        rc = -EBADMSG;
    if (rc < 0) {
        sonde_log(SONDE_LOG_WARN,
                  "spool %s: cursor file unreadable (%s): replaying from the oldest segment",
                  sp->dir, rc == -EBADMSG ? "corrupt" : strerror(-rc));
        return;
    }
    if (number >= sp->next_number)
        sp->next_number = number + 1; /* never reuse a number the cursor may name */
    size_t first = 0;
    while (first < sp->nsegs && sp->segs[first].number < number)
        first++;
    if (first == sp->nsegs) {
        if (sp->nsegs)
            sonde_log(SONDE_LOG_WARN,
                      "spool %s: the cursor names segment %llu, past the newest: replaying from "
                      "the oldest segment",
                      sp->dir, (unsigned long long)number);
        return;
    }
    if (sp->segs[first].number == number && off > 0) {
        struct spool_segment *seg = &sp->segs[first];
        int fd = spool_open_segment(sp, seg->number, O_RDONLY);
        uint64_t lines = 0, chunks = 0;
        rc = fd < 0 ? fd : 0;
        if (rc == 0)
            rc = off > seg->size ? -EBADMSG : spool_walk(fd, 0, off, &lines, &chunks);
        if (fd >= 0)
            close(fd);
        if (rc < 0) {
            sonde_log(SONDE_LOG_WARN,
                      "spool %s: the cursor does not point at a record of segment %llu: replaying "
                      "from the oldest segment",
                      sp->dir, (unsigned long long)number);
            return;
        }
        sp->read_off = off;
        seg->nrecords = sp->read_records = lines;
        seg->nchunks = sp->read_chunks = chunks;
    }
    /* Committed segments left behind by a crash between the cursor store and
     * their deletion. */
    for (size_t i = 0; i < first; i++) {
        char name[64];
        spool_segment_name(name, sizeof(name), sp->segs[i].number);
        unlinkat(sp->dir_fd, name, 0);
    }
    memmove(sp->segs, sp->segs + first, (sp->nsegs - first) * sizeof(*sp->segs));
    sp->nsegs -= first;
}

/* Checks every segment from the read position on: a bad record at the
 * tail of the last segment is a torn write and is cut off; in an older
 * segment it ends that segment. */
static void spool_check_segments(struct spool *sp)
{
    for (size_t i = 0; i < sp->nsegs; i++) {
        struct spool_segment *seg = &sp->segs[i];
        bool last = i == sp->nsegs - 1;
        /* The last one is opened for writing, to cut a torn tail and append;
         * if that is refused, it is still replayed. */
        int fd = last ? spool_open_segment(sp, seg->number, O_RDWR) : -1;
        bool writable = fd >= 0;
        if (fd < 0)
            fd = spool_open_segment(sp, seg->number, O_RDONLY);
        const char *why;
        if (fd < 0) {
            seg->valid = i == 0 ? sp->read_off : 0;
            why = "cannot open";
        } else {
            spool_scan(seg, fd, i == 0 ? sp->read_off : 0, &why);
        }
        if (!why) {
            if (writable && seg->size < sp->seg_max)
                sp->write_fd = fd;
            else
                close(fd);
            continue;
        }
        sp->counters->corrupt_records++;
        if (writable && ftruncate(fd, (off_t)seg->valid) == 0 && fsync(fd) == 0) {
            sonde_log(SONDE_LOG_WARN,
                      "spool %s: segment %llu: torn write at offset %llu (%s): cut %llu bytes",
                      sp->dir, (unsigned long long)seg->number, (unsigned long long)seg->valid, why,
                      (unsigned long long)(seg->size - seg->valid));
            seg->size = seg->valid;
            if (seg->size < sp->seg_max) {
                sp->write_fd = fd;
                continue;
            }
        } else {
            sonde_log(SONDE_LOG_WARN,
                      "spool %s: segment %llu: bad record at offset %llu (%s): skipping the rest "
                      "of it, %llu bytes",
                      sp->dir, (unsigned long long)seg->number, (unsigned long long)seg->valid, why,
                      (unsigned long long)(seg->size - seg->valid));
        }
        if (fd >= 0)
            close(fd);
    }
}

static int spool_recover(struct spool *sp)
{
    int rc = spool_list(sp);
    if (rc < 0)
        return rc;
    sp->next_number = sp->nsegs ? sp->segs[sp->nsegs - 1].number + 1 : 1;
    spool_find_start(sp);
    spool_check_segments(sp);
    uint64_t lines = 0;
    for (size_t i = 0; i < sp->nsegs; i++) {
        lines += sp->segs[i].nrecords;
        sp->bytes += sp->segs[i].size;
    }
    lines -= sp->read_records;
    sp->counters->pending = lines;
    sp->counters->queued_records += lines; /* so that queued = sent + dropped + pending */
    sp->counters->bytes = sp->bytes;
    while (sp->nsegs > 0 && sp->bytes > sp->limit)
        spool_drop_oldest(sp);
    /* The cursor file now says exactly where this run starts, so that a
     * crash before the first commit resumes here without a warning. */
    if (sp->nsegs)
        spool_cursor_save(sp, sp->segs[0].number, sp->read_off);
    else
        spool_cursor_save(sp, sp->next_number, 0);
    spool_trim(sp);
    if (lines)
        sonde_log(SONDE_LOG_INFO, "spool %s: %llu records in %zu segments to replay", sp->dir,
                  (unsigned long long)lines, sp->nsegs);
    return 0;
}

/* mkdir -p */
static int spool_mkdirs(const char *dir)
{
    char *path = sonde_xstrdup(dir);
    int rc = 0;
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0750) < 0 && errno != EEXIST) {
            rc = -errno;
            break;
        }
        *p = c;
        if (c == '\0')
            break;
    }
    free(path);
    return rc;
}

static void spool_destroy(void *impl)
{
    struct spool *sp = impl;
    if (sp->write_fd >= 0)
        close(sp->write_fd);
    if (sp->lock_fd >= 0)
        close(sp->lock_fd); /* releases the flock */
    if (sp->dir_fd >= 0)
        close(sp->dir_fd);
    free(sp->segs);
    free(sp->dir);
    free(sp);
}

void *spool_open(const char *dir, uint64_t limit, struct outq_counters *counters)
{
    struct spool *sp = sonde_xcalloc(1, sizeof(*sp));
    sp->counters = counters;
    sp->dir = sonde_xstrdup(dir);
    sp->dir_fd = sp->lock_fd = sp->write_fd = -1;
    sp->limit = limit;
    sp->seg_max = limit / 8;
    if (sp->seg_max > SPOOL_SEG_CEILING)
        sp->seg_max = SPOOL_SEG_CEILING;
    if (sp->seg_max < SPOOL_SEG_FLOOR)
        sp->seg_max = limit < SPOOL_SEG_FLOOR ? limit : SPOOL_SEG_FLOOR;
    const char *what = "create";
    int rc = dir[0] ? spool_mkdirs(dir) : -EINVAL;
    if (rc == 0) {
        what = "open";
        sp->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        rc = sp->dir_fd < 0 ? -errno : 0;
    }
    if (rc == 0) {
        what = "lock";
        sp->lock_fd = openat(sp->dir_fd, SPOOL_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
        rc = sp->lock_fd < 0 ? -errno : 0;
    }
    if (rc == 0 && flock(sp->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        rc = -errno;
        if (rc == -EWOULDBLOCK) {
            sonde_log(SONDE_LOG_ERROR, "spool %s: in use by another output or process", dir);
            spool_destroy(sp);
            return NULL;
        }
    }
    if (rc == 0) {
        what = "read";
        rc = spool_recover(sp);
    }
    if (rc < 0) {
        sonde_log(SONDE_LOG_ERROR, "spool %s: cannot %s it: %s", dir, what, strerror(-rc));
        spool_destroy(sp);
        return NULL;
    }
    return sp;
}

/* ---- push, peek, commit ---- */

/* A new, empty last segment taking appends; the directory is fsync'ed so
 * that the file survives a crash along with its records. */
static int spool_create_segment(struct spool *sp)
{
    int fd = -EEXIST;
    /* A name taken by something that is not a segment (a directory...) is skipped. */
    for (int tries = 0; fd == -EEXIST && tries < 4; tries++) {
        if (sp->next_number > SPOOL_NUMBER_MAX)
            return -EOVERFLOW;
        fd = spool_open_segment(sp, sp->next_number, O_RDWR | O_CREAT | O_EXCL);
        if (fd == -EEXIST)
            sp->next_number++;
    }
    if (fd < 0)
        return fd;
    if (fsync(sp->dir_fd) < 0) {
        int err = -errno;
        close(fd);
        char name[64];
        spool_segment_name(name, sizeof(name), sp->next_number);
        unlinkat(sp->dir_fd, name, 0);
        return err;
    }
    spool_append_segment(sp, sp->next_number++, 0);
    sp->write_fd = fd;
    sp->write_broken = false;
    return 0;
}

static int spool_push_refused(struct spool *sp, size_t len, size_t nrecords, int rc)
{
    sp->counters->dropped_records += nrecords;
    sp->counters->dropped_chunks++;
    sonde_log_limited(&sp->write_log, 60, SONDE_LOG_ERROR,
                      "spool %s: cannot store a chunk of %zu bytes (%zu records): %s", sp->dir, len,
                      nrecords, strerror(-rc));
    return rc;
}

static int spool_push(void *impl, const char *data, size_t len, size_t nrecords)
{
    struct spool *sp = impl;
    uint64_t need = (uint64_t)len + SPOOL_HDR;
    if (len > SPOOL_OFFSET_MAX - SPOOL_HDR || nrecords > UINT32_MAX || need > sp->limit)
        return spool_push_refused(sp, len, nrecords, -EMSGSIZE);
    if (sp->write_fd >= 0) {
        const struct spool_segment *cur = &sp->segs[sp->nsegs - 1];
        if (sp->write_broken || (cur->size > 0 && cur->size + need > sp->seg_max)) {
            close(sp->write_fd);
            sp->write_fd = -1;
        }
    }
    /* The cap first: the room it frees may be what the new segment needs. */
    while (sp->bytes + need > sp->limit && sp->nsegs > (sp->write_fd >= 0 ? 1u : 0u))
        spool_drop_oldest(sp);
    if (sp->write_fd < 0) {
        int rc = spool_create_segment(sp);
        if (rc < 0)
            return spool_push_refused(sp, len, nrecords, rc);
    }
    struct spool_segment *seg = &sp->segs[sp->nsegs - 1];
    uint8_t hdr[SPOOL_HDR];
    spool_header_encode(hdr, data, (uint32_t)len, (uint32_t)nrecords);
    int rc = spool_pwrite_record(sp->write_fd, hdr, data, len, seg->size);
    if (rc == 0 && fdatasync(sp->write_fd) < 0) {
        rc = -errno;
        sp->write_broken = true; /* after a failed fsync the page cache is not to be trusted */
    }
    if (rc < 0) {
        /* Cut the partial record so the file stays a sequence of good records. */
        if (ftruncate(sp->write_fd, (off_t)seg->size) < 0) {
            struct stat st;
            sp->write_broken = true;
            if (fstat(sp->write_fd, &st) == 0 && (uint64_t)st.st_size > seg->size) {
                sp->bytes += (uint64_t)st.st_size - seg->size;
                seg->size = (uint64_t)st.st_size;
                sp->counters->bytes = sp->bytes;
            }
        }
        return spool_push_refused(sp, len, nrecords, rc);
    }
    seg->size += need;
    seg->valid = seg->size;
    seg->nrecords += nrecords;
    seg->nchunks++;
    sp->bytes += need;
    sp->counters->bytes = sp->bytes;
    sp->counters->pending += nrecords;
    return 0;
}

/* Reads the record at `off` of segment i into the batch, if it fits within
 * max_records. 1 taken, 0 does not fit, -EBADMSG (why set) bad record. */
static int spool_take(struct spool *sp, int fd, size_t i, uint64_t off, size_t max_records,
                      struct outq_batch *b, size_t *cap, const char **why)
{
    const struct spool_segment *seg = &sp->segs[i];
    uint8_t hdr[SPOOL_HDR];
    uint32_t len, nrecords;
    *why = "read error";
    if (spool_pread_full(fd, hdr, SPOOL_HDR, off) < 0)
        return -EBADMSG;
    *why = "bad header";
    if (seg->valid - off < SPOOL_HDR || !spool_header_decode(hdr, &len, &nrecords) ||
        len > seg->valid - off - SPOOL_HDR)
        return -EBADMSG;
    if (b->nchunks > 0 && b->nrecords + nrecords > max_records)
        return 0;
    if (!b->data || b->len + len > *cap) { /* allocated even for an empty chunk */
        size_t grown = *cap ? *cap * 2 : 4096;
        *cap = b->len + len > grown ? b->len + len : grown;
        b->data = sonde_xrealloc(b->data, *cap);
    }
    *why = "read error";
    if (spool_pread_full(fd, b->data + b->len, len, off + SPOOL_HDR) < 0)
        return -EBADMSG;
    uLong crc = crc32(0L, hdr, 12);
    if (len)
        crc = crc32(crc, (const Bytef *)b->data + b->len, len);
    *why = "checksum mismatch";
    if ((uint32_t)crc != spool_get32(hdr + 12))
        return -EBADMSG;
    b->len += len;
    b->nrecords += nrecords;
    b->nchunks++;
    b->end = SPOOL_POS(seg->number, off + SPOOL_HDR + len);
    return 1;
}

static bool spool_peek(void *impl, size_t max_records, struct outq_batch *b)
{
    struct spool *sp = impl;
    memset(b, 0, sizeof(*b));
    size_t cap = 0;
    bool full = false;
    for (size_t i = 0; i < sp->nsegs && !full; i++) {
        struct spool_segment *seg = &sp->segs[i];
        uint64_t off = i == 0 ? sp->read_off : 0;
        uint64_t lines = i == 0 ? sp->read_records : 0, chunks = i == 0 ? sp->read_chunks : 0;
        if (off >= seg->valid)
            continue;
        bool owned;
        int fd = spool_read_fd(sp, i, &owned);
        if (fd < 0) {
            spool_cut(sp, i, off, lines, chunks, strerror(-fd));
            continue;
        }
        while (off < seg->valid) {
            size_t before = b->nrecords;
            const char *why;
            int rc = spool_take(sp, fd, i, off, max_records, b, &cap, &why);
            if (rc < 0) {
                spool_cut(sp, i, off, lines, chunks, why);
                break;
            }
            if (rc == 0) {
                full = true;
                break;
            }
            off = b->end & SPOOL_OFFSET_MAX;
            lines += b->nrecords - before;
            chunks++;
        }
        if (owned)
            close(fd);
    }
    if (b->nchunks == 0) {
        free(b->data);
        memset(b, 0, sizeof(*b));
        spool_trim(sp);
        return false;
    }
    return true;
}

static void spool_commit(void *impl, uint64_t end)
{
    struct spool *sp = impl;
    uint64_t number = end >> 32, off = end & SPOOL_OFFSET_MAX;
    size_t k = 0; /* segs[0..k) are wholly before `end` */
    while (k < sp->nsegs && sp->segs[k].number < number)
        k++;
    bool in_k = k < sp->nsegs && sp->segs[k].number == number;
    if (k == 0 && (!in_k || off <= sp->read_off))
        return; /* committed already, or dropped for space since the peek */
    uint64_t new_off = 0, lines = 0, chunks = 0;
    if (in_k) {
        struct spool_segment *seg = &sp->segs[k];
        new_off = k == 0 ? sp->read_off : 0;
        lines = k == 0 ? sp->read_records : 0;
        chunks = k == 0 ? sp->read_chunks : 0;
        bool owned;
        int fd = spool_read_fd(sp, k, &owned);
        uint64_t l = lines, c = chunks;
        int rc = fd < 0 ? fd : off > seg->valid ? -EBADMSG : spool_walk(fd, new_off, off, &l, &c);
        if (fd >= 0 && owned)
            close(fd);
        if (rc == 0) {
            new_off = off;
            lines = l;
            chunks = c;
        } else {
            /* Cannot happen unless the file changed under us: give up on
             * the rest of the segment rather than guess. */
            spool_cut(sp, k, new_off, lines, chunks, "commit past a bad record");
        }
        sp->counters->pending -= lines - (k == 0 ? sp->read_records : 0);
    }
    if (k < sp->nsegs)
        spool_cursor_save(sp, sp->segs[k].number, new_off);
    else
        spool_cursor_save(sp, number, off);
    /* Only now, with the cursor past them, delete what was sent. Each
     * removal resets the read position to the next segment's start. */
    for (size_t i = 0; i < k; i++)
        spool_remove_first(sp);
    if (in_k) {
        sp->read_off = new_off;
        sp->read_records = lines;
        sp->read_chunks = chunks;
    }
    spool_trim(sp);
}

const struct outq_ops spool_ops = {
    .kind = "spool",
    .push = spool_push,
    .peek = spool_peek,
    .commit = spool_commit,
    .destroy = spool_destroy,
};
