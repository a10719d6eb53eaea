/*
 * policy_eval.c -- decides one recipient: which connector claims the session, whether
 * its requirements hold, and what to do about it, with one reason per failed
 * requirement. A sender domain that a restricting connector lists is owned: only its
 * owners can claim that mail, and any one of them whose match keys and requirements
 * all hold passes it; so must every From: header domain such a connector owns (at
 * end of message). Every other mail goes to the first enabled connector in file
 * order whose match keys all hold. Both are found through the indexes, so the cost
 * does not grow with the connector count. Domains compare as A-labels in lower
 * case: the loader and the facts converted theirs, the recipient's is here.
 * Never: takes a lock, writes to the policy, or allocates anything but the reason
 * strings (and libidn2's scratch for a non-ASCII recipient domain); a fact the MTA could not give fails the requirement that needs it, and a
 * name from a certificate that did not verify neither claims nor satisfies anything.
 * A pinned fingerprint is identity of its own: it claims and satisfies without the
 * CAfile, but never lends its trust to the certificate's names.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cert_name.h"
#include "idna.h"
#include "fingerprint.h"
#include "match_addr.h"
#include "match_domain.h"
#include "pin_index.h"
#include "policy_int.h"
#include "posture.h"
#include "strfmt.h"
#include "tls_facts.h"
#include "trust_store.h"

/* Values from the network echoed in reasons are cut here; reasons are for people. */
#define REASON_VALUE_MAX 96
#define ADDR_SPANS       129

enum key_index { K_SENDER, K_ADDR, K_NAME, K_RCPT, K_CERT, K_FP, K_COUNT };

static const unsigned key_bit[K_COUNT] = {
    POLICY_KEY_SENDER_DOMAIN, POLICY_KEY_CLIENT_ADDR, POLICY_KEY_CLIENT_NAME,
    POLICY_KEY_RCPT_DOMAIN, POLICY_KEY_CERT_NAME, POLICY_KEY_FINGERPRINT,
};

static const char *const key_label[K_COUNT] = {
    "sender domain", "client address", "client name", "recipient domain", "certificate name",
    "certificate fingerprint",
};

/* The id lists every index returned for this session, one set per match key. */
struct lookup {
    struct id_span sender[DOMAIN_MAX_LABELS + 1];
    struct id_span name[DOMAIN_MAX_LABELS + 1];
    struct id_span rcpt[DOMAIN_MAX_LABELS + 1];
    struct id_span cert[DOMAIN_MAX_LABELS + 1];
    struct id_span addr[ADDR_SPANS];
    struct id_span fp[2];                           /* certificate, public key */
    const struct id_span *spans[K_COUNT];
    size_t n[K_COUNT];
    struct id_span owners[DOMAIN_MAX_LABELS + 1];   /* restricting connectors of the sender domain */
    size_t nowners;
};

/* A restricted domain being judged, and where the session named it. */
struct owned {
    const char *what;             /* "sender domain", "From: header domain" */
    const char *domain;
    bool said;                    /* set when a reason named the domain and owner */
};

static int
add_reason(struct policy_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
add_reason(struct policy_result *r, const char *fmt, ...)
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

/* Domain part of a recipient ("<a@b.test>", "a@b.test."), without copying. */
static bool
rcpt_domain(const char *rcpt, const char **dom, size_t *len)
{
    const char *end, *at = NULL;

    if (rcpt == NULL)
        return false;
    end = rcpt + strlen(rcpt);
    if (end > rcpt && end[-1] == '>')
        end--;
    for (const char *p = rcpt; p < end; p++)
        if (*p == '@')
            at = p;
    if (at == NULL || at + 1 >= end)
        return false;
    *dom = at + 1;
    *len = (size_t)(end - *dom);
    return true;
}

static size_t
lookup_domain(const struct domain_table *t, const char *name, size_t len,
              struct id_span *spans, size_t max)
{
    if (t == NULL || name == NULL || len == 0)
        return 0;
    return domain_table_lookup(t, name, len, spans, max);
}

static void
lookup_all(const struct policy *p, const struct policy_facts *f, const char *rcpt,
           struct lookup *lk)
{
    const size_t dmax = DOMAIN_MAX_LABELS + 1;
    char ace[IDNA_DOMAIN_SIZE];
    const char *rdom, *why;
    size_t rlen;
    long n;

    lk->n[K_SENDER] = f->sender_domain == NULL ? 0 :
        lookup_domain(p->by_sender_domain, f->sender_domain, strlen(f->sender_domain), lk->sender, dmax);
    lk->n[K_NAME] = f->client_name == NULL ? 0 :
        lookup_domain(p->by_client_name, f->client_name, strlen(f->client_name), lk->name, dmax);
    lk->n[K_RCPT] = 0;
    if (rcpt_domain(rcpt, &rdom, &rlen)) {
        /* Once per recipient. A name that does not convert is looked up as sent:
         * its non-ASCII bytes or broken A-label equal no entry of the file. */
        if (idna_needed(rdom, rlen) && (n = idna_domain(rdom, rlen, ace, sizeof(ace), &why)) >= 0) {
            rdom = ace;
            rlen = (size_t)n;
        }
        lk->n[K_RCPT] = lookup_domain(p->by_rcpt_domain, rdom, rlen, lk->rcpt, dmax);
    }
    /* An unverified certificate can carry any name: it must not claim a connector. */
    lk->n[K_CERT] = (f->subject_cn == NULL || f->cert_verified != POLICY_TRI_YES) ? 0 :
        lookup_domain(p->by_cert_name, f->subject_cn, strlen(f->subject_cn), lk->cert, dmax);
    lk->n[K_ADDR] = (!f->client_addr_valid || p->by_client_addr == NULL) ? 0 :
        addr_table_lookup(p->by_client_addr, f->client_ip, lk->addr, ADDR_SPANS);
    /* A fingerprint claims whether or not the certificate verified: that is a pin. */
    lk->n[K_FP] = pin_index_lookup(p->by_fingerprint, f->cert_sha256, f->pubkey_sha256, lk->fp, 2);
    lk->nowners = f->sender_domain == NULL ? 0 :
        lookup_domain(p->by_restricted_sender, f->sender_domain, strlen(f->sender_domain),
                      lk->owners, dmax);
    lk->spans[K_SENDER] = lk->sender;
    lk->spans[K_NAME] = lk->name;
    lk->spans[K_RCPT] = lk->rcpt;
    lk->spans[K_CERT] = lk->cert;
    lk->spans[K_ADDR] = lk->addr;
    lk->spans[K_FP] = lk->fp;
}

static bool
key_holds(const struct lookup *lk, enum key_index k, uint32_t id)
{
    return lk->n[k] > 0 && id_span_contains(lk->spans[k], lk->n[k], id);
}

/* Does connector id claim the mail: does every one of its match keys hold? */
static bool
claims(const struct policy *p, const struct lookup *lk, uint32_t id)
{
    const struct policy_connector *c = &p->conn[id];

    for (int k = 0; k < K_COUNT; k++)
        if ((c->keys & key_bit[k]) && !key_holds(lk, (enum key_index)k, id))
            return false;
    return true;
}

/* The smallest id that claims mail from a sender domain nobody owns. Every claimant
 * appears in some index span (a connector has at least one key, and a claim needs
 * every key to hold), and spans are ascending, so each span is scanned only up to
 * the best id found so far. A restricting connector never claims here: its sender
 * key holds only for a domain it owns. */
static uint32_t
find_connector(const struct policy *p, const struct lookup *lk)
{
    uint32_t best = UINT32_MAX;

    for (int k = 0; k < K_COUNT; k++)
        for (size_t s = 0; s < lk->n[k]; s++) {
            const struct id_span *sp = &lk->spans[k][s];

            for (size_t i = 0; i < sp->n && sp->ids[i] < best; i++)
                if (claims(p, lk, sp->ids[i])) {
                    best = sp->ids[i];
                    break;
                }
        }
    return best;
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

static const struct trust_roots *
roots_of_issuer(const struct policy *p, const struct policy_facts *f)
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
            if (add_reason(r, "TLS version '%.*s' is unknown (required %s or better)", vmax,
                           f->tls_version ? f->tls_version : "", tls_version_name(q->min_version)) < 0)
                return -1;
        } else if (f->version < q->min_version) {
            if (add_reason(r, "TLS version %s is below the required %s",
                           tls_version_name(f->version), tls_version_name(q->min_version)) < 0)
                return -1;
        }
    }
    if (q->min_cipher_bits > 0) {
        if (f->cipher_bits < 0) {
            if (add_reason(r, "cipher strength unknown (required %d bits)", q->min_cipher_bits) < 0)
                return -1;
        } else if (f->cipher_bits < q->min_cipher_bits) {
            if (add_reason(r, "cipher strength %d bits is below the required %d",
                           f->cipher_bits, q->min_cipher_bits) < 0)
                return -1;
        }
    }
    if (q->forward_secrecy && f->fs != POLICY_TRI_YES) {
        if (f->cipher == NULL) {
            if (add_reason(r, "forward secrecy unknown: the MTA passed no cipher") < 0)
                return -1;
        } else if (f->fs == POLICY_TRI_UNKNOWN) {
            if (add_reason(r, "forward secrecy unknown: cipher '%.*s' is not in OpenSSL's table",
                           vmax, f->cipher) < 0)
                return -1;
        } else if (add_reason(r, "cipher %.*s does not provide forward secrecy", vmax, f->cipher) < 0) {
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
            return add_reason(r, f->deleg == POLICY_DELEG_MISSING ?
                "client certificate unknown: Postfix policy delegation sent nothing for this "
                "connection (put check_policy_service before any permit_* in "
                "smtpd_recipient_restrictions)" :
                "client certificate unknown: Postfix gives the milter no certificate for an "
                "unverified client; enable policy delegation (-d)");
        if (f->cert_presented == POLICY_TRI_UNKNOWN)
            return add_reason(r, "client certificate unknown: the MTA passed no {cert_subject}");
        return add_reason(r, "no client certificate");
    }
    if (q->certificate == POLICY_CERT_VERIFIED && f->cert_verified != POLICY_TRI_YES) {
        /* delegation tells an untrusted certificate from none (doc/mta-facts.md 12) */
        if (postfix && f->cert_presented == POLICY_TRI_YES)
            return add_reason(r, "client certificate did not verify (Postfix sent no {cert_subject})");
        if (postfix && f->cert_presented == POLICY_TRI_NO && f->deleg == POLICY_DELEG_MATCHED)
            return add_reason(r, "no client certificate");
        if (postfix)
            return add_reason(r, "no verified client certificate");
        if (f->cert_verified == POLICY_TRI_UNKNOWN)
            return add_reason(r, "certificate verification unknown: Sendmail passed no {verify}");
        if (f->cert_presented != POLICY_TRI_YES)
            return add_reason(r, "no client certificate");
        return add_reason(r, "client certificate not verified ({verify}=%.*s)",
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
    const struct trust_roots *named = roots_of_issuer(p, f);
    const char *iss = posture_issuer(f);
    char list[256], unres[256];
    size_t bad = 0;

    list_text(&q->issuers, list, sizeof(list));
    unresolved_text(&q->issuers, unres, sizeof(unres));
    if (iss == NULL)
        return add_reason(r, "no certificate issuer to match %s%s", list, unres);
    if (named == NULL || named->nca == 0)
        return add_reason(r, "issuer '%.*s' is not in the trust store, so it is not one of %s%s",
                          REASON_VALUE_MAX, iss, list, unres);
    for (size_t k = 0; k < named->nca; k++)
        bad += !names_have(&q->issuers, named->ca[k]);
    if (bad == 0)
        return 0;
    if (named->nca > 1 && bad < named->nca)
        return add_reason(r, "issuer '%.*s' names %zu CAs of the trust store, not all of which "
                          "are allowed (%s)%s", REASON_VALUE_MAX, iss, named->nca, list, unres);
    return add_reason(r, "issuer '%.*s' is not one of %s%s", REASON_VALUE_MAX, iss, list, unres);
}

/* root_issuers: every root the issuer chains to must be one the names resolved
 * to; cross-signed issuers have several candidate roots, and the MTA does not
 * say which chain it built. */
static int
check_roots(const struct policy *p, const struct policy_require *q,
            const struct policy_facts *f, struct policy_result *r)
{
    const struct trust_roots *roots = roots_of_issuer(p, f);
    const char *iss = posture_issuer(f);
    const int vmax = REASON_VALUE_MAX;
    char list[256], unres[256];
    size_t bad = 0;

    list_text(&q->root_issuers, list, sizeof(list));
    unresolved_text(&q->root_issuers, unres, sizeof(unres));
    if (iss == NULL)
        return add_reason(r, "no certificate issuer, so no root to match %s%s", list, unres);
    if (roots == NULL)
        return add_reason(r, "issuer '%.*s' is not in the trust store, so its root is unknown%s",
                          vmax, iss, unres);
    if (roots->n == 0)
        return add_reason(r, "issuer '%.*s' chains to no root in the trust store%s", vmax, iss,
                          unres);
    for (size_t j = 0; j < roots->n; j++)
        bad += !names_have(&q->root_issuers, roots->root[j]);
    if (bad == 0)
        return 0;
    return add_reason(r, roots->n > 1 ?
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
            if (add_reason(r, "certificate name '%.*s' is from a certificate that did not verify",
                           vmax, f->subject_cn) < 0)
                return -1;
        } else if (!ok) {
            list_text(&q->certificate_names, list, sizeof(list));
            if (f->subject_cn == NULL ? add_reason(r, "no certificate name to match %s", list) < 0 :
                add_reason(r, "certificate name '%.*s' does not match %s", vmax, f->subject_cn, list) < 0)
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
            if (add_reason(r, "organization '%.*s' is not one of %s", vmax, f->subject_o, list) < 0)
                return -1;
        } else if (postfix) {
            if (add_reason(r, "organization cannot be checked: Postfix passes only the certificate CN") < 0)
                return -1;
        } else if (add_reason(r, "certificate has no organization (O) to match %s", list) < 0) {
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
        return add_reason(r, "no client certificate to match the %zu pinned (first %s %s)", n,
                          kind, want);
    /* a certificate pin is judged by the certificate's fingerprint when there is one */
    if (have == NULL && pins->ncert > 0 && pins->npubkey > 0 && f->pubkey_sha256 != NULL) {
        have = f->pubkey_sha256;
        kind = "public key";
    }
    if (have == NULL)
        return add_reason(r, "no SHA-256 %s fingerprint to match the %zu pinned (first %s): %s",
                          kind, n, want, fp_missing(f, !by_cert));
    fingerprint_short(have, seen);
    return add_reason(r, "%s fingerprint %s is not pinned (%zu pinned, first %s %s)", kind, seen,
                      n, by_cert ? "certificate" : "public key", want);
}

/* min_key_bits for a session that shows none of the pinned certificates. */
static int
key_bits_reason(const struct policy_require *q, const struct policy_facts *f,
                struct policy_result *r)
{
    if (f->cert_presented == POLICY_TRI_NO)
        return add_reason(r, "no client certificate, so no key of at least %d bits",
                          q->min_key_bits);
    return add_reason(r, "key size unknown (required %d bits): no MTA passes it, so it is "
                      "known only for certificates pinned with require.certificates",
                      q->min_key_bits);
}

static int
check_require(const struct policy *p, const struct policy_require *q, const struct policy_facts *f,
              bool claimed_by_pin, struct policy_result *r)
{
    bool pinned;

    if (!q->any)
        return 0;
    /* Without TLS every TLS requirement fails for the same reason: say it once. */
    if (!f->tls)
        return needs_tls(q) ? add_reason(r, "the session was not encrypted (TLS required)") : 0;
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

/* Which of a restricting connector's other keys the session missed. what names
 * where the owned domain came from ("sender domain", "From: header domain"). */
static int
restricted_reason(const struct policy_connector *c, const struct lookup *lk, uint32_t id,
                  struct owned *o, struct policy_result *r)
{
    char missed[128] = "";
    size_t used = 0;

    for (int k = 0; k < K_COUNT; k++)
        if ((c->keys & key_bit[k]) && !key_holds(lk, (enum key_index)k, id)) {
            int w = snprintf(missed + used, sizeof(missed) - used, "%s%s",
                             used ? ", " : "", key_label[k]);

            if (w < 0 || (size_t)w >= sizeof(missed) - used)
                break;
            used += (size_t)w;
        }
    o->said = true;
    return add_reason(r, "%s %.*s is restricted to connector %s, but the %s did not match",
                      o->what, REASON_VALUE_MAX, o->domain ? o->domain : "", c->name, missed);
}

/* Judge the mail against connector id (UINT32_MAX: the defaults). With restricted
 * (non-NULL), the connector owns that domain but its other match keys missed,
 * which is a reason of its own. */
static int
judge(const struct policy *p, const struct policy_facts *f, const struct lookup *lk,
      uint32_t id, struct owned *restricted, struct policy_result *r)
{
    const struct policy_require *q;
    const struct trust_roots *roots;
    enum policy_action on_fail;
    bool claimed_by_pin = false;

    memset(r, 0, sizeof(*r));
    if (id != UINT32_MAX) {
        const struct policy_connector *c = &p->conn[id];

        r->connector = c->name;
        r->mode = c->has_mode ? c->mode : p->settings.mode;
        r->reply = c->reply;
        q = &c->require;
        on_fail = c->on_fail;
        claimed_by_pin = (c->keys & POLICY_KEY_FINGERPRINT) && key_holds(lk, K_FP, id);
        if (restricted != NULL && restricted_reason(c, lk, id, restricted, r) < 0)
            goto fail;
    } else {
        r->connector = "default";
        r->is_default = true;
        r->mode = p->settings.mode;
        q = &p->default_require;
        on_fail = p->default_on_fail;
    }
    if (check_require(p, q, f, claimed_by_pin, r) < 0)
        goto fail;
    if ((roots = roots_of_issuer(p, f)) != NULL && roots->n > 0)
        r->root = roots->display;

    if (r->nreasons > 0) {
        r->verdict = POLICY_VERDICT_FAIL;
        r->action = on_fail;
    } else {
        r->verdict = q->any ? POLICY_VERDICT_PASS : POLICY_VERDICT_NONE;
        r->action = POLICY_ACTION_ACCEPT;
    }
    return 0;
fail:
    policy_result_free(r);
    return -1;
}

/*
 * The sender domain is owned (lk->nowners > 0). The owners, in file order: the
 * first whose match keys all hold and whose requirements hold passes the mail;
 * else the mail fails with the closest candidate's reasons, which is the first
 * owner whose match keys all hold, or failing that the first owner, whose reasons
 * then open with the keys the session missed. Owners are few (the connectors that
 * list this domain), so judging each one fully costs little.
 */
static int
judge_owned(const struct policy *p, const struct policy_facts *f, const struct lookup *lk,
            struct owned *o, struct policy_result *r)
{
    uint32_t first = UINT32_MAX, full = UINT32_MAX, passed = UINT32_MAX;

    for (size_t s = 0; s < lk->nowners; s++) {
        const struct id_span *sp = &lk->owners[s];

        for (size_t i = 0; i < sp->n && sp->ids[i] < passed; i++) {
            uint32_t id = sp->ids[i];
            struct policy_result t;

            if (id < first)
                first = id;
            if (!claims(p, lk, id))
                continue;
            if (id < full)
                full = id;
            if (judge(p, f, lk, id, NULL, &t) < 0)
                return -1;
            if (t.verdict != POLICY_VERDICT_FAIL)
                passed = id;
            policy_result_free(&t);
        }
    }
    if (passed != UINT32_MAX)
        return judge(p, f, lk, passed, NULL, r);
    if (full != UINT32_MAX)
        return judge(p, f, lk, full, NULL, r);
    return judge(p, f, lk, first, o, r);
}

/* Does b refuse more than a: refusing beats not, then the stronger action. */
static bool
result_worse(const struct policy_result *a, const struct policy_result *b)
{
    bool ra = policy_result_refuses(a), rb = policy_result_refuses(b);

    if (ra != rb)
        return rb;
    return a->verdict != POLICY_VERDICT_FAIL ? b->verdict == POLICY_VERDICT_FAIL
                                             : b->verdict == POLICY_VERDICT_FAIL && b->action > a->action;
}

/* Put text first among r's reasons, so the header and the log say why first. */
static int
lead_reason(struct policy_result *r, char *text)
{
    if (text == NULL)
        return -1;
    if (r->nreasons == POLICY_MAX_REASONS)
        free(r->reasons[--r->nreasons]);
    memmove(r->reasons + 1, r->reasons, r->nreasons * sizeof(r->reasons[0]));
    r->reasons[0] = text;
    r->nreasons++;
    return 0;
}

/*
 * RFC 5322 From: domains (known at end of message) that a restricting connector
 * owns must hold as an envelope sender domain would: the owners are judged with
 * that domain in the sender's place, every other fact as it is (lk's sender and
 * owner spans are overwritten: the envelope's were used already). The worst
 * such result replaces r when it is worse, and says first which From: domain
 * it is about. The envelope sender domain was judged already and is skipped.
 */
static int
judge_from(const struct policy *p, const struct policy_facts *f, struct lookup *lk,
           struct policy_result *r)
{
    const size_t dmax = DOMAIN_MAX_LABELS + 1;

    for (size_t i = 0; i < f->nfrom; i++) {
        const char *d = f->from_domains[i];
        /* A field that does not parse is read leniently (hdr_from.c): say so. */
        struct owned o = { f->from_unparsed ? "From: header domain (the field does not parse; read leniently)"
                                            : "From: header domain", d, false };
        struct policy_result t;

        if (f->sender_domain != NULL && strcmp(d, f->sender_domain) == 0)
            continue;
        lk->nowners = lookup_domain(p->by_restricted_sender, d, strlen(d), lk->owners, dmax);
        if (lk->nowners == 0)
            continue;
        lk->n[K_SENDER] = lookup_domain(p->by_sender_domain, d, strlen(d), lk->sender, dmax);
        if (judge_owned(p, f, lk, &o, &t) < 0)
            return -1;
        if (t.verdict != POLICY_VERDICT_FAIL || !result_worse(r, &t)) {
            policy_result_free(&t);
            continue;
        }
        /* When the owner's keys missed, its first reason said so already. */
        if (!o.said && lead_reason(&t, strfmt("%s %.*s is restricted to connector %s", o.what,
                                              REASON_VALUE_MAX, d, t.connector)) < 0) {
            policy_result_free(&t);
            return -1;
        }
        policy_result_free(r);
        *r = t;
    }
    return 0;
}

int
policy_eval(const struct policy *p, const struct policy_facts *f, const char *rcpt,
            struct policy_result *r)
{
    struct lookup lk;

    struct owned env = { "sender domain", f->sender_domain, false };
    int rc;

    lookup_all(p, f, rcpt, &lk);
    if (lk.nowners > 0)
        rc = judge_owned(p, f, &lk, &env, r);
    else
        rc = judge(p, f, &lk, find_connector(p, &lk), NULL, r);
    if (rc < 0 || f->nfrom == 0)
        return rc;
    return judge_from(p, f, &lk, r);
}

void
policy_result_free(struct policy_result *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nreasons; i++)
        free(r->reasons[i]);
    memset(r, 0, sizeof(*r));
}

bool
policy_result_refuses(const struct policy_result *r)
{
    return r->mode == POLICY_MODE_ENFORCE &&
           (r->action == POLICY_ACTION_REJECT || r->action == POLICY_ACTION_TEMPFAIL);
}
