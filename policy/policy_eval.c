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
 * Whether a require block holds is eval_require.c's question.
 * Never: takes a lock, writes to the policy, or allocates anything but the reason
 * strings (and libidn2's scratch for a non-ASCII recipient domain); a fact the
 * MTA could not give fails the requirement that needs it, and a name from a
 * certificate that did not verify neither claims nor satisfies anything.
 * A pinned fingerprint is identity of its own: it claims and satisfies without the
 * CAfile, but never lends its trust to the certificate's names.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "eval_require.h"
#include "idna.h"
#include "match_addr.h"
#include "match_domain.h"
#include "pin_index.h"
#include "policy_int.h"
#include "strfmt.h"
#include "trust_store.h"

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
    return eval_reason_add(r, "%s %.*s is restricted to connector %s, but the %s did not match",
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
    if (eval_check_require(p, q, f, claimed_by_pin, r) < 0)
        goto fail;
    if ((roots = eval_roots_of_issuer(p, f)) != NULL && roots->n > 0)
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
