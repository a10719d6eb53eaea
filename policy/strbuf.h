/*
 * strbuf.h -- the one growable byte buffer, with a sticky out-of-memory flag so
 * that builders can append freely and check for failure once at the end.
 * Never: escapes (esc.h does), logs, or aborts.
 * Diagnostics: none; out of memory sets b->oom and later appends do nothing.
 */
#ifndef POLICY_STRBUF_H
#define POLICY_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
    char  *s;          /* always NUL-terminated once anything was appended */
    size_t len;
    size_t cap;
    bool   oom;        /* an append failed: the content is incomplete */
};

void  strbuf_init(struct strbuf *b);
void  strbuf_free(struct strbuf *b);
void  strbuf_reset(struct strbuf *b);
void  strbuf_putc(struct strbuf *b, char c);
void  strbuf_putn(struct strbuf *b, const char *s, size_t n);
void  strbuf_puts(struct strbuf *b, const char *s);
/* v in decimal, without printf's cost on the per-message path. */
void  strbuf_putu(struct strbuf *b, unsigned long v);
void  strbuf_printf(struct strbuf *b, const char *fmt, ...)
      __attribute__((format(printf, 2, 3)));
void  strbuf_vprintf(struct strbuf *b, const char *fmt, va_list ap)
      __attribute__((format(printf, 2, 0)));
/* The text so far ("" when empty); never NULL. */
const char *strbuf_str(const struct strbuf *b);
/* Hand the string to the caller (NULL when out of memory); the buffer is reset. */
char *strbuf_take(struct strbuf *b);

#endif
