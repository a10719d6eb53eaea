/*
 * test_outbound.c -- unit tests of the outbound connectors (policy/load_outbound.c,
 * policy/outbound.c): the model built from a good file, which connector a domain
 * falls under (most specific wins), the lint warnings, and one error per way an
 * outbound section can be wrong, at its line and column.
 * Never: depends on the wording of a message beyond the substring in its row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "outbound.h"
#include "policy.h"
#include "tls_facts.h"
#include "table_test.h"

static const char *
pki_dir(void)
{
    const char *s = getenv("TLSPOLICY_TEST_PKI");
    if (s == NULL || s[0] == '\0')
        fail_msg("TLSPOLICY_TEST_PKI is not set (run via make check)");
    return s;
}

static void
print_diags(const struct policy_diags *d)
{
    for (size_t i = 0; i < d->n; i++) {
        char *s = policy_diag_format(&d->v[i]);
        print_message("#   %s\n", s ? s : "?");
        free(s);
    }
}

/* Load tests/unit/data/outbound/NAME with the test PKI as base directory. */
static struct policy *
load_file(const char *name, struct policy_diags *d)
{
    const char *top = getenv("top_srcdir");
    char path[4096];
    FILE *fp;
    char *buf;
    long len;
    struct policy *p;

    snprintf(path, sizeof(path), "%s/tests/unit/data/outbound/%s", top ? top : ".", name);
    assert_non_null(fp = fopen(path, "rb"));
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    assert_true((len = ftell(fp)) > 0);
    rewind(fp);
    assert_non_null(buf = malloc((size_t)len));
    assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
    fclose(fp);
    p = policy_load_buffer(name, buf, (size_t)len, pki_dir(), d);
    free(buf);
    return p;
}

static void
test_model(void **state)
{
    struct policy_diags d;
    struct policy *p;
    const struct outbound_connector *c;

    (void)state;
    policy_diags_init(&d);
    p = load_file("partners.yaml", &d);
    if (p == NULL)
        print_diags(&d);
    assert_non_null(p);
    assert_int_equal(policy_connector_count(p), 1);
    assert_int_equal(policy_outbound_count(p), 4);

    c = policy_outbound_get(p, 0);
    assert_string_equal(c->name, "partner-a");
    assert_int_equal(c->mode, POLICY_MODE_ENFORCE);
    assert_int_equal(c->ndomains, 2);
    assert_string_equal(c->domains[1].pattern, "*.partner-a.test");   /* ".x" stored as "*.x" */
    assert_int_equal(c->domains[1].line, 13);
    assert_int_equal(c->nhosts, 1);
    assert_string_equal(c->hosts[0].text, "[mx.partner-a.test]:2525");
    assert_int_equal(c->hosts[0].port, 2525);
    assert_true(c->tls);                                 /* implied by min_version */
    assert_int_equal(c->min_version, TLS_VERSION_TLS1_3);
    assert_true(c->verified);
    assert_int_equal(c->nroots, 2);
    assert_int_equal(c->roots[0].n, 1);
    assert_string_equal(c->roots[0].root_cn[0], "Test Root CA R1");
    assert_non_null(strstr(c->roots[0].pem[0], "-----BEGIN CERTIFICATE-----"));
    assert_string_equal(c->roots[1].root_cn[0], "Other Root CA");

    c = policy_outbound_get(p, 1);
    assert_int_equal(c->mode, POLICY_MODE_MONITOR);     /* settings.mode */
    assert_string_equal(c->domains[0].pattern, "eu.partner-a.test");
    assert_true(c->forward_secrecy);
    assert_int_equal(c->min_cipher_bits, 128);
    assert_true(outbound_requires_nothing(policy_outbound_get(p, 2)));
    /* IDN in U-labels and upper case is stored as the A-labels exports write */
    c = policy_outbound_get(p, 3);
    assert_string_equal(c->domains[0].pattern, "xn--bnk-qla.test");
    assert_string_equal(c->domains[1].pattern, "*.xn--bnk-qla.test");
    assert_null(policy_outbound_get(p, 4));

    /* one warning per lint finding: the overlap and the connector that requires nothing */
    size_t nwarn = 0;
    for (size_t i = 0; i < d.n; i++)
        nwarn += d.v[i].severity == POLICY_SEV_WARNING;
    if (nwarn != 2)
        print_diags(&d);
    assert_int_equal(nwarn, 2);
    policy_diags_free(&d);
    policy_unref(p);
}

struct find_case {
    const char *domain;
    const char *want;             /* connector name, NULL = none */
    const char *pattern;
};

static const struct find_case find_cases[] = {
    { "partner-a.test", "partner-a", "partner-a.test" },
    { "PARTNER-A.TEST.", "partner-a", "partner-a.test" },
    { "mx.partner-a.test", "partner-a", "*.partner-a.test" },
    { "eu.partner-a.test", "partner-a-eu", "eu.partner-a.test" },   /* exact beats wildcard */
    { "x.eu.partner-a.test", "partner-a", "*.partner-a.test" },
    { "open.test", NULL, NULL },                                     /* *.x is not x */
    { "a.b.open.test", "open", "*.open.test" },
    { "partner-b.test", NULL, NULL },
    { "xpartner-a.test", NULL, NULL },
    /* one IDN, every spelling an MTA or an admin may use */
    { "bänk.test", "bank", "xn--bnk-qla.test" },
    { "BÄNK.TEST", "bank", "xn--bnk-qla.test" },
    { "XN--BNK-QLA.test", "bank", "xn--bnk-qla.test" },
    { "mx.bänk.test", "bank", "*.xn--bnk-qla.test" },
    { "b\xc3\xa4nk\xe2\x80\x8b\xcd\xb8.test", NULL, NULL },  /* not IDNA: under no connector */
};

static void
test_find(void **state)
{
    const struct find_case *fc = *state;
    const char *pat = "unset";
    struct policy_diags d;
    struct policy *p;
    const struct outbound_connector *c;

    policy_diags_init(&d);
    assert_non_null(p = load_file("partners.yaml", &d));
    policy_diags_free(&d);
    c = policy_outbound_find(p, fc->domain, &pat);
    if (fc->want == NULL) {
        if (c != NULL)
            fail_msg("%s: got connector %s, want none", fc->domain, c->name);
        assert_null(pat);
    } else if (c == NULL || strcmp(c->name, fc->want) != 0 || strcmp(pat, fc->pattern) != 0) {
        fail_msg("%s: got %s (%s), want %s (%s)", fc->domain, c ? c->name : "none",
                 pat ? pat : "-", fc->want, fc->pattern);
    }
    policy_unref(p);
}

/* --- bad outbound sections: exactly one error, at its place ---------------- */

#define HEAD "version: 1\nsettings: { trust_store: trust.pem }\noutbound:\n"
struct bad_case {
    const char *name;
    const char *yaml;             /* after HEAD (line 4 on) */
    unsigned line, column;
    const char *msg;
};

static const struct bad_case bad_cases[] = {
    { "not-a-list", "  name: x\n", 4, 3, "expected a list of outbound connectors" },
    { "no-name", "  - recipient_domains: [a.test]\n", 4, 5, "outbound connector has no name" },
    { "no-domains", "  - name: a\n", 4, 5, "has no recipient_domains" },
    { "match-key", "  - name: a\n    recipient_domains: a.test\n    match: {}\n", 6, 5,
      "match is not an outbound key" },
    { "bad-domain", "  - name: a\n    recipient_domains: [\"a..test\"]\n", 5, 25,
      "is not a domain pattern" },
    { "bad-idn", "  - name: a\n    recipient_domains: [\"xn--zz.test\"]\n", 5, 25,
      "expected a valid internationalised domain name" },
    { "dup-name", "  - name: a\n    recipient_domains: a.test\n  - name: a\n"
      "    recipient_domains: b.test\n", 6, 11, "duplicate outbound connector name 'a'" },
    { "host-no-bracket", "  - name: a\n    recipient_domains: a.test\n"
      "    smart_hosts: \"[mx.a.test:25\"\n", 6, 18, "expected a closing ']'" },
    { "host-port", "  - name: a\n    recipient_domains: a.test\n    smart_hosts: \"[mx.a.test]:0\"\n",
      6, 18, "a port from 1 to 65535" },
    { "host-junk", "  - name: a\n    recipient_domains: a.test\n    smart_hosts: \"[mx.a.test]x\"\n",
      6, 18, "nothing after ']' but ':port'" },
    { "host-bare-ip", "  - name: a\n    recipient_domains: a.test\n    smart_hosts: 192.0.2.1:25\n",
      6, 18, "an IP address in brackets" },
    { "host-name", "  - name: a\n    recipient_domains: a.test\n    smart_hosts: \"[mx_a!]\"\n",
      6, 18, "does not parse as a smart host" },
    { "host-ipv6", "  - name: a\n    recipient_domains: a.test\n    smart_hosts: \"[ipv6:1::x]\"\n",
      6, 18, "an IPv6 address after 'ipv6:'" },
    { "host-twice", "  - name: a\n    recipient_domains: a.test\n"
      "    smart_hosts: [\"[h.a.test]\", \"[H.a.test]\"]\n", 6, 33, "is given twice" },
    { "host-shared", "  - name: a\n    recipient_domains: a.test\n    smart_hosts: \"[h.test]:25\"\n"
      "  - name: b\n    recipient_domains: b.test\n    smart_hosts: \"[h.test]:25\"\n", 9, 18,
      "is also the smart host of outbound connector 'a'" },
    { "ip-host-verified", "  - name: a\n    recipient_domains: a.test\n"
      "    smart_hosts: \"[192.0.2.1]\"\n    require: { certificate: verified }\n", 6, 18,
      "is an IP address and 'certificate: verified' has no certificate_names" },
    { "presented", "  - name: a\n    recipient_domains: a.test\n"
      "    require: { certificate: presented }\n", 6, 29, "certificate: presented cannot be asked" },
    { "organizations", "  - name: a\n    recipient_domains: a.test\n"
      "    require: { organizations: [X] }\n", 6, 16, "organizations cannot be asked" },
    { "names-unverified", "  - name: a\n    recipient_domains: a.test\n"
      "    require: { certificate_names: [mx.a.test] }\n", 6, 16,
      "certificate_names: needs 'certificate: verified'" },
    { "roots-unverified", "  - name: a\n    recipient_domains: a.test\n"
      "    require: { root_issuers: [Test Root CA R1] }\n", 6, 16,
      "root_issuers: needs 'certificate: verified'" },
    { "root-unknown", "  - name: a\n    recipient_domains: a.test\n"
      "    require: { certificate: verified, root_issuers: [No Such CA] }\n", 6, 54,
      "'No Such CA' resolves to no root certificate: no root in the trust store" },
    { "root-intermediate", "  - name: a\n    recipient_domains: a.test\n"
      "    require: { certificate: verified, root_issuers: [Test Issuing CA 1] }\n", 6, 54,
      "names an intermediate CA, not a root (its root: Test Root CA R1)" },
    { "root-bad-dn", "  - name: a\n    recipient_domains: a.test\n"
      "    require: { certificate: verified, root_issuers: [\"CN=x,,\"] }\n", 6, 54,
      "is not a valid DN" },
    { "sslv3", "  - name: a\n    recipient_domains: a.test\n    require: { min_version: SSLv3 }\n",
      6, 29, "cannot be asked when sending" },
    { "bad-mode", "  - name: a\n    mode: strict\n    recipient_domains: a.test\n", 5, 11,
      "mode: 'strict' is not valid" },
};

static void
test_bad(void **state)
{
    const struct bad_case *c = *state;
    struct policy_diags d;
    char *buf;
    struct policy *p;
    const struct policy_diag *e = NULL;

    policy_diags_init(&d);
    assert_non_null(buf = malloc(strlen(HEAD) + strlen(c->yaml) + 1));
    strcpy(buf, HEAD);
    strcat(buf, c->yaml);
    p = policy_load_buffer(c->name, buf, strlen(buf), pki_dir(), &d);
    free(buf);
    if (p != NULL || d.nerrors != 1)
        print_diags(&d);
    assert_null(p);
    assert_int_equal(d.nerrors, 1);
    for (size_t i = 0; i < d.n && e == NULL; i++)
        if (d.v[i].severity == POLICY_SEV_ERROR)
            e = &d.v[i];
    if (e->line != c->line || e->column != c->column || strstr(e->message, c->msg) == NULL)
        fail_msg("%s: got %u:%u: %s, want %u:%u: ...%s...", c->name, e->line, e->column,
                 e->message, c->line, c->column, c->msg);
    policy_diags_free(&d);
}

/* A file without an outbound list loads as before, with none. */
static void
test_none(void **state)
{
    static const char y[] = "version: 1\nsettings: { trust_store: trust.pem }\n";
    struct policy_diags d;
    struct policy *p;

    (void)state;
    policy_diags_init(&d);
    p = policy_load_buffer("none", y, sizeof(y) - 1, pki_dir(), &d);
    assert_non_null(p);
    assert_int_equal(d.n, 0);
    assert_int_equal(policy_outbound_count(p), 0);
    assert_null(policy_outbound_find(p, "a.test", NULL));
    policy_unref(p);
    policy_diags_free(&d);
}

int
main(void)
{
    struct table_tests tt = { 0 };

    TABLE_TEST_FN(&tt, test_model);
    TABLE_TEST_FN(&tt, test_none);
    TABLE_TEST_ROWS(&tt, bad_cases, name, test_bad);
    TABLE_TEST_ROWS(&tt, find_cases, domain, test_find);
    return table_test_run(&tt, "outbound", NULL, NULL);
}
