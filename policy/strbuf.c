/*
 * strbuf.c -- the one growable byte buffer of the project: every text builder
 * of the daemon and of tlspolicy(1) (headers, log lines, JSON) appends to it.
 * Owns: allocation and growth of the buffer. Never: interprets or escapes the
 * bytes (that is esc.c), never aborts on out of memory (the flag is sticky).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

void
strbuf_init(struct strbuf *b)
{
    b->s = NULL;
    b->len = 0;
    b->cap = 0;
    b->oom = false;
}

void
strbuf_free(struct strbuf *b)
{
    free(b->s);
    strbuf_init(b);
}

void
strbuf_reset(struct strbuf *b)
{
    b->len = 0;
    b->oom = false;
    if (b->s != NULL)
        b->s[0] = '\0';
}

/* Make room for n more bytes plus the NUL. */
static bool
strbuf_grow(struct strbuf *b, size_t n)
{
    size_t want, ncap;
    char *ns;

    if (b->oom)
        return false;
    if (n > SIZE_MAX / 2 - b->len - 1) {
        b->oom = true;
        return false;
    }
    want = b->len + n + 1;
    if (want <= b->cap)
        return true;
    /* A posture line or header is a few hundred bytes: start there, so the
     * usual message costs one allocation per buffer, not four. */
    ncap = b->cap ? b->cap : 512;
    while (ncap < want)
        ncap *= 2;
    ns = realloc(b->s, ncap);
    if (ns == NULL) {
        b->oom = true;
        return false;
    }
    b->s = ns;
    b->cap = ncap;
    return true;
}

void
strbuf_putn(struct strbuf *b, const char *s, size_t n)
{
    if (!strbuf_grow(b, n))
        return;
    if (n > 0)
        memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void
strbuf_putc(struct strbuf *b, char c)
{
    if (b->len + 2 <= b->cap && !b->oom) {        /* room for c and the NUL */
        b->s[b->len++] = c;
        b->s[b->len] = '\0';
        return;
    }
    strbuf_putn(b, &c, 1);
}

void
strbuf_puts(struct strbuf *b, const char *s)
{
    if (s != NULL)
        strbuf_putn(b, s, strlen(s));
}

void
strbuf_putu(struct strbuf *b, unsigned long v)
{
    char d[24];
    size_t i = sizeof d;

    do
        d[--i] = (char)('0' + v % 10);
    while ((v /= 10) != 0 && i > 0);
    strbuf_putn(b, d + i, sizeof d - i);
}

void
strbuf_vprintf(struct strbuf *b, const char *fmt, va_list ap)
{
    va_list again;
    size_t room;
    int n;

    /* Format once into the room already there; only a longer result needs a
     * second pass after growing. */
    if (!strbuf_grow(b, 0))
        return;
    room = b->cap - b->len;
    va_copy(again, ap);
    n = vsnprintf(b->s + b->len, room, fmt, ap);
    if (n >= 0 && (size_t)n >= room && strbuf_grow(b, (size_t)n))
        n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, again);
    va_end(again);
    if (b->oom)
        return;
    if (n < 0) {
        b->oom = true;
        return;
    }
    b->len += (size_t)n;
}

void
strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    strbuf_vprintf(b, fmt, ap);
    va_end(ap);
}

const char *
strbuf_str(const struct strbuf *b)
{
    return b->s != NULL ? b->s : "";
}

char *
strbuf_take(struct strbuf *b)
{
    char *s = NULL;

    if (!b->oom) {
        s = b->s != NULL ? b->s : strdup("");
        b->s = NULL;
    }
    strbuf_free(b);
    return s;
}
