/*
 * fingerprint.c -- "sha256:" fingerprints as written in the connectors file:
 * the prefix, then 64 hex digits in any case, with or without a colon between
 * each pair (as "openssl x509 -fingerprint" prints them), to 64 lower-case hex.
 * Never: guesses: a colon inside a pair, a doubled or trailing colon, a digit
 * too many or too few is an error, so a pasted value cut short never matches
 * a certificate by accident of its prefix.
 */
#include <stddef.h>
#include <strings.h>

#include "fingerprint.h"

static int
fp_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool
fingerprint_is(const char *s)
{
    return s != NULL && strncasecmp(s, FINGERPRINT_PREFIX, sizeof FINGERPRINT_PREFIX - 1) == 0;
}

int
fingerprint_parse(const char *s, char out[FINGERPRINT_HEX_LEN + 1], const char **why)
{
    static const char hex[] = "0123456789abcdef";
    const char *p;
    size_t n = 0;
    bool colons = false;

    out[0] = '\0';
    if (!fingerprint_is(s)) {
        *why = "expected 'sha256:' followed by 64 hex digits";
        return -1;
    }
    p = s + sizeof FINGERPRINT_PREFIX - 1;
    /* Colons are all or nothing: "ab:cd" or "abcd", never "abc:d". */
    colons = p[0] != '\0' && p[1] != '\0' && p[2] == ':';
    while (*p != '\0') {
        int hi, lo;

        if (n == FINGERPRINT_HEX_LEN) {
            *why = "more than 32 bytes (expected 64 hex digits: a SHA-256 fingerprint)";
            return -1;
        }
        if ((hi = fp_hex(p[0])) < 0 || (lo = fp_hex(p[1])) < 0) {
            *why = "not a hex digit pair (expected 64 hex digits, optionally with a colon "
                   "between each pair)";
            return -1;
        }
        out[n++] = hex[hi];
        out[n++] = hex[lo];
        p += 2;
        if (colons && *p == ':' && n < FINGERPRINT_HEX_LEN) {
            p++;
            if (*p == '\0') {
                *why = "ends in a colon (expected 64 hex digits)";
                return -1;
            }
        } else if (colons && *p != '\0' && n < FINGERPRINT_HEX_LEN) {
            *why = "a colon is missing between two hex digit pairs";
            return -1;
        }
    }
    out[n] = '\0';
    if (n != FINGERPRINT_HEX_LEN) {
        out[0] = '\0';
        *why = "fewer than 32 bytes (expected 64 hex digits: a SHA-256 fingerprint)";
        return -1;
    }
    return 0;
}
