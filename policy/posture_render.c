/*
 * posture_render.c -- the text of everything said about a message, built from
 * its facts and results: the posture and Authentication-Results header values
 * (folded), the SMTP reply and quarantine reason, the syslog lines and the JSON
 * record. Every untrusted byte goes through esc.c on the way.
 * Never: writes anywhere but into the caller's strbuf, logs, or decides which
 * result summarises a message (posture.c does).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "esc.h"
#include "json_write.h"
#include "posture.h"
#include "posture_render.h"

/* All reasons, "; "-separated, each capped. */
static void
posture_render_reasons(struct strbuf *b, const struct policy_result *r, enum esc_mode how)
{
    size_t i;

    for (i = 0; i < r->nreasons; i++) {
        if (i > 0)
            strbuf_puts(b, "; ");
        esc_put(b, r->reasons[i], POSTURE_REASON_MAX, how);
    }
}

/* ------------------------------------------------------------ header values */

/* Fold an unfolded header value (RFC 5322 2.2.3) so that lines stay under 78
 * characters where a space allows it. Between "; "-separated fields, and
 * between A-R properties, the space becomes "\n\t" as libmilter wants it (LF
 * only, the MTA adds the CR); inside a quoted string the LF goes before the
 * space, which FWS allows and unfolding gives back unchanged. col is where the
 * value starts on the first line. */
static void
posture_render_fold(struct strbuf *out, const char *v, size_t col)
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
posture_render_kv(struct strbuf *b, const char *sep, const char *key, const char *value,
           bool force_quote)
{
    if (value == NULL)
        return;
    strbuf_puts(b, sep);
    strbuf_puts(b, key);
    strbuf_putc(b, '=');
    if (force_quote || !esc_is_token(value) || strlen(value) > POSTURE_HDR_VALUE_MAX) {
        strbuf_putc(b, '"');
        esc_put(b, value, POSTURE_HDR_VALUE_MAX, ESC_QUOTED);
        strbuf_putc(b, '"');
    } else
        strbuf_puts(b, value);
}

/* reason="first; second; ..." for headers: as many reasons as fit the budget. */
static void
posture_render_hdr_reasons(struct strbuf *b, const char *sep, const struct policy_result *r)
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
        esc_put(b, r->reasons[i], POSTURE_HDR_VALUE_MAX, ESC_QUOTED);
    }
    strbuf_putc(b, '"');
}

void
posture_render_header(struct strbuf *b, size_t name_len, bool leadspc,
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
    posture_render_kv(&line, "", "connector", r->connector, false);
    posture_render_kv(&line, "; ", "action", policy_action_name(r->action), false);
    if (r->mode == POLICY_MODE_MONITOR)
        posture_render_kv(&line, "; ", "mode", "monitor", false);
    posture_render_kv(&line, "; ", "version", posture_tls_version(f), false);
    if (f != NULL && f->tls) {
        posture_render_kv(&line, "; ", "cipher", f->cipher, false);
        if (f->cipher_bits >= 0) {
            snprintf(bits, sizeof bits, "%d", f->cipher_bits);
            posture_render_kv(&line, "; ", "bits", bits, false);
        }
        posture_render_kv(&line, "; ", "fs", policy_tri_name(f->fs), false);
    }
    if (f != NULL) {
        posture_render_kv(&line, "; ", "cert", f->subject_cn, false);
        posture_render_kv(&line, "; ", "issuer", posture_issuer(f),
                   false);
    }
    posture_render_kv(&line, "; ", "root", r->root, false);
    if (f != NULL)
        posture_render_kv(&line, "; ", "verified", policy_tri_name(f->cert_verified), false);
    posture_render_hdr_reasons(&line, "; ", r);
    strbuf_putc(&line, ')');
    if (line.oom)
        b->oom = true;
    if (leadspc)
        strbuf_putc(b, ' ');
    posture_render_fold(b, strbuf_str(&line), name_len + 2);
    strbuf_free(&line);
}

void
posture_render_authres(struct strbuf *b, bool leadspc, const char *authserv_id,
                    const struct policy_facts *f, const struct policy_result *r)
{
    struct strbuf line;

    strbuf_init(&line);
    esc_put(&line, authserv_id, POSTURE_HDR_VALUE_MAX, ESC_BARE);
    strbuf_printf(&line, "; x-tls=%s", policy_verdict_name(r->verdict));
    /* RFC 8601: reasonspec right after the result, then ptype.property=pvalue */
    posture_render_hdr_reasons(&line, " ", r);
    posture_render_kv(&line, " ", "smtp.connector", r->connector, false);
    posture_render_kv(&line, " ", "smtp.tls", posture_tls_version(f), true);
    if (f != NULL && f->tls && f->cipher != NULL)
        posture_render_kv(&line, " ", "smtp.cipher", f->cipher, true);
    if (f != NULL && f->subject_cn != NULL)
        posture_render_kv(&line, " ", "smtp.cert", f->subject_cn, true);
    posture_render_kv(&line, " ", "policy.action", policy_action_name(r->action), false);
    if (r->mode == POLICY_MODE_MONITOR)
        posture_render_kv(&line, " ", "policy.mode", "monitor", false);
    if (line.oom)
        b->oom = true;
    if (leadspc)
        strbuf_putc(b, ' ');
    posture_render_fold(b, strbuf_str(&line), strlen("Authentication-Results: "));
    strbuf_free(&line);
}

/* ------------------------------------------------------------ replies */

void
posture_render_reason_text(struct strbuf *b, const struct policy_result *r)
{
    strbuf_puts(b, "TLS policy ");
    esc_put(b, r->connector, POSTURE_VALUE_MAX, ESC_REPLY);
    strbuf_puts(b, ": ");
    if (r->nreasons > 0)
        esc_put(b, r->reasons[0], POSTURE_REASON_MAX, ESC_REPLY);
    else
        strbuf_puts(b, "TLS requirements not met");
}

/* Length of a leading enhanced status code "D.D{1,3}.D{1,3} ", 0 if none. */
static size_t
posture_render_xcode_len(const char *s)
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
posture_render_reply(const struct policy_result *r, struct posture_reply *out)
{
    bool temp = r->action == POLICY_ACTION_TEMPFAIL;
    struct strbuf text;
    size_t xl = 0;

    strbuf_init(&text);
    snprintf(out->rcode, sizeof out->rcode, "%s", temp ? "451" : "550");
    snprintf(out->xcode, sizeof out->xcode, "%s", temp ? "4.7.1" : "5.7.1");
    if (r->reply != NULL && r->reply[0] != '\0') {
        xl = posture_render_xcode_len(r->reply);
        /* an xcode whose class contradicts the reply code would make
         * smfi_setreply fail: keep ours then */
        if (xl > 0 && xl < sizeof out->xcode && r->reply[0] == out->rcode[0])
            snprintf(out->xcode, sizeof out->xcode, "%.*s", (int)xl, r->reply);
        if (xl > 0)
            xl++;
        esc_put(&text, r->reply + xl, 400, ESC_REPLY);
    } else
        posture_render_reason_text(&text, r);
    out->text = strbuf_take(&text);
    return out->text != NULL ? 0 : -1;
}

void
posture_render_reply_free(struct posture_reply *out)
{
    free(out->text);
    out->text = NULL;
}


/* ------------------------------------------------------------ log lines */

/* "connector=... verdict=... action=..." of a log line. */
static void
posture_render_result(struct strbuf *b, const struct policy_result *r)
{
    strbuf_puts(b, "connector=");
    esc_value(b, r->connector, POSTURE_VALUE_MAX);
    strbuf_puts(b, " verdict=");
    strbuf_puts(b, policy_verdict_name(r->verdict));
    strbuf_puts(b, " action=");
    strbuf_puts(b, policy_action_name(r->action));
}

void
posture_render_line(struct strbuf *b, const struct posture_msg *m)
{
    const struct policy_facts *f = m->facts;
    const struct policy_result *r = m->summary;

    esc_put(b, posture_qid(m->queue_id), POSTURE_VALUE_MAX, ESC_BARE);
    strbuf_puts(b, ":");
    if (r != NULL) {
        strbuf_putc(b, ' ');
        posture_render_result(b, r);
        strbuf_puts(b, " mode=");
        strbuf_puts(b, policy_mode_name(r->mode));
    } else
        strbuf_puts(b, " verdict=error");
    if (f != NULL) {
        strbuf_puts(b, " client=");
        esc_put(b, f->client_name != NULL ? f->client_name : "unknown",
                             POSTURE_VALUE_MAX, ESC_BARE);
        strbuf_putc(b, '[');
        esc_put(b, f->client_addr != NULL ? f->client_addr : "unknown",
                             POSTURE_VALUE_MAX, ESC_BARE);
        strbuf_puts(b, "] from=<");
        esc_put(b, f->sender, POSTURE_VALUE_MAX, ESC_BARE);
        strbuf_putc(b, '>');
    }
    strbuf_puts(b, " rcpts=");
    strbuf_putu(b, m->naccepted);
    if (f != NULL) {
        strbuf_puts(b, " tls=");
        esc_value(b, posture_tls_version(f), POSTURE_VALUE_MAX);
        if (f->tls) {
            if (f->cipher != NULL) {
                strbuf_puts(b, " cipher=");
                esc_value(b, f->cipher, POSTURE_VALUE_MAX);
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
            esc_value(b, f->subject_cn, POSTURE_VALUE_MAX);
        }
        if (posture_issuer(f) != NULL) {
            strbuf_puts(b, " issuer=");
            esc_value(b, posture_issuer(f),
                              POSTURE_VALUE_MAX);
        }
    }
    if (r != NULL && r->root != NULL) {
        strbuf_puts(b, " root=");
        esc_value(b, r->root, POSTURE_VALUE_MAX);
    }
    if (f != NULL) {
        strbuf_puts(b, " verified=");
        strbuf_puts(b, policy_tri_name(f->cert_verified));
    }
    if (r != NULL && r->nreasons > 0) {
        strbuf_puts(b, " reason=\"");
        posture_render_reasons(b, r, ESC_QUOTED);
        strbuf_putc(b, '"');
    }
    if (m->error != NULL) {
        strbuf_puts(b, " error=\"");
        esc_put(b, m->error, POSTURE_VALUE_MAX, ESC_QUOTED);
        strbuf_putc(b, '"');
    }
}

void
posture_render_refused(struct strbuf *b, const char *queue_id, const char *rcpt,
                       const struct policy_result *r)
{
    esc_put(b, posture_qid(queue_id), POSTURE_VALUE_MAX, ESC_BARE);
    strbuf_puts(b, ": refused rcpt=<");
    esc_put(b, rcpt, POSTURE_VALUE_MAX, ESC_BARE);
    strbuf_puts(b, "> ");
    posture_render_result(b, r);
    strbuf_puts(b, " reason=\"");
    posture_render_reasons(b, r, ESC_QUOTED);
    strbuf_putc(b, '"');
}

/* "key": at most POSTURE_VALUE_MAX bytes of value, or null. */
static void
posture_render_jstr(struct json_write *j, const char *key, const char *value)
{
    json_write_key(j, key);
    json_write_string_cap(j, value, POSTURE_VALUE_MAX);
}

static void
posture_render_jreasons(struct json_write *j, const struct policy_result *r)
{
    size_t i;

    json_write_key(j, "reasons");
    json_write_array_begin(j);
    for (i = 0; r != NULL && i < r->nreasons; i++)
        json_write_string_cap(j, r->reasons[i], POSTURE_REASON_MAX);
    json_write_array_end(j);
}

static void
posture_render_jrcpt(struct json_write *j, const struct posture_rcpt *pr)
{
    json_write_object_begin(j);
    posture_render_jstr(j, "rcpt", pr->rcpt);
    posture_render_jstr(j, "connector", pr->res->connector);
    posture_render_jstr(j, "verdict", policy_verdict_name(pr->res->verdict));
    posture_render_jstr(j, "action", policy_action_name(pr->res->action));
    posture_render_jstr(j, "mode", policy_mode_name(pr->res->mode));
    json_write_kv_bool(j, "refused", pr->refused);
    posture_render_jreasons(j, pr->res);
    json_write_object_end(j);
}

/* Close the record and append it to out as one line. */
static void
posture_render_jline(struct strbuf *out, struct json_write *j)
{
    const char *text;
    size_t len;

    json_write_object_end(j);
    if ((text = json_write_finish(j, &len)) == NULL)
        out->oom = true;
    else {
        strbuf_putn(out, text, len);
        strbuf_putc(out, '\n');
    }
    json_write_free(j);
}

static void
posture_render_time(char *ts, size_t n, long long now)
{
    time_t t = (time_t)now;
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(ts, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(ts, n, "%lld", now);
}

void
posture_render_json(struct strbuf *out, const struct posture_msg *m, long long now)
{
    const struct policy_facts *f = m->facts;
    const struct policy_result *r = m->summary;
    bool tls = f != NULL && f->tls;
    struct json_write j;
    char ts[32];
    size_t i;

    posture_render_time(ts, sizeof ts, now);
    json_write_init(&j);
    json_write_object_begin(&j);
    json_write_kv_int(&j, "schema", POSTURE_JSON_SCHEMA);
    posture_render_jstr(&j, "time", ts);
    if (m->host != NULL)
        posture_render_jstr(&j, "host", m->host);
    if (m->policy != NULL)
        posture_render_jstr(&j, "policy", m->policy);
    posture_render_jstr(&j, "queue_id", m->queue_id);
    json_write_kv_bool(&j, "delivered", m->delivered);
    posture_render_jstr(&j, "connector", r != NULL ? r->connector : NULL);
    posture_render_jstr(&j, "verdict", r != NULL ? policy_verdict_name(r->verdict) : "error");
    posture_render_jstr(&j, "action", r != NULL ? policy_action_name(r->action) : NULL);
    posture_render_jstr(&j, "mode", r != NULL ? policy_mode_name(r->mode) : NULL);
    posture_render_jstr(&j, "client_name", f != NULL ? f->client_name : NULL);
    posture_render_jstr(&j, "client_addr", f != NULL ? f->client_addr : NULL);
    posture_render_jstr(&j, "from", f != NULL ? (f->sender != NULL ? f->sender : "") : NULL);
    json_write_kv_int(&j, "rcpts", (long long)m->naccepted);
    posture_render_jstr(&j, "tls", tls ? f->tls_version : NULL);
    posture_render_jstr(&j, "cipher", tls ? f->cipher : NULL);
    json_write_key(&j, "bits");
    if (tls && f->cipher_bits >= 0)
        json_write_int(&j, f->cipher_bits);
    else
        json_write_null(&j);
    posture_render_jstr(&j, "fs", tls ? policy_tri_name(f->fs) : NULL);
    posture_render_jstr(&j, "cert", f != NULL ? f->subject_cn : NULL);
    posture_render_jstr(&j, "issuer", posture_issuer(f));
    posture_render_jstr(&j, "root", r != NULL ? r->root : NULL);
    posture_render_jstr(&j, "verified", f != NULL ? policy_tri_name(f->cert_verified) : NULL);
    posture_render_jstr(&j, "cert_sha256", f != NULL ? f->cert_sha256 : NULL);
    posture_render_jstr(&j, "pubkey_sha256", f != NULL ? f->pubkey_sha256 : NULL);
    posture_render_jreasons(&j, r);
    if (m->error != NULL)
        posture_render_jstr(&j, "error", m->error);
    json_write_key(&j, "recipients");
    json_write_array_begin(&j);
    for (i = 0; i < m->nrcpts; i++)
        posture_render_jrcpt(&j, &m->rcpts[i]);
    json_write_array_end(&j);
    if (m->prev != NULL)
        posture_render_jstr(&j, "prev", m->prev);
    posture_render_jline(out, &j);
}

void
posture_render_link(struct strbuf *out, long long now, const char *host, const char *prev)
{
    struct json_write j;
    char ts[32];

    posture_render_time(ts, sizeof ts, now);
    json_write_init(&j);
    json_write_object_begin(&j);
    json_write_kv_int(&j, "schema", POSTURE_JSON_SCHEMA);
    posture_render_jstr(&j, "type", "link");
    posture_render_jstr(&j, "time", ts);
    if (host != NULL)
        posture_render_jstr(&j, "host", host);
    posture_render_jstr(&j, "prev", prev);
    posture_render_jline(out, &j);
}
