/*
 * idna.c -- domain names to lower-case A-labels through libidn2, label by
 * label, so that the loader (once per file) and the session facts (once per
 * message) bring every spelling to the one form the match indexes compare.
 * Never: is called per comparison (the indexes compare the result as bytes),
 * hand-rolls Punycode, or lets the locale decide case (ASCII folding is ours,
 * the rest is UTS #46's).
 */
#include "idna.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "ascii.h"

/* Does label s[0..n) need libidn2: a byte above 0x7f, or an A-label to check? */
static bool
idna_label_needed(const char *s, size_t n)
{
    if (n >= 4 && ascii_caseeq(s, 4, "xn--", 4))
        return true;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return true;
    return false;
}

int
idna_needed(const char *in, size_t len)
{
    size_t start = 0;

    for (size_t i = 0; i <= len; i++)
        if (i == len || in[i] == '.') {
            if (idna_label_needed(in + start, i - start))
                return 1;
            start = i + 1;
        }
    return 0;
}

/* Append s[0..n) to out at *used, lower-cased; false when it does not fit. */
static bool
idna_put(char *out, size_t size, size_t *used, const char *s, size_t n)
{
    if (n >= size - *used)
        return false;
    for (size_t i = 0; i < n; i++)
        out[*used + i] = (char)ascii_lower((unsigned char)s[i]);
    *used += n;
    out[*used] = '\0';
    return true;
}

/* One label through libidn2. UTS #46 may map a label to several (U+3002, the
 * ideographic full stop, is a dot there), which is why the result is appended
 * as text rather than checked as one label. */
static int
idna_convert(const char *s, size_t n, char *out, size_t size, size_t *used, const char **why)
{
    char *label, *ace = NULL;
    int rc = -1, e;

    if ((label = strndup(s, n)) == NULL) {
        *why = "out of memory";
        goto out;
    }
    e = idn2_to_ascii_8z(label, &ace, IDN2_NONTRANSITIONAL);
    if (e == IDN2_MALLOC) {
        errno = ENOMEM;
        *why = "out of memory";
        goto out;
    }
    if (e != IDN2_OK) {
        *why = idn2_strerror(e);
        goto out;
    }
    if (!idna_put(out, size, used, ace, strlen(ace))) {
        *why = "a domain name of at most 253 octets in A-label form";
        goto out;
    }
    rc = 0;
out:
    idn2_free(ace);
    free(label);
    return rc;
}

long
idna_domain(const char *in, size_t len, char *out, size_t size, const char **why)
{
    size_t used = 0, start = 0;

    *why = NULL;
    if (size == 0)
        goto toolong;
    out[0] = '\0';
    for (size_t i = 0; i <= len; i++) {
        size_t n;

        if (i < len && in[i] != '.')
            continue;
        n = i - start;
        if (idna_label_needed(in + start, n)) {
            if (idna_convert(in + start, n, out, size, &used, why) < 0)
                return -1;
        } else if (!idna_put(out, size, &used, in + start, n)) {
            goto toolong;
        }
        if (i < len && !idna_put(out, size, &used, ".", 1))
            goto toolong;
        start = i + 1;
    }
    return (long)used;
toolong:
    *why = "a domain name of at most 253 octets in A-label form";
    return -1;
}
