/*
 * check_outq.c - the memory queue and the front shared with the spool:
 * FIFO order and positions, peek limits, dropping the oldest for space
 * (and committing after such a drop), thread safety and the waits.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "outq.h"
#include "testutil.h"

/* Every chunk here costs its payload plus this much of the limit. */
#define OVERHEAD 64

static void push_str(struct outq *q, const char *s, size_t nrecords)
{
    ck_assert_int_eq(outq_push(q, s, strlen(s), nrecords), 0);
}

/* Peeks and checks the bytes and the counts taken. */
static uint64_t peek_expect(struct outq *q, size_t max_records, const char *data, size_t nrecords,
                            size_t nchunks)
{
    struct outq_batch b;
    ck_assert(outq_peek(q, max_records, &b));
    ck_assert_uint_eq(b.len, strlen(data));
    ck_assert(memcmp(b.data, data, b.len) == 0);
    ck_assert_uint_eq(b.nrecords, nrecords);
    ck_assert_uint_eq(b.nchunks, nchunks);
    uint64_t end = b.end;
    outq_batch_free(&b);
    ck_assert_ptr_null(b.data);
    return end;
}

START_TEST(test_fifo_order_and_positions)
{
    struct outq *q = outq_memory(1 << 20);
    struct outq_batch b;
    ck_assert(!outq_peek(q, 100, &b));
    push_str(q, "a\n", 1);
    push_str(q, "b\nc\n", 2);
    push_str(q, "d\ne\nf\n", 3);
    ck_assert_uint_eq(outq_pending(q), 6);
    ck_assert_uint_eq(peek_expect(q, 100, "a\nb\nc\nd\ne\nf\n", 6, 3), 3);
    /* Peeking removes nothing. */
    ck_assert_uint_eq(peek_expect(q, 1, "a\n", 1, 1), 1);
    outq_commit(q, 1);
    ck_assert_uint_eq(outq_pending(q), 5);
    ck_assert_uint_eq(peek_expect(q, 100, "b\nc\nd\ne\nf\n", 5, 2), 3);
    outq_commit(q, 1); /* an old position again: nothing happens */
    ck_assert_uint_eq(outq_pending(q), 5);
    outq_commit(q, 3);
    ck_assert_uint_eq(outq_pending(q), 0);
    ck_assert(!outq_peek(q, 100, &b));
    push_str(q, "g\n", 1); /* positions go on from where they were */
    ck_assert_uint_eq(peek_expect(q, 100, "g\n", 1, 1), 4);
    struct outq_stats st;
    outq_get_stats(q, &st);
    ck_assert_uint_eq(st.queued_records, 7);
    ck_assert_uint_eq(st.dropped_records, 0);
    ck_assert_uint_eq(st.bytes, 2 + OVERHEAD);
    outq_free(q);
}
END_TEST

START_TEST(test_peek_limits)
{
    struct outq *q = outq_memory(1 << 20);
    push_str(q, "A", 10); /* bigger than max_records: still taken alone */
    push_str(q, "B", 2);
    push_str(q, "C", 2);
    push_str(q, "D", 2);
    ck_assert_uint_eq(peek_expect(q, 3, "A", 10, 1), 1);
    ck_assert_uint_eq(peek_expect(q, 0, "A", 10, 1), 1);
    ck_assert_uint_eq(peek_expect(q, 12, "AB", 12, 2), 2);
    ck_assert_uint_eq(peek_expect(q, 13, "AB", 12, 2), 2);
    outq_commit(q, 1);
    ck_assert_uint_eq(peek_expect(q, 1, "B", 2, 1), 2);
    ck_assert_uint_eq(peek_expect(q, 4, "BC", 4, 2), 3);
    ck_assert_uint_eq(peek_expect(q, 5, "BC", 4, 2), 3);
    ck_assert_uint_eq(peek_expect(q, 6, "BCD", 6, 3), 4);
    ck_assert_uint_eq(peek_expect(q, SIZE_MAX, "BCD", 6, 3), 4);
    outq_free(q);
}
END_TEST

START_TEST(test_commit_after_drop_for_space)
{
    char chunk[101];
    struct outq *q = outq_memory(3 * (100 + OVERHEAD));
    for (int i = 0; i < 3; i++) {
        memset(chunk, 'A' + i, 100);
        ck_assert_int_eq(outq_push(q, chunk, 100, 5), 0);
    }
    struct outq_batch b;
    ck_assert(outq_peek(q, 100, &b));
    ck_assert_uint_eq(b.end, 3);
    ck_assert_uint_eq(b.nrecords, 15);
    /* While "sending", two more chunks push A and B out. */
    memset(chunk, 'D', 100);
    ck_assert_int_eq(outq_push(q, chunk, 100, 5), 0);
    memset(chunk, 'E', 100);
    ck_assert_int_eq(outq_push(q, chunk, 100, 5), 0);
    struct outq_stats st;
    outq_get_stats(q, &st);
    ck_assert_uint_eq(st.dropped_chunks, 2);
    ck_assert_uint_eq(st.dropped_records, 10);
    ck_assert_uint_eq(outq_pending(q), 15);
    /* The commit removes C only: A and B are gone and counted once. */
    outq_commit(q, b.end);
    outq_batch_free(&b);
    ck_assert_uint_eq(outq_pending(q), 10);
    ck_assert(outq_peek(q, 100, &b));
    ck_assert_uint_eq(b.nchunks, 2);
    ck_assert_int_eq(b.data[0], 'D');
    ck_assert_int_eq(b.data[100], 'E');
    ck_assert_uint_eq(b.end, 5);
    outq_commit(q, b.end);
    outq_batch_free(&b);
    outq_get_stats(q, &st);
    ck_assert_uint_eq(st.dropped_records, 10);
    ck_assert_uint_eq(st.queued_records, 25);
    ck_assert_uint_eq(st.bytes, 0);
    ck_assert_uint_eq(outq_pending(q), 0);
    outq_free(q);
}
END_TEST

START_TEST(test_drop_oldest_counting)
{
    char chunk[32];
    struct outq *q = outq_memory(5 * (10 + OVERHEAD));
    for (int i = 0; i < 20; i++) {
        snprintf(chunk, sizeof(chunk), "chunk %03d\n", i); /* 10 bytes */
        ck_assert_int_eq(outq_push(q, chunk, 10, 3), 0);
    }
    struct outq_stats st;
    outq_get_stats(q, &st);
    ck_assert_uint_eq(st.queued_records, 60);
    ck_assert_uint_eq(st.dropped_chunks, 15);
    ck_assert_uint_eq(st.dropped_records, 45);
    ck_assert_uint_eq(st.bytes, 5 * (10 + OVERHEAD));
    ck_assert_uint_eq(outq_pending(q), 15);
    ck_assert_uint_eq(
        peek_expect(q, 100, "chunk 015\nchunk 016\nchunk 017\nchunk 018\nchunk 019\n", 15, 5), 20);
    outq_free(q);
}
END_TEST

START_TEST(test_chunk_bigger_than_limit)
{
    struct outq *q = outq_memory(1000);
    push_str(q, "kept\n", 1);
    char *big = calloc(1, 2000);
    ck_assert_int_eq(outq_push(q, big, 2000, 7), -EMSGSIZE);
    /* One byte over the limit, counting the overhead, is refused too. */
    ck_assert_int_eq(outq_push(q, big, 1000 - OVERHEAD + 1, 4), -EMSGSIZE);
    struct outq_stats st;
    outq_get_stats(q, &st);
    ck_assert_uint_eq(st.dropped_chunks, 2);
    ck_assert_uint_eq(st.dropped_records, 11);
    ck_assert_uint_eq(st.queued_records, 12);
    ck_assert_uint_eq(peek_expect(q, 100, "kept\n", 1, 1), 1);
    /* Exactly the limit fits, pushing the older chunk out. */
    ck_assert_int_eq(outq_push(q, big, 1000 - OVERHEAD, 4), 0);
    outq_get_stats(q, &st);
    ck_assert_uint_eq(st.dropped_chunks, 3);
    ck_assert_uint_eq(st.dropped_records, 12);
    ck_assert_uint_eq(st.bytes, 1000);
    ck_assert_uint_eq(outq_pending(q), 4);
    free(big);
    outq_free(q);
}
END_TEST

START_TEST(test_empty_chunk)
{
    struct outq *q = outq_memory(1000);
    ck_assert_int_eq(outq_push(q, NULL, 0, 0), 0);
    push_str(q, "x\n", 1);
    ck_assert_uint_eq(peek_expect(q, 1, "x\n", 1, 2), 2);
    outq_free(q);
}
END_TEST

/* ---- threads ---- */

#define NCHUNKS 100000

struct flow {
    struct outq *q;
    _Atomic bool done;
};

static void *flow_pusher(void *arg)
{
    struct flow *f = arg;
    for (uint64_t i = 0; i < NCHUNKS; i++) {
        char chunk[8];
        memcpy(chunk, &i, sizeof(i));
        ck_assert_int_eq(outq_push(f->q, chunk, sizeof(chunk), 1), 0);
    }
    atomic_store(&f->done, true);
    outq_wake(f->q);
    return NULL;
}

/* Takes everything, checking order; returns how many chunks arrived. */
static uint64_t flow_consume(struct flow *f, uint64_t *dropped_seen)
{
    uint64_t received = 0, expect = 0;
    *dropped_seen = 0;
    for (;;) {
        struct outq_batch b;
        if (!outq_peek(f->q, 97, &b)) {
            if (atomic_load(&f->done) && outq_pending(f->q) == 0) {
                if (!outq_peek(f->q, 97, &b))
                    break;
            } else {
                outq_wait(f->q, 50, clock_monotonic_ns() + 100000000);
                continue;
            }
        }
        ck_assert_uint_eq(b.len, 8 * b.nchunks);
        ck_assert_uint_eq(b.nrecords, b.nchunks);
        for (size_t i = 0; i < b.nchunks; i++) {
            uint64_t v;
            memcpy(&v, b.data + 8 * i, sizeof(v));
            ck_assert_msg(v >= expect, "chunk %llu after %llu", (unsigned long long)v,
                          (unsigned long long)expect);
            *dropped_seen += v - expect;
            expect = v + 1;
            received++;
        }
        outq_commit(f->q, b.end);
        outq_batch_free(&b);
    }
    return received;
}

START_TEST(test_threads_nothing_lost)
{
    struct flow f = {.q = outq_memory(1ULL << 30)};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, flow_pusher, &f), 0);
    uint64_t gaps;
    uint64_t received = flow_consume(&f, &gaps);
    pthread_join(t, NULL);
    ck_assert_uint_eq(received, NCHUNKS);
    ck_assert_uint_eq(gaps, 0);
    struct outq_stats st;
    outq_get_stats(f.q, &st);
    ck_assert_uint_eq(st.queued_records, NCHUNKS);
    ck_assert_uint_eq(st.dropped_records, 0);
    ck_assert_uint_eq(st.bytes, 0);
    outq_free(f.q);
}
END_TEST

START_TEST(test_threads_with_drops)
{
    /* A queue of 40 chunks: the pusher outruns the consumer now and then. */
    struct flow f = {.q = outq_memory(40 * (8 + OVERHEAD))};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, flow_pusher, &f), 0);
    uint64_t gaps;
    uint64_t received = flow_consume(&f, &gaps);
    pthread_join(t, NULL);
    struct outq_stats st;
    outq_get_stats(f.q, &st);
    /* In order, no duplicate, and every chunk that did not arrive was
     * counted (a chunk dropped while in flight arrives and is counted). */
    ck_assert_uint_eq(received + gaps, NCHUNKS);
    ck_assert_uint_ge(st.dropped_records, gaps);
    ck_assert_uint_le(st.dropped_records - gaps, received);
    ck_assert_uint_eq(st.queued_records, NCHUNKS);
    ck_assert_uint_eq(outq_pending(f.q), 0);
    outq_free(f.q);
}
END_TEST

/* ---- waits ---- */

struct later {
    struct outq *q;
    bool wake; /* outq_wake, else a push */
};

static void *later_main(void *arg)
{
    struct later *l = arg;
    usleep(50000);
    if (l->wake)
        outq_wake(l->q);
    else
        ck_assert_int_eq(outq_push(l->q, "x\n", 2, 1), 0);
    return NULL;
}

static int64_t wait_ms(struct outq *q, size_t min_records, int64_t timeout_ms)
{
    int64_t start = clock_monotonic_ns();
    outq_wait(q, min_records, start + timeout_ms * 1000000);
    return (clock_monotonic_ns() - start) / 1000000;
}

START_TEST(test_wait_times_out)
{
    struct outq *q = outq_memory(1000);
    int64_t ms = wait_ms(q, 1, 80);
    ck_assert_int_ge(ms, 80);
    ck_assert_int_lt(ms, 1000);
    push_str(q, "x\n", 1);
    ck_assert_int_lt(wait_ms(q, 1, 5000), 100); /* enough already */
    ms = wait_ms(q, 2, 80);
    ck_assert_int_ge(ms, 80);
    ck_assert_int_lt(wait_ms(q, 5, -1), 100); /* a deadline in the past */
    outq_free(q);
}
END_TEST

START_TEST(test_wait_wakes_on_push)
{
    struct outq *q = outq_memory(1000);
    struct later l = {q, false};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, later_main, &l), 0);
    int64_t ms = wait_ms(q, 1, 5000);
    pthread_join(t, NULL);
    ck_assert_int_ge(ms, 40);
    ck_assert_int_lt(ms, 2000);
    ck_assert_uint_eq(outq_pending(q), 1);
    outq_free(q);
}
END_TEST

START_TEST(test_wait_wakes_on_wake)
{
    struct outq *q = outq_memory(1000);
    struct later l = {q, true};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, later_main, &l), 0);
    int64_t ms = wait_ms(q, SIZE_MAX, 5000); /* as the sender's backoff sleeps */
    pthread_join(t, NULL);
    ck_assert_int_ge(ms, 40);
    ck_assert_int_lt(ms, 2000);
    /* A wake sent while nobody waits is kept for the next wait, once. */
    outq_wake(q);
    ck_assert_int_lt(wait_ms(q, SIZE_MAX, 5000), 100);
    ck_assert_int_ge(wait_ms(q, SIZE_MAX, 60), 60);
    outq_free(q);
}
END_TEST

START_TEST(test_push_below_min_does_not_end_wait)
{
    struct outq *q = outq_memory(1000);
    struct later l = {q, false};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, later_main, &l), 0);
    int64_t ms = wait_ms(q, 2, 300); /* one record arrives, two are wanted */
    pthread_join(t, NULL);
    ck_assert_int_ge(ms, 300);
    outq_free(q);
}
END_TEST

static Suite *outq_suite(void)
{
    Suite *s = suite_create("outq");
    TCase *tc = tcase_create("memory");
    tcase_add_test(tc, test_fifo_order_and_positions);
    tcase_add_test(tc, test_peek_limits);
    tcase_add_test(tc, test_commit_after_drop_for_space);
    tcase_add_test(tc, test_drop_oldest_counting);
    tcase_add_test(tc, test_chunk_bigger_than_limit);
    tcase_add_test(tc, test_empty_chunk);
    suite_add_tcase(s, tc);
    tc = tcase_create("threads");
    tcase_set_timeout(tc, 120); /* valgrind serialises the threads */
    tcase_add_test(tc, test_threads_nothing_lost);
    tcase_add_test(tc, test_threads_with_drops);
    tcase_add_test(tc, test_wait_times_out);
    tcase_add_test(tc, test_wait_wakes_on_push);
    tcase_add_test(tc, test_wait_wakes_on_wake);
    tcase_add_test(tc, test_push_below_min_does_not_end_wait);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(outq_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
