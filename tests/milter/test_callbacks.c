/*
 * test_callbacks.c -- the callback layer of milter-tlspolicy run in-process
 * against fake_milter.c (linked instead of libmilter), with real policies loaded
 * from YAML over the test PKI. Table-driven: each scenario is a macro set,
 * sender, recipients and headers, with the expected status per callback, the
 * reply, the headers added and removed, and the quarantine. One TAP line per row.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "callbacks.h"
#include "fake_milter.h"
#include "macros.h"
#include "esc.h"
#include "posture_log.h"
#include "posture_render.h"
#include "reload.h"
#include "session.h"
#include "table_test.h"

/* ------------------------------------------------------------ policies */

enum { CFG_BASE, CFG_MONITOR, CFG_NOHDR, CFG_CUSTOM, CFG_ACCEPT_ERR, CFG_JSON, CFG_N };

static const char *const cfg_settings[CFG_N] = {
    [CFG_BASE]       = "  authserv_id: mx.local.test\n",
    [CFG_MONITOR]    = "  mode: monitor\n  authserv_id: mx.local.test\n",
    [CFG_NOHDR]      = "  header: \"\"\n",
    [CFG_CUSTOM]     = "  header: X-Custom-Posture\n  authserv_id: mx.local.test\n",
    [CFG_ACCEPT_ERR] = "  on_error: accept\n",
    /* the path only switches the JSON line on: each test opens its own file */
    [CFG_JSON]       = "  log_json: /nonexistent/posture.jsonl\n",
};

/* Connectors shared by every configuration; first match in file order wins,
 * so the recipient-keyed ones come first. */
static const char cfg_connectors[] =
    "defaults:\n"
    "  require: {}\n"
    "  on_fail: tag\n"
    "connectors:\n"
    "  - name: rcpt-strict\n"
    "    match: {recipient_domains: [strict.example]}\n"
    "    require: {tls: true, min_version: TLSv1.3}\n"
    "    on_fail: reject\n"
    "  - name: rcpt-watch\n"
    "    mode: monitor\n"
    "    match: {recipient_domains: [watch.example]}\n"
    "    require: {tls: true}\n"
    "    on_fail: reject\n"
    "  - name: partner-a\n"
    "    match:\n"
    "      sender_domains: [partner-a.test]\n"
    "      client_addresses: [127.0.0.0/8, 192.0.2.0/24, \"2001:db8::/32\"]\n"
    "    require:\n"
    "      tls: true\n"
    "      min_version: TLSv1.2\n"
    "      min_cipher_bits: 128\n"
    "      forward_secrecy: true\n"
    "      certificate: verified\n"
    "      certificate_names: [mail.partner-a.test]\n"
    "      issuers: [\"Test Issuing CA 1\"]\n"
    "      root_issuers: [\"Test Root CA R1\"]\n"
    "    restrict_sender_domains: true\n"
    "    on_fail: reject\n"
    "    reply: \"5.7.1 partner-a must use verified TLS\"\n"
    "  - name: partner-b\n"
    "    match: {sender_domains: [partner-b.test]}\n"
    "    require: {tls: true, certificate: verified, root_issuers: [\"Other Root CA\"]}\n"
    "    on_fail: tempfail\n"
    "  - name: quarantine-c\n"
    "    match: {sender_domains: [partner-c.test]}\n"
    "    require: {tls: true}\n"
    "    on_fail: quarantine\n"
    "  - name: tag-d\n"
    "    match: {sender_domains: [partner-d.test]}\n"
    "    require: {tls: true}\n"
    "    on_fail: tag\n"
    "  - name: accept-e\n"
    "    match: {sender_domains: [partner-e.test]}\n"
    "    require: {tls: true}\n"
    "    on_fail: accept\n"
    "  - name: monitor-f\n"
    "    mode: monitor\n"
    "    match: {sender_domains: [partner-f.test]}\n"
    "    require: {tls: true}\n"
    "    on_fail: reject\n"
    "  - name: pct\n"
    "    match: {sender_domains: [pct.test]}\n"
    "    require: {tls: true}\n"
    "    on_fail: reject\n"
    "    reply: \"5.7.1 100% TLS required\"\n"
    "  - name: by-name\n"
    "    match: {client_names: [\"*.mx.partner-g.test\", unknown]}\n"
    "    require: {tls: true}\n"
    "    on_fail: reject\n";

static struct policy *cfg[CFG_N];

static int
load_configs(void **state)
{
    const char *pki = getenv("TLSPOLICY_TEST_PKI");
    char buf[8192];
    int i, n;

    (void)state;
    if (pki == NULL) {
        fprintf(stderr, "# TLSPOLICY_TEST_PKI is not set\n");
        return -1;
    }
    for (i = 0; i < CFG_N; i++) {
        struct policy_diags d;

        n = snprintf(buf, sizeof buf, "version: 1\nsettings:\n  trust_store: %s/trust.pem\n%s%s",
                     pki, cfg_settings[i], cfg_connectors);
        if (n < 0 || (size_t)n >= sizeof buf)
            return -1;
        policy_diags_init(&d);
        cfg[i] = policy_load_buffer("test.yaml", buf, (size_t)n, NULL, &d);
        if (cfg[i] == NULL) {
            for (size_t k = 0; k < d.n; k++) {
                char *s = policy_diag_format(&d.v[k]);
                fprintf(stderr, "# config %d: %s\n", i, s ? s : "?");
                free(s);
            }
            policy_diags_free(&d);
            return -1;
        }
        policy_diags_free(&d);
    }
    return 0;
}

static int
free_configs(void **state)
{
    (void)state;
    reload_swap(NULL);
    for (int i = 0; i < CFG_N; i++)
        policy_unref(cfg[i]);
    return 0;
}

/* ------------------------------------------------------------ macro sets */

#define PF_CONN "j", "mx.local.test", "v", "Postfix 3.7.11", "{daemon_name}", "mx.local.test"
#define SM_CONN "j", "mx.local.test", "v", "8.17.1", "{daemon_name}", "MTA"
#define TLS13 "{tls_version}", "TLSv1.3", "{cipher}", "TLS_AES_256_GCM_SHA384", "{cipher_bits}", "256"
#define TLS12 "{tls_version}", "TLSv1.2", "{cipher}", "ECDHE-RSA-AES256-GCM-SHA384", "{cipher_bits}", "256"
#define PF_CERT_A "{cert_subject}", "mail.partner-a.test", "{cert_issuer}", "Test Issuing CA 1"
#define PF_CERT_B "{cert_subject}", "mail.partner-b.test", "{cert_issuer}", "Other Issuing CA"
#define SM_CERT_A "{cert_subject}", "/C=GB/O=Partner+20A+20Ltd/OU=Mail/CN=mail.partner-a.test", \
                  "{cert_issuer}", "/C=DE/O=Test+20PKI/CN=Test+20Issuing+20CA+201"
#define SM_CERT_B "{cert_subject}", "/C=DE/O=Partner+20B+20GmbH/OU=Mail/CN=mail.partner-b.test", \
                  "{cert_issuer}", "/C=US/O=Other+20PKI/CN=Other+20Issuing+20CA"

static const char *const m_pf_plain[] = { PF_CONN, NULL };
static const char *const m_pf_nocert[] = { PF_CONN, TLS13, NULL };
static const char *const m_pf_nocert12[] = { PF_CONN, TLS12, NULL };
static const char *const m_pf_a13[] = { PF_CONN, TLS13, PF_CERT_A, NULL };
static const char *const m_pf_a12[] = { PF_CONN, TLS12, PF_CERT_A, NULL };
static const char *const m_pf_a_old[] = { PF_CONN, "{tls_version}", "TLSv1", "{cipher}",
    "ECDHE-RSA-AES256-SHA", "{cipher_bits}", "256", PF_CERT_A, NULL };
static const char *const m_pf_a_nofs[] = { PF_CONN, "{tls_version}", "TLSv1.2", "{cipher}",
    "AES256-GCM-SHA384", "{cipher_bits}", "256", PF_CERT_A, NULL };
static const char *const m_pf_wrongname[] = { PF_CONN, TLS13, "{cert_subject}",
    "mail.evil.test", "{cert_issuer}", "Test Issuing CA 1", NULL };
static const char *const m_pf_b[] = { PF_CONN, TLS13, PF_CERT_B, NULL };
static const char *const m_sm_a[] = { SM_CONN, TLS13, SM_CERT_A, "{verify}", "OK", NULL };
static const char *const m_sm_a_fail[] = { SM_CONN, TLS13, SM_CERT_A, "{verify}", "FAIL", NULL };
static const char *const m_sm_nocert[] = { SM_CONN, TLS13, "{cert_subject}", "",
    "{cert_issuer}", "", "{verify}", "NO", NULL };
static const char *const m_sm_b[] = { SM_CONN, TLS13, SM_CERT_B, "{verify}", "OK", NULL };
static const char *const m_crlf[] = { PF_CONN, TLS13, "{cert_subject}",
    "crlf\r\nX-Evil: 1.partner-a.test", "{cert_issuer}", "Bad \"CA\"\\\x7f\xc3", NULL };
static const char *const m_garbage[] = { PF_CONN, "{tls_version}", "TLSv9", "{cipher}",
    "NOT-A-CIPHER", "{cipher_bits}", "abc", "{verify}", "WHAT", "{cert_subject}",
    "/not/a=dn+ZZ", NULL };
static const char *const m_empty[] = { "{tls_version}", "", "{cipher}", "", "{cipher_bits}", "",
    "{cert_subject}", "", "{cert_issuer}", "", "v", "", NULL };
static const char *const m_none[] = { NULL };
static const char *const m_big[] = { SM_CONN, TLS13, "{verify}", "OK", NULL };   /* + 64 KiB */
static const char *const m_pf_a13_client[] = { PF_CONN, TLS13, PF_CERT_A,
    "{client_addr}", "192.0.2.7", "{client_name}", "mail.partner-a.test", NULL };

/* ------------------------------------------------------------ scenarios */

struct rcpt_row {
    const char *arg;              /* RCPT TO argument */
    const char *macro;            /* {rcpt_addr}, NULL: not sent */
    sfsistat want;
    const char *rcode;            /* when refused */
    const char *xcode;
    const char *text_sub;         /* substring of the reply text */
};

struct hdr_row { const char *name, *value; };

struct scenario {
    const char *name;
    int cfg;
    const char *const *macros;
    bool big_subject;             /* add a 64 KiB {cert_subject} */
    const char *host, *addr;      /* xxfi_connect arguments */
    const char *mail;             /* MAIL FROM argument */
    const char *mail_macro;       /* {mail_addr}, NULL: not sent */
    struct rcpt_row rcpt[3];
    struct hdr_row hdr[4];
    /* end of message */
    const char *hdr_name;         /* header expected to be added (NULL: none) */
    const char *hdr_sub[4];       /* substrings of its value */
    const char *hdr_not;          /* must not appear in it */
    size_t del_posture;           /* deletions of hdr_name / X-TLS-Policy */
    const char *del_name;
    int del_idx[3];               /* expected indexes, in call order */
    const char *ar_sub;           /* substring of the A-R added (NULL: none added) */
    size_t del_ar;
    int del_ar_idx[3];
    const char *quarantine_sub;   /* NULL: no quarantine */
};

#define OK_RCPT(a) { "<" a ">", a, SMFIS_CONTINUE, NULL, NULL, NULL }
#define REJ(a, x, t) { "<" a ">", a, SMFIS_REJECT, "550", x, t }
#define TMP(a, t) { "<" a ">", a, SMFIS_TEMPFAIL, "451", "4.7.1", t }

static const struct scenario scenarios[] = {
    { "postfix plaintext from partner-a is rejected with the connector's reply", CFG_BASE,
      m_pf_plain, false, "mail.partner-a.test", "127.0.0.2", "<s@partner-a.test>", "s@partner-a.test",
      { REJ("r@example.test", "5.7.1", "partner-a must use verified TLS") }, { { 0 } },
      NULL, { 0 }, NULL, 0, NULL, { 0 }, NULL, 0, { 0 }, NULL },
    { "postfix TLS without certificate from partner-a is rejected", CFG_BASE,
      m_pf_nocert, false, "mail.partner-a.test", "127.0.0.2", "<s@partner-a.test>", "s@partner-a.test",
      { REJ("r@example.test", "5.7.1", "partner-a must use verified TLS") }, { { 0 } },
      NULL, { 0 }, NULL, 0, NULL, { 0 }, NULL, 0, { 0 }, NULL },
    { "postfix verified partner-a TLSv1.3 passes with header and A-R", CFG_BASE,
      m_pf_a13, false, "mail.partner-a.test", "127.0.0.2", "<s@partner-a.test>", "s@partner-a.test",
      { OK_RCPT("r@example.test") }, { { 0 } },
      "X-TLS-Policy", { " pass (connector=partner-a; action=accept", "version=TLSv1.3",
                        "root=\"Test Root CA R1\"", "verified=yes" }, "mode=monitor",
      0, NULL, { 0 }, "mx.local.test; x-tls=pass", 0, { 0 }, NULL },
    { "postfix verified partner-a TLSv1.2 ECDHE passes", CFG_BASE,
      m_pf_a12, false, "mail.partner-a.test", "127.0.0.2", "<s@partner-a.test>", "s@partner-a.test",
      { OK_RCPT("r@example.test") }, { { 0 } },
      "X-TLS-Policy", { "pass (connector=partner-a", "cipher=ECDHE-RSA-AES256-GCM-SHA384",
                        "bits=256", "fs=yes" }, NULL,
      0, NULL, { 0 }, "x-tls=pass", 0, { 0 }, NULL },
    { "postfix partner-a TLSv1 (old version) is rejected", CFG_BASE,
      m_pf_a_old, false, "mail.partner-a.test", "127.0.0.2", "<s@partner-a.test>", "s@partner-a.test",
      { REJ("r@example.test", "5.7.1", "partner-a must use verified TLS") }, { { 0 } },
      NULL, { 0 }, NULL, 0, NULL, { 0 }, NULL, 0, { 0 }, NULL },
    { "postfix partner-a non-FS cipher is rejected", CFG_BASE,
      m_pf_a_nofs, false, "mail.partner-a.test", "127.0.0.2", "<s@partner-a.test>", "s@partner-a.test",
      { REJ("r@example.test", "5.7.1", "partner-a must use verified TLS") }, { { 0 } },
      NULL, { 0 }, NULL, 0, NULL, { 0 }, NULL, 0, { 0 }, NULL },
    { "postfix partner-a wrong certificate name is rejected", CFG_BASE,
      m_pf_wrongname, false, "mail.partner-a.test", "127.0.0.2", "<s@partner-a.test>", "s@partner-a.test",
      { REJ("r@example.test", "5.7.1", "partner-a must use verified TLS") }, { { 0 } },
      NULL, { 0 }, NULL, 0, NULL, { 0 }, NULL, 0, { 0 }, NULL },
    { "postfix partner-a sender with partner-b cert (wrong root) is rejected", CFG_BASE,
      m_pf_b, false, "mail.partner-a.test", "127.0.0.2", "<s@partner-a.test>", "s@partner-a.test",
      { REJ("r@example.test", "5.7.1", "partner-a must use verified TLS") }, { { 0 } },
      NULL, { 0 }, NULL, 0, NULL, { 0 }, NULL, 0, { 0 }, NULL },
    { "sendmail verified partner-a (verify=OK, xtext DNs) passes", CFG_BASE,
      m_sm_a, false, "mail.partner-a.test", "127.0.0.2", "<s@partner-a.test>", "s@partner-a.test",
      { OK_RCPT("r@example.test") }, { { 0 } },
      "X-TLS-Policy", { "pass (connector=partner-a", "cert=mail.partner-a.test",
                        "issuer=\"Test Issuing CA 1\"", "verified=yes" }, NULL,
      0, NULL, { 0 }, "x-tls=pass", 0, { 0 }, NULL },
    { "sendmail partner-a verify=FAIL is rejected", CFG_BASE,
      m_sm_a_fail, false, "mail.partner-a.test", "127.0.0.2", "<s@partner-a.test>", "s@partner-a.test",
      { REJ("r@example.test", "5.7.1", "partner-a must use verified TLS") }, { { 0 } },
      NULL, { 0 }, NULL, 0, NULL, { 0 }, NULL, 0, { 0 }, NULL },
    { "sendmail partner-a without certificate (verify=NO) is rejected", CFG_BASE,
      m_sm_nocert, false, "mail.partner-a.test", "127.0.0.2", "<s@partner-a.test>", "s@partner-a.test",
      { REJ("r@example.test", "5.7.1", "partner-a must use verified TLS") }, { { 0 } },
      NULL, { 0 }, NULL, 0, NULL, { 0 }, NULL, 0, { 0 }, NULL },
    { "restrict_sender_domains: partner-a sender from a foreign address is rejected", CFG_BASE,
      m_pf_a13, false, "spoof.example", "198.51.100.7", "<s@partner-a.test>", "s@partner-a.test",
      { REJ("r@example.test", "5.7.1", "partner-a must use verified TLS") }, { { 0 } },
      NULL, { 0 }, NULL, 0, NULL, { 0 }, NULL, 0, { 0 }, NULL },
    { "{client_addr} macro wins over the connect address", CFG_BASE,
      m_pf_a13_client, false, "spoof.example", "198.51.100.7", "<s@partner-a.test>", "s@partner-a.test",
      { OK_RCPT("r@example.test") }, { { 0 } },
      "X-TLS-Policy", { "pass (connector=partner-a" }, NULL, 0, NULL, { 0 }, "x-tls=pass", 0, { 0 }, NULL },
    { "partner-a over IPv6 connect address passes", CFG_BASE,
      m_pf_a13, false, "mail.partner-a.test", "2001:db8::25", "<s@partner-a.test>", "s@partner-a.test",
      { OK_RCPT("r@example.test") }, { { 0 } },
      "X-TLS-Policy", { "pass (connector=partner-a" }, NULL, 0, NULL, { 0 }, "x-tls=pass", 0, { 0 }, NULL },
    { "tempfail connector without reply: 451 4.7.1 TLS policy <name>", CFG_BASE,
      m_pf_plain, false, "mx.partner-b.test", "192.0.2.9", "<s@partner-b.test>", "s@partner-b.test",
      { TMP("r@example.test", "TLS policy partner-b: ") }, { { 0 } },
      NULL, { 0 }, NULL, 0, NULL, { 0 }, NULL, 0, { 0 }, NULL },
    { "postfix partner-b verified under Other Root CA passes", CFG_BASE,
      m_pf_b, false, "mx.partner-b.test", "192.0.2.9", "<s@partner-b.test>", "s@partner-b.test",
      { OK_RCPT("r@example.test") }, { { 0 } },
      "X-TLS-Policy", { "pass (connector=partner-b", "root=\"Other Root CA\"" }, NULL,
      0, NULL, { 0 }, "x-tls=pass", 0, { 0 }, NULL },
    { "sendmail partner-b verified passes", CFG_BASE,
      m_sm_b, false, "mx.partner-b.test", "192.0.2.9", "<s@partner-b.test>", "s@partner-b.test",
      { OK_RCPT("r@example.test") }, { { 0 } },
      "X-TLS-Policy", { "pass (connector=partner-b", "issuer=\"Other Issuing CA\"" }, NULL,
      0, NULL, { 0 }, "x-tls=pass", 0, { 0 }, NULL },
    { "quarantine connector: accepted at RCPT, quarantined at EOM", CFG_BASE,
      m_pf_plain, false, "mx.partner-c.test", "192.0.2.10", "<s@partner-c.test>", "s@partner-c.test",
      { OK_RCPT("r@example.test") }, { { 0 } },
      "X-TLS-Policy", { "fail (connector=quarantine-c; action=quarantine", "version=none", "reason=\"" },
      NULL, 0, NULL, { 0 }, "x-tls=fail", 0, { 0 }, "TLS policy quarantine-c: " },
    { "tag connector: delivered with a fail header", CFG_BASE,
      m_pf_plain, false, "mx.partner-d.test", "192.0.2.11", "<s@partner-d.test>", "s@partner-d.test",
      { OK_RCPT("r@example.test") }, { { 0 } },
      "X-TLS-Policy", { "fail (connector=tag-d; action=tag" }, "mode=monitor",
      0, NULL, { 0 }, "policy.action=tag", 0, { 0 }, NULL },
    { "accept connector: delivered, header says fail/accept", CFG_BASE,
      m_pf_plain, false, "mx.partner-e.test", "192.0.2.12", "<s@partner-e.test>", "s@partner-e.test",
      { OK_RCPT("r@example.test") }, { { 0 } },
      "X-TLS-Policy", { "fail (connector=accept-e; action=accept" }, NULL,
      0, NULL, { 0 }, "x-tls=fail", 0, { 0 }, NULL },
    { "monitor connector: would-reject is delivered with mode=monitor", CFG_BASE,
      m_pf_plain, false, "mx.partner-f.test", "192.0.2.13", "<s@partner-f.test>", "s@partner-f.test",
      { OK_RCPT("r@example.test") }, { { 0 } },
      "X-TLS-Policy", { "fail (connector=monitor-f; action=reject; mode=monitor" }, NULL,
      0, NULL, { 0 }, "policy.mode=monitor", 0, { 0 }, NULL },
    { "global monitor mode: partner-a plaintext is delivered, header says reject", CFG_MONITOR,
      m_pf_plain, false, "mail.partner-a.test", "127.0.0.2", "<s@partner-a.test>", "s@partner-a.test",
      { OK_RCPT("r@example.test") }, { { 0 } },
      "X-TLS-Policy", { "fail (connector=partner-a; action=reject; mode=monitor" }, NULL,
      0, NULL, { 0 }, "x-tls=fail", 0, { 0 }, NULL },
    { "global monitor mode: quarantine connector does not quarantine", CFG_MONITOR,
      m_pf_plain, false, "mx.partner-c.test", "192.0.2.10", "<s@partner-c.test>", "s@partner-c.test",
      { OK_RCPT("r@example.test") }, { { 0 } },
      "X-TLS-Policy", { "action=quarantine; mode=monitor" }, NULL, 0, NULL, { 0 }, "x-tls=fail",
      0, { 0 }, NULL },
    { "unclaimed sender: defaults, verdict none", CFG_BASE,
      m_pf_plain, false, "mx.other.test", "203.0.113.5", "<s@other.test>", "s@other.test",
      { OK_RCPT("r@example.test") }, { { 0 } },
      "X-TLS-Policy", { "none (connector=default; action=accept; version=none" }, "reason=",
      0, NULL, { 0 }, "x-tls=none", 0, { 0 }, NULL },
    { "null sender without {mail_addr}: MAIL FROM:<> goes to defaults", CFG_BASE,
      m_pf_nocert, false, "mx.other.test", "203.0.113.5", "<>", NULL,
      { OK_RCPT("r@example.test") }, { { 0 } },
      "X-TLS-Policy", { "none (connector=default", "version=TLSv1.3", "verified=" }, NULL,
      0, NULL, { 0 }, "x-tls=none", 0, { 0 }, NULL },
    { "several recipients: strict one rejected, header from the accepted one", CFG_BASE,
      m_pf_nocert12, false, "mx.other.test", "203.0.113.5", "<s@other.test>", "s@other.test",
      { OK_RCPT("a@example.test"), { "<b@strict.example>", "b@strict.example", SMFIS_REJECT,
        "550", "5.7.1", "TLS policy rcpt-strict: " }, OK_RCPT("c@example.test") }, { { 0 } },
      "X-TLS-Policy", { "none (connector=default" }, "rcpt-strict", 0, NULL, { 0 }, "x-tls=none",
      0, { 0 }, NULL },
    { "several recipients: header shows the most severe accepted result", CFG_BASE,
      m_pf_plain, false, "mx.other.test", "203.0.113.5", "<s@other.test>", "s@other.test",
      { OK_RCPT("a@example.test"), OK_RCPT("w@watch.example") }, { { 0 } },
      "X-TLS-Policy", { "fail (connector=rcpt-watch; action=reject; mode=monitor" }, NULL,
      0, NULL, { 0 }, "x-tls=fail", 0, { 0 }, NULL },
    { "recipient from the RCPT argument when {rcpt_addr} is absent", CFG_BASE,
      m_pf_nocert12, false, "mx.other.test", "203.0.113.5", "<s@other.test>", "s@other.test",
      { { "<b@strict.example>", NULL, SMFIS_REJECT, "550", "5.7.1", "TLS policy rcpt-strict: " } },
      { { 0 } }, NULL, { 0 }, NULL, 0, NULL, { 0 }, NULL, 0, { 0 }, NULL },
    { "forged posture headers (any case) are all removed, last first", CFG_BASE,
      m_pf_plain, false, "mx.other.test", "203.0.113.5", "<s@other.test>", "s@other.test",
      { OK_RCPT("r@example.test") },
      { { "X-TLS-Policy", " pass (connector=partner-a)" }, { "Subject", " hi" },
        { "x-tls-policy", " pass" } },
      "X-TLS-Policy", { "none (connector=default" }, NULL, 2, "X-TLS-Policy", { 2, 1 },
      "x-tls=none", 0, { 0 }, NULL },
    { "forged Authentication-Results with our authserv-id removed, others kept", CFG_BASE,
      m_pf_plain, false, "mx.other.test", "203.0.113.5", "<s@other.test>", "s@other.test",
      { OK_RCPT("r@example.test") },
      { { "Authentication-Results", " other.example; spf=pass" },
        { "Authentication-Results", " mx.local.test; x-tls=pass" },
        { "authentication-results", " (comment) MX.LOCAL.TEST;x-tls=pass" },
        { "Authentication-Results", " mx.local.test.evil; x-tls=pass" } },
      "X-TLS-Policy", { "none (" }, NULL, 0, NULL, { 0 }, "x-tls=none", 2, { 3, 2 }, NULL },
    { "forged Authentication-Results with our id quoted, quoted-paired, in comments: removed",
      CFG_BASE, m_pf_plain, false, "mx.other.test", "203.0.113.5", "<s@other.test>",
      "s@other.test", { OK_RCPT("r@example.test") },
      { { "Authentication-Results", " \"mx.local.test\"; x-tls=pass" },
        { "Authentication-Results", " \"mx.local.test\" ; x-tls=pass" },
        { "Authentication-Results", " (a (b)) \"mx\\.local.test\"\r\n\t(c) 1; x-tls=pass" },
        { "Authentication-Results", " \"mx.local.test.evil\"; x-tls=pass" } },
      "X-TLS-Policy", { "none (" }, NULL, 0, NULL, { 0 }, "x-tls=none", 3, { 3, 2, 1 }, NULL },
    { "header disabled: nothing added, nothing removed", CFG_NOHDR,
      m_pf_a13, false, "mail.partner-a.test", "127.0.0.2", "<s@partner-a.test>", "s@partner-a.test",
      { OK_RCPT("r@example.test") }, { { "X-TLS-Policy", " pass" } },
      NULL, { 0 }, NULL, 0, NULL, { 0 }, NULL, 0, { 0 }, NULL },
    { "custom header name: added and forged copies of it removed", CFG_CUSTOM,
      m_pf_a13, false, "mail.partner-a.test", "127.0.0.2", "<s@partner-a.test>", "s@partner-a.test",
      { OK_RCPT("r@example.test") },
      { { "X-TLS-Policy", " fail" }, { "X-Custom-Posture", " pass" } },
      "X-Custom-Posture", { "pass (connector=partner-a" }, NULL, 1, "X-Custom-Posture", { 1 },
      "x-tls=pass", 0, { 0 }, NULL },
    { "CR LF, quotes, DEL and bad UTF-8 in certificate names cannot break the header", CFG_BASE,
      m_crlf, false, "mx.other.test", "203.0.113.5", "<s@other.test>", "s@other.test",
      { OK_RCPT("r@example.test") }, { { 0 } },
      "X-TLS-Policy", { "\\x0D\\x0AX-Evil", "\\\"CA\\\"\\\\\\x7F\\xC3" }, "\r",
      0, NULL, { 0 }, "x-tls=none", 0, { 0 }, NULL },
    { "'%' in a connector reply is dropped (smfi_setreply format)", CFG_BASE,
      m_pf_plain, false, "mx.pct.test", "203.0.113.6", "<s@pct.test>", "s@pct.test",
      { REJ("r@example.test", "5.7.1", "100 TLS required") }, { { 0 } },
      NULL, { 0 }, NULL, 0, NULL, { 0 }, NULL, 0, { 0 }, NULL },
    { "64 KiB certificate subject: no crash, header value capped", CFG_BASE,
      m_big, true, "mx.other.test", "203.0.113.5", "<s@other.test>", "s@other.test",
      { OK_RCPT("r@example.test") }, { { 0 } },
      "X-TLS-Policy", { "none (connector=default", "..." }, NULL,
      0, NULL, { 0 }, "x-tls=none", 0, { 0 }, NULL },
    { "garbage TLS macros: no crash, delivered to defaults", CFG_BASE,
      m_garbage, false, "mx.other.test", "203.0.113.5", "<s@other.test>", "s@other.test",
      { OK_RCPT("r@example.test") }, { { 0 } },
      "X-TLS-Policy", { "none (connector=default", "version=TLSv9" }, NULL,
      0, NULL, { 0 }, "x-tls=none", 0, { 0 }, NULL },
    { "garbage TLS macros for a strict partner: rejected, not crashed", CFG_BASE,
      m_garbage, false, "mail.partner-a.test", "127.0.0.2", "<s@partner-a.test>", "s@partner-a.test",
      { REJ("r@example.test", "5.7.1", "partner-a must use verified TLS") }, { { 0 } },
      NULL, { 0 }, NULL, 0, NULL, { 0 }, NULL, 0, { 0 }, NULL },
    { "present-but-empty macros are handled as no TLS facts", CFG_BASE,
      m_empty, false, "mx.other.test", "203.0.113.5", "<s@other.test>", "s@other.test",
      { OK_RCPT("r@example.test") }, { { 0 } },
      "X-TLS-Policy", { "none (connector=default" }, NULL, 0, NULL, { 0 }, "x-tls=none", 0, { 0 }, NULL },
    { "no macros and no connect info at all", CFG_BASE,
      m_none, false, NULL, NULL, "<s@other.test>", NULL,
      { OK_RCPT("r@example.test") }, { { 0 } },
      "X-TLS-Policy", { "none (connector=default", "version=none" }, NULL,
      0, NULL, { 0 }, "x-tls=none", 0, { 0 }, NULL },
    { "client_names connector matches the verified host name", CFG_BASE,
      m_pf_plain, false, "a.mx.partner-g.test", "203.0.113.9", "<s@other.test>", "s@other.test",
      { { "<r@example.test>", "r@example.test", SMFIS_REJECT, "550", "5.7.1",
          "TLS policy by-name: " } }, { { 0 } },
      NULL, { 0 }, NULL, 0, NULL, { 0 }, NULL, 0, { 0 }, NULL },
    { "Postfix host name 'unknown' is no name: a connector listing it does not match", CFG_BASE,
      m_pf_plain, false, "unknown", "203.0.113.9", "<s@other.test>", "s@other.test",
      { OK_RCPT("r@example.test") }, { { 0 } },
      "X-TLS-Policy", { "none (connector=default" }, NULL, 0, NULL, { 0 }, "x-tls=none", 0, { 0 }, NULL },
    { "sendmail bracketed host name is no verified name (defaults)", CFG_BASE,
      m_sm_a, false, "[203.0.113.5]", "203.0.113.5", "<s@other.test>", "s@other.test",
      { OK_RCPT("r@example.test") }, { { 0 } },
      "X-TLS-Policy", { "none (connector=default", "cert=mail.partner-a.test" }, NULL,
      0, NULL, { 0 }, "x-tls=none", 0, { 0 }, NULL },
};

static void
set_macros(SMFICTX *ctx, const char *const *m)
{
    for (; m != NULL && m[0] != NULL; m += 2)
        fake_macro(ctx, m[0], m[1]);
}

/* Build the xxfi_connect address. */
static struct sockaddr *
make_sa(const char *addr, struct sockaddr_storage *ss)
{
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof *ss);
    if (addr == NULL)
        return NULL;
    if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        return (struct sockaddr *)ss;
    }
    if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        return (struct sockaddr *)ss;
    }
    return NULL;
}

static void
want_str(const char *what, const char *got, const char *want)
{
    if (got == NULL || strcmp(got, want) != 0) {
        print_error("%s: got \"%s\", want \"%s\"\n", what, got ? got : "(null)", want);
        fail();
    }
}

static void
want_sub(const char *what, const char *got, const char *sub)
{
    if (got == NULL || strstr(got, sub) == NULL) {
        print_error("%s: got \"%s\", want it to contain \"%s\"\n", what,
                    got ? got : "(null)", sub);
        fail();
    }
}

static void
want_no_violation(SMFICTX *ctx)
{
    if (ctx->violations != 0) {
        print_error("libmilter would refuse a call: %s\n", ctx->violation);
        fail();
    }
}

/* negotiate with everything Postfix offers (doc/mta-facts.md 3) */
static void
do_negotiate(SMFICTX *ctx)
{
    unsigned long p0 = 0, p1 = 0, p2 = 0, p3 = 0;

    ctx->stage = FAKE_NEGOTIATE;
    assert_int_equal(callbacks_negotiate(ctx, 0x1ff, 0x1fffff, 0, 0, &p0, &p1, &p2, &p3),
                     SMFIS_CONTINUE);
    ctx->pflags = p1;
}

static void
run_scenario(void **state)
{
    const struct scenario *sc = *state;
    struct sockaddr_storage ss;
    char *argv[2] = { NULL, NULL };
    char *big = NULL;
    size_t i, naccepted = 0;
    SMFICTX *ctx = fake_ctx_new();
    const char *v;

    assert_non_null(ctx);
    reload_swap(policy_ref(cfg[sc->cfg]));
    do_negotiate(ctx);
    set_macros(ctx, sc->macros);
    if (sc->big_subject) {
        big = malloc(65537);
        assert_non_null(big);
        memset(big, 'A', 65536);
        memcpy(big, "/CN=", 4);
        big[65536] = '\0';
        fake_macro(ctx, "{cert_subject}", big);
        fake_macro(ctx, "{cert_issuer}", big);
    }
    ctx->stage = FAKE_CONNECT;
    {
        char *host = sc->host ? strdup(sc->host) : NULL;
        assert_int_equal(callbacks_connect(ctx, host, make_sa(sc->addr, &ss)),
                         fake_ok(ctx));
        free(host);
    }
    ctx->stage = FAKE_HELO;
    {
        char helo[] = "client.example";
        assert_int_equal(callbacks_helo(ctx, helo), fake_ok(ctx));
    }
    ctx->stage = FAKE_MAIL;
    if (sc->mail_macro != NULL)
        fake_macro(ctx, "{mail_addr}", sc->mail_macro);
    argv[0] = strdup(sc->mail);
    assert_int_equal(callbacks_envfrom(ctx, argv), fake_ok(ctx));
    free(argv[0]);

    ctx->stage = FAKE_RCPT;
    for (i = 0; i < 3 && sc->rcpt[i].arg != NULL; i++) {
        const struct rcpt_row *r = &sc->rcpt[i];

        fake_clear_reply(ctx);
        fake_macro(ctx, "{rcpt_addr}", r->macro);
        argv[0] = strdup(r->arg);
        assert_int_equal(callbacks_envrcpt(ctx, argv), r->want);
        free(argv[0]);
        if (r->want == SMFIS_CONTINUE) {
            naccepted++;
            continue;
        }
        want_str("reply code", ctx->rcode, r->rcode);
        want_str("enhanced code", ctx->xcode, r->xcode);
        want_sub("reply text", ctx->reply_text, r->text_sub);
    }
    ctx->stage = FAKE_HEADER;
    for (i = 0; i < 4 && sc->hdr[i].name != NULL; i++) {
        char *n = strdup(sc->hdr[i].name), *val = strdup(sc->hdr[i].value);
        assert_int_equal(callbacks_header(ctx, n, val), fake_ok(ctx));
        free(n);
        free(val);
    }
    if (naccepted > 0) {
        ctx->stage = FAKE_EOM;
        fake_macro(ctx, "i", "4ABCDEF123");
        assert_int_equal(callbacks_eom(ctx), SMFIS_CONTINUE);
        want_no_violation(ctx);
        if (sc->hdr_name != NULL) {
            assert_int_equal(fake_count_ops(ctx, 'a', sc->hdr_name), 1);
            v = fake_op_value(ctx, 'a', sc->hdr_name);
            for (i = 0; i < 4 && sc->hdr_sub[i] != NULL; i++)
                want_sub("posture header", v, sc->hdr_sub[i]);
            if (sc->hdr_not != NULL && v != NULL && strstr(v, sc->hdr_not) != NULL) {
                print_error("posture header \"%s\" must not contain \"%s\"\n", v, sc->hdr_not);
                fail();
            }
            if (v != NULL && strlen(v) > 2000) {
                print_error("posture header is %zu bytes, want it capped\n", strlen(v));
                fail();
            }
        } else
            assert_int_equal(fake_count_ops(ctx, 'a', "X-TLS-Policy"), 0);
        if (sc->del_posture > 0) {
            size_t k = 0;
            assert_int_equal(fake_count_ops(ctx, 'c', sc->del_name), sc->del_posture);
            for (i = 0; i < ctx->nops; i++) {
                if (ctx->ops[i].op != 'c' || strcasecmp(ctx->ops[i].name, sc->del_name) != 0)
                    continue;
                assert_null(ctx->ops[i].value);
                assert_int_equal(ctx->ops[i].idx, sc->del_idx[k]);
                k++;
            }
        } else if (sc->hdr_name != NULL)
            assert_int_equal(fake_count_ops(ctx, 'c', sc->hdr_name), 0);
        if (sc->ar_sub != NULL) {
            assert_int_equal(fake_count_ops(ctx, 'i', "Authentication-Results"), 1);
            want_sub("Authentication-Results", fake_op_value(ctx, 'i', "Authentication-Results"),
                     sc->ar_sub);
        } else
            assert_int_equal(fake_count_ops(ctx, 'i', "Authentication-Results"), 0);
        assert_int_equal(fake_count_ops(ctx, 'c', "Authentication-Results"), sc->del_ar);
        for (i = 0, naccepted = 0; i < ctx->nops; i++)
            if (ctx->ops[i].op == 'c' && strcasecmp(ctx->ops[i].name,
                                                    "Authentication-Results") == 0)
                assert_int_equal(ctx->ops[i].idx, sc->del_ar_idx[naccepted++]);
        if (sc->quarantine_sub != NULL)
            want_sub("quarantine reason", ctx->quarantine, sc->quarantine_sub);
        else if (ctx->quarantine != NULL) {
            print_error("unexpected quarantine: %s\n", ctx->quarantine);
            fail();
        }
    } else {
        ctx->stage = FAKE_ABORT;
        assert_int_equal(callbacks_abort(ctx), SMFIS_CONTINUE);
    }
    want_no_violation(ctx);
    ctx->stage = FAKE_CLOSE;
    assert_int_equal(callbacks_close(ctx), SMFIS_CONTINUE);
    assert_null(ctx->priv);
    fake_ctx_free(ctx);
    free(big);
}

/* ------------------------------------------------------------ JSON per transaction */

enum txn_end { END_ABORT, END_CLOSE, END_NEWMAIL, END_EOM_ABORT, END_HDR_ABORT };

struct txn_row {
    const char *name;
    int cfg;
    const char *const *macros;
    const char *host, *addr;
    const char *mail;             /* MAIL FROM argument */
    const char *mail_i;           /* queue id sent at MAIL (Sendmail), NULL: none */
    const char *rcpt[3];
    enum txn_end end;
    size_t want_lines;
    const char *sub[5];           /* substrings of the first JSON line */
    const char *not_sub;          /* must not be in the first line */
    const char *sub2;             /* substring of the second line (END_NEWMAIL) */
};

static const struct txn_row txn_rows[] = {
    { "json: every recipient refused, then abort (Postfix): one line, queue_id null, "
      "delivered false", CFG_JSON, m_pf_plain, "mail.partner-a.test", "127.0.0.2",
      "<s@partner-a.test>", NULL, { "r@example.test" }, END_ABORT, 1,
      { "\"queue_id\":null,\"delivered\":false,\"connector\":\"partner-a\",\"verdict\":\"fail\","
        "\"action\":\"reject\"", "\"rcpts\":0,",
        "\"recipients\":[{\"rcpt\":\"r@example.test\",\"connector\":\"partner-a\",\"verdict\":"
        "\"fail\",\"action\":\"reject\",\"mode\":\"enforce\",\"refused\":true,\"reasons\":[\"",
        "\"client_addr\":\"127.0.0.2\"", "\"from\":\"s@partner-a.test\"" },
      "\"reasons\":[]", NULL },
    { "json: refused, connection closed without abort: the line is written at close",
      CFG_JSON, m_pf_plain, "mail.partner-a.test", "127.0.0.2", "<s@partner-a.test>", NULL,
      { "r@example.test" }, END_CLOSE, 1,
      { "\"delivered\":false", "\"refused\":true" }, "\"delivered\":true", NULL },
    { "json: Sendmail's queue id from MAIL is kept for the refused transaction",
      CFG_JSON, m_sm_a_fail, "mail.partner-a.test", "127.0.0.2", "<s@partner-a.test>", "SMQ1",
      { "r@example.test" }, END_ABORT, 1,
      { "\"queue_id\":\"SMQ1\",\"delivered\":false", "\"verified\":\"no\"" }, NULL, NULL },
    { "json: two refused recipients are both listed, each with its reasons",
      CFG_JSON, m_pf_nocert12, "mx.other.test", "203.0.113.5", "<s@other.test>", NULL,
      { "a@strict.example", "b@strict.example" }, END_ABORT, 1,
      { "{\"rcpt\":\"a@strict.example\",\"connector\":\"rcpt-strict\"",
        "{\"rcpt\":\"b@strict.example\",\"connector\":\"rcpt-strict\"",
        "\"refused\":true,\"reasons\":[\"", "\"rcpts\":0," }, "\"refused\":false", NULL },
    { "json: a tempfail refusal is logged with action tempfail",
      CFG_JSON, m_pf_plain, "mx.partner-b.test", "192.0.2.9", "<s@partner-b.test>", NULL,
      { "r@example.test" }, END_ABORT, 1,
      { "\"connector\":\"partner-b\",\"verdict\":\"fail\",\"action\":\"tempfail\"",
        "\"delivered\":false" }, NULL, NULL },
    { "json: refused, then a new MAIL: the first transaction is logged before the second",
      CFG_JSON, m_pf_plain, "mail.partner-a.test", "127.0.0.2", "<s@partner-a.test>", NULL,
      { "r@example.test" }, END_NEWMAIL, 2,
      { "\"delivered\":false", "\"from\":\"s@partner-a.test\"" }, "\"from\":\"s@other.test\"",
      "\"queue_id\":\"QNEW\",\"delivered\":true" },
    { "json: the client gives up after an accepted recipient: delivered false, not refused",
      CFG_JSON, m_pf_plain, "mx.other.test", "203.0.113.5", "<s@other.test>", NULL,
      { "r@example.test" }, END_ABORT, 1,
      { "\"delivered\":false,\"connector\":\"default\"", "\"rcpts\":1,", "\"refused\":false" },
      "\"refused\":true", NULL },
    { "json: a delivered message has one line (delivered true), the abort after it none",
      CFG_JSON, m_pf_plain, "mx.other.test", "203.0.113.5", "<s@other.test>", NULL,
      { "r@example.test" }, END_EOM_ABORT, 1,
      { "\"queue_id\":\"QEOM\",\"delivered\":true" }, "\"delivered\":false", NULL },
    { "json: a message abandoned in DATA keeps the queue id Postfix sent with the headers",
      CFG_JSON, m_pf_plain, "mx.other.test", "203.0.113.5", "<s@other.test>", NULL,
      { "r@example.test" }, END_HDR_ABORT, 1,
      { "\"queue_id\":\"QHDR\",\"delivered\":false", "\"rcpts\":1," }, NULL, NULL },
    { "json: MAIL without recipients, then abort: no line",
      CFG_JSON, m_pf_plain, "mx.other.test", "203.0.113.5", "<s@other.test>", NULL,
      { NULL }, END_ABORT, 0, { NULL }, NULL, NULL },
    { "json: log_json unset: a refused transaction writes no line",
      CFG_BASE, m_pf_plain, "mail.partner-a.test", "127.0.0.2", "<s@partner-a.test>", NULL,
      { "r@example.test" }, END_ABORT, 0, { NULL }, NULL, NULL },
};

static void
txn_mail(SMFICTX *ctx, const char *mail, const char *rcpt0, const char *rcpt1,
         const char *rcpt2)
{
    const char *rcpts[3] = { rcpt0, rcpt1, rcpt2 };
    char *argv[2] = { NULL, NULL };
    sfsistat st;
    size_t i;

    ctx->stage = FAKE_MAIL;
    argv[0] = strdup(mail);
    assert_int_equal(callbacks_envfrom(ctx, argv), fake_ok(ctx));
    free(argv[0]);
    ctx->stage = FAKE_RCPT;
    for (i = 0; i < 3 && rcpts[i] != NULL; i++) {
        char arg[256];

        snprintf(arg, sizeof arg, "<%s>", rcpts[i]);
        fake_clear_reply(ctx);
        fake_macro(ctx, "{rcpt_addr}", rcpts[i]);
        argv[0] = arg;
        st = callbacks_envrcpt(ctx, argv);
        assert_true(st == SMFIS_CONTINUE || st == SMFIS_REJECT || st == SMFIS_TEMPFAIL);
    }
}

static void
run_txn(void **state)
{
    const struct txn_row *row = *state;
    char path[] = "/tmp/test_callbacks_txn_XXXXXX";
    char helo[] = "client.example";
    struct sockaddr_storage ss;
    char *buf, *line[4] = { NULL }, *p;
    size_t nlines = 0, i;
    ssize_t n;
    SMFICTX *ctx = fake_ctx_new();
    int fd;

    assert_non_null(ctx);
    buf = calloc(1, 65536);
    assert_non_null(buf);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(posture_log_json_open(&(struct policy_settings){ .log_json = path }, NULL), 0);
    reload_swap(policy_ref(cfg[row->cfg]));

    do_negotiate(ctx);
    set_macros(ctx, row->macros);
    ctx->stage = FAKE_CONNECT;
    {
        char *host = strdup(row->host);
        assert_int_equal(callbacks_connect(ctx, host, make_sa(row->addr, &ss)), fake_ok(ctx));
        free(host);
    }
    ctx->stage = FAKE_HELO;
    assert_int_equal(callbacks_helo(ctx, helo), fake_ok(ctx));
    if (row->mail_i != NULL)
        fake_macro(ctx, "i", row->mail_i);
    txn_mail(ctx, row->mail, row->rcpt[0], row->rcpt[1], row->rcpt[2]);
    switch (row->end) {
    case END_ABORT:
        ctx->stage = FAKE_ABORT;
        assert_int_equal(callbacks_abort(ctx), SMFIS_CONTINUE);
        break;
    case END_CLOSE:
        break;
    case END_NEWMAIL:
        /* Postfix sends the queue id from DATA on: the second one gets it at EOM */
        txn_mail(ctx, "<s@other.test>", "r@example.test", NULL, NULL);
        ctx->stage = FAKE_EOM;
        fake_macro(ctx, "i", "QNEW");
        assert_int_equal(callbacks_eom(ctx), SMFIS_CONTINUE);
        break;
    case END_HDR_ABORT: {
        char hname[] = "Subject", hval[] = " hi";

        ctx->stage = FAKE_HEADER;
        fake_macro(ctx, "i", "QHDR");
        assert_int_equal(callbacks_header(ctx, hname, hval), fake_ok(ctx));
        ctx->stage = FAKE_ABORT;
        assert_int_equal(callbacks_abort(ctx), SMFIS_CONTINUE);
        break;
    }
    case END_EOM_ABORT:
        ctx->stage = FAKE_EOM;
        fake_macro(ctx, "i", "QEOM");
        assert_int_equal(callbacks_eom(ctx), SMFIS_CONTINUE);
        ctx->stage = FAKE_ABORT;
        assert_int_equal(callbacks_abort(ctx), SMFIS_CONTINUE);
        break;
    }
    ctx->stage = FAKE_CLOSE;
    assert_int_equal(callbacks_close(ctx), SMFIS_CONTINUE);
    want_no_violation(ctx);
    fake_ctx_free(ctx);
    posture_log_json_close();

    n = read(fd, buf, 65535);
    close(fd);
    unlink(path);
    assert_true(n >= 0);
    for (p = buf; *p != '\0' && nlines < 4; nlines++) {
        line[nlines] = p;
        if ((p = strchr(p, '\n')) == NULL) {
            print_error("JSON line %zu is not terminated: \"%s\"\n", nlines + 1, line[nlines]);
            fail();
        }
        *p++ = '\0';
        if (line[nlines][0] != '{' || p - line[nlines] < 3 || p[-2] != '}') {
            print_error("JSON line %zu is not one object: \"%s\"\n", nlines + 1, line[nlines]);
            fail();
        }
    }
    if (nlines != row->want_lines) {
        print_error("got %zu JSON lines, want %zu: \"%s\"\n", nlines, row->want_lines, buf);
        fail();
    }
    for (i = 0; i < 5 && row->sub[i] != NULL; i++)
        want_sub("first JSON line", line[0], row->sub[i]);
    if (row->not_sub != NULL && nlines > 0 && strstr(line[0], row->not_sub) != NULL) {
        print_error("first JSON line \"%s\" must not contain \"%s\"\n", line[0], row->not_sub);
        fail();
    }
    if (row->sub2 != NULL)
        want_sub("second JSON line", line[1], row->sub2);
    free(buf);
}

/* ------------------------------------------------------------ negotiation */

struct nego_row {
    const char *name;
    unsigned long f0, f1;
    unsigned long want_p0, want_p1;
    int want_symlists;
};

#define ALL_ACT (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST)
#define ALL_STEPS (SMFIP_NOBODY | SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA)
#define ALL_NR (SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_HDR)
#define ALL_PROTO (ALL_STEPS | ALL_NR | SMFIP_HDR_LEADSPC)

static const struct nego_row nego_rows[] = {
    { "negotiate: Postfix offer (0x1ff/0x1fffff) gets our actions, lists and LEADSPC",
      0x1ff, 0x1fffff, ALL_ACT, ALL_PROTO, 5 },
    { "negotiate: no SMFIF_SETSYMLIST offered: no lists, still continue",
      0xff, 0x1fffff, ALL_ACT & ~SMFIF_SETSYMLIST, ALL_PROTO, 0 },
    { "negotiate: nothing offered: ask for nothing", 0, 0, 0, 0, 0 },
    { "negotiate: no LEADSPC offered: not requested",
      0x1ff, 0x3ff, ALL_ACT, ALL_STEPS | SMFIP_NR_HDR, 5 },
    { "negotiate: no no-reply steps offered (protocol 2): every stage answered",
      0x1ff, 0x7f, ALL_ACT, ALL_STEPS & 0x7f, 5 },
    { "negotiate: every no-reply step offered: only HELO, MAIL, header taken",
      0x1ff, ALL_STEPS | SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT |
      SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NR_HDR,
      ALL_ACT, ALL_STEPS | ALL_NR, 5 },
};

static void
run_nego(void **state)
{
    const struct nego_row *r = *state;
    unsigned long p0 = 7, p1 = 7, p2 = 7, p3 = 7;
    SMFICTX *ctx = fake_ctx_new();

    ctx->stage = FAKE_NEGOTIATE;
    assert_int_equal(callbacks_negotiate(ctx, r->f0, r->f1, 0, 0, &p0, &p1, &p2, &p3),
                     SMFIS_CONTINUE);
    assert_int_equal(p0, r->want_p0);
    assert_int_equal(p1, r->want_p1);
    assert_int_equal(p2, 0);
    assert_int_equal(p3, 0);
    assert_int_equal(ctx->nsymlist, r->want_symlists);
    if (r->want_symlists) {
        want_str("connect list", ctx->symlist[SMFIM_CONNECT], "j _ v {daemon_name} "
                 "{daemon_addr} {daemon_port} {client_addr} {client_name}");
        want_str("helo list", ctx->symlist[SMFIM_HELO], "{tls_version} {cipher} "
                 "{cipher_bits} {cert_subject} {cert_issuer} {verify} {cert_fp} {cert_md5}");
        want_str("envfrom list", ctx->symlist[SMFIM_ENVFROM], "i {mail_addr} {tls_version} "
                 "{cipher} {cipher_bits} {cert_subject} {cert_issuer} {verify} "
                 "{cert_fp} {cert_md5}");
        want_str("envrcpt list", ctx->symlist[SMFIM_ENVRCPT], "{rcpt_addr}");
        want_str("eom list", ctx->symlist[SMFIM_EOM], "i");
    }
    want_no_violation(ctx);
    ctx->stage = FAKE_CLOSE;
    callbacks_close(ctx);
    fake_ctx_free(ctx);
}

/* ------------------------------------------------------------ single cases */

/* Drive a whole message for the default connector; returns the added header. */
static char *
simple_message(SMFICTX *ctx, bool negotiate, const char *const *macros)
{
    char from[] = "<s@other.test>", rcpt[] = "<r@example.test>";
    char *argv[2] = { from, NULL };
    struct sockaddr_storage ss;
    const char *v;

    if (negotiate)
        do_negotiate(ctx);
    set_macros(ctx, macros);
    ctx->stage = FAKE_CONNECT;
    assert_int_equal(callbacks_connect(ctx, NULL, make_sa("203.0.113.5", &ss)),
                     fake_ok(ctx));
    ctx->stage = FAKE_MAIL;
    assert_int_equal(callbacks_envfrom(ctx, argv), fake_ok(ctx));
    ctx->stage = FAKE_RCPT;
    argv[0] = rcpt;
    assert_int_equal(callbacks_envrcpt(ctx, argv), SMFIS_CONTINUE);
    ctx->stage = FAKE_EOM;
    assert_int_equal(callbacks_eom(ctx), SMFIS_CONTINUE);
    v = fake_op_value(ctx, 'a', "X-TLS-Policy");
    return v != NULL ? strdup(v) : NULL;
}

static void
test_no_leadspc(void **state)
{
    unsigned long p0, p1, p2, p3;
    SMFICTX *ctx = fake_ctx_new();
    char *v;

    (void)state;
    reload_swap(policy_ref(cfg[CFG_BASE]));
    ctx->stage = FAKE_NEGOTIATE;
    callbacks_negotiate(ctx, 0x1ff, 0, 0, 0, &p0, &p1, &p2, &p3);
    v = simple_message(ctx, false, m_pf_plain);
    want_sub("header without LEADSPC", v, "none (");
    assert_true(v != NULL && v[0] == 'n');
    free(v);
    ctx->stage = FAKE_CLOSE;
    callbacks_close(ctx);
    fake_ctx_free(ctx);
}

static void
test_close_without_priv(void **state)
{
    SMFICTX *ctx = fake_ctx_new();

    (void)state;
    ctx->stage = FAKE_CLOSE;
    assert_int_equal(callbacks_close(ctx), SMFIS_CONTINUE);
    ctx->stage = FAKE_ABORT;
    assert_int_equal(callbacks_abort(ctx), SMFIS_CONTINUE);
    want_no_violation(ctx);
    fake_ctx_free(ctx);
}

/* One message through connect..eom with the given From: fields; returns what eom
 * answered. The session comes from 198.51.100.7, outside partner-a's addresses. */
static sfsistat
from_message(SMFICTX *ctx, const char *mail, const char *const *from, size_t nfrom)
{
    struct sockaddr_storage ss;
    char host[] = "spoof.example", helo[] = "client.example";
    char *argv[2] = { NULL, NULL };

    reload_swap(policy_ref(cfg[CFG_BASE]));
    do_negotiate(ctx);
    set_macros(ctx, m_pf_plain);
    ctx->stage = FAKE_CONNECT;
    assert_int_equal(callbacks_connect(ctx, host, make_sa("198.51.100.7", &ss)), fake_ok(ctx));
    ctx->stage = FAKE_HELO;
    assert_int_equal(callbacks_helo(ctx, helo), fake_ok(ctx));
    ctx->stage = FAKE_MAIL;
    argv[0] = strdup(mail);
    assert_int_equal(callbacks_envfrom(ctx, argv), fake_ok(ctx));
    free(argv[0]);
    ctx->stage = FAKE_RCPT;
    fake_macro(ctx, "{rcpt_addr}", "r@example.test");
    argv[0] = strdup("<r@example.test>");
    assert_int_equal(callbacks_envrcpt(ctx, argv), SMFIS_CONTINUE);
    free(argv[0]);
    ctx->stage = FAKE_HEADER;
    for (size_t i = 0; i < nfrom; i++) {
        char *n = strdup("From"), *v = strdup(from[i]);

        assert_int_equal(callbacks_header(ctx, n, v), fake_ok(ctx));
        free(n);
        free(v);
    }
    ctx->stage = FAKE_EOM;
    fake_macro(ctx, "i", "4ABCDEF124");
    return callbacks_eom(ctx);
}

/* Issue 11 item 4: From: names a restricted sender domain the envelope does not;
 * end of message refuses it with the owning connector's reply, adds no header. */
static void
test_from_header_refused(void **state)
{
    static const char *const forged[] = {
        " \"Payments\" <pay@partner-a.test>",
        " (folded)\r\n\t=?utf-8?q?Pay?= <x@PARTNER-A.test>",
        " a@elsewhere.test",
    };
    static const char *const second[] = { " a@elsewhere.test", " b@partner-a.test" };
    static const char *const clean[] = { " \"pay@partner-a.test\" <x@evil.test>" };
    struct { const char *const *v; size_t n; bool refused; } cases[] = {
        { forged, 1, true }, { forged + 1, 1, true }, { second, 2, true },
        { clean, 1, false }, { forged + 2, 1, false },
    };

    (void)state;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        SMFICTX *ctx = fake_ctx_new();

        assert_non_null(ctx);
        fake_clear_reply(ctx);
        if (cases[k].refused) {
            assert_int_equal(from_message(ctx, "<x@evil.test>", cases[k].v, cases[k].n),
                             SMFIS_REJECT);
            want_str("reply code", ctx->rcode, "550");
            want_str("enhanced code", ctx->xcode, "5.7.1");
            want_sub("reply text", ctx->reply_text, "partner-a must use verified TLS");
            assert_int_equal(fake_count_ops(ctx, 'a', "X-TLS-Policy"), 0);
        } else {
            assert_int_equal(from_message(ctx, "<x@evil.test>", cases[k].v, cases[k].n),
                             SMFIS_CONTINUE);
            assert_int_equal(fake_count_ops(ctx, 'a', "X-TLS-Policy"), 1);
        }
        want_no_violation(ctx);
        ctx->stage = FAKE_CLOSE;
        assert_int_equal(callbacks_close(ctx), SMFIS_CONTINUE);
        fake_ctx_free(ctx);
    }
}

static void
test_no_priv_tempfails(void **state)
{
    SMFICTX *ctx = fake_ctx_new();
    char from[] = "<s@other.test>", n[] = "Subject", val[] = " x", helo[] = "h";
    char *argv[2] = { from, NULL };

    (void)state;
    reload_swap(policy_ref(cfg[CFG_BASE]));
    ctx->stage = FAKE_HELO;
    assert_int_equal(callbacks_helo(ctx, helo), SMFIS_TEMPFAIL);
    ctx->stage = FAKE_MAIL;
    assert_int_equal(callbacks_envfrom(ctx, argv), SMFIS_TEMPFAIL);
    want_str("reply code", ctx->rcode, "451");
    want_str("enhanced code", ctx->xcode, "4.3.0");
    ctx->stage = FAKE_RCPT;
    assert_int_equal(callbacks_envrcpt(ctx, argv), SMFIS_TEMPFAIL);
    ctx->stage = FAKE_HEADER;
    assert_int_equal(callbacks_header(ctx, n, val), SMFIS_TEMPFAIL);
    ctx->stage = FAKE_EOM;
    assert_int_equal(callbacks_eom(ctx), SMFIS_TEMPFAIL);
    want_no_violation(ctx);
    fake_ctx_free(ctx);
}

static void
test_no_priv_on_error_accept(void **state)
{
    SMFICTX *ctx = fake_ctx_new();
    char from[] = "<s@other.test>";
    char *argv[2] = { from, NULL };

    (void)state;
    reload_swap(policy_ref(cfg[CFG_ACCEPT_ERR]));
    ctx->stage = FAKE_MAIL;
    assert_int_equal(callbacks_envfrom(ctx, argv), SMFIS_ACCEPT);
    ctx->stage = FAKE_EOM;
    assert_int_equal(callbacks_eom(ctx), SMFIS_ACCEPT);
    fake_ctx_free(ctx);
}

static void
test_setpriv_fails_at_connect(void **state)
{
    SMFICTX *ctx = fake_ctx_new();

    (void)state;
    reload_swap(policy_ref(cfg[CFG_BASE]));
    ctx->fail_setpriv = true;
    ctx->stage = FAKE_CONNECT;
    assert_int_equal(callbacks_connect(ctx, NULL, NULL), SMFIS_TEMPFAIL);
    want_no_violation(ctx);   /* no smfi_setreply in connect */
    fake_ctx_free(ctx);
}

static void
test_no_policy_at_connect(void **state)
{
    SMFICTX *ctx = fake_ctx_new();

    (void)state;
    reload_swap(NULL);
    ctx->stage = FAKE_CONNECT;
    assert_int_equal(callbacks_connect(ctx, NULL, NULL), SMFIS_TEMPFAIL);
    ctx->stage = FAKE_CLOSE;
    assert_int_equal(callbacks_close(ctx), SMFIS_CONTINUE);
    assert_null(ctx->priv);
    fake_ctx_free(ctx);
}

/* Two messages on one connection: the second starts clean. */
static void
test_two_messages_reset(void **state)
{
    SMFICTX *ctx = fake_ctx_new();
    char from[] = "<s@other.test>", rcpt[] = "<r@example.test>";
    char n[] = "X-TLS-Policy", val[] = " pass";
    char *argv[2] = { from, NULL };
    char *v;

    (void)state;
    reload_swap(policy_ref(cfg[CFG_BASE]));
    do_negotiate(ctx);
    set_macros(ctx, m_pf_plain);
    ctx->stage = FAKE_CONNECT;
    assert_int_equal(callbacks_connect(ctx, NULL, NULL), fake_ok(ctx));
    /* message 1: forged header, then aborted (RSET) */
    ctx->stage = FAKE_MAIL;
    assert_int_equal(callbacks_envfrom(ctx, argv), fake_ok(ctx));
    ctx->stage = FAKE_RCPT;
    argv[0] = rcpt;
    assert_int_equal(callbacks_envrcpt(ctx, argv), SMFIS_CONTINUE);
    ctx->stage = FAKE_HEADER;
    assert_int_equal(callbacks_header(ctx, n, val), fake_ok(ctx));
    ctx->stage = FAKE_ABORT;
    assert_int_equal(callbacks_abort(ctx), SMFIS_CONTINUE);
    /* message 2: no forged header, so nothing may be removed */
    argv[0] = from;
    v = simple_message(ctx, false, NULL);
    assert_non_null(v);
    free(v);
    assert_int_equal(fake_count_ops(ctx, 'c', "X-TLS-Policy"), 0);
    /* message 3 after a completed message: one more header, no leftovers */
    v = simple_message(ctx, false, NULL);
    free(v);
    assert_int_equal(fake_count_ops(ctx, 'a', "X-TLS-Policy"), 2);
    assert_int_equal(fake_count_ops(ctx, 'c', "X-TLS-Policy"), 0);
    ctx->stage = FAKE_CLOSE;
    callbacks_close(ctx);
    fake_ctx_free(ctx);
}

/* A reload during a connection does not change what that connection sees. */
static void
test_snapshot_per_connection(void **state)
{
    SMFICTX *c1 = fake_ctx_new(), *c2 = fake_ctx_new();
    struct sockaddr_storage ss;
    char *v;

    (void)state;
    reload_swap(policy_ref(cfg[CFG_BASE]));
    do_negotiate(c1);
    c1->stage = FAKE_CONNECT;
    assert_int_equal(callbacks_connect(c1, NULL, make_sa("203.0.113.5", &ss)),
                     fake_ok(c1));
    reload_swap(policy_ref(cfg[CFG_NOHDR]));       /* SIGUSR1 arrives */
    v = simple_message(c1, false, m_pf_plain);     /* connect again is harmless */
    assert_non_null(v);                            /* old snapshot: header on */
    free(v);
    v = simple_message(c2, true, m_pf_plain);      /* new connection: header off */
    assert_null(v);
    c1->stage = c2->stage = FAKE_CLOSE;
    callbacks_close(c1);
    callbacks_close(c2);
    fake_ctx_free(c1);
    fake_ctx_free(c2);
}

static void
test_json_log_line(void **state)
{
    char path[] = "/tmp/test_callbacks_json_XXXXXX";
    char buf[8192];
    SMFICTX *ctx = fake_ctx_new();
    struct policy *p;
    ssize_t n;
    int fd;
    char *v;

    (void)state;
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(posture_log_json_open(&(struct policy_settings){ .log_json = path }, NULL), 0);
    /* any config with log_json set would do; the fd is what counts */
    p = cfg[CFG_BASE];
    reload_swap(policy_ref(p));
    v = simple_message(ctx, true, m_crlf);
    free(v);
    posture_log_json_close();
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    unlink(path);
    ctx->stage = FAKE_CLOSE;
    callbacks_close(ctx);
    fake_ctx_free(ctx);
    /* CFG_BASE has no log_json: nothing may be written */
    assert_int_equal(n, 0);
}

static void
test_json_format(void **state)
{
    struct policy_facts f;
    struct policy_result r;
    struct policy_macros m;
    struct posture_rcpt pr[1];
    struct posture_msg msg;
    struct strbuf b;
    const char *s;

    (void)state;
    memset(&m, 0, sizeof m);
    m.tls_version = "TLSv1.3";
    m.cipher = "TLS_AES_256_GCM_SHA384";
    m.cipher_bits = "256";
    m.cert_subject = "bad\r\n\"name\"\xff";
    m.sender = "<s@other.test>";
    m.client_addr = "203.0.113.5";
    assert_int_equal(policy_facts_build(&f, &m), 0);
    assert_int_equal(policy_eval(cfg[CFG_BASE], &f, "r@example.test", &r), 0);
    pr[0].rcpt = "r@example.test";
    pr[0].res = &r;
    pr[0].refused = false;
    memset(&msg, 0, sizeof msg);
    msg.queue_id = "QID";
    msg.facts = &f;
    msg.summary = &r;
    msg.rcpts = pr;
    msg.nrcpts = msg.naccepted = 1;
    msg.host = "mx1\"x";
    msg.policy = "sha256:0011223344556677";
    msg.prev = "genesis";
    strbuf_init(&b);
    posture_render_json(&b, &msg, 0);
    s = strbuf_str(&b);
    want_sub("json", s, "{\"schema\":1,\"time\":\"1970-01-01T00:00:00Z\",\"host\":\"mx1\\\"x\","
             "\"policy\":\"sha256:0011223344556677\",\"queue_id\":\"QID\"");
    want_sub("json", s, "],\"prev\":\"genesis\"}\n");
    want_sub("json", s, "\"cert\":\"bad\\r\\n\\\"name\\\"\\u00FF\"");
    want_sub("json", s, "\"recipients\":[{\"rcpt\":\"r@example.test\",\"connector\":\"default\"");
    want_sub("json", s, "\"bits\":256");
    assert_true(b.len > 0 && s[b.len - 1] == '\n' && strchr(s, '\n') == s + b.len - 1);
    strbuf_reset(&b);
    posture_render_line(&b, &msg);
    s = strbuf_str(&b);
    want_sub("log line", s, "QID: connector=default verdict=none action=accept mode=enforce "
             "client=unknown[203.0.113.5] from=<s@other.test> rcpts=1 tls=TLSv1.3");
    want_sub("log line", s, "cert=\"bad\\x0D\\x0A\\\"name\\\"\\xFF\"");
    strbuf_free(&b);
    policy_result_free(&r);
    policy_facts_free(&f);
}

/* Long reasons and values: folded lines stay short, the total is capped, and
 * unfolding gives one line back. */
static void
test_header_folding(void **state)
{
    struct policy_facts f;
    struct policy_macros m;
    struct policy_result r;
    struct strbuf b;
    char reasons[POLICY_MAX_REASONS][128];
    const char *v, *line;
    size_t i, len;

    (void)state;
    memset(&m, 0, sizeof m);
    m.tls_version = "TLSv1.2";
    m.cipher = "ECDHE-RSA-AES256-GCM-SHA384";
    m.cipher_bits = "256";
    m.cert_subject = "a-rather-long-certificate-name.with-many-labels.partner-a.example.test";
    m.cert_issuer = "An Issuing CA With A Long Name Of Its Own, Department Of Names";
    assert_int_equal(policy_facts_build(&f, &m), 0);
    memset(&r, 0, sizeof r);
    r.connector = "partner-with-a-long-name";
    r.verdict = POLICY_VERDICT_FAIL;
    r.action = POLICY_ACTION_TAG;
    r.root = "Test Root CA R1, Test Root CA R2";
    r.nreasons = POLICY_MAX_REASONS;
    for (i = 0; i < POLICY_MAX_REASONS; i++) {
        snprintf(reasons[i], sizeof reasons[i], "requirement %zu failed: the session did not "
                 "offer what the connector asks for", i);
        r.reasons[i] = reasons[i];
    }
    strbuf_init(&b);
    posture_render_header(&b, strlen("X-TLS-Policy"), true, &f, &r);
    assert_false(b.oom);
    v = strbuf_str(&b);
    want_sub("folded header", v, "; ...\")");
    for (line = v, i = 0; *line != '\0'; i++) {
        len = strcspn(line, "\n");
        if ((i == 0 ? len + strlen("X-TLS-Policy:") : len) > 78) {
            print_error("line %zu is %zu characters: \"%.*s\"\n", i, len, (int)len, line);
            fail();
        }
        line += len;
        if (*line == '\n') {
            assert_true(line[1] == ' ' || line[1] == '\t');
            line++;
        }
    }
    assert_true(i > 5);
    assert_true(b.len < 1200);
    strbuf_free(&b);
    policy_facts_free(&f);
}

struct json_thread_arg {
    int id;
    const struct posture_msg *msg;
};

static void *
json_writer(void *arg)
{
    const struct json_thread_arg *a = arg;

    for (int i = 0; i < 200; i++)
        posture_log_message(a->msg);
    return NULL;
}

/* Concurrent sessions never interleave JSON lines (one write(2) per line). */
static void
test_json_concurrent(void **state)
{
    char path[] = "/tmp/test_callbacks_jsonc_XXXXXX";
    char reason[3000];
    struct policy_result r;
    struct posture_msg msg;
    struct json_thread_arg args[8];
    pthread_t th[8];
    FILE *fp;
    char *line = NULL;
    size_t cap = 0, nlines = 0;
    ssize_t len;
    int fd, i;

    (void)state;
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(posture_log_json_open(&(struct policy_settings){ .log_json = path }, NULL), 0);
    memset(reason, 'x', sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    memset(&r, 0, sizeof r);
    r.connector = "default";
    /* 16 capped reasons: lines of ~8 KiB, more than PIPE_BUF */
    r.nreasons = POLICY_MAX_REASONS;
    for (i = 0; i < POLICY_MAX_REASONS; i++)
        r.reasons[i] = reason;
    memset(&msg, 0, sizeof msg);
    msg.queue_id = "QCONC";
    msg.summary = &r;
    msg.json = true;
    for (i = 0; i < 8; i++) {
        args[i].id = i;
        args[i].msg = &msg;
        assert_int_equal(pthread_create(&th[i], NULL, json_writer, &args[i]), 0);
    }
    for (i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    posture_log_json_close();
    fp = fopen(path, "r");
    assert_non_null(fp);
    while ((len = getline(&line, &cap, fp)) > 0) {
        nlines++;
        if (line[0] != '{' || len < 3 || line[len - 2] != '}' || line[len - 1] != '\n' ||
            strstr(line + 1, "{\"time\"") != NULL) {
            print_error("line %zu is mangled (%zd bytes)\n", nlines, len);
            fail();
        }
    }
    free(line);
    fclose(fp);
    unlink(path);
    assert_int_equal(nlines, 8 * 200);
}

/* SIGUSR1's work: a good file is swapped in, a broken one leaves the old. */
static void
test_reload_now(void **state)
{
    char path[] = "/tmp/test_callbacks_reload_XXXXXX";
    const char *pki = getenv("TLSPOLICY_TEST_PKI");
    struct policy *before, *after;
    FILE *fp;
    int fd;

    (void)state;
    fd = mkstemp(path);
    assert_true(fd >= 0);
    fp = fdopen(fd, "w");
    assert_non_null(fp);
    fprintf(fp, "version: 1\nsettings:\n  trust_store: %s/trust.pem\nconnectors:\n"
                "  - name: only\n    match: {sender_domains: [only.test]}\n", pki);
    fclose(fp);
    assert_int_equal(reload_init(policy_ref(cfg[CFG_BASE]), path), 0);
    before = reload_current();
    assert_ptr_equal(before, cfg[CFG_BASE]);
    assert_int_equal(reload_now(), 0);
    after = reload_current();
    assert_ptr_not_equal(after, before);
    assert_int_equal(policy_connector_count(after), 1);
    policy_unref(after);
    policy_unref(before);
    /* broken file: the one-connector policy stays */
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("version: 1\nconnectors: [ {name: x, match: {}}\n", fp);
    fclose(fp);
    before = reload_current();
    assert_int_equal(reload_now(), -1);
    after = reload_current();
    assert_ptr_equal(after, before);
    policy_unref(after);
    policy_unref(before);
    unlink(path);
    reload_swap(policy_ref(cfg[CFG_BASE]));
}

/* ------------------------------------------------------------ sanitiser */

struct esc_row {
    const char *name;
    const char *in;
    size_t cap;
    enum esc_mode how;
    const char *want;
};

static const struct esc_row esc_rows[] = {
    { "sanitise quoted: CR LF NUL-free control bytes", "a\r\nb\x01", 64, ESC_QUOTED,
      "a\\x0D\\x0Ab\\x01" },
    { "sanitise quoted: quote and backslash", "a\"b\\c", 64, ESC_QUOTED, "a\\\"b\\\\c" },
    { "sanitise quoted: non-ASCII as \\xHH", "Z\xc3\xbcrich", 64, ESC_QUOTED,
      "Z\\xC3\\xBCrich" },
    { "sanitise quoted: DEL", "a\x7f", 64, ESC_QUOTED, "a\\x7F" },
    { "sanitise quoted: capped with ...", "abcdefgh", 4, ESC_QUOTED, "abcd..." },
    { "sanitise bare: space escaped", "a b", 64, ESC_BARE, "a\\x20b" },
    { "sanitise reply: percent dropped", "100% sure %s", 64, ESC_REPLY, "100 sure s" },
    { "sanitise reply: CR LF and 8-bit become ?", "a\r\n\xc3", 64, ESC_REPLY, "a???" },
    { "sanitise json: escapes", "\"\\\n\r\t\x01\x7f", 64, ESC_JSON,
      "\\\"\\\\\\n\\r\\t\\u0001\\u007F" },
    { "sanitise json: valid UTF-8 kept", "Z\xc3\xbcrich \xe2\x82\xac", 64, ESC_JSON,
      "Z\xc3\xbcrich \xe2\x82\xac" },
    { "sanitise json: invalid UTF-8 byte as \\u00XX", "a\xc3(\xff\xed\xa0\x80", 64,
      ESC_JSON, "a\\u00C3(\\u00FF\\u00ED\\u00A0\\u0080" },
    { "sanitise json: truncated sequence at the cap", "ab\xc3\xbc", 3, ESC_JSON,
      "ab\\u00C3..." },
    { "sanitise line: CR LF and 8-bit escaped, quote, backslash, space, % kept",
      "Q1\r\nx: \"a\\b\" 100%\xc3", 64, ESC_LINE, "Q1\\x0D\\x0Ax: \"a\\b\" 100%\\xC3" },
    { "sanitise: NULL appends nothing", NULL, 64, ESC_QUOTED, "" },
};

static void
run_esc(void **state)
{
    const struct esc_row *r = *state;
    struct strbuf b;

    strbuf_init(&b);
    esc_put(&b, r->in, r->cap, r->how);
    assert_false(b.oom);
    want_str(r->name, strbuf_str(&b), r->want);
    strbuf_free(&b);
}

/* ------------------------------------------------------------ replies */

struct reply_row {
    const char *name;
    enum policy_action action;
    const char *reply;
    const char *rcode, *xcode, *text;
};

static const struct reply_row reply_rows[] = {
    { "reply: connector text split into xcode and text", POLICY_ACTION_REJECT,
      "5.7.1 use TLS please", "550", "5.7.1", "use TLS please" },
    { "reply: other 5.x.x code kept", POLICY_ACTION_REJECT, "5.7.26 policy", "550", "5.7.26",
      "policy" },
    { "reply: text without a code gets 5.7.1", POLICY_ACTION_REJECT, "just text", "550",
      "5.7.1", "just text" },
    { "reply: tempfail gets 451 4.7.1", POLICY_ACTION_TEMPFAIL, "4.7.0 later", "451", "4.7.0",
      "later" },
    { "reply: contradicting class keeps ours", POLICY_ACTION_TEMPFAIL, "5.7.1 nope", "451",
      "4.7.1", "nope" },
    { "reply: no text gives TLS policy <name>: <reason>", POLICY_ACTION_REJECT, NULL, "550",
      "5.7.1", "TLS policy conn-x: first reason" },
};

static void
run_reply(void **state)
{
    const struct reply_row *row = *state;
    struct policy_result r;
    struct posture_reply out;
    char reason[] = "first reason";

    memset(&r, 0, sizeof r);
    r.connector = "conn-x";
    r.action = row->action;
    r.reply = row->reply;
    r.nreasons = 1;
    r.reasons[0] = reason;
    assert_int_equal(posture_render_reply(&r, &out), 0);
    want_str("rcode", out.rcode, row->rcode);
    want_str("xcode", out.xcode, row->xcode);
    want_str("text", out.text, row->text);
    posture_render_reply_free(&out);
}

/* ------------------------------------------------------------ unanswered stages */

/* A failure in a stage the MTA does not wait for (SMFIP_NR_*) must surface at
 * the next answered stage, as on_error says; never as a lost answer. */
enum defer_fault { DEFER_MAIL_OOM, DEFER_HEADER_OOM };

struct defer_row {
    const char *name;
    int cfg;
    enum defer_fault fault;
    bool noreply;               /* negotiate with Postfix's offer, else protocol 2 */
    sfsistat want_fault;        /* the answer of the failing stage */
    sfsistat want_rcpt, want_eom;
};

static const struct defer_row defer_rows[] = {
    { "no-reply MAIL out of memory: every RCPT gets 451 4.3.0",
      CFG_BASE, DEFER_MAIL_OOM, true, SMFIS_NOREPLY, SMFIS_TEMPFAIL, 0 },
    { "no-reply MAIL out of memory, on_error accept: delivered without a decision",
      CFG_ACCEPT_ERR, DEFER_MAIL_OOM, true, SMFIS_NOREPLY, SMFIS_CONTINUE, SMFIS_CONTINUE },
    { "answered MAIL out of memory (protocol 2): 451 4.3.0 at MAIL",
      CFG_BASE, DEFER_MAIL_OOM, false, SMFIS_TEMPFAIL, 0, 0 },
    { "no-reply header out of memory: 451 4.3.0 at end of message, nothing added",
      CFG_BASE, DEFER_HEADER_OOM, true, SMFIS_NOREPLY, SMFIS_CONTINUE, SMFIS_TEMPFAIL },
    { "answered header out of memory (protocol 2): 451 4.3.0 at the header",
      CFG_BASE, DEFER_HEADER_OOM, false, SMFIS_TEMPFAIL, SMFIS_CONTINUE, 0 },
};

static void
want_451(SMFICTX *ctx)
{
    want_str("reply code", ctx->rcode, "451");
    want_str("enhanced code", ctx->xcode, "4.3.0");
}

static void
run_defer(void **state)
{
    const struct defer_row *r = *state;
    unsigned long p0 = 0, p1 = 0, p2 = 0, p3 = 0;
    char host[] = "client.example", helo[] = "client.example";
    char from[] = "<s@other.test>", rcpt[] = "<r@example.test>";
    char hn[] = "Authentication-Results", hv[] = " mx.local.test; tls=pass";
    char *argv[2] = { from, NULL };
    struct sockaddr_storage ss;
    SMFICTX *ctx = fake_ctx_new();
    sfsistat st;
    int i;

    assert_non_null(ctx);
    reload_swap(policy_ref(cfg[r->cfg]));
    ctx->stage = FAKE_NEGOTIATE;
    assert_int_equal(callbacks_negotiate(ctx, 0x1ff, r->noreply ? 0x1fffff : 0x7f, 0, 0,
                                         &p0, &p1, &p2, &p3), SMFIS_CONTINUE);
    ctx->pflags = p1;
    set_macros(ctx, m_pf_plain);
    ctx->stage = FAKE_CONNECT;
    assert_int_equal(callbacks_connect(ctx, host, make_sa("203.0.113.5", &ss)), SMFIS_CONTINUE);
    ctx->stage = FAKE_HELO;
    assert_int_equal(callbacks_helo(ctx, helo), fake_ok(ctx));
    ctx->stage = FAKE_MAIL;
    fake_fail_strdup = r->fault == DEFER_MAIL_OOM ? 1 : 0;
    st = callbacks_envfrom(ctx, argv);
    fake_fail_strdup = 0;
    assert_int_equal(st, r->fault == DEFER_MAIL_OOM ? r->want_fault : fake_ok(ctx));
    if (st == SMFIS_TEMPFAIL) {
        want_451(ctx);
        goto done;              /* the MTA refuses MAIL; no transaction follows */
    }
    ctx->stage = FAKE_RCPT;
    argv[0] = rcpt;
    for (i = 0; i < 2; i++) {   /* every recipient gets the deferred answer */
        fake_clear_reply(ctx);
        assert_int_equal(callbacks_envrcpt(ctx, argv), r->want_rcpt);
        if (r->want_rcpt == SMFIS_TEMPFAIL)
            want_451(ctx);
    }
    if (r->want_rcpt == SMFIS_TEMPFAIL) {
        ctx->stage = FAKE_ABORT;
        assert_int_equal(callbacks_abort(ctx), SMFIS_CONTINUE);
        goto done;
    }
    ctx->stage = FAKE_HEADER;
    fake_fail_realloc = r->fault == DEFER_HEADER_OOM ? 1 : 0;
    st = callbacks_header(ctx, hn, hv);
    fake_fail_realloc = 0;
    assert_int_equal(st, r->fault == DEFER_HEADER_OOM ? r->want_fault : fake_ok(ctx));
    if (st == SMFIS_TEMPFAIL) {
        want_451(ctx);
        ctx->stage = FAKE_ABORT;
        assert_int_equal(callbacks_abort(ctx), SMFIS_CONTINUE);
        goto done;
    }
    ctx->stage = FAKE_EOM;
    fake_clear_reply(ctx);
    assert_int_equal(callbacks_eom(ctx), r->want_eom);
    assert_int_equal(fake_count_ops(ctx, 'a', "X-TLS-Policy"), 0);
    if (r->want_eom == SMFIS_TEMPFAIL) {
        want_451(ctx);
        /* the next message on the connection starts clean */
        char *v = simple_message(ctx, false, NULL);
        assert_non_null(v);
        free(v);
    }
done:
    want_no_violation(ctx);
    ctx->stage = FAKE_CLOSE;
    assert_int_equal(callbacks_close(ctx), SMFIS_CONTINUE);
    fake_ctx_free(ctx);
}

/* ------------------------------------------------------------ main */

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

int
main(void)
{
    static const struct { const char *name; CMUnitTestFunction fn; } singles[] = {
        { "negotiate without LEADSPC: header value has no leading space", test_no_leadspc },
        { "close and abort without private data", test_close_without_priv },
        { "no private data: tempfail with 451 4.3.0 (on_error tempfail)", test_no_priv_tempfails },
        { "From: naming a restricted domain is refused at end of message", test_from_header_refused },
        { "no private data: accept (on_error accept)", test_no_priv_on_error_accept },
        { "smfi_setpriv failure at connect: tempfail, no reply call", test_setpriv_fails_at_connect },
        { "no policy loaded at connect: tempfail", test_no_policy_at_connect },
        { "abort and new MAIL reset the message state", test_two_messages_reset },
        { "a reload does not change a running connection's snapshot", test_snapshot_per_connection },
        { "no JSON line when log_json is off", test_json_log_line },
        { "JSON line and syslog line formats, escaped", test_json_format },
        { "long header values are folded under 78 columns and capped", test_header_folding },
        { "8 threads x 200 JSON lines never interleave", test_json_concurrent },
        { "reload: good file swapped in, broken file keeps the old policy", test_reload_now },
    };
    struct table_tests tt = { 0 };

    TABLE_TEST_ROWS(&tt, scenarios, name, run_scenario);
    TABLE_TEST_ROWS(&tt, txn_rows, name, run_txn);
    TABLE_TEST_ROWS(&tt, nego_rows, name, run_nego);
    TABLE_TEST_ROWS(&tt, defer_rows, name, run_defer);
    for (size_t i = 0; i < NROWS(singles); i++)
        table_test_add(&tt, singles[i].name, singles[i].fn, NULL);
    TABLE_TEST_ROWS(&tt, esc_rows, name, run_esc);
    TABLE_TEST_ROWS(&tt, reply_rows, name, run_reply);
    return table_test_run(&tt, "milter_callbacks", load_configs, free_configs);
}
