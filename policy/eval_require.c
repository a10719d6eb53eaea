/*
 * eval_require.c -- whether one require block holds for a session: TLS version,
 * cipher and forward secrecy, certificate status, names, issuers and roots (as
 * the loader resolved them to certificates), pins and key size, with one reason
 * per failed requirement naming the value seen and the value required.
 * Never: takes a lock, writes to the policy, allocates anything but the reason
 * strings, or passes a requirement on a fact the MTA did not give; a name from a
 * certificate that did not verify satisfies nothing, and a pin never lends its
 * trust to the certificate's names.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cert_name.h"
#include "eval_require.h"
#include "fingerprint.h"
#include "policy_int.h"
#include "posture.h"
#include "strfmt.h"
#include "tls_facts.h"
#include "trust_store.h"

int
eval_reason_add(struct policy_result *r, const char *fmt, ...)
{
    va_list ap;
    char *s;

    if (r->nreasons >= POLICY_MAX_REASONS)
        return 0;
    va_start(ap, fmt);
    s = vstrfmt(fmt, ap);
    va_end(ap);
    if (s == NULL)
        return -1;
    r->reasons[r->nreasons++] = s;
    return 0;
}

static bool
name_in(const struct policy_names *n, const char *value)
{
    for (size_t i = 0; i < n->n; i++)
        if (strcasecmp(n->v[i], value) == 0)
            return true;
    return false;
}

/* "a, b, c" of a name list, for reasons; bounded so a huge list stays readable. */
static void
list_text(const struct policy_names *n, char *buf, size_t size)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n->n && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", n->v[i]);

        if (w < 0 || (size_t)w >= size - used) {
            if (size > 4)
                memcpy(buf + size - 4, "...", 4);
            return;
        }
        used += (size_t)w;
    }
}

const struct trust_roots *
eval_roots_of_issuer(const struct policy *p, const struct policy_facts *f)
{
    const struct trust_roots *r = NULL;

    if (p->trust == NULL)
        return NULL;
    if (f->issuer_dn != NULL)
        r = trust_store_roots_by_dn(p->trust, f->issuer_dn);
    if (r == NULL && f->issuer_cn != NULL)
        r = trust_store_roots_by_cn(p->trust, f->issuer_cn);
    return r;
}

static bool
needs_tls(const struct policy_require *q)
{
    return pins_any(&q->pins) || q->min_key_bits > 0 || q->tls || q->min_version != TLS_VERSION_UNKNOWN || q->min_cipher_bits > 0 ||
           q->forward_secrecy || q->certificate != POLICY_CERT_ANY ||
           q->certificate_names.n > 0 || q->issuers.n > 0 || q->root_issuers.n > 0 ||
           q->organizations.n > 0;
}

static bool
needs_cert(const struct policy_require *q)
{
    return pins_any(&q->pins) || q->min_key_bits > 0 || q->certificate != POLICY_CERT_ANY || q->certificate_names.n > 0 ||
           q->issuers.n > 0 || q->root_issuers.n > 0 || q->organizations.n > 0;
}

static int
check_cipher(const struct policy_require *q, const struct policy_facts *f, struct policy_result *r)
{
    const int vmax = REASON_VALUE_MAX;

    if (q->min_version != TLS_VERSION_UNKNOWN) {
        if (f->version == TLS_VERSION_UNKNOWN) {
            if (eval_reason_add(r, "TLS version '%.*s' is unknown (required %s or better)", vmax,
                           f->tls_version ? f->tls_version : "", tls_version_name(q->min_version)) < 0)
                return -1;
        } else if (f->version < q->min_version) {
            if (eval_reason_add(r, "TLS version %s is below the required %s",
                           tls_version_name(f->version), tls_version_name(q->min_version)) < 0)
                return -1;
        }
    }
    if (q->min_cipher_bits > 0) {
        if (f->cipher_bits < 0) {
            if (eval_reason_add(r, "cipher strength unknown (required %d bits)", q->min_cipher_bits) < 0)
                return -1;
        } else if (f->cipher_bits < q->min_cipher_bits) {
            if (eval_reason_add(r, "cipher strength %d bits is below the required %d",
                           f->cipher_bits, q->min_cipher_bits) < 0)
                return -1;
        }
    }
    if (q->forward_secrecy && f->fs != POLICY_TRI_YES) {
        if (f->cipher == NULL) {
            if (eval_reason_add(r, "forward secrecy unknown: the MTA passed no cipher") < 0)
                return -1;
        } else if (f->fs == POLICY_TRI_UNKNOWN) {
            if (eval_reason_add(r, "forward secrecy unknown: cipher '%.*s' is not in OpenSSL's table",
                           vmax, f->cipher) < 0)
                return -1;
        } else if (eval_reason_add(r, "cipher %.*s does not provide forward secrecy", vmax, f->cipher) < 0) {
            return -1;
        }
    }
    return 0;
}

/* With pinned (a pin of this block, or the fingerprint the connector was claimed
 * by, matched), the certificate is the partner's whatever the CAfile says. */
static int
check_certificate(const struct policy_require *q, const struct policy_facts *f, bool pinned,
                  struct policy_result *r)
{
    bool postfix = f->mta == POLICY_MTA_POSTFIX;

    if (pinned)
        return 0;
    if (q->certificate == POLICY_CERT_PRESENTED && f->cert_presented != POLICY_TRI_YES) {
        if (f->cert_presented == POLICY_TRI_UNKNOWN && postfix)
            return eval_reason_add(r, f->deleg == POLICY_DELEG_MISSING ?
                "client certificate unknown: Postfix policy delegation sent nothing for this "
                "connection (put check_policy_service before any permit_* in "
                "smtpd_recipient_restrictions)" :
                "client certificate unknown: Postfix gives the milter no certificate for an "
                "unverified client; enable policy delegation (-d)");
        if (f->cert_presented == POLICY_TRI_UNKNOWN)
            return eval_reason_add(r, "client certificate unknown: the MTA passed no {cert_subject}");
        return eval_reason_add(r, "no client certificate");
    }
    if (q->certificate == POLICY_CERT_VERIFIED && f->cert_verified != POLICY_TRI_YES) {
        /* delegation tells an untrusted certificate from none (doc/mta-facts.md 12) */
        if (postfix && f->cert_presented == POLICY_TRI_YES)
            return eval_reason_add(r, "client certificate did not verify (Postfix sent no {cert_subject})");
        if (postfix && f->cert_presented == POLICY_TRI_NO && f->deleg == POLICY_DELEG_MATCHED)
            return eval_reason_add(r, "no client certificate");
        if (postfix)
            return eval_reason_add(r, "no verified client certificate");
        if (f->cert_verified == POLICY_TRI_UNKNOWN)
            return eval_reason_add(r, "certificate verification unknown: Sendmail passed no {verify}");
        if (f->cert_presented != POLICY_TRI_YES)
            return eval_reason_add(r, "no client certificate");
        return eval_reason_add(r, "client certificate not verified ({verify}=%.*s)",
                          REASON_VALUE_MAX, f->verify ? f->verify : "");
    }
    return 0;
}

/* Whether c is one of the certificates a name of the list resolved to. */
static bool
names_have(const struct policy_names *n, const struct trust_cert *c)
{
    for (size_t i = 0; n->match != NULL && i < n->n; i++)
        if (trust_match_has(&n->match[i], c))
            return true;
    return false;
}

/* "; not in the trust store: 'A', 'B'" for the names that resolved to no CA, or
 * to several: they fail closed, and the reason must say which they are. */
static void
unresolved_text(const struct policy_names *n, char *buf, size_t size)
{
    size_t used = 0;
    bool any = false;

    buf[0] = '\0';
    for (size_t i = 0; i < n->n && used < size; i++) {
        const char *what = n->text != NULL ? n->text[i] : n->v[i];
        int w;

        if (n->match != NULL && n->match[i].found == TRUST_FOUND_ONE)
            continue;
        w = snprintf(buf + used, size - used, "%s'%s'",
                     any ? ", " : "; not resolved in the trust store: ", what);
        any = true;
        if (w < 0 || (size_t)w >= size - used) {
            if (size > 4)
                memcpy(buf + size - 4, "...", 4);
            return;
        }
        used += (size_t)w;
    }
}

/*
 * issuers: the issuer the MTA names (its DN on Sendmail, its CN on Postfix) is
 * looked up in the trust store, and every CA certificate that carries that name
 * must be one the file's names resolved to: the MTA does not say which of two
 * same-named CAs signed, so both must be allowed.
 */
static int
check_issuers(const struct policy *p, const struct policy_require *q,
              const struct policy_facts *f, struct policy_result *r)
{
    const struct trust_roots *named = eval_roots_of_issuer(p, f);
    const char *iss = posture_issuer(f);
    char list[256], unres[256];
    size_t bad = 0;

    list_text(&q->issuers, list, sizeof(list));
    unresolved_text(&q->issuers, unres, sizeof(unres));
    if (iss == NULL)
        return eval_reason_add(r, "no certificate issuer to match %s%s", list, unres);
    if (named == NULL || named->nca == 0)
        return eval_reason_add(r, "issuer '%.*s' is not in the trust store, so it is not one of %s%s",
                          REASON_VALUE_MAX, iss, list, unres);
    for (size_t k = 0; k < named->nca; k++)
        bad += !names_have(&q->issuers, named->ca[k]);
    if (bad == 0)
        return 0;
    if (named->nca > 1 && bad < named->nca)
        return eval_reason_add(r, "issuer '%.*s' names %zu CAs of the trust store, not all of which "
                          "are allowed (%s)%s", REASON_VALUE_MAX, iss, named->nca, list, unres);
    return eval_reason_add(r, "issuer '%.*s' is not one of %s%s", REASON_VALUE_MAX, iss, list, unres);
}

/* root_issuers: every root the issuer chains to must be one the names resolved
 * to; cross-signed issuers have several candidate roots, and the MTA does not
 * say which chain it built. */
static int
check_roots(const struct policy *p, const struct policy_require *q,
            const struct policy_facts *f, struct policy_result *r)
{
    const struct trust_roots *roots = eval_roots_of_issuer(p, f);
    const char *iss = posture_issuer(f);
    const int vmax = REASON_VALUE_MAX;
    char list[256], unres[256];
    size_t bad = 0;

    list_text(&q->root_issuers, list, sizeof(list));
    unresolved_text(&q->root_issuers, unres, sizeof(unres));
    if (iss == NULL)
        return eval_reason_add(r, "no certificate issuer, so no root to match %s%s", list, unres);
    if (roots == NULL)
        return eval_reason_add(r, "issuer '%.*s' is not in the trust store, so its root is unknown%s",
                          vmax, iss, unres);
    if (roots->n == 0)
        return eval_reason_add(r, "issuer '%.*s' chains to no root in the trust store%s", vmax, iss,
                          unres);
    for (size_t j = 0; j < roots->n; j++)
        bad += !names_have(&q->root_issuers, roots->root[j]);
    if (bad == 0)
        return 0;
    return eval_reason_add(r, roots->n > 1 ?
                      "issuer '%.*s' chains to roots %s, not all of which are allowed (%s)%s" :
                      "issuer '%.*s' chains to root %s, which is not allowed (%s)%s",
                      vmax, iss, roots->display, list, unres);
}

/* Certificate names are answered only where the MTA passed them. */
static int
check_names(const struct policy *p, const struct policy_require *q, const struct policy_facts *f,
            struct policy_result *r)
{
    const int vmax = REASON_VALUE_MAX;
    bool postfix = f->mta == POLICY_MTA_POSTFIX;
    char list[256];

    if (q->certificate_names.n > 0) {
        bool ok = false;

        for (size_t i = 0; f->subject_cn != NULL && i < q->certificate_names.n && !ok; i++)
            ok = cert_name_match(q->certificate_names.v[i], f->subject_cn);
        if (ok && f->cert_verified != POLICY_TRI_YES) {
            /* Anyone can put a partner's name in a certificate nobody verified. */
            if (eval_reason_add(r, "certificate name '%.*s' is from a certificate that did not verify",
                           vmax, f->subject_cn) < 0)
                return -1;
        } else if (!ok) {
            list_text(&q->certificate_names, list, sizeof(list));
            if (f->subject_cn == NULL ? eval_reason_add(r, "no certificate name to match %s", list) < 0 :
                eval_reason_add(r, "certificate name '%.*s' does not match %s", vmax, f->subject_cn, list) < 0)
                return -1;
        }
    }
    if (q->issuers.n > 0 && check_issuers(p, q, f, r) < 0)
        return -1;
    if (q->root_issuers.n > 0 && check_roots(p, q, f, r) < 0)
        return -1;
    if (q->organizations.n > 0 && (f->subject_o == NULL || !name_in(&q->organizations, f->subject_o))) {
        list_text(&q->organizations, list, sizeof(list));
        if (f->subject_o != NULL) {
            if (eval_reason_add(r, "organization '%.*s' is not one of %s", vmax, f->subject_o, list) < 0)
                return -1;
        } else if (postfix) {
            if (eval_reason_add(r, "organization cannot be checked: Postfix passes only the certificate CN") < 0)
                return -1;
        } else if (eval_reason_add(r, "certificate has no organization (O) to match %s", list) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Why no fingerprint is known, and how to get one; "" when one is. */
static const char *
fp_missing(const struct policy_facts *f, bool pubkey)
{
    const char *what = pubkey ? "public key fingerprint" : "certificate fingerprint";

    /* facts.c notes a digest that is not SHA-256 (an MD5 {cert_md5}, say) */
    for (size_t i = 0; i < f->nnotes; i++)
        if (strncmp(f->notes[i], what, strlen(what)) == 0)
            return f->notes[i];
    if (f->mta == POLICY_MTA_POSTFIX)
        return pubkey ? "Postfix gives ccert_pubkey_fingerprint only through policy delegation "
                        "(check_policy_service, smtpd_tls_fingerprint_digest = sha256)"
                      : "Postfix gives ccert_fingerprint only through policy delegation "
                        "(check_policy_service, smtpd_tls_fingerprint_digest = sha256)";
    return pubkey ? "Sendmail passes no public key fingerprint (pin the certificate with "
                    "certificate_fingerprints or certificates instead)"
                  : "Sendmail sends {cert_fp} only with CertFingerprintAlgorithm=sha256 "
                    "(define(`confCERT_FINGERPRINT_ALGORITHM', `sha256') in sendmail.mc) and "
                    "{cert_fp} in the milter macro list";
}

/* A pin failed: what the session showed, and what was pinned (count and first). */
static int
pin_reason(const struct policy_pins *pins, const struct policy_facts *f, struct policy_result *r)
{
    char seen[FINGERPRINT_SHORT_SIZE], want[FINGERPRINT_SHORT_SIZE];
    size_t n = pins->ncert + pins->npubkey;
    bool by_cert = pins->ncert > 0;
    const char *first = by_cert ? pins->cert[0].hex : pins->pubkey[0].hex;
    const char *have = by_cert ? f->cert_sha256 : f->pubkey_sha256;
    const char *kind = by_cert ? "certificate" : "public key";

    fingerprint_short(first, want);
    if (f->cert_presented == POLICY_TRI_NO)
        return eval_reason_add(r, "no client certificate to match the %zu pinned (first %s %s)", n,
                          kind, want);
    /* a certificate pin is judged by the certificate's fingerprint when there is one */
    if (have == NULL && pins->ncert > 0 && pins->npubkey > 0 && f->pubkey_sha256 != NULL) {
        have = f->pubkey_sha256;
        kind = "public key";
    }
    if (have == NULL)
        return eval_reason_add(r, "no SHA-256 %s fingerprint to match the %zu pinned (first %s): %s",
                          kind, n, want, fp_missing(f, !by_cert));
    fingerprint_short(have, seen);
    return eval_reason_add(r, "%s fingerprint %s is not pinned (%zu pinned, first %s %s)", kind, seen,
                      n, by_cert ? "certificate" : "public key", want);
}

/* min_key_bits for a session that shows none of the pinned certificates. */
static int
key_bits_reason(const struct policy_require *q, const struct policy_facts *f,
                struct policy_result *r)
{
    if (f->cert_presented == POLICY_TRI_NO)
        return eval_reason_add(r, "no client certificate, so no key of at least %d bits",
                          q->min_key_bits);
    return eval_reason_add(r, "key size unknown (required %d bits): no MTA passes it, so it is "
                      "known only for certificates pinned with require.certificates",
                      q->min_key_bits);
}

int
eval_check_require(const struct policy *p, const struct policy_require *q, const struct policy_facts *f,
              bool claimed_by_pin, struct policy_result *r)
{
    bool pinned;

    if (!q->any)
        return 0;
    /* Without TLS every TLS requirement fails for the same reason: say it once. */
    if (!f->tls)
        return needs_tls(q) ? eval_reason_add(r, "the session was not encrypted (TLS required)") : 0;
    pinned = pins_match(&q->pins, f->cert_sha256, f->pubkey_sha256);
    if (check_cipher(q, f, r) < 0)
        return -1;
    if (pins_any(&q->pins) && !pinned && pin_reason(&q->pins, f, r) < 0)
        return -1;
    if (needs_cert(q) && check_certificate(q, f, pinned || claimed_by_pin, r) < 0)
        return -1;
    if (check_names(p, q, f, r) < 0)
        return -1;
    /* After a failed pin the key size adds nothing the pin reason did not say. */
    if (q->min_key_bits > 0 && (pinned || !pins_any(&q->pins)) &&
        pins_file_of(&q->pins, f->cert_sha256, f->pubkey_sha256) == NULL)
        return key_bits_reason(q, f, r);
    return 0;
}

