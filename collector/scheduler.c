/*
 * scheduler.c - the collection thread. Design note:
 * - Inputs read one at a time on this thread: procfs and sysfs dislike
 *   parallel readers, and host reads take microseconds.
 * - Each instance has its own interval; ticks are aligned to multiples of
 *   the interval on the wall clock (as Telegraf's round_interval), so
 *   hosts sample at the same instants.
 * - A read that overruns its interval skips the ticks it missed and counts
 *   them (sonde_input_cycles_skipped_total); it never queues a backlog.
 * - The first round runs at once, so the endpoint has data after start.
 * - Stop is a flag plus a condition variable on CLOCK_MONOTONIC, so the
 *   thread wakes immediately on shutdown or reload.
 * - With a round limit (--cycles, for leak checks and benchmarks) the
 *   thread asks the main thread to stop, as SIGTERM would.
 */
#include <errno.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

/* First aligned tick after `now_mono` for an interval. */
static int64_t scheduler_aligned(int64_t now_mono, int64_t interval)
{
    int64_t wall = clock_realtime_ns();
    int64_t until_tick = interval - wall % interval;
    return now_mono + until_tick;
}

static void scheduler_advance(struct agent_input *in, int64_t now)
{
    in->next_ns += in->interval_ns;
    if (in->next_ns <= now) {
        int64_t missed = (now - in->next_ns) / in->interval_ns + 1;
        in->cycles_skipped += (uint64_t)missed;
        in->next_ns += missed * in->interval_ns;
    }
}

/* Ends a round: self-metrics, and the round limit. */
static void scheduler_round_done(struct agent *agent)
{
    agent_publish_self(agent);
    agent->rounds++;
    if (agent->max_rounds && agent->rounds == agent->max_rounds)
        kill(getpid(), SIGTERM);
}

static void *scheduler_main(void *arg)
{
    struct agent *agent = arg;
    int64_t now = clock_monotonic_ns();
    file_round_begin();
    for (size_t i = 0; i < agent->ninputs; i++) {
        struct agent_input *in = &agent->inputs[i];
        agent_collect(agent, in);
        in->next_ns = scheduler_aligned(clock_monotonic_ns(), in->interval_ns);
    }
    scheduler_round_done(agent);

    pthread_mutex_lock(&agent->wake_lock);
    while (!agent->stop) {
        int64_t next = INT64_MAX;
        for (size_t i = 0; i < agent->ninputs; i++)
            if (agent->inputs[i].ready && agent->inputs[i].next_ns < next)
                next = agent->inputs[i].next_ns;
        if (next == INT64_MAX)
            next = clock_monotonic_ns() + 3600 * (int64_t)1000000000;
        struct timespec ts = {.tv_sec = next / 1000000000, .tv_nsec = next % 1000000000};
        int rc = 0;
        while (!agent->stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&agent->wake, &agent->wake_lock, &ts);
        if (agent->stop)
            break;
        pthread_mutex_unlock(&agent->wake_lock);

        now = clock_monotonic_ns();
        bool collected = false;
        file_round_begin();
        for (size_t i = 0; i < agent->ninputs; i++) {
            struct agent_input *in = &agent->inputs[i];
            if (!in->ready || in->next_ns > now)
                continue;
            agent_collect(agent, in);
            collected = true;
            scheduler_advance(in, clock_monotonic_ns());
        }
        if (collected)
            scheduler_round_done(agent);
        pthread_mutex_lock(&agent->wake_lock);
    }
    pthread_mutex_unlock(&agent->wake_lock);
    return NULL;
}

int scheduler_start(struct agent *agent)
{
    agent->stop = false;
    int rc = pthread_create(&agent->thread, NULL, scheduler_main, agent);
    if (rc)
        return -rc;
    agent->running = true;
    return 0;
}

void scheduler_stop(struct agent *agent)
{
    if (!agent->running)
        return;
    pthread_mutex_lock(&agent->wake_lock);
    agent->stop = true;
    pthread_cond_signal(&agent->wake);
    pthread_mutex_unlock(&agent->wake_lock);
    pthread_join(agent->thread, NULL);
    agent->running = false;
}
