/*
 * check_remote_write.c - the remote_write encoder: records that together
 * form a WriteRequest, sorted labels with __name__, external labels,
 * millisecond timestamps, stale markers for vanished series, and the record
 * framing the sender splits on.
 */
#include <math.h>

#include "../../plugins/remote_write.c"
#include "testutil.h"

static const struct sonde_family fam_a = {"node_load1", SONDE_GAUGE, "Load."};
static const struct sonde_family fam_b = {"node_cpu_seconds_total", SONDE_COUNTER, "CPU."};

static void *rw_state(const char *job, const char *instance)
{
    static char *keys[] = {"dc"}, *values[] = {"par1"};
    static struct remote_write_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.url = "http://127.0.0.1:1/api/v1/write";
    cfg.bearer_token = "";
    cfg.instance = (char *)instance;
    cfg.job = (char *)job;
    cfg.external_labels = (struct sonde_string_map){keys, values, 1};
    struct sonde_context ctx = {.hostname = "box"};
    void *state;
    ck_assert_int_eq(remote_write_init(&state, &cfg, &ctx), 0);
    return state;
}

static Prometheus__WriteRequest *rw_decode(const struct sonde_buf *out)
{
    Prometheus__WriteRequest *wr =
        prometheus__write_request__unpack(NULL, out->len, (const uint8_t *)out->data);
    ck_assert_ptr_nonnull(wr);
    return wr;
}

static const char *rw_label(const Prometheus__TimeSeries *ts, const char *name)
{
    for (size_t i = 0; i < ts->n_labels; i++)
        if (strcmp(ts->labels[i]->name, name) == 0)
            return ts->labels[i]->value;
    return NULL;
}

START_TEST(test_encode_labels_and_values)
{
    void *st = rw_state("sonde", "");
    struct sonde_batch *b = batch_new("cpu");
    b->timestamp_ns = 1700000000123456789LL;
    sonde_emit(b, &fam_b, 12.5, "mode", "user", "cpu", "0", NULL);
    sonde_emit(b, &fam_a, 0.25, "serial", "", NULL);
    struct sonde_buf out = {0};
    size_t n = 0;
    ck_assert_int_eq(remote_write_encode(st, b, &out, &n), 0);
    ck_assert_uint_eq(n, 2);
    Prometheus__WriteRequest *wr = rw_decode(&out);
    ck_assert_uint_eq(wr->n_timeseries, 2);
    const Prometheus__TimeSeries *ts = wr->timeseries[0];
    /* Sorted by name: __name__ first, then cpu, dc, instance, job, mode. */
    const char *order[] = {"__name__", "cpu", "dc", "instance", "job", "mode"};
    ck_assert_uint_eq(ts->n_labels, 6);
    for (size_t i = 0; i < 6; i++)
        ck_assert_str_eq(ts->labels[i]->name, order[i]);
    ck_assert_str_eq(rw_label(ts, "__name__"), "node_cpu_seconds_total");
    ck_assert_str_eq(rw_label(ts, "instance"), "box");
    ck_assert_str_eq(rw_label(ts, "job"), "sonde");
    ck_assert_uint_eq(ts->n_samples, 1);
    ck_assert_double_eq(ts->samples[0]->value, 12.5);
    ck_assert_int_eq(ts->samples[0]->timestamp, 1700000000123LL);
    ck_assert_str_eq(rw_label(wr->timeseries[1], "__name__"), "node_load1");
    ck_assert_ptr_null(rw_label(wr->timeseries[1], "serial")); /* empty: left out */
    prometheus__write_request__free_unpacked(wr, NULL);

    /* Framing: two records, each starting with the field-1 tag. */
    size_t first = remote_write_record_size(out.data, out.len);
    ck_assert_uint_gt(first, 2);
    ck_assert_uint_lt(first, out.len);
    ck_assert_uint_eq(first + remote_write_record_size(out.data + first, out.len - first), out.len);
    sonde_buf_free(&out);
    batch_free(b);
    remote_write_destroy(st);
}
END_TEST

START_TEST(test_stale_markers_for_vanished_series)
{
    void *st = rw_state("", "web1");
    struct sonde_batch *b1 = batch_new("net");
    b1->timestamp_ns = 1000000000LL;
    sonde_emit(b1, &fam_b, 1, "cpu", "0", NULL);
    sonde_emit(b1, &fam_b, 2, "cpu", "1", NULL);
    struct sonde_buf out = {0};
    size_t n = 0;
    remote_write_encode(st, b1, &out, &n);
    ck_assert_uint_eq(n, 2);

    /* cpu 1 goes away; another input's batch does not make it stale. */
    struct sonde_batch *other = batch_new("mem");
    other->timestamp_ns = 1500000000LL;
    sonde_emit(other, &fam_a, 1, NULL);
    out.len = 0;
    n = 0;
    remote_write_encode(st, other, &out, &n);
    ck_assert_uint_eq(n, 1);

    struct sonde_batch *b2 = batch_new("net");
    b2->timestamp_ns = 2000000000LL;
    sonde_emit(b2, &fam_b, 3, "cpu", "0", NULL);
    out.len = 0;
    n = 0;
    remote_write_encode(st, b2, &out, &n);
    ck_assert_uint_eq(n, 2);
    Prometheus__WriteRequest *wr = rw_decode(&out);
    ck_assert_uint_eq(wr->n_timeseries, 2);
    const Prometheus__TimeSeries *stale = wr->timeseries[1];
    ck_assert_str_eq(rw_label(stale, "cpu"), "1");
    ck_assert_str_eq(rw_label(stale, "instance"), "web1");
    ck_assert_ptr_null(rw_label(stale, "job")); /* job: "" leaves it out */
    union {
        double d;
        uint64_t u;
    } v = {.d = stale->samples[0]->value};
    ck_assert_uint_eq(v.u, REMOTE_WRITE_STALE_NAN);
    ck_assert_int_eq(stale->samples[0]->timestamp, 2000);
    prometheus__write_request__free_unpacked(wr, NULL);

    /* The next batch has nothing new to mark. */
    struct sonde_batch *b3 = batch_new("net");
    b3->timestamp_ns = 3000000000LL;
    sonde_emit(b3, &fam_b, 4, "cpu", "0", NULL);
    out.len = 0;
    n = 0;
    remote_write_encode(st, b3, &out, &n);
    ck_assert_uint_eq(n, 1);
    sonde_buf_free(&out);
    batch_free(b1);
    batch_free(other);
    batch_free(b2);
    batch_free(b3);
    remote_write_destroy(st);
}
END_TEST

START_TEST(test_stale_markers_for_inputs_gone)
{
    void *st = rw_state("sonde", "");
    struct sonde_batch *sys = batch_new("system"), *cpu = batch_new("cpu");
    sys->timestamp_ns = cpu->timestamp_ns = 1000000000LL;
    sonde_emit(sys, &fam_a, 1, NULL);
    sonde_emit(cpu, &fam_b, 2, "cpu", "0", NULL);
    struct sonde_buf out = {0};
    size_t n = 0;
    remote_write_encode(st, sys, &out, &n);
    remote_write_encode(st, cpu, &out, &n);
    out.len = 0;
    n = 0;
    const char *remaining[] = {"cpu"};
    ck_assert_int_eq(remote_write_inputs_gone(st, remaining, 1, 5000000000LL, &out, &n), 0);
    ck_assert_uint_eq(n, 1); /* node_load1 only: cpu goes on */
    Prometheus__WriteRequest *wr = rw_decode(&out);
    ck_assert_str_eq(rw_label(wr->timeseries[0], "__name__"), "node_load1");
    ck_assert_int_eq(wr->timeseries[0]->samples[0]->timestamp, 5000);
    ck_assert(isnan(wr->timeseries[0]->samples[0]->value));
    prometheus__write_request__free_unpacked(wr, NULL);
    out.len = 0;
    n = 0;
    remote_write_inputs_gone(st, remaining, 1, 6000000000LL, &out, &n);
    ck_assert_uint_eq(n, 0); /* marked once */
    sonde_buf_free(&out);
    batch_free(sys);
    batch_free(cpu);
    remote_write_destroy(st);
}
END_TEST

START_TEST(test_request)
{
    void *st = rw_state("sonde", "");
    struct sonde_request req = {0};
    ck_assert_int_eq(remote_write_request(st, true, &req), 0);
    ck_assert_int_eq(req.compression, SONDE_COMPRESS_SNAPPY);
    ck_assert_str_eq(req.content_type, "application/x-protobuf");
    ck_assert_str_eq(req.headers[0], "X-Prometheus-Remote-Write-Version: 0.1.0");
    ck_assert_ptr_null(req.headers[1]);
    remote_write_destroy(st);
}
END_TEST

static Suite *remote_write_suite(void)
{
    Suite *s = suite_create("remote_write");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_encode_labels_and_values);
    tcase_add_test(tc, test_stale_markers_for_vanished_series);
    tcase_add_test(tc, test_stale_markers_for_inputs_gone);
    tcase_add_test(tc, test_request);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(remote_write_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
