/*
 * test_policyd_table.c -- the policy delegation join table (milter/policyd_table.c):
 * a record is taken only by its own 4-tuple, sender and recipient, once; a new
 * connection on the same 4-tuple forgets what an earlier one left; a full table
 * drops the oldest and counts it. Never: depends on time (the age bound is not
 * exercised here; tests/e2e/delegation.sh shows the counts of a real run).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policyd_table.h"

static struct policyd_key
key(unsigned client_port)
{
    struct policyd_key k;

    memset(&k, 0, sizeof k);
    k.client_ip[10] = k.client_ip[11] = k.server_ip[10] = k.server_ip[11] = 0xff;
    k.client_ip[12] = k.server_ip[12] = 127;
    k.client_ip[15] = k.server_ip[15] = 1;
    k.client_port = client_port;
    k.server_port = 25;
    return k;
}

static void
put(unsigned port, const char *sender, const char *rcpt, const char *fp)
{
    struct policyd_key k = key(port);
    struct policyd_req r;

    memset(&r, 0, sizeof r);
    r.sender = strdup(sender);
    r.recipient = strdup(rcpt);
    r.ccert_fingerprint = strdup(fp);
    r.ccert_pubkey_fingerprint = strdup("PK");
    assert_int_equal(policyd_table_put(&k, &r), 0);
    policyd_req_free(&r);
}

/* 1 and the fingerprint, or 0 */
static int
take(unsigned port, const char *sender, const char *rcpt, const char *want_fp)
{
    struct policyd_key k = key(port);
    char *fp, *pkfp;
    int rc = policyd_table_take(&k, sender, rcpt, &fp, &pkfp);

    if (rc == 1) {
        assert_string_equal(fp, want_fp);
        assert_string_equal(pkfp, "PK");
        free(fp);
        free(pkfp);
    }
    return rc;
}

static void
test_join(void **state)
{
    struct policyd_table_stats st;
    struct policyd_key k = key(40000);

    (void)state;
    policyd_table_clear();
    put(40000, "a@p.test", "r@x.test", "FP1");
    assert_int_equal(take(40001, "a@p.test", "r@x.test", "FP1"), 0);   /* other port */
    assert_int_equal(take(40000, "b@p.test", "r@x.test", "FP1"), 0);   /* other sender */
    assert_int_equal(take(40000, "a@p.test", "s@x.test", "FP1"), 0);   /* other rcpt */
    assert_int_equal(take(40000, "A@P.test", "R@x.TEST", "FP1"), 1);   /* case aside */
    assert_int_equal(take(40000, "a@p.test", "r@x.test", "FP1"), 0);   /* taken once */
    /* the newest of two records for the same recipient wins */
    put(40000, "", "r@x.test", "OLD");
    put(40000, "", "r@x.test", "NEW");
    assert_int_equal(take(40000, "", "r@x.test", "NEW"), 1);
    /* a reconnect on the same 4-tuple forgets the earlier connection's record */
    policyd_table_forget(&k);
    assert_int_equal(take(40000, "", "r@x.test", "OLD"), 0);
    policyd_table_stats(&st);
    assert_int_equal(st.taken, 2);
    assert_int_equal(st.dropped_connect, 1);
    assert_int_equal(st.missed, 5);
    assert_int_equal(st.entries, 0);
}

static void
test_bound(void **state)
{
    struct policyd_table_stats before, after;

    (void)state;
    policyd_table_clear();
    assert_int_equal(policyd_table_init(0, 60), -1);
    assert_int_equal(policyd_table_init(3, 60), 0);
    policyd_table_stats(&before);
    for (unsigned i = 0; i < 5; i++)
        put(50000 + i, "a@p.test", "r@x.test", "FP");
    policyd_table_stats(&after);
    assert_int_equal(after.entries, 3);
    assert_int_equal(after.dropped_full - before.dropped_full, 2);
    /* the two oldest went */
    assert_int_equal(take(50000, "a@p.test", "r@x.test", "FP"), 0);
    assert_int_equal(take(50001, "a@p.test", "r@x.test", "FP"), 0);
    assert_int_equal(take(50004, "a@p.test", "r@x.test", "FP"), 1);
    policyd_table_clear();
    policyd_table_stats(&after);
    assert_int_equal(after.entries, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join),
        cmocka_unit_test(test_bound),
    };

    return cmocka_run_group_tests_name("policyd_table", tests, NULL, NULL);
}
