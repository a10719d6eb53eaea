/*
 * test_trust_names.c -- unit tests of policy/trust_names.c and fingerprint.c:
 * name normalisation (en dash, NBSP, case, NFKC), "sha256:" parsing, and the
 * resolution of CN, OU, DN and fingerprint names against the test PKI
 * (TLSPOLICY_TEST_PKI) and Debian's real ca-certificates.crt, with the closest
 * certificates for a name that matches none or several CAs.
 * Never: writes a file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fingerprint.h"
#include "trust_store.h"
#include "table_test.h"

#define SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

/* ---- normalisation */

struct norm_row {
    const char *name, *in, *want;
};

static const struct norm_row norm_rows[] = {
    { "norm: ASCII case folds", "GlobalSign Root CA", "globalsign root ca" },
    { "norm: en dash is a hyphen", "GlobalSign Root CA \xe2\x80\x93 R3", "globalsign root ca - r3" },
    { "norm: em dash is a hyphen", "A\xe2\x80\x94" "B", "a-b" },
    { "norm: NBSP is a space", "Test\xc2\xa0Root", "test root" },
    { "norm: runs of white space fold, ends trimmed", "  Test \t Root  CA ", "test root ca" },
    { "norm: NFKC: fullwidth letters", "\xef\xbc\xb4\xef\xbd\x85st", "test" },
    { "norm: NFKC: ligature fi", "\xef\xac\x81nance", "finance" },
    { "norm: case folding beyond ASCII (sharp s)", "Stra\xc3\x9f" "e", "strasse" },
    { "norm: composed and decomposed are one", "Zu\xcc\x88rich", "z\xc3\xbcrich" },
    { "norm: not UTF-8: bytes kept, ASCII folded", "AB\xff" "C", "ab\xff" "c" },
    { "norm: minus sign is not dash punctuation", "a\xe2\x88\x92" "b", "a\xe2\x88\x92" "b" },
};

static void
run_norm(void **state)
{
    const struct norm_row *r = *state;
    char *got = trust_name_norm(r->in);

    assert_non_null(got);
    if (strcmp(got, r->want) != 0)
        fail_msg("%s: got '%s', want '%s'", r->name, got, r->want);
    free(got);
}

/* ---- fingerprints */

struct fp_row {
    const char *name, *in, *want;   /* want NULL: an error */
};

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const struct fp_row fp_rows[] = {
    { "fp: lower case, no colons", "sha256:" HEX64, HEX64 },
    { "fp: upper case prefix and digits",
      "SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", HEX64 },
    { "fp: colons between pairs",
      "sha256:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:"
      "01:23:45:67:89:ab:cd:ef", HEX64 },
    { "fp: too short", "sha256:0123", NULL },
    { "fp: too long", "sha256:" HEX64 "00", NULL },
    { "fp: not hex", "sha256:" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg", NULL },
    { "fp: a colon missing", "sha256:01:2345", NULL },
    { "fp: trailing colon", "sha256:01:", NULL },
    { "fp: another digest", "sha1:0123", NULL },
    { "fp: empty", "sha256:", NULL },
};

static void
run_fp(void **state)
{
    const struct fp_row *r = *state;
    char out[FINGERPRINT_HEX_LEN + 1];
    const char *why = fingerprint_parse(r->in, out);
    int rc = why == NULL ? 0 : -1;

    if (r->want == NULL) {
        if (rc == 0)
            fail_msg("%s: accepted, got %s", r->name, out);
        assert_non_null(why);
        return;
    }
    if (rc != 0)
        fail_msg("%s: refused: %s", r->name, why);
    assert_string_equal(out, r->want);
}

/* ---- resolution */

static struct trust_store *pki_store, *sys_store;

struct res_row {
    const char *name;
    bool system;                  /* against the system bundle, else the test PKI */
    const char *in;
    unsigned flags;
    enum trust_found found;
    size_t n;                     /* certificates matched */
    const char *cn0, *ou0;        /* the first match, or the first closest */
    const char *close_cn, *close_ou;   /* one of the closest must be this one */
};

static const struct res_row res_rows[] = {
    { "resolve: root by CN", false, "Test Root CA R1", TRUST_RESOLVE_ROOTS, TRUST_FOUND_ONE, 1,
      "Test Root CA R1", "", NULL, NULL },
    { "resolve: root by CN, case and spaces folded", false, "  test ROOT  ca r2", TRUST_RESOLVE_ROOTS,
      TRUST_FOUND_ONE, 1, "Test Root CA R2", "", NULL, NULL },
    { "resolve: root by RFC 4514 DN", false, "CN=Other Root CA, O=Other PKI, C=US",
      TRUST_RESOLVE_ROOTS, TRUST_FOUND_ONE, 1, "Other Root CA", "", NULL, NULL },
    { "resolve: root by one-line DN", false, "/C=DE/O=Test PKI/CN=Test Root CA R1",
      TRUST_RESOLVE_ROOTS, TRUST_FOUND_ONE, 1, "Test Root CA R1", "", NULL, NULL },
    { "resolve: a cross-signed CA is one CA of two certificates", false, "Test Cross CA", 0,
      TRUST_FOUND_ONE, 2, "Test Cross CA", "", NULL, NULL },
    { "resolve: an intermediate is no root", false, "Test Issuing CA 1", TRUST_RESOLVE_ROOTS,
      TRUST_FOUND_NONE, 0, NULL, NULL, NULL, NULL },
    { "resolve: none, closest named", false, "Test Root CA R3", TRUST_RESOLVE_ROOTS,
      TRUST_FOUND_NONE, 0, NULL, NULL, "Test Root CA R1", "" },
    { "resolve: a typo finds the name", false, "Othre Root CA", TRUST_RESOLVE_ROOTS,
      TRUST_FOUND_NONE, 0, "Other Root CA", "", NULL, NULL },
    { "system: GlobalSign R3 by its OU", true, "GlobalSign Root CA - R3", TRUST_RESOLVE_ROOTS,
      TRUST_FOUND_ONE, 1, "GlobalSign", "GlobalSign Root CA - R3", NULL, NULL },
    { "system: GlobalSign R3 by its OU with an en dash", true,
      "GlobalSign Root CA \xe2\x80\x93 R3", TRUST_RESOLVE_ROOTS, TRUST_FOUND_ONE, 1, "GlobalSign",
      "GlobalSign Root CA - R3", NULL, NULL },
    { "system: the CN GlobalSign is several roots", true, "GlobalSign", TRUST_RESOLVE_ROOTS,
      TRUST_FOUND_SEVERAL, 4, "GlobalSign", NULL, NULL, NULL },
    { "system: 'GlobalSign Root CA \xe2\x80\x93 R1' matches nothing; R1 is among the closest", true,
      "GlobalSign Root CA \xe2\x80\x93 R1", TRUST_RESOLVE_ROOTS, TRUST_FOUND_NONE, 0, NULL, NULL,
      "GlobalSign Root CA", "Root CA" },
    { "system: R1 by its CN", true, "GlobalSign Root CA", TRUST_RESOLVE_ROOTS, TRUST_FOUND_ONE, 1,
      "GlobalSign Root CA", "Root CA", NULL, NULL },
    { "system: R1 by fingerprint, colons, upper case", true,
      "sha256:EB:D4:10:40:E4:BB:3E:C7:42:C9:E3:81:D3:1E:F2:A4:1A:48:B6:68:5C:96:E7:CE:F3:C1:DF:"
      "6C:D4:33:1C:99", TRUST_RESOLVE_ROOTS, TRUST_FOUND_ONE, 1, "GlobalSign Root CA", "Root CA",
      NULL, NULL },
    { "system: NoSuchRoot CA matches nothing, three closest", true, "NoSuchRoot CA",
      TRUST_RESOLVE_ROOTS, TRUST_FOUND_NONE, 0, NULL, NULL, NULL, NULL },
};

static void
run_resolve(void **state)
{
    const struct res_row *r = *state;
    struct trust_store *ts = r->system ? sys_store : pki_store;
    struct trust_match m;
    const char *why = NULL;

    if (ts == NULL) {
        print_message("# %s not loaded; skipped\n", r->system ? SYSTEM_BUNDLE : "test PKI");
        skip();
    }
    if (trust_store_resolve(ts, r->in, r->flags, &m, &why) != 0)
        fail_msg("%s: resolve failed: %s", r->name, why ? why : "out of memory");
    if (m.found != r->found)
        fail_msg("%s: found %d, want %d", r->name, (int)m.found, (int)r->found);
    assert_int_equal(m.n, r->n);
    if (r->found == TRUST_FOUND_NONE)
        assert_int_equal(m.nclose, TRUST_CLOSE_MAX);
    if (r->cn0 != NULL) {
        const struct trust_cert *c = m.n > 0 ? m.cert[0] : m.close[0];

        assert_string_equal(trust_cert_cn(c), r->cn0);
        if (r->ou0 != NULL)
            assert_string_equal(trust_cert_ou(c), r->ou0);
        assert_int_equal(strlen(trust_cert_sha256(c)), 64);
        if (r->flags & TRUST_RESOLVE_ROOTS)
            assert_true(trust_cert_self_signed(c));
    }
    if (r->close_cn != NULL) {
        bool seen = false;

        for (size_t i = 0; i < m.nclose; i++)
            seen |= strcmp(trust_cert_cn(m.close[i]), r->close_cn) == 0 &&
                    strcmp(trust_cert_ou(m.close[i]), r->close_ou) == 0;
        if (!seen)
            fail_msg("%s: '%s' is not among the closest (first: %s)", r->name, r->close_cn,
                     m.nclose ? trust_cert_cn(m.close[0]) : "none");
    }
    for (size_t i = 0; i < m.n && r->found == TRUST_FOUND_ONE; i++)
        assert_true(trust_match_has(&m, m.cert[i]));
    trust_match_free(&m);
}

static void
test_malformed_names(void **state)
{
    struct trust_match m;
    const char *why = NULL;

    (void)state;
    if (pki_store == NULL)
        skip();
    assert_int_equal(trust_store_resolve(pki_store, "sha256:12", 0, &m, &why), -1);
    assert_non_null(why);
    why = NULL;
    assert_int_equal(trust_store_resolve(pki_store, "=Test Root CA R1", 0, &m, &why), -1);
    assert_non_null(why);
}

static void
test_pem_and_roots(void **state)
{
    struct trust_match m;
    const char *why;
    char *pem;

    (void)state;
    if (pki_store == NULL)
        skip();
    assert_int_equal(trust_store_resolve(pki_store, "Test Issuing CA 1", 0, &m, &why), 0);
    assert_int_equal(m.found, TRUST_FOUND_ONE);
    assert_false(trust_cert_self_signed(m.cert[0]));
    assert_int_equal(trust_cert_root_count(m.cert[0]), 1);
    assert_string_equal(trust_cert_cn(trust_cert_root(m.cert[0], 0)), "Test Root CA R1");
    assert_true(trust_cert_not_after(m.cert[0]) > 0);
    pem = trust_cert_pem(m.cert[0]);
    assert_non_null(pem);
    assert_non_null(strstr(pem, "-----BEGIN CERTIFICATE-----\n"));
    free(pem);
    trust_match_free(&m);
}

static int
setup(void **state)
{
    const char *pki = getenv("TLSPOLICY_TEST_PKI");
    char *err = NULL, bundle[4096], ints[4096];
    const char *il[1] = { ints };

    (void)state;
    if (pki != NULL && pki[0] != '\0') {
        snprintf(bundle, sizeof bundle, "%s/trust.pem", pki);
        snprintf(ints, sizeof ints, "%s/ints.pem", pki);
        pki_store = trust_store_load(bundle, il, 1, &err);
        free(err);
        err = NULL;
    }
    if (access(SYSTEM_BUNDLE, R_OK) == 0) {
        sys_store = trust_store_load(SYSTEM_BUNDLE, NULL, 0, &err);
        free(err);
    }
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    trust_store_free(pki_store);
    trust_store_free(sys_store);
    return 0;
}

int
main(void)
{
    struct table_tests tt = { 0 };

    TABLE_TEST_ROWS(&tt, norm_rows, name, run_norm);
    TABLE_TEST_ROWS(&tt, fp_rows, name, run_fp);
    TABLE_TEST_ROWS(&tt, res_rows, name, run_resolve);
    TABLE_TEST_FN(&tt, test_malformed_names);
    TABLE_TEST_FN(&tt, test_pem_and_roots);
    return table_test_run(&tt, "trust_names", setup, teardown);
}
