/*
 * check_sender.c - the sender's retry policy: what each HTTP status means,
 * the backoff curve with its ceiling and jitter, and Retry-After.
 */
#include "sender.h"
#include "testutil.h"

START_TEST(test_classify)
{
    ck_assert_int_eq(sender_classify(200), SEND_DELIVERED);
    ck_assert_int_eq(sender_classify(204), SEND_DELIVERED);
    ck_assert_int_eq(sender_classify(0), SEND_RETRY); /* transport error */
    ck_assert_int_eq(sender_classify(429), SEND_RETRY);
    ck_assert_int_eq(sender_classify(500), SEND_RETRY);
    ck_assert_int_eq(sender_classify(503), SEND_RETRY);
    ck_assert_int_eq(sender_classify(413), SEND_SPLIT);
    ck_assert_int_eq(sender_classify(400), SEND_REJECTED);
    ck_assert_int_eq(sender_classify(404), SEND_REJECTED);
    ck_assert_int_eq(sender_classify(422), SEND_REJECTED);
    ck_assert_int_eq(sender_classify(401), SEND_AUTH);
    ck_assert_int_eq(sender_classify(403), SEND_AUTH);
}
END_TEST

START_TEST(test_backoff)
{
    const int64_t base = 500000000, ceiling = 60000000000LL;
    ck_assert_int_eq(sender_backoff(1, base, ceiling, 0), base);
    ck_assert_int_eq(sender_backoff(2, base, ceiling, 0), 2 * base);
    ck_assert_int_eq(sender_backoff(5, base, ceiling, 0), 16 * base);
    ck_assert_int_eq(sender_backoff(40, base, ceiling, 0), ceiling);
    /* Jitter takes off at most a fifth. */
    ck_assert_int_eq(sender_backoff(3, base, ceiling, 1.0), (int64_t)(4 * base * 0.8));
    ck_assert_int_ge(sender_backoff(3, base, ceiling, 0.5), (int64_t)(4 * base * 0.8));
    ck_assert_int_le(sender_backoff(3, base, ceiling, 0.5), 4 * base);
}
END_TEST

START_TEST(test_retry_after)
{
    ck_assert_int_eq(sender_retry_after(" 120\r\n", 0), 120);
    ck_assert_int_eq(sender_retry_after("0", 0), 0);
    /* An HTTP date, 30 s after "now". */
    ck_assert_int_eq(sender_retry_after(" Wed, 21 Oct 2015 07:28:30 GMT\r\n", 1445412480), 30);
    ck_assert_int_eq(sender_retry_after(" Wed, 21 Oct 2015 07:28:00 GMT", 1445412500), 0);
    ck_assert_int_eq(sender_retry_after("soon", 0), -1);
}
END_TEST

static Suite *sender_suite(void)
{
    Suite *s = suite_create("sender");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_classify);
    tcase_add_test(tc, test_backoff);
    tcase_add_test(tc, test_retry_after);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sender_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
