/*
 * hdr_from.c -- an RFC 5322 reader of the From: field body, just deep enough
 * to find every mailbox's domain: CFWS (folding, nested comments, quoted
 * pairs), quoted strings, display names (encoded words are atoms here),
 * angle addresses with obsolete routes, groups, obsolete local parts and
 * domains, several mailboxes. Works on the bytes in place, one pass, no
 * recursion; UTF-8 (RFC 6532) counts as atom text.
 * Never: decodes anything, allocates per token, or guesses on an error
 * without saying so (the lenient scan fills domain[] only with error set).
 */
#include "hdr_from.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum hf_kind { HF_END, HF_ATOM, HF_QSTR, HF_DLIT, HF_SPECIAL, HF_ERROR };

struct hf_tok {
    enum hf_kind kind;
    char c;                       /* HF_SPECIAL: the character */
    size_t at, len;               /* the token's bytes in the value */
};

struct hf_lex {
    const char *s;
    size_t len, pos;
    const char *error;
    size_t error_at;
};

/* RFC 5322 3.2.3 atext, plus every byte of a UTF-8 sequence (RFC 6532 3.2). */
static bool
hf_atext(unsigned char c)
{
    if (c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool
hf_wsp(unsigned char c)
{
    /* CR and LF are the folding of 3.2.2; a milter may get them either way. */
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
hf_fail(struct hf_lex *lx, size_t at, const char *why)
{
    if (lx->error == NULL) {
        lx->error = why;
        lx->error_at = at;
    }
}

/* Skip CFWS. Comments nest (3.2.2); a quoted pair may hide a parenthesis. */
static bool
hf_skip_cfws(struct hf_lex *lx)
{
    size_t depth = 0, open = 0;

    while (lx->pos < lx->len) {
        unsigned char c = (unsigned char)lx->s[lx->pos];

        if (depth > 0 && c == '\\' && lx->pos + 1 < lx->len) {
            lx->pos += 2;
            continue;
        }
        if (c == '(') {
            if (depth++ == 0)
                open = lx->pos;
        } else if (c == ')' && depth > 0) {
            depth--;
        } else if (depth == 0 && !hf_wsp(c)) {
            return true;
        }
        lx->pos++;
    }
    if (depth > 0) {
        hf_fail(lx, open, "a comment is not closed (missing ')')");
        return false;
    }
    return true;
}

/* A quoted string or domain literal from lx->pos (its opening byte) to its
 * closing byte, quoted pairs skipped. */
static bool
hf_delimited(struct hf_lex *lx, char close, const char *why)
{
    size_t start = lx->pos;

    for (lx->pos++; lx->pos < lx->len; lx->pos++) {
        char c = lx->s[lx->pos];

        if (c == '\\' && lx->pos + 1 < lx->len) {
            lx->pos++;
        } else if (c == close) {
            lx->pos++;
            return true;
        } else if (c == '\0') {
            break;
        }
    }
    hf_fail(lx, start, why);
    return false;
}

static struct hf_tok
hf_next(struct hf_lex *lx)
{
    struct hf_tok t = { HF_ERROR, 0, 0, 0 };
    unsigned char c;

    if (!hf_skip_cfws(lx))
        return t;
    t.at = lx->pos;
    if (lx->pos >= lx->len) {
        t.kind = HF_END;
        return t;
    }
    c = (unsigned char)lx->s[lx->pos];
    if (hf_atext(c)) {
        while (lx->pos < lx->len && hf_atext((unsigned char)lx->s[lx->pos]))
            lx->pos++;
        t.kind = HF_ATOM;
    } else if (c == '"') {
        if (!hf_delimited(lx, '"', "a quoted string is not closed (missing '\"')"))
            return t;
        t.kind = HF_QSTR;
    } else if (c == '[') {
        if (!hf_delimited(lx, ']', "a domain literal is not closed (missing ']')"))
            return t;
        t.kind = HF_DLIT;
    } else if (strchr("<>@,:;.", c) != NULL) {
        lx->pos++;
        t.kind = HF_SPECIAL;
        t.c = (char)c;
    } else {
        hf_fail(lx, lx->pos, c == ')' ? "a ')' closes no comment" :
                "a character that cannot stand there (control byte, '\\' or ']')");
        return t;
    }
    t.len = lx->pos - t.at;
    return t;
}

static struct hf_tok
hf_peek(struct hf_lex *lx)
{
    size_t pos = lx->pos;
    struct hf_tok t = hf_next(lx);

    if (t.kind != HF_ERROR)
        lx->pos = pos;
    return t;
}

static bool
hf_is(const struct hf_tok *t, char c)
{
    return t->kind == HF_SPECIAL && t->c == c;
}

static int
hf_push(struct hdr_from *hf, const char *s, size_t n)
{
    char *d;

    if (hf->n == hf->cap) {
        size_t cap = hf->cap ? hf->cap * 2 : 4;
        char **v = realloc(hf->domain, cap * sizeof(*v));

        if (v == NULL)
            return -1;
        hf->domain = v;
        hf->cap = cap;
    }
    if ((d = malloc(n + 1)) == NULL)
        return -1;
    memcpy(d, s, n);
    d[n] = '\0';
    hf->domain[hf->n++] = d;
    return 0;
}

/*
 * A domain (dot-atom, obsolete domain with CFWS between its atoms, or a
 * literal) into buf: the atoms joined by dots. The text lies in the value with
 * CFWS maybe between its parts, so it is copied rather than pointed at.
 * Returns 0, 1 when it does not parse (lx->error set), -1 out of memory.
 */
static int
hf_domain(struct hf_lex *lx, struct hdr_from *out, bool keep)
{
    struct hf_tok t = hf_next(lx);
    char *buf = NULL;
    size_t used = 0;
    int rc = 1;

    if (t.kind == HF_DLIT)
        return keep && hf_push(out, lx->s + t.at, t.len) < 0 ? -1 : 0;
    if (t.kind != HF_ATOM) {
        hf_fail(lx, t.at, "a domain after '@'");
        return 1;
    }
    /* Never longer than what the value holds. */
    if ((buf = malloc(lx->len + 1)) == NULL)
        return -1;
    for (;;) {
        struct hf_tok dot;

        memcpy(buf + used, lx->s + t.at, t.len);
        used += t.len;
        dot = hf_peek(lx);
        if (dot.kind == HF_ERROR)
            goto out;
        if (!hf_is(&dot, '.'))
            break;
        (void)hf_next(lx);
        t = hf_next(lx);
        if (t.kind != HF_ATOM) {
            hf_fail(lx, t.at, "a domain label after '.'");
            goto out;
        }
        buf[used++] = '.';
    }
    rc = keep && hf_push(out, buf, used) < 0 ? -1 : 0;
out:
    free(buf);
    return rc;
}

/* local-part "@" domain, inside <> or bare: words joined by dots (3.4.1, 4.4). */
static int
hf_addr_spec(struct hf_lex *lx, struct hdr_from *out)
{
    struct hf_tok t;

    for (;;) {
        t = hf_next(lx);
        if (t.kind != HF_ATOM && t.kind != HF_QSTR) {
            hf_fail(lx, t.at, "a local part (word or quoted string) before '@'");
            return 1;
        }
        t = hf_next(lx);
        if (hf_is(&t, '@'))
            return hf_domain(lx, out, true);
        if (!hf_is(&t, '.')) {
            hf_fail(lx, t.at, "'@' after the local part");
            return 1;
        }
    }
}

/* After '<': an optional obsolete route ("@a,@b:"), the addr-spec, '>'. */
static int
hf_angle(struct hf_lex *lx, struct hdr_from *out)
{
    struct hf_tok t = hf_peek(lx);
    int rc;

    if (hf_is(&t, '@') || hf_is(&t, ',')) {
        for (;;) {
            t = hf_next(lx);
            if (hf_is(&t, ':'))
                break;
            if (hf_is(&t, ','))
                continue;
            if (!hf_is(&t, '@')) {
                hf_fail(lx, t.at, "a route (@domain,...:) before the address");
                return 1;
            }
            /* A route's domains are relays, not the author's. */
            if ((rc = hf_domain(lx, out, false)) != 0)
                return rc;
        }
    }
    if ((rc = hf_addr_spec(lx, out)) != 0)
        return rc;
    t = hf_next(lx);
    if (!hf_is(&t, '>')) {
        hf_fail(lx, t.at, "'>' closing the address");
        return 1;
    }
    return 0;
}

/*
 * One address: a mailbox (name-addr or addr-spec) or, outside a group, a
 * group ("name: mailbox, ...;"). The leading words are a display name when
 * '<' or ':' follows, and a local part when '@' does: so they are read once
 * and their position remembered, and reading restarts there for a local part.
 */
static int
hf_address(struct hf_lex *lx, struct hdr_from *out, bool in_group, bool *group)
{
    size_t start = lx->pos, words = 0;
    struct hf_tok t;

    *group = false;
    for (;;) {
        t = hf_peek(lx);
        if (t.kind == HF_ERROR)
            return 1;
        if (t.kind != HF_ATOM && t.kind != HF_QSTR && !(words > 0 && hf_is(&t, '.')))
            break;
        (void)hf_next(lx);
        words++;
    }
    if (hf_is(&t, '<')) {
        (void)hf_next(lx);
        return hf_angle(lx, out);
    }
    if (hf_is(&t, ':') && words > 0) {
        if (in_group) {
            hf_fail(lx, t.at, "a group inside a group");
            return 1;
        }
        (void)hf_next(lx);
        *group = true;
        return 0;
    }
    if (hf_is(&t, '@') && words > 0) {
        lx->pos = start;
        return hf_addr_spec(lx, out);
    }
    hf_fail(lx, t.at, words > 0 ? "'<', '@' or ':' after the display name or local part"
                                : "an address (name <local@domain> or local@domain)");
    return 1;
}

static int
hf_list(struct hf_lex *lx, struct hdr_from *out)
{
    bool in_group = false, group;
    int rc;

    for (;;) {
        struct hf_tok t = hf_peek(lx);

        if (t.kind == HF_ERROR)
            return 1;
        if (t.kind == HF_END) {
            if (in_group) {
                hf_fail(lx, t.at, "';' closing the group");
                return 1;
            }
            return 0;
        }
        /* Empty list elements are obsolete syntax (4.4) and harmless. */
        if (hf_is(&t, ',')) {
            (void)hf_next(lx);
            continue;
        }
        if (hf_is(&t, ';') && in_group) {
            (void)hf_next(lx);
            in_group = false;
            continue;
        }
        if ((rc = hf_address(lx, out, in_group, &group)) != 0)
            return rc;
        if (group) {
            in_group = true;
            continue;
        }
        t = hf_peek(lx);
        if (t.kind == HF_ERROR)
            return 1;
        if (!hf_is(&t, ',') && t.kind != HF_END && !(in_group && hf_is(&t, ';'))) {
            hf_fail(lx, t.at, "',' between addresses");
            return 1;
        }
    }
}

static bool
hf_domain_char(unsigned char c)
{
    return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

/* What could be a domain anywhere in the raw text: after every '@'. */
static int
hf_lenient(const char *s, size_t len, struct hdr_from *out)
{
    for (size_t i = 0; i < len; i++) {
        size_t a, b;

        if (s[i] != '@')
            continue;
        for (b = i + 1; b < len && hf_domain_char((unsigned char)s[b]); b++)
            ;
        a = i + 1;
        while (a < b && s[a] == '.')
            a++;
        while (b > a && s[b - 1] == '.')
            b--;
        if (b > a && hf_push(out, s + a, b - a) < 0)
            return -1;
    }
    return 0;
}

void
hdr_from_free(struct hdr_from *hf)
{
    if (hf == NULL)
        return;
    for (size_t i = 0; i < hf->n; i++)
        free(hf->domain[i]);
    free(hf->domain);
    memset(hf, 0, sizeof(*hf));
}

int
hdr_from_parse(const char *value, size_t len, struct hdr_from *hf)
{
    struct hf_lex lx = { value, len, 0, NULL, 0 };
    int rc;

    memset(hf, 0, sizeof(*hf));
    rc = value == NULL ? 1 : hf_list(&lx, hf);
    if (rc == 0 && hf->n == 0) {
        hf_fail(&lx, 0, "at least one mailbox");
        rc = 1;
    }
    if (rc == 1) {
        for (size_t i = 0; i < hf->n; i++)
            free(hf->domain[i]);
        hf->n = 0;
        hf->error = lx.error != NULL ? lx.error : "a mailbox list";
        hf->error_at = lx.error_at;
        if (value != NULL && hf_lenient(value, len, hf) < 0)
            rc = -1;
    }
    if (rc < 0) {
        hdr_from_free(hf);
        return -1;
    }
    return 0;
}
