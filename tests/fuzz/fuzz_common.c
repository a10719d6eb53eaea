/*
 * fuzz_common.c -- input splitting shared by the fuzz targets, and the guard
 * around trust_store_load (linked with -Wl,--wrap=trust_store_load) that lets a
 * fuzzed connectors file open only the test PKI's trust.pem and ints.pem.
 * Never: lets fuzzer-chosen paths reach the file system (a path such as /proc
 * or /dev would block or read the host's secrets).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "trust_store.h"

int fuzz_split(const uint8_t *data, size_t size, char **out, int max)
{
    int n = 0;
    size_t off = 0;
    while (n < max) {
        const uint8_t *nul = off < size ? memchr(data + off, '\0', size - off) : NULL;
        size_t len = (nul == NULL || n == max - 1) ? size - off : (size_t)(nul - (data + off));
        char *s = malloc(len + 1);
        if (s == NULL) {
            fuzz_fields_free(out, n);
            return -1;
        }
        if (len > 0)
            memcpy(s, data + off, len);
        s[len] = '\0';
        out[n++] = s;
        off += len;
        if (off >= size)
            break;
        off++;                    /* the separator */
    }
    return n;
}

void fuzz_fields_free(char **v, int n)
{
    for (int i = 0; i < n; i++) {
        free(v[i]);
        v[i] = NULL;
    }
}

int fuzz_macros(const uint8_t *data, size_t size, struct policy_macros *m, char **fields)
{
    static const enum policy_mta mtas[] = { POLICY_MTA_AUTO, POLICY_MTA_POSTFIX, POLICY_MTA_SENDMAIL };
    unsigned present = 0xffff;
    memset(m, 0, sizeof *m);
    m->mta = POLICY_MTA_AUTO;
    if (size >= 1) {
        m->mta = mtas[data[0] % 3];
        data++;
        size--;
    }
    if (size >= 2) {
        present = (unsigned)data[0] | (unsigned)data[1] << 8;
        data += 2;
        size -= 2;
    }
    int n = fuzz_split(data, size, fields, FUZZ_NFIELDS);
    if (n < 0)
        return -1;
    const char **slot[FUZZ_NFIELDS - 1] = {
        &m->mta_version, &m->client_addr, &m->client_name, &m->helo, &m->sender,
        &m->tls_version, &m->cipher, &m->cipher_bits, &m->cert_subject, &m->cert_issuer,
        &m->verify,
    };
    for (int i = 0; i < FUZZ_NFIELDS - 1 && i < n; i++)
        if (present & (1u << i))
            *slot[i] = fields[i];
    return n;
}

const char *fuzz_pki_dir(void)
{
    const char *d = getenv("TLSPOLICY_TEST_PKI");
    return d && *d ? d : NULL;
}

static bool is_file_of_pki(const char *path, const char *name)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strcmp(base, name) == 0;
}

struct trust_store *__real_trust_store_load(const char *bundle, const char *const *intermediates,
                                            size_t n, char **err);
struct trust_store *__wrap_trust_store_load(const char *bundle, const char *const *intermediates,
                                            size_t n, char **err);

/* Any bundle named trust.pem (or the built-in default) becomes the test PKI's
 * trust.pem, any intermediate named ints.pem its ints.pem; everything else is
 * refused with an error the loader reports like a missing file. */
struct trust_store *__wrap_trust_store_load(const char *bundle, const char *const *intermediates,
                                            size_t n, char **err)
{
    const char *dir = fuzz_pki_dir();
    char trust[4096], ints[4096];
    const char *iv[4];
    if (dir == NULL || n > 4 || bundle == NULL
        || (!is_file_of_pki(bundle, "trust.pem")
            && strcmp(bundle, "/etc/ssl/certs/ca-certificates.crt") != 0))
        goto refuse;
    for (size_t i = 0; i < n; i++)
        if (intermediates[i] == NULL || !is_file_of_pki(intermediates[i], "ints.pem"))
            goto refuse;
    if (snprintf(trust, sizeof trust, "%s/trust.pem", dir) >= (int)sizeof trust
        || snprintf(ints, sizeof ints, "%s/ints.pem", dir) >= (int)sizeof ints)
        goto refuse;
    for (size_t i = 0; i < n; i++)
        iv[i] = ints;
    return __real_trust_store_load(trust, n ? iv : NULL, n, err);
refuse:
    if (err != NULL) {
        *err = strdup("refused by the fuzz harness (only trust.pem and ints.pem of the test PKI)");
        if (*err == NULL)
            errno = ENOMEM;
    }
    return NULL;
}
