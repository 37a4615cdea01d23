/*
 * check_file.c - collector/file.c: whole-file reads from offset 0, and reads
 * shared within a round: one snapshot for every input of the round, a fresh
 * read in the next, nothing shared outside rounds, between other paths, or
 * from a file closed since.
 */
#include <errno.h>
#include <unistd.h>

#include "testutil.h"

static char file_dir[] = "/tmp/check_file_XXXXXX";
static char file_path[600], other_path[600];

static void file_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static void file_setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(file_dir));
    snprintf(file_path, sizeof(file_path), "%s/stat", file_dir);
    snprintf(other_path, sizeof(other_path), "%s/other", file_dir);
}

static void file_teardown(void)
{
    unlink(file_path);
    unlink(other_path);
    rmdir(file_dir);
    memcpy(file_dir + strlen(file_dir) - 6, "XXXXXX", 6);
}

START_TEST(test_read_whole_file_again)
{
    struct sonde_file f;
    sonde_file_init(&f, file_path);
    ck_assert_int_eq(sonde_file_read(&f), -ENOENT);
    char big[20000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    file_write(file_path, big); /* grows the buffer past its first size */
    ck_assert_int_eq(sonde_file_read(&f), 0);
    ck_assert_uint_eq(f.len, sizeof(big) - 1);
    file_write(file_path, "short\n");
    ck_assert_int_eq(sonde_file_read(&f), 0);
    ck_assert_str_eq(f.buf, "short\n");
    sonde_file_close(&f);
}
END_TEST

START_TEST(test_shared_within_a_round)
{
    struct sonde_file a, b, c;
    sonde_file_init(&a, file_path);
    sonde_file_init(&b, file_path);
    sonde_file_init(&c, other_path);
    file_write(other_path, "other 1\n");

    /* Outside rounds nothing is shared. */
    file_write(file_path, "one\n");
    ck_assert_int_eq(sonde_file_read_shared(&a), 0);
    file_write(file_path, "two\n");
    ck_assert_int_eq(sonde_file_read_shared(&b), 0);
    ck_assert_str_eq(b.buf, "two\n");

    /* In a round the second reader gets the first one's snapshot. */
    file_round_begin();
    ck_assert_int_eq(sonde_file_read_shared(&a), 0);
    ck_assert_str_eq(a.buf, "two\n");
    file_write(file_path, "three, a longer line than the others\n");
    file_write(other_path, "other 2\n");
    ck_assert_int_eq(sonde_file_read_shared(&b), 0);
    ck_assert_str_eq(b.buf, "two\n");
    ck_assert_uint_eq(b.len, 4);
    ck_assert_int_eq(sonde_file_read_shared(&c), 0); /* another path: its own read */
    ck_assert_str_eq(c.buf, "other 2\n");

    /* The next round reads again. */
    file_round_begin();
    ck_assert_int_eq(sonde_file_read_shared(&b), 0);
    ck_assert_str_eq(b.buf, "three, a longer line than the others\n");
    ck_assert_int_eq(sonde_file_read_shared(&a), 0);
    ck_assert_str_eq(a.buf, "three, a longer line than the others\n");

    /* A file closed in the round is not copied from. */
    file_round_begin();
    ck_assert_int_eq(sonde_file_read_shared(&a), 0);
    sonde_file_close(&a);
    file_write(file_path, "four\n");
    ck_assert_int_eq(sonde_file_read_shared(&b), 0);
    ck_assert_str_eq(b.buf, "four\n");

    /* A failed read is not shared either. */
    file_round_begin();
    unlink(file_path);
    struct sonde_file d;
    sonde_file_init(&d, file_path);
    ck_assert_int_eq(sonde_file_read_shared(&d), -ENOENT);
    file_write(file_path, "five\n");
    sonde_file_close(&b);
    sonde_file_init(&b, file_path);
    ck_assert_int_eq(sonde_file_read_shared(&b), 0);
    ck_assert_str_eq(b.buf, "five\n");

    sonde_file_close(&b);
    sonde_file_close(&c);
    sonde_file_close(&d);
}
END_TEST

static Suite *file_suite(void)
{
    Suite *s = suite_create("file");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, file_setup, file_teardown);
    tcase_add_test(tc, test_read_whole_file_again);
    tcase_add_test(tc, test_shared_within_a_round);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(file_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
