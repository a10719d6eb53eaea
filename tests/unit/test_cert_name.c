/*
 * test_cert_name.c -- table-driven tests of policy/cert_dn.c (xtext, the two
 * DN syntaxes with the values Sendmail really sent, doc/mta-facts.md 6.2, canonical
 * DN equality) and policy/cert_name.c (RFC 6125 matching, reference identifiers).
 * One cmocka test per table row, so every case is one TAP line.
 * Never: derives an expected value from the code under test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "cert_dn.h"
#include "cert_name.h"
#include "table_test.h"

#define S(lit) lit, sizeof(lit) - 1
#define N(a) (sizeof(a) / sizeof((a)[0]))
#define STATE(p) ((void *)(uintptr_t)(p))

/* ---- xtext ---- */

struct xtext_case {
    const char *name;
    const char *in;
    size_t      inlen;
    const char *want;             /* NULL: must fail */
    size_t      wantlen;
    const char *why;              /* substring of the reason when failing */
};

static const struct xtext_case xtext_cases[] = {
    { "xtext: plain name", S("mail.partner-a.test"), S("mail.partner-a.test"), NULL },
    { "xtext: empty", S(""), S(""), NULL },
    { "xtext: +20 is a space", S("Test+20Issuing+20CA+201"), S("Test Issuing CA 1"), NULL },
    { "xtext: +2B is a plus", S("+2B"), S("+"), NULL },
    { "xtext: Sendmail subject partner-a",
      S("/C=GB/O=Partner+20A+20Ltd/OU=Mail/CN=mail.partner-a.test"),
      S("/C=GB/O=Partner A Ltd/OU=Mail/CN=mail.partner-a.test"), NULL },
    { "xtext: oneline escape of CR LF stays two layers", S("+5Cx0D+5Cx0A"),
      S("\\x0D\\x0A"), NULL },
    { "xtext: cn_subject raw CR LF", S("crlf+0D+0AX-Evil:+201.partner-a.test"),
      S("crlf\r\nX-Evil: 1.partner-a.test"), NULL },
    { "xtext: UTF-8 bytes", S("Z+C3+BCrich"), S("Z\xc3\xbcrich"), NULL },
    { "xtext: , ; = ' pass through", S("a,b;c=d'e"), S("a,b;c=d'e"), NULL },
    { "xtext: quote and angle brackets", S("+22Quoted+22+20+3Cmx+3E"),
      S("\"Quoted\" <mx>"), NULL },
    { "xtext: length bounds the input", "+20tail", 3, S(" "), NULL },
    { "xtext: truncated +2", S("+2"), NULL, 0, "hex" },
    { "xtext: bare + at end", S("abc+"), NULL, 0, "hex" },
    { "xtext: +ZZ", S("+ZZ"), NULL, 0, "hex" },
    { "xtext: +G0", S("a+G0b"), NULL, 0, "hex" },
    { "xtext: lower-case +2b refused", S("+2b"), NULL, 0, "upper-case" },
    { "xtext: lower-case +c3 refused", S("Z+c3+bcrich"), NULL, 0, "upper-case" },
    { "xtext: escape cut by length", "+20", 2, NULL, 0, "hex" },
    { "xtext: +00 is a NUL byte", S("a+00b"), NULL, 0, "NUL" },
    { "xtext: raw NUL inside length", S("a\0b"), NULL, 0, "NUL" },
};

static void
test_xtext(void **state)
{
    const struct xtext_case *c = *state;
    const char *why = NULL;
    size_t len = 12345;
    char *got = cert_xtext_decode(c->in, c->inlen, &len, &why);

    if (c->want == NULL) {
        if (got != NULL)
            fail_msg("got \"%s\", want failure", got);
        assert_non_null(why);
        if (strstr(why, c->why) == NULL)
            fail_msg("got reason \"%s\", want one mentioning \"%s\"", why, c->why);
        assert_int_equal(errno, EINVAL);
        return;
    }
    if (got == NULL)
        fail_msg("got failure \"%s\", want \"%s\"", why ? why : "?", c->want);
    if (len != c->wantlen || memcmp(got, c->want, len) != 0 || got[len] != '\0')
        fail_msg("got \"%s\" (%zu bytes), want \"%s\" (%zu bytes)", got, len, c->want,
                 c->wantlen);
    free(got);
}

/* ---- X509_NAME_oneline DNs ---- */

struct oneline_case {
    const char *name;
    const char *in;
    bool        xtext;            /* in is Sendmail's xtext; decode it first */
    size_t      n;                /* attributes; 0 = must fail */
    const char *c, *o, *ou, *cn;  /* NULL: attribute absent */
    const char *why;
};

static const struct oneline_case oneline_cases[] = {
    { "oneline: Sendmail partner-a subject",
      "/C=GB/O=Partner+20A+20Ltd/OU=Mail/CN=mail.partner-a.test", true,
      4, "GB", "Partner A Ltd", "Mail", "mail.partner-a.test", NULL },
    { "oneline: Sendmail partner-a issuer",
      "/C=DE/O=Test+20PKI/CN=Test+20Issuing+20CA+201", true,
      3, "DE", "Test PKI", NULL, "Test Issuing CA 1", NULL },
    { "oneline: Sendmail partner-b issuer",
      "/C=US/O=Other+20PKI/CN=Other+20Issuing+20CA", true,
      3, "US", "Other PKI", NULL, "Other Issuing CA", NULL },
    { "oneline: Sendmail self-signed partner-c",
      "/C=FR/O=Partner+20C+20SA/CN=selfsigned.partner-c.test", true,
      3, "FR", "Partner C SA", NULL, "selfsigned.partner-c.test", NULL },
    { "oneline: Sendmail odd CN (two escape layers)",
      "/C=CH/O=Odd+20Org,+20Z+5CxC3+5CxBCrich/OU=Mail+20+5C+2B+20Relay/CN=Odd+20+22Quoted+22"
      "+20Name,+20Inc.+20+5C+2B+20Partner's+20Z+5CxC3+5CxBCrich+20+3Cmx+3E+20a+5C/b=c;d", true,
      4, "CH", "Odd Org, Z\xc3\xbcrich", "Mail + Relay",
      "Odd \"Quoted\" Name, Inc. + Partner's Z\xc3\xbcrich <mx> a/b=c;d", NULL },
    { "oneline: Sendmail CR LF injected in CN and O",
      "/C=GB/O=CRLF+5Cx0D+5Cx0AInjected:+20yes/CN=crlf+5Cx0D+5Cx0AX-Evil:+201.partner-a.test", true,
      3, "GB", "CRLF\r\nInjected: yes", NULL, "crlf\r\nX-Evil: 1.partner-a.test", NULL },
    { "oneline: Sendmail cert without CN",
      "/C=GB/O=Partner+20A+20Ltd/OU=Mail+20NoCN", true,
      3, "GB", "Partner A Ltd", "Mail NoCN", NULL, NULL },
    { "oneline: multi-valued RDN is two attributes",
      "/C=DE/CN=a+OU=b", false, 3, "DE", NULL, "b", "a", NULL },
    { "oneline: hand-written '+' without TYPE= is text",
      "/CN=a + b/O=x+", false, 2, NULL, "x+", NULL, "a + b", NULL },
    { "oneline: '=' inside a value", "/CN=a=b=c", false, 1, NULL, NULL, NULL, "a=b=c", NULL },
    { "oneline: unescaped backslash is literal", "/CN=a\\b", false,
      1, NULL, NULL, NULL, "a\\b", NULL },
    { "oneline: backslash before escaped slash", "/CN=a\\\\/b", false,
      1, NULL, NULL, NULL, "a\\/b", NULL },
    { "oneline: \\x41 names a printable byte, so it is text", "/CN=\\x41", false,
      1, NULL, NULL, NULL, "\\x41", NULL },
    { "oneline: lower-case \\xc3 accepted", "/CN=Z\\xc3\\xbcrich", false,
      1, NULL, NULL, NULL, "Z\xc3\xbcrich", NULL },
    { "oneline: \\x7F is a byte", "/CN=a\\x7Fb", false, 1, NULL, NULL, NULL, "a\x7f" "b", NULL },
    { "oneline: short \\x at end is text", "/CN=a\\x4", false, 1, NULL, NULL, NULL, "a\\x4", NULL },
    { "oneline: empty value", "/C=/CN=", false, 2, "", NULL, NULL, "", NULL },
    { "oneline: long type names", "/countryName=DE/commonName=x", false,
      2, "DE", NULL, NULL, "x", NULL },
    { "oneline: empty string", "", false, 0, NULL, NULL, NULL, NULL, "empty" },
    { "oneline: no leading slash", "C=GB/CN=x", false, 0, NULL, NULL, NULL, NULL, "'/'" },
    { "oneline: only a slash", "/", false, 0, NULL, NULL, NULL, NULL, "type" },
    { "oneline: empty RDN", "/C=GB//CN=x", false, 0, NULL, NULL, NULL, NULL, "type" },
    { "oneline: trailing slash", "/C=GB/", false, 0, NULL, NULL, NULL, NULL, "type" },
    { "oneline: missing type", "/=x", false, 0, NULL, NULL, NULL, NULL, "type" },
    { "oneline: missing '='", "/CN", false, 0, NULL, NULL, NULL, NULL, "'='" },
    { "oneline: space in type", "/C N=x", false, 0, NULL, NULL, NULL, NULL, "'='" },
    { "oneline: \\x00 is refused", "/CN=a\\x00b", false, 0, NULL, NULL, NULL, NULL, "NUL" },
};

static void
check_attr(const struct cert_dn *dn, const char *type, const char *want)
{
    const char *got = cert_dn_get(dn, type);

    if (want == NULL && got != NULL)
        fail_msg("%s: got \"%s\", want absent", type, got);
    if (want != NULL && got == NULL)
        fail_msg("%s: got absent, want \"%s\"", type, want);
    if (want != NULL && strcmp(got, want) != 0)
        fail_msg("%s: got \"%s\", want \"%s\"", type, got, want);
}

static void
test_oneline(void **state)
{
    const struct oneline_case *c = *state;
    struct cert_dn dn = { 99, NULL };
    const char *why = NULL;
    char *decoded = NULL;
    const char *in = c->in;
    int rc;

    if (c->xtext) {
        decoded = cert_xtext_decode(c->in, strlen(c->in), NULL, &why);
        if (decoded == NULL)
            fail_msg("xtext: got failure \"%s\"", why);
        in = decoded;
    }
    rc = cert_dn_parse_oneline(in, &dn, &why);
    if (c->n == 0) {
        if (rc != -1)
            fail_msg("got success with %zu attributes, want failure", dn.n);
        assert_int_equal(dn.n, 0);
        assert_null(dn.rdn);
        if (why == NULL || strstr(why, c->why) == NULL)
            fail_msg("got reason \"%s\", want one mentioning \"%s\"", why ? why : "(null)",
                     c->why);
        free(decoded);
        return;
    }
    if (rc != 0)
        fail_msg("got failure \"%s\", want %zu attributes", why ? why : "?", c->n);
    if (dn.n != c->n)
        fail_msg("got %zu attributes, want %zu", dn.n, c->n);
    check_attr(&dn, "C", c->c);
    check_attr(&dn, "O", c->o);
    check_attr(&dn, "OU", c->ou);
    check_attr(&dn, "CN", c->cn);
    cert_dn_free(&dn);
    assert_int_equal(dn.n, 0);
    free(decoded);
}

/* 64 attributes are accepted, the 65th is refused: the limit is exact. */
static void
test_oneline_limit(void **state)
{
    size_t count = (size_t)(uintptr_t)*state, i, o = 0;
    char *s = malloc(count * 8 + 1);
    struct cert_dn dn;
    const char *why = NULL;
    char last[16];
    int rc;

    assert_non_null(s);
    for (i = 0; i < count; i++) {
        int w = snprintf(s + o, 9, "/OU=%03zu", i);

        assert_true(w == 7);
        o += 7;
    }
    rc = cert_dn_parse_oneline(s, &dn, &why);
    if (count <= 64) {
        if (rc != 0 || dn.n != count)
            fail_msg("got rc %d (%s), %zu attributes; want %zu", rc, why ? why : "-", dn.n,
                     count);
        snprintf(last, sizeof last, "%03zu", count - 1);
        assert_string_equal(dn.rdn[count - 1].value, last);
        cert_dn_free(&dn);
    } else {
        if (rc != -1)
            fail_msg("got success with %zu attributes, want failure", dn.n);
        assert_non_null(strstr(why, "64"));
    }
    free(s);
}

/* ---- administrator DNs: RFC 4514 or oneline, checked via the canonical form ---- */

struct config_case {
    const char *name;
    const char *in;
    const char *canonical;        /* NULL: must fail */
    const char *why;
};

static const struct config_case config_cases[] = {
    { "config: RFC 4514 issuer", "CN=Test Issuing CA 1,O=Test PKI,C=DE",
      "/c=DE/o=Test PKI/cn=Test Issuing CA 1", NULL },
    { "config: RFC 4514 with spaces after ','", "CN=Test Issuing CA 1, O=Test PKI,  C=DE",
      "/c=DE/o=Test PKI/cn=Test Issuing CA 1", NULL },
    { "config: RFC 4514 spaces around '='", "CN = x , O= y", "/o=y/cn=x", NULL },
    { "config: oneline form", "/C=DE/O=Test PKI/CN=Test Issuing CA 1",
      "/c=DE/o=Test PKI/cn=Test Issuing CA 1", NULL },
    { "config: oneline form after leading spaces", "  /C=DE/CN=x", "/c=DE/cn=x", NULL },
    { "config: long type names", "commonName=x,organizationName=y,countryName=DE",
      "/c=DE/o=y/cn=x", NULL },
    { "config: escapes \\, \\+ \\\" and hex",
      "CN=Odd \\\"Quoted\\\" Name\\, Inc. \\+ Partner's,O=Odd Org\\2C Z\\C3\\BCrich,C=CH",
      "/c=CH/o=Odd Org, Z\xc3\xbcrich/cn=Odd \"Quoted\" Name, Inc. + Partner's", NULL },
    { "config: lenient unescaped quote and ';'", "CN=a \"b\";c", "/cn=a \"b\";c", NULL },
    { "config: escaped backslash", "CN=a\\\\b", "/cn=a\\\\b", NULL },
    { "config: '/' in an RFC 4514 value is escaped in canonical form", "CN=a/b",
      "/cn=a\\/b", NULL },
    { "config: multi-valued RDN reversed like OpenSSL prints it", "UID=b+CN=a,DC=test",
      "/dc=test/cn=a/uid=b", NULL },
    { "config: escaped trailing space then trimmed", "CN=x\\ ", "/cn=x", NULL },
    { "config: unknown type lower-cased", "businessCategory=Mail,C=DE",
      "/c=DE/businesscategory=Mail", NULL },
    { "config: numeric OID of CN", "2.5.4.3=x", "/cn=x", NULL },
    { "config: empty", "", NULL, "empty" },
    { "config: only spaces", "   ", NULL, "empty" },
    { "config: trailing separator", "CN=x,", NULL, "separator" },
    { "config: double separator", "CN=x,,O=y", NULL, "type" },
    { "config: no '='", "CN", NULL, "'='" },
    { "config: no type", "=x", NULL, "type" },
    { "config: BER hex value", "CN=#04024869", NULL, "#" },
    { "config: bad escape", "CN=a\\qb", NULL, "'\\'" },
    { "config: trailing backslash", "CN=a\\", NULL, "'\\'" },
    { "config: \\00 refused", "CN=a\\00", NULL, "NUL" },
    { "config: oneline errors pass through", "/C=DE//CN=x", NULL, "type" },
};

static void
test_config(void **state)
{
    const struct config_case *c = *state;
    struct cert_dn dn;
    const char *why = NULL;
    char *got;
    int rc = cert_dn_parse_config(c->in, &dn, &why);

    if (c->canonical == NULL) {
        if (rc != -1)
            fail_msg("got success, want failure mentioning \"%s\"", c->why);
        assert_int_equal(dn.n, 0);
        if (why == NULL || strstr(why, c->why) == NULL)
            fail_msg("got reason \"%s\", want one mentioning \"%s\"", why ? why : "(null)",
                     c->why);
        return;
    }
    if (rc != 0)
        fail_msg("got failure \"%s\", want \"%s\"", why ? why : "?", c->canonical);
    got = cert_dn_canonical(&dn);
    assert_non_null(got);
    if (strcmp(got, c->canonical) != 0)
        fail_msg("got \"%s\", want \"%s\"", got, c->canonical);
    free(got);
    cert_dn_free(&dn);
}

/* ---- canonical equality ---- */

struct canon_case {
    const char *name;
    const char *a, *b;
    bool        equal;
};

static const struct canon_case canon_cases[] = {
    { "canonical: oneline vs RFC 4514", "/C=DE/O=Test PKI/CN=Test Issuing CA 1",
      "CN=Test Issuing CA 1,O=Test PKI,C=DE", true },
    { "canonical: long vs short type names",
      "/countryName=DE/organizationName=Test PKI/commonName=Test Issuing CA 1",
      "/C=DE/O=Test PKI/CN=Test Issuing CA 1", true },
    { "canonical: case of types and values", "/c=de/o=test pki/cn=test issuing ca 1",
      "/C=DE/O=Test PKI/CN=Test Issuing CA 1", true },
    { "canonical: spacing folded and trimmed", "/C=DE/O=Test   PKI/CN=  Test Issuing CA 1  ",
      "/C=DE/O=Test PKI/CN=Test Issuing CA 1", true },
    { "canonical: tab folded", "/O=Test\tPKI", "/O=Test PKI", true },
    { "canonical: escaped comma vs oneline comma", "CN=a\\,b", "/CN=a,b", true },
    { "canonical: emailAddress alias E", "E=a@b.test", "/emailAddress=a@b.test", true },
    { "canonical: unknown type case", "/businessCategory=x", "/BUSINESSCATEGORY=x", true },
    { "canonical: other value", "/C=DE/O=Test PKI/CN=Test Issuing CA 1",
      "/C=DE/O=Test PKI/CN=Test Issuing CA 2", false },
    { "canonical: other order", "/C=DE/O=Test PKI/CN=x", "/O=Test PKI/C=DE/CN=x", false },
    { "canonical: missing attribute", "/C=DE/O=Test PKI/CN=x", "/C=DE/CN=x", false },
    { "canonical: O vs OU", "/O=x/CN=y", "/OU=x/CN=y", false },
    { "canonical: escaped '/' cannot forge an RDN", "/CN=a\\/CN=b", "/CN=a/CN=b", false },
    { "canonical: CR LF is not a space", "/CN=a\\x0D\\x0Ab", "/CN=a b", false },
    { "canonical: inner space is significant", "/CN=ab", "/CN=a b", false },
    { "canonical: SN is surname, not serialNumber", "/SN=x", "/serialNumber=x", false },
};

static void
test_canonical(void **state)
{
    const struct canon_case *c = *state;
    struct cert_dn a, b;
    const char *why = NULL;
    char *ca, *cb;

    if (cert_dn_parse_config(c->a, &a, &why) != 0)
        fail_msg("parse \"%s\": %s", c->a, why);
    if (cert_dn_parse_config(c->b, &b, &why) != 0)
        fail_msg("parse \"%s\": %s", c->b, why);
    ca = cert_dn_canonical(&a);
    cb = cert_dn_canonical(&b);
    assert_non_null(ca);
    assert_non_null(cb);
    if ((strcasecmp(ca, cb) == 0) != c->equal)
        fail_msg("got \"%s\" %s \"%s\", want %s", ca, c->equal ? "!=" : "==", cb,
                 c->equal ? "equal" : "different");
    free(ca);
    free(cb);
    cert_dn_free(&a);
    cert_dn_free(&b);
}

/* ---- cert_dn_get aliases ---- */

struct get_case {
    const char *name;
    const char *dn;
    const char *type;
    const char *want;
};

static const struct get_case get_cases[] = {
    { "get: CN", "/O=o/CN=c", "CN", "c" },
    { "get: cn lower-case", "/O=o/CN=c", "cn", "c" },
    { "get: commonName alias", "/O=o/CN=c", "commonName", "c" },
    { "get: CN finds commonName", "/O=o/commonName=c", "CN", "c" },
    { "get: organizationName", "/O=o/CN=c", "ORGANIZATIONNAME", "o" },
    { "get: first of two CNs", "/CN=first/CN=second", "CN", "first" },
    { "get: O does not find OU", "/OU=u/CN=c", "O", NULL },
    { "get: ST alias", "/stateOrProvinceName=Bayern", "ST", "Bayern" },
    { "get: L alias", "/L=Berlin", "localityName", "Berlin" },
    { "get: emailAddress", "/emailAddress=pm@x.test", "emailaddress", "pm@x.test" },
    { "get: unknown type by name", "/businessCategory=x", "BusinessCategory", "x" },
    { "get: absent", "/C=DE", "CN", NULL },
};

static void
test_get(void **state)
{
    const struct get_case *c = *state;
    struct cert_dn dn;
    const char *why = NULL;

    if (cert_dn_parse_oneline(c->dn, &dn, &why) != 0)
        fail_msg("parse \"%s\": %s", c->dn, why);
    check_attr(&dn, c->type, c->want);
    cert_dn_free(&dn);
}

/* ---- RFC 6125 ---- */

struct match_case {
    const char *name;
    const char *reference, *presented;
    bool        want;
};

static const struct match_case match_cases[] = {
    { "match: exact", "mail.x.test", "mail.x.test", true },
    { "match: case-insensitive", "MAIL.X.TEST", "mail.x.Test", true },
    { "match: reference trailing dot", "mail.x.test.", "mail.x.test", true },
    { "match: presented trailing dot", "mail.x.test", "mail.x.test.", true },
    { "match: other host", "mail.x.test", "mx.x.test", false },
    { "match: other domain", "mail.x.test", "mail.y.test", false },
    { "match: suffix only", "mail.x.test", "x.test", false },
    { "match: prefix only", "mail.x.test", "mail.x.tes", false },
    { "match: presented wildcard covers one label", "mail.x.test", "*.x.test", true },
    { "match: presented wildcard, upper-case", "mail.x.test", "*.X.TEST", true },
    { "match: presented wildcard with trailing dot", "mail.x.test", "*.x.test.", true },
    { "match: presented wildcard not two labels", "a.b.x.test", "*.x.test", false },
    { "match: presented wildcard not zero labels", "x.test", "*.x.test", false },
    { "match: presented wildcard label boundary", "mailx.test", "*.x.test", false },
    { "match: partial wildcard f*", "foo.x.test", "f*.x.test", false },
    { "match: partial wildcard *o", "foo.x.test", "*o.x.test", false },
    { "match: partial wildcard f*o", "foo.x.test", "f*o.x.test", false },
    { "match: wildcard not left-most", "mail.a.test", "mail.*.test", false },
    { "match: two wildcards", "a.b.test", "*.*.test", false },
    { "match: wildcard over single label remainder", "a.test", "*.test", false },
    { "match: bare *", "test", "*", false },
    { "match: wildcard never covers an A-label", "xn--bcher-kva.x.test", "*.x.test", false },
    { "match: A-label prefix case-insensitive", "XN--bcher-kva.x.test", "*.x.test", false },
    { "match: A-label exact", "xn--bcher-kva.x.test", "xn--bcher-kva.x.test", true },
    { "match: wildcard over non-A-label in IDN domain", "a.xn--bcher-kva.test",
      "*.xn--bcher-kva.test", true },
    { "match: reference wildcard one label", "*.x.test", "a.x.test", true },
    { "match: reference wildcard case", "*.x.test", "A.X.Test", true },
    { "match: reference wildcard not two labels", "*.x.test", "a.b.x.test", false },
    { "match: reference wildcard not the parent", "*.x.test", "x.test", false },
    { "match: reference wildcard vs identical wildcard", "*.x.test", "*.x.test", true },
    { "match: reference wildcard vs other wildcard", "*.x.test", "*.y.test", false },
    { "match: reference wildcard vs A-label", "*.x.test", "xn--bcher-kva.x.test", false },
    { "match: reference wildcard single label remainder", "*.test", "a.test", false },
    { "match: reference partial wildcard", "f*.x.test", "fa.x.test", false },
    { "match: empty reference", "", "mail.x.test", false },
    { "match: empty presented", "mail.x.test", "", false },
    { "match: NULL reference", NULL, "mail.x.test", false },
    { "match: NULL presented", "mail.x.test", NULL, false },
    { "match: presented CR LF", "mail.x.test", "mail.x.test\r\n", false },
    { "match: presented space", "mail x.test", "mail x.test", false },
    { "match: presented non-ASCII never matches", "z\xc3\xbcrich.test", "z\xc3\xbcrich.test", false },
    { "match: presented empty label", "mail.x.test", "mail..x.test", false },
    { "match: presented leading dot", "mail.x.test", ".mail.x.test", false },
    { "match: presented two trailing dots", "mail.x.test", "mail.x.test..", false },
    { "match: presented dot only", ".", ".", false },
    { "match: Postfix odd CN", "mail.x.test",
      "Odd \"Quoted\" Name, Inc. + Partner's Z\xc3\xbcrich <mx> a/b=c;d", false },
};

static void
test_match(void **state)
{
    const struct match_case *c = *state;
    bool got = cert_name_match(c->reference, c->presented);

    if (got != c->want)
        fail_msg("reference \"%s\" presented \"%s\": got %s, want %s",
                 c->reference ? c->reference : "(null)", c->presented ? c->presented : "(null)",
                 got ? "match" : "no match", c->want ? "match" : "no match");
}

/* ---- reference identifier validation ---- */

struct pattern_case {
    const char *name;
    const char *pattern;          /* "L63"/"N254": generated long inputs */
    const char *why;              /* NULL: valid; else substring of the reason */
};

static const struct pattern_case pattern_cases[] = {
    { "pattern: host name", "mail.x.test", NULL },
    { "pattern: wildcard", "*.x.test", NULL },
    { "pattern: trailing dot", "mail.x.test.", NULL },
    { "pattern: single label", "localhost", NULL },
    { "pattern: hyphen inside", "mail-1.x-y.test", NULL },
    { "pattern: A-label", "xn--bcher-kva.test", NULL },
    { "pattern: upper case", "MAIL.X.TEST", NULL },
    { "pattern: 63-character label", "L63", NULL },
    { "pattern: 253 characters", "N253", NULL },
    { "pattern: NULL", NULL, "empty" },
    { "pattern: empty", "", "empty" },
    { "pattern: dot only", ".", "empty" },
    { "pattern: wildcard over TLD", "*.test", "two labels" },
    { "pattern: partial wildcard f*", "f*.x.test", "wildcard" },
    { "pattern: partial wildcard *f", "*f.x.test", "wildcard" },
    { "pattern: inner wildcard", "x.*.test", "wildcard" },
    { "pattern: two wildcards", "*.*.test", "wildcard" },
    { "pattern: bare *", "*", "wildcard" },
    { "pattern: leading hyphen", "-a.test", "'-'" },
    { "pattern: trailing hyphen", "a-.test", "'-'" },
    { "pattern: trailing hyphen last label", "a.test-", "'-'" },
    { "pattern: empty label", "a..test", "empty label" },
    { "pattern: leading dot", ".a.test", "empty label" },
    { "pattern: two trailing dots", "a.test..", "empty label" },
    { "pattern: underscore", "a_b.test", "letters" },
    { "pattern: space", "a b.test", "letters" },
    { "pattern: non-ASCII", "z\xc3\xbcrich.test", "letters" },
    { "pattern: 64-character label", "L64", "63" },
    { "pattern: 254 characters", "N254", "253" },
};

/* "L<n>": one label of n characters plus ".test"; "N<n>": a name of n characters
 * made of 49-character labels. */
static char *
pattern_expand(const char *p)
{
    size_t n, i;
    char *s;

    if (p == NULL || (p[0] != 'L' && p[0] != 'N') || p[1] < '0' || p[1] > '9')
        return p == NULL ? NULL : strdup(p);
    n = (size_t)strtoul(p + 1, NULL, 10);
    if ((s = malloc(n + 6)) == NULL)
        return NULL;
    if (p[0] == 'L') {
        memset(s, 'a', n);
        memcpy(s + n, ".test", 6);
        return s;
    }
    for (i = 0; i < n; i++)
        s[i] = (i % 50 == 49) ? '.' : 'b';
    s[n] = '\0';
    return s;
}

static void
test_pattern(void **state)
{
    const struct pattern_case *c = *state;
    char *p = pattern_expand(c->pattern);
    const char *got;

    if (c->pattern != NULL)
        assert_non_null(p);
    got = cert_name_pattern_check(p);
    if (c->why == NULL && got != NULL)
        fail_msg("\"%s\": got \"%s\", want valid", c->pattern, got);
    if (c->why != NULL && got == NULL)
        fail_msg("\"%s\": got valid, want a reason mentioning \"%s\"",
                 c->pattern ? c->pattern : "(null)", c->why);
    if (c->why != NULL && strstr(got, c->why) == NULL)
        fail_msg("\"%s\": got \"%s\", want a reason mentioning \"%s\"",
                 c->pattern ? c->pattern : "(null)", got, c->why);
    free(p);
}

int
main(void)
{
    struct table_tests tt = { 0 };

    TABLE_TEST_ROWS(&tt, xtext_cases, name, test_xtext);
    TABLE_TEST_ROWS(&tt, oneline_cases, name, test_oneline);
    table_test_add(&tt, "oneline: 64 attributes accepted", test_oneline_limit, STATE(64));
    table_test_add(&tt, "oneline: 65 attributes refused", test_oneline_limit, STATE(65));
    TABLE_TEST_ROWS(&tt, config_cases, name, test_config);
    TABLE_TEST_ROWS(&tt, canon_cases, name, test_canonical);
    TABLE_TEST_ROWS(&tt, get_cases, name, test_get);
    TABLE_TEST_ROWS(&tt, match_cases, name, test_match);
    TABLE_TEST_ROWS(&tt, pattern_cases, name, test_pattern);
    return table_test_run(&tt, "cert_name", NULL, NULL);
}
