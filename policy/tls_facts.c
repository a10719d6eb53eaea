/*
 * tls_facts.c -- protocol version names and cipher suite facts (key exchange,
 * forward secrecy, strength), the latter taken from the linked OpenSSL's own
 * cipher table, built once per process.
 * Never: infers anything from the spelling of a cipher name; a name OpenSSL does
 * not list is unknown and the caller fails closed. Never logs or exits.
 */
#include "tls_facts.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>

static const struct {
    const char *name;
    int version;
} tls_versions[] = {
    { "SSLv3",   TLS_VERSION_SSL3 },
    { "TLSv1",   TLS_VERSION_TLS1 },
    { "TLSv1.0", TLS_VERSION_TLS1 },
    { "TLSv1.1", TLS_VERSION_TLS1_1 },
    { "TLSv1.2", TLS_VERSION_TLS1_2 },
    { "TLSv1.3", TLS_VERSION_TLS1_3 },
};

int
tls_version_parse(const char *s)
{
    size_t i;

    if (s == NULL)
        return TLS_VERSION_UNKNOWN;
    /* The strings are pure ASCII letters, digits and '.', so strcasecmp's
     * locale cannot make anything else compare equal. */
    for (i = 0; i < sizeof tls_versions / sizeof tls_versions[0]; i++)
        if (strcasecmp(s, tls_versions[i].name) == 0)
            return tls_versions[i].version;
    return TLS_VERSION_UNKNOWN;
}

const char *
tls_version_name(int version)
{
    switch (version) {
    case TLS_VERSION_SSL3:   return "SSLv3";
    case TLS_VERSION_TLS1:   return "TLSv1";
    case TLS_VERSION_TLS1_1: return "TLSv1.1";
    case TLS_VERSION_TLS1_2: return "TLSv1.2";
    case TLS_VERSION_TLS1_3: return "TLSv1.3";
    default:                 return "unknown";
    }
}

/* Every TLS 1.3 suite OpenSSL implements, not only the default three, so that a
 * peer negotiating a CCM suite is still recognised. */
#define TLS_FACTS_TLS13_SUITES \
    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:" \
    "TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256"
/* Security level 0 and COMPLEMENTOFALL: the table must know weak and NULL
 * suites too, so that policy can reject them by their facts rather than by
 * "unknown". */
#define TLS_FACTS_CIPHERS "ALL:COMPLEMENTOFALL:@SECLEVEL=0"

struct cipher_entry {
    char *name;                   /* OpenSSL or IANA name; one entry per name */
    struct tls_cipher_info info;
};

/*
 * The table is written once under pthread_once and only read afterwards; it
 * lives for the whole process and is deliberately never freed.
 */
static pthread_once_t cipher_once = PTHREAD_ONCE_INIT;
static struct cipher_entry *cipher_table;
static size_t cipher_count;
static int cipher_state = -2;     /* 0 once the table is built */

static void
cipher_kx(int nid, struct tls_cipher_info *info)
{
    switch (nid) {
    case NID_kx_ecdhe:     info->kx = "ECDHE";    info->forward_secret = true; break;
    case NID_kx_dhe:       info->kx = "DHE";      info->forward_secret = true; break;
    case NID_kx_ecdhe_psk: info->kx = "ECDHEPSK"; info->forward_secret = true; break;
    case NID_kx_dhe_psk:   info->kx = "DHEPSK";   info->forward_secret = true; break;
    /* TLS 1.3 suites leave key exchange to the handshake, which is always (EC)DHE
     * for certificate-authenticated sessions. */
    case NID_kx_any:       info->kx = "any";      info->forward_secret = true; break;
    case NID_kx_rsa:       info->kx = "RSA";      break;
    case NID_kx_psk:       info->kx = "PSK";      break;
    case NID_kx_rsa_psk:   info->kx = "RSAPSK";   break;
    case NID_kx_srp:       info->kx = "SRP";      break;
    case NID_kx_gost:      info->kx = "GOST";     break;
    case NID_kx_gost18:    info->kx = "GOST18";   break;
    default:               info->kx = "unknown";  break;
    }
}

static int
cipher_cmp(const void *a, const void *b)
{
    return strcmp(((const struct cipher_entry *)a)->name, ((const struct cipher_entry *)b)->name);
}

static int
cipher_key_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct cipher_entry *)elem)->name);
}

static void
cipher_table_build(void)
{
    SSL_CTX *ctx = NULL;
    STACK_OF(SSL_CIPHER) *sk;
    struct cipher_entry *t = NULL;
    size_t n = 0, i, j;
    int num = 0, k;

    if (OPENSSL_init_ssl(0, NULL) != 1)
        goto out;
    if ((ctx = SSL_CTX_new(TLS_method())) == NULL)
        goto out;
    SSL_CTX_set_security_level(ctx, 0);
    if (SSL_CTX_set_cipher_list(ctx, TLS_FACTS_CIPHERS) != 1 ||
        SSL_CTX_set_ciphersuites(ctx, TLS_FACTS_TLS13_SUITES) != 1)
        goto out;
    if ((sk = SSL_CTX_get_ciphers(ctx)) == NULL || (num = sk_SSL_CIPHER_num(sk)) <= 0)
        goto out;
    /* Two names per suite at most: OpenSSL's and the IANA one. */
    if ((t = calloc(2 * (size_t)num, sizeof *t)) == NULL)
        goto out;
    for (k = 0; k < num; k++) {
        const SSL_CIPHER *c = sk_SSL_CIPHER_value(sk, k);
        const char *names[2];
        struct tls_cipher_info info;

        if (c == NULL)
            continue;
        memset(&info, 0, sizeof info);
        info.known = true;
        info.bits = SSL_CIPHER_get_bits(c, NULL);
        cipher_kx(SSL_CIPHER_get_kx_nid(c), &info);
        /* SSL_CIPHER_get_kx_nid(3): NID_kx_any means a TLS 1.3 suite. */
        info.tls13 = SSL_CIPHER_get_kx_nid(c) == NID_kx_any;
        names[0] = SSL_CIPHER_get_name(c);
        names[1] = SSL_CIPHER_standard_name(c);
        for (j = 0; j < 2; j++) {
            if (names[j] == NULL || *names[j] == '\0' || (j == 1 && names[0] != NULL &&
                                                          strcmp(names[0], names[1]) == 0))
                continue;
            /* Copied: OpenSSL documents no lifetime for these strings beyond
             * the context, which is freed below. */
            if ((t[n].name = strdup(names[j])) == NULL)
                goto out;
            t[n].info = info;
            n++;
        }
    }
    if (n == 0)
        goto out;
    qsort(t, n, sizeof *t, cipher_cmp);
    /* Drop duplicate names (none expected; bsearch needs them gone anyway). */
    for (i = 1, j = 1; i < n; i++) {
        if (strcmp(t[i].name, t[j - 1].name) == 0)
            free(t[i].name);
        else
            t[j++] = t[i];
    }
    n = j;
    cipher_table = t;
    cipher_count = n;
    cipher_state = 0;
    t = NULL;
out:
    if (t != NULL) {
        for (i = 0; i < 2 * (size_t)num; i++)
            free(t[i].name);
        free(t);
    }
    SSL_CTX_free(ctx);
    /* Leave no OpenSSL errors behind for an unrelated caller to trip over. */
    ERR_clear_error();
}

int
tls_cipher_lookup(const char *name, struct tls_cipher_info *info)
{
    struct tls_cipher_info dummy;
    const struct cipher_entry *e;

    if (info == NULL)
        info = &dummy;
    memset(info, 0, sizeof *info);
    info->known = false;
    info->kx = "unknown";
    if (pthread_once(&cipher_once, cipher_table_build) != 0 || cipher_state != 0)
        return -2;
    if (name == NULL || *name == '\0')
        return -1;
    /* Exact, case-sensitive: both MTAs send OpenSSL's own spelling. */
    e = bsearch(name, cipher_table, cipher_count, sizeof *cipher_table, cipher_key_cmp);
    if (e == NULL)
        return -1;
    *info = e->info;
    return 0;
}
