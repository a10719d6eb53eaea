/*
 * posture_log.c -- text the daemon emits about a message: syslog lines, the JSON
 * posture line, posture and Authentication-Results header values, SMTP replies.
 * Owns the ONE sanitiser every byte from the network or a certificate goes through
 * and the JSON log file descriptor. Never: calls libmilter, decides policy, or
 * writes a JSON line in more than one write(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "json_out.h"              /* one UTF-8 validator, shared with tlspolicy */
#include "logq.h"
#include "posture_log.h"

static atomic_bool posture_verbose;

/* The JSON log: writers share the lock (O_APPEND makes each write atomic with
 * respect to the others); a reopen takes it exclusively for a pointer swap. */
/* Writers load the descriptor without a lock. A reopen (SIGUSR1, logrotate) never
 * closes it under them: once a descriptor number is in use, later files are
 * dup2()ed onto that same number, which the kernel swaps atomically, so a write is
 * to the old file or the new one, never to a closed or reused descriptor.
 * posture_json_fd is -1 while disabled; posture_json_slot keeps the number. Only the
 * start-up code and the reload thread open, one at a time. */
static atomic_int posture_json_fd = -1;
static int posture_json_slot = -1;

/* ------------------------------------------------------------ the sanitiser */

/* Byte classes, looked up once per byte on the per-message path: PLAIN bytes
 * every escaping mode copies as they are (printable ASCII but space, quote,
 * backslash, percent), SPACE and PERCENT copied where the mode allows, TOKEN
 * bytes that may stand unquoted in a log line or header parameter. */
enum { POSTURE_C_PLAIN = 1, POSTURE_C_SPACE = 2, POSTURE_C_PERCENT = 4, POSTURE_C_TOKEN = 8 };

#define POSTURE_P   POSTURE_C_PLAIN
#define POSTURE_PT  (POSTURE_C_PLAIN | POSTURE_C_TOKEN)
static const unsigned char posture_class[256] = {
    [' '] = POSTURE_C_SPACE, ['!'] = POSTURE_P, ['#'] = POSTURE_P, ['$'] = POSTURE_P,
    ['%'] = POSTURE_C_PERCENT, ['&'] = POSTURE_P, ['\''] = POSTURE_P, ['('] = POSTURE_P,
    [')'] = POSTURE_P, ['*'] = POSTURE_P, ['+'] = POSTURE_PT, [','] = POSTURE_P,
    ['-'] = POSTURE_PT, ['.'] = POSTURE_PT, ['/'] = POSTURE_PT,
    ['0'] = POSTURE_PT, ['1'] = POSTURE_PT, ['2'] = POSTURE_PT, ['3'] = POSTURE_PT,
    ['4'] = POSTURE_PT, ['5'] = POSTURE_PT, ['6'] = POSTURE_PT, ['7'] = POSTURE_PT,
    ['8'] = POSTURE_PT, ['9'] = POSTURE_PT, [':'] = POSTURE_PT, [';'] = POSTURE_P,
    ['<'] = POSTURE_P, ['='] = POSTURE_P, ['>'] = POSTURE_P, ['?'] = POSTURE_P,
    ['@'] = POSTURE_PT,
    ['A'] = POSTURE_PT, ['B'] = POSTURE_PT, ['C'] = POSTURE_PT, ['D'] = POSTURE_PT,
    ['E'] = POSTURE_PT, ['F'] = POSTURE_PT, ['G'] = POSTURE_PT, ['H'] = POSTURE_PT,
    ['I'] = POSTURE_PT, ['J'] = POSTURE_PT, ['K'] = POSTURE_PT, ['L'] = POSTURE_PT,
    ['M'] = POSTURE_PT, ['N'] = POSTURE_PT, ['O'] = POSTURE_PT, ['P'] = POSTURE_PT,
    ['Q'] = POSTURE_PT, ['R'] = POSTURE_PT, ['S'] = POSTURE_PT, ['T'] = POSTURE_PT,
    ['U'] = POSTURE_PT, ['V'] = POSTURE_PT, ['W'] = POSTURE_PT, ['X'] = POSTURE_PT,
    ['Y'] = POSTURE_PT, ['Z'] = POSTURE_PT,
    ['['] = POSTURE_P, [']'] = POSTURE_P, ['^'] = POSTURE_P, ['_'] = POSTURE_PT,
    ['`'] = POSTURE_P,
    ['a'] = POSTURE_PT, ['b'] = POSTURE_PT, ['c'] = POSTURE_PT, ['d'] = POSTURE_PT,
    ['e'] = POSTURE_PT, ['f'] = POSTURE_PT, ['g'] = POSTURE_PT, ['h'] = POSTURE_PT,
    ['i'] = POSTURE_PT, ['j'] = POSTURE_PT, ['k'] = POSTURE_PT, ['l'] = POSTURE_PT,
    ['m'] = POSTURE_PT, ['n'] = POSTURE_PT, ['o'] = POSTURE_PT, ['p'] = POSTURE_PT,
    ['q'] = POSTURE_PT, ['r'] = POSTURE_PT, ['s'] = POSTURE_PT, ['t'] = POSTURE_PT,
    ['u'] = POSTURE_PT, ['v'] = POSTURE_PT, ['w'] = POSTURE_PT, ['x'] = POSTURE_PT,
    ['y'] = POSTURE_PT, ['z'] = POSTURE_PT,
    ['{'] = POSTURE_P, ['|'] = POSTURE_P, ['}'] = POSTURE_P, ['~'] = POSTURE_P,
};
#undef POSTURE_P
#undef POSTURE_PT

/* A byte that this escaping mode copies as it is. */
static inline bool
posture_plain(unsigned char c, enum posture_esc how)
{
    unsigned char k = posture_class[c];

    if (k & POSTURE_C_PLAIN)
        return true;
    if (how == POSTURE_ESC_LINE)
        return c >= 0x20 && c < 0x7f;
    if (k & POSTURE_C_SPACE)
        return how != POSTURE_ESC_BARE;
    return (k & POSTURE_C_PERCENT) && how != POSTURE_ESC_REPLY;
}

void
posture_log_sanitize(struct strbuf *b, const char *src, size_t cap, enum posture_esc how)
{
    const unsigned char *p = (const unsigned char *)src;
    size_t n, i, ulen;
    bool truncated;

    if (src == NULL)
        return;
    n = strnlen(src, cap);
    truncated = src[n] != '\0';
    for (i = 0; i < n; i++) {
        unsigned c = p[i];
        size_t run = i;

        /* Copy a run of bytes that need no escaping in one go: they are most of
         * every value, and this runs for each field of every message. */
        while (run < n && posture_plain(p[run], how))
            run++;
        if (run > i) {
            strbuf_putn(b, src + i, run - i);
            i = run - 1;
            continue;
        }
        switch (how) {
        case POSTURE_ESC_REPLY:
            /* smfi_setreply treats '%' as a format character and Postfix does
             * not undo "%%": dropping it is the only safe choice for both. */
            if (c == '%')
                break;
            strbuf_putc(b, (char)((c < 0x20 || c >= 0x7f) ? '?' : c));
            break;
        case POSTURE_ESC_JSON:
            if (c == '"' || c == '\\') {
                strbuf_putc(b, '\\');
                strbuf_putc(b, (char)c);
            } else if (c == '\n')
                strbuf_puts(b, "\\n");
            else if (c == '\r')
                strbuf_puts(b, "\\r");
            else if (c == '\t')
                strbuf_puts(b, "\\t");
            else if (c >= 0x20 && c < 0x7f)
                strbuf_putc(b, (char)c);
            else if (c >= 0x80 && (ulen = json_out_utf8_len(p + i, n - i)) > 0) {
                strbuf_putn(b, src + i, ulen);
                i += ulen - 1;
            } else
                /* A control byte; or a byte that is not UTF-8, kept as Latin-1 so
                 * that nothing is lost. */
                strbuf_printf(b, "\\u%04x", c);
            break;
        case POSTURE_ESC_QUOTED:
        case POSTURE_ESC_BARE:
        case POSTURE_ESC_LINE:
            if (c == '"' || c == '\\') {
                strbuf_putc(b, '\\');
                strbuf_putc(b, (char)c);
            } else if (c < 0x20 || c >= 0x7f || (how == POSTURE_ESC_BARE && c == ' '))
                strbuf_printf(b, "\\x%02X", c);
            else
                strbuf_putc(b, (char)c);
            break;
        }
    }
    if (truncated)
        strbuf_puts(b, "...");
}

/* Characters that may stand unquoted in a log line or header parameter. */
static bool
posture_is_token(const char *s)
{
    const char *p;

    if (s == NULL || *s == '\0')
        return false;
    for (p = s; *p != '\0'; p++)
        if (!(posture_class[(unsigned char)*p] & POSTURE_C_TOKEN))
            return false;
    return true;
}

void
posture_log_value(struct strbuf *b, const char *src, size_t cap)
{
    if (posture_is_token(src) && strlen(src) <= cap) {
        strbuf_puts(b, src);
        return;
    }
    strbuf_putc(b, '"');
    posture_log_sanitize(b, src, cap, POSTURE_ESC_QUOTED);
    strbuf_putc(b, '"');
}

/* All reasons, "; "-separated, each capped. */
static void
posture_reasons(struct strbuf *b, const struct policy_result *r, enum posture_esc how)
{
    size_t i;

    for (i = 0; i < r->nreasons; i++) {
        if (i > 0)
            strbuf_puts(b, "; ");
        posture_log_sanitize(b, r->reasons[i], POSTURE_REASON_MAX, how);
    }
}

/* ------------------------------------------------------------ header values */

static const char *
posture_tls_version(const struct policy_facts *f)
{
    if (f == NULL || !f->tls || f->tls_version == NULL || f->tls_version[0] == '\0')
        return "none";
    return f->tls_version;
}

/* Fold an unfolded header value (RFC 5322 2.2.3) so that lines stay under 78
 * characters where a space allows it. Between "; "-separated fields, and
 * between A-R properties, the space becomes "\n\t" as libmilter wants it (LF
 * only, the MTA adds the CR); inside a quoted string the LF goes before the
 * space, which FWS allows and unfolding gives back unchanged. col is where the
 * value starts on the first line. */
static void
posture_fold(struct strbuf *out, const char *v, size_t col)
{
    bool quoted = false;
    const char *p, *next;

    for (p = v; *p != '\0'; p++) {
        size_t run = strcspn(p, " \"\\");

        /* Bytes that are neither a fold point nor quoting go out as a block. */
        if (run > 0) {
            strbuf_putn(out, p, run);
            col += run;
            p += run - 1;
            continue;
        }
        if (*p == '\\' && quoted && p[1] != '\0') {
            strbuf_putn(out, p, 2);
            col += 2;
            p++;
            continue;
        }
        if (*p == '"')
            quoted = !quoted;
        if (*p != ' ' || p == v) {
            strbuf_putc(out, *p);
            col++;
            continue;
        }
        /* what follows this space up to the next fold point: inside quotes the
         * next word, outside the whole next field (quoted parts included) */
        if (quoted) {
            for (next = p + 1; *next != '\0' && *next != ' '; next++)
                ;
        } else {
            bool q = false;

            for (next = p + 1; *next != '\0' && (q || *next != ' '); next++) {
                if (*next == '\\' && q && next[1] != '\0')
                    next++;
                else if (*next == '"')
                    q = !q;
            }
        }
        if (col + (size_t)(next - p) <= 78) {
            strbuf_putc(out, ' ');
            col++;
        } else if (!quoted) {
            strbuf_puts(out, "\n\t");
            col = 8;
        } else {
            strbuf_puts(out, "\n ");
            col = 1;
        }
    }
}

/* Append " key=value" parts for the unfolded line. */
static void
posture_kv(struct strbuf *b, const char *sep, const char *key, const char *value,
           bool force_quote)
{
    if (value == NULL)
        return;
    strbuf_puts(b, sep);
    strbuf_puts(b, key);
    strbuf_putc(b, '=');
    if (force_quote || !posture_is_token(value) || strlen(value) > POSTURE_HDR_VALUE_MAX) {
        strbuf_putc(b, '"');
        posture_log_sanitize(b, value, POSTURE_HDR_VALUE_MAX, POSTURE_ESC_QUOTED);
        strbuf_putc(b, '"');
    } else
        strbuf_puts(b, value);
}

/* reason="first; second; ..." for headers: as many reasons as fit the budget. */
static void
posture_hdr_reasons(struct strbuf *b, const char *sep, const struct policy_result *r)
{
    size_t i, start;

    if (r->nreasons == 0)
        return;
    strbuf_puts(b, sep);
    strbuf_puts(b, "reason=\"");
    start = b->len;
    for (i = 0; i < r->nreasons; i++) {
        if (b->len - start > POSTURE_HDR_REASONS_MAX) {
            strbuf_puts(b, "; ...");
            break;
        }
        if (i > 0)
            strbuf_puts(b, "; ");
        posture_log_sanitize(b, r->reasons[i], POSTURE_HDR_VALUE_MAX, POSTURE_ESC_QUOTED);
    }
    strbuf_putc(b, '"');
}

void
posture_log_header(struct strbuf *b, size_t name_len, bool leadspc,
                   const struct policy_facts *f, const struct policy_result *r)
{
    struct strbuf line;
    char bits[16];

    strbuf_init(&line);
    /* r is never NULL: with no accepted recipient, session.c summarises the
     * message with a fresh evaluation (sum = &none), an assignment cppcheck's
     * cross-file pass does not follow. */
    /* cppcheck-suppress ctunullpointer */
    strbuf_puts(&line, policy_verdict_name(r->verdict));
    strbuf_puts(&line, " (");
    posture_kv(&line, "", "connector", r->connector, false);
    posture_kv(&line, "; ", "action", policy_action_name(r->action), false);
    if (r->mode == POLICY_MODE_MONITOR)
        posture_kv(&line, "; ", "mode", "monitor", false);
    posture_kv(&line, "; ", "version", posture_tls_version(f), false);
    if (f != NULL && f->tls) {
        posture_kv(&line, "; ", "cipher", f->cipher, false);
        if (f->cipher_bits >= 0) {
            snprintf(bits, sizeof bits, "%d", f->cipher_bits);
            posture_kv(&line, "; ", "bits", bits, false);
        }
        posture_kv(&line, "; ", "fs", policy_tri_name(f->fs), false);
    }
    if (f != NULL) {
        posture_kv(&line, "; ", "cert", f->subject_cn, false);
        posture_kv(&line, "; ", "issuer", f->issuer_cn != NULL ? f->issuer_cn : f->issuer_dn,
                   false);
    }
    posture_kv(&line, "; ", "root", r->root, false);
    if (f != NULL)
        posture_kv(&line, "; ", "verified", policy_tri_name(f->cert_verified), false);
    posture_hdr_reasons(&line, "; ", r);
    strbuf_putc(&line, ')');
    if (line.oom)
        b->oom = true;
    if (leadspc)
        strbuf_putc(b, ' ');
    posture_fold(b, strbuf_str(&line), name_len + 2);
    strbuf_free(&line);
}

void
posture_log_authres(struct strbuf *b, bool leadspc, const char *authserv_id,
                    const struct policy_facts *f, const struct policy_result *r)
{
    struct strbuf line;

    strbuf_init(&line);
    posture_log_sanitize(&line, authserv_id, POSTURE_HDR_VALUE_MAX, POSTURE_ESC_BARE);
    strbuf_printf(&line, "; x-tls=%s", policy_verdict_name(r->verdict));
    /* RFC 8601: reasonspec right after the result, then ptype.property=pvalue */
    posture_hdr_reasons(&line, " ", r);
    posture_kv(&line, " ", "smtp.connector", r->connector, false);
    posture_kv(&line, " ", "smtp.tls", posture_tls_version(f), true);
    if (f != NULL && f->tls && f->cipher != NULL)
        posture_kv(&line, " ", "smtp.cipher", f->cipher, true);
    if (f != NULL && f->subject_cn != NULL)
        posture_kv(&line, " ", "smtp.cert", f->subject_cn, true);
    posture_kv(&line, " ", "policy.action", policy_action_name(r->action), false);
    if (r->mode == POLICY_MODE_MONITOR)
        posture_kv(&line, " ", "policy.mode", "monitor", false);
    if (line.oom)
        b->oom = true;
    if (leadspc)
        strbuf_putc(b, ' ');
    posture_fold(b, strbuf_str(&line), strlen("Authentication-Results: "));
    strbuf_free(&line);
}

/* ------------------------------------------------------------ replies */

void
posture_log_reason_text(struct strbuf *b, const struct policy_result *r)
{
    strbuf_puts(b, "TLS policy ");
    posture_log_sanitize(b, r->connector, POSTURE_VALUE_MAX, POSTURE_ESC_REPLY);
    strbuf_puts(b, ": ");
    if (r->nreasons > 0)
        posture_log_sanitize(b, r->reasons[0], POSTURE_REASON_MAX, POSTURE_ESC_REPLY);
    else
        strbuf_puts(b, "TLS requirements not met");
}

/* Length of a leading enhanced status code "D.D{1,3}.D{1,3} ", 0 if none. */
static size_t
posture_xcode_len(const char *s)
{
    const char *p = s;
    int part, digits;

    if (!(p[0] >= '2' && p[0] <= '5') || p[1] != '.')
        return 0;
    p += 2;
    for (part = 0; part < 2; part++) {
        for (digits = 0; *p >= '0' && *p <= '9' && digits < 3; p++)
            digits++;
        if (digits == 0)
            return 0;
        if (part == 0 && *p++ != '.')
            return 0;
    }
    if (*p != ' ')
        return 0;
    return (size_t)(p - s);
}

int
posture_log_reply(const struct policy_result *r, struct posture_reply *out)
{
    bool temp = r->action == POLICY_ACTION_TEMPFAIL;
    struct strbuf text;
    size_t xl = 0;

    strbuf_init(&text);
    snprintf(out->rcode, sizeof out->rcode, "%s", temp ? "451" : "550");
    snprintf(out->xcode, sizeof out->xcode, "%s", temp ? "4.7.1" : "5.7.1");
    if (r->reply != NULL && r->reply[0] != '\0') {
        xl = posture_xcode_len(r->reply);
        /* an xcode whose class contradicts the reply code would make
         * smfi_setreply fail: keep ours then */
        if (xl > 0 && xl < sizeof out->xcode && r->reply[0] == out->rcode[0])
            snprintf(out->xcode, sizeof out->xcode, "%.*s", (int)xl, r->reply);
        if (xl > 0)
            xl++;
        posture_log_sanitize(&text, r->reply + xl, 400, POSTURE_ESC_REPLY);
    } else
        posture_log_reason_text(&text, r);
    out->text = strbuf_take(&text);
    return out->text != NULL ? 0 : -1;
}

void
posture_log_reply_free(struct posture_reply *out)
{
    free(out->text);
    out->text = NULL;
}

/* ------------------------------------------------------------ log lines */

void
posture_log_set_verbose(bool on)
{
    atomic_store(&posture_verbose, on);
}

bool
posture_log_verbose(void)
{
    return atomic_load(&posture_verbose);
}

/* Any byte a log line must not carry as it is? */
static bool
posture_line_unsafe(const struct strbuf *b)
{
    size_t i;

    for (i = 0; i < b->len; i++)
        if ((unsigned char)b->s[i] < 0x20 || (unsigned char)b->s[i] >= 0x7f)
            return true;
    return false;
}

void
posture_log_msg(int prio, const char *fmt, ...)
{
    struct strbuf b;
    va_list ap;

    if (prio == LOG_DEBUG && !posture_log_verbose())
        return;
    strbuf_init(&b);
    va_start(ap, fmt);
    strbuf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (!b.oom && posture_line_unsafe(&b)) {
        /* an argument came from the MTA as it is (a queue id, say): the
         * finished line is escaped here, once for every caller */
        struct strbuf safe;

        strbuf_init(&safe);
        posture_log_sanitize(&safe, b.s, b.len, POSTURE_ESC_LINE);
        strbuf_free(&b);
        b = safe;
    }
    if (b.oom) {
        /* no memory to format, nor to escape: the fixed text alone */
        syslog(LOG_MAIL | prio, "%s (line lost: out of memory)", fmt);
    } else
        logq_line(prio, strbuf_str(&b));
    strbuf_free(&b);
}

static const char *
posture_qid(const char *qid)
{
    return (qid != NULL && qid[0] != '\0') ? qid : "NOQUEUE";
}

void
posture_log_format_line(struct strbuf *b, const struct posture_msg *m)
{
    const struct policy_facts *f = m->facts;
    const struct policy_result *r = m->summary;

    posture_log_sanitize(b, posture_qid(m->queue_id), POSTURE_VALUE_MAX, POSTURE_ESC_BARE);
    strbuf_puts(b, ":");
    if (r != NULL) {
        strbuf_puts(b, " connector=");
        posture_log_value(b, r->connector, POSTURE_VALUE_MAX);
        strbuf_puts(b, " verdict=");
        strbuf_puts(b, policy_verdict_name(r->verdict));
        strbuf_puts(b, " action=");
        strbuf_puts(b, policy_action_name(r->action));
        strbuf_puts(b, " mode=");
        strbuf_puts(b, policy_mode_name(r->mode));
    } else
        strbuf_puts(b, " verdict=error");
    if (f != NULL) {
        strbuf_puts(b, " client=");
        posture_log_sanitize(b, f->client_name != NULL ? f->client_name : "unknown",
                             POSTURE_VALUE_MAX, POSTURE_ESC_BARE);
        strbuf_putc(b, '[');
        posture_log_sanitize(b, f->client_addr != NULL ? f->client_addr : "unknown",
                             POSTURE_VALUE_MAX, POSTURE_ESC_BARE);
        strbuf_puts(b, "] from=<");
        posture_log_sanitize(b, f->sender, POSTURE_VALUE_MAX, POSTURE_ESC_BARE);
        strbuf_putc(b, '>');
    }
    strbuf_puts(b, " rcpts=");
    strbuf_putu(b, m->naccepted);
    if (f != NULL) {
        strbuf_puts(b, " tls=");
        posture_log_value(b, posture_tls_version(f), POSTURE_VALUE_MAX);
        if (f->tls) {
            if (f->cipher != NULL) {
                strbuf_puts(b, " cipher=");
                posture_log_value(b, f->cipher, POSTURE_VALUE_MAX);
            }
            if (f->cipher_bits >= 0) {
                strbuf_puts(b, " bits=");
                strbuf_putu(b, (unsigned long)f->cipher_bits);
            }
            strbuf_puts(b, " fs=");
            strbuf_puts(b, policy_tri_name(f->fs));
        }
        if (f->subject_cn != NULL) {
            strbuf_puts(b, " cert=");
            posture_log_value(b, f->subject_cn, POSTURE_VALUE_MAX);
        }
        if (f->issuer_cn != NULL || f->issuer_dn != NULL) {
            strbuf_puts(b, " issuer=");
            posture_log_value(b, f->issuer_cn != NULL ? f->issuer_cn : f->issuer_dn,
                              POSTURE_VALUE_MAX);
        }
    }
    if (r != NULL && r->root != NULL) {
        strbuf_puts(b, " root=");
        posture_log_value(b, r->root, POSTURE_VALUE_MAX);
    }
    if (f != NULL) {
        strbuf_puts(b, " verified=");
        strbuf_puts(b, policy_tri_name(f->cert_verified));
    }
    if (r != NULL && r->nreasons > 0) {
        strbuf_puts(b, " reason=\"");
        posture_reasons(b, r, POSTURE_ESC_QUOTED);
        strbuf_putc(b, '"');
    }
    if (m->error != NULL) {
        strbuf_puts(b, " error=\"");
        posture_log_sanitize(b, m->error, POSTURE_VALUE_MAX, POSTURE_ESC_QUOTED);
        strbuf_putc(b, '"');
    }
}

static void
posture_json_str(struct strbuf *b, const char *key, const char *value, bool comma)
{
    if (comma)
        strbuf_putc(b, ',');
    strbuf_printf(b, "\"%s\":", key);
    if (value == NULL) {
        strbuf_puts(b, "null");
        return;
    }
    strbuf_putc(b, '"');
    posture_log_sanitize(b, value, POSTURE_VALUE_MAX, POSTURE_ESC_JSON);
    strbuf_putc(b, '"');
}

static void
posture_json_reasons(struct strbuf *b, const struct policy_result *r)
{
    size_t i;

    strbuf_puts(b, ",\"reasons\":[");
    for (i = 0; r != NULL && i < r->nreasons; i++) {
        if (i > 0)
            strbuf_putc(b, ',');
        strbuf_putc(b, '"');
        posture_log_sanitize(b, r->reasons[i], POSTURE_REASON_MAX, POSTURE_ESC_JSON);
        strbuf_putc(b, '"');
    }
    strbuf_putc(b, ']');
}

void
posture_log_format_json(struct strbuf *b, const struct posture_msg *m, long long now)
{
    const struct policy_facts *f = m->facts;
    const struct policy_result *r = m->summary;
    time_t t = (time_t)now;
    struct tm tm;
    char ts[32];
    size_t i;

    if (gmtime_r(&t, &tm) == NULL || strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(ts, sizeof ts, "%lld", now);
    strbuf_putc(b, '{');
    posture_json_str(b, "time", ts, false);
    posture_json_str(b, "queue_id", m->queue_id, true);
    strbuf_printf(b, ",\"delivered\":%s", m->delivered ? "true" : "false");
    posture_json_str(b, "connector", r != NULL ? r->connector : NULL, true);
    posture_json_str(b, "verdict", r != NULL ? policy_verdict_name(r->verdict) : "error", true);
    posture_json_str(b, "action", r != NULL ? policy_action_name(r->action) : NULL, true);
    posture_json_str(b, "mode", r != NULL ? policy_mode_name(r->mode) : NULL, true);
    posture_json_str(b, "client_name", f != NULL ? f->client_name : NULL, true);
    posture_json_str(b, "client_addr", f != NULL ? f->client_addr : NULL, true);
    posture_json_str(b, "from", f != NULL ? (f->sender != NULL ? f->sender : "") : NULL, true);
    strbuf_printf(b, ",\"rcpts\":%zu", m->naccepted);
    posture_json_str(b, "tls", f != NULL && f->tls ? f->tls_version : NULL, true);
    posture_json_str(b, "cipher", f != NULL && f->tls ? f->cipher : NULL, true);
    if (f != NULL && f->tls && f->cipher_bits >= 0)
        strbuf_printf(b, ",\"bits\":%d", f->cipher_bits);
    else
        strbuf_puts(b, ",\"bits\":null");
    posture_json_str(b, "fs", f != NULL && f->tls ? policy_tri_name(f->fs) : NULL, true);
    posture_json_str(b, "cert", f != NULL ? f->subject_cn : NULL, true);
    posture_json_str(b, "issuer", f != NULL ? (f->issuer_cn != NULL ? f->issuer_cn : f->issuer_dn)
                                            : NULL, true);
    posture_json_str(b, "root", r != NULL ? r->root : NULL, true);
    posture_json_str(b, "verified", f != NULL ? policy_tri_name(f->cert_verified) : NULL, true);
    posture_json_reasons(b, r);
    if (m->error != NULL)
        posture_json_str(b, "error", m->error, true);
    strbuf_puts(b, ",\"recipients\":[");
    for (i = 0; i < m->nrcpts; i++) {
        const struct posture_rcpt *pr = &m->rcpts[i];

        if (i > 0)
            strbuf_putc(b, ',');
        strbuf_putc(b, '{');
        posture_json_str(b, "rcpt", pr->rcpt, false);
        posture_json_str(b, "connector", pr->res->connector, true);
        posture_json_str(b, "verdict", policy_verdict_name(pr->res->verdict), true);
        posture_json_str(b, "action", policy_action_name(pr->res->action), true);
        posture_json_str(b, "mode", policy_mode_name(pr->res->mode), true);
        strbuf_printf(b, ",\"refused\":%s", pr->refused ? "true" : "false");
        posture_json_reasons(b, pr->res);
        strbuf_putc(b, '}');
    }
    strbuf_puts(b, "]}\n");
}

static void
posture_json_write(const struct strbuf *line)
{
    int fd = atomic_load(&posture_json_fd);
    ssize_t n;

    if (fd >= 0) {
        n = write(fd, line->s, line->len);
        if (n < 0 || (size_t)n != line->len)
            syslog(LOG_MAIL | LOG_ERR, "JSON posture log: short write (%zd of %zu bytes): %m",
                   n, line->len);
    }
}

void
posture_log_message(const struct posture_msg *m)
{
    struct strbuf b;

    strbuf_init(&b);
    posture_log_format_line(&b, m);
    if (b.oom)
        syslog(LOG_MAIL | LOG_ERR, "%s: out of memory formatting the posture log line",
               posture_qid(m->queue_id));
    else
        logq_line(LOG_INFO, strbuf_str(&b));
    strbuf_free(&b);
    posture_log_json_line(m);
}

void
posture_log_json_line(const struct posture_msg *m)
{
    struct strbuf b;

    if (!m->json)
        return;
    strbuf_init(&b);
    posture_log_format_json(&b, m, (long long)time(NULL));
    if (b.oom)
        syslog(LOG_MAIL | LOG_ERR, "%s: out of memory formatting the JSON posture line",
               posture_qid(m->queue_id));
    else
        posture_json_write(&b);
    strbuf_free(&b);
}

void
posture_log_refused(const char *queue_id, const char *rcpt, const struct policy_result *r)
{
    struct strbuf b;

    strbuf_init(&b);
    posture_log_sanitize(&b, posture_qid(queue_id), POSTURE_VALUE_MAX, POSTURE_ESC_BARE);
    strbuf_puts(&b, ": refused rcpt=<");
    posture_log_sanitize(&b, rcpt, POSTURE_VALUE_MAX, POSTURE_ESC_BARE);
    strbuf_puts(&b, "> connector=");
    posture_log_value(&b, r->connector, POSTURE_VALUE_MAX);
    strbuf_printf(&b, " verdict=%s action=%s reason=\"", policy_verdict_name(r->verdict),
                  policy_action_name(r->action));
    posture_reasons(&b, r, POSTURE_ESC_QUOTED);
    strbuf_putc(&b, '"');
    if (!b.oom)
        logq_line(LOG_INFO, strbuf_str(&b));
    strbuf_free(&b);
}

int
posture_log_json_open(const char *path)
{
    int fd;

    if (path == NULL || path[0] == '\0') {
        /* Disabled: writers stop using it; the slot stays open (on /dev/null) so a
         * writer that loaded it a moment ago still writes somewhere harmless. */
        atomic_store(&posture_json_fd, -1);
        if (posture_json_slot >= 0 && (fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) >= 0) {
            (void)dup2(fd, posture_json_slot);
            close(fd);
        }
        return 0;
    }
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
    if (fd < 0)
        return -1;
    if (posture_json_slot < 0) {
        posture_json_slot = fd;
    } else {
        int rc = dup3(fd, posture_json_slot, O_CLOEXEC);
        int saved = errno;

        close(fd);
        if (rc < 0) {
            errno = saved;
            return -1;
        }
    }
    atomic_store(&posture_json_fd, posture_json_slot);
    return 0;
}

void
posture_log_json_close(void)
{
    /* Only at shut-down, after libmilter has stopped every session thread. */
    atomic_store(&posture_json_fd, -1);
    if (posture_json_slot >= 0)
        close(posture_json_slot);
    posture_json_slot = -1;
}
