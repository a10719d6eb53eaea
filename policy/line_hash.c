/*
 * line_hash.c -- SHA-256 of a posture line in lower-case hex (line_hash.h).
 * Never: touches a file, logs, or exits; it is a thin shell over OpenSSL's EVP
 * so that the writer and the checker of the chain cannot drift apart.
 */
#include <openssl/evp.h>

#include "line_hash.h"

struct line_hash {
    EVP_MD_CTX *ctx;
    int ok;
};

struct line_hash *
line_hash_begin(void)
{
    struct line_hash *h = OPENSSL_zalloc(sizeof *h);

    if (h == NULL)
        return NULL;
    if ((h->ctx = EVP_MD_CTX_new()) == NULL) {
        OPENSSL_free(h);
        return NULL;
    }
    h->ok = EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
    return h;
}

void
line_hash_update(struct line_hash *h, const void *p, size_t n)
{
    if (h != NULL && h->ok == 1 && n > 0)
        h->ok = EVP_DigestUpdate(h->ctx, p, n);
}

int
line_hash_end(struct line_hash *h, char out[LINE_HASH_HEX + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    size_t i;
    int rc = -1;

    out[0] = '\0';
    if (h == NULL)
        return -1;
    if (h->ok == 1 && EVP_DigestFinal_ex(h->ctx, md, &len) == 1 && len * 2 == LINE_HASH_HEX) {
        for (i = 0; i < len; i++) {
            out[2 * i] = hex[md[i] >> 4];
            out[2 * i + 1] = hex[md[i] & 15];
        }
        out[LINE_HASH_HEX] = '\0';
        rc = 0;
    }
    EVP_MD_CTX_free(h->ctx);
    OPENSSL_free(h);
    return rc;
}

int
line_hash(const void *p, size_t n, char out[LINE_HASH_HEX + 1])
{
    struct line_hash *h = line_hash_begin();

    if (h == NULL) {
        out[0] = '\0';
        return -1;
    }
    line_hash_update(h, p, n);
    return line_hash_end(h, out);
}
