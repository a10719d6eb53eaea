/*
 * fingerprint.c -- reads the SHA-256 fingerprints of the connectors file
 * (require/match certificate_fingerprints and public_key_fingerprints, and
 * root or issuer names given by fingerprint) into the form the session facts
 * use: 64 lower-case hex digits, no colons (policy/facts.c builds the same
 * form from what the MTA sends).
 * Never: allocates, does I/O, or takes a digest by its length alone: the
 * "sha256:" prefix is required, so a pasted MD5 or SHA-1 is an error.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fingerprint.h"

#define FP_PREFIX     FINGERPRINT_PREFIX
#define FP_PREFIX_LEN (sizeof(FP_PREFIX) - 1)

bool
fingerprint_is(const char *s)
{
    return s != NULL && strncasecmp(s, FP_PREFIX, FP_PREFIX_LEN) == 0;
}

const char *
fingerprint_parse(const char *s, char out[FINGERPRINT_SIZE])
{
    size_t n = 0;

    out[0] = '\0';
    if (!fingerprint_is(s))
        return "\"sha256:\" followed by 64 hex digits, e.g. sha256:3556...2308 as "
               "openssl x509 -noout -fingerprint -sha256 prints it";
    for (const char *p = s + FP_PREFIX_LEN; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;

        /* a colon only between two whole bytes, as openssl and the MTAs print it */
        if (c == ':' && n > 0 && n % 2 == 0 && p[1] != ':' && p[1] != '\0')
            continue;
        if (!isxdigit(c))
            return "64 hex digits after \"sha256:\" (0-9, a-f, colons only between bytes)";
        if (n == FINGERPRINT_HEX_LEN)
            return "exactly 64 hex digits after \"sha256:\" (a SHA-256 is 32 bytes)";
        out[n++] = (char)tolower(c);
    }
    out[n] = '\0';
    if (n != FINGERPRINT_HEX_LEN) {
        out[0] = '\0';
        return n == 32 ? "64 hex digits after \"sha256:\" (32 is an MD5 digest)"
             : n == 40 ? "64 hex digits after \"sha256:\" (40 is a SHA-1 digest)"
                       : "exactly 64 hex digits after \"sha256:\" (a SHA-256 is 32 bytes)";
    }
    return NULL;
}

void
fingerprint_short(const char *hex, char out[FINGERPRINT_SHORT_SIZE])
{
    size_t len = strlen(hex);

    (void)snprintf(out, FINGERPRINT_SHORT_SIZE, "sha256:%.16s%s", hex, len > 16 ? "..." : "");
}
