/*
 * authres.c -- the authserv-id of an Authentication-Results field (RFC 8601
 * 2.2: authserv-id = value, RFC 2045's token or RFC 5322's quoted-string, with
 * CFWS around it). A forger spells our id the way a mail reader will still
 * accept: quoted, with quoted-pairs, folded, behind nested comments; every such
 * spelling is read here to the id it means, and compared with ours.
 * Never: allocates, logs, or reads past the value's terminating NUL.
 */
#include <stddef.h>

#include "ascii.h"
#include "authres.h"

/* Compares the id as it is decoded, one byte at a time, with no copy. */
struct authres_cmp {
    const char *id;
    size_t i;
    bool differs;
};

static void
authres_cmp_put(struct authres_cmp *c, unsigned char ch)
{
    if (c->differs)
        return;
    if (c->id[c->i] == '\0' || ascii_lower((unsigned char)c->id[c->i]) != ascii_lower(ch))
        c->differs = true;
    else
        c->i++;
}

/* Folding white space: RFC 5322's FWS plus the bare CR and LF a lenient reader
 * takes as white space too. */
static bool
authres_is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skip CFWS: white space and comments, nested, with quoted-pairs in them.
 * NULL when a comment never ends (no reader agrees on what follows it). */
static const char *
authres_skip_cfws(const char *p)
{
    int depth;

    for (;;) {
        while (authres_is_ws(*p))
            p++;
        if (*p != '(')
            return p;
        for (depth = 0; *p != '\0'; p++) {
            if (*p == '\\' && p[1] != '\0')
                p++;
            else if (*p == '(')
                depth++;
            else if (*p == ')' && --depth == 0)
                break;
        }
        if (*p == '\0')
            return NULL;
        p++;
    }
}

/* RFC 2045 tspecials and the bytes no token may hold: where a token ends. */
static bool
authres_token_end(unsigned char c)
{
    static const char tspecials[] = "()<>@,;:\\\"/[]?=";

    if (c <= ' ' || c == 0x7f)
        return true;
    for (const char *t = tspecials; *t != '\0'; t++)
        if ((unsigned char)*t == c)
            return true;
    return false;
}

/* A quoted-string from its opening quote: the content decoded, quoted-pairs
 * unescaped, the CR and LF of a fold dropped (RFC 5322 3.2.4: the CRLF of FWS
 * inside a quoted-string is not part of it; the white space after it is).
 * False when the closing quote is missing. */
static bool
authres_quoted(const char *p, struct authres_cmp *c)
{
    for (p++; *p != '"'; p++) {
        if (*p == '\0')
            return false;
        if (*p == '\\') {
            if (p[1] == '\0')
                return false;
            p++;
        } else if (*p == '\r' || *p == '\n') {
            continue;
        }
        authres_cmp_put(c, (unsigned char)*p);
    }
    return true;
}

bool
authres_names_id(const char *value, const char *id)
{
    struct authres_cmp c = { .id = id, .i = 0, .differs = false };
    const char *p;

    if (value == NULL || id == NULL || id[0] == '\0')
        return false;
    if ((p = authres_skip_cfws(value)) == NULL)
        return false;
    if (*p == '"') {
        if (!authres_quoted(p, &c))
            return false;
    } else {
        /* What follows the token (CFWS, a version, ";") does not change the
         * id; a stray special right after it does not make it someone else's. */
        if (authres_token_end((unsigned char)*p))
            return false;
        for (; !authres_token_end((unsigned char)*p); p++)
            authres_cmp_put(&c, (unsigned char)*p);
    }
    return !c.differs && id[c.i] == '\0';
}
