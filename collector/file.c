/*
 * file.c - reading kernel files. Files read every cycle stay open and are
 * re-read from offset 0 with pread (procfs regenerates the content); a file
 * that refuses pread (not seekable) is reopened each time. A file that
 * several inputs read is read once per round (sonde_file_read_shared): the
 * scheduler's thread numbers its rounds and keeps, per thread, which file
 * got which path's content in the current one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

void sonde_file_init(struct sonde_file *file, const char *path)
{
    memset(file, 0, sizeof(*file));
    file->path = sonde_xstrdup(path);
    file->fd = -1;
}

static int file_open(struct sonde_file *file)
{
    file->fd = open(file->path, O_RDONLY | O_CLOEXEC);
    return file->fd < 0 ? -errno : 0;
}

/* Reads until EOF from offset 0, growing the buffer; returns 0 or -errno. */
static int file_read_all(struct sonde_file *file)
{
    if (!file->buf) {
        file->cap = 4096;
        file->buf = sonde_xmalloc(file->cap);
    }
    file->len = 0;
    for (;;) {
        if (file->cap - file->len < 2) {
            file->cap *= 2;
            file->buf = sonde_xrealloc(file->buf, file->cap);
        }
        ssize_t n =
            pread(file->fd, file->buf + file->len, file->cap - file->len - 1, (off_t)file->len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        file->len += (size_t)n;
    }
    file->buf[file->len] = '\0';
    return 0;
}

int sonde_file_read(struct sonde_file *file)
{
    if (file->fd < 0) {
        int rc = file_open(file);
        if (rc < 0)
            return rc;
    }
    int rc = file_read_all(file);
    if (rc == -ESPIPE || rc == -EBADF || rc == -ENODEV) {
        /* Not seekable, or the file went away under us: reopen once. */
        close(file->fd);
        rc = file_open(file);
        if (rc == 0)
            rc = file_read_all(file);
    }
    if (rc < 0 && file->fd >= 0) {
        close(file->fd);
        file->fd = -1;
    }
    return rc;
}

#define FILE_SHARED_SLOTS 8

static _Thread_local uint64_t file_round; /* 0: no round, nothing shared */
static _Thread_local struct {
    uint64_t round;
    struct sonde_file *file; /* read in that round; never one since closed */
} file_shared[FILE_SHARED_SLOTS];

void file_round_begin(void)
{
    file_round++;
}

int sonde_file_read_shared(struct sonde_file *file)
{
    if (!file_round)
        return sonde_file_read(file);
    size_t free_slot = FILE_SHARED_SLOTS;
    for (size_t i = 0; i < FILE_SHARED_SLOTS; i++) {
        if (file_shared[i].round != file_round) {
            free_slot = i;
            continue;
        }
        const struct sonde_file *done = file_shared[i].file;
        if (done == file || strcmp(done->path, file->path) != 0)
            continue;
        if (file->cap < done->len + 1) {
            file->cap = done->len + 1;
            file->buf = sonde_xrealloc(file->buf, file->cap);
        }
        memcpy(file->buf, done->buf, done->len + 1);
        file->len = done->len;
        return 0;
    }
    int rc = sonde_file_read(file);
    if (rc == 0 && free_slot < FILE_SHARED_SLOTS) {
        file_shared[free_slot].round = file_round;
        file_shared[free_slot].file = file;
    }
    return rc;
}

void sonde_file_close(struct sonde_file *file)
{
    for (size_t i = 0; i < FILE_SHARED_SLOTS; i++)
        if (file_shared[i].file == file)
            file_shared[i].round = 0;
    if (file->fd >= 0)
        close(file->fd);
    free(file->path);
    free(file->buf);
    memset(file, 0, sizeof(*file));
    file->fd = -1;
}

long sonde_read_small(const char *path, char *buf, size_t cap)
{
    if (cap == 0)
        return -EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = 0;
    while (len < cap - 1) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int err = -errno;
            close(fd);
            return err;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
        len--;
    buf[len] = '\0';
    return (long)len;
}

static bool file_is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

long sonde_read_attr(int dirfd, const char *name, char *buf, size_t cap)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    ssize_t n;
    do {
        n = read(fd, buf, cap - 1);
    } while (n < 0 && errno == EINTR);
    int err = n < 0 ? -errno : 0;
    close(fd);
    if (err)
        return err;
    size_t start = 0, end = (size_t)n;
    while (start < end && file_is_space(buf[start]))
        start++;
    while (end > start && file_is_space(buf[end - 1]))
        end--;
    memmove(buf, buf + start, end - start);
    buf[end - start] = '\0';
    return (long)(end - start);
}
