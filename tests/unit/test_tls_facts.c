/*
 * test_tls_facts.c -- table-driven tests of policy/tls_facts.c: version names
 * and their order, and cipher facts for the suites Postfix and Sendmail really
 * negotiated (doc/mta-facts.md section 5), by OpenSSL and by IANA name.
 * One cmocka test per table row, so every case is one TAP line.
 * Never: derives an expected value from the code under test.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tls_facts.h"
#include "table_test.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define STATE(p) ((void *)(uintptr_t)(p))

/* ---- versions ---- */

struct version_case {
    const char *name;
    const char *in;
    int         want;
};

static const struct version_case version_cases[] = {
    { "version: SSLv3", "SSLv3", TLS_VERSION_SSL3 },
    { "version: TLSv1 (what MTAs send for 1.0)", "TLSv1", TLS_VERSION_TLS1 },
    { "version: TLSv1.0", "TLSv1.0", TLS_VERSION_TLS1 },
    { "version: TLSv1.1", "TLSv1.1", TLS_VERSION_TLS1_1 },
    { "version: TLSv1.2", "TLSv1.2", TLS_VERSION_TLS1_2 },
    { "version: TLSv1.3", "TLSv1.3", TLS_VERSION_TLS1_3 },
    { "version: lower case", "tlsv1.2", TLS_VERSION_TLS1_2 },
    { "version: upper case", "TLSV1.3", TLS_VERSION_TLS1_3 },
    { "version: sslv3 lower case", "sslv3", TLS_VERSION_SSL3 },
    { "version: TLS1.2 without v", "TLS1.2", TLS_VERSION_UNKNOWN },
    { "version: bare 1.2", "1.2", TLS_VERSION_UNKNOWN },
    { "version: leading space", " TLSv1.2", TLS_VERSION_UNKNOWN },
    { "version: trailing space", "TLSv1.2 ", TLS_VERSION_UNKNOWN },
    { "version: trailing newline", "TLSv1.3\n", TLS_VERSION_UNKNOWN },
    { "version: TLSv1.4", "TLSv1.4", TLS_VERSION_UNKNOWN },
    { "version: TLSv12", "TLSv12", TLS_VERSION_UNKNOWN },
    { "version: TLSv1.", "TLSv1.", TLS_VERSION_UNKNOWN },
    { "version: SSLv2", "SSLv2", TLS_VERSION_UNKNOWN },
    { "version: empty", "", TLS_VERSION_UNKNOWN },
    { "version: NULL", NULL, TLS_VERSION_UNKNOWN },
};

static void
test_version(void **state)
{
    const struct version_case *c = *state;
    int got = tls_version_parse(c->in);

    if (got != c->want)
        fail_msg("\"%s\": got %d, want %d", c->in ? c->in : "(null)", got, c->want);
}

struct vname_case {
    const char *name;
    int         version;
    const char *want;
};

static const struct vname_case vname_cases[] = {
    { "version name: SSLv3", TLS_VERSION_SSL3, "SSLv3" },
    { "version name: TLSv1", TLS_VERSION_TLS1, "TLSv1" },
    { "version name: TLSv1.1", TLS_VERSION_TLS1_1, "TLSv1.1" },
    { "version name: TLSv1.2", TLS_VERSION_TLS1_2, "TLSv1.2" },
    { "version name: TLSv1.3", TLS_VERSION_TLS1_3, "TLSv1.3" },
    { "version name: unknown", TLS_VERSION_UNKNOWN, "unknown" },
    { "version name: out of range", 42, "unknown" },
};

static void
test_vname(void **state)
{
    const struct vname_case *c = *state;
    const char *got = tls_version_name(c->version);

    if (strcmp(got, c->want) != 0)
        fail_msg("%d: got \"%s\", want \"%s\"", c->version, got, c->want);
    /* A name we print must parse back to the same version. */
    if (c->version >= TLS_VERSION_SSL3 && c->version <= TLS_VERSION_TLS1_3 &&
        tls_version_parse(got) != c->version)
        fail_msg("\"%s\" parses to %d, want %d", got, tls_version_parse(got), c->version);
}

/* min_version rules compare enum values, so newer must be greater. */
static void
test_version_order(void **state)
{
    static const char *const order[] = { "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3" };
    size_t i;

    (void)state;
    for (i = 1; i < N(order); i++)
        if (!(tls_version_parse(order[i - 1]) < tls_version_parse(order[i])))
            fail_msg("got %s (%d) >= %s (%d), want older < newer", order[i - 1],
                     tls_version_parse(order[i - 1]), order[i], tls_version_parse(order[i]));
    if (!(TLS_VERSION_UNKNOWN < tls_version_parse("SSLv3")))
        fail_msg("got unknown >= SSLv3, want unknown below every version");
}

/* ---- ciphers ---- */

struct cipher_case {
    const char *name;
    const char *cipher;           /* "LONG": a 10,000-character name */
    bool        known;
    bool        fs;
    bool        tls13;
    int         bits;
    const char *kx;
};

static const struct cipher_case cipher_cases[] = {
    { "cipher: TLS_AES_256_GCM_SHA384 (Postfix/Sendmail TLS 1.3)", "TLS_AES_256_GCM_SHA384",
      true, true, true, 256, "any" },
    { "cipher: TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", true, true, true, 128, "any" },
    { "cipher: TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256",
      true, true, true, 256, "any" },
    { "cipher: TLS_AES_128_CCM_SHA256 (not a default suite)", "TLS_AES_128_CCM_SHA256",
      true, true, true, 128, "any" },
    { "cipher: ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
      true, true, false, 256, "ECDHE" },
    { "cipher: IANA TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", true, true, false, 256, "ECDHE" },
    { "cipher: ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
      true, true, false, 128, "ECDHE" },
    { "cipher: AES256-GCM-SHA384 (RSA key exchange)", "AES256-GCM-SHA384",
      true, false, false, 256, "RSA" },
    { "cipher: IANA TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_RSA_WITH_AES_256_GCM_SHA384",
      true, false, false, 256, "RSA" },
    { "cipher: AES128-SHA", "AES128-SHA", true, false, false, 128, "RSA" },
    { "cipher: IANA TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA",
      true, false, false, 128, "RSA" },
    { "cipher: ECDHE-RSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
      true, true, false, 256, "ECDHE" },
    { "cipher: ECDHE-RSA-AES256-SHA (TLSv1/1.1 scenarios)", "ECDHE-RSA-AES256-SHA",
      true, true, false, 256, "ECDHE" },
    { "cipher: DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-AES256-GCM-SHA384",
      true, true, false, 256, "DHE" },
    { "cipher: ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256",
      true, true, false, 128, "ECDHE" },
    { "cipher: PSK-AES128-CBC-SHA", "PSK-AES128-CBC-SHA", true, false, false, 128, "PSK" },
    { "cipher: ECDHE-PSK-AES128-CBC-SHA256", "ECDHE-PSK-AES128-CBC-SHA256",
      true, true, false, 128, "ECDHEPSK" },
    { "cipher: NULL-SHA is known, with 0 bits", "NULL-SHA", true, false, false, 0, "RSA" },
    { "cipher: FOO", "FOO", false, false, false, 0, NULL },
    { "cipher: empty", "", false, false, false, 0, NULL },
    { "cipher: NULL", NULL, false, false, false, 0, NULL },
    { "cipher: 10,000 characters", "LONG", false, false, false, 0, NULL },
    { "cipher: lower-case spelling is not OpenSSL's", "ecdhe-rsa-aes256-gcm-sha384",
      false, false, false, 0, NULL },
    { "cipher: trailing space", "ECDHE-RSA-AES256-GCM-SHA384 ", false, false, false, 0, NULL },
    { "cipher: prefix of a name", "ECDHE-RSA-AES256", false, false, false, 0, NULL },
    { "cipher: guessed from parts", "ECDHE-RSA-AES512-GCM-SHA384", false, false, false, 0, NULL },
    { "cipher: OpenSSL cipher-string keyword", "HIGH", false, false, false, 0, NULL },
};

static void
test_cipher(void **state)
{
    const struct cipher_case *c = *state;
    struct tls_cipher_info info;
    char *longname = NULL;
    const char *name = c->cipher;
    int rc;

    if (name != NULL && strcmp(name, "LONG") == 0) {
        longname = malloc(10001);
        assert_non_null(longname);
        memset(longname, 'A', 10000);
        longname[10000] = '\0';
        name = longname;
    }
    memset(&info, 0xa5, sizeof info);
    rc = tls_cipher_lookup(name, &info);
    free(longname);
    if (rc == -2)
        fail_msg("got -2: OpenSSL's cipher table could not be built");
    if (!c->known) {
        if (rc != -1 || info.known)
            fail_msg("got rc %d known %d, want rc -1 and unknown", rc, info.known);
        if (info.forward_secret || info.tls13 || info.bits != 0)
            fail_msg("unknown cipher: got fs %d tls13 %d bits %d, want all cleared",
                     info.forward_secret, info.tls13, info.bits);
        return;
    }
    if (rc != 0 || !info.known)
        fail_msg("got rc %d known %d, want rc 0 and known", rc, info.known);
    if (info.forward_secret != c->fs)
        fail_msg("forward_secret: got %d, want %d", info.forward_secret, c->fs);
    if (info.tls13 != c->tls13)
        fail_msg("tls13: got %d, want %d", info.tls13, c->tls13);
    if (info.bits != c->bits)
        fail_msg("bits: got %d, want %d", info.bits, c->bits);
    assert_non_null(info.kx);
    if (strcmp(info.kx, c->kx) != 0)
        fail_msg("kx: got \"%s\", want \"%s\"", info.kx, c->kx);
}

/* The first lookups race on the table build; pthread_once must give every
 * thread the same finished table. Runs first, before any other lookup. */
#define RACE_THREADS 8

static void *
race_one(void *arg)
{
    struct tls_cipher_info info;
    int *ok = arg;

    *ok = tls_cipher_lookup("ECDHE-RSA-AES256-GCM-SHA384", &info) == 0 && info.known &&
          info.forward_secret && info.bits == 256 &&
          tls_cipher_lookup("AES128-SHA", &info) == 0 && !info.forward_secret;
    return NULL;
}

static void
test_cipher_race(void **state)
{
    pthread_t t[RACE_THREADS];
    int ok[RACE_THREADS];
    size_t i;

    (void)state;
    for (i = 0; i < RACE_THREADS; i++) {
        ok[i] = 0;
        assert_int_equal(pthread_create(&t[i], NULL, race_one, &ok[i]), 0);
    }
    for (i = 0; i < RACE_THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (i = 0; i < RACE_THREADS; i++)
        if (!ok[i])
            fail_msg("thread %zu: got wrong facts for a concurrent first lookup, want correct", i);
}

static void
test_cipher_null_info(void **state)
{
    (void)state;
    if (tls_cipher_lookup("AES128-SHA", NULL) != 0)
        fail_msg("got failure with info == NULL, want 0");
    if (tls_cipher_lookup("FOO", NULL) != -1)
        fail_msg("got success for FOO with info == NULL, want -1");
}

int
main(void)
{
    struct table_tests tt = { 0 };

    table_test_add(&tt, "cipher: concurrent first lookups", test_cipher_race, NULL);
    TABLE_TEST_ROWS(&tt, version_cases, name, test_version);
    TABLE_TEST_ROWS(&tt, vname_cases, name, test_vname);
    table_test_add(&tt, "version: order SSLv3 < TLSv1 < ... < TLSv1.3", test_version_order, NULL);
    TABLE_TEST_ROWS(&tt, cipher_cases, name, test_cipher);
    table_test_add(&tt, "cipher: info may be NULL", test_cipher_null_info, NULL);
    return table_test_run(&tt, "tls_facts", NULL, NULL);
}
