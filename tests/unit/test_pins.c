/*
 * test_pins.c -- pinned certificates and keys, table-driven: the reading of
 * "sha256:" fingerprints, what a pinned PEM file yields (subject, key, expiry),
 * the expiry warnings on a chosen day, pin files that are links or FIFOs, the
 * lint of connectors claimed by fingerprint, and sessions of both dialects
 * judged by pins. Fingerprints are computed here with OpenSSL from the test PKI
 * (tests/pki/mkpki.sh), in the MTA's own format, so nothing is hard-coded.
 * Never: depends on the wording of a message beyond the substring in its row.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "fingerprint.h"
#include "pins.h"
#include "policy.h"
#include "table_test.h"

/* ---------------------------------------------------------------- fingerprints */

#define HEX64 "a4c4a50019a47dec29ab66fdf09e2c8f56e0e249600136ec11b21a38d2ca8bcb"
#define COLON64 "A4:C4:A5:00:19:A4:7D:EC:29:AB:66:FD:F0:9E:2C:8F:" \
                "56:E0:E2:49:60:01:36:EC:11:B2:1A:38:D2:CA:8B:CB"

struct fp_row {
    const char *name;
    const char *in;
    const char *want;             /* normalised hex, or NULL: an error */
    const char *why;              /* substring of the error */
};

static const struct fp_row fp_rows[] = {
    { "fp: lower-case hex", "sha256:" HEX64, HEX64, NULL },
    { "fp: upper case with colons, as openssl prints it", "sha256:" COLON64, HEX64, NULL },
    { "fp: prefix in any case", "SHA256:" HEX64, HEX64, NULL },
    { "fp: no prefix", HEX64, NULL, "\"sha256:\" followed by 64 hex digits" },
    { "fp: sha1 prefix", "sha1:" HEX64, NULL, "\"sha256:\" followed by 64 hex digits" },
    { "fp: MD5 length", "sha256:" "00112233445566778899aabbccddeeff", NULL, "32 is an MD5" },
    { "fp: SHA-1 length", "sha256:" "00112233445566778899aabbccddeeff00112233", NULL,
      "40 is a SHA-1" },
    { "fp: 63 digits", "sha256:" "4c4a50019a47dec29ab66fdf09e2c8f56e0e249600136ec11b21a38d2ca8bcb",
      NULL, "exactly 64 hex digits" },
    { "fp: 66 digits", "sha256:" HEX64 "ab", NULL, "exactly 64 hex digits" },
    { "fp: empty after prefix", "sha256:", NULL, "exactly 64 hex digits" },
    { "fp: not hex", "sha256:" "g4c4a50019a47dec29ab66fdf09e2c8f56e0e249600136ec11b21a38d2ca8bcb",
      NULL, "0-9, a-f" },
    { "fp: colon inside a byte", "sha256:A:4C4A50019a47dec29ab66fdf09e2c8f56e0e249600136ec11b21a38d2ca8bcb",
      NULL, "colons only between bytes" },
    { "fp: double colon", "sha256:A4::C4A50019a47dec29ab66fdf09e2c8f56e0e249600136ec11b21a38d2ca8bcb",
      NULL, "colons only between bytes" },
    { "fp: trailing colon", "sha256:" COLON64 ":", NULL, "colons only between bytes" },
    { "fp: space", "sha256: " HEX64, NULL, "0-9, a-f" },
};

static void
run_fp_row(void **state)
{
    const struct fp_row *w = *state;
    char out[FINGERPRINT_SIZE];
    const char *why = fingerprint_parse(w->in, out);

    if (w->want != NULL) {
        if (why != NULL)
            fail_msg("%s: got error '%s', want %s", w->in, why, w->want);
        assert_string_equal(out, w->want);
    } else if (why == NULL || strstr(why, w->why) == NULL) {
        fail_msg("%s: got %s, want an error with '%s'", w->in, why ? why : out, w->why);
    }
}

struct equiv_row {
    const char *name;
    int sec, rsa;
};

static const struct equiv_row equiv_rows[] = {
    { "strength: below 80 has no RSA equal", 79, 0 },
    { "strength: 80 is RSA 1024", 80, 1024 },
    { "strength: 112 (P-224) is RSA 2048", 112, 2048 },
    { "strength: 128 (P-256, Ed25519) is RSA 3072", 128, 3072 },
    { "strength: 192 (P-384) is RSA 7680", 192, 7680 },
    { "strength: 224 (Ed448) is RSA 7680", 224, 7680 },
    { "strength: 256 (P-521) is RSA 15360", 256, 15360 },
};

static void
run_equiv_row(void **state)
{
    const struct equiv_row *w = *state;

    assert_int_equal(pins_rsa_equiv(w->sec), w->rsa);
}

/* ---------------------------------------------------------------- the test PKI */

static const char *
pki_dir(void)
{
    const char *s = getenv("TLSPOLICY_TEST_PKI");

    if (s == NULL || s[0] == '\0')
        fail_msg("TLSPOLICY_TEST_PKI is not set (run through make check)");
    return s;
}

static char *
xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    assert_non_null(s);
    return s;
}

/* The fingerprints of one certificate of the test PKI, as the MTAs send them
 * ("AB:CD:...") and as the connectors file writes them (lower-case hex). */
struct cert_fps {
    char cert[96], pubkey[96], md5[48];
    char cert_hex[FINGERPRINT_SIZE], pubkey_hex[FINGERPRINT_SIZE];
};

enum { C_ORIG, C_RENEWED, C_REKEYED, C_N };
static const char *const cert_files[C_N] = {
    "partner-c-selfsigned.crt", "partner-c-renewed.crt", "partner-c-rekeyed.crt",
};
static struct cert_fps fps[C_N];

static void
to_colon(const unsigned char *md, unsigned n, char *out)
{
    for (unsigned i = 0; i < n; i++)
        sprintf(out + 3 * i, i + 1 < n ? "%02X:" : "%02X", md[i]);
}

static void
to_hex(const unsigned char *md, unsigned n, char *out)
{
    for (unsigned i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

static int
cert_fps_of(const char *file, struct cert_fps *o)
{
    char *path = xasprintf("%s/%s", pki_dir(), file);
    FILE *f = fopen(path, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    unsigned char md[EVP_MAX_MD_SIZE], *der = NULL;
    unsigned n = 0;
    int len, rc = -1;

    if (f != NULL)
        fclose(f);
    if (x == NULL) {
        print_error("cannot read %s\n", path);
        goto out;
    }
    if (X509_digest(x, EVP_sha256(), md, &n) != 1)
        goto out;
    to_colon(md, n, o->cert);
    to_hex(md, n, o->cert_hex);
    if (X509_digest(x, EVP_md5(), md, &n) != 1)
        goto out;
    to_colon(md, n, o->md5);
    if ((len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der)) <= 0 ||
        EVP_Digest(der, (size_t)len, md, &n, EVP_sha256(), NULL) != 1)
        goto out;
    to_colon(md, n, o->pubkey);
    to_hex(md, n, o->pubkey_hex);
    rc = 0;
out:
    OPENSSL_free(der);
    X509_free(x);
    free(path);
    return rc;
}

/* ---------------------------------------------------------------- sessions */

/* @PKI@, @CERT@ (partner-c's certificate, colon form), @KEY@ (its key, hex) and
 * @REKEYED_CERT@ (the rekeyed certificate, hex) are replaced in setup. */
static const char pins_text[] =
    "version: 1\n"
    "settings: { trust_store: @PKI@/trust.pem }\n"
    "defaults: { require: {}, on_fail: tag }\n"
    "connectors:\n"
    "  - name: pin-file\n"
    "    match: { sender_domains: [file.partner-c.test] }\n"
    "    require: { certificates: [@PKI@/partner-c-selfsigned.crt], min_key_bits: 2048 }\n"
    "    on_fail: reject\n"
    "  - name: pin-key\n"
    "    match: { sender_domains: [key.partner-c.test] }\n"
    "    require: { public_key_fingerprints: [\"sha256:@KEY@\"], certificate: verified }\n"
    "    on_fail: reject\n"
    "  - name: pin-cert-fp\n"
    "    match: { sender_domains: [fp.partner-c.test] }\n"
    "    require: { certificate_fingerprints: [\"sha256:@CERT@\"] }\n"
    "    on_fail: reject\n"
    "  - name: by-fp\n"
    "    match: { certificate_fingerprints: [\"sha256:@CERT@\"] }\n"
    "    require: { certificate: verified }\n"
    "    on_fail: reject\n"
    "  - name: by-key-names\n"
    "    match: { certificate_fingerprints: [\"sha256:@REKEYED_CERT@\"] }\n"
    "    require: { certificate: verified, certificate_names: [selfsigned.partner-c.test] }\n"
    "    on_fail: reject\n"
    "  - name: bits-only\n"
    "    match: { sender_domains: [bits.test] }\n"
    "    require: { min_key_bits: 2048 }\n"
    "    on_fail: reject\n";

static struct policy *pins_policy;

#define PF POLICY_MTA_POSTFIX
#define SM POLICY_MTA_SENDMAIL
#define TLS13 .tls_version = "TLSv1.3", .cipher = "TLS_AES_256_GCM_SHA384", .cipher_bits = "256"
/* Sendmail names a certificate that did not verify: its names are sent anyway. */
#define SM_UNVERIFIED .verify = "FAIL", \
    .cert_subject = "/C=FR/O=Partner+20C+20SA/CN=selfsigned.partner-c.test", \
    .cert_issuer = "/C=FR/O=Partner+20C+20SA/CN=selfsigned.partner-c.test"

/* Which fingerprint a session shows. */
enum fp_pick { FP_NONE = 0, FP_EMPTY, FP_ORIG, FP_RENEWED, FP_REKEYED, FP_ORIG_MD5 };

struct sess_row {
    const char *name;
    struct policy_macros m;       /* cert_fp and pubkey_fp are filled from the picks */
    enum fp_pick cert, pubkey;
    const char *connector;
    enum policy_verdict verdict;
    const char *reason;           /* substring of some reason; NULL = no reasons */
    enum fp_pick seen;            /* the fingerprint the reason must show (short form) */
};

#define PASS POLICY_VERDICT_PASS
#define FAIL POLICY_VERDICT_FAIL

static const struct sess_row sess_rows[] = {
    /* a certificate pinned from a PEM file */
    { "postfix: pinned file certificate passes, in no CAfile", { .mta = PF,
      .sender = "<a@file.partner-c.test>", TLS13 }, FP_ORIG, FP_ORIG, "pin-file", PASS, NULL, 0 },
    { "sendmail: pinned file certificate passes, verify=FAIL", { .mta = SM,
      .sender = "a@file.partner-c.test", TLS13, SM_UNVERIFIED }, FP_ORIG, FP_NONE, "pin-file",
      PASS, NULL, 0 },
    { "postfix: same name, other key fails", { .mta = PF, .sender = "<a@file.partner-c.test>",
      TLS13 }, FP_REKEYED, FP_REKEYED, "pin-file", FAIL, "is not pinned (1 pinned, first "
      "certificate sha256:", FP_REKEYED },
    { "sendmail: same name, other key fails", { .mta = SM, .sender = "a@file.partner-c.test",
      TLS13, SM_UNVERIFIED }, FP_REKEYED, FP_NONE, "pin-file", FAIL, "is not pinned", FP_REKEYED },
    { "postfix: renewed certificate, same key, fails the certificate pin", { .mta = PF,
      .sender = "<a@file.partner-c.test>", TLS13 }, FP_RENEWED, FP_RENEWED, "pin-file", FAIL,
      "certificate fingerprint sha256:", FP_RENEWED },
    { "sendmail: renewed certificate fails the certificate pin", { .mta = SM,
      .sender = "a@file.partner-c.test", TLS13, SM_UNVERIFIED }, FP_RENEWED, FP_NONE, "pin-file",
      FAIL, "is not pinned", FP_RENEWED },
    { "sendmail: MD5 {cert_md5} only says it is MD5", { .mta = SM,
      .sender = "a@file.partner-c.test", TLS13, SM_UNVERIFIED }, FP_ORIG_MD5, FP_NONE,
      "pin-file", FAIL, "this is MD5", 0 },
    { "sendmail: no {cert_fp} says CertFingerprintAlgorithm", { .mta = SM,
      .sender = "a@file.partner-c.test", TLS13, SM_UNVERIFIED }, FP_NONE, FP_NONE, "pin-file",
      FAIL, "CertFingerprintAlgorithm=sha256", 0 },
    { "postfix: no fingerprint says policy delegation", { .mta = PF,
      .sender = "<a@file.partner-c.test>", TLS13 }, FP_NONE, FP_NONE, "pin-file", FAIL,
      "only through policy delegation", 0 },
    { "postfix: empty fingerprint is no certificate", { .mta = PF,
      .sender = "<a@file.partner-c.test>", TLS13 }, FP_EMPTY, FP_EMPTY, "pin-file", FAIL,
      "no client certificate to match the 1 pinned", 0 },
    { "postfix: no TLS fails once", { .mta = PF, .sender = "<a@file.partner-c.test>" },
      FP_NONE, FP_NONE, "pin-file", FAIL, "not encrypted", 0 },

    /* the public-key pin survives a renewal that keeps the key */
    { "postfix: renewed certificate passes the public-key pin, unverified", { .mta = PF,
      .sender = "<a@key.partner-c.test>", TLS13 }, FP_RENEWED, FP_RENEWED, "pin-key", PASS,
      NULL, 0 },
    { "postfix: other key fails the public-key pin", { .mta = PF,
      .sender = "<a@key.partner-c.test>", TLS13 }, FP_REKEYED, FP_REKEYED, "pin-key", FAIL,
      "public key fingerprint sha256:", FP_REKEYED },
    { "sendmail: no public-key fingerprint, and says so", { .mta = SM,
      .sender = "a@key.partner-c.test", TLS13, SM_UNVERIFIED }, FP_ORIG, FP_NONE, "pin-key",
      FAIL, "Sendmail passes no public key fingerprint", 0 },
    { "postfix: public-key pin without delegation names it", { .mta = PF,
      .sender = "<a@key.partner-c.test>", TLS13 }, FP_NONE, FP_NONE, "pin-key", FAIL,
      "ccert_pubkey_fingerprint only through policy delegation", 0 },

    /* a fingerprint written with colons in upper case */
    { "postfix: certificate_fingerprints in openssl's format pass", { .mta = PF,
      .sender = "<a@fp.partner-c.test>", TLS13 }, FP_ORIG, FP_ORIG, "pin-cert-fp", PASS, NULL, 0 },
    { "sendmail: certificate_fingerprints pass", { .mta = SM, .sender = "a@fp.partner-c.test",
      TLS13, SM_UNVERIFIED }, FP_ORIG, FP_NONE, "pin-cert-fp", PASS, NULL, 0 },

    /* match by fingerprint: the claim is identity, names stay unverified */
    { "postfix: match by certificate fingerprint claims and passes verified", { .mta = PF,
      .sender = "<a@anywhere.test>", TLS13 }, FP_ORIG, FP_ORIG, "by-fp", PASS, NULL, 0 },
    { "sendmail: match by certificate fingerprint, verify=FAIL, passes", { .mta = SM,
      .sender = "a@anywhere.test", TLS13, SM_UNVERIFIED }, FP_ORIG, FP_NONE, "by-fp", PASS,
      NULL, 0 },
    { "sendmail: renewed certificate is not claimed by the certificate fingerprint", { .mta = SM,
      .sender = "a@anywhere.test", TLS13, SM_UNVERIFIED }, FP_RENEWED, FP_NONE, "default",
      POLICY_VERDICT_NONE, NULL, 0 },
    { "sendmail: names of a pin-claimed unverified certificate satisfy nothing", { .mta = SM,
      .sender = "a@anywhere.test", TLS13, SM_UNVERIFIED }, FP_REKEYED, FP_NONE, "by-key-names",
      FAIL, "did not verify", 0 },

    /* min_key_bits where no pinned certificate tells the size */
    { "postfix: min_key_bits without a pinned certificate fails", { .mta = PF,
      .sender = "<a@bits.test>", TLS13 }, FP_RENEWED, FP_RENEWED, "bits-only", FAIL,
      "key size unknown (required 2048 bits)", 0 },
    { "sendmail: min_key_bits without a pinned certificate fails", { .mta = SM,
      .sender = "a@bits.test", TLS13, SM_UNVERIFIED }, FP_RENEWED, FP_NONE, "bits-only", FAIL,
      "key size unknown", 0 },
};

static const char *
pick(enum fp_pick k, bool pubkey)
{
    switch (k) {
    case FP_EMPTY:
        return "";
    case FP_ORIG:
        return pubkey ? fps[C_ORIG].pubkey : fps[C_ORIG].cert;
    case FP_RENEWED:
        return pubkey ? fps[C_RENEWED].pubkey : fps[C_RENEWED].cert;
    case FP_REKEYED:
        return pubkey ? fps[C_REKEYED].pubkey : fps[C_REKEYED].cert;
    case FP_ORIG_MD5:
        return fps[C_ORIG].md5;
    default:
        return NULL;
    }
}

static void
run_sess_row(void **state)
{
    const struct sess_row *w = *state;
    struct policy_macros m = w->m;
    struct policy_facts f;
    struct policy_result r;
    bool found = w->reason == NULL;
    char seen[FINGERPRINT_SHORT_SIZE] = "";

    m.cert_fp = pick(w->cert, false);
    m.pubkey_fp = pick(w->pubkey, true);
    if (w->seen != 0) {
        const struct cert_fps *c = &fps[w->seen == FP_RENEWED ? C_RENEWED : C_REKEYED];
        bool by_key = strstr(w->reason, "public key") != NULL;

        fingerprint_short(by_key ? c->pubkey_hex : c->cert_hex, seen);
    }
    assert_int_equal(policy_facts_build(&f, &m), 0);
    assert_int_equal(policy_eval(pins_policy, &f, NULL, &r), 0);
    for (size_t i = 0; i < r.nreasons; i++) {
        print_message("# reason: %s\n", r.reasons[i]);
        if (w->reason != NULL && strstr(r.reasons[i], w->reason) != NULL &&
            strstr(r.reasons[i], seen) != NULL)
            found = true;
    }
    assert_string_equal(r.connector, w->connector);
    assert_int_equal(r.verdict, w->verdict);
    if (w->reason == NULL)
        assert_int_equal(r.nreasons, 0);
    if (!found)
        fail_msg("no reason contains '%s' and '%s'", w->reason, seen);
    policy_result_free(&r);
    policy_facts_free(&f);
}

/* Replace every @NAME@ of text with its value. */
static char *
fill(const char *text, const char *const *names, const char *const *values, size_t n)
{
    char *out = strdup(text);

    assert_non_null(out);
    for (size_t i = 0; i < n; i++) {
        char *at;

        while ((at = strstr(out, names[i])) != NULL) {
            char *next = xasprintf("%.*s%s%s", (int)(at - out), out, values[i],
                                   at + strlen(names[i]));
            free(out);
            out = next;
        }
    }
    return out;
}

static struct policy *
load_text(const char *name, const char *text, const char *base_dir, struct policy_diags *d)
{
    static const char *const names[] = { "@PKI@", "@CERT@", "@KEY@", "@REKEYED_CERT@" };
    const char *values[] = { pki_dir(), fps[C_ORIG].cert, fps[C_ORIG].pubkey_hex,
                             fps[C_REKEYED].cert_hex };
    char *buf = fill(text, names, values, 4);
    struct policy *p = policy_load_buffer(name, buf, strlen(buf), base_dir, d);

    for (size_t i = 0; i < d->n && (p == NULL || d->nerrors > 0); i++) {
        char *s = policy_diag_format(&d->v[i]);

        print_error("%s\n", s ? s : "?");
        free(s);
    }
    free(buf);
    return p;
}

/* ---------------------------------------------------------------- pinned files */

static const char listing_text[] =
    "version: 1\n"
    "settings: { trust_store: @PKI@/trust.pem, pin_expiry_warn_days: 20 }\n"
    "defaults: { require: { certificates: [partner-a-ec.crt] } }\n"
    "connectors:\n"
    "  - name: partner-c\n"
    "    match: { sender_domains: [partner-c.test] }\n"
    "    require:\n"
    "      certificates: [partner-c-selfsigned.crt, pin-soon.crt]\n";

static const struct policy_pinned_cert *
pinned_named(const struct policy *p, const char *file_end, struct policy_pinned_cert *out)
{
    for (size_t i = 0; policy_pinned_get(p, i, out); i++) {
        size_t a = strlen(out->file), b = strlen(file_end);

        if (a >= b && strcmp(out->file + a - b, file_end) == 0)
            return out;
    }
    fail_msg("no pinned certificate from %s", file_end);
    return NULL;
}

/* What check shows: subject, O, OU, key, SANs, fingerprints, and the order. */
static void
pinned_listing(void **state)
{
    struct policy_diags d;
    struct policy_pinned_cert pc;
    struct policy *p;

    (void)state;
    policy_diags_init(&d);
    p = load_text("listing.yaml", listing_text, pki_dir(), &d);
    assert_non_null(p);
    assert_int_equal(policy_pinned_count(p), 3);
    assert_true(policy_pinned_get(p, 0, &pc));
    assert_string_equal(pc.connector, "default");
    assert_false(policy_pinned_get(p, 3, &pc));

    pinned_named(p, "/partner-c-selfsigned.crt", &pc);
    assert_string_equal(pc.connector, "partner-c");
    assert_int_equal(pc.line, 8);
    assert_int_equal(pc.column, 22);
    assert_string_equal(pc.subject, "CN=selfsigned.partner-c.test,O=Partner C SA,C=FR");
    assert_string_equal(pc.organization, "Partner C SA");
    assert_null(pc.unit);
    assert_string_equal(pc.key_type, "RSA");
    assert_int_equal(pc.key_bits, 2048);
    assert_int_equal(pc.rsa_equiv, 2048);
    assert_string_equal(pc.sans, "DNS:selfsigned.partner-c.test");
    assert_string_equal(pc.cert_sha256, fps[C_ORIG].cert_hex);
    assert_string_equal(pc.pubkey_sha256, fps[C_ORIG].pubkey_hex);

    pinned_named(p, "/partner-a-ec.crt", &pc);
    assert_string_equal(pc.key_type, "EC P-256");
    assert_int_equal(pc.key_bits, 256);
    assert_int_equal(pc.rsa_equiv, 3072);
    assert_string_equal(pc.unit, "Mail");
    assert_string_equal(pc.sans, "DNS:mail.partner-a.test, DNS:relay.partner-a.test");

    /* pin-soon expires in 10 days, within 20: the load itself warned */
    {
        bool warned = false;

        for (size_t i = 0; i < d.n; i++)
            if (d.v[i].severity == POLICY_SEV_WARNING && d.v[i].line == 8 &&
                d.v[i].column == 48 && strstr(d.v[i].message, "pin-soon.crt") != NULL &&
                strstr(d.v[i].message, "expires on") != NULL)
                warned = true;
        assert_true(warned);
    }
    policy_diags_free(&d);
    policy_unref(p);
}

struct expiry_row {
    const char *name;
    long long days_before;        /* now = partner-c-selfsigned's expiry minus this */
    int want;                     /* warnings about that certificate */
    const char *what;
};

static const struct expiry_row expiry_rows[] = {
    { "expiry: 40 days ahead is quiet (limit 20)", 40, 0, NULL },
    { "expiry: 21 days ahead is quiet", 21, 0, NULL },
    { "expiry: 19 days ahead warns", 19, 1, "expires on" },
    { "expiry: 1 day ahead warns", 1, 1, "in 1 days" },
    { "expiry: 3 days past says expired", -3, 1, "expired on" },
};

/* The daemon's daily check on a chosen day: the same warning as the load. */
static void
run_expiry_row(void **state)
{
    const struct expiry_row *w = *state;
    struct policy_diags d, e;
    struct policy_pinned_cert pc;
    struct policy *p;
    int n = 0;

    policy_diags_init(&d);
    policy_diags_init(&e);
    p = load_text("listing.yaml", listing_text, pki_dir(), &d);
    assert_non_null(p);
    pinned_named(p, "/partner-c-selfsigned.crt", &pc);
    assert_true(policy_pins_expiry_check(p, pc.not_after - w->days_before * 86400 - 60, &e) >= 0);
    for (size_t i = 0; i < e.n; i++) {
        assert_int_equal(e.v[i].severity, POLICY_SEV_WARNING);
        if (strstr(e.v[i].message, "partner-c-selfsigned.crt") == NULL)
            continue;
        n++;
        assert_int_equal(e.v[i].line, 8);
        if (strstr(e.v[i].message, w->what) == NULL)
            fail_msg("got '%s', want '%s'", e.v[i].message, w->what);
    }
    assert_int_equal(n, w->want);
    policy_diags_free(&d);
    policy_diags_free(&e);
    policy_unref(p);
}

/* A pin file named through a symbolic link, or a FIFO, is refused, not followed
 * or waited on. */
static void
pin_file_link_and_fifo(void **state)
{
    char dir[] = "/tmp/test_pins.XXXXXX";
    static const char *const names[] = { "link.crt", "fifo.crt" };
    static const char *const want[] = { "symbolic link", "FIFO" };

    (void)state;
    assert_non_null(mkdtemp(dir));
    {
        char *target = xasprintf("%s/partner-c-selfsigned.crt", pki_dir());
        char *link = xasprintf("%s/link.crt", dir), *fifo = xasprintf("%s/fifo.crt", dir);

        assert_int_equal(symlink(target, link), 0);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        free(target);
        free(link);
        free(fifo);
    }
    for (size_t i = 0; i < 2; i++) {
        struct policy_diags d;
        char *text = xasprintf("version: 1\nsettings: { trust_store: @PKI@/trust.pem }\n"
                               "connectors:\n  - name: c\n    match: { sender_domains: [c.test] }\n"
                               "    require: { certificates: [%s] }\n", names[i]);
        struct policy *p;

        policy_diags_init(&d);
        p = load_text("links.yaml", text, dir, &d);
        assert_null(p);
        assert_int_equal(d.nerrors, 1);
        if (strstr(d.v[0].message, want[i]) == NULL || d.v[0].line != 6)
            fail_msg("%s: got %u: %s", names[i], d.v[0].line, d.v[0].message);
        policy_diags_free(&d);
        free(text);
    }
    {
        char *a = xasprintf("%s/link.crt", dir), *b = xasprintf("%s/fifo.crt", dir);

        unlink(a);
        unlink(b);
        rmdir(dir);
        free(a);
        free(b);
    }
}

/* Connectors claimed by different fingerprints never shadow each other; the
 * same fingerprint and domain twice does. */
static void
lint_fingerprint_claims(void **state)
{
    static const char text[] =
        "version: 1\nsettings: { trust_store: @PKI@/trust.pem }\nconnectors:\n"
        "  - name: a\n    match: { sender_domains: [x.test], certificate_fingerprints: [\"sha256:@CERT@\"] }\n"
        "    require: { tls: true }\n"
        "  - name: b\n    match: { sender_domains: [x.test], public_key_fingerprints: [\"sha256:@KEY@\"] }\n"
        "    require: { tls: true }\n"
        "  - name: c\n    match: { sender_domains: [x.test], certificate_fingerprints: [\"sha256:@CERT@\"] }\n"
        "    require: { tls: true }\n";
    struct policy_diags d;
    struct policy *p;
    size_t shadowed = 0;

    (void)state;
    policy_diags_init(&d);
    p = load_text("lint.yaml", text, NULL, &d);
    assert_non_null(p);
    for (size_t i = 0; i < d.n; i++)
        if (strstr(d.v[i].message, "never claims anything") != NULL) {
            shadowed++;
            if (strstr(d.v[i].message, "connector 'c'") == NULL)
                fail_msg("wrong connector shadowed: %s", d.v[i].message);
        }
    assert_int_equal(shadowed, 1);
    policy_diags_free(&d);
    policy_unref(p);
}

/* ---------------------------------------------------------------- main */

static int
setup(void **state)
{
    struct policy_diags d;

    (void)state;
    for (int i = 0; i < C_N; i++)
        if (cert_fps_of(cert_files[i], &fps[i]) < 0)
            return -1;
    policy_diags_init(&d);
    pins_policy = load_text("pins.yaml", pins_text, NULL, &d);
    policy_diags_free(&d);
    return pins_policy != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    policy_unref(pins_policy);
    return 0;
}

int
main(void)
{
    struct table_tests tt = { 0 };

    TABLE_TEST_ROWS(&tt, fp_rows, name, run_fp_row);
    TABLE_TEST_ROWS(&tt, equiv_rows, name, run_equiv_row);
    TABLE_TEST_ROWS(&tt, sess_rows, name, run_sess_row);
    TABLE_TEST_ROWS(&tt, expiry_rows, name, run_expiry_row);
    TABLE_TEST_FN(&tt, pinned_listing);
    TABLE_TEST_FN(&tt, pin_file_link_and_fifo);
    TABLE_TEST_FN(&tt, lint_fingerprint_claims);
    return table_test_run(&tt, "pins", setup, teardown);
}
