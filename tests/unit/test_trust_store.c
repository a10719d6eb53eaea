/*
 * test_trust_store.c -- unit tests of policy/trust_store.c against the test PKI
 * (tests/pki/mkpki.sh, env TLSPOLICY_TEST_PKI): root sets by CN and DN,
 * cross-signing, stores built from bundles, intermediates files and
 * directories, load errors, certificate graphs built here (cycles, depth, v1
 * and CN-less roots), and the system CA bundle.
 * Never: writes outside its own mkdtemp directory.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert_dn.h"
#include "trust_store.h"
#include "table_test.h"

#define SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define SYSTEM_DIR    "/etc/ssl/certs"

static const char *pki;           /* $TLSPOLICY_TEST_PKI */
static char tmpdir[] = "/tmp/test_trust_store.XXXXXX";
static bool have_tmpdir;

/* --- helpers ------------------------------------------------------------ */

/* "$TLSPOLICY_TEST_PKI/name", "$tmp/name", or name as is when it starts with '/'. */
static char *
path_of(const char *name)
{
    const char *base = pki;
    char *p;
    size_t len;
    int w;

    if (name[0] == '/')
        return strdup(name);
    if (strncmp(name, "tmp:", 4) == 0) {
        base = tmpdir;
        name += 4;
    }
    len = strlen(base) + strlen(name) + 2;
    p = malloc(len);
    assert_non_null(p);
    w = snprintf(p, len, "%s/%s", base, name);
    assert_true(w > 0 && (size_t)w < len);
    return p;
}

static void
write_file(const char *name, const void *data, size_t len)
{
    char *p = path_of(name);
    FILE *f = fopen(p, "wb");

    if (f == NULL)
        fail_msg("cannot create %s: %s", p, strerror(errno));
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    free(p);
}

static char *
read_pki_file(const char *name, size_t *len)
{
    char *p = path_of(name), *buf;
    FILE *f = fopen(p, "rb");
    long n;

    if (f == NULL)
        fail_msg("cannot open %s: %s", p, strerror(errno));
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    free(p);
    *len = (size_t)n;
    return buf;
}

/* Load bundle plus up to 4 intermediates (NULL-terminated names). */
static struct trust_store *
load(const char *bundle, const char *const *ints, char **err)
{
    char *bp = bundle ? path_of(bundle) : NULL, *ip[4] = { NULL };
    size_t n = 0, i;
    struct trust_store *ts;

    while (ints != NULL && ints[n] != NULL) {
        assert_true(n < 4);
        ip[n] = path_of(ints[n]);
        n++;
    }
    ts = trust_store_load(bp, (const char *const *)ip, n, err);
    free(bp);
    for (i = 0; i < n; i++)
        free(ip[i]);
    return ts;
}

/* Canonical DN of a DN written as the administrator would (oneline or RFC 4514). */
static char *
canon(const char *dn)
{
    struct cert_dn d = { 0, NULL };
    const char *why = NULL;
    char *c;

    if (cert_dn_parse_config(dn, &d, &why) != 0)
        fail_msg("cert_dn_parse_config(\"%s\"): %s", dn, why ? why : "?");
    c = cert_dn_canonical(&d);
    assert_non_null(c);
    cert_dn_free(&d);
    return c;
}

/* Compare a lookup result with the wanted display ("-" = want NULL result). */
static void
check_roots(const char *what, const struct trust_roots *r, const char *want_display,
            size_t want_n)
{
    size_t i;

    if (strcmp(want_display, "-") == 0) {
        if (r != NULL)
            fail_msg("%s: got roots \"%s\", want no entry", what, r->display);
        return;
    }
    if (r == NULL)
        fail_msg("%s: got no entry, want \"%s\"", what, want_display);
    if (r->n != want_n)
        fail_msg("%s: got %zu roots (\"%s\"), want %zu", what, r->n, r->display, want_n);
    assert_non_null(r->display);
    if (strcmp(r->display, want_display) != 0)
        fail_msg("%s: got display \"%s\", want \"%s\"", what, r->display, want_display);
    for (i = 0; i < r->n; i++) {
        assert_non_null(r->cn[i]);
        assert_non_null(r->dn[i]);
        assert_true(r->dn[i][0] == '/');
    }
}

/* --- lookups in trust.pem ----------------------------------------------- */

enum by { BY_CN, BY_DN_RAW, BY_DN_CONFIG };

struct lookup_case {
    const char *name;
    enum by by;
    const char *key;
    const char *want;             /* display, or "-" for no entry */
    size_t want_n;
};

static const struct lookup_case lookup_cases[] = {
    { "issuing CA under R1", BY_CN, "Test Issuing CA 1", "Test Root CA R1", 1 },
    { "other issuing CA", BY_CN, "Other Issuing CA", "Other Root CA", 1 },
    { "cross-signed CA has both roots", BY_CN, "Test Cross CA",
      "Test Root CA R1, Test Root CA R2", 2 },
    { "root R1 is its own root", BY_CN, "Test Root CA R1", "Test Root CA R1", 1 },
    { "root R2 is its own root", BY_CN, "Test Root CA R2", "Test Root CA R2", 1 },
    { "other root is its own root", BY_CN, "Other Root CA", "Other Root CA", 1 },
    { "CN lookup ignores case", BY_CN, "tEST iSSUING ca 1", "Test Root CA R1", 1 },
    { "CN lookup ignores case (cross)", BY_CN, "TEST CROSS CA",
      "Test Root CA R1, Test Root CA R2", 2 },
    { "unknown CN", BY_CN, "Unknown Issuing CA", "-", 0 },
    { "CN prefix is not a match", BY_CN, "Test Issuing CA", "-", 0 },
    { "empty CN", BY_CN, "", "-", 0 },
    { "leaf CNs are not in the store", BY_CN, "mail.partner-a.test", "-", 0 },
    { "canonical DN as written", BY_DN_RAW, "/c=DE/o=Test PKI/cn=Test Issuing CA 1",
      "Test Root CA R1", 1 },
    { "oneline DN, other case", BY_DN_RAW, "/C=de/O=TEST PKI/CN=test issuing ca 1",
      "Test Root CA R1", 1 },
    { "DN from oneline form", BY_DN_CONFIG, "/C=DE/O=Test PKI/CN=Test Cross CA",
      "Test Root CA R1, Test Root CA R2", 2 },
    { "DN from RFC 4514 form", BY_DN_CONFIG, "CN=Test Cross CA,O=Test PKI,C=DE",
      "Test Root CA R1, Test Root CA R2", 2 },
    { "DN from RFC 4514, long type names", BY_DN_CONFIG,
      "commonName=Other Issuing CA, organizationName=Other PKI, countryName=US",
      "Other Root CA", 1 },
    { "root DN", BY_DN_CONFIG, "CN=Test Root CA R2,O=Test PKI,C=DE", "Test Root CA R2", 1 },
    { "DN in the wrong order", BY_DN_RAW, "/cn=Test Issuing CA 1/o=Test PKI/c=DE", "-", 0 },
    { "DN with a wrong attribute", BY_DN_CONFIG, "CN=Test Issuing CA 1,O=Other PKI,C=DE",
      "-", 0 },
    { "DN missing an attribute", BY_DN_CONFIG, "CN=Test Issuing CA 1,C=DE", "-", 0 },
};

static const struct trust_roots *
lookup(const struct trust_store *ts, enum by by, const char *key)
{
    const struct trust_roots *r;
    char *dn;

    switch (by) {
    case BY_CN:
        return trust_store_roots_by_cn(ts, key);
    case BY_DN_RAW:
        return trust_store_roots_by_dn(ts, key);
    default:
        dn = canon(key);
        r = trust_store_roots_by_dn(ts, dn);
        free(dn);
        return r;
    }
}

static void
run_lookup(void **state)
{
    const struct lookup_case *c = *state;
    char *err = NULL;
    struct trust_store *ts = load("trust.pem", NULL, &err);

    if (ts == NULL)
        fail_msg("trust.pem: %s", err ? err : "(no message)");
    assert_null(err);
    check_roots(c->name, lookup(ts, c->by, c->key), c->want, c->want_n);
    trust_store_free(ts);
}

static void
test_ca_count(void **state)
{
    char *err = NULL;
    struct trust_store *ts;

    (void)state;
    ts = load("trust.pem", NULL, &err);
    assert_non_null(ts);
    /* 3 roots, 2 intermediates, 2 certificates of the cross-signed CA */
    if (trust_store_ca_count(ts) != 7)
        fail_msg("got %zu CAs in trust.pem, want 7", trust_store_ca_count(ts));
    trust_store_free(ts);
}

/* The root sets name the roots' own CNs and canonical DNs, in display order. */
static void
test_root_names(void **state)
{
    struct trust_store *ts;
    const struct trust_roots *r;
    char *r1 = canon("/C=DE/O=Test PKI/CN=Test Root CA R1");
    char *r2 = canon("/C=DE/O=Test PKI/CN=Test Root CA R2");
    char *err = NULL;

    (void)state;
    ts = load("trust.pem", NULL, &err);
    assert_non_null(ts);
    r = trust_store_roots_by_cn(ts, "Test Cross CA");
    assert_non_null(r);
    assert_int_equal(r->n, 2);
    assert_string_equal(r->cn[0], "Test Root CA R1");
    assert_string_equal(r->cn[1], "Test Root CA R2");
    if (strcasecmp(r->dn[0], r1) != 0 || strcasecmp(r->dn[1], r2) != 0)
        fail_msg("got root DNs \"%s\", \"%s\"; want \"%s\", \"%s\"", r->dn[0], r->dn[1], r1, r2);
    /* by CN and by DN give the same answer for the cross-signed CA */
    {
        char *dn = canon("CN=Test Cross CA,O=Test PKI,C=DE");
        const struct trust_roots *d = trust_store_roots_by_dn(ts, dn);

        assert_non_null(d);
        assert_string_equal(d->display, r->display);
        free(dn);
    }
    /* NULL arguments are refused, not dereferenced */
    assert_null(trust_store_roots_by_cn(ts, NULL));
    assert_null(trust_store_roots_by_dn(ts, NULL));
    assert_null(trust_store_roots_by_cn(NULL, "Test Cross CA"));
    assert_int_equal(trust_store_ca_count(NULL), 0);
    trust_store_free(ts);
    trust_store_free(NULL);
    free(r1);
    free(r2);
}

/* --- stores built in different ways ------------------------------------- */

struct store_case {
    const char *name;
    const char *bundle;
    const char *ints[4];
    size_t want_count;
    const char *cn;               /* looked up */
    const char *want;             /* display or "-" */
    size_t want_n;
    const char *cn2;              /* second lookup, optional */
    const char *want2;
    size_t want2_n;
};

static const struct store_case store_cases[] = {
    { "roots bundle + intermediates files", "roots.pem", { "ints.pem", "cross.pem", NULL }, 6,
      "Test Cross CA", "Test Root CA R1", 1, "Other Issuing CA", "Other Root CA", 1 },
    { "cross CA without root R2 has only R1", "roots+ints.pem", { "cross.pem", NULL }, 6,
      "test cross ca", "Test Root CA R1", 1, "Test Root CA R2", "-", 0 },
    { "directory store (hash links deduplicated)", "certs", { NULL }, 7,
      "Test Cross CA", "Test Root CA R1, Test Root CA R2", 2,
      "Test Issuing CA 1", "Test Root CA R1", 1 },
    { "intermediates without their roots", "ints.pem", { NULL }, 2,
      "Test Issuing CA 1", "", 0, "Other Issuing CA", "", 0 },
    { "cross CA alone", "cross.pem", { NULL }, 2,
      "Test Cross CA", "", 0, "Test Root CA R1", "-", 0 },
    { "all roots + cross, no issuing CAs", "all-roots.pem", { "cross.pem", NULL }, 5,
      "Test Cross CA", "Test Root CA R1, Test Root CA R2", 2, "Test Issuing CA 1", "-", 0 },
    { "one certificate of the cross CA", "all-roots.pem", { "int-cross-r2.crt", NULL }, 4,
      "Test Cross CA", "Test Root CA R2", 1, NULL, NULL, 0 },
    { "same certificates loaded twice", "trust.pem", { "trust.pem", "roots.pem", NULL }, 7,
      "Test Cross CA", "Test Root CA R1, Test Root CA R2", 2, NULL, NULL, 0 },
    { "leaf in an intermediates chain file is ignored", "roots.pem",
      { "server.chain.pem", NULL }, 3,
      "Test Issuing CA 1", "Test Root CA R1", 1, "mx.local.test", "-", 0 },
    { "intermediates before their roots", "ints.pem", { "roots.pem", NULL }, 4,
      "Other Issuing CA", "Other Root CA", 1, NULL, NULL, 0 },
};

static void
run_store(void **state)
{
    const struct store_case *c = *state;
    char *err = NULL;
    struct trust_store *ts = load(c->bundle, c->ints, &err);

    if (ts == NULL)
        fail_msg("%s: load failed: %s", c->name, err ? err : "(no message)");
    if (trust_store_ca_count(ts) != c->want_count)
        fail_msg("%s: got %zu CAs, want %zu", c->name, trust_store_ca_count(ts), c->want_count);
    check_roots(c->name, trust_store_roots_by_cn(ts, c->cn), c->want, c->want_n);
    if (c->cn2 != NULL)
        check_roots(c->name, trust_store_roots_by_cn(ts, c->cn2), c->want2, c->want2_n);
    trust_store_free(ts);
}

/* --- load errors ---------------------------------------------------------- */

struct error_case {
    const char *name;
    const char *bundle;           /* NULL: no bundle */
    const char *ints[3];
    const char *want;             /* message; "%s" stands for the named file's path */
    const char *file;             /* which file the message names */
};

static const struct error_case error_cases[] = {
    { "missing bundle", "nope.pem", { NULL },
      "%s: cannot be opened: No such file or directory", "nope.pem" },
    { "missing intermediates file", "roots.pem", { "ints.pem", "missing-ints.pem", NULL },
      "%s: cannot be opened: No such file or directory", "missing-ints.pem" },
    { "empty bundle", "tmp:empty.pem", { NULL }, "%s: no PEM certificate found", "tmp:empty.pem" },
    { "garbage bundle", "tmp:garbage.pem", { NULL },
      "%s: no PEM certificate found", "tmp:garbage.pem" },
    { "private key only", "partner-a.key", { NULL },
      "%s: no PEM certificate found", "partner-a.key" },
    { "DER instead of PEM", "tmp:root.der", { NULL },
      "%s: no PEM certificate found", "tmp:root.der" },
    { "leaf-only bundle", "partner-a.crt", { NULL },
      "%s: no CA certificate found (1 certificate(s), none is a CA)", "partner-a.crt" },
    { "leaf-only intermediates file", "roots.pem", { "partner-b.crt", NULL },
      "%s: no CA certificate found (1 certificate(s), none is a CA)", "partner-b.crt" },
    { "empty intermediates file", "roots.pem", { "tmp:empty.pem", NULL },
      "%s: no PEM certificate found", "tmp:empty.pem" },
    { "third certificate damaged", "tmp:broken3.pem", { NULL },
      "%s: certificate 3: could not be parsed (expected PEM -----BEGIN CERTIFICATE-----)",
      "tmp:broken3.pem" },
    { "second certificate truncated", "tmp:trunc2.pem", { NULL },
      "%s: certificate 2: could not be parsed (expected PEM -----BEGIN CERTIFICATE-----)",
      "tmp:trunc2.pem" },
    { "first certificate lost its END line", "tmp:noend1.pem", { NULL },
      "%s: certificate 1: could not be parsed (expected PEM -----BEGIN CERTIFICATE-----)",
      "tmp:noend1.pem" },
    { "END line names another label", "tmp:badend.pem", { NULL },
      "%s: certificate 1: could not be parsed (expected PEM -----BEGIN CERTIFICATE-----)",
      "tmp:badend.pem" },
    { "damaged intermediates file", "roots.pem", { "tmp:broken3.pem", NULL },
      "%s: certificate 3: could not be parsed (expected PEM -----BEGIN CERTIFICATE-----)",
      "tmp:broken3.pem" },
    { "directory without certificates", "tmp:emptydir", { NULL },
      "%s: no CA certificate found in any file of the directory "
      "(0 certificate(s) read; expected PEM CA certificates)", "tmp:emptydir" },
    { "directory with a damaged file", "tmp:baddir", { NULL },
      "%s: certificate 3: could not be parsed (expected PEM -----BEGIN CERTIFICATE-----)",
      "tmp:baddir/b.pem" },
    { "intermediates file is a directory", "roots.pem", { "certs", NULL },
      "%s: is a directory, not a regular file (expected a PEM file)", "certs" },
    /* Named by the connectors file: nothing that could block or redirect. */
    { "FIFO as the bundle", "tmp:fifo.pem", { NULL },
      "%s: is a FIFO, not a regular file (expected a PEM file or a directory of PEM files)",
      "tmp:fifo.pem" },
    { "FIFO as an intermediates file", "roots.pem", { "ints.pem", "tmp:fifo.pem", NULL },
      "%s: is a FIFO, not a regular file (expected a PEM file)", "tmp:fifo.pem" },
    { "character device as the bundle", "/dev/null", { NULL },
      "%s: is a character device, not a regular file (expected a PEM file or a directory of "
      "PEM files)", "/dev/null" },
    { "character device as an intermediates file", "roots.pem", { "/dev/null", NULL },
      "%s: is a character device, not a regular file (expected a PEM file)", "/dev/null" },
    { "symbolic link as the bundle", "tmp:link.pem", { NULL },
      "%s: is a symbolic link, which is not followed here (expected a PEM file or a directory "
      "of PEM files; name the file it points to)", "tmp:link.pem" },
    { "symbolic link as an intermediates file", "roots.pem", { "tmp:link.pem", NULL },
      "%s: is a symbolic link, which is not followed here (expected a PEM file; name the "
      "file it points to)", "tmp:link.pem" },
    { "symbolic link to a directory as the bundle", "tmp:linkdir", { NULL },
      "%s: is a symbolic link, which is not followed here (expected a PEM file or a directory "
      "of PEM files; name the file it points to)", "tmp:linkdir" },
    { "no bundle", NULL, { NULL },
      "no CA bundle given (expected a PEM file or a directory)", NULL },
};

static void
make_error_fixtures(void)
{
    static const char garbage[] = "this is not a certificate\n\x01\x02\xff\n-----BEGIN\n";
    size_t len, l2;
    char *roots = read_pki_file("roots.pem", &len);
    char *one = read_pki_file("int-1.crt", &l2);
    char *buf, *p;
    X509 *x;
    BIO *bio;
    unsigned char *der = NULL;
    int dlen;

    write_file("tmp:empty.pem", "", 0);
    write_file("tmp:garbage.pem", garbage, sizeof garbage - 1);

    /* roots (2 certs) + int-1 with a damaged base64 body */
    buf = malloc(len + l2 + 1);
    assert_non_null(buf);
    memcpy(buf, roots, len);
    memcpy(buf + len, one, l2);
    p = strstr(buf + len, "\n") + 10;
    memcpy(p, "!!!!", 4);
    write_file("tmp:broken3.pem", buf, len + l2);

    /* one root + the first half of another */
    p = strstr(roots + 30, "-----BEGIN CERTIFICATE-----");
    assert_non_null(p);
    write_file("tmp:trunc2.pem", roots, (size_t)(p - roots) + 200);

    /* both roots, the first without its END line */
    {
        char *cut = malloc(len + 1), *q;
        static const char endl[] = "-----END CERTIFICATE-----\n";

        assert_non_null(cut);
        memcpy(cut, roots, len + 1);
        q = strstr(cut, endl);
        assert_non_null(q);
        memmove(q, q + sizeof endl - 1, len - (size_t)(q - cut) - (sizeof endl - 1) + 1);
        write_file("tmp:noend1.pem", cut, strlen(cut));
        /* one root whose END line says PRIVATE KEY */
        memcpy(cut, roots, len + 1);
        q = strstr(cut, "-----END CERTIFICATE-----");
        assert_non_null(q);
        write_file("tmp:badend.pem", cut, (size_t)(q - cut));
        free(cut);
    }
    {
        size_t bl;
        char *b = read_pki_file("tmp:badend.pem", &bl), *bb = malloc(bl + 40);

        assert_non_null(bb);
        memcpy(bb, b, bl);
        memcpy(bb + bl, "-----END PRIVATE KEY-----\n", 26);
        write_file("tmp:badend.pem", bb, bl + 26);
        free(b);
        free(bb);
    }

    /* DER encoding of a root */
    bio = BIO_new_mem_buf(roots, (int)len);
    assert_non_null(bio);
    x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    assert_non_null(x);
    dlen = i2d_X509(x, &der);
    assert_true(dlen > 0);
    write_file("tmp:root.der", der, (size_t)dlen);
    OPENSSL_free(der);
    X509_free(x);
    BIO_free(bio);

    {
        char *d = path_of("tmp:emptydir"), *e = path_of("tmp:baddir");

        assert_int_equal(mkdir(d, 0700), 0);
        assert_int_equal(mkdir(e, 0700), 0);
        free(d);
        free(e);
    }
    write_file("tmp:baddir/a.pem", roots, len);
    write_file("tmp:baddir/b.pem", buf, len + l2);
    {
        char *fifo = path_of("tmp:fifo.pem"), *link = path_of("tmp:link.pem");
        char *linkdir = path_of("tmp:linkdir"), *target = path_of("roots.pem");
        char *certs = path_of("certs");

        assert_int_equal(mkfifo(fifo, 0600), 0);
        assert_int_equal(symlink(target, link), 0);
        assert_int_equal(symlink(certs, linkdir), 0);
        free(fifo);
        free(link);
        free(linkdir);
        free(target);
        free(certs);
    }
    free(buf);
    free(roots);
    free(one);
}

static void
run_error(void **state)
{
    const struct error_case *c = *state;
    char *err = NULL, *want, *file = c->file ? path_of(c->file) : NULL;
    struct trust_store *ts = load(c->bundle, c->ints, &err);
    size_t wl = strlen(c->want) + (file ? strlen(file) : 0) + 1;
    int w;

    if (ts != NULL) {
        trust_store_free(ts);
        fail_msg("%s: load succeeded, want an error", c->name);
    }
    if (err == NULL)
        fail_msg("%s: got no error message", c->name);
    want = malloc(wl);
    assert_non_null(want);
    if (file != NULL) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        w = snprintf(want, wl, c->want, file);
#pragma GCC diagnostic pop
    } else {
        w = snprintf(want, wl, "%s", c->want);
    }
    assert_true(w > 0 && (size_t)w < wl);
    if (strcmp(err, want) != 0)
        fail_msg("%s: got error \"%s\", want \"%s\"", c->name, err, want);
    free(want);
    free(file);
    free(err);
}

/* --- graphs built here ---------------------------------------------------- */

struct gen_ca {
    const char *id;
    const char *subject;          /* oneline-ish: "O=x,CN=y" (comma separated) */
    const char *issuer;           /* id of the signing CA, NULL = self-signed */
    bool v1;                      /* X.509 v1, no extensions */
    bool leaf;                    /* CA:FALSE */
    const char *signer;           /* id whose key signs, when not the issuer's */
};

static EVP_PKEY *
gen_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");

    assert_non_null(k);
    return k;
}

static X509_NAME *
gen_name(const char *spec)
{
    X509_NAME *n = X509_NAME_new();
    char *copy = strdup(spec), *tok, *save = NULL;

    assert_non_null(n);
    assert_non_null(copy);
    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');

        assert_non_null(eq);
        *eq = '\0';
        assert_int_equal(X509_NAME_add_entry_by_txt(n, tok, MBSTRING_UTF8,
                                                    (const unsigned char *)eq + 1, -1, -1, 0), 1);
    }
    free(copy);
    return n;
}

/*
 * Write the CAs of a table to "tmp:NAME.pem" (all in one bundle). Keys are
 * per subject, so two rows with the same subject are the same CA certified
 * twice, as with real cross-signing.
 */
static void
gen_bundle(const char *file, const struct gen_ca *cas, size_t n)
{
    EVP_PKEY **keys = calloc(n, sizeof *keys);
    X509 **certs = calloc(n, sizeof *certs);
    char *path = path_of(file);
    FILE *f;
    size_t i, j;

    assert_non_null(keys);
    assert_non_null(certs);
    for (i = 0; i < n; i++) {
        for (j = 0; j < i; j++)
            if (strcmp(cas[j].subject, cas[i].subject) == 0)
                break;
        keys[i] = j < i ? keys[j] : gen_key();
        if (j < i)
            assert_int_equal(EVP_PKEY_up_ref(keys[i]), 1);
    }
    for (i = 0; i < n; i++) {
        X509 *x = X509_new();
        X509_NAME *sub = gen_name(cas[i].subject);
        size_t is = i;

        assert_non_null(x);
        if (cas[i].issuer != NULL) {
            for (is = 0; is < n && strcmp(cas[is].id, cas[i].issuer) != 0; is++)
                ;
            assert_true(is < n);
        }
        assert_int_equal(X509_set_version(x, cas[i].v1 ? X509_VERSION_1 : X509_VERSION_3), 1);
        assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), (long)i + 1), 1);
        assert_int_equal(X509_set_subject_name(x, sub), 1);
        {
            X509_NAME *iss = gen_name(cas[is].subject);

            assert_int_equal(X509_set_issuer_name(x, iss), 1);
            X509_NAME_free(iss);
        }
        assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
        assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
        assert_int_equal(X509_set_pubkey(x, keys[i]), 1);
        if (!cas[i].v1) {
            X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints,
                                                      cas[i].leaf ? "critical,CA:FALSE"
                                                                  : "critical,CA:TRUE");

            assert_non_null(ext);
            assert_int_equal(X509_add_ext(x, ext, -1), 1);
            X509_EXTENSION_free(ext);
        }
        if (cas[i].signer != NULL) {
            for (is = 0; is < n && strcmp(cas[is].id, cas[i].signer) != 0; is++)
                ;
            assert_true(is < n);
        }
        assert_true(X509_sign(x, keys[is], EVP_sha256()) > 0);
        certs[i] = x;
        X509_NAME_free(sub);
    }
    f = fopen(path, "w");
    assert_non_null(f);
    for (i = 0; i < n; i++) {
        assert_int_equal(PEM_write_X509(f, certs[i]), 1);
        X509_free(certs[i]);
        EVP_PKEY_free(keys[i]);
    }
    assert_int_equal(fclose(f), 0);
    free(keys);
    free(certs);
    free(path);
}

/* A signs B and B signs A (mutual cross-signing); only A also has a root. */
static const struct gen_ca cycle_cas[] = {
    { "root", "O=Gen,CN=Gen Root", NULL, false, false, NULL },
    { "a-by-b", "O=Gen,CN=Gen A", "b-by-a", false, false, NULL },
    { "b-by-a", "O=Gen,CN=Gen B", "a-by-b", false, false, NULL },
    { "a-by-root", "O=Gen,CN=Gen A", "root", false, false, NULL },
    { "c-by-c2", "O=Gen,CN=Gen C", "c2-by-c", false, false, NULL },
    { "c2-by-c", "O=Gen,CN=Gen C2", "c-by-c2", false, false, NULL },
    { "v1root", "O=Gen,CN=Gen V1 Root", NULL, true, false, NULL },
    { "under-v1", "O=Gen,CN=Gen Under V1", "v1root", false, false, NULL },
    { "nocn", "C=DE,O=Gen No CN Root", NULL, false, false, NULL },
    { "under-nocn", "O=Gen,CN=Gen Under NoCN", "nocn", false, false, NULL },
    { "dup-a", "O=Gen Alpha,CN=Gen Shared", "root", false, false, NULL },
    { "dup-b", "O=Gen Beta,CN=Gen Shared", "v1root", false, false, NULL },
    { "leaf", "O=Gen,CN=Gen Leaf", "root", false, true, NULL },
    { "v1-by-root", "O=Gen,CN=Gen V1 Intermediate", "root", true, false, NULL },
    /* issuer name = own name, but signed by another key: not self-signed */
    { "fake-root", "O=Gen,CN=Gen Fake Root", NULL, false, false, "root" },
    /* names Gen Root as issuer, but Gen B's key signed it */
    { "impostor", "O=Gen,CN=Gen Impostor", "root", false, false, "b-by-a" },
};

struct graph_case {
    const char *name;
    enum by by;
    const char *key;
    const char *want;
    size_t want_n;
};

static const struct graph_case graph_cases[] = {
    { "cycle A<->B plus root: A", BY_CN, "Gen A", "Gen Root", 1 },
    { "cycle A<->B plus root: B", BY_CN, "Gen B", "Gen Root", 1 },
    { "cycle without a root", BY_CN, "Gen C", "", 0 },
    { "cycle without a root (other side)", BY_CN, "Gen C2", "", 0 },
    { "self-signed v1 root counts", BY_CN, "Gen V1 Root", "Gen V1 Root", 1 },
    { "CA under a v1 root", BY_CN, "Gen Under V1", "Gen V1 Root", 1 },
    { "root without CN shows its DN", BY_CN, "Gen Under NoCN", "/c=DE/o=Gen No CN Root", 1 },
    { "root without CN found by DN", BY_DN_CONFIG, "O=Gen No CN Root,C=DE",
      "/c=DE/o=Gen No CN Root", 1 },
    { "unrelated CAs sharing a CN: union", BY_CN, "Gen Shared", "Gen Root, Gen V1 Root", 2 },
    { "shared CN, DN tells them apart", BY_DN_CONFIG, "CN=Gen Shared,O=Gen Alpha", "Gen Root", 1 },
    { "shared CN, DN tells them apart (2)", BY_DN_CONFIG, "CN=Gen Shared,O=Gen Beta",
      "Gen V1 Root", 1 },
    { "leaf (CA:FALSE) is not indexed", BY_CN, "Gen Leaf", "-", 0 },
    { "v1 non-self-signed is not a CA", BY_CN, "Gen V1 Intermediate", "-", 0 },
    { "self-issued, signed by another key: no root", BY_CN, "Gen Fake Root", "", 0 },
    { "issuer name right, signature wrong: no root", BY_CN, "Gen Impostor", "", 0 },
    { "chain depth 1 reaches the root", BY_CN, "Depth 1", "Depth 0", 1 },
    { "chain depth 16 reaches the root", BY_CN, "Depth 16", "Depth 0", 1 },
    { "chain depth 17 is cut off", BY_CN, "Depth 17", "", 0 },
    { "chain depth 19 is cut off", BY_CN, "Depth 19", "", 0 },
};

#define DEPTH_CHAIN 20
static struct trust_store *graph_store;

/* graph.pem (cycle_cas) as the bundle, depth.pem (a 20-CA chain) as intermediates */
static void
make_graph_fixtures(void)
{
    static const char *const ints[] = { "tmp:depth.pem", NULL };
    struct gen_ca chain[DEPTH_CHAIN];
    char ids[DEPTH_CHAIN][8], subs[DEPTH_CHAIN][32];
    char *err = NULL;
    size_t i;

    for (i = 0; i < DEPTH_CHAIN; i++) {
        assert_true(snprintf(ids[i], sizeof ids[i], "c%zu", i) > 0);
        assert_true(snprintf(subs[i], sizeof subs[i], "O=Depth,CN=Depth %zu", i) > 0);
        chain[i].id = ids[i];
        chain[i].subject = subs[i];
        chain[i].issuer = i ? ids[i - 1] : NULL;
        chain[i].v1 = false;
        chain[i].leaf = false;
        chain[i].signer = NULL;
    }
    gen_bundle("tmp:depth.pem", chain, DEPTH_CHAIN);
    gen_bundle("tmp:graph.pem", cycle_cas, sizeof cycle_cas / sizeof cycle_cas[0]);
    graph_store = load("tmp:graph.pem", ints, &err);
    if (graph_store == NULL)
        fail_msg("graph.pem + depth.pem: %s", err ? err : "(no message)");
}

static void
run_graph(void **state)
{
    const struct graph_case *c = *state;

    assert_non_null(graph_store);
    check_roots(c->name, lookup(graph_store, c->by, c->key), c->want, c->want_n);
}

static void
test_graph_ca_count(void **state)
{
    /* every row but the leaf and the v1 intermediate, plus the chain */
    size_t want = sizeof cycle_cas / sizeof cycle_cas[0] - 2 + DEPTH_CHAIN;

    (void)state;
    assert_non_null(graph_store);
    if (trust_store_ca_count(graph_store) != want)
        fail_msg("got %zu CAs, want %zu", trust_store_ca_count(graph_store), want);
}

/* --- the system bundle ---------------------------------------------------- */

static void
test_system_bundle(void **state)
{
    struct trust_store *ts, *dir;
    char *err = NULL;

    (void)state;
    if (access(SYSTEM_BUNDLE, R_OK) != 0) {
        print_message("# %s not readable; skipped\n", SYSTEM_BUNDLE);
        skip();
    }
    /* How long this takes is a figure of tests/bench (run-bench.sh, part c), not
     * a pass/fail test: a loaded machine would fail it. */
    ts = trust_store_load(SYSTEM_BUNDLE, NULL, 0, &err);
    if (ts == NULL)
        fail_msg("%s: %s", SYSTEM_BUNDLE, err ? err : "(no message)");
    assert_true(trust_store_ca_count(ts) > 50);
    {
        const struct trust_roots *r = trust_store_roots_by_cn(ts, "ISRG Root X1");

        if (r != NULL)
            check_roots("ISRG Root X1", r, "ISRG Root X1", 1);
    }
    /* The directory holds the same certificates once per file, once per hash
     * link and once more in the bundle inside it: deduplicated, same count. */
    dir = trust_store_load(SYSTEM_DIR, NULL, 0, &err);
    if (dir == NULL)
        fail_msg("%s: %s", SYSTEM_DIR, err ? err : "(no message)");
    assert_int_equal(trust_store_ca_count(dir), trust_store_ca_count(ts));
    trust_store_free(dir);
    trust_store_free(ts);
}

/* --- setup ---------------------------------------------------------------- */

static int
rm_tree(const char *path)
{
    struct stat st;

    if (lstat(path, &st) < 0)
        return 0;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *de;

        if (d == NULL)
            return -1;
        while ((de = readdir(d)) != NULL) {
            char sub[4096];

            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            if (snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) >= (int)sizeof sub)
                continue;
            rm_tree(sub);
        }
        closedir(d);
        return rmdir(path);
    }
    return unlink(path);
}

static int
group_setup(void **state)
{
    char *probe;
    struct stat st;
    size_t len;
    int w;

    (void)state;
    pki = getenv("TLSPOLICY_TEST_PKI");
    if (pki == NULL || *pki == '\0') {
        fprintf(stderr, "TLSPOLICY_TEST_PKI is not set (run via make check)\n");
        return -1;
    }
    len = strlen(pki) + sizeof "/trust.pem";
    probe = malloc(len);
    if (probe == NULL)
        return -1;
    w = snprintf(probe, len, "%s/trust.pem", pki);
    if (w < 0 || (size_t)w >= len || stat(probe, &st) < 0) {
        fprintf(stderr, "%s: %s (run tests/pki/mkpki.sh)\n", probe, strerror(errno));
        free(probe);
        return -1;
    }
    free(probe);
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    have_tmpdir = true;
    make_error_fixtures();
    make_graph_fixtures();
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    trust_store_free(graph_store);
    graph_store = NULL;
    if (have_tmpdir)
        rm_tree(tmpdir);
    return 0;
}

int
main(void)
{
    struct table_tests tt = { 0 };

    TABLE_TEST_ROWS(&tt, lookup_cases, name, run_lookup);
    TABLE_TEST_ROWS(&tt, store_cases, name, run_store);
    TABLE_TEST_ROWS(&tt, error_cases, name, run_error);
    TABLE_TEST_ROWS(&tt, graph_cases, name, run_graph);
    TABLE_TEST_FN(&tt, test_ca_count);
    TABLE_TEST_FN(&tt, test_root_names);
    TABLE_TEST_FN(&tt, test_graph_ca_count);
    TABLE_TEST_FN(&tt, test_system_bundle);
    return table_test_run(&tt, "trust_store", group_setup, group_teardown);
}
