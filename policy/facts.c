/*
 * facts.c -- MTA macro normalisation: turns the raw values Postfix or Sendmail sent
 * into one session record (struct policy_facts) that the evaluator can trust to mean
 * the same thing whichever MTA sent it.
 * Never: decides anything (that is policy_eval.c), or treats an absent macro as an
 * empty one; Postfix sends certificate names only for verified certificates, Sendmail
 * always, and the record must say which (doc/mta-facts.md sections 0 and 6).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "cert_name.h"
#include "hdr_from.h"
#include "idna.h"
#include "match_addr.h"
#include "policy.h"
#include "strfmt.h"
#include "tls_facts.h"

/* Values echoed into notes are cut here: notes are read by people, not parsed. */
#define NOTE_VALUE_MAX 64

static bool
present(const char *s)
{
    return s != NULL && *s != '\0';
}

static int
set_str(char **dst, const char *src, size_t len)
{
    if ((*dst = strndup(src, len)) == NULL)
        return -1;
    return 0;
}

static int
add_note(struct policy_facts *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
add_note(struct policy_facts *f, const char *fmt, ...)
{
    va_list ap;
    char *s;

    if (f->nnotes >= sizeof(f->notes) / sizeof(f->notes[0]))
        return 0;                           /* the first notes are the useful ones */
    va_start(ap, fmt);
    s = vstrfmt(fmt, ap);
    va_end(ap);
    if (s == NULL)
        return -1;
    f->notes[f->nnotes++] = s;
    return 0;
}

/* Without one trailing dot, in A-labels and lower case (idna.c), so that every
 * spelling of a name meets the file's one; *dst NULL when nothing is left. A
 * name that does not convert is kept lower-cased as sent, with a note: it can
 * then equal no file entry, all of which converted. */
static int
set_domain(struct policy_facts *f, const char *what, char **dst, const char *src, size_t len)
{
    char buf[IDNA_DOMAIN_SIZE];
    const char *why;
    long n;

    *dst = NULL;
    if (len > 0 && src[len - 1] == '.')
        len--;
    if (len == 0)
        return 0;
    if (idna_needed(src, len)) {
        errno = 0;
        if ((n = idna_domain(src, len, buf, sizeof(buf), &why)) >= 0)
            return set_str(dst, buf, (size_t)n);
        if (errno == ENOMEM)
            return -1;
        if (add_note(f, "%s '%.*s' is not a valid internationalised domain name (%s); "
                     "compared as sent", what, (int)(len < NOTE_VALUE_MAX ? len : NOTE_VALUE_MAX),
                     src, why) < 0)
            return -1;
    }
    if (set_str(dst, src, len) < 0)
        return -1;
    for (char *p = *dst; *p; p++)
        *p = (char)ascii_lower((unsigned char)*p);
    return 0;
}

enum policy_mta
policy_mta_detect(const struct policy_macros *m)
{
    if (m->mta != POLICY_MTA_AUTO)
        return m->mta;
    if (m->mta_version != NULL && strncasecmp(m->mta_version, "Postfix", 7) == 0)
        return POLICY_MTA_POSTFIX;
    /* {verify} is a Sendmail macro that Postfix never sends (doc/mta-facts.md 4.1). */
    if (m->verify != NULL)
        return POLICY_MTA_SENDMAIL;
    /* Sendmail sends X509_NAME_oneline DNs; a Postfix CN never starts with '/'
     * unless the CN itself does, which no sane CA issues. */
    if ((m->cert_subject != NULL && m->cert_subject[0] == '/') ||
        (m->cert_issuer != NULL && m->cert_issuer[0] == '/'))
        return POLICY_MTA_SENDMAIL;
    if (m->client_addr != NULL && strncasecmp(m->client_addr, "IPv6:", 5) == 0)
        return POLICY_MTA_SENDMAIL;
    /* Sendmail's "v" is a bare version number ("8.17.1.9"). */
    if (m->mta_version != NULL && isdigit((unsigned char)m->mta_version[0]))
        return POLICY_MTA_SENDMAIL;
    /* Postfix also sends "" subjects only for verified certificates with no usable CN,
     * and in every other case its macros are a subset of Sendmail's: assume Postfix,
     * which is the stricter reading of an absent certificate. */
    return POLICY_MTA_POSTFIX;
}

/* Sender: "<a@b.test>", "a@b.test", "<>", "", "<@relay:a@b.test>" (source route). */
static int
build_sender(struct policy_facts *f, const char *s)
{
    size_t len;
    const char *at, *colon;

    if (s == NULL)
        return 0;
    while (*s == ' ' || *s == '\t')
        s++;
    len = strlen(s);
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
        s++;
        len -= 2;
    }
    if (len == 0) {
        f->sender_null = true;
        return set_str(&f->sender, "", 0);
    }
    if (s[0] == '@' && (colon = memchr(s, ':', len)) != NULL) {
        len -= (size_t)(colon + 1 - s);
        s = colon + 1;
    }
    if (set_str(&f->sender, s, len) < 0)
        return -1;
    /* The last '@' separates the domain even when the local part is quoted. */
    at = NULL;
    for (const char *p = s; p < s + len; p++)
        if (*p == '@')
            at = p;
    if (at == NULL)
        return 0;
    return set_domain(f, "sender domain", &f->sender_domain, at + 1,
                      (size_t)(s + len - (at + 1)));
}

static int
build_client(struct policy_facts *f, const struct policy_macros *m)
{
    if (m->client_addr != NULL && addr_parse(m->client_addr, strlen(m->client_addr), f->client_ip) == 0) {
        char buf[64];

        f->client_addr_valid = true;
        addr_format(f->client_ip, buf, sizeof(buf));
        if ((f->client_addr = strdup(buf)) == NULL)
            return -1;
    } else if (present(m->client_addr)) {
        if (set_str(&f->client_addr, m->client_addr, strlen(m->client_addr)) < 0 ||
            add_note(f, "client address '%.*s' is not an IP address", NOTE_VALUE_MAX, m->client_addr) < 0)
            return -1;
    }
    /* The one place of this rule (macros.c passes names as sent). Postfix says
     * "unknown" and Sendmail "[192.0.2.1]" when the name did not verify:
     * neither is a name anyone may match on. */
    if (present(m->client_name) && strcasecmp(m->client_name, "unknown") != 0 && m->client_name[0] != '[')
        if (set_domain(f, "client name", &f->client_name, m->client_name,
                       strlen(m->client_name)) < 0)
            return -1;
    if (m->helo != NULL && set_str(&f->helo, m->helo, strlen(m->helo)) < 0)
        return -1;
    return 0;
}

static int
build_cipher(struct policy_facts *f, const struct policy_macros *m)
{
    struct tls_cipher_info info;

    f->version = TLS_VERSION_UNKNOWN;
    f->cipher_bits = -1;
    f->fs = POLICY_TRI_NO;
    f->tls = present(m->tls_version);
    if (!f->tls)
        return 0;
    if (set_str(&f->tls_version, m->tls_version, strlen(m->tls_version)) < 0)
        return -1;
    f->version = tls_version_parse(m->tls_version);
    if (f->version == TLS_VERSION_UNKNOWN &&
        add_note(f, "unknown TLS version '%.*s'", NOTE_VALUE_MAX, m->tls_version) < 0)
        return -1;

    f->fs = POLICY_TRI_UNKNOWN;
    if (present(m->cipher)) {
        if (set_str(&f->cipher, m->cipher, strlen(m->cipher)) < 0)
            return -1;
        if (tls_cipher_lookup(m->cipher, &info) == 0 && info.known) {
            f->fs = info.forward_secret ? POLICY_TRI_YES : POLICY_TRI_NO;
            f->cipher_bits = info.bits;     /* fallback when the MTA sent no bits */
        } else if (add_note(f, "cipher '%.*s' is not in OpenSSL's cipher table",
                            NOTE_VALUE_MAX, m->cipher) < 0) {
            return -1;
        }
    }
    if (m->cipher_bits != NULL) {
        char *end;
        long v;

        errno = 0;
        v = strtol(m->cipher_bits, &end, 10);
        if (isdigit((unsigned char)m->cipher_bits[0]) && *end == '\0' && errno == 0 && v <= 65536) {
            f->cipher_bits = (int)v;
        } else {
            f->cipher_bits = -1;
            if (add_note(f, "cipher_bits '%.*s' is not a number", NOTE_VALUE_MAX, m->cipher_bits) < 0)
                return -1;
        }
    }
    return 0;
}

/* A Sendmail DN: xtext, then X509_NAME_oneline escapes. Fills dn/cn/o; on a decoding
 * problem leaves them NULL and notes why (the requirement that needs them then fails). */
static int
sendmail_name(struct policy_facts *f, const char *what, const char *value,
              char **dn_out, char **cn_out, char **o_out)
{
    struct cert_dn dn = { 0, NULL };
    const char *why = NULL, *v;
    char *decoded;
    int rc = -1;

    errno = 0;
    decoded = cert_xtext_decode(value, strlen(value), NULL, &why);
    if (decoded == NULL) {
        if (errno == ENOMEM)
            return -1;
        return add_note(f, "%s '%.*s' is not valid xtext: %s", what, NOTE_VALUE_MAX, value,
                        why ? why : "malformed");
    }
    errno = 0;
    if (cert_dn_parse_oneline(decoded, &dn, &why) < 0) {
        rc = errno == ENOMEM ? -1 : add_note(f, "%s '%.*s' is not a distinguished name: %s",
                                             what, NOTE_VALUE_MAX, value, why ? why : "malformed");
        goto out;
    }
    if ((*dn_out = cert_dn_canonical(&dn)) == NULL)
        goto out;
    if ((v = cert_dn_get(&dn, "CN")) != NULL && (*cn_out = strdup(v)) == NULL)
        goto out;
    if (o_out != NULL && (v = cert_dn_get(&dn, "O")) != NULL && (*o_out = strdup(v)) == NULL)
        goto out;
    rc = 0;
out:
    cert_dn_free(&dn);
    free(decoded);
    return rc;
}

static int
build_cert_postfix(struct policy_facts *f, const struct policy_macros *m)
{
    /* Postfix: {cert_subject} is the subject CN and is sent only when the client
     * certificate verified; an untrusted certificate looks exactly like none. */
    if (m->cert_subject != NULL) {
        f->cert_presented = POLICY_TRI_YES;
        f->cert_verified = POLICY_TRI_YES;
        if (set_str(&f->subject_cn, m->cert_subject, strlen(m->cert_subject)) < 0)
            return -1;
        if (m->cert_issuer != NULL &&
            set_str(&f->issuer_cn, m->cert_issuer, strlen(m->cert_issuer)) < 0)
            return -1;
    } else {
        f->cert_presented = f->tls ? POLICY_TRI_UNKNOWN : POLICY_TRI_NO;
        f->cert_verified = POLICY_TRI_NO;
    }
    return 0;
}

static int
build_cert_sendmail(struct policy_facts *f, const struct policy_macros *m)
{
    if (m->verify != NULL) {
        if (set_str(&f->verify, m->verify, strlen(m->verify)) < 0)
            return -1;
        f->cert_verified = strcmp(m->verify, "OK") == 0 ? POLICY_TRI_YES : POLICY_TRI_NO;
    } else {
        f->cert_verified = f->tls ? POLICY_TRI_UNKNOWN : POLICY_TRI_NO;
    }
    /* Sendmail sends "" subjects for a TLS session without a client certificate. */
    if (present(m->cert_subject)) {
        f->cert_presented = POLICY_TRI_YES;
        if (sendmail_name(f, "cert_subject", m->cert_subject,
                          &f->subject_dn, &f->subject_cn, &f->subject_o) < 0)
            return -1;
    } else if (m->cert_subject != NULL || !f->tls) {
        f->cert_presented = POLICY_TRI_NO;
    } else {
        f->cert_presented = POLICY_TRI_UNKNOWN;
    }
    /* verify=NO means "no certificate presented" in Sendmail's vocabulary. */
    if (f->verify != NULL && strcmp(f->verify, "NO") == 0 && f->cert_presented == POLICY_TRI_UNKNOWN)
        f->cert_presented = POLICY_TRI_NO;
    if (present(m->cert_issuer) &&
        sendmail_name(f, "cert_issuer", m->cert_issuer, &f->issuer_dn, &f->issuer_cn, NULL) < 0)
        return -1;
    return 0;
}

/* Bring "35:56:96:FC:..." to "355696fc..." when it is a SHA-256; anything else
 * leaves *out NULL with a note, since a pin must never match a guess. */
static int
build_fingerprint(struct policy_facts *f, const char *what, const char *raw, char **out)
{
    size_t len = strlen(raw), n = 0;
    char *hex;

    if (len == 0)
        return 0;
    if ((hex = malloc(len + 1)) == NULL)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c == ':' && n > 0 && n % 2 == 0 && i + 1 < len && raw[i + 1] != ':')
            continue;
        if (!isxdigit(c)) {
            free(hex);
            return add_note(f, "%s \"%.*s\" is not hex bytes separated by colons", what,
                            NOTE_VALUE_MAX, raw);
        }
        hex[n++] = (char)tolower(c);
    }
    hex[n] = '\0';
    if (n != 64) {
        free(hex);
        return add_note(f, "%s has %zu hex digits, a SHA-256 has 64 (%s); set the MTA's "
                        "fingerprint digest to sha256", what, n,
                        n == 32 ? "this is MD5" : n == 40 ? "this is SHA-1" : "unknown digest");
    }
    *out = hex;
    return 0;
}

static int
build_fingerprints(struct policy_facts *f, const struct policy_macros *m)
{
    if (m->cert_fp != NULL) {
        /* The fingerprint is sent for every presented certificate, verified or not,
         * and "" for none: the one fact that tells "untrusted" from "absent". */
        if (*m->cert_fp == '\0' && f->cert_presented == POLICY_TRI_UNKNOWN)
            f->cert_presented = POLICY_TRI_NO;
        else if (*m->cert_fp != '\0')
            f->cert_presented = POLICY_TRI_YES;
        if (build_fingerprint(f, "certificate fingerprint", m->cert_fp, &f->cert_sha256) < 0)
            return -1;
    }
    if (m->pubkey_fp != NULL &&
        build_fingerprint(f, "public key fingerprint", m->pubkey_fp, &f->pubkey_sha256) < 0)
        return -1;
    return 0;
}

int
policy_facts_build(struct policy_facts *f, const struct policy_macros *m)
{
    memset(f, 0, sizeof(*f));
    f->mta = policy_mta_detect(m);
    f->cert_presented = POLICY_TRI_NO;
    f->cert_verified = POLICY_TRI_NO;

    if (build_client(f, m) < 0 || build_sender(f, m->sender) < 0 || build_cipher(f, m) < 0)
        goto fail;
    if (f->mta == POLICY_MTA_SENDMAIL ? build_cert_sendmail(f, m) < 0 : build_cert_postfix(f, m) < 0)
        goto fail;
    if (build_fingerprints(f, m) < 0)
        goto fail;
    /* Sendmail gives {cert_fp} itself: delegation is a Postfix matter */
    f->deleg = f->mta == POLICY_MTA_POSTFIX ? m->deleg : POLICY_DELEG_OFF;
    if (f->deleg == POLICY_DELEG_MISSING && f->tls &&
        add_note(f, "Postfix policy delegation sent nothing for this connection: no "
                 "certificate fingerprint") < 0)
        goto fail;
    return 0;
fail:
    policy_facts_free(f);
    return -1;
}

void
policy_facts_free(struct policy_facts *f)
{
    if (f == NULL)
        return;
    free(f->client_addr);
    free(f->client_name);
    free(f->helo);
    free(f->sender);
    free(f->sender_domain);
    free(f->tls_version);
    free(f->cipher);
    free(f->subject_cn);
    free(f->subject_dn);
    free(f->subject_o);
    free(f->issuer_cn);
    free(f->issuer_dn);
    free(f->verify);
    free(f->cert_sha256);
    free(f->pubkey_sha256);
    for (size_t i = 0; i < f->nfrom; i++)
        free(f->from_domains[i]);
    free(f->from_domains);
    for (size_t i = 0; i < f->nnotes; i++)
        free(f->notes[i]);
    memset(f, 0, sizeof(*f));
}

static int
from_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Keep from_domains sorted and each domain once: a field may repeat a domain
 * thousands of times, and the evaluator looks each one up per recipient. */
static void
from_unique(struct policy_facts *f)
{
    size_t k = 0;

    qsort(f->from_domains, f->nfrom, sizeof(*f->from_domains), from_cmp);
    for (size_t i = 0; i < f->nfrom; i++) {
        if (k > 0 && strcmp(f->from_domains[k - 1], f->from_domains[i]) == 0)
            free(f->from_domains[i]);
        else
            f->from_domains[k++] = f->from_domains[i];
    }
    f->nfrom = k;
}

int
policy_facts_add_header_from(struct policy_facts *f, const char *value)
{
    struct hdr_from hf;
    char **v;
    int rc = -1;

    if (value == NULL)
        return 0;
    if (hdr_from_parse(value, strlen(value), &hf) < 0)
        return -1;
    if (hf.error != NULL) {
        f->from_unparsed = true;
        if (add_note(f, "From: header '%.*s' does not parse at byte %zu (expected %s)",
                     NOTE_VALUE_MAX, value, hf.error_at, hf.error) < 0)
            goto out;
    }
    if (hf.n > 0) {
        if (f->nfrom + hf.n < f->nfrom ||
            (v = realloc(f->from_domains, (f->nfrom + hf.n) * sizeof(*v))) == NULL)
            goto out;
        f->from_domains = v;
        for (size_t i = 0; i < hf.n; i++) {
            char *d = NULL;

            if (set_domain(f, "From: domain", &d, hf.domain[i], strlen(hf.domain[i])) < 0)
                goto out;
            if (d != NULL)
                f->from_domains[f->nfrom++] = d;
        }
        from_unique(f);
    }
    rc = 0;
out:
    hdr_from_free(&hf);
    return rc;
}
