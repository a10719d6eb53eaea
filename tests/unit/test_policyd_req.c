/*
 * test_policyd_req.c -- table-driven tests of policy/policyd_req.c: Postfix policy
 * delegation requests as Postfix 3.7 sends them (doc/mta-facts.md 12), cut short,
 * oversized and garbled, and the join key they give. One cmocka test per row.
 * Never: compares against output produced by the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policyd_req.h"
#include "table_test.h"

/* Postfix 3.7.11's request for a self-signed client certificate, verbatim order */
#define REQ_HEAD "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n" \
    "client_address=127.0.0.1\nclient_name=localhost\nclient_port=37350\n"             \
    "reverse_client_name=localhost\nserver_address=127.0.0.1\nserver_port=2625\n"      \
    "helo_name=client.partner.test\nsender=sender@partner.test\n"                      \
    "recipient=rcpt@example.test\nrecipient_count=0\nqueue_id=\n"                      \
    "instance=359d.6b13cd53.c25e8.0\nsize=0\netrn_domain=\nstress=\nsasl_method=\n"    \
    "sasl_username=\nsasl_sender=\nccert_subject=\nccert_issuer=\n"
#define FP "35:56:96:FC:8C:44:F3:89:92:08:E8:30:C1:B3:D0:37:C1:DD:05:B7:95:9D:1E:63:A5:56:72:37:74:E0:23:08"
#define PKFP "1D:EA:FE:D6:37:B0:2D:DE:7F:3D:D5:E1:C7:F0:62:1F:CE:7D:0B:14:74:6A:E4:CD:D5:27:37:DC:39:9D:61:C5"
#define REQ_TAIL "encryption_protocol=TLSv1.3\nencryption_cipher=TLS_AES_256_GCM_SHA384\n" \
    "encryption_keysize=256\npolicy_context=\n\n"
#define REQ_FULL REQ_HEAD "ccert_fingerprint=" FP "\nccert_pubkey_fingerprint=" PKFP "\n" REQ_TAIL

struct req_row {
    const char *name;
    const char *in;
    size_t len;                  /* 0: strlen(in) */
    int want_rc;                 /* policyd_req_parse */
    const char *want_why;        /* substring of the error, when want_rc is 1 */
    const char *want_fp;         /* ccert_fingerprint, when want_rc is 0 */
    int want_key;                /* policyd_req_key when parsed: 0 or 1 */
};

static const struct req_row rows[] = {
    { "postfix 3.7 request, self-signed certificate", REQ_FULL, 0, 0, NULL, FP, 0 },
    { "postfix 3.7 request, no certificate",
      REQ_HEAD "ccert_fingerprint=\nccert_pubkey_fingerprint=\n" REQ_TAIL, 0, 0, NULL, "", 0 },
    { "value keeps every '=' after the first",
      "request=smtpd_access_policy\nccert_subject=a/b=c;d\nccert_fingerprint=x=y\n\n", 0, 0,
      NULL, "x=y", 1 },
    { "minimal request without connection attributes has no key",
      "request=smtpd_access_policy\n\n", 0, 0, NULL, NULL, 1 },
    { "truncated: no empty line", REQ_HEAD, 0, 1, "expected the empty line", NULL, 0 },
    { "truncated in the middle of a line", "request=smtpd_access_policy\nclient_addr", 0, 1,
      "expected the empty line", NULL, 0 },
    { "empty request", "\n", 0, 1, "empty request", NULL, 0 },
    { "garbage: no '='", "hello world\n\n", 0, 1, "line 1, column 6: expected name=value",
      NULL, 0 },
    { "garbage: HTTP", "get / HTTP/1.0\n\n", 0, 1, "line 1, column 4", NULL, 0 },
    { "garbage: empty name", "=value\n\n", 0, 1, "line 1, column 1: expected name=value",
      NULL, 0 },
    { "garbage: upper-case name", "Request=smtpd_access_policy\n\n", 0, 1, "column 1", NULL, 0 },
    { "CR LF line ends", "request=smtpd_access_policy\r\n\r\n", 0, 1, "got CR LF", NULL, 0 },
    { "NUL inside a value", "request=smtpd\0access_policy\n\n", 28, 1, "NUL byte", NULL, 0 },
    { "not an access policy request", "request=junk\nclient_port=1\n\n", 0, 1,
      "expected request=smtpd_access_policy", NULL, 0 },
    { "attribute given twice", "request=smtpd_access_policy\nrecipient=a@b\nrecipient=c@d\n\n",
      0, 1, "expected each attribute once, got recipient again", NULL, 0 },
    { "bytes after the empty line", "request=smtpd_access_policy\n\nx", 0, 1,
      "end at its empty line", NULL, 0 },
    { "bad client_address", "request=smtpd_access_policy\nclient_address=localhost\n"
      "client_port=1\nserver_address=127.0.0.1\nserver_port=25\n\n", 0, 0, NULL, NULL, 1 },
    { "bad client_port", "request=smtpd_access_policy\nclient_address=127.0.0.1\n"
      "client_port=70000\nserver_address=127.0.0.1\nserver_port=25\n\n", 0, 0, NULL, NULL, 1 },
    { "signed port", "request=smtpd_access_policy\nclient_address=127.0.0.1\n"
      "client_port=+25\nserver_address=127.0.0.1\nserver_port=25\n\n", 0, 0, NULL, NULL, 1 },
    { "IPv6 addresses give a key", "request=smtpd_access_policy\nclient_address=2001:db8::1\n"
      "client_port=40000\nserver_address=::1\nserver_port=25\n\n", 0, 0, NULL, NULL, 0 },
};

static void
run_row(void **state)
{
    const struct req_row *r = *state;
    size_t len = r->len ? r->len : strlen(r->in);
    struct policyd_req q;
    struct policyd_key k;
    const char *kwhy = NULL;
    char *why = NULL;
    int rc = policyd_req_parse(r->in, len, &q, &why);

    if (rc != r->want_rc)
        fail_msg("%s: got rc %d (%s), want %d", r->name, rc, why ? why : "-", r->want_rc);
    if (rc == 1) {
        if (why == NULL || strstr(why, r->want_why) == NULL)
            fail_msg("%s: got why '%s', want it to contain '%s'", r->name, why ? why : "(null)",
                     r->want_why);
        free(why);
        return;
    }
    if (r->want_fp != NULL &&
        (q.ccert_fingerprint == NULL || strcmp(q.ccert_fingerprint, r->want_fp) != 0))
        fail_msg("%s: got fingerprint '%s', want '%s'", r->name,
                 q.ccert_fingerprint ? q.ccert_fingerprint : "(null)", r->want_fp);
    rc = policyd_req_key(&q, &k, &kwhy);
    if (rc != r->want_key)
        fail_msg("%s: got key rc %d (%s), want %d", r->name, rc, kwhy ? kwhy : "-", r->want_key);
    policyd_req_free(&q);
}

/* The socket side finds where a request ends before it parses it. */
static void
test_req_end(void **state)
{
    static const char two[] = "request=smtpd_access_policy\n\nrequest=smtpd_access_policy\n\n";

    (void)state;
    assert_int_equal(policyd_req_end(two, strlen(two)), 29);
    assert_int_equal(policyd_req_end(two, 28), 0);
    assert_int_equal(policyd_req_end("\n", 1), 1);
    assert_int_equal(policyd_req_end("a=b\n", 4), 0);
    assert_int_equal(policyd_req_end("", 0), 0);
}

/* One byte over the bound is refused without reading it as lines. */
static void
test_req_oversized(void **state)
{
    size_t n = POLICYD_REQ_MAX_BYTES + 1;
    char *buf = malloc(n);
    struct policyd_req q;
    char *why = NULL;

    (void)state;
    assert_non_null(buf);
    memset(buf, 'a', n);
    buf[n - 2] = buf[n - 1] = '\n';
    assert_int_equal(policyd_req_parse(buf, n, &q, &why), 1);
    assert_non_null(strstr(why, "expected at most 16384 bytes"));
    free(why);
    free(buf);
}

/* More attributes than the bound: each line is valid, their number is not. */
static void
test_req_too_many(void **state)
{
    char *buf = malloc(16 * (POLICYD_REQ_MAX_ATTRS + 2) + 64), *p;
    struct policyd_req q;
    char *why = NULL;

    (void)state;
    assert_non_null(buf);
    p = buf + sprintf(buf, "request=smtpd_access_policy\n");
    for (int i = 0; i < POLICYD_REQ_MAX_ATTRS; i++)
        p += sprintf(p, "x%d=y\n", i);
    p += sprintf(p, "\n");
    assert_int_equal(policyd_req_parse(buf, (size_t)(p - buf), &q, &why), 1);
    assert_non_null(strstr(why, "expected at most 128 attributes"));
    free(why);
    free(buf);
}

/* Both sides must build the same key for the same connection. */
static void
test_req_key(void **state)
{
    static const char in[] = "request=smtpd_access_policy\nclient_address=127.0.0.1\n"
        "client_port=37350\nserver_address=127.0.0.1\nserver_port=2625\n\n";
    struct policyd_req q;
    struct policyd_key k, want;
    const char *why = NULL;
    char *pwhy = NULL;

    (void)state;
    assert_int_equal(policyd_req_parse(in, strlen(in), &q, &pwhy), 0);
    assert_int_equal(policyd_req_key(&q, &k, &why), 0);
    memset(&want, 0, sizeof want);
    want.client_ip[10] = want.client_ip[11] = want.server_ip[10] = want.server_ip[11] = 0xff;
    want.client_ip[12] = want.server_ip[12] = 127;
    want.client_ip[15] = want.server_ip[15] = 1;
    want.client_port = 37350;
    want.server_port = 2625;
    assert_true(policyd_key_equal(&k, &want));
    want.client_port = 37351;
    assert_false(policyd_key_equal(&k, &want));
    policyd_req_free(&q);
}

int
main(void)
{
    struct table_tests tt = { 0 };

    TABLE_TEST_ROWS(&tt, rows, name, run_row);
    TABLE_TEST_FN(&tt, test_req_end);
    TABLE_TEST_FN(&tt, test_req_oversized);
    TABLE_TEST_FN(&tt, test_req_too_many);
    TABLE_TEST_FN(&tt, test_req_key);
    return table_test_run(&tt, "policyd_req", NULL, NULL);
}
