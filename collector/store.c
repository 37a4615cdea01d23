/*
 * store.c - the latest batch of each input instance, for the endpoint.
 * Invariant: a slot holds the newest complete batch or NULL; a batch is
 * freed only after it has been replaced, and rendering holds the lock, so a
 * render never sees a freed batch. The generation counter lets the endpoint
 * re-render only when something changed; the render cache (the grouping of
 * the last render, checked against the batches at each render) spares the
 * grouping when the inputs emitted the same families as before.
 */
#include <stdlib.h>

#include "agent.h"

void store_init(struct store *store, size_t nslots)
{
    pthread_mutex_init(&store->lock, NULL);
    store->slots = sonde_xcalloc(nslots ? nslots : 1, sizeof(*store->slots));
    store->nslots = nslots;
    store->render_cache = expo_cache_new();
    atomic_store(&store->generation, 1);
}

void store_publish(struct store *store, size_t slot, struct sonde_batch *batch)
{
    pthread_mutex_lock(&store->lock);
    struct sonde_batch *old = store->slots[slot];
    store->slots[slot] = batch;
    atomic_fetch_add(&store->generation, 1);
    pthread_mutex_unlock(&store->lock);
    batch_free(old);
}

uint64_t store_render(struct store *store, struct sonde_buf *out, enum expo_format format)
{
    pthread_mutex_lock(&store->lock);
    uint64_t generation = atomic_load(&store->generation);
    struct expo_source src = {.batches = (const struct sonde_batch *const *)store->slots,
                              .nbatches = store->nslots};
    expo_render_cached(out, &src, format, store->render_cache);
    pthread_mutex_unlock(&store->lock);
    return generation;
}

void store_destroy(struct store *store)
{
    for (size_t i = 0; i < store->nslots; i++)
        batch_free(store->slots[i]);
    free(store->slots);
    store->slots = NULL;
    expo_cache_free(store->render_cache);
    store->render_cache = NULL;
    pthread_mutex_destroy(&store->lock);
}
