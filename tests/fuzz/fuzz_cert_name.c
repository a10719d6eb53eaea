/*
 * fuzz_cert_name.c -- fuzz target for cert_dn.c and cert_name.c: the input's first
 * NUL-separated part goes through xtext decoding, the oneline DN parser, the
 * RFC 4514 parser and canonicalisation; the first two parts through RFC 6125
 * matching both ways and the reference-pattern check.
 * Never: assumes the decoders' output is printable or short.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cert_dn.h"
#include "cert_name.h"
#include "fuzz.h"

static void dn_round(int (*parse)(const char *, struct cert_dn *, const char **), const char *s)
{
    struct cert_dn dn = { 0 };
    const char *why = NULL;
    if (parse(s, &dn, &why) == 0) {
        char *canon = cert_dn_canonical(&dn);
        const char *cn = cert_dn_get(&dn, "CN");
        const char *o = cert_dn_get(&dn, "O");
        volatile size_t sink = (cn ? strlen(cn) : 0) + (o ? strlen(o) : 0);
        (void)sink;
        if (canon != NULL) {
            /* The loader parses canonical forms again (DN issuers in the file);
             * a value holding '/' need not survive, so only safety is checked. */
            struct cert_dn again = { 0 };
            if (cert_dn_parse_config(canon, &again, &why) == 0)
                free(cert_dn_canonical(&again));
            cert_dn_free(&again);
        }
        free(canon);
    } else if (why == NULL) {
        abort();                  /* a refusal must say why */
    }
    cert_dn_free(&dn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *f[2] = { NULL, NULL };
    int n = fuzz_split(data, size, f, 2);
    if (n < 1)
        return 0;
    const char *a = f[0], *b = n > 1 ? f[1] : "";

    size_t len = 0;
    const char *why = NULL;
    char *dec = cert_xtext_decode((const char *)data, strnlen((const char *)data, size), &len, &why);
    if (dec != NULL) {
        if (strlen(dec) != len)
            abort();              /* decoding to a NUL byte must be refused */
        dn_round(cert_dn_parse_oneline, dec);
        free(dec);
    } else if (why == NULL && errno != ENOMEM) {
        abort();
    }
    dn_round(cert_dn_parse_oneline, a);
    dn_round(cert_dn_parse_config, a);
    (void)cert_name_pattern_check(a);
    (void)cert_name_match(a, b);
    (void)cert_name_match(b, a);
    fuzz_fields_free(f, n);
    return 0;
}
