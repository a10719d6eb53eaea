/*
 * test_posture.c -- table-driven tests of policy/posture.c: the one severity
 * order, which recipient summarises a message (delivered or not), and the
 * display rules; and esc.c's terminal modes, which only tlspolicy(1) uses.
 * Never: compares against output produced by the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esc.h"
#include "posture.h"
#include "table_test.h"

enum { A = POLICY_ACTION_ACCEPT, T = POLICY_ACTION_TAG, Q = POLICY_ACTION_QUARANTINE,
       TF = POLICY_ACTION_TEMPFAIL, R = POLICY_ACTION_REJECT };
enum { P = POLICY_VERDICT_PASS, N = POLICY_VERDICT_NONE, F = POLICY_VERDICT_FAIL };
enum { E = POLICY_MODE_ENFORCE, M = POLICY_MODE_MONITOR };

struct rc { int action, verdict, mode; bool refused; };

struct summary_case {
    const char *name;
    struct rc r[4];
    size_t n;
    bool delivered;
    int want;                     /* index, -1 for NULL */
};

static const struct summary_case cases[] = {
    { "no recipient: NULL", { { 0 } }, 0, true, -1 },
    { "one recipient", { { A, P, E, false } }, 1, true, 0 },
    { "action first: tag over accept", { { A, F, E, false }, { T, F, E, false } }, 2, true, 1 },
    { "verdict next: fail over none over pass",
      { { A, P, E, false }, { A, F, E, false }, { A, N, E, false } }, 3, true, 1 },
    { "none over pass", { { A, P, E, false }, { A, N, E, false } }, 2, true, 1 },
    { "mode last: enforce over monitor", { { T, F, M, false }, { T, F, E, false } }, 2, true, 1 },
    { "tie: the first wins", { { T, F, E, false }, { T, F, E, false } }, 2, true, 0 },
    { "delivered: refused recipients left out",
      { { R, F, E, true }, { A, N, E, false } }, 2, true, 1 },
    { "delivered, every one refused: reject over tempfail",
      { { TF, F, E, true }, { R, F, E, true } }, 2, true, 1 },
    { "not delivered: refused first",
      { { R, F, M, false }, { TF, F, E, true } }, 2, false, 1 },
    { "not delivered: monitored reject over tag", { { T, F, E, false }, { R, F, M, false } },
      2, false, 1 },
};

static void
run_summary(void **state)
{
    const struct summary_case *c = *state;
    struct policy_result res[4];
    struct posture_rcpt pr[4];
    const struct posture_rcpt *got;
    size_t i;

    memset(res, 0, sizeof res);
    for (i = 0; i < c->n; i++) {
        res[i].connector = "c";
        res[i].action = (enum policy_action)c->r[i].action;
        res[i].verdict = (enum policy_verdict)c->r[i].verdict;
        res[i].mode = (enum policy_mode)c->r[i].mode;
        pr[i].rcpt = "r";
        pr[i].res = &res[i];
        pr[i].refused = c->r[i].refused;
    }
    got = posture_summary(pr, c->n, c->delivered);
    if (c->want < 0) {
        if (got != NULL)
            fail_msg("%s: got %td, want NULL", c->name, got - pr);
    } else if (got == NULL || got - pr != c->want)
        fail_msg("%s: got %td, want %d", c->name, got ? got - pr : -1, c->want);
}

struct show_case {
    const char *name;
    const char *issuer_cn, *issuer_dn, *tls_version;
    bool tls;
    const char *want_issuer, *want_version;
};

static const struct show_case shows[] = {
    { "issuer: CN first", "CA 1", "CN=CA 1,O=x", "TLSv1.3", true, "CA 1", "TLSv1.3" },
    { "issuer: DN when no CN", NULL, "O=x", "TLSv1.2", true, "O=x", "TLSv1.2" },
    { "issuer: none", NULL, NULL, NULL, false, NULL, "none" },
    { "version: empty macro is none", NULL, NULL, "", true, NULL, "none" },
};

static void
run_show(void **state)
{
    const struct show_case *c = *state;
    struct policy_facts f;
    const char *got;

    memset(&f, 0, sizeof f);
    f.issuer_cn = (char *)(uintptr_t)c->issuer_cn;
    f.issuer_dn = (char *)(uintptr_t)c->issuer_dn;
    f.tls_version = (char *)(uintptr_t)c->tls_version;
    f.tls = c->tls;
    got = posture_issuer(&f);
    if ((got == NULL) != (c->want_issuer == NULL) ||
        (got != NULL && strcmp(got, c->want_issuer) != 0))
        fail_msg("%s: issuer %s, want %s", c->name, got ? got : "NULL",
                 c->want_issuer ? c->want_issuer : "NULL");
    assert_string_equal(posture_tls_version(&f), c->want_version);
}

struct esc_case {
    const char *name, *in;
    enum esc_mode how;
    const char *want;
};

static const struct esc_case escs[] = {
    { "text: CR LF as \\x", "a\r\nb", ESC_TEXT, "a\\x0D\\x0Ab" },
    { "text: backslash doubled", "a\\b", ESC_TEXT, "a\\\\b" },
    { "text: UTF-8 kept, Latin-1 escaped", "Z\xc3\xbc Z\xfc", ESC_TEXT, "Z\xc3\xbc Z\\xFC" },
    { "diag: backslash kept", "a\\b\x1b", ESC_DIAG, "a\\b\\x1B" },
    { "reply: quote and backslash kept", "a\"b\\", ESC_REPLY, "a\"b\\" },
};

static void
run_esc(void **state)
{
    const struct esc_case *c = *state;
    struct strbuf b;

    strbuf_init(&b);
    esc_put(&b, c->in, 256, c->how);
    if (strcmp(strbuf_str(&b), c->want) != 0)
        fail_msg("%s: got \"%s\", want \"%s\"", c->name, strbuf_str(&b), c->want);
    strbuf_free(&b);
}

int
main(void)
{
    struct table_tests tt = { 0 };

    TABLE_TEST_ROWS(&tt, cases, name, run_summary);
    TABLE_TEST_ROWS(&tt, shows, name, run_show);
    TABLE_TEST_ROWS(&tt, escs, name, run_esc);
    return table_test_run(&tt, "posture", NULL, NULL);
}
