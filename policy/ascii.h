/*
 * ascii.h -- ASCII-only case folding for the certificate-name modules: DN
 * attribute types and host names compare case-insensitively in ASCII alone.
 * Never: depends on the locale (tolower(3) and strcasecmp(3) may), or touches
 * a byte outside A-Z.
 */
#ifndef ASCII_H
#define ASCII_H

#include <stdbool.h>
#include <stddef.h>

static inline unsigned char
ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Two counted strings equal but for ASCII case. */
static inline bool
ascii_caseeq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
            return false;
    return true;
}

#endif
