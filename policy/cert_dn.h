/*
 * cert_dn.h -- certificate DNs as MTAs pass them: RFC 3461 xtext ("+20"),
 * X509_NAME_oneline DNs ("/C=GB/O=Partner A Ltd/CN=mail.partner-a.test" with its
 * own "\/", "\+", "\xC3" escapes), RFC 4514 DNs written by administrators,
 * and their canonical form.
 * Never: trusts its input; every length is checked, nothing is assumed printable.
 */
#ifndef CERT_DN_H
#define CERT_DN_H

#include <stdbool.h>
#include <stddef.h>

/* Decode xtext. Returns a new NUL-terminated string (length in *outlen if not NULL),
 * or NULL with *why set to a static string when the input is not valid xtext
 * ("+" not followed by two upper-case hex digits) or decodes to a NUL byte.
 * errno is ENOMEM when out of memory. */
char *cert_xtext_decode(const char *in, size_t len, size_t *outlen, const char **why);

struct cert_rdn {
    char *type;                   /* as written, e.g. "CN", "O", "emailAddress" */
    char *value;                  /* decoded bytes, NUL-terminated */
};

struct cert_dn {
    size_t n;
    struct cert_rdn *rdn;         /* most significant first (C before CN) */
};

/* Parse an X509_NAME_oneline string (already xtext-decoded). Returns 0, or -1 with
 * *why set (static) when malformed; errno ENOMEM when out of memory. */
int  cert_dn_parse_oneline(const char *s, struct cert_dn *dn, const char **why);
/* Parse an administrator's DN: either oneline form ("/C=DE/O=x/CN=y") or RFC 4514
 * ("CN=y,O=x,C=DE", least significant first, "\," escapes). */
int  cert_dn_parse_config(const char *s, struct cert_dn *dn, const char **why);
void cert_dn_free(struct cert_dn *dn);
/* First value of an attribute type (case-insensitive type; "CN" also matches
 * "commonName"), or NULL. */
const char *cert_dn_get(const struct cert_dn *dn, const char *type);
/* Canonical form used for comparisons: "/c=DE/o=Test PKI/cn=Test Issuing CA 1":
 * short lower-case types, most significant first, values as decoded with runs of
 * white space folded. New string or NULL (ENOMEM). Compare canonical forms with
 * strcasecmp. */
char *cert_dn_canonical(const struct cert_dn *dn);

#endif
