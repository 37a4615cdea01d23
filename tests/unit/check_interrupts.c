/*
 * check_interrupts.c - unit tests of plugins/interrupts.c: node_exporter's
 * reading of /proc/interrupts (captured here; odd lines whose node_exporter
 * output was recorded: repeated IRQ, signed number, short ERR/MIS lines,
 * a count near 2^64) and Telegraf's points, with and without cpu_as_tag.
 */
#include "../../plugins/interrupts.c"

#include "testutil.h"

static int interrupts_read_dir(const char *root, bool cpu_as_tag, struct sonde_batch *b)
{
    char procfs[512];
    snprintf(procfs, sizeof(procfs), "%s/proc", root);
    struct sonde_context ctx = {.procfs = procfs,
                                .sysfs = "/sys",
                                .rootfs = "/",
                                .hostname = "t",
                                .instance = "interrupts"};
    struct interrupts_config cfg = {.cpu_as_tag = cpu_as_tag};
    void *state = NULL;
    ck_assert_int_eq(sonde_plugin_interrupts.init(&state, &cfg, &ctx), 0);
    int rc = sonde_plugin_interrupts.read(state, b);
    sonde_plugin_interrupts.destroy(state);
    batch_finish(b);
    return rc;
}

/* The value of node_interrupts_total{cpu,type}, checking info and devices. */
static double irq_value(const struct sonde_batch *b, const char *cpu, const char *type,
                        const char *info, const char *devices)
{
    const struct sonde_series *s =
        series_find(b, "node_interrupts_total", "cpu", cpu, "type", type, NULL);
    ck_assert_msg(s != NULL, "node_interrupts_total{cpu=%s,type=%s} missing", cpu, type);
    ck_assert_uint_eq(s->nlabels, 4);
    ck_assert_str_eq(label_get(s->labels, s->nlabels, "info"), info);
    ck_assert_str_eq(label_get(s->labels, s->nlabels, "devices"), devices);
    return s->value;
}

static int64_t lp_int(const struct sonde_point *p, const char *key)
{
    ck_assert_ptr_nonnull(p);
    const struct sonde_field *f = field_get(p, key);
    ck_assert_msg(f != NULL, "field %s missing", key);
    ck_assert_int_eq(f->type, SONDE_FIELD_INT);
    return f->v.i;
}

static size_t points_named(const struct sonde_batch *b, const char *measurement)
{
    size_t n = 0;
    for (size_t i = 0; i < b->npoints; i++)
        n += strcmp(b->points[i]->measurement, measurement) == 0;
    return n;
}

START_TEST(test_read_fixture)
{
    struct sonde_batch *b = batch_new("interrupts");
    ck_assert_int_eq(interrupts_read_dir(FIXTURES "/interrupts", false, b), 0);
    ck_assert_uint_eq(b->skipped, 0);
    ck_assert_uint_eq(b->nseries, 33 * 2); /* 35 lines but ERR and MIS, two CPUs */
    ck_assert_double_eq(irq_value(b, "0", "LOC", "Local timer interrupts", ""), 716036.0);
    ck_assert_double_eq(irq_value(b, "1", "LOC", "Local timer interrupts", ""), 732765.0);
    ck_assert_double_eq(irq_value(b, "0", "24", "IO-APIC", "5-edge ACPI:Ged"), 1.0);
    ck_assert_double_eq(irq_value(b, "1", "29", "PCI-MSIX-0000:00:01.0", "1-edge virtio0-inflate"),
                        0.0);
    ck_assert_ptr_null(series_find(b, "node_interrupts_total", "type", "ERR", NULL));
    const struct sonde_series *s = series_find(b, "node_interrupts_total", NULL);
    ck_assert_int_eq(s->family->type, SONDE_COUNTER);
    ck_assert_str_eq(s->family->help, "Interrupt details.");

    ck_assert_uint_eq(points_named(b, "interrupts"), 35);
    ck_assert_uint_eq(points_named(b, "soft_interrupts"), 10);
    const struct sonde_point *p = point_find(b, "interrupts", "irq", "LOC", NULL);
    ck_assert_str_eq(label_get(p->tags, p->ntags, "type"), "Local timer interrupts");
    ck_assert_str_eq(label_get(p->tags, p->ntags, "device"), ""); /* left out by the encoder */
    ck_assert_int_eq(lp_int(p, "CPU0"), 716036);
    ck_assert_int_eq(lp_int(p, "CPU1"), 732765);
    ck_assert_int_eq(lp_int(p, "total"), 716036 + 732765);
    ck_assert_uint_eq(p->nfields, 3);
    p = point_find(b, "interrupts", "irq", "24", NULL);
    ck_assert_str_eq(label_get(p->tags, p->ntags, "type"), "IO-APIC");
    ck_assert_str_eq(label_get(p->tags, p->ntags, "device"), "5-edge ACPI:Ged");
    p = point_find(b, "interrupts", "irq", "ERR", NULL); /* Telegraf keeps ERR: one CPU field */
    ck_assert_int_eq(lp_int(p, "CPU0"), 0);
    ck_assert_ptr_null(field_get(p, "CPU1"));
    ck_assert_str_eq(label_get(p->tags, p->ntags, "type"), "");
    p = point_find(b, "soft_interrupts", "irq", "NET_RX", NULL);
    ck_assert_int_eq(lp_int(p, "CPU0"), 7781339);
    ck_assert_int_eq(lp_int(p, "CPU1"), 7362315);
    ck_assert_int_eq(lp_int(p, "total"), 7781339 + 7362315);
    batch_free(b);
}
END_TEST

START_TEST(test_cpu_as_tag)
{
    struct sonde_batch *b = batch_new("interrupts");
    b->want_series = false;
    ck_assert_int_eq(interrupts_read_dir(FIXTURES "/interrupts", true, b), 0);
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(points_named(b, "interrupts"), 33 * 2 + 2); /* ERR and MIS: one CPU */
    ck_assert_uint_eq(points_named(b, "soft_interrupts"), 20);
    const struct sonde_point *p = point_find(b, "interrupts", "irq", "LOC", "cpu", "cpu1", NULL);
    ck_assert_int_eq(lp_int(p, "count"), 732765);
    ck_assert_uint_eq(p->nfields, 1);
    ck_assert_str_eq(label_get(p->tags, p->ntags, "type"), "Local timer interrupts");
    p = point_find(b, "soft_interrupts", "irq", "TIMER", "cpu", "cpu0", NULL);
    ck_assert_int_eq(lp_int(p, "count"), 141631);
    batch_free(b);
}
END_TEST

/* Expected series are node_exporter 1.5's output for the same file without
 * its line "1:" (which makes node_exporter fail; we skip it alone). */
START_TEST(test_read_odd)
{
    struct sonde_batch *b = batch_new("interrupts");
    ck_assert_int_eq(interrupts_read_dir(FIXTURES "/interrupts/odd", false, b), 0);
    ck_assert_uint_eq(b->nseries, 12);
    ck_assert_double_eq(irq_value(b, "0", "0", "IO-APIC", "2-edge timer"), 44.0);
    ck_assert_double_eq(irq_value(b, "1", "8", "IO-APIC", "8-edge rtc0 second"), 6.0);
    ck_assert_double_eq(irq_value(b, "0", "8", "IO-APIC", "8-edge rtc0 second"), 5.0);
    ck_assert_double_eq(irq_value(b, "0", "42", "PCI-MSI", "512000-edge ahci[0000:00:1f.2]"), 3.0);
    ck_assert_double_eq(irq_value(b, "1", "-1", "weird", "chip"), 2.0);
    ck_assert_double_eq(irq_value(b, "0", "LOC", "Local timer interrupts", ""),
                        18446744073709551615.0);
    ck_assert_double_eq(irq_value(b, "1", "NMI", "Non-maskable interrupts", ""), 0.0);
    ck_assert_ptr_null(series_find(b, "node_interrupts_total", "type", "1", NULL));
    /* "1:" for both sides; for Telegraf's also LOC (its count does not fit
     * the int64 Telegraf parses it as) and softirqs' BOGUS. */
    ck_assert_uint_eq(b->skipped, 4);

    /* Telegraf: every other line, the repeated 8 twice; CPU fields are
     * named by column (CPU0, CPU1) whatever the header says. */
    ck_assert_uint_eq(points_named(b, "interrupts"), 8);
    ck_assert_ptr_null(point_find(b, "interrupts", "irq", "LOC", NULL));
    const struct sonde_point *p = point_find(b, "interrupts", "irq", "-1", NULL);
    ck_assert_int_eq(lp_int(p, "CPU1"), 2);
    ck_assert_str_eq(label_get(p->tags, p->ntags, "type"), "weird");
    ck_assert_str_eq(label_get(p->tags, p->ntags, "device"), "chip");
    p = point_find(b, "interrupts", "irq", "8", "device", "8-edge rtc0", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(
        point_find(b, "interrupts", "irq", "8", "device", "8-edge rtc0 second", NULL));
    ck_assert_uint_eq(points_named(b, "soft_interrupts"), 2);
    p = point_find(b, "soft_interrupts", "irq", "TIMER", NULL);
    ck_assert_int_eq(lp_int(p, "CPU0"), 3);
    ck_assert_int_eq(lp_int(p, "total"), 3);
    ck_assert_ptr_null(field_get(p, "CPU1"));
    batch_free(b);
}
END_TEST

START_TEST(test_read_empty)
{
    struct sonde_batch *b = batch_new("interrupts");
    ck_assert_int_eq(interrupts_read_dir(FIXTURES "/interrupts/empty", false, b), -EINVAL);
    ck_assert_uint_eq(b->nseries, 0);
    ck_assert_uint_eq(b->npoints, 0);
    batch_free(b);
    b = batch_new("interrupts");
    ck_assert_int_eq(interrupts_read_dir(FIXTURES "/interrupts/no-such-dir", false, b), -ENOENT);
    batch_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("interrupts");
    TCase *tc = tcase_create("interrupts");
    tcase_add_test(tc, test_read_fixture);
    tcase_add_test(tc, test_cpu_as_tag);
    tcase_add_test(tc, test_read_odd);
    tcase_add_test(tc, test_read_empty);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}
