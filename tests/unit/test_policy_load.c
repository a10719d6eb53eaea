/*
 * test_policy_load.c -- unit tests of the connectors-file loader (policy/policy_load.c)
 * and the snapshot helpers (policy/policy.c): one bad file per way a file can be
 * wrong (exactly one error, at the right line and column), the model built from
 * good files, the match indexes, warnings, the shipped example, and scale.
 * Never: depends on the wording of a message beyond the substring in its table row.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy.h"
#include "policy_int.h"
#include "cert_dn.h"
#include "match_addr.h"
#include "match_domain.h"
#include "tls_facts.h"
#include "table_test.h"

#define SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

/*
 * Where the trust store comes from: data files are static, but the test PKI is
 * generated into the build tree ($TLSPOLICY_TEST_PKI). So data files name it
 * relatively ("trust_store: trust.pem") and are loaded with policy_load_buffer()
 * and base_dir = $TLSPOLICY_TEST_PKI. That also runs the relative-path
 * resolution on every good file; policy_load()'s own "relative to the file's
 * directory" rule is tested separately with a real file in a temporary directory.
 */

/* --- helpers ------------------------------------------------------------ */

static const char *
top_srcdir(void)
{
    const char *s = getenv("top_srcdir");
    return s != NULL && s[0] != '\0' ? s : ".";
}

static const char *
pki_dir(void)
{
    const char *s = getenv("TLSPOLICY_TEST_PKI");
    if (s == NULL || s[0] == '\0')
        fail_msg("TLSPOLICY_TEST_PKI is not set (run via make check, or set it to the "
                 "directory made by tests/pki/mkpki.sh)");
    return s;
}

static char *
xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    s = malloc((size_t)n + 1);
    assert_non_null(s);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static char *
data_path(const char *rel)
{
    return xasprintf("%s/tests/unit/data/%s", top_srcdir(), rel);
}

static char *
read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (f == NULL)
        fail_msg("cannot open %s: %s", path, strerror(errno));
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static void
print_diags(const struct policy_diags *d)
{
    for (size_t i = 0; i < d->n; i++) {
        char *s = policy_diag_format(&d->v[i]);
        print_message("#   %s\n", s ? s : "(out of memory)");
        free(s);
    }
}

/* Load tests/unit/data/REL with the test PKI as base directory. */
static struct policy *
load_data(const char *rel, struct policy_diags *d)
{
    char *path = data_path(rel);
    size_t len;
    char *buf = read_all(path, &len);
    struct policy *p = policy_load_buffer(path, buf, len, pki_dir(), d);

    free(buf);
    free(path);
    return p;
}

static struct policy *
load_str(const char *yaml, struct policy_diags *d)
{
    return policy_load_buffer("test.yaml", yaml, strlen(yaml), pki_dir(), d);
}

static struct policy *
must_load(const char *rel, struct policy_diags *d)
{
    struct policy *p = load_data(rel, d);
    if (p == NULL || d->nerrors != 0) {
        print_diags(d);
        fail_msg("%s: got %zu errors, want a loaded policy", rel, d->nerrors);
    }
    return p;
}

static const struct policy_diag *
first_error(const struct policy_diags *d)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].severity == POLICY_SEV_ERROR)
            return &d->v[i];
    return NULL;
}

static bool
domain_has(const struct domain_table *t, const char *name, uint32_t id)
{
    struct id_span spans[DOMAIN_MAX_LABELS + 1];
    size_t n = domain_table_lookup(t, name, strlen(name), spans, DOMAIN_MAX_LABELS + 1);
    return id_span_contains(spans, n, id);
}

static bool
addr_has(const struct addr_table *t, const char *text, uint32_t id)
{
    struct id_span spans[129];
    unsigned char ip[16];

    if (addr_parse(text, strlen(text), ip) != 0)
        fail_msg("test bug: %s is not an address", text);
    return id_span_contains(spans, addr_table_lookup(t, ip, spans, 129), id);
}

static const struct policy_connector *
conn_named(const struct policy *p, const char *name)
{
    for (size_t i = 0; i < p->nconn; i++)
        if (p->conn[i].name != NULL && strcmp(p->conn[i].name, name) == 0)
            return &p->conn[i];
    fail_msg("no connector named %s", name);
    return NULL;
}

static void
assert_path(const char *got, const char *dir, const char *file)
{
    char *want = xasprintf("%s/%s", dir, file);
    if (got == NULL || strcmp(got, want) != 0)
        fail_msg("path: got %s, want %s", got ? got : "(null)", want);
    free(want);
}

/* --- bad files: exactly one error, at the right place ------------------- */

struct bad_case {
    const char *file;             /* under tests/unit/data/bad/ */
    unsigned line, column;
    const char *msg;              /* substring of the message */
};

static void
test_bad(void **state)
{
    const struct bad_case *c = *state;
    struct policy_diags d;
    char *rel = xasprintf("bad/%s", c->file), *path = data_path(rel);
    struct policy *p;
    const struct policy_diag *e;

    policy_diags_init(&d);
    p = load_data(rel, &d);
    if (p != NULL || d.nerrors != 1)
        print_diags(&d);
    assert_null(p);
    assert_int_equal(d.nerrors, 1);
    e = first_error(&d);
    assert_non_null(e);
    if (e->line != c->line || e->column != c->column || strstr(e->message, c->msg) == NULL ||
        strcmp(e->file, path) != 0)
        fail_msg("%s: got %s:%u:%u: %s, want %u:%u: ...%s...", c->file, e->file, e->line,
                 e->column, e->message, c->line, c->column, c->msg);
    policy_diags_free(&d);
    free(rel);
    free(path);
}

/* Position and message of the one error each file must give. */
static struct bad_case bad_cases[] = {
    { "01-yaml-syntax.yaml", 5, 11, "YAML syntax error: did not find expected ',' or ']'" },
    { "02-empty.yaml", 1, 1, "the file is empty" },
    { "03-not-mapping.yaml", 1, 1, "holds a list (expected a mapping" },
    { "04-missing-version.yaml", 1, 1, "missing version" },
    { "05-version-2.yaml", 1, 10, "'2' is not a supported schema version (expected 1)" },
    { "06-unknown-top-key.yaml", 2, 1, "unknown key 'connector' in the top level" },
    { "07-unknown-settings-key.yaml", 4, 3, "unknown key 'trust-store' in settings "
            "(expected one of: mode, trust_store," },
    { "08-bad-mode.yaml", 3, 9, "mode: 'strict' is not valid (expected enforce or monitor)" },
    { "09-bad-on-error.yaml", 3, 13, "on_error: 'reject' is not valid" },
    { "10-bad-header.yaml", 3, 11, "'X TLS Policy' is not a header field name" },
    { "11-bad-authserv-id.yaml", 3, 16, "is not an authserv-id" },
    { "12-trust-store-missing.yaml", 4, 16, "no-such-bundle.pem" },
    { "13-intermediates-not-list.yaml", 3, 18, "intermediates: expected a list, found a mapping" },
    { "14-defaults-match.yaml", 3, 3, "match is not allowed in defaults" },
    { "15-connectors-not-list.yaml", 3, 3, "expected a list of connectors, found a mapping" },
    { "16-connector-not-mapping.yaml", 3, 5, "expected a mapping, found a string" },
    { "17-missing-name.yaml", 3, 5, "connector has no name" },
    { "18-bad-name-chars.yaml", 3, 11, "'partner a' is not a connector name" },
    { "19-name-too-long.yaml", 3, 11, "1 to 64 characters" },
    { "20-duplicate-name.yaml", 6, 11, "duplicate connector name 'partner-a' (first at line 3)" },
    { "21-reserved-name.yaml", 3, 11, "'default' is reserved" },
    { "22-unknown-connector-key.yaml", 5, 5, "unknown key 'on_failure' in connector" },
    { "23-missing-match.yaml", 3, 5, "connector 'partner-a' has no match" },
    { "24-empty-match.yaml", 4, 12, "match: the mapping is empty" },
    { "25-unknown-match-key.yaml", 5, 7, "unknown key 'sender_domain' in match" },
    { "26-empty-list.yaml", 5, 23, "sender_domains: the list is empty" },
    { "27-bad-domain.yaml", 5, 40, "'partner a.test' is not a domain pattern" },
    { "28-bad-wildcard.yaml", 5, 24, "'*partner-a.test' is not a domain pattern" },
    { "29-bad-cidr.yaml", 5, 26, "'192.0.2.300/24' is not an IP address or CIDR prefix" },
    { "30-cidr-host-bits.yaml", 5, 26, "'192.0.2.1/24' is not an IP address or CIDR prefix" },
    { "31-v6-prefix-129.yaml", 5, 26, "'2001:db8::/129' is not an IP address" },
    { "32-bad-require-key.yaml", 7, 7, "unknown key 'min_versoin' in require (expected one "
            "of: tls, min_version," },
    { "33-min-version-tls14.yaml", 6, 20, "min_version: 'TLSv1.4' is not a TLS version "
            "(expected SSLv3, TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)" },
    { "34-cipher-bits-quoted.yaml", 6, 24, "'128' is a quoted string" },
    { "35-cipher-bits-negative.yaml", 6, 24, "-1 is out of range (expected 1 to 4096)" },
    { "36-cipher-bits-hex.yaml", 6, 24, "'0x10' is not a decimal integer" },
    { "37-forward-secrecy-yes.yaml", 6, 24, "'yes' is not a boolean (expected true or false)" },
    { "38-certificate-maybe.yaml", 6, 20, "'maybe' is not valid (expected any, presented or "
            "verified)" },
    { "39-bad-cert-name-pattern.yaml", 7, 27, "'mail*.partner-a.test' is not a certificate "
            "name pattern" },
    { "40-empty-issuer.yaml", 7, 17, "issuers: '' is not a certificate name" },
    { "41-bad-dn-issuer.yaml", 7, 22, "is not a valid DN" },
    { "42-restrict-without-sender.yaml", 7, 30, "needs match.sender_domains" },
    { "43-bad-on-fail.yaml", 6, 14, "on_fail: 'bounce' is not valid" },
    { "44-reply-crlf.yaml", 6, 12, "no CR, LF" },
    { "45-reply-4xx-with-reject.yaml", 7, 12, "4.x.x does not fit on_fail: reject" },
    { "46-anchor.yaml", 5, 23, "anchors and aliases are not supported" },
    { "47-alias.yaml", 5, 23, "anchors and aliases are not supported" },
    { "48-duplicate-key.yaml", 7, 5, "duplicate key 'on_fail' in connector (first at line 6)" },
    { "49-tag.yaml", 6, 24, "tags are not supported" },
    { "50-multiple-documents.yaml", 3, 1, "a second YAML document" },
    { "51-enabled-not-bool.yaml", 4, 14, "'on' is not a boolean (expected true or false)" },
    { "52-reply-5xx-with-tempfail.yaml", 7, 12, "5.x.x does not fit on_fail: tempfail" },
    { "53-cipher-bits-exponent.yaml", 6, 24, "'1e3' is not a decimal integer" },
    { "54-cipher-bits-too-large.yaml", 6, 24, "8192 is out of range" },
    { "55-header-null.yaml", 3, 10, "header: expected a string, found nothing (null)" },
    { "56-name-not-scalar.yaml", 3, 11, "name: expected a string, found a list" },
    { "57-v4-prefix-33.yaml", 5, 25, "'192.0.2.0/33' is not an IP address or CIDR prefix" },
    { "58-tab-indent.yaml", 3, 1, "YAML syntax error" },
    { "59-intermediate-missing.yaml", 5, 29, "no-such-intermediate.pem" },
    { "60-reply-too-long.yaml", 6, 12, "at most 400 characters" },
    { "61-enabled-quoted.yaml", 4, 14, "'true' in quotes is not a boolean" },
    { "62-mode-per-connector.yaml", 4, 11, "mode: 'audit' is not valid" },
    { "63-version-quoted.yaml", 1, 10, "version: '1' is quoted" },
    { "64-organizations-empty.yaml", 7, 23, "organizations: '' is not an organization name" },
    { "65-not-utf8.yaml", 3, 14, "YAML syntax error: invalid leading UTF-8 octet" },
    { "66-bad-dn-issuers.yaml", 7, 38, "issuers: 'CN=Test Issuing CA 1,O' is not a valid DN" },
    { "67-issuer-control-char.yaml", 7, 17, "'Test\\x09Issuing CA' is not a certificate name" },
    { "68-intermediate-empty.yaml", 3, 29, "intermediates: '' is not a PEM file name" },
    { "69-client-name-bare-wildcard.yaml", 4, 28, "client_names: '*' is not a domain pattern" },
    { "70-header-from.yaml", 3, 11, "'From' is not a header field name the daemon may own "
      "(expected a field of its own, not a standard one (RFC 5322, 6376, 8601)" },
    { "71-header-dkim.yaml", 3, 11, "'dkim-signature' is not a header field name the daemon may own" },
    { "72-header-mta-added.yaml", 3, 11, "not one that mail systems add" },
    { "73-header-not-x.yaml", 3, 11, "expected an X- name, TLS-Policy or TLS-Posture" },
    { "audit-bad-hostname.yaml", 3, 13, "hostname: 'mx 1' is not a host name (expected "
      "letters, digits, '.', '-' and '_' only)" },
    { "audit-bad-on-log-error.yaml", 3, 17, "on_log_error: 'accept' is not valid" },
    { "audit-chain-not-bool.yaml", 3, 19, "'yes' in quotes is not a boolean" },
    { "74-idn-bad-alabel.yaml", 5, 35, "'xn--zz.test' is not a domain pattern (expected a valid "
      "internationalised domain name: string contains invalid punycode data)" },
    { "75-idn-bad-ulabel.yaml", 7, 28, "is not a certificate name pattern (expected a valid "
      "internationalised domain name: string start/ends with forbidden hyphen)" },
    { "pin-01-fingerprint-md5.yaml", 6, 34, "(32 is an MD5 digest)" },
    { "pin-02-fingerprint-no-prefix.yaml", 6, 34, "expected \"sha256:\" followed by 64 hex digits" },
    { "pin-03-fingerprint-bad-char.yaml", 6, 33, "0-9, a-f, colons only between bytes" },
    { "pin-04-match-fingerprint-long.yaml", 5, 34, "exactly 64 hex digits after \"sha256:\"" },
    { "pin-05-cert-missing.yaml", 6, 22, "no-such-pin.crt" },
    { "pin-06-cert-not-pem.yaml", 6, 22, "holds no certificate (expected PEM" },
    { "pin-07-cert-ca.yaml", 6, 22, "is a CA certificate (basicConstraints CA:TRUE)" },
    { "pin-08-cert-private-key.yaml", 6, 22, "holds a private key" },
    { "pin-09-min-key-bits-1024.yaml", 7, 48, "the RSA key has 1024 bits, below min_key_bits 2048" },
    { "pin-10-min-key-bits-256.yaml", 7, 21, "expected 512 to 16384" },
    { "pin-11-expiry-days-negative.yaml", 3, 25, "pin_expiry_warn_days" },
    { "pin-12-fingerprint-colon.yaml", 6, 34, "colons only between bytes" },
};
#define NBAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

/* --- good files: the model --------------------------------------------- */

static void
test_full(void **state)
{
    struct policy_diags d;
    struct policy *p;
    const struct policy_settings *s;
    const struct policy_connector *a, *r, *b, *ball;
    const char *pki = pki_dir();

    (void)state;
    policy_diags_init(&d);
    p = must_load("good/full.yaml", &d);

    s = policy_settings(p);
    assert_int_equal(s->mode, POLICY_MODE_MONITOR);
    assert_int_equal(s->on_error, POLICY_ON_ERROR_ACCEPT);
    assert_path(s->trust_store, pki, "trust.pem");
    assert_string_equal(s->header, "X-TLS-Posture");
    assert_string_equal(s->authserv_id, "mx.example.test");
    assert_path(s->log_json, pki, "posture.jsonl");
    assert_int_equal(p->nintermediates, 1);
    assert_path(p->intermediates[0], pki, "ints.pem");
    assert_non_null(p->trust);

    assert_int_equal(p->default_on_fail, POLICY_ACTION_QUARANTINE);
    assert_true(p->default_require.any);
    assert_true(p->default_require.tls);
    assert_int_equal(p->default_require.min_version, TLS_VERSION_TLS1_2);

    assert_int_equal(policy_connector_count(p), 4);
    a = &p->conn[0];
    assert_string_equal(a->name, "partner-a");
    assert_int_equal(a->line, 19);
    assert_true(a->enabled);
    assert_true(a->has_mode);
    assert_int_equal(a->mode, POLICY_MODE_ENFORCE);
    assert_int_equal(a->keys, POLICY_KEY_SENDER_DOMAIN | POLICY_KEY_CLIENT_ADDR |
                              POLICY_KEY_CLIENT_NAME | POLICY_KEY_RCPT_DOMAIN |
                              POLICY_KEY_CERT_NAME);
    assert_true(a->restrict_sender_domains);
    assert_int_equal(a->on_fail, POLICY_ACTION_REJECT);
    assert_string_equal(a->reply, "5.7.1 partner-a must send over verified TLS 1.2 or better");
    assert_true(a->require.any);
    assert_true(a->require.tls);
    assert_int_equal(a->require.min_version, TLS_VERSION_TLS1_2);
    assert_int_equal(a->require.min_cipher_bits, 128);
    assert_true(a->require.forward_secrecy);
    assert_int_equal(a->require.certificate, POLICY_CERT_VERIFIED);
    assert_int_equal(a->require.certificate_names.n, 2);
    assert_string_equal(a->require.certificate_names.v[0], "mail.partner-a.test");
    assert_string_equal(a->require.certificate_names.v[1], "*.partner-a.test");
    assert_int_equal(a->require.issuers.n, 1);
    assert_string_equal(a->require.issuers.v[0], "Test Issuing CA 1");
    assert_null(a->require.issuers.is_dn);
    assert_int_equal(a->require.root_issuers.n, 1);
    assert_string_equal(a->require.root_issuers.v[0], "Test Root CA R1");
    assert_int_equal(a->require.organizations.n, 1);
    assert_string_equal(a->require.organizations.v[0], "Partner A Ltd");

    r = conn_named(p, "relay.dc2");
    assert_true(r->enabled);
    assert_false(r->has_mode);
    assert_int_equal(r->keys, POLICY_KEY_CLIENT_ADDR);
    assert_false(r->restrict_sender_domains);
    assert_int_equal(r->on_fail, POLICY_ACTION_TEMPFAIL);
    assert_int_equal(r->require.min_version, TLS_VERSION_TLS1_3);
    assert_false(r->require.tls);
    assert_int_equal(r->require.certificate, POLICY_CERT_ANY);

    b = conn_named(p, "Partner_B");
    assert_false(b->enabled);
    assert_int_equal(b->require.certificate, POLICY_CERT_PRESENTED);
    assert_int_equal(b->on_fail, POLICY_ACTION_TAG);
    assert_null(b->reply);

    ball = conn_named(p, "partner-b-all");
    assert_int_equal(ball->on_fail, POLICY_ACTION_ACCEPT);

    /* The indexes: ids are positions in p->conn, disabled connectors absent. */
    static const struct {
        int table;                /* 0 sender, 1 client name, 2 rcpt, 3 cert name, 4 addr */
        const char *name;
        uint32_t id;
        bool want;
    } look[] = {
        { 0, "partner-a.test", 0, true },
        { 0, "partner-a.test", 3, true },
        { 0, "PARTNER-A.test.", 0, true },
        { 0, "mx.partner-a.test", 0, true },
        { 0, "mx.partner-a.test", 3, false },
        { 0, "partner-b.test", 3, true },
        { 0, "partner-b.test", 2, false },          /* disabled */
        { 0, "example.com", 0, false },
        { 1, "a.mx.partner-a.test", 0, true },
        { 1, "mx.partner-a.test", 0, false },
        { 2, "example.com", 0, true },
        { 2, "sub.example.com", 0, false },
        { 3, "mail.partner-a.test", 0, true },
        { 4, "192.0.2.77", 0, true },
        { 4, "::ffff:192.0.2.1", 0, true },
        { 4, "2001:db8:1::5", 0, true },
        { 4, "192.0.3.1", 0, false },
        { 4, "198.51.100.63", 1, true },
        { 4, "198.51.100.64", 1, false },
    };
    for (size_t i = 0; i < sizeof(look) / sizeof(look[0]); i++) {
        const struct domain_table *dt[] = { p->by_sender_domain, p->by_client_name,
                                            p->by_rcpt_domain, p->by_cert_name };
        bool got = look[i].table == 4 ? addr_has(p->by_client_addr, look[i].name, look[i].id)
                                      : domain_has(dt[look[i].table], look[i].name, look[i].id);
        if (got != look[i].want)
            fail_msg("index %d lookup %s, id %u: got %d, want %d", look[i].table, look[i].name,
                     look[i].id, got, look[i].want);
    }
    policy_unref(p);
    policy_diags_free(&d);
}

static void
test_minimal(void **state)
{
    struct policy_diags d;
    struct policy *p;
    const struct policy_settings *s;

    (void)state;
    if (access(SYSTEM_BUNDLE, R_OK) != 0) {
        print_message("# %s missing (install ca-certificates)\n", SYSTEM_BUNDLE);
        skip();
    }
    policy_diags_init(&d);
    p = must_load("good/minimal.yaml", &d);
    s = policy_settings(p);
    assert_int_equal(s->mode, POLICY_MODE_ENFORCE);
    assert_int_equal(s->on_error, POLICY_ON_ERROR_TEMPFAIL);
    assert_string_equal(s->trust_store, SYSTEM_BUNDLE);
    assert_string_equal(s->header, "X-TLS-Policy");
    assert_string_equal(s->authserv_id, "");
    assert_string_equal(s->log_json, "");
    assert_null(s->hostname);             /* the daemon uses the system's name */
    assert_false(s->log_json_chain);
    assert_int_equal(s->on_log_error, POLICY_ON_LOG_ERROR_TEMPFAIL);
    /* `sha256sum good/minimal.yaml`, cut to 16 digits */
    assert_string_equal(policy_hash(p), "sha256:67bb1ee82eb0a57b");
    assert_int_equal(p->nintermediates, 0);
    assert_int_equal(p->default_on_fail, POLICY_ACTION_TAG);
    assert_false(p->default_require.any);
    assert_int_equal(p->default_require.min_version, TLS_VERSION_UNKNOWN);
    assert_int_equal(policy_connector_count(p), 0);
    assert_non_null(p->trust);
    assert_int_equal(d.n, 0);
    policy_unref(p);
    policy_diags_free(&d);
}

/* A connector giving only name and match gets the documented defaults. */
static void
test_connector_defaults(void **state)
{
    struct policy_diags d;
    struct policy *p;
    const struct policy_connector *c;

    (void)state;
    policy_diags_init(&d);
    p = load_str("version: 1\nsettings: {trust_store: trust.pem}\nconnectors:\n"
                 "  - name: bare\n    match: {recipient_domains: [example.net]}\n", &d);
    if (p == NULL)
        print_diags(&d);
    assert_non_null(p);
    c = &p->conn[0];
    assert_true(c->enabled);
    assert_false(c->has_mode);
    assert_false(c->restrict_sender_domains);
    assert_int_equal(c->on_fail, POLICY_ACTION_REJECT);
    assert_null(c->reply);
    assert_false(c->require.any);
    assert_false(c->require.tls);
    assert_int_equal(c->require.min_version, TLS_VERSION_UNKNOWN);
    assert_int_equal(c->require.min_cipher_bits, 0);
    assert_int_equal(c->require.certificate, POLICY_CERT_ANY);
    assert_int_equal(c->require.certificate_names.n, 0);
    assert_true(domain_has(p->by_rcpt_domain, "example.net", 0));
    policy_unref(p);
    policy_diags_free(&d);
}

static void
test_dn_issuers(void **state)
{
    struct policy_diags d;
    struct policy *p;
    const struct policy_names *is, *roots;

    (void)state;
    policy_diags_init(&d);
    p = must_load("good/dn-issuers.yaml", &d);
    is = &p->conn[0].require.issuers;
    roots = &p->conn[0].require.root_issuers;
    assert_int_equal(is->n, 3);
    assert_non_null(is->is_dn);
    /* Both DN spellings land on the one canonical form of cert_dn.h. */
    static const struct { size_t i; bool dn; const char *want; } want[] = {
        { 0, true, "/c=DE/o=Test PKI/cn=Test Issuing CA 1" },
        { 1, true, "/c=DE/o=Test PKI/cn=Test Issuing CA 1" },
        { 2, false, "Test Issuing CA 1" },
    };
    for (size_t k = 0; k < 3; k++) {
        if (is->is_dn[want[k].i] != want[k].dn || strcmp(is->v[want[k].i], want[k].want) != 0)
            fail_msg("issuers[%zu]: got %s (dn %d), want %s (dn %d)", want[k].i,
                     is->v[want[k].i], is->is_dn[want[k].i], want[k].want, want[k].dn);
    }
    assert_int_equal(roots->n, 1);
    assert_non_null(roots->is_dn);
    assert_true(roots->is_dn[0]);
    assert_string_equal(roots->v[0], "/c=DE/o=Test PKI/cn=Test Root CA R1");
    policy_unref(p);
    policy_diags_free(&d);
}

struct want_warning {
    unsigned line, column;
    const char *msg;
};

/* Load a good file and hold its diagnostics to want: each warning exactly, in
 * order, and no others. */
static struct policy *
load_expecting_warnings(const char *file, const struct want_warning *want, size_t n)
{
    struct policy_diags d;
    struct policy *p;

    policy_diags_init(&d);
    p = must_load(file, &d);
    if (d.n != n)
        print_diags(&d);
    assert_int_equal(d.n, n);
    for (size_t i = 0; i < n; i++) {
        const struct policy_diag *g = &d.v[i];
        if (g->severity != POLICY_SEV_WARNING || g->line != want[i].line ||
            g->column != want[i].column || strstr(g->message, want[i].msg) == NULL)
            fail_msg("%s warning %zu: got %u:%u: %s, want %u:%u: ...%s...", file, i, g->line,
                     g->column, g->message, want[i].line, want[i].column, want[i].msg);
    }
    policy_diags_free(&d);
    return p;
}

/* The lint that compares connectors (a narrower connector after a wider one is not
 * shadowed; two restricting gateways of one domain are not either). */
static void
test_lint(void **state)
{
    static const struct want_warning want[] = {
        { 12, 5, "connector 'narrow' never claims anything: connector 'broad' (line 9)" },
        { 21, 5, "connector 'subnet' never claims anything: connector 'net' (line 18)" },
        { 25, 31, "'bank.example' of connector 'bank-misc' is restricted by connector 'bank-gw-a'" },
    };

    (void)state;
    policy_unref(load_expecting_warnings("good/lint.yaml", want, sizeof(want) / sizeof(want[0])));
}

/* Warnings of tlspolicy check: each expected one exactly, and no others. */
static void
test_warnings(void **state)
{
    static const struct want_warning want[] = {
        { 10, 7, "Postfix passes only the certificate CN" },    /* organizations */
        { 16, 7, "names of an unverified certificate prove nothing" },
        { 17, 7, "names of an unverified certificate prove nothing" },
        { 19, 14, "connector 'off' is disabled" },
        { 26, 12, "on_fail: tag does not refuse" },
        { 27, 5, "connector 'nothing' requires nothing" },
    };
    struct policy *p;

    (void)state;
    p = load_expecting_warnings("good/warnings.yaml", want, sizeof(want) / sizeof(want[0]));
    /* The disabled connector is kept in conn[] but is in no index. */
    assert_int_equal(policy_connector_count(p), 5);
    assert_false(conn_named(p, "off")->enabled);
    assert_false(domain_has(p->by_sender_domain, "off.test", 2));
    assert_true(domain_has(p->by_sender_domain, "tag.test", 3));
    policy_unref(p);
}

static void
test_single_strings(void **state)
{
    struct policy_diags d;
    struct policy *p;

    (void)state;
    policy_diags_init(&d);
    p = must_load("good/single-strings.yaml", &d);
    assert_int_equal(p->conn[0].keys, POLICY_KEY_SENDER_DOMAIN | POLICY_KEY_CLIENT_ADDR |
                                      POLICY_KEY_CLIENT_NAME | POLICY_KEY_RCPT_DOMAIN |
                                      POLICY_KEY_CERT_NAME);
    assert_true(domain_has(p->by_sender_domain, "one.test", 0));
    assert_true(domain_has(p->by_client_name, "mx.one.test", 0));
    assert_true(domain_has(p->by_rcpt_domain, "example.org", 0));
    assert_true(domain_has(p->by_cert_name, "mail.one.test", 0));
    assert_true(addr_has(p->by_client_addr, "203.0.113.9", 0));
    assert_false(addr_has(p->by_client_addr, "203.0.113.10", 0));
    policy_unref(p);
    policy_diags_free(&d);
}

/* require.any is "some requirement is really asked for". */
static void
test_require_any(void **state)
{
    static const struct { const char *require; bool want; } cases[] = {
        { "{}", false },
        { "{tls: false}", false },
        { "{forward_secrecy: false}", false },
        { "{certificate: any}", false },
        { "{tls: true}", true },
        { "{min_version: SSLv3}", true },
        { "{min_cipher_bits: 1}", true },
        { "{forward_secrecy: true}", true },
        { "{certificate: presented}", true },
        { "{certificate: verified, certificate_names: [a.test]}", true },
        { "{certificate: verified, issuers: [X]}", true },
        { "{certificate: verified, root_issuers: [X]}", true },
        { "{certificate: verified, organizations: [X]}", true },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct policy_diags d;
        char *y = xasprintf("version: 1\nsettings: {trust_store: trust.pem}\n"
                            "defaults: {require: %s}\n", cases[i].require);
        struct policy *p;

        policy_diags_init(&d);
        p = load_str(y, &d);
        if (p == NULL) {
            print_diags(&d);
            fail_msg("require %s: did not load", cases[i].require);
        }
        if (p->default_require.any != cases[i].want)
            fail_msg("require %s: got any=%d, want %d", cases[i].require,
                     p->default_require.any, cases[i].want);
        policy_unref(p);
        policy_diags_free(&d);
        free(y);
    }
}

/* The example shipped for administrators must load as it is. */
static void
test_example(void **state)
{
    struct policy_diags d;
    struct policy *p;
    const struct policy_connector *bank, *health, *relay;
    char *path = xasprintf("%s/contrib/connectors.example.yaml", top_srcdir());

    (void)state;
    if (access(SYSTEM_BUNDLE, R_OK) != 0) {
        print_message("# %s missing (install ca-certificates)\n", SYSTEM_BUNDLE);
        free(path);
        skip();
    }
    policy_diags_init(&d);
    p = policy_load(path, &d);
    if (p == NULL || d.nerrors != 0)
        print_diags(&d);
    assert_non_null(p);
    assert_string_equal(policy_path(p), path);
    assert_string_equal(policy_settings(p)->trust_store, SYSTEM_BUNDLE);
    assert_int_equal(policy_settings(p)->mode, POLICY_MODE_ENFORCE);
    assert_int_equal(p->default_on_fail, POLICY_ACTION_TAG);
    assert_false(p->default_require.any);

    bank = &p->conn[0];
    assert_string_equal(bank->name, "bank-partner");
    assert_int_equal(bank->require.certificate, POLICY_CERT_VERIFIED);
    assert_true(bank->require.min_version >= TLS_VERSION_TLS1_2);
    assert_true(bank->require.root_issuers.n >= 1);
    assert_true(bank->restrict_sender_domains);
    assert_int_equal(bank->on_fail, POLICY_ACTION_REJECT);

    health = conn_named(p, "health-insurer");
    assert_true(health->has_mode);
    assert_int_equal(health->mode, POLICY_MODE_MONITOR);

    relay = conn_named(p, "dc2-relay");
    assert_int_equal(relay->keys, POLICY_KEY_CLIENT_ADDR);
    assert_true(addr_has(p->by_client_addr, "198.51.100.10", (uint32_t)(relay - p->conn)));
    assert_true(domain_has(p->by_sender_domain, "mx1.bank-partner.example", 0));
    policy_unref(p);
    policy_diags_free(&d);
    free(path);
}

/* --- policy_load(): files, paths, limits -------------------------------- */

struct tmpdir {
    char path[64];
};

static void
tmpdir_make(struct tmpdir *t)
{
    snprintf(t->path, sizeof(t->path), "/tmp/test_policy_load.XXXXXX");
    assert_non_null(mkdtemp(t->path));
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

/* A copy, not a link: a trust_store that is a symbolic link is refused. */
static void
copy_file(const char *from, const char *to)
{
    char buf[4096];
    size_t n;
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");

    assert_non_null(in);
    assert_non_null(out);
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    assert_int_equal(ferror(in), 0);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

static void
test_relative_to_file(void **state)
{
    struct tmpdir t;
    struct policy_diags d;
    struct policy *p;
    char *sub, *link, *target, *file, *bad;

    (void)state;
    tmpdir_make(&t);
    sub = xasprintf("%s/pki", t.path);
    link = xasprintf("%s/pki/bundle.pem", t.path);
    target = xasprintf("%s/trust.pem", pki_dir());
    file = xasprintf("%s/connectors.yaml", t.path);
    bad = xasprintf("%s/bad.yaml", t.path);
    assert_int_equal(mkdir(sub, 0700), 0);
    copy_file(target, link);
    write_file(file, "version: 1\nsettings:\n  trust_store: pki/bundle.pem\n"
                     "  log_json: logs/posture.jsonl\n");
    write_file(bad, "version: 1\nsettings:\n  trust_store: bundle.pem\n");

    policy_diags_init(&d);
    p = policy_load(file, &d);
    if (p == NULL)
        print_diags(&d);
    assert_non_null(p);
    assert_path(policy_settings(p)->trust_store, t.path, "pki/bundle.pem");
    assert_path(policy_settings(p)->log_json, t.path, "logs/posture.jsonl");
    policy_unref(p);
    policy_diags_free(&d);

    /* bundle.pem is in pki/, not beside the file: the error names the file's dir. */
    policy_diags_init(&d);
    p = policy_load(bad, &d);
    assert_null(p);
    assert_int_equal(d.nerrors, 1);
    assert_int_equal(d.v[0].line, 3);
    assert_int_equal(d.v[0].column, 16);
    assert_non_null(strstr(d.v[0].message, t.path));
    policy_diags_free(&d);

    unlink(link);
    unlink(file);
    unlink(bad);
    rmdir(sub);
    rmdir(t.path);
    free(sub);
    free(link);
    free(target);
    free(file);
    free(bad);
}

static void
test_missing_file(void **state)
{
    struct policy_diags d;

    (void)state;
    policy_diags_init(&d);
    assert_null(policy_load("/nonexistent/connectors.yaml", &d));
    assert_int_equal(d.nerrors, 1);
    assert_int_equal(d.v[0].line, 0);
    assert_string_equal(d.v[0].file, "/nonexistent/connectors.yaml");
    assert_non_null(strstr(d.v[0].message, "cannot be opened"));
    policy_diags_free(&d);

    policy_diags_init(&d);
    assert_null(policy_load("/", &d));
    assert_int_equal(d.nerrors, 1);
    assert_non_null(strstr(d.v[0].message, "not a regular file"));
    policy_diags_free(&d);
}

/* Nothing named by the operator may block a load: a FIFO with no writer, as
 * the connectors file, trust_store or an intermediate, fails at once (a hang
 * here is the bug), with the position of the setting that named it. The
 * connectors file may be a link (reloads swap one); a trust path may not. */
static void
test_special_files(void **state)
{
    static const struct { const char *setting; unsigned line, column; const char *want; } rows[] = {
        { "  trust_store: %s/fifo\n", 3, 16, "is a FIFO, not a regular file" },
        { "  intermediates: [%s/fifo]\n", 3, 19, "is a FIFO, not a regular file" },
        { "  intermediates:\n    - %s/trust.pem\n    - %s/fifo\n", 5, 7, "is a FIFO" },
        { "  trust_store: %s/link.pem\n", 3, 16, "is a symbolic link, which is not followed" },
        { "  trust_store: /dev/null\n%.0s", 3, 16, "is a character device" },
    };
    struct tmpdir t;
    struct policy_diags d;
    struct policy *p;
    char *fifo, *link, *file, *target, *copy;

    (void)state;
    tmpdir_make(&t);
    fifo = xasprintf("%s/fifo", t.path);
    link = xasprintf("%s/link.pem", t.path);
    file = xasprintf("%s/c.yaml", t.path);
    target = xasprintf("%s/trust.pem", pki_dir());
    copy = xasprintf("%s/trust.pem", t.path);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(symlink(target, link), 0);
    copy_file(target, copy);

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        char *setting = xasprintf(rows[i].setting, t.path, t.path);
#pragma GCC diagnostic pop
        char *y = xasprintf("version: 1\nsettings:\n%s", setting);

        write_file(file, y);
        policy_diags_init(&d);
        p = policy_load(file, &d);
        if (p != NULL || d.nerrors != 1 || d.v[0].line != rows[i].line ||
            d.v[0].column != rows[i].column || strstr(d.v[0].message, rows[i].want) == NULL) {
            print_diags(&d);
            fail_msg("row %zu: want one error at %u:%u containing \"%s\"", i, rows[i].line,
                     rows[i].column, rows[i].want);
        }
        policy_diags_free(&d);
        free(setting);
        free(y);
    }

    /* The connectors file itself: a FIFO and a device are refused, a link is read. */
    policy_diags_init(&d);
    assert_null(policy_load(fifo, &d));
    assert_int_equal(d.nerrors, 1);
    assert_int_equal(d.v[0].line, 0);
    assert_non_null(strstr(d.v[0].message, "is a FIFO, not a regular file"));
    policy_diags_free(&d);
    policy_diags_init(&d);
    assert_null(policy_load("/dev/null", &d));
    assert_non_null(strstr(d.v[0].message, "is a character device"));
    policy_diags_free(&d);
    write_file(file, "version: 1\nsettings:\n  trust_store: trust.pem\n");
    unlink(link);
    assert_int_equal(symlink(file, link), 0);
    policy_diags_init(&d);
    p = policy_load(link, &d);
    if (p == NULL)
        print_diags(&d);
    assert_non_null(p);
    policy_unref(p);
    policy_diags_free(&d);

    unlink(fifo);
    unlink(link);
    unlink(file);
    unlink(copy);
    rmdir(t.path);
    free(copy);
    free(fifo);
    free(link);
    free(file);
    free(target);
}

/* A sparse file just over the limit: refused before any of it is read. */
static void
test_too_large(void **state)
{
    struct tmpdir t;
    struct policy_diags d;
    char *file;
    int fd;

    (void)state;
    tmpdir_make(&t);
    file = xasprintf("%s/huge.yaml", t.path);
    fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)256 * 1024 * 1024 + 1), 0);
    close(fd);
    policy_diags_init(&d);
    assert_null(policy_load(file, &d));
    assert_int_equal(d.nerrors, 1);
    assert_non_null(strstr(d.v[0].message, "256 MiB"));
    policy_diags_free(&d);
    unlink(file);
    rmdir(t.path);
    free(file);
}

/* --- several errors; ordering; diags that already hold entries ---------- */

static void
test_several_errors_in_order(void **state)
{
    static const struct { unsigned line, column; const char *msg; } want[] = {
        { 1, 1, "missing version" },                      /* found last, reported first */
        { 1, 18, "'strict'" },
        { 5, 28, "'TLSv1.4'" },
        { 6, 12, "duplicate connector name 'a' (first at line 3)" },
    };
    const char *y =
        "settings: {mode: strict}\n"
        "connectors:\n"
        "  - name: a\n"
        "    match: {sender_domains: [a.test]}\n"
        "    require: {min_version: TLSv1.4}\n"
        "  - {name: a, match: {sender_domains: [b.test]}, require: {tls: true}}\n";
    struct policy_diags d;
    size_t n = sizeof(want) / sizeof(want[0]);

    (void)state;
    policy_diags_init(&d);
    assert_null(load_str(y, &d));
    if (d.nerrors != n)
        print_diags(&d);
    assert_int_equal(d.nerrors, n);
    for (size_t i = 0, k = 0; i < d.n; i++) {
        const struct policy_diag *g = &d.v[i];
        if (g->severity != POLICY_SEV_ERROR)
            continue;
        if (g->line != want[k].line || g->column != want[k].column ||
            strstr(g->message, want[k].msg) == NULL)
            fail_msg("error %zu: got %u:%u: %s, want %u:%u: ...%s...", k, g->line, g->column,
                     g->message, want[k].line, want[k].column, want[k].msg);
        k++;
    }
    policy_diags_free(&d);
}

/* Deep nesting costs libyaml time per event that grows with the depth (64,000
 * levels took 25.8 s): the loader stops at the 65th level as soon as it is
 * parsed, at its line:column. A hang here is the bug; no timing is asserted. */
static void
test_deep_nesting(void **state)
{
    static const struct { const char *head, *open, *close; unsigned col; } rows[] = {
        /* the top-level mapping is level 1: the 64th '[' of settings is level 65 */
        { "version: 1\nsettings: ", "[", "]", 10 + 64 },
        { "version: 1\nsettings: ", "{a: ", "}", 10 + 63 * 4 + 1 },
        { "version: 1\nconnectors: ", "[", "]", 12 + 64 },
    };
    const size_t levels = 100000;

    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t hl = strlen(rows[i].head), ol = strlen(rows[i].open);
        size_t cl = strlen(rows[i].close), len = hl + levels * (ol + cl) + 1, o = 0;
        char *y = malloc(len + 1);
        struct policy_diags d;
        bool found = false;

        assert_non_null(y);
        memcpy(y, rows[i].head, hl);
        o = hl;
        for (size_t k = 0; k < levels; k++, o += ol)
            memcpy(y + o, rows[i].open, ol);
        for (size_t k = 0; k < levels; k++, o += cl)
            memcpy(y + o, rows[i].close, cl);
        y[o++] = '\n';
        y[o] = '\0';
        policy_diags_init(&d);
        assert_null(policy_load_buffer("deep.yaml", y, o, pki_dir(), &d));
        for (size_t k = 0; k < d.n; k++)
            if (d.v[k].line == 2 && d.v[k].column == rows[i].col &&
                strstr(d.v[k].message, "nested 65 levels deep (expected at most 64") != NULL)
                found = true;
        if (!found) {
            print_diags(&d);
            fail_msg("row %zu: want the depth error at 2:%u", i, rows[i].col);
        }
        policy_diags_free(&d);
        free(y);
    }
}

/* A syntax error makes the earlier complaints about the same file moot. */
static void
test_syntax_error_alone(void **state)
{
    struct policy_diags d;

    (void)state;
    policy_diags_init(&d);
    assert_null(load_str("version: 1\nsettings: {mode: strict}\nconnectors: [\n", &d));
    if (d.n != 1)
        print_diags(&d);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.nerrors, 1);
    assert_non_null(strstr(d.v[0].message, "YAML syntax error"));
    policy_diags_free(&d);
}

/* The loader appends to the caller's list and leaves what was there alone. */
static void
test_diags_appended(void **state)
{
    struct policy_diags d;

    (void)state;
    policy_diags_init(&d);
    assert_int_equal(policy_diags_add(&d, POLICY_SEV_ERROR, "earlier", 99, 9, "before"), 0);
    assert_null(load_str("version: 1\nsettings: {mode: strict}\nconnectors: [\n", &d));
    assert_null(load_str("version: 1\nsettings: {mode: strict}\n", &d));
    assert_int_equal(d.n, 3);
    assert_int_equal(d.nerrors, 3);
    assert_string_equal(d.v[0].file, "earlier");
    assert_int_equal(d.v[0].line, 99);
    assert_non_null(strstr(d.v[1].message, "YAML syntax error"));
    assert_non_null(strstr(d.v[2].message, "'strict'"));
    policy_diags_free(&d);
}

/* --- scale: 20,000 connectors ------------------------------------------- */

#define GEN_N 20000

static char *
gen_policy(size_t n, size_t *len)
{
    size_t cap = n * 400 + 256, o = 0;
    char *b = malloc(cap);
    int w;

    assert_non_null(b);
    w = snprintf(b, cap, "version: 1\nsettings: {trust_store: trust.pem}\nconnectors:\n");
    assert_true(w > 0);
    o = (size_t)w;
    for (size_t i = 0; i < n; i++) {
        w = snprintf(b + o, cap - o,
                     "  - name: c%05zu\n"
                     "    enabled: %s\n"
                     "    match:\n"
                     "      sender_domains: [d%05zu.test, \"*.d%05zu.test\"]\n"
                     "      client_addresses: [10.%zu.%zu.0/24]\n"
                     "    require: {tls: true, min_version: TLSv1.2, certificate: verified}\n",
                     i, i % 10 == 7 ? "false" : "true", i, i, i >> 8, i & 255);
        assert_true(w > 0 && (size_t)w < cap - o);
        o += (size_t)w;
    }
    *len = o;
    return b;
}

static void
test_generated(void **state)
{
    struct policy_diags d;
    struct policy *p;
    size_t len;
    char *buf = gen_policy(GEN_N, &len);

    (void)state;
    policy_diags_init(&d);
    p = policy_load_buffer("generated.yaml", buf, len, pki_dir(), &d);
    if (p == NULL)
        print_diags(&d);
    assert_non_null(p);
    assert_int_equal(policy_connector_count(p), GEN_N);
    assert_int_equal(d.nerrors, 0);
    for (size_t i = 0; i < GEN_N; i += 97) {
        char name[64], addr[64];
        bool want = i % 10 != 7;
        uint32_t other = (uint32_t)(i == 0 ? 1 : i - 1);

        snprintf(name, sizeof(name), "mx.d%05zu.test", i);
        snprintf(addr, sizeof(addr), "10.%zu.%zu.200", i >> 8, i & 255);
        if (domain_has(p->by_sender_domain, name + 3, (uint32_t)i) != want ||
            domain_has(p->by_sender_domain, name, (uint32_t)i) != want ||
            addr_has(p->by_client_addr, addr, (uint32_t)i) != want)
            fail_msg("connector %zu: lookups disagree with enabled=%d", i, want);
        if (domain_has(p->by_sender_domain, name, other) ||
            addr_has(p->by_client_addr, addr, other))
            fail_msg("connector %zu: lookup also returned %u", i, other);
        snprintf(name, sizeof(name), "c%05zu", i);
        assert_string_equal(p->conn[i].name, name);
    }
    policy_unref(p);
    policy_diags_free(&d);

    /* A name repeated after the name table has grown many times is still caught,
     * with the line of its first use (each generated connector takes 6 lines). */
    char *dup = xasprintf("%.*s  - {name: c12345, match: {sender_domains: [x.test]}}\n",
                          (int)len, buf);
    policy_diags_init(&d);
    assert_null(policy_load_buffer("generated.yaml", dup, strlen(dup), pki_dir(), &d));
    if (d.nerrors != 1)
        print_diags(&d);
    assert_int_equal(d.nerrors, 1);
    char *want = xasprintf("duplicate connector name 'c12345' (first at line %d)", 4 + 12345 * 6);
    const struct policy_diag *e = first_error(&d);
    if (e->line != 4 + GEN_N * 6 || strstr(e->message, want) == NULL)
        fail_msg("got %u:%u: %s, want line %d: %s", e->line, e->column, e->message,
                 4 + GEN_N * 6, want);
    policy_diags_free(&d);
    free(want);
    free(dup);
    free(buf);
}

/* --- policy.c ------------------------------------------------------------ */

/* IDN: the file may spell a name as U-labels or A-labels, in any case; every
 * match key and certificate name pattern is indexed and kept as lower-case
 * A-labels, so the session's one spelling meets it (wildcards included). */
static void
test_idn_spellings(void **state)
{
    static const char yaml[] =
        "version: 1\n"
        "settings: {trust_store: trust.pem}\n"
        "connectors:\n"
        "  - name: bank\n"
        "    match:\n"
        "      sender_domains: [\"B\xc3\x84NK.test\", \"*.b\xc3\xa4nk.test\"]\n"
        "      client_names: [\"MX.XN--PRTNER-BUA.test\"]\n"
        "      recipient_domains: [\"p\xc3\xa4rtner.test\"]\n"
        "      certificate_names: [\"*.B\xc3\x84NK.test\"]\n"
        "    restrict_sender_domains: true\n"
        "    require:\n"
        "      certificate_names: [\"mail.b\xc3\xa4nk.test\"]\n";
    struct policy_diags d;
    struct policy *p;
    const struct policy_connector *c;

    (void)state;
    policy_diags_init(&d);
    p = load_str(yaml, &d);
    if (p == NULL || d.nerrors != 0) {
        print_diags(&d);
        fail_msg("want a loaded policy");
    }
    assert_true(domain_has(p->by_sender_domain, "xn--bnk-qla.test", 0));
    assert_true(domain_has(p->by_sender_domain, "mx.xn--bnk-qla.test", 0));
    assert_true(domain_has(p->by_restricted_sender, "xn--bnk-qla.test", 0));
    assert_true(domain_has(p->by_client_name, "mx.xn--prtner-bua.test", 0));
    assert_true(domain_has(p->by_rcpt_domain, "xn--prtner-bua.test", 0));
    assert_true(domain_has(p->by_cert_name, "mail.xn--bnk-qla.test", 0));
    assert_false(domain_has(p->by_sender_domain, "bank.test", 0));
    c = conn_named(p, "bank");
    assert_int_equal(c->require.certificate_names.n, 1);
    assert_string_equal(c->require.certificate_names.v[0], "mail.xn--bnk-qla.test");
    policy_unref(p);
    policy_diags_free(&d);
}

static void
test_refcount(void **state)
{
    struct policy_diags d;
    struct policy *p;

    (void)state;
    policy_diags_init(&d);
    p = load_str("version: 1\nsettings: {trust_store: trust.pem}\n", &d);
    assert_non_null(p);
    assert_string_equal(policy_path(p), "test.yaml");
    assert_ptr_equal(policy_ref(p), p);
    assert_int_equal(atomic_load(&p->refs), 2);
    policy_unref(p);
    assert_int_equal(atomic_load(&p->refs), 1);
    policy_unref(p);              /* frees: ASan/valgrind would see a leak or double free */
    policy_unref(NULL);
    assert_null(policy_ref(NULL));
    policy_diags_free(&d);
}

static void
test_enum_names(void **state)
{
    static const struct { int v; const char *name; } modes[] = {
        { POLICY_MODE_ENFORCE, "enforce" }, { POLICY_MODE_MONITOR, "monitor" },
    }, actions[] = {
        { POLICY_ACTION_ACCEPT, "accept" }, { POLICY_ACTION_TAG, "tag" },
        { POLICY_ACTION_QUARANTINE, "quarantine" }, { POLICY_ACTION_TEMPFAIL, "tempfail" },
        { POLICY_ACTION_REJECT, "reject" },
    }, mtas[] = {
        { POLICY_MTA_AUTO, "auto" }, { POLICY_MTA_POSTFIX, "postfix" },
        { POLICY_MTA_SENDMAIL, "sendmail" },
    }, verdicts[] = {
        { POLICY_VERDICT_NONE, "none" }, { POLICY_VERDICT_PASS, "pass" },
        { POLICY_VERDICT_FAIL, "fail" },
    }, tris[] = {
        { POLICY_TRI_YES, "yes" }, { POLICY_TRI_NO, "no" }, { POLICY_TRI_UNKNOWN, "unknown" },
    };
    (void)state;
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(policy_mode_name((enum policy_mode)modes[i].v), modes[i].name);
        assert_int_equal(policy_mode_parse(modes[i].name), modes[i].v);
    }
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(policy_action_name((enum policy_action)actions[i].v),
                            actions[i].name);
        assert_int_equal(policy_action_parse(actions[i].name), actions[i].v);
    }
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(policy_mta_name((enum policy_mta)mtas[i].v), mtas[i].name);
        assert_int_equal(policy_mta_parse(mtas[i].name), mtas[i].v);
        assert_string_equal(policy_verdict_name((enum policy_verdict)verdicts[i].v),
                            verdicts[i].name);
        assert_string_equal(policy_tri_name((enum policy_tri)tris[i].v), tris[i].name);
    }
    /* File names are exact; the MTA (a command-line option) is case-blind. */
    assert_int_equal(policy_action_parse("Reject"), -1);
    assert_int_equal(policy_action_parse("bounce"), -1);
    assert_int_equal(policy_action_parse(NULL), -1);
    assert_int_equal(policy_mode_parse("audit"), -1);
    assert_int_equal(policy_mta_parse("Postfix"), POLICY_MTA_POSTFIX);
    assert_int_equal(policy_mta_parse("exim"), -1);
    assert_string_equal(policy_action_name((enum policy_action)99), "?");
    assert_string_equal(policy_mode_name((enum policy_mode)-1), "?");
}

/* Every file in data/bad/ has a row in the table (a new file cannot be forgotten). */
static void
test_bad_files_listed(void **state)
{
    char *dir = data_path("bad");
    DIR *dh = opendir(dir);
    struct dirent *de;
    size_t seen = 0;

    (void)state;
    if (dh == NULL)
        fail_msg("cannot open %s", dir);
    while ((de = readdir(dh)) != NULL) {
        bool found = false;
        if (de->d_name[0] == '.')
            continue;
        for (size_t i = 0; i < NBAD && !found; i++)
            found = strcmp(bad_cases[i].file, de->d_name) == 0;
        if (!found)
            fail_msg("bad/%s has no row in the table of test_policy_load.c", de->d_name);
        seen++;
    }
    closedir(dh);
    assert_int_equal(seen, NBAD);
    free(dir);
}

int
main(void)
{
    struct table_tests tt = { 0 };

    /* One TAP line per bad file, named after it. */
    TABLE_TEST_ROWS(&tt, bad_cases, file, test_bad);
    TABLE_TEST_FN(&tt, test_bad_files_listed);
    TABLE_TEST_FN(&tt, test_full);
    TABLE_TEST_FN(&tt, test_minimal);
    TABLE_TEST_FN(&tt, test_connector_defaults);
    TABLE_TEST_FN(&tt, test_dn_issuers);
    TABLE_TEST_FN(&tt, test_warnings);
    TABLE_TEST_FN(&tt, test_lint);
    TABLE_TEST_FN(&tt, test_single_strings);
    TABLE_TEST_FN(&tt, test_require_any);
    TABLE_TEST_FN(&tt, test_example);
    TABLE_TEST_FN(&tt, test_relative_to_file);
    TABLE_TEST_FN(&tt, test_missing_file);
    TABLE_TEST_FN(&tt, test_too_large);
    TABLE_TEST_FN(&tt, test_special_files);
    TABLE_TEST_FN(&tt, test_deep_nesting);
    TABLE_TEST_FN(&tt, test_several_errors_in_order);
    TABLE_TEST_FN(&tt, test_syntax_error_alone);
    TABLE_TEST_FN(&tt, test_diags_appended);
    TABLE_TEST_FN(&tt, test_generated);
    TABLE_TEST_FN(&tt, test_idn_spellings);
    TABLE_TEST_FN(&tt, test_refcount);
    TABLE_TEST_FN(&tt, test_enum_names);
    return table_test_run(&tt, "policy_load", NULL, NULL);
}
