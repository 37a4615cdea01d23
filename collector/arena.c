/*
 * arena.c - bump allocator for per-batch memory. A batch's samples, labels
 * and strings all come from one arena and are freed together, so plugins
 * never free what they emit. Chunks grow geometrically; reset keeps the
 * first chunk so a steady-state cycle allocates nothing from the heap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define ARENA_FIRST_CHUNK 16384
#define ARENA_ALIGN       16

struct arena_chunk {
    struct arena_chunk *next;
    size_t size, used;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

struct sonde_arena {
    struct arena_chunk *head; /* current chunk; older ones follow */
    size_t total;             /* bytes of all chunks */
};

static struct arena_chunk *arena_chunk_new(size_t size)
{
    struct arena_chunk *chunk = sonde_xmalloc(sizeof(*chunk) + size);
    chunk->next = NULL;
    chunk->size = size;
    chunk->used = 0;
    return chunk;
}

struct sonde_arena *sonde_arena_new(void)
{
    struct sonde_arena *arena = sonde_xcalloc(1, sizeof(*arena));
    arena->head = arena_chunk_new(ARENA_FIRST_CHUNK);
    arena->total = ARENA_FIRST_CHUNK;
    return arena;
}

void *sonde_arena_alloc(struct sonde_arena *arena, size_t size)
{
    size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    struct arena_chunk *chunk = arena->head;
    if (chunk->size - chunk->used < size) {
        size_t want = chunk->size * 2;
        while (want < size)
            want *= 2;
        chunk = arena_chunk_new(want);
        chunk->next = arena->head;
        arena->head = chunk;
        arena->total += want;
    }
    void *p = chunk->data + chunk->used;
    chunk->used += size;
    memset(p, 0, size);
    return p;
}

char *sonde_arena_strndup(struct sonde_arena *arena, const char *s, size_t len)
{
    char *copy = sonde_arena_alloc(arena, len + 1);
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

char *sonde_arena_strdup(struct sonde_arena *arena, const char *s)
{
    return sonde_arena_strndup(arena, s, strlen(s));
}

char *sonde_arena_printf(struct sonde_arena *arena, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return sonde_arena_strdup(arena, "");
    char *s = sonde_arena_alloc(arena, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Keeps the largest chunk (the newest) for the next cycle. */
void sonde_arena_reset(struct sonde_arena *arena)
{
    struct arena_chunk *keep = arena->head;
    struct arena_chunk *chunk = keep->next;
    while (chunk) {
        struct arena_chunk *next = chunk->next;
        free(chunk);
        chunk = next;
    }
    keep->next = NULL;
    keep->used = 0;
    arena->total = keep->size;
}

void sonde_arena_free(struct sonde_arena *arena)
{
    if (!arena)
        return;
    struct arena_chunk *chunk = arena->head;
    while (chunk) {
        struct arena_chunk *next = chunk->next;
        free(chunk);
        chunk = next;
    }
    free(arena);
}

size_t arena_bytes(const struct sonde_arena *arena)
{
    return arena->total;
}
