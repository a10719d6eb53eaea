/*
 * strfmt.c -- the one place in policy/ that measures a format, allocates exactly
 * enough and formats again, so that reasons, notes and diagnostics are never cut
 * and never written into a fixed-size buffer.
 * Never: logs, exits, or returns a string shorter than the format asked for.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "strfmt.h"

/* The work of both entry points; they never call each other, because
 * gcc -fanalyzer reads an allocator (strfmt.h) calling another allocator of the
 * same file as a leak. */
static char *strfmt_va(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static char *
strfmt_va(const char *fmt, va_list ap)
{
    va_list aq;
    char *s = NULL;
    int len;

    va_copy(aq, ap);
    len = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (len < 0 || (s = malloc((size_t)len + 1)) == NULL)
        goto out;
    /* A second pass that disagrees with the first (a locale or argument that
     * changed underneath) is an error, not a truncated string. */
    if (vsnprintf(s, (size_t)len + 1, fmt, ap) != len) {
        free(s);
        s = NULL;
    }
out:
    return s;
}

char *
vstrfmt(const char *fmt, va_list ap)
{
    return strfmt_va(fmt, ap);
}

char *
strfmt(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = strfmt_va(fmt, ap);
    va_end(ap);
    return s;
}

void
strfmt_set(char **dst, const char *fmt, ...)
{
    va_list ap;

    if (dst == NULL)
        return;
    free(*dst);
    va_start(ap, fmt);
    *dst = strfmt_va(fmt, ap);
    va_end(ap);
}
