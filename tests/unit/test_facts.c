/*
 * test_facts.c -- MTA macro normalisation, one table row per real-world macro set
 * (values from doc/mta-facts.md: what Postfix 3.7 and Sendmail 8.17 actually sent).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"
#include "table_test.h"
#include "tls_facts.h"

#define NOPE ((const char *)1)          /* expected: field is NULL */
#define ANY  ((const char *)0)          /* expected: not checked */

struct row {
    const char *name;
    struct policy_macros m;
    enum policy_mta mta;
    int tls;                            /* -1: not checked */
    int version;
    int bits;
    int fs;                             /* enum policy_tri, or 9 = not checked */
    int presented, verified;            /* enum policy_tri, or 9 */
    const char *subject_cn, *subject_o, *subject_dn, *issuer_cn, *issuer_dn;
    const char *sender_domain;
    int sender_null;                    /* -1: not checked */
    const char *client_addr, *client_name;
    size_t min_notes;
};

#define PF POLICY_MTA_POSTFIX
#define SM POLICY_MTA_SENDMAIL
#define YES POLICY_TRI_YES
#define NO POLICY_TRI_NO
#define UNK POLICY_TRI_UNKNOWN
#define NC 9

static const char crlf_dn[] =
    "/C=GB/O=CRLF+5Cx0D+5Cx0AInjected:+20yes/CN=crlf+5Cx0D+5Cx0AX-Evil:+201.partner-a.test";
static const char odd_dn[] =
    "/C=CH/O=Odd+20Org,+20Z+5CxC3+5CxBCrich/OU=Mail+20+5C+2B+20Relay/CN=Odd+20+22Quoted+22+20Name,"
    "+20Inc.+20+5C+2B+20Partner's+20Z+5CxC3+5CxBCrich+20+3Cmx+3E+20a+5C/b=c;d";

static const struct row rows[] = {
    { "postfix plaintext", { .mta_version = "Postfix 3.7.11", .sender = "<a@partner-a.test>" },
      PF, 0, TLS_VERSION_UNKNOWN, -1, NO, NO, NO, NOPE, NOPE, NOPE, NOPE, NOPE,
      "partner-a.test", 0, ANY, ANY, 0 },
    { "postfix TLS without certificate",
      { .mta_version = "Postfix 3.7.11", .tls_version = "TLSv1.3", .cipher = "TLS_AES_256_GCM_SHA384",
        .cipher_bits = "256" },
      PF, 1, TLS_VERSION_TLS1_3, 256, YES, UNK, NO, NOPE, NOPE, NOPE, NOPE, NOPE,
      ANY, -1, ANY, ANY, 0 },
    { "postfix verified partner",
      { .tls_version = "TLSv1.2", .cipher = "ECDHE-RSA-AES256-GCM-SHA384", .cipher_bits = "256",
        .cert_subject = "mail.partner-a.test", .cert_issuer = "Test Issuing CA 1" },
      PF, 1, TLS_VERSION_TLS1_2, 256, YES, YES, YES, "mail.partner-a.test", NOPE, NOPE,
      "Test Issuing CA 1", NOPE, ANY, -1, ANY, ANY, 0 },
    { "postfix CN with control bytes arrives empty",
      { .tls_version = "TLSv1.3", .cipher = "TLS_AES_256_GCM_SHA384", .cipher_bits = "256",
        .cert_subject = "", .cert_issuer = "Test Issuing CA 1" },
      PF, 1, TLS_VERSION_TLS1_3, 256, YES, YES, YES, "", NOPE, NOPE, "Test Issuing CA 1", NOPE,
      ANY, -1, ANY, ANY, 0 },
    { "postfix RSA key exchange is not forward secret",
      { .tls_version = "TLSv1.2", .cipher = "AES256-GCM-SHA384", .cipher_bits = "256" },
      PF, 1, TLS_VERSION_TLS1_2, 256, NO, UNK, NO, ANY, ANY, ANY, ANY, ANY, ANY, -1, ANY, ANY, 0 },
    { "postfix TLSv1 CBC suite",
      { .tls_version = "TLSv1", .cipher = "ECDHE-RSA-AES256-SHA", .cipher_bits = "256" },
      PF, 1, TLS_VERSION_TLS1, 256, YES, NC, NC, ANY, ANY, ANY, ANY, ANY, ANY, -1, ANY, ANY, 0 },
    { "unknown cipher fails closed",
      { .tls_version = "TLSv1.2", .cipher = "FOO-BAR-SHA", .cipher_bits = "128" },
      PF, 1, TLS_VERSION_TLS1_2, 128, UNK, NC, NC, ANY, ANY, ANY, ANY, ANY, ANY, -1, ANY, ANY, 1 },
    { "unknown TLS version is noted",
      { .tls_version = "TLSv1.4", .cipher = "TLS_AES_256_GCM_SHA384", .cipher_bits = "256" },
      PF, 1, TLS_VERSION_UNKNOWN, 256, YES, NC, NC, ANY, ANY, ANY, ANY, ANY, ANY, -1, ANY, ANY, 1 },
    { "cipher_bits garbage is unknown, not zero",
      { .tls_version = "TLSv1.2", .cipher = "AES128-SHA", .cipher_bits = "12x" },
      PF, 1, TLS_VERSION_TLS1_2, -1, NO, NC, NC, ANY, ANY, ANY, ANY, ANY, ANY, -1, ANY, ANY, 1 },
    { "missing cipher_bits taken from OpenSSL's table",
      { .tls_version = "TLSv1.2", .cipher = "ECDHE-RSA-AES128-GCM-SHA256" },
      PF, 1, TLS_VERSION_TLS1_2, 128, YES, NC, NC, ANY, ANY, ANY, ANY, ANY, ANY, -1, ANY, ANY, 0 },
    { "sendmail TLS without certificate",
      { .verify = "NO", .tls_version = "TLSv1.3", .cipher = "TLS_AES_256_GCM_SHA384",
        .cipher_bits = "256", .cert_subject = "", .cert_issuer = "" },
      SM, 1, TLS_VERSION_TLS1_3, 256, YES, NO, NO, NOPE, NOPE, NOPE, NOPE, NOPE, ANY, -1, ANY, ANY, 0 },
    { "sendmail verified partner: full DN, xtext decoded",
      { .verify = "OK", .tls_version = "TLSv1.3", .cipher = "TLS_AES_256_GCM_SHA384", .cipher_bits = "256",
        .cert_subject = "/C=GB/O=Partner+20A+20Ltd/OU=Mail/CN=mail.partner-a.test",
        .cert_issuer = "/C=DE/O=Test+20PKI/CN=Test+20Issuing+20CA+201" },
      SM, 1, TLS_VERSION_TLS1_3, 256, YES, YES, YES, "mail.partner-a.test", "Partner A Ltd",
      "/c=GB/o=Partner A Ltd/ou=Mail/cn=mail.partner-a.test", "Test Issuing CA 1",
      "/c=DE/o=Test PKI/cn=Test Issuing CA 1", ANY, -1, ANY, ANY, 0 },
    { "sendmail self-signed: presented, not verified",
      { .verify = "FAIL", .tls_version = "TLSv1.3", .cipher = "TLS_AES_256_GCM_SHA384",
        .cert_subject = "/C=FR/O=Partner+20C+20SA/CN=selfsigned.partner-c.test",
        .cert_issuer = "/C=FR/O=Partner+20C+20SA/CN=selfsigned.partner-c.test" },
      SM, 1, TLS_VERSION_TLS1_3, 256, YES, YES, NO, "selfsigned.partner-c.test", "Partner C SA", ANY,
      "selfsigned.partner-c.test", ANY, ANY, -1, ANY, ANY, 0 },
    { "sendmail default macro list: no {verify} means unknown",
      { .mta = SM, .tls_version = "TLSv1.3", .cipher = "TLS_AES_256_GCM_SHA384",
        .cert_subject = "/C=GB/O=Partner+20A+20Ltd/OU=Mail/CN=mail.partner-a.test" },
      SM, 1, TLS_VERSION_TLS1_3, 256, YES, YES, UNK, "mail.partner-a.test", ANY, ANY, NOPE, NOPE,
      ANY, -1, ANY, ANY, 0 },
    { "sendmail odd CN: two decoding layers",
      { .verify = "OK", .tls_version = "TLSv1.3", .cipher = "TLS_AES_256_GCM_SHA384", .cert_subject = odd_dn },
      SM, 1, TLS_VERSION_TLS1_3, 256, YES, YES, YES,
      "Odd \"Quoted\" Name, Inc. + Partner's Z\xC3\xBCrich <mx> a/b=c;d", "Odd Org, Z\xC3\xBCrich",
      ANY, ANY, ANY, ANY, -1, ANY, ANY, 0 },
    { "sendmail CR LF in CN is decoded, not lost",
      { .verify = "OK", .tls_version = "TLSv1.3", .cipher = "TLS_AES_256_GCM_SHA384", .cert_subject = crlf_dn },
      SM, 1, TLS_VERSION_TLS1_3, 256, YES, YES, YES, "crlf\r\nX-Evil: 1.partner-a.test",
      "CRLF\r\nInjected: yes", ANY, ANY, ANY, ANY, -1, ANY, ANY, 0 },
    { "sendmail invalid xtext: presented, names unknown, noted",
      { .verify = "OK", .tls_version = "TLSv1.3", .cipher = "TLS_AES_256_GCM_SHA384",
        .cert_subject = "/C=GB/CN=bad+ZZxtext" },
      SM, 1, TLS_VERSION_TLS1_3, 256, YES, YES, YES, NOPE, NOPE, NOPE, ANY, ANY, ANY, -1, ANY, ANY, 1 },
    { "sendmail detected from version macro",
      { .mta_version = "8.17.1.9" }, SM, 0, TLS_VERSION_UNKNOWN, -1, NO, NO, NO,
      ANY, ANY, ANY, ANY, ANY, ANY, -1, ANY, ANY, 0 },
    { "sendmail detected from IPv6: address; address canonical",
      { .client_addr = "IPv6:2001:DB8::1" }, SM, 0, TLS_VERSION_UNKNOWN, -1, NC, NC, NC,
      ANY, ANY, ANY, ANY, ANY, ANY, -1, "2001:db8::1", NOPE, 0 },
    { "forced postfix dialect wins over detection",
      { .mta = PF, .verify = "OK", .tls_version = "TLSv1.3", .cert_subject = "/CN=x" },
      PF, 1, TLS_VERSION_TLS1_3, -1, UNK, YES, YES, "/CN=x", NOPE, NOPE, NOPE, NOPE, ANY, -1, ANY, ANY, 0 },
    { "null sender <>", { .sender = "<>" }, PF, 0, TLS_VERSION_UNKNOWN, -1, NO, NC, NC,
      ANY, ANY, ANY, ANY, ANY, NOPE, 1, ANY, ANY, 0 },
    { "null sender empty", { .sender = "" }, PF, 0, TLS_VERSION_UNKNOWN, -1, NO, NC, NC,
      ANY, ANY, ANY, ANY, ANY, NOPE, 1, ANY, ANY, 0 },
    { "sender absent is not null", { .mta_version = "Postfix 3.7.11" }, PF, 0, TLS_VERSION_UNKNOWN, -1,
      NO, NC, NC, ANY, ANY, ANY, ANY, ANY, NOPE, 0, ANY, ANY, 0 },
    { "sender domain lower-cased, trailing dot dropped", { .sender = "<Alice@Mail.Partner-A.TEST.>" },
      PF, 0, TLS_VERSION_UNKNOWN, -1, NO, NC, NC, ANY, ANY, ANY, ANY, ANY, "mail.partner-a.test", 0,
      ANY, ANY, 0 },
    { "sender source route stripped", { .sender = "<@relay.test:bob@partner-b.test>" },
      PF, 0, TLS_VERSION_UNKNOWN, -1, NO, NC, NC, ANY, ANY, ANY, ANY, ANY, "partner-b.test", 0,
      ANY, ANY, 0 },
    { "sender quoted local part with @", { .sender = "<\"a@b\"@partner-c.test>" },
      PF, 0, TLS_VERSION_UNKNOWN, -1, NO, NC, NC, ANY, ANY, ANY, ANY, ANY, "partner-c.test", 0,
      ANY, ANY, 0 },
    { "sender without domain", { .sender = "postmaster" },
      PF, 0, TLS_VERSION_UNKNOWN, -1, NO, NC, NC, ANY, ANY, ANY, ANY, ANY, NOPE, 0, ANY, ANY, 0 },
    { "client v4 and verified name", { .client_addr = "192.0.2.10", .client_name = "MX1.Partner-A.Test." },
      PF, 0, TLS_VERSION_UNKNOWN, -1, NO, NC, NC, ANY, ANY, ANY, ANY, ANY, ANY, -1,
      "192.0.2.10", "mx1.partner-a.test", 0 },
    { "postfix unknown client name is no name", { .client_addr = "192.0.2.10", .client_name = "unknown" },
      PF, 0, TLS_VERSION_UNKNOWN, -1, NO, NC, NC, ANY, ANY, ANY, ANY, ANY, ANY, -1,
      "192.0.2.10", NOPE, 0 },
    { "sendmail bracketed client name is no name", { .client_addr = "192.0.2.10", .client_name = "[192.0.2.10]" },
      PF, 0, TLS_VERSION_UNKNOWN, -1, NO, NC, NC, ANY, ANY, ANY, ANY, ANY, ANY, -1,
      "192.0.2.10", NOPE, 0 },
    { "v4-mapped v6 client becomes v4", { .client_addr = "::ffff:192.0.2.7" },
      PF, 0, TLS_VERSION_UNKNOWN, -1, NO, NC, NC, ANY, ANY, ANY, ANY, ANY, ANY, -1, "192.0.2.7", ANY, 0 },
    { "garbage client address is noted", { .client_addr = "not-an-ip" },
      PF, 0, TLS_VERSION_UNKNOWN, -1, NO, NC, NC, ANY, ANY, ANY, ANY, ANY, ANY, -1, "not-an-ip", ANY, 1 },
    /* IDN: every spelling of a name becomes the file's one, A-labels in lower case. */
    { "IDN sender U-label becomes A-label", { .sender = "<a@b\xc3\xa4nk.test>" },
      PF, 0, TLS_VERSION_UNKNOWN, -1, NO, NC, NC, ANY, ANY, ANY, ANY, ANY, "xn--bnk-qla.test", 0,
      ANY, ANY, 0 },
    { "IDN sender upper-case U-label is case folded", { .sender = "<a@B\xc3\x84NK.test>" },
      PF, 0, TLS_VERSION_UNKNOWN, -1, NO, NC, NC, ANY, ANY, ANY, ANY, ANY, "xn--bnk-qla.test", 0,
      ANY, ANY, 0 },
    { "IDN sender upper-case A-label is lower-cased", { .sender = "a@SUB.XN--BNK-QLA.TEST." },
      PF, 0, TLS_VERSION_UNKNOWN, -1, NO, NC, NC, ANY, ANY, ANY, ANY, ANY, "sub.xn--bnk-qla.test", 0,
      ANY, ANY, 0 },
    { "IDN sender full-width letters map to ASCII (UTS 46)",
      { .sender = "a@\xef\xbc\xa2\xc3\x84\xef\xbc\xae\xef\xbc\xab.test" },
      PF, 0, TLS_VERSION_UNKNOWN, -1, NO, NC, NC, ANY, ANY, ANY, ANY, ANY, "xn--bnk-qla.test", 0,
      ANY, ANY, 0 },
    { "IDN sender broken A-label kept lower-cased as sent, noted", { .sender = "a@XN--ZZ.test" },
      PF, 0, TLS_VERSION_UNKNOWN, -1, NO, NC, NC, ANY, ANY, ANY, ANY, ANY, "xn--zz.test", 0,
      ANY, ANY, 1 },
    { "IDN sender Latin-1 byte (not UTF-8) kept as sent, noted", { .sender = "a@B\xe4nk.test" },
      PF, 0, TLS_VERSION_UNKNOWN, -1, NO, NC, NC, ANY, ANY, ANY, ANY, ANY, "b\xe4nk.test", 0,
      ANY, ANY, 1 },
    { "IDN client name becomes A-label",
      { .client_addr = "192.0.2.10", .client_name = "MX.P\xc3\x84RTNER.test." },
      PF, 0, TLS_VERSION_UNKNOWN, -1, NO, NC, NC, ANY, ANY, ANY, ANY, ANY, ANY, -1,
      "192.0.2.10", "mx.xn--prtner-bua.test", 0 },
    { "ASCII names keep their tolerated forms (hyphen at the end, underscore)",
      { .sender = "a@Mx-.A_B.test", .client_name = "-mx.test" },
      PF, 0, TLS_VERSION_UNKNOWN, -1, NO, NC, NC, ANY, ANY, ANY, ANY, ANY, "mx-.a_b.test", 0,
      ANY, "-mx.test", 0 },
};

/* From: fields (RFC 5322), one or more per message, to the sorted, unique
 * domains the evaluator checks; hdr_from.c's own table covers the syntax. */
struct from_row {
    const char *name;
    const char *fields[3];
    const char *domains;                /* space-separated, sorted */
    bool unparsed;
    size_t notes;
};

static const struct from_row from_rows[] = {
    { "from: plain address", { "pay@Bank.Example" }, "bank.example", false, 0 },
    { "from: IDN spellings meet", { "a@b\xc3\xa4nk.test, b@B\xc3\x84NK.test, c@xn--bnk-qla.TEST" },
      "xn--bnk-qla.test", false, 0 },
    { "from: two fields are both judged", { "a@one.test", "Two <b@two.test>" },
      "one.test two.test", false, 0 },
    { "from: unparsable field read leniently, noted", { "Pay, Bank <pay@bank.example>" },
      "bank.example", true, 1 },
    { "from: no address at all", { "nobody" }, "", true, 1 },
    { "from: broken IDN kept as sent, noted", { "a@xn--zz.test" }, "xn--zz.test", false, 1 },
};

static void
run_from_row(void **state)
{
    const struct from_row *w = *state;
    struct policy_macros m = { .mta = POLICY_MTA_POSTFIX, .sender = "<x@evil.test>" };
    struct policy_facts f;
    char got[512] = "";
    size_t used = 0;

    assert_int_equal(policy_facts_build(&f, &m), 0);
    for (size_t i = 0; i < 3 && w->fields[i] != NULL; i++)
        assert_int_equal(policy_facts_add_header_from(&f, w->fields[i]), 0);
    for (size_t i = 0; i < f.nfrom; i++)
        used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%s", i ? " " : "",
                                 f.from_domains[i]);
    if (strcmp(got, w->domains) != 0)
        fail_msg("from_domains: want '%s', got '%s'", w->domains, got);
    assert_int_equal(f.from_unparsed, w->unparsed);
    assert_int_equal(f.nnotes, w->notes);
    assert_string_equal(f.sender_domain, "evil.test");
    policy_facts_free(&f);
}

static void
check_str(const char *field, const char *want, const char *got)
{
    if (want == ANY)
        return;
    if (want == NOPE) {
        if (got != NULL)
            fail_msg("%s: want NULL, got '%s'", field, got);
        return;
    }
    if (got == NULL)
        fail_msg("%s: want '%s', got NULL", field, want);
    if (strcmp(want, got) != 0)
        fail_msg("%s: want '%s', got '%s'", field, want, got);
}

static void
run_row(void **state)
{
    const struct row *w = *state;
    struct policy_facts f;

    assert_int_equal(policy_facts_build(&f, &w->m), 0);
    assert_int_equal(f.mta, w->mta);
    if (w->tls >= 0)
        assert_int_equal(f.tls, w->tls);
    assert_int_equal(f.version, w->version);
    assert_int_equal(f.cipher_bits, w->bits);
    if (w->fs != NC)
        assert_int_equal(f.fs, w->fs);
    if (w->presented != NC)
        assert_int_equal(f.cert_presented, w->presented);
    if (w->verified != NC)
        assert_int_equal(f.cert_verified, w->verified);
    check_str("subject_cn", w->subject_cn, f.subject_cn);
    check_str("subject_o", w->subject_o, f.subject_o);
    check_str("subject_dn", w->subject_dn, f.subject_dn);
    check_str("issuer_cn", w->issuer_cn, f.issuer_cn);
    check_str("issuer_dn", w->issuer_dn, f.issuer_dn);
    check_str("sender_domain", w->sender_domain, f.sender_domain);
    if (w->sender_null >= 0)
        assert_int_equal(f.sender_null, w->sender_null);
    check_str("client_addr", w->client_addr, f.client_addr);
    check_str("client_name", w->client_name, f.client_name);
    assert_true(f.nnotes >= w->min_notes);
    if (w->min_notes == 0)
        assert_int_equal(f.nnotes, 0);
    policy_facts_free(&f);
}

/* Fingerprints: the format Postfix and Sendmail send (FACTS 11.2, 13), what each
 * tells about a presented certificate, and the digests a pin must never trust. */
#define FP_UC "35:56:96:FC:0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:00:11:22:33:44:55:66:77:88:99:23:08"
#define FP_LC "355696fc0a1b2c3d4e5f60718293a4b5c6d7e8f90011223344556677889923" "08"
#define FP_MD5 "68:BA:7F:72:7D:CF:74:2C:37:56:9C:4E:91:AC:13:01"

struct fp_row {
    const char *name;
    struct policy_macros m;
    int presented, verified;
    const char *cert_sha256, *pubkey_sha256;
    size_t notes;
};

static const struct fp_row fp_rows[] = {
    { "postfix delegation: untrusted certificate is presented, not verified",
      { .mta = PF, .tls_version = "TLSv1.3", .cert_fp = FP_UC, .pubkey_fp = FP_UC },
      YES, NO, FP_LC, FP_LC, 0 },
    { "postfix delegation: empty fingerprint means no certificate",
      { .mta = PF, .tls_version = "TLSv1.3", .cert_fp = "", .pubkey_fp = "" },
      NO, NO, NOPE, NOPE, 0 },
    { "postfix delegation: verified certificate keeps verified",
      { .mta = PF, .tls_version = "TLSv1.3", .cert_subject = "mail.partner-a.test",
        .cert_fp = FP_UC }, YES, YES, FP_LC, NOPE, 0 },
    { "postfix without delegation: untrusted and absent stay unknown",
      { .mta = PF, .tls_version = "TLSv1.3" }, UNK, NO, NOPE, NOPE, 0 },
    { "sendmail {cert_fp} lower case without colons is accepted",
      { .mta = SM, .tls_version = "TLSv1.3", .verify = "FAIL", .cert_subject = "/CN=x",
        .cert_fp = FP_LC }, YES, NO, FP_LC, NOPE, 0 },
    { "md5 fingerprint is noted, never used",
      { .mta = SM, .tls_version = "TLSv1.3", .verify = "OK", .cert_subject = "/CN=x",
        .cert_fp = FP_MD5 }, YES, YES, NOPE, NOPE, 1 },
    { "fingerprint with a stray byte is noted",
      { .mta = PF, .tls_version = "TLSv1.3", .cert_fp = "35:56:ZZ" }, YES, NO, NOPE, NOPE, 1 },
    { "fingerprint with doubled colons is noted",
      { .mta = PF, .tls_version = "TLSv1.3", .cert_fp = "35::56" }, YES, NO, NOPE, NOPE, 1 },
};

static void
run_fp_row(void **state)
{
    const struct fp_row *w = *state;
    struct policy_facts f;

    assert_int_equal(policy_facts_build(&f, &w->m), 0);
    assert_int_equal(f.cert_presented, w->presented);
    assert_int_equal(f.cert_verified, w->verified);
    check_str("cert_sha256", w->cert_sha256, f.cert_sha256);
    check_str("pubkey_sha256", w->pubkey_sha256, f.pubkey_sha256);
    assert_int_equal(f.nnotes, w->notes);
    policy_facts_free(&f);
}

/* A 64 KiB macro of every byte value but NUL must neither crash nor be truncated. */
static void
oversized_macros(void **state)
{
    size_t n = 64 * 1024;
    char *big = malloc(n + 1);
    struct policy_macros m = { 0 };
    struct policy_facts f;

    (void)state;
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(1 + i % 255);
    big[n] = '\0';
    m = (struct policy_macros){ .mta = PF, .tls_version = big, .cipher = big, .cipher_bits = big,
                                .cert_subject = big, .cert_issuer = big, .sender = big,
                                .client_addr = big, .client_name = big, .helo = big };
    assert_int_equal(policy_facts_build(&f, &m), 0);
    assert_int_equal(f.version, TLS_VERSION_UNKNOWN);
    assert_int_equal(f.cipher_bits, -1);
    assert_int_equal(f.fs, POLICY_TRI_UNKNOWN);
    assert_false(f.client_addr_valid);
    assert_int_equal(strlen(f.subject_cn), n);
    policy_facts_free(&f);

    m.mta = SM;
    m.verify = big;
    assert_int_equal(policy_facts_build(&f, &m), 0);
    assert_int_equal(f.cert_verified, POLICY_TRI_NO);
    assert_null(f.subject_cn);        /* not a DN: noted, not guessed */
    assert_true(f.nnotes > 0);
    policy_facts_free(&f);
    free(big);
}

static void
empty_macros(void **state)
{
    struct policy_macros m = { .mta_version = "", .client_addr = "", .client_name = "", .helo = "",
                               .tls_version = "", .cipher = "", .cipher_bits = "", .cert_subject = "",
                               .cert_issuer = "", .verify = "" };
    struct policy_facts f;

    (void)state;
    assert_int_equal(policy_facts_build(&f, &m), 0);
    assert_false(f.tls);                 /* an empty version is no TLS */
    assert_false(f.client_addr_valid);
    assert_null(f.client_name);
    assert_int_equal(f.cert_verified, POLICY_TRI_NO);
    policy_facts_free(&f);
}

int
main(void)
{
    struct table_tests tt = { 0 };

    TABLE_TEST_ROWS(&tt, rows, name, run_row);
    TABLE_TEST_ROWS(&tt, fp_rows, name, run_fp_row);
    TABLE_TEST_ROWS(&tt, from_rows, name, run_from_row);
    TABLE_TEST_FN(&tt, oversized_macros);
    TABLE_TEST_FN(&tt, empty_macros);
    return table_test_run(&tt, "facts", NULL, NULL);
}
