/*
 * timex.c - the `timex` input: the kernel clock discipline state from
 * adjtimex(2) (modes 0: read only) as node_exporter 1.5's timex collector.
 * No line protocol: Telegraf has no timex input (its chrony and ntpq inputs
 * ask the NTP daemon, not the kernel).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>

#include "sonde.h"

struct timex_config {
    char unused; /* no options; keeps the struct non-empty (ISO C) */
};

static const struct sonde_option timex_options[] = {
    {NULL},
};

/* adjtimex(2) NOTES: freq, ppsfreq and stabil are ppm with a 16-bit
 * fractional part. */
#define TIMEX_PPM16FRAC (1000000.0 * 65536.0)

enum timex_metric {
    TIMEX_SYNC_STATUS,
    TIMEX_OFFSET,
    TIMEX_FREQ,
    TIMEX_MAXERROR,
    TIMEX_ESTERROR,
    TIMEX_STATUS,
    TIMEX_CONSTANT,
    TIMEX_TICK,
    TIMEX_PPSFREQ,
    TIMEX_JITTER,
    TIMEX_SHIFT,
    TIMEX_STABIL,
    TIMEX_JITCNT,
    TIMEX_CALCNT,
    TIMEX_ERRCNT,
    TIMEX_STBCNT,
    TIMEX_TAI,
    TIMEX_NMETRICS
};

/* node_exporter 1.5's names, types and help texts, in its order. */
static const struct sonde_family timex_families[TIMEX_NMETRICS] = {
    {"node_timex_sync_status", SONDE_GAUGE,
     "Is clock synchronized to a reliable server (1 = yes, 0 = no)."},
    {"node_timex_offset_seconds", SONDE_GAUGE,
     "Time offset in between local system and reference clock."},
    {"node_timex_frequency_adjustment_ratio", SONDE_GAUGE, "Local clock frequency adjustment."},
    {"node_timex_maxerror_seconds", SONDE_GAUGE, "Maximum error in seconds."},
    {"node_timex_estimated_error_seconds", SONDE_GAUGE, "Estimated error in seconds."},
    {"node_timex_status", SONDE_GAUGE, "Value of the status array bits."},
    {"node_timex_loop_time_constant", SONDE_GAUGE, "Phase-locked loop time constant."},
    {"node_timex_tick_seconds", SONDE_GAUGE, "Seconds between clock ticks."},
    {"node_timex_pps_frequency_hertz", SONDE_GAUGE, "Pulse per second frequency."},
    {"node_timex_pps_jitter_seconds", SONDE_GAUGE, "Pulse per second jitter."},
    {"node_timex_pps_shift_seconds", SONDE_GAUGE, "Pulse per second interval duration."},
    {"node_timex_pps_stability_hertz", SONDE_GAUGE,
     "Pulse per second stability, average of recent frequency changes."},
    {"node_timex_pps_jitter_total", SONDE_COUNTER,
     "Pulse per second count of jitter limit exceeded events."},
    {"node_timex_pps_calibration_total", SONDE_COUNTER,
     "Pulse per second count of calibration intervals."},
    {"node_timex_pps_error_total", SONDE_COUNTER, "Pulse per second count of calibration errors."},
    {"node_timex_pps_stability_exceeded_total", SONDE_COUNTER,
     "Pulse per second count of stability limit exceeded events."},
    {"node_timex_tai_offset_seconds", SONDE_GAUGE, "International Atomic Time (TAI) offset."},
};

/*
 * Converts what adjtimex returned into node_exporter's units. `state` is
 * adjtimex's return value (TIME_OK ... TIME_ERROR). offset and jitter are
 * in nanoseconds when STA_NANO is set, microseconds otherwise; maxerror,
 * esterror and tick are always microseconds.
 */
static void timex_convert(const struct timex *tx, int state, double out[TIMEX_NMETRICS])
{
    double divisor = (tx->status & STA_NANO) ? 1e9 : 1e6;
    out[TIMEX_SYNC_STATUS] = state == TIME_ERROR ? 0.0 : 1.0;
    out[TIMEX_OFFSET] = (double)tx->offset / divisor;
    out[TIMEX_FREQ] = 1.0 + (double)tx->freq / TIMEX_PPM16FRAC;
    out[TIMEX_MAXERROR] = (double)tx->maxerror / 1e6;
    out[TIMEX_ESTERROR] = (double)tx->esterror / 1e6;
    out[TIMEX_STATUS] = (double)tx->status;
    out[TIMEX_CONSTANT] = (double)tx->constant;
    out[TIMEX_TICK] = (double)tx->tick / 1e6;
    out[TIMEX_PPSFREQ] = (double)tx->ppsfreq / TIMEX_PPM16FRAC;
    out[TIMEX_JITTER] = (double)tx->jitter / divisor;
    out[TIMEX_SHIFT] = (double)tx->shift; /* log2 seconds, exported raw as upstream does */
    out[TIMEX_STABIL] = (double)tx->stabil / TIMEX_PPM16FRAC;
    out[TIMEX_JITCNT] = (double)tx->jitcnt;
    out[TIMEX_CALCNT] = (double)tx->calcnt;
    out[TIMEX_ERRCNT] = (double)tx->errcnt;
    out[TIMEX_STBCNT] = (double)tx->stbcnt;
    out[TIMEX_TAI] = (double)tx->tai;
}

static void timex_emit(const struct timex *tx, int state, struct sonde_batch *batch)
{
    double v[TIMEX_NMETRICS];
    timex_convert(tx, state, v);
    for (size_t i = 0; i < TIMEX_NMETRICS; i++)
        sonde_emit(batch, &timex_families[i], v[i], NULL);
}

static int timex_init(void **state, const void *config, const struct sonde_context *ctx)
{
    (void)config;
    (void)ctx;
    *state = NULL; /* nothing to keep: one system call per read */
    return 0;
}

static int timex_read(void *state, struct sonde_batch *batch)
{
    (void)state;
    if (!batch->want_series)
        return 0; /* nothing for line protocol */
    struct timex tx;
    memset(&tx, 0, sizeof(tx)); /* modes 0: read, never adjust */
    int rc = adjtimex(&tx);
    if (rc < 0)
        return -errno;
    timex_emit(&tx, rc, batch);
    return 0;
}

static void timex_destroy(void *state)
{
    (void)state;
}

const struct sonde_plugin sonde_plugin_timex = {
    .name = "timex",                                       /* node_exporter's collector */
    .kind = SONDE_INPUT,                                   /* reads the host */
    .summary = "Kernel clock discipline state (adjtimex)", /* for --help and docs */
    .config_size = sizeof(struct timex_config),            /* no options */
    .options = timex_options,                              /* empty table */
    .init = timex_init,                                    /* no state */
    .read = timex_read,                                    /* one adjtimex(2) per cycle */
    .write = NULL,                                         /* inputs do not write */
    .destroy = timex_destroy,                              /* nothing to free */
};
