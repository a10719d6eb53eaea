/*
 * cert_name.c -- RFC 6125 host names: whether a name a certificate presents (CN
 * or DNS SAN, perhaps a left-most wildcard) matches a reference identifier from
 * the connectors file, and whether such a reference is well formed.
 * Never: logs or exits, parses DNs (cert_dn.c does), accepts a wildcard RFC 6125
 * forbids, or lets a locale change what compares equal (ASCII only).
 */
#include "cert_name.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"

/* RFC 1035: a host name is at most 253 characters without the trailing dot. */
#define CERT_NAME_MAX     253
#define CERT_LABEL_MAX    63

/* Length without one trailing dot (the root); 0 for an empty name. */
static size_t
hn_len(const char *s)
{
    size_t n = strlen(s);

    if (n > 0 && s[n - 1] == '.')
        n--;
    return n;
}

/* Number of labels, or 0 when a label is empty or a byte is not printable
 * ASCII (a presented name like that is never a host name). */
static size_t
hn_labels(const char *s, size_t n)
{
    size_t i, labels = 1, cur = 0;

    if (n == 0)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c <= ' ' || c > '~')
            return 0;
        if (c == '.') {
            if (cur == 0)
                return 0;
            labels++;
            cur = 0;
        } else {
            cur++;
        }
    }
    return cur == 0 ? 0 : labels;
}

/* RFC 6125 6.4.3: a wildcard never stands for an IDN A-label. */
static bool
hn_alabel(const char *label, size_t n)
{
    return n >= 4 && ascii_caseeq(label, 4, "xn--", 4);
}

/* Is name (length n) a wildcard "*.rest" with at least two labels in rest, and
 * no other '*'? Sets *bad when the name holds a '*' that is not such a wildcard. */
static bool
hn_wildcard(const char *name, size_t n, bool *bad)
{
    bool wild = n >= 2 && name[0] == '*' && name[1] == '.';
    size_t from = wild ? 1 : 0;

    *bad = memchr(name + from, '*', n - from) != NULL;
    if (wild && hn_labels(name + 2, n - 2) < 2)
        *bad = true;
    return wild && !*bad;
}

/* Does the one-label wildcard "*.rest" (rest given) cover the exact name? */
static bool
hn_wild_covers(const char *rest, size_t restn, const char *name, size_t n)
{
    const char *dot = memchr(name, '.', n);

    if (dot == NULL || hn_alabel(name, (size_t)(dot - name)))
        return false;
    return ascii_caseeq(dot + 1, n - (size_t)(dot + 1 - name), rest, restn);
}

bool
cert_name_match(const char *reference, const char *presented)
{
    size_t rn, pn;
    bool rwild, pwild, rbad, pbad;

    if (reference == NULL || presented == NULL)
        return false;
    rn = hn_len(reference);
    pn = hn_len(presented);
    if (hn_labels(reference, rn) == 0 || hn_labels(presented, pn) == 0)
        return false;
    rwild = hn_wildcard(reference, rn, &rbad);
    pwild = hn_wildcard(presented, pn, &pbad);
    if (rbad || pbad)
        return false;
    if (rwild == pwild)
        return ascii_caseeq(reference, rn, presented, pn);
    if (pwild)
        return hn_wild_covers(presented + 2, pn - 2, reference, rn);
    return hn_wild_covers(reference + 2, rn - 2, presented, pn);
}

const char *
cert_name_pattern_check(const char *pattern)
{
    const char *p;
    size_t n, i, cur = 0, labels = 1;
    bool wild = false;

    if (pattern == NULL || (n = hn_len(pattern)) == 0)
        return "empty host name";
    if (n > CERT_NAME_MAX)
        return "host name longer than 253 characters";
    p = pattern;
    if (n >= 2 && p[0] == '*' && p[1] == '.') {
        wild = true;
        p += 2;
        n -= 2;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];

        if (c == '.') {
            if (cur == 0)
                return "empty label in host name (leading dot or \"..\")";
            if (p[i - 1] == '-')
                return "host name label ends with '-'";
            labels++;
            cur = 0;
            continue;
        }
        if (c == '*')
            return "a wildcard must be the whole left-most label, as in \"*.example.com\"";
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return "host name holds a character other than letters, digits, '-' and '.'";
        if (c == '-' && cur == 0)
            return "host name label starts with '-'";
        if (++cur > CERT_LABEL_MAX)
            return "host name label longer than 63 characters";
    }
    if (cur == 0)
        return "empty label in host name (leading dot or \"..\")";
    if (p[n - 1] == '-')
        return "host name label ends with '-'";
    if (wild && labels < 2)
        return "a wildcard needs at least two labels after \"*.\" (\"*.example.com\", not \"*.com\")";
    return NULL;
}
