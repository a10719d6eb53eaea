/*
 * esc.h -- the one escaping module: every byte from the network, a certificate
 * or a file that reaches a header, a log line, a JSON string, an SMTP reply or
 * a terminal goes through esc_put/esc_putn in the mode of its destination.
 * Never: allocates except through the strbuf, logs, or lets a byte through
 * that could end, split or fake a line or a field of its destination.
 * Diagnostics: none; out of memory is the strbuf's sticky flag.
 */
#ifndef POLICY_ESC_H
#define POLICY_ESC_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

enum esc_mode {
    ESC_QUOTED,   /* inside "..." of a log line or header: \" \\ \xHH */
    ESC_BARE,     /* unquoted log token: as QUOTED, and space as \x20 */
    ESC_REPLY,    /* SMTP reply / quarantine reason: printable ASCII, '%' dropped */
    ESC_JSON,     /* inside a JSON string: \" \\ \n \r \t \u00XX, UTF-8 kept */
    ESC_LINE,     /* a finished log line: only bytes outside 0x20-0x7e, as \xHH */
    ESC_TEXT,     /* terminal text: UTF-8 kept, \\ doubled, other bytes \xHH */
    ESC_DIAG,     /* terminal text whose backslashes are the input's: as TEXT, \ kept */
};

/* Length of the well-formed UTF-8 sequence starting at s (at most n bytes), or 0
 * when the bytes there are not one (overlong forms, surrogates, code points above
 * U+10FFFF, truncated sequences and stray continuation bytes are all refused). */
size_t esc_utf8_len(const unsigned char *s, size_t n);

/* Append the n bytes at src (NUL included) made safe for how. */
void esc_putn(struct strbuf *b, const char *src, size_t n, enum esc_mode how);
/* Append at most cap bytes of the string src (NULL appends nothing), made safe
 * for how. A truncated value ends in "...". */
void esc_put(struct strbuf *b, const char *src, size_t cap, enum esc_mode how);

/* Whether s may stand unquoted in a log line or a header parameter. */
bool esc_is_token(const char *s);
/* Append s as a bare token when it is one (and at most cap bytes long), else
 * as an ESC_QUOTED "quoted" string capped at cap. */
void esc_value(struct strbuf *b, const char *src, size_t cap);

#endif
