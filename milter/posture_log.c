/*
 * posture_log.c -- text the daemon emits about a message: syslog lines, the JSON
 * posture line, posture and Authentication-Results header values, SMTP replies.
 * Owns the ONE sanitiser every byte from the network or a certificate goes through
 * and the JSON log file descriptor. Never: calls libmilter, decides policy, or
 * writes a JSON line in more than one write(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "posture_log.h"

static atomic_bool posture_verbose;

/* The JSON log: writers share the lock (O_APPEND makes each write atomic with
 * respect to the others); a reopen takes it exclusively for a pointer swap. */
static pthread_rwlock_t posture_json_lock = PTHREAD_RWLOCK_INITIALIZER;
static int posture_json_fd = -1;

/* ------------------------------------------------------------ the sanitiser */

/* Length of the valid UTF-8 sequence at p (n bytes available), 0 when invalid. */
static size_t
posture_utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len, i;
    unsigned char lo = 0x80, hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (len > n)
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
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

        switch (how) {
        case POSTURE_ESC_REPLY:
            /* smfi_setreply treats '%' as a format character and Postfix does
             * not undo "%%": dropping it is the only safe choice for both. */
            if (c == '%')
                break;
            strbuf_putc(b, (c < 0x20 || c >= 0x7f) ? '?' : (char)c);
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
            else if (c < 0x20 || c == 0x7f)
                strbuf_printf(b, "\\u%04x", c);
            else if (c < 0x80)
                strbuf_putc(b, (char)c);
            else if ((ulen = posture_utf8_len(p + i, n - i)) > 0) {
                strbuf_putn(b, src + i, ulen);
                i += ulen - 1;
            } else
                /* Not UTF-8: keep the byte, read as Latin-1, so nothing is lost. */
                strbuf_printf(b, "\\u%04x", c);
            break;
        case POSTURE_ESC_QUOTED:
        case POSTURE_ESC_BARE:
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
    for (p = s; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || strchr("._-+:@/", c) != NULL))
            return false;
    }
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

/* Collects "key=value" fields and joins them, folding before a field that would
 * make the current line longer than 78 characters (RFC 5322 2.1.1). */
struct posture_fold {
    struct strbuf *out;
    size_t col;                   /* length of the current line so far */
    const char *sep;              /* "; " in the posture header, " " in A-R */
    bool first;
};

static void
posture_fold_add(struct posture_fold *fo, const struct strbuf *field)
{
    size_t seplen = fo->first ? 0 : strlen(fo->sep);

    if (field->oom) {
        fo->out->oom = true;
        return;
    }
    if (!fo->first) {
        /* the separator's trailing space becomes the fold */
        if (fo->col + seplen + field->len > 78) {
            strbuf_putn(fo->out, fo->sep, seplen - 1);
            strbuf_puts(fo->out, "\n\t");
            fo->col = 8;
        } else {
            strbuf_puts(fo->out, fo->sep);
            fo->col += seplen;
        }
    }
    strbuf_putn(fo->out, strbuf_str(field), field->len);
    fo->col += field->len;
    fo->first = false;
}

static void
posture_field(struct posture_fold *fo, const char *key, const char *value, bool force_quote)
{
    struct strbuf f;

    if (value == NULL)
        return;
    strbuf_init(&f);
    strbuf_puts(&f, key);
    strbuf_putc(&f, '=');
    if (force_quote) {
        strbuf_putc(&f, '"');
        posture_log_sanitize(&f, value, POSTURE_VALUE_MAX, POSTURE_ESC_QUOTED);
        strbuf_putc(&f, '"');
    } else
        posture_log_value(&f, value, POSTURE_VALUE_MAX);
    posture_fold_add(fo, &f);
    strbuf_free(&f);
}

void
posture_log_header(struct strbuf *b, size_t name_len, bool leadspc,
                   const struct policy_facts *f, const struct policy_result *r)
{
    struct posture_fold fo = { b, name_len + 2, "; ", true };
    struct strbuf tmp;
    char bits[16];

    if (leadspc)
        strbuf_putc(b, ' ');
    strbuf_puts(b, policy_verdict_name(r->verdict));
    strbuf_puts(b, " (");
    fo.col += strlen(policy_verdict_name(r->verdict)) + 2;

    posture_field(&fo, "connector", r->connector, false);
    posture_field(&fo, "action", policy_action_name(r->action), false);
    if (r->mode == POLICY_MODE_MONITOR)
        posture_field(&fo, "mode", "monitor", false);
    posture_field(&fo, "version", posture_tls_version(f), false);
    if (f != NULL && f->tls) {
        posture_field(&fo, "cipher", f->cipher, false);
        if (f->cipher_bits >= 0) {
            snprintf(bits, sizeof bits, "%d", f->cipher_bits);
            posture_field(&fo, "bits", bits, false);
        }
        posture_field(&fo, "fs", policy_tri_name(f->fs), false);
    }
    if (f != NULL) {
        posture_field(&fo, "cert", f->subject_cn, false);
        posture_field(&fo, "issuer", f->issuer_cn != NULL ? f->issuer_cn : f->issuer_dn, false);
    }
    posture_field(&fo, "root", r->root, false);
    if (f != NULL)
        posture_field(&fo, "verified", policy_tri_name(f->cert_verified), false);
    if (r->nreasons > 0) {
        strbuf_init(&tmp);
        strbuf_puts(&tmp, "reason=\"");
        posture_reasons(&tmp, r, POSTURE_ESC_QUOTED);
        strbuf_putc(&tmp, '"');
        posture_fold_add(&fo, &tmp);
        strbuf_free(&tmp);
    }
    strbuf_putc(b, ')');
}

void
posture_log_authres(struct strbuf *b, bool leadspc, const char *authserv_id,
                    const struct policy_facts *f, const struct policy_result *r)
{
    struct posture_fold fo = { b, strlen("Authentication-Results: "), " ", true };
    struct strbuf tmp;

    if (leadspc)
        strbuf_putc(b, ' ');
    strbuf_init(&tmp);
    posture_log_sanitize(&tmp, authserv_id, POSTURE_VALUE_MAX, POSTURE_ESC_BARE);
    strbuf_putc(&tmp, ';');
    posture_fold_add(&fo, &tmp);
    strbuf_reset(&tmp);
    strbuf_printf(&tmp, "x-tls=%s", policy_verdict_name(r->verdict));
    posture_fold_add(&fo, &tmp);
    if (r->nreasons > 0) {
        /* RFC 8601 reasonspec: a quoted-string; the sanitiser keeps it one line
         * of printable ASCII with '"' and '\' escaped. */
        strbuf_reset(&tmp);
        strbuf_puts(&tmp, "reason=\"");
        posture_reasons(&tmp, r, POSTURE_ESC_QUOTED);
        strbuf_putc(&tmp, '"');
        posture_fold_add(&fo, &tmp);
    }
    strbuf_free(&tmp);
    posture_field(&fo, "smtp.connector", r->connector, false);
    posture_field(&fo, "smtp.tls", posture_tls_version(f), true);
    if (f != NULL && f->tls && f->cipher != NULL)
        posture_field(&fo, "smtp.cipher", f->cipher, true);
    if (f != NULL && f->subject_cn != NULL)
        posture_field(&fo, "smtp.cert", f->subject_cn, true);
    posture_field(&fo, "policy.action", policy_action_name(r->action), false);
    if (r->mode == POLICY_MODE_MONITOR)
        posture_field(&fo, "policy.mode", "monitor", false);
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

void
posture_log_msg(int prio, const char *fmt, ...)
{
    va_list ap;

    if (prio == LOG_DEBUG && !posture_log_verbose())
        return;
    va_start(ap, fmt);
    vsyslog(LOG_MAIL | prio, fmt, ap);
    va_end(ap);
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
        strbuf_printf(b, " verdict=%s action=%s mode=%s", policy_verdict_name(r->verdict),
                      policy_action_name(r->action), policy_mode_name(r->mode));
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
    strbuf_printf(b, " rcpts=%zu", m->naccepted);
    if (f != NULL) {
        strbuf_puts(b, " tls=");
        posture_log_value(b, posture_tls_version(f), POSTURE_VALUE_MAX);
        if (f->tls) {
            if (f->cipher != NULL) {
                strbuf_puts(b, " cipher=");
                posture_log_value(b, f->cipher, POSTURE_VALUE_MAX);
            }
            if (f->cipher_bits >= 0)
                strbuf_printf(b, " bits=%d", f->cipher_bits);
            strbuf_printf(b, " fs=%s", policy_tri_name(f->fs));
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
    if (f != NULL)
        strbuf_printf(b, " verified=%s", policy_tri_name(f->cert_verified));
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
    ssize_t n;

    pthread_rwlock_rdlock(&posture_json_lock);
    if (posture_json_fd >= 0) {
        n = write(posture_json_fd, line->s, line->len);
        if (n < 0 || (size_t)n != line->len)
            syslog(LOG_MAIL | LOG_ERR, "JSON posture log: short write (%zd of %zu bytes): %m",
                   n, line->len);
    }
    pthread_rwlock_unlock(&posture_json_lock);
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
        syslog(LOG_MAIL | LOG_INFO, "%s", strbuf_str(&b));
    if (m->json) {
        strbuf_reset(&b);
        posture_log_format_json(&b, m, (long long)time(NULL));
        if (!b.oom)
            posture_json_write(&b);
    }
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
        syslog(LOG_MAIL | LOG_INFO, "%s", strbuf_str(&b));
    strbuf_free(&b);
}

int
posture_log_json_open(const char *path)
{
    int fd = -1, old;

    if (path != NULL && path[0] != '\0') {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
        if (fd < 0)
            return -1;
    }
    pthread_rwlock_wrlock(&posture_json_lock);
    old = posture_json_fd;
    posture_json_fd = fd;
    pthread_rwlock_unlock(&posture_json_lock);
    if (old >= 0)
        close(old);
    return 0;
}

void
posture_log_json_close(void)
{
    (void)posture_log_json_open(NULL);
}
