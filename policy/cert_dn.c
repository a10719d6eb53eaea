/*
 * cert_dn.c -- certificate subject and issuer names as they reach us: RFC 3461
 * xtext (Sendmail), X509_NAME_oneline DNs with OpenSSL's own escapes, RFC 4514
 * DNs written by administrators, and the canonical DN string used for
 * comparisons.
 * Never: logs or exits; never assumes input is printable or well-formed, never
 * copies untrusted bytes into a fixed-size buffer (every buffer is sized from
 * the input), never lets a locale change what compares equal (ASCII only).
 */
#include "cert_dn.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"

/* More attributes than any real certificate carries; bounds work on hostile input. */
#define CERT_DN_MAX_ATTRS 64

static int
dn_hex(unsigned char c, bool lower_ok)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (lower_ok && c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/*
 * xtext (RFC 3461 section 4). The RFC's hexchar is "+" followed by upper-case
 * digits only, and Sendmail's encoder emits upper-case; a lower-case "+2b" was
 * therefore not produced by an xtext encoder, and guessing what it meant would
 * give one name two spellings. It is refused. Sendmail leaves ',' ';' '=' and
 * '\'' unencoded, so every byte other than '+' passes through.
 */
char *
cert_xtext_decode(const char *in, size_t len, size_t *outlen, const char **why)
{
    const char *err = NULL;
    char *out = NULL;
    size_t i, o = 0;

    if (in == NULL) {
        err = "no xtext value";
        errno = EINVAL;
        goto out;
    }
    if (len == SIZE_MAX || (out = malloc(len + 1)) == NULL) {
        err = "out of memory";
        errno = ENOMEM;
        goto out;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];

        if (c == '+') {
            int hi, lo;

            if (len - i < 3 || (hi = dn_hex((unsigned char)in[i + 1], false)) < 0 ||
                (lo = dn_hex((unsigned char)in[i + 2], false)) < 0) {
                err = "'+' is not followed by two upper-case hex digits";
                errno = EINVAL;
                goto out;
            }
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0') {
            err = "xtext decodes to a NUL byte";
            errno = EINVAL;
            goto out;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    if (outlen != NULL)
        *outlen = o;
out:
    if (err != NULL) {
        free(out);
        out = NULL;
        if (why != NULL)
            *why = err;
    }
    return out;
}

/* ---- DN storage ---- */

void
cert_dn_free(struct cert_dn *dn)
{
    size_t i;

    if (dn == NULL)
        return;
    for (i = 0; i < dn->n; i++) {
        free(dn->rdn[i].type);
        free(dn->rdn[i].value);
    }
    free(dn->rdn);
    dn->rdn = NULL;
    dn->n = 0;
}

/* Takes ownership of *value (freed on failure too) and clears it, so that the
 * caller's own cleanup path never frees it twice. */
static int
dn_add(struct cert_dn *dn, const char *type, size_t tlen, char **value, const char **why)
{
    struct cert_rdn *grown;
    char *t = NULL, *v = *value;

    *value = NULL;

    if (dn->n >= CERT_DN_MAX_ATTRS) {
        *why = "DN has more than 64 attributes";
        errno = EINVAL;
        goto fail;
    }
    if ((t = strndup(type, tlen)) == NULL)
        goto nomem;
    if ((grown = realloc(dn->rdn, (dn->n + 1) * sizeof *grown)) == NULL)
        goto nomem;
    dn->rdn = grown;
    dn->rdn[dn->n].type = t;
    dn->rdn[dn->n].value = v;
    dn->n++;
    return 0;
nomem:
    *why = "out of memory";
    errno = ENOMEM;
fail:
    free(t);
    free(v);
    return -1;
}

/* OpenSSL short names, numeric OIDs and RFC 4514 keywords all name attribute types. */
static bool
dn_type_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_';
}

static size_t
dn_type_len(const char *p)
{
    size_t n = 0;

    while (dn_type_char((unsigned char)p[n]))
        n++;
    return n;
}

/*
 * X509_NAME_oneline (OpenSSL 3.0 crypto/x509/x509_obj.c) writes "/TYPE=value" per
 * attribute, "+TYPE=value" for further attributes of the same multi-valued RDN,
 * escapes '/' and '+' in values with a backslash, writes bytes outside ' '..'~'
 * as "\xHH" (upper-case hex), and leaves a backslash itself unescaped. The
 * decoder is that mapping's inverse: a backslash not starting one of those
 * escapes is a literal backslash, and "\xHH" naming a printable byte is literal
 * text too (OpenSSL would have written the byte itself). Lower-case hex is
 * accepted because administrators type this form into the connectors file.
 * Literal value text "\xC3" is indistinguishable from the byte 0xC3; OpenSSL's
 * format has that ambiguity and so must we.
 */
static int
dn_parse_oneline(const char *s, struct cert_dn *dn, const char **why)
{
    const char *p;
    char *val = NULL;
    int rc = -1;

    if (s == NULL || *s == '\0') {
        *why = "empty DN";
        goto inval;
    }
    if (*s != '/') {
        *why = "a DN in X509_NAME_oneline form must start with '/'";
        goto inval;
    }
    p = s + 1;
    for (;;) {
        const char *type = p;
        size_t tlen = dn_type_len(p), o = 0;

        if (tlen == 0) {
            *why = "DN attribute type missing (expected TYPE=value after '/' or '+')";
            goto inval;
        }
        p += tlen;
        if (*p != '=') {
            *why = "DN attribute type not followed by '='";
            goto inval;
        }
        p++;
        /* The decoded value is never longer than what remains of the input. */
        if ((val = malloc(strlen(p) + 1)) == NULL) {
            *why = "out of memory";
            errno = ENOMEM;
            goto out;
        }
        while (*p != '\0' && *p != '/') {
            unsigned char c = (unsigned char)*p;
            int hi, lo;

            /* An unescaped '+' is OpenSSL's multi-valued RDN separator; one not
             * followed by TYPE= (hand-written) is kept as text. */
            if (c == '+') {
                size_t n = dn_type_len(p + 1);

                if (n > 0 && p[1 + n] == '=')
                    break;
            }
            if (c == '\\' && (p[1] == '/' || p[1] == '+')) {
                val[o++] = p[1];
                p += 2;
                continue;
            }
            if (c == '\\' && p[1] == 'x' && (hi = dn_hex((unsigned char)p[2], true)) >= 0 &&
                (lo = dn_hex((unsigned char)p[3], true)) >= 0) {
                unsigned char b = (unsigned char)(hi << 4 | lo);

                if (b == '\0') {
                    *why = "DN value holds a NUL byte (\\x00)";
                    goto inval;
                }
                if (b < ' ' || b > '~') {
                    val[o++] = (char)b;
                    p += 4;
                    continue;
                }
            }
            val[o++] = (char)c;
            p++;
        }
        val[o] = '\0';
        if (dn_add(dn, type, tlen, &val, why) < 0)
            goto out;
        if (*p == '\0')
            break;
        p++;                    /* '/' or '+' */
    }
    rc = 0;
    goto out;
inval:
    errno = EINVAL;
out:
    free(val);
    return rc;
}

/* What both public parsers promise: why may be NULL, and dn comes back either
 * filled or empty, never half-built. */
static int
dn_parse(const char *s, struct cert_dn *dn, const char **why,
         int (*parse)(const char *, struct cert_dn *, const char **))
{
    const char *dummy;
    int rc;

    if (why == NULL)
        why = &dummy;
    if (dn == NULL) {
        *why = "no DN to fill";
        errno = EINVAL;
        return -1;
    }
    dn->n = 0;
    dn->rdn = NULL;
    if ((rc = parse(s, dn, why)) < 0)
        cert_dn_free(dn);
    return rc;
}

int
cert_dn_parse_oneline(const char *s, struct cert_dn *dn, const char **why)
{
    return dn_parse(s, dn, why, dn_parse_oneline);
}

/* RFC 4514 section 3: characters a backslash may escape. */
static bool
dn_4514_special(unsigned char c)
{
    return c != '\0' && strchr("\"+,;<=>\\# ", c) != NULL;
}

/*
 * RFC 4514 string, least significant RDN first. Lenient where leniency cannot
 * change meaning: spaces around ',', '+' and '=' are dropped (trailing spaces
 * only when unescaped), and ';' '<' '>' '=' '"' are taken as text. ',' and '+'
 * are structure and must be escaped inside values. "#hex" BER values are
 * refused: nobody writes them by hand and decoding BER is not worth the risk.
 */
static int
dn_parse_4514(const char *s, struct cert_dn *dn, const char **why)
{
    const char *p = s;
    char *val = NULL;
    int rc = -1;

    for (;;) {
        const char *type;
        size_t tlen, o = 0, keep = 0;

        while (*p == ' ')
            p++;
        type = p;
        if ((tlen = dn_type_len(p)) == 0) {
            *why = *p == '\0' ? "DN ends with a separator (',' or '+')"
                              : "DN attribute type missing (expected TYPE=value)";
            goto inval;
        }
        p += tlen;
        while (*p == ' ')
            p++;
        if (*p != '=') {
            *why = "DN attribute type not followed by '='";
            goto inval;
        }
        p++;
        while (*p == ' ')
            p++;
        if (*p == '#') {
            *why = "DN value in '#' hex (BER) form is not supported; write the text";
            goto inval;
        }
        if ((val = malloc(strlen(p) + 1)) == NULL) {
            *why = "out of memory";
            errno = ENOMEM;
            goto out;
        }
        while (*p != '\0' && *p != ',' && *p != '+') {
            int hi, lo;

            if (*p == '\\') {
                if ((hi = dn_hex((unsigned char)p[1], true)) >= 0 &&
                    (lo = dn_hex((unsigned char)p[2], true)) >= 0) {
                    if (hi == 0 && lo == 0) {
                        *why = "DN value holds a NUL byte (\\00)";
                        goto inval;
                    }
                    val[o++] = (char)(hi << 4 | lo);
                    p += 3;
                } else if (dn_4514_special((unsigned char)p[1])) {
                    val[o++] = p[1];
                    p += 2;
                } else {
                    *why = "'\\' in a DN must be followed by a special character or two hex digits";
                    goto inval;
                }
                keep = o;
                continue;
            }
            val[o++] = *p;
            if (*p != ' ')
                keep = o;
            p++;
        }
        val[keep] = '\0';
        if (dn_add(dn, type, tlen, &val, why) < 0)
            goto out;
        if (*p == '\0')
            break;
        p++;                    /* ',' or '+' */
    }
    rc = 0;
    goto out;
inval:
    errno = EINVAL;
out:
    free(val);
    return rc;
}

/* Either form, told apart by the leading '/' that RFC 4514 never starts with. */
static int
dn_parse_either(const char *s, struct cert_dn *dn, const char **why)
{
    size_t i;

    if (s == NULL || s[strspn(s, " ")] == '\0') {
        *why = "empty DN";
        errno = EINVAL;
        return -1;
    }
    s += strspn(s, " ");
    if (*s == '/')
        return dn_parse_oneline(s, dn, why);
    if (dn_parse_4514(s, dn, why) < 0)
        return -1;
    /* Reverse every attribute, not RDN by RDN: that is what OpenSSL's own RFC 2253
     * printer does with multi-valued RDNs, and administrators copy its output. */
    for (i = 0; i < dn->n / 2; i++) {
        struct cert_rdn t = dn->rdn[i];

        dn->rdn[i] = dn->rdn[dn->n - 1 - i];
        dn->rdn[dn->n - 1 - i] = t;
    }
    return 0;
}

int
cert_dn_parse_config(const char *s, struct cert_dn *dn, const char **why)
{
    return dn_parse(s, dn, why, dn_parse_either);
}

/* ---- attribute types ---- */

struct dn_type_names {
    const char *key;              /* canonical: OpenSSL short name, lower-case */
    const char *names[4];         /* every spelling, compared case-insensitively */
};

static const struct dn_type_names dn_types[] = {
    { "c",            { "C", "countryName", "2.5.4.6", NULL } },
    { "st",           { "ST", "stateOrProvinceName", "S", "2.5.4.8" } },
    { "l",            { "L", "localityName", "2.5.4.7", NULL } },
    { "o",            { "O", "organizationName", "2.5.4.10", NULL } },
    { "ou",           { "OU", "organizationalUnitName", "2.5.4.11", NULL } },
    { "cn",           { "CN", "commonName", "2.5.4.3", NULL } },
    { "emailaddress", { "emailAddress", "E", "1.2.840.113549.1.9.1", NULL } },
    { "street",       { "street", "streetAddress", "2.5.4.9", NULL } },
    { "dc",           { "DC", "domainComponent", "0.9.2342.19200300.100.1.25", NULL } },
    { "uid",          { "UID", "userId", "0.9.2342.19200300.100.1.1", NULL } },
    { "serialnumber", { "serialNumber", "2.5.4.5", NULL, NULL } },
    { "sn",           { "SN", "surname", "2.5.4.4", NULL } },
    { "gn",           { "GN", "givenName", "2.5.4.42", NULL } },
    { "title",        { "title", "2.5.4.12", NULL, NULL } },
};

/* Canonical key of a known type, NULL for one we have no aliases for. */
static const char *
dn_type_key(const char *type)
{
    size_t i, j, tlen = strlen(type);

    for (i = 0; i < sizeof dn_types / sizeof dn_types[0]; i++)
        for (j = 0; j < 4 && dn_types[i].names[j] != NULL; j++)
            if (ascii_caseeq(type, tlen, dn_types[i].names[j], strlen(dn_types[i].names[j])))
                return dn_types[i].key;
    return NULL;
}

const char *
cert_dn_get(const struct cert_dn *dn, const char *type)
{
    const char *want;
    size_t i;

    if (dn == NULL || type == NULL)
        return NULL;
    want = dn_type_key(type);
    for (i = 0; i < dn->n; i++) {
        const char *have = dn_type_key(dn->rdn[i].type);

        if (want != NULL || have != NULL ? want == have
                                         : ascii_caseeq(type, strlen(type), dn->rdn[i].type,
                                                     strlen(dn->rdn[i].type)))
            return dn->rdn[i].value;
    }
    return NULL;
}

/*
 * "/c=DE/o=Test PKI/cn=Test Issuing CA 1". Spaces and tabs are trimmed and folded
 * because administrators retype names; CR, LF and other bytes are kept as they
 * are, so a hostile "a\r\nb" never equals a harmless "a b". '/' and '\' in
 * values are escaped so that no value can forge an attribute boundary.
 * Attributes of a multi-valued RDN come out as separate "/" attributes.
 */
char *
cert_dn_canonical(const struct cert_dn *dn)
{
    char *out = NULL;
    size_t i, need = 1, o = 0;

    if (dn == NULL) {
        errno = EINVAL;
        return NULL;
    }
    for (i = 0; i < dn->n; i++) {
        /* The canonical key may be longer than the alias written ("E"). */
        const char *key = dn_type_key(dn->rdn[i].type);
        size_t tl = strlen(key != NULL ? key : dn->rdn[i].type), vl = strlen(dn->rdn[i].value);

        /* '/' + type + '=' + every value byte possibly escaped; inputs are
         * bounded by the parsers, but the sum is checked anyway. */
        if (vl > (SIZE_MAX - need - tl - 2) / 2) {
            errno = ENOMEM;
            return NULL;
        }
        need += 2 + tl + 2 * vl;
    }
    if ((out = malloc(need)) == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    for (i = 0; i < dn->n; i++) {
        const char *key = dn_type_key(dn->rdn[i].type);
        const char *t = key != NULL ? key : dn->rdn[i].type;
        const unsigned char *v = (const unsigned char *)dn->rdn[i].value;
        bool space = false;

        out[o++] = '/';
        for (; *t != '\0'; t++)
            out[o++] = (char)ascii_lower((unsigned char)*t);
        out[o++] = '=';
        while (*v == ' ' || *v == '\t')
            v++;
        for (; *v != '\0'; v++) {
            if (*v == ' ' || *v == '\t') {
                space = true;
                continue;
            }
            if (space) {
                out[o++] = ' ';
                space = false;
            }
            if (*v == '/' || *v == '\\')
                out[o++] = '\\';
            out[o++] = (char)*v;
        }
    }
    out[o] = '\0';
    return out;
}
