/*
 * test_policy_eval.c -- the evaluator, table-driven: one connectors file, many
 * sessions (as Postfix and Sendmail describe them), each with the connector, verdict,
 * action and reason we want. The trust store is the generated test PKI.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "policy.h"
#include "table_test.h"

static const char policy_text[] =
    "version: 1\n"
    "settings:\n"
    "  mode: enforce\n"
    "  trust_store: @PKI@/trust.pem\n"
    "defaults:\n"
    "  require: {}\n"
    "  on_fail: tag\n"
    "connectors:\n"
    "  - name: partner-a\n"
    "    match:\n"
    "      sender_domains: [partner-a.test, \"*.partner-a.test\"]\n"
    "    require:\n"
    "      tls: true\n"
    "      min_version: TLSv1.2\n"
    "      min_cipher_bits: 128\n"
    "      forward_secrecy: true\n"
    "      certificate: verified\n"
    "      certificate_names: [mail.partner-a.test, \"*.partner-a.test\"]\n"
    "      issuers: [\"Test Issuing CA 1\"]\n"
    "      root_issuers: [\"Test Root CA R1\"]\n"
    "    on_fail: reject\n"
    "    reply: \"5.7.1 partner-a must use verified TLS 1.2\"\n"
    "  - name: disabled-first\n"
    "    enabled: false\n"
    "    match: { sender_domains: [partner-b.test] }\n"
    "    require: { tls: true }\n"
    "    on_fail: reject\n"
    "  - name: partner-b\n"
    "    match: { sender_domains: [partner-b.test] }\n"
    "    require: { certificate: verified, root_issuers: [\"Other Root CA\"] }\n"
    "    on_fail: tempfail\n"
    "  - name: partner-b-shadowed\n"
    "    match: { sender_domains: [partner-b.test] }\n"
    "    require: { tls: true }\n"
    "    on_fail: reject\n"
    "  - name: bank\n"
    "    match:\n"
    "      sender_domains: [bank.test]\n"
    "      client_addresses: [192.0.2.0/24, \"2001:db8:b::/48\"]\n"
    "    restrict_sender_domains: true\n"
    "    require: { tls: true, min_version: TLSv1.2 }\n"
    "    on_fail: reject\n"
    "  - name: health\n"
    "    mode: monitor\n"
    "    match: { sender_domains: [health.test] }\n"
    "    require: { certificate: verified, organizations: [\"Partner A Ltd\"] }\n"
    "    on_fail: reject\n"
    "  - name: cross-r1-only\n"
    "    match: { sender_domains: [cross1.test] }\n"
    "    require: { certificate: verified, root_issuers: [\"Test Root CA R1\"] }\n"
    "    on_fail: quarantine\n"
    "  - name: cross-both\n"
    "    match: { sender_domains: [cross2.test] }\n"
    "    require: { certificate: verified, root_issuers: [\"Test Root CA R1\", \"Test Root CA R2\"] }\n"
    "    on_fail: quarantine\n"
    "  - name: by-rcpt\n"
    "    match: { recipient_domains: [example.com] }\n"
    "    require: { tls: true }\n"
    "    on_fail: tag\n"
    "  - name: by-name\n"
    "    match: { client_names: [\"*.relay.test\"] }\n"
    "    require: { forward_secrecy: true }\n"
    "    on_fail: accept\n"
    "  - name: by-cert\n"
    "    match: { certificate_names: [mail.partner-x.test] }\n"
    "    require: { certificate: verified, issuers: [\"/C=DE/O=Test PKI/CN=Test Cross CA\"] }\n"
    "    on_fail: reject\n"
    "  - name: presented\n"
    "    match: { sender_domains: [presented.test] }\n"
    "    require: { certificate: presented }\n"
    "    on_fail: reject\n";

static const char monitor_text[] =
    "version: 1\n"
    "settings: { mode: monitor, trust_store: @PKI@/trust.pem }\n"
    "defaults: { require: { tls: true }, on_fail: reject }\n"
    "connectors: []\n";

/* Connector-bypass cases: a restricted domain is owned whatever matches first, two
 * gateways restricting one domain, and names from certificates that did not verify. */
static const char owned_text[] =
    "version: 1\n"
    "settings: { mode: enforce, trust_store: @PKI@/trust.pem }\n"
    "defaults: { require: {}, on_fail: tag }\n"
    "connectors:\n"
    "  - name: hr-inbound\n"
    "    match: { recipient_domains: [hr.example.com] }\n"
    "    require: { tls: false }\n"
    "    on_fail: tag\n"
    "  - name: claim-by-cert\n"
    "    match: { certificate_names: [mail.partner-c.test] }\n"
    "    require: { tls: true }\n"
    "    on_fail: tag\n"
    "  - name: bank-gw-a\n"
    "    match: { sender_domains: [bank.example], client_addresses: [192.0.2.0/24] }\n"
    "    restrict_sender_domains: true\n"
    "    require: { tls: true }\n"
    "    on_fail: reject\n"
    "  - name: bank-gw-b\n"
    "    match: { sender_domains: [\"*.example\"], client_addresses: [198.51.100.0/24] }\n"
    "    restrict_sender_domains: true\n"
    "    require: { tls: true, min_version: TLSv1.3 }\n"
    "    on_fail: reject\n"
    "  - name: partner-c\n"
    "    match: { sender_domains: [partner-c.test] }\n"
    "    restrict_sender_domains: true\n"
    "    require: { certificate_names: [mail.partner-c.test] }\n"
    "    on_fail: reject\n";

/* IDN: the file spells names as U-labels and upper-case A-labels; sessions
 * spell them every way a client can. */
static const char idn_text[] =
    "version: 1\n"
    "settings: { mode: enforce, trust_store: @PKI@/trust.pem }\n"
    "defaults: { require: {}, on_fail: tag }\n"
    "connectors:\n"
    "  - name: bank-idn\n"
    "    match: { sender_domains: [\"b\xc3\xa4nk.test\"], client_addresses: [192.0.2.0/24] }\n"
    "    restrict_sender_domains: true\n"
    "    require: { tls: true }\n"
    "    on_fail: reject\n"
    "    reply: \"5.7.1 bank mail only through the bank\"\n"
    "  - name: partner-idn\n"
    "    match: { recipient_domains: [\"XN--PRTNER-BUA.test\"] }\n"
    "    require: { tls: true }\n"
    "    on_fail: tag\n";

#define PF POLICY_MTA_POSTFIX
#define SM POLICY_MTA_SENDMAIL
#define TLS13 .tls_version = "TLSv1.3", .cipher = "TLS_AES_256_GCM_SHA384", .cipher_bits = "256"
#define TLS12 .tls_version = "TLSv1.2", .cipher = "ECDHE-RSA-AES256-GCM-SHA384", .cipher_bits = "256"
/* a SHA-256 as Postfix's ccert_fingerprint and Sendmail's {cert_fp} print it */
#define FP_C "46:62:0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:EF:71"
#define CERT_A .cert_subject = "mail.partner-a.test", .cert_issuer = "Test Issuing CA 1"
#define CERT_B .cert_subject = "mail.partner-b.test", .cert_issuer = "Other Issuing CA"
#define SM_CERT_A .cert_subject = "/C=GB/O=Partner+20A+20Ltd/OU=Mail/CN=mail.partner-a.test", \
                  .cert_issuer = "/C=DE/O=Test+20PKI/CN=Test+20Issuing+20CA+201"

struct row {
    const char *name;
    int which;                        /* 0 = policy_text, 1 = monitor_text, 2 = owned_text,
                                         3 = idn_text */
    struct policy_macros m;
    const char *rcpt;
    const char *connector;
    enum policy_verdict verdict;
    enum policy_action action;
    enum policy_mode mode;
    bool refuses;
    const char *reason;               /* substring of some reason; NULL = no reasons */
    const char *root;                 /* expected posture root, NULL = not checked */
};

/* A session with its From: field bodies, as the daemon has them at end of message. */
struct from_row {
    struct row r;
    const char *from[2];
};

#define PASS POLICY_VERDICT_PASS
#define FAIL POLICY_VERDICT_FAIL
#define NONE POLICY_VERDICT_NONE
#define ACCEPT POLICY_ACTION_ACCEPT
#define TAG POLICY_ACTION_TAG
#define QUAR POLICY_ACTION_QUARANTINE
#define TEMP POLICY_ACTION_TEMPFAIL
#define REJ POLICY_ACTION_REJECT
#define ENF POLICY_MODE_ENFORCE
#define MON POLICY_MODE_MONITOR

static const struct row rows[] = {
    { "postfix verified partner passes", 0,
      { .mta = PF, .sender = "<a@partner-a.test>", TLS13, CERT_A }, "b@example.org",
      "partner-a", PASS, ACCEPT, ENF, false, NULL, "Test Root CA R1" },
    { "sendmail verified partner passes", 0,
      { .mta = SM, .sender = "a@partner-a.test", .verify = "OK", TLS13, SM_CERT_A }, "b@example.org",
      "partner-a", PASS, ACCEPT, ENF, false, NULL, "Test Root CA R1" },
    { "auto-detected sendmail dialect passes", 0,
      { .sender = "a@partner-a.test", .verify = "OK", TLS12, SM_CERT_A }, "b@example.org",
      "partner-a", PASS, ACCEPT, ENF, false, NULL, NULL },
    { "subdomain sender at depth 2 is claimed", 0,
      { .mta = PF, .sender = "<a@x.eu.partner-a.test>", TLS13, CERT_A }, NULL,
      "partner-a", PASS, ACCEPT, ENF, false, NULL, NULL },
    { "plaintext partner is rejected once, not per requirement", 0,
      { .mta = PF, .sender = "<a@partner-a.test>" }, "b@example.org",
      "partner-a", FAIL, REJ, ENF, true, "not encrypted", NULL },
    { "TLSv1.1 is below TLSv1.2", 0,
      { .mta = PF, .sender = "<a@partner-a.test>", .tls_version = "TLSv1.1",
        .cipher = "ECDHE-RSA-AES256-SHA", .cipher_bits = "256", CERT_A }, NULL,
      "partner-a", FAIL, REJ, ENF, true, "TLS version TLSv1.1 is below the required TLSv1.2", NULL },
    { "non forward secret RSA suite", 0,
      { .mta = PF, .sender = "<a@partner-a.test>", .tls_version = "TLSv1.2",
        .cipher = "AES256-GCM-SHA384", .cipher_bits = "256", CERT_A }, NULL,
      "partner-a", FAIL, REJ, ENF, true, "does not provide forward secrecy", NULL },
    { "weak cipher bits", 0,
      { .mta = PF, .sender = "<a@partner-a.test>", .tls_version = "TLSv1.2",
        .cipher = "ECDHE-RSA-AES256-GCM-SHA384", .cipher_bits = "64", CERT_A }, NULL,
      "partner-a", FAIL, REJ, ENF, true, "64 bits is below the required 128", NULL },
    { "unknown cipher fails closed", 0,
      { .mta = PF, .sender = "<a@partner-a.test>", .tls_version = "TLSv1.2",
        .cipher = "NOT-A-CIPHER", .cipher_bits = "256", CERT_A }, NULL,
      "partner-a", FAIL, REJ, ENF, true, "not in OpenSSL's table", NULL },
    { "unknown version fails closed", 0,
      { .mta = PF, .sender = "<a@partner-a.test>", .tls_version = "TLSv9",
        .cipher = "TLS_AES_256_GCM_SHA384", .cipher_bits = "256", CERT_A }, NULL,
      "partner-a", FAIL, REJ, ENF, true, "is unknown", NULL },
    { "postfix TLS without (verified) certificate", 0,
      { .mta = PF, .sender = "<a@partner-a.test>", TLS13 }, NULL,
      "partner-a", FAIL, REJ, ENF, true, "no verified client certificate", NULL },
    { "sendmail certificate that failed verification", 0,
      { .mta = SM, .sender = "a@partner-a.test", .verify = "FAIL", TLS13,
        .cert_subject = "/C=GB/O=Partner+20A+20Ltd/OU=Mail/CN=expired.partner-a.test",
        .cert_issuer = "/C=DE/O=Test+20PKI/CN=Test+20Issuing+20CA+201" }, NULL,
      "partner-a", FAIL, REJ, ENF, true, "not verified ({verify}=FAIL)", NULL },
    { "sendmail without {verify} is unknown, fails", 0,
      { .mta = SM, .sender = "a@partner-a.test", TLS13, SM_CERT_A }, NULL,
      "partner-a", FAIL, REJ, ENF, true, "passed no {verify}", NULL },
    { "wrong certificate name", 0,
      { .mta = PF, .sender = "<a@partner-a.test>", TLS13, CERT_B }, NULL,
      "partner-a", FAIL, REJ, ENF, true, "certificate name 'mail.partner-b.test' does not match", NULL },
    { "wrong issuer and wrong root", 0,
      { .mta = PF, .sender = "<a@partner-a.test>", TLS13, .cert_subject = "mail.partner-a.test",
        .cert_issuer = "Other Issuing CA" }, NULL,
      "partner-a", FAIL, REJ, ENF, true, "chains to root Other Root CA, which is not allowed", "Other Root CA" },
    { "issuer unknown to the trust store", 0,
      { .mta = PF, .sender = "<a@partner-a.test>", TLS13, .cert_subject = "mail.partner-a.test",
        .cert_issuer = "Nobody's CA" }, NULL,
      "partner-a", FAIL, REJ, ENF, true, "is not in the trust store", NULL },
    { "wildcard certificate matches reference wildcard", 0,
      { .mta = PF, .sender = "<a@partner-a.test>", TLS13, .cert_subject = "*.partner-a.test",
        .cert_issuer = "Test Issuing CA 1" }, NULL,
      "partner-a", PASS, ACCEPT, ENF, false, NULL, NULL },
    /* Postfix policy delegation (-d): the fingerprint tells untrusted from none */
    { "postfix without -d cannot tell an unverified certificate", 0,
      { .mta = PF, .sender = "<a@presented.test>", TLS13 }, NULL,
      "presented", FAIL, REJ, ENF, true, "enable policy delegation (-d)", NULL },
    { "postfix with -d but no request is unknown, not absent", 0,
      { .mta = PF, .sender = "<a@presented.test>", TLS13, .deleg = POLICY_DELEG_MISSING }, NULL,
      "presented", FAIL, REJ, ENF, true, "policy delegation sent nothing for this connection", NULL },
    { "postfix with -d: self-signed certificate is presented", 0,
      { .mta = PF, .sender = "<a@presented.test>", TLS13, .deleg = POLICY_DELEG_MATCHED,
        .cert_fp = FP_C, .pubkey_fp = FP_C }, NULL,
      "presented", PASS, ACCEPT, ENF, false, NULL, NULL },
    { "postfix with -d: no certificate", 0,
      { .mta = PF, .sender = "<a@presented.test>", TLS13, .deleg = POLICY_DELEG_MATCHED,
        .cert_fp = "", .pubkey_fp = "" }, NULL,
      "presented", FAIL, REJ, ENF, true, "no client certificate", NULL },
    { "postfix with -d: untrusted certificate did not verify", 0,
      { .mta = PF, .sender = "<x@partner-b.test>", TLS13, .deleg = POLICY_DELEG_MATCHED,
        .cert_fp = FP_C, .pubkey_fp = FP_C }, NULL,
      "partner-b", FAIL, TEMP, ENF, true, "client certificate did not verify", NULL },
    { "postfix with -d: no certificate is told apart from an untrusted one", 0,
      { .mta = PF, .sender = "<x@partner-b.test>", TLS13, .deleg = POLICY_DELEG_MATCHED,
        .cert_fp = "", .pubkey_fp = "" }, NULL,
      "partner-b", FAIL, TEMP, ENF, true, "no client certificate", NULL },
    { "sendmail {cert_fp} of a certificate that failed verification is presented", 0,
      { .mta = SM, .sender = "a@presented.test", .verify = "FAIL", TLS13,
        .cert_subject = "/C=FR/O=Partner+20C+20SA/CN=selfsigned.partner-c.test",
        .cert_issuer = "/C=FR/O=Partner+20C+20SA/CN=selfsigned.partner-c.test", .cert_fp = FP_C },
      NULL, "presented", PASS, ACCEPT, ENF, false, NULL, NULL },
    { "disabled connector is skipped; tempfail action", 0,
      { .mta = PF, .sender = "<x@partner-b.test>", TLS13 }, NULL,
      "partner-b", FAIL, TEMP, ENF, true, "no verified client certificate", NULL },
    { "first connector in file order wins", 0,
      { .mta = PF, .sender = "<x@partner-b.test>", TLS13, CERT_B }, NULL,
      "partner-b", PASS, ACCEPT, ENF, false, NULL, "Other Root CA" },
    { "restricted sender from the right network passes", 0,
      { .mta = PF, .sender = "<pay@bank.test>", .client_addr = "192.0.2.55", TLS12 }, NULL,
      "bank", PASS, ACCEPT, ENF, false, NULL, NULL },
    { "restricted sender over IPv6 passes", 0,
      { .mta = SM, .sender = "pay@bank.test", .client_addr = "IPv6:2001:db8:b::25", .verify = "NO", TLS12 },
      NULL, "bank", PASS, ACCEPT, ENF, false, NULL, NULL },
    { "restricted sender from elsewhere is a spoof", 0,
      { .mta = PF, .sender = "<pay@bank.test>", .client_addr = "198.51.100.9", TLS12 }, NULL,
      "bank", FAIL, REJ, ENF, true, "restricted to connector bank, but the client address did not match", NULL },
    { "connector monitor mode reports, does not refuse", 0,
      { .mta = PF, .sender = "<dr@health.test>", TLS13, CERT_A }, NULL,
      "health", FAIL, REJ, MON, false, "Postfix passes only the certificate CN", NULL },
    { "sendmail organization matches", 0,
      { .mta = SM, .sender = "dr@health.test", .verify = "OK", TLS13, SM_CERT_A }, NULL,
      "health", PASS, ACCEPT, MON, false, NULL, NULL },
    { "sendmail organization differs", 0,
      { .mta = SM, .sender = "dr@health.test", .verify = "OK", TLS13,
        .cert_subject = "/C=DE/O=Partner+20B+20GmbH/OU=Mail/CN=mail.partner-b.test",
        .cert_issuer = "/C=US/O=Other+20PKI/CN=Other+20Issuing+20CA" }, NULL,
      "health", FAIL, REJ, MON, false, "organization 'Partner B GmbH' is not one of Partner A Ltd", NULL },
    { "cross-signed issuer, only one root allowed: fails, names both", 0,
      { .mta = PF, .sender = "<a@cross1.test>", TLS13, .cert_subject = "mail.partner-x.test",
        .cert_issuer = "Test Cross CA" }, NULL,
      "cross-r1-only", FAIL, QUAR, ENF, false, "Test Root CA R1, Test Root CA R2, not all of which",
      "Test Root CA R1, Test Root CA R2" },
    { "cross-signed issuer, both roots allowed: passes", 0,
      { .mta = PF, .sender = "<a@cross2.test>", TLS13, .cert_subject = "mail.partner-x.test",
        .cert_issuer = "Test Cross CA" }, NULL,
      "cross-both", PASS, ACCEPT, ENF, false, NULL, NULL },
    { "match by recipient domain, tag action", 0,
      { .mta = PF, .sender = "<a@elsewhere.test>" }, "<b@Example.COM.>",
      "by-rcpt", FAIL, TAG, ENF, false, "not encrypted", NULL },
    { "other recipient domain falls to defaults", 0,
      { .mta = PF, .sender = "<a@elsewhere.test>" }, "<b@example.org>",
      "default", NONE, ACCEPT, ENF, false, NULL, NULL },
    { "match by client name, accept action", 0,
      { .mta = PF, .sender = "<a@elsewhere.test>", .client_name = "mx1.eu.relay.test",
        .tls_version = "TLSv1.2", .cipher = "AES128-SHA", .cipher_bits = "128" }, NULL,
      "by-name", FAIL, ACCEPT, ENF, false, "forward secrecy", NULL },
    { "postfix unknown client name matches nothing", 0,
      { .mta = PF, .sender = "<a@elsewhere.test>", .client_name = "unknown", TLS13 }, NULL,
      "default", NONE, ACCEPT, ENF, false, NULL, NULL },
    { "match by certificate name; DN issuer on sendmail", 0,
      { .mta = SM, .sender = "a@elsewhere.test", .verify = "OK", TLS13,
        .cert_subject = "/C=GB/O=Partner+20X/CN=mail.partner-x.test",
        .cert_issuer = "/C=DE/O=Test+20PKI/CN=Test+20Cross+20CA" }, NULL,
      "by-cert", PASS, ACCEPT, ENF, false, NULL, "Test Root CA R1, Test Root CA R2" },
    { "DN issuer on postfix: the issuer CN is looked up in the trust store", 0,
      { .mta = PF, .sender = "<a@elsewhere.test>", TLS13, .cert_subject = "mail.partner-x.test",
        .cert_issuer = "Test Cross CA" }, NULL,
      "by-cert", PASS, ACCEPT, ENF, false, NULL, "Test Root CA R1, Test Root CA R2" },
    { "null sender goes to defaults", 0,
      { .mta = PF, .sender = "<>", TLS13 }, "b@example.org",
      "default", NONE, ACCEPT, ENF, false, NULL, NULL },
    { "ordinary sender, no TLS, opportunistic default", 0,
      { .mta = PF, .sender = "<a@gmail.test>" }, "b@example.org",
      "default", NONE, ACCEPT, ENF, false, NULL, NULL },
    { "global monitor: default fails, nothing refused", 1,
      { .mta = PF, .sender = "<a@gmail.test>" }, NULL,
      "default", FAIL, REJ, MON, false, "not encrypted", NULL },
    { "restricted domain is owned: an earlier recipient match does not claim the forgery", 2,
      { .mta = PF, .sender = "<ceo@bank.example>", .client_addr = "203.0.113.5" }, "hr@hr.example.com",
      "bank-gw-a", FAIL, REJ, ENF, true, "restricted to connector bank-gw-a, but the client address", NULL },
    { "restricted domain forgery to another recipient fails the same way", 2,
      { .mta = PF, .sender = "<ceo@bank.example>", .client_addr = "203.0.113.5" }, "a@example.org",
      "bank-gw-a", FAIL, REJ, ENF, true, "restricted to connector bank-gw-a, but the client address", NULL },
    { "gateway A passes its own mail, even to the recipient-matched domain", 2,
      { .mta = PF, .sender = "<ceo@bank.example>", .client_addr = "192.0.2.9", TLS12 }, "hr@hr.example.com",
      "bank-gw-a", PASS, ACCEPT, ENF, false, NULL, NULL },
    { "gateway B restricting the same domain passes its mail", 2,
      { .mta = SM, .sender = "ceo@bank.example", .client_addr = "198.51.100.7", .verify = "NO", TLS13 },
      "a@example.org", "bank-gw-b", PASS, ACCEPT, ENF, false, NULL, NULL },
    { "gateway B's keys hold but its requirements fail: its reasons, not A's", 2,
      { .mta = PF, .sender = "<ceo@bank.example>", .client_addr = "198.51.100.7", TLS12 }, NULL,
      "bank-gw-b", FAIL, REJ, ENF, true, "TLS version TLSv1.2 is below the required TLSv1.3", NULL },
    { "unverified certificate name claims nothing (sendmail {verify}=FAIL)", 2,
      { .mta = SM, .sender = "a@elsewhere.test", .verify = "FAIL", TLS13,
        .cert_subject = "/C=GB/O=Forger/CN=mail.partner-c.test",
        .cert_issuer = "/C=XX/O=Forger/CN=Forger CA" }, "a@example.org",
      "default", NONE, ACCEPT, ENF, false, NULL, NULL },
    { "verified certificate name claims its connector", 2,
      { .mta = SM, .sender = "a@elsewhere.test", .verify = "OK", TLS13,
        .cert_subject = "/C=GB/O=Partner+20C/CN=mail.partner-c.test",
        .cert_issuer = "/C=DE/O=Test+20PKI/CN=Test+20Issuing+20CA+201" }, "a@example.org",
      "claim-by-cert", PASS, ACCEPT, ENF, false, NULL, NULL },
    { "unverified certificate name does not satisfy certificate_names", 2,
      { .mta = SM, .sender = "a@partner-c.test", .verify = "FAIL", TLS13,
        .cert_subject = "/C=GB/O=Forger/CN=mail.partner-c.test",
        .cert_issuer = "/C=XX/O=Forger/CN=Forger CA" }, NULL,
      "partner-c", FAIL, REJ, ENF, true, "from a certificate that did not verify", NULL },
    { "verified certificate name satisfies certificate_names", 2,
      { .mta = SM, .sender = "a@partner-c.test", .verify = "OK", TLS13,
        .cert_subject = "/C=GB/O=Partner+20C/CN=mail.partner-c.test",
        .cert_issuer = "/C=DE/O=Test+20PKI/CN=Test+20Issuing+20CA+201" }, NULL,
      "partner-c", PASS, ACCEPT, ENF, false, NULL, NULL },
    { "global monitor: default passes with TLS", 1,
      { .mta = PF, .sender = "<a@gmail.test>", TLS13 }, NULL,
      "default", PASS, ACCEPT, MON, false, NULL, NULL },
    /* IDN spellings (issue 11 item 3): one connector whatever the spelling. */
    { "IDN: U-label sender is owned by the restricting connector", 3,
      { .mta = PF, .sender = "<a@b\xc3\xa4nk.test>", .client_addr = "198.51.100.1" }, NULL,
      "bank-idn", FAIL, REJ, ENF, true, "xn--bnk-qla.test is restricted to connector bank-idn", NULL },
    { "IDN: upper-case U-label sender is owned too", 3,
      { .mta = PF, .sender = "<a@B\xc3\x84NK.test>", .client_addr = "198.51.100.1" }, NULL,
      "bank-idn", FAIL, REJ, ENF, true, "is restricted to connector bank-idn", NULL },
    { "IDN: upper-case A-label sender is owned too", 3,
      { .mta = PF, .sender = "<a@XN--BNK-QLA.TEST>", .client_addr = "198.51.100.1" }, NULL,
      "bank-idn", FAIL, REJ, ENF, true, "is restricted to connector bank-idn", NULL },
    { "IDN: the owner's gateway passes", 3,
      { .mta = PF, .sender = "<a@b\xc3\xa4nk.test>", .client_addr = "192.0.2.5", TLS13 }, NULL,
      "bank-idn", PASS, ACCEPT, ENF, false, NULL, NULL },
    { "IDN: U-label recipient meets an upper-case A-label pattern", 3,
      { .mta = PF, .sender = "<a@other.test>", .client_addr = "198.51.100.1" },
      "<x@P\xc3\x84RTNER.test>", "partner-idn", FAIL, TAG, ENF, false, "not encrypted", NULL },
    { "IDN: broken A-label sender equals no file entry", 3,
      { .mta = PF, .sender = "<a@xn--bnk-qlb.test>", .client_addr = "198.51.100.1" }, NULL,
      "default", NONE, ACCEPT, ENF, false, NULL, NULL },
};

static const struct from_row from_rows[] = {
    /* The From: header (issue 11 item 4), judged as a restricted envelope sender. */
    { { "From: forged bank domain from elsewhere is refused", 2,
      { .mta = PF, .sender = "<x@evil.test>", .client_addr = "203.0.113.9" }, "a@example.org",
      "bank-gw-a", FAIL, REJ, ENF, true,
      "From: header domain bank.example is restricted to connector bank-gw-a, but the client "
      "address did not match", NULL },
      { "Payments <pay@bank.example>" } },
    { { "From: bank domain through the bank's gateway passes", 2,
      { .mta = PF, .sender = "<x@esp.test>", .client_addr = "192.0.2.5", TLS13 }, "a@example.org",
      "default", NONE, ACCEPT, ENF, false, NULL, NULL },
      { "pay@bank.example" } },
    { { "From: bank's gateway without its requirements is refused, and says why", 2,
      { .mta = PF, .sender = "<x@esp.test>", .client_addr = "192.0.2.5" }, "a@example.org",
      "bank-gw-a", FAIL, REJ, ENF, true, "From: header domain bank.example is restricted to "
      "connector bank-gw-a", NULL },
      { "pay@bank.example" } },
    { { "From: unparsable field naming the bank fails closed", 2,
      { .mta = PF, .sender = "<x@evil.test>", .client_addr = "203.0.113.9" }, "a@example.org",
      "bank-gw-a", FAIL, REJ, ENF, true, "does not parse", NULL },
      { "Payments, Bank <pay@bank.example>" } },
    { { "From: second field naming the bank is judged too", 2,
      { .mta = PF, .sender = "<x@evil.test>", .client_addr = "203.0.113.9" }, "a@example.org",
      "bank-gw-a", FAIL, REJ, ENF, true, "bank.example", NULL },
      { "a@evil.test", "b@bank.example" } },
    { { "From: encoded word naming the bank in a display name is no mailbox", 2,
      { .mta = PF, .sender = "<x@evil.test>", .client_addr = "203.0.113.9" }, "a@example.org",
      "default", NONE, ACCEPT, ENF, false, NULL, NULL },
      { "=?utf-8?q?pay=40bank.example?= <x@evil.test>" } },
    { { "From: IDN spelling of an owned domain is refused", 3,
      { .mta = PF, .sender = "<x@evil.test>", .client_addr = "198.51.100.1" }, "a@example.org",
      "bank-idn", FAIL, REJ, ENF, true, "xn--bnk-qla.test is restricted to connector bank-idn",
      NULL },
      { "=?utf-8?q?Bank?= <pay@B\xc3\x84NK.test>" } },
    { { "From: the envelope's own domain is not judged twice", 2,
      { .mta = PF, .sender = "<ceo@bank.example>", .client_addr = "192.0.2.5", TLS13 },
      "a@example.org", "bank-gw-a", PASS, ACCEPT, ENF, false, NULL, NULL },
      { "CEO <ceo@bank.example>" } },
};

static struct policy *policies[4];

static char *
substitute(const char *text, const char *pki)
{
    const char *at = strstr(text, "@PKI@");
    size_t n = strlen(text) + strlen(pki) + 1;
    char *out = malloc(n);

    if (out == NULL || at == NULL)
        return out;
    snprintf(out, n, "%.*s%s%s", (int)(at - text), text, pki, at + 5);
    return out;
}

static struct policy *
load_text(const char *name, const char *text)
{
    const char *pki = getenv("TLSPOLICY_TEST_PKI");
    struct policy_diags d;
    struct policy *p;
    char *buf;

    if (pki == NULL)
        fail_msg("TLSPOLICY_TEST_PKI is not set (run through make check)");
    buf = substitute(text, pki);
    assert_non_null(buf);
    policy_diags_init(&d);
    p = policy_load_buffer(name, buf, strlen(buf), NULL, &d);
    for (size_t i = 0; i < d.n && p == NULL; i++) {
        char *s = policy_diag_format(&d.v[i]);

        print_error("%s\n", s ? s : "?");
        free(s);
    }
    policy_diags_free(&d);
    free(buf);
    return p;
}

static int
setup(void **state)
{
    (void)state;
    policies[0] = load_text("eval.yaml", policy_text);
    policies[1] = load_text("monitor.yaml", monitor_text);
    policies[2] = load_text("owned.yaml", owned_text);
    policies[3] = load_text("idn.yaml", idn_text);
    return policies[0] != NULL && policies[1] != NULL && policies[2] != NULL &&
           policies[3] != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    policy_unref(policies[0]);
    policy_unref(policies[1]);
    policy_unref(policies[2]);
    policy_unref(policies[3]);
    return 0;
}

static void
run_eval(const struct row *w, const char *const *from)
{
    struct policy_facts f;
    struct policy_result r;
    bool found = w->reason == NULL;

    assert_int_equal(policy_facts_build(&f, &w->m), 0);
    for (size_t i = 0; from != NULL && i < 2 && from[i] != NULL; i++)
        assert_int_equal(policy_facts_add_header_from(&f, from[i]), 0);
    assert_int_equal(policy_eval(policies[w->which], &f, w->rcpt, &r), 0);
    for (size_t i = 0; i < r.nreasons; i++) {
        print_message("# reason: %s\n", r.reasons[i]);
        if (w->reason != NULL && strstr(r.reasons[i], w->reason) != NULL)
            found = true;
    }
    assert_string_equal(r.connector, w->connector);
    assert_int_equal(r.verdict, w->verdict);
    assert_int_equal(r.action, w->action);
    assert_int_equal(r.mode, w->mode);
    assert_int_equal(policy_result_refuses(&r), w->refuses);
    if (w->reason == NULL)
        assert_int_equal(r.nreasons, 0);
    if (!found)
        fail_msg("no reason contains '%s'", w->reason);
    if (w->root != NULL) {
        assert_non_null(r.root);
        assert_string_equal(r.root, w->root);
    }
    assert_int_equal(r.is_default, strcmp(w->connector, "default") == 0);
    policy_result_free(&r);
    policy_facts_free(&f);
}

static void
run_row(void **state)
{
    run_eval(*state, NULL);
}

static void
run_from_row(void **state)
{
    const struct from_row *w = *state;

    run_eval(&w->r, w->from);
}

/* The connector reply text is handed through for the MTA reply. */
static void
reply_text(void **state)
{
    struct policy_macros m = { .mta = PF, .sender = "<a@partner-a.test>" };
    struct policy_facts f;
    struct policy_result r;

    (void)state;
    assert_int_equal(policy_facts_build(&f, &m), 0);
    assert_int_equal(policy_eval(policies[0], &f, NULL, &r), 0);
    assert_non_null(r.reply);
    assert_string_equal(r.reply, "5.7.1 partner-a must use verified TLS 1.2");
    policy_result_free(&r);
    policy_facts_free(&f);
}

/* With 10,000 connectors the right one is found, and a miss stays a miss. */
static void
many_connectors(void **state)
{
    const char *pki = getenv("TLSPOLICY_TEST_PKI");
    size_t n = 10000, cap = n * 160 + 256, used = 0;
    char *buf = malloc(cap);
    struct policy_diags d;
    struct policy *p;

    (void)state;
    assert_non_null(buf);
    used += (size_t)snprintf(buf + used, cap - used,
                             "version: 1\nsettings: { trust_store: %s/trust.pem }\nconnectors:\n", pki);
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(buf + used, cap - used,
                                 "  - name: c%zu\n    match: { sender_domains: [d%zu.test, \"*.w%zu.test\"],"
                                 " client_addresses: [10.%zu.%zu.0/24] }\n    require: { tls: true }\n",
                                 i, i, i, i / 256, i % 256);
    policy_diags_init(&d);
    p = policy_load_buffer("many.yaml", buf, used, NULL, &d);
    policy_diags_free(&d);
    free(buf);
    assert_non_null(p);
    for (size_t i = 0; i < n; i += 997) {
        char sender[64], addr[32], want[16];
        struct policy_macros m = { .mta = PF, .sender = sender, .client_addr = addr, TLS13 };
        struct policy_facts f;
        struct policy_result r;

        snprintf(sender, sizeof(sender), "<a@x.y.w%zu.test>", i);
        snprintf(addr, sizeof(addr), "10.%zu.%zu.9", i / 256, i % 256);
        snprintf(want, sizeof(want), "c%zu", i);
        assert_int_equal(policy_facts_build(&f, &m), 0);
        assert_int_equal(policy_eval(p, &f, NULL, &r), 0);
        assert_string_equal(r.connector, want);
        assert_int_equal(r.verdict, POLICY_VERDICT_PASS);
        policy_result_free(&r);
        policy_facts_free(&f);

        /* right domain, wrong network: no claim (not restricted) */
        snprintf(addr, sizeof(addr), "10.%zu.%zu.9", (i + 1) / 256 + 100, (i + 1) % 256);
        assert_int_equal(policy_facts_build(&f, &m), 0);
        assert_int_equal(policy_eval(p, &f, NULL, &r), 0);
        assert_string_equal(r.connector, "default");
        policy_result_free(&r);
        policy_facts_free(&f);
    }
    policy_unref(p);
}

int
main(void)
{
    struct table_tests tt = { 0 };

    TABLE_TEST_ROWS(&tt, rows, name, run_row);
    TABLE_TEST_ROWS(&tt, from_rows, r.name, run_from_row);
    TABLE_TEST_FN(&tt, reply_text);
    TABLE_TEST_FN(&tt, many_connectors);
    return table_test_run(&tt, "policy_eval", setup, teardown);
}
