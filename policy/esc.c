/*
 * esc.c -- escaping of untrusted bytes for each place they are written to:
 * log lines, header values, JSON strings, SMTP replies, terminal text; and the
 * UTF-8 validator JSON and terminal text rely on.
 * Owns: the byte classes and every escaping rule. Never: decides what a value
 * means, truncates without saying so ("..."), or allocates outside the strbuf.
 */
#include <string.h>

#include "esc.h"

/* Byte classes, looked up once per byte on the per-message path: PLAIN bytes
 * every escaping mode copies as they are (printable ASCII but space, quote,
 * backslash, percent), SPACE and PERCENT copied where the mode allows, TOKEN
 * bytes that may stand unquoted in a log line or header parameter. */
enum { ESC_C_PLAIN = 1, ESC_C_SPACE = 2, ESC_C_PERCENT = 4, ESC_C_TOKEN = 8 };

#define ESC_P   ESC_C_PLAIN
#define ESC_PT  (ESC_C_PLAIN | ESC_C_TOKEN)
static const unsigned char esc_class[256] = {
    [' '] = ESC_C_SPACE, ['!'] = ESC_P, ['#'] = ESC_P, ['$'] = ESC_P,
    ['%'] = ESC_C_PERCENT, ['&'] = ESC_P, ['\''] = ESC_P, ['('] = ESC_P,
    [')'] = ESC_P, ['*'] = ESC_P, ['+'] = ESC_PT, [','] = ESC_P,
    ['-'] = ESC_PT, ['.'] = ESC_PT, ['/'] = ESC_PT,
    ['0'] = ESC_PT, ['1'] = ESC_PT, ['2'] = ESC_PT, ['3'] = ESC_PT,
    ['4'] = ESC_PT, ['5'] = ESC_PT, ['6'] = ESC_PT, ['7'] = ESC_PT,
    ['8'] = ESC_PT, ['9'] = ESC_PT, [':'] = ESC_PT, [';'] = ESC_P,
    ['<'] = ESC_P, ['='] = ESC_P, ['>'] = ESC_P, ['?'] = ESC_P,
    ['@'] = ESC_PT,
    ['A'] = ESC_PT, ['B'] = ESC_PT, ['C'] = ESC_PT, ['D'] = ESC_PT,
    ['E'] = ESC_PT, ['F'] = ESC_PT, ['G'] = ESC_PT, ['H'] = ESC_PT,
    ['I'] = ESC_PT, ['J'] = ESC_PT, ['K'] = ESC_PT, ['L'] = ESC_PT,
    ['M'] = ESC_PT, ['N'] = ESC_PT, ['O'] = ESC_PT, ['P'] = ESC_PT,
    ['Q'] = ESC_PT, ['R'] = ESC_PT, ['S'] = ESC_PT, ['T'] = ESC_PT,
    ['U'] = ESC_PT, ['V'] = ESC_PT, ['W'] = ESC_PT, ['X'] = ESC_PT,
    ['Y'] = ESC_PT, ['Z'] = ESC_PT,
    ['['] = ESC_P, [']'] = ESC_P, ['^'] = ESC_P, ['_'] = ESC_PT,
    ['`'] = ESC_P,
    ['a'] = ESC_PT, ['b'] = ESC_PT, ['c'] = ESC_PT, ['d'] = ESC_PT,
    ['e'] = ESC_PT, ['f'] = ESC_PT, ['g'] = ESC_PT, ['h'] = ESC_PT,
    ['i'] = ESC_PT, ['j'] = ESC_PT, ['k'] = ESC_PT, ['l'] = ESC_PT,
    ['m'] = ESC_PT, ['n'] = ESC_PT, ['o'] = ESC_PT, ['p'] = ESC_PT,
    ['q'] = ESC_PT, ['r'] = ESC_PT, ['s'] = ESC_PT, ['t'] = ESC_PT,
    ['u'] = ESC_PT, ['v'] = ESC_PT, ['w'] = ESC_PT, ['x'] = ESC_PT,
    ['y'] = ESC_PT, ['z'] = ESC_PT,
    ['{'] = ESC_P, ['|'] = ESC_P, ['}'] = ESC_P, ['~'] = ESC_P,
};
#undef ESC_P
#undef ESC_PT

static const char esc_hex[] = "0123456789ABCDEF";

size_t
esc_utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c, lo = 0x80, hi = 0xBF;
    size_t len, i;

    if (n == 0)
        return 0;
    c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4;
    else
        return 0;             /* continuation byte, C0/C1 overlong lead, F5..FF */
    /* The second byte's range is what rules out overlongs, surrogates and
     * code points beyond U+10FFFF (RFC 3629 section 4). */
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (n < len)
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

/* A byte that this escaping mode copies as it is. */
static inline bool
esc_plain(unsigned char c, enum esc_mode how)
{
    unsigned char k = esc_class[c];

    if (k & ESC_C_PLAIN)
        return true;
    switch (how) {
    case ESC_LINE:
    case ESC_DIAG:
        return c >= 0x20 && c < 0x7f;
    case ESC_TEXT:
        return c >= 0x20 && c < 0x7f && c != '\\';
    case ESC_BARE:
        return (k & ESC_C_PERCENT) != 0;
    case ESC_REPLY:
        return (k & ESC_C_SPACE) != 0;
    case ESC_QUOTED:
    case ESC_JSON:
        break;
    }
    return (k & (ESC_C_SPACE | ESC_C_PERCENT)) != 0;
}

/* "\xHH" (prefix "\\x") or "\u00HH" (prefix "\\u00") for byte c. */
static void
esc_hexbyte(struct strbuf *b, const char *prefix, unsigned char c)
{
    strbuf_puts(b, prefix);
    strbuf_putc(b, esc_hex[c >> 4]);
    strbuf_putc(b, esc_hex[c & 15]);
}

/* Copy the well-formed UTF-8 sequence at p, or escape its first byte with
 * prefix; returns the bytes consumed. */
static size_t
esc_utf8_or_hex(struct strbuf *b, const unsigned char *p, size_t n, const char *prefix)
{
    size_t ulen = p[0] >= 0x80 ? esc_utf8_len(p, n) : 0;

    if (ulen > 0) {
        strbuf_putn(b, (const char *)p, ulen);
        return ulen;
    }
    esc_hexbyte(b, prefix, p[0]);
    return 1;
}

void
esc_putn(struct strbuf *b, const char *src, size_t n, enum esc_mode how)
{
    const unsigned char *p = (const unsigned char *)src;
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = p[i];
        size_t run = i;

        /* Copy a run of bytes that need no escaping in one go: they are most of
         * every value, and this runs for each field of every message. */
        while (run < n && esc_plain(p[run], how))
            run++;
        if (run > i) {
            strbuf_putn(b, src + i, run - i);
            i = run - 1;
            continue;
        }
        switch (how) {
        case ESC_REPLY:
            /* smfi_setreply treats '%' as a format character and Postfix does
             * not undo "%%": dropping it is the only safe choice for both. */
            if (c != '%')
                strbuf_putc(b, (char)((c < 0x20 || c >= 0x7f) ? '?' : c));
            break;
        case ESC_JSON:
            if (c == '"' || c == '\\') {
                strbuf_putc(b, '\\');
                strbuf_putc(b, (char)c);
            } else if (c == '\n')
                strbuf_puts(b, "\\n");
            else if (c == '\r')
                strbuf_puts(b, "\\r");
            else if (c == '\t')
                strbuf_puts(b, "\\t");
            else
                /* A control byte; or a byte that is not UTF-8, kept as Latin-1 so
                 * that nothing is lost. */
                i += esc_utf8_or_hex(b, p + i, n - i, "\\u00") - 1;
            break;
        case ESC_TEXT:
        case ESC_DIAG:
            if (c == '\\')
                strbuf_puts(b, "\\\\");
            else
                i += esc_utf8_or_hex(b, p + i, n - i, "\\x") - 1;
            break;
        case ESC_QUOTED:
        case ESC_BARE:
        case ESC_LINE:
            if (c == '"' || c == '\\') {
                strbuf_putc(b, '\\');
                strbuf_putc(b, (char)c);
            } else
                esc_hexbyte(b, "\\x", c);
            break;
        }
    }
}

void
esc_put(struct strbuf *b, const char *src, size_t cap, enum esc_mode how)
{
    size_t n;

    if (src == NULL)
        return;
    n = strnlen(src, cap);
    esc_putn(b, src, n, how);
    if (src[n] != '\0')
        strbuf_puts(b, "...");
}

bool
esc_is_token(const char *s)
{
    const char *p;

    if (s == NULL || *s == '\0')
        return false;
    for (p = s; *p != '\0'; p++)
        if (!(esc_class[(unsigned char)*p] & ESC_C_TOKEN))
            return false;
    return true;
}

void
esc_value(struct strbuf *b, const char *src, size_t cap)
{
    if (esc_is_token(src) && strlen(src) <= cap) {
        strbuf_puts(b, src);
        return;
    }
    strbuf_putc(b, '"');
    esc_put(b, src, cap, ESC_QUOTED);
    strbuf_putc(b, '"');
}
