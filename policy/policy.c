/*
 * policy.c -- lifetime of the immutable policy snapshot (reference counting with
 * C11 atomics, freeing a whole or half-built model), its accessors, and the
 * name <-> enum tables used in the connectors file, logs and results.
 * Never: parses files (policy_load.c does), logs, or changes a snapshot once a
 * second reference may exist.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy_int.h"
#include "outbound_int.h"
#include "match_domain.h"
#include "match_addr.h"
#include "pin_index.h"
#include "trust_store.h"

/* ---------------------------------------------------------------- freeing */

void
policy_names_free(struct policy_names *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->n; i++)
        free(n->v[i]);
    free(n->v);
    free(n->is_dn);
    for (size_t i = 0; n->text != NULL && i < n->n; i++)
        free(n->text[i]);
    for (size_t i = 0; n->match != NULL && i < n->n; i++)
        trust_match_free(&n->match[i]);
    free(n->text);
    free(n->line);
    free(n->column);
    free(n->match);
    memset(n, 0, sizeof *n);
}

void
policy_require_free(struct policy_require *r)
{
    if (r == NULL)
        return;
    policy_names_free(&r->certificate_names);
    policy_names_free(&r->issuers);
    policy_names_free(&r->root_issuers);
    policy_names_free(&r->organizations);
    pins_free(&r->pins);
}

void
policy_free_internal(struct policy *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nconn; i++) {
        free(p->conn[i].name);
        free(p->conn[i].reply);
        policy_require_free(&p->conn[i].require);
        pins_free(&p->conn[i].match_pins);
    }
    free(p->conn);
    policy_require_free(&p->default_require);
    domain_table_free(p->by_sender_domain);
    domain_table_free(p->by_client_name);
    domain_table_free(p->by_rcpt_domain);
    domain_table_free(p->by_cert_name);
    domain_table_free(p->by_restricted_sender);
    addr_table_free(p->by_client_addr);
    pin_index_free(p->by_fingerprint);
    trust_store_free(p->trust);
    outbound_free_all(p);
    for (size_t i = 0; i < p->nintermediates; i++)
        free(p->intermediates[i]);
    free(p->intermediates);
    free(p->trust_store_path);
    free(p->header);
    free(p->authserv_id);
    free(p->log_json);
    free(p->hostname);
    free(p->path);
    free(p);
}

/* ---------------------------------------------------------------- references */

struct policy *
policy_ref(struct policy *p)
{
    if (p != NULL)
        atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    return p;
}

void
policy_unref(struct policy *p)
{
    if (p == NULL)
        return;
    /* acq_rel: the thread that frees must see every other holder's reads done. */
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
        policy_free_internal(p);
}

/* ---------------------------------------------------------------- accessors */

const struct policy_settings *
policy_settings(const struct policy *p)
{
    return &p->settings;
}

size_t
policy_connector_count(const struct policy *p)
{
    return p->nconn;
}

const char *
policy_path(const struct policy *p)
{
    return p->path;
}

const char *
policy_hash(const struct policy *p)
{
    return p->hash;
}

/* ---------------------------------------------------------------- enum names */

static const char *const mode_names[] = {
    [POLICY_MODE_ENFORCE] = "enforce",
    [POLICY_MODE_MONITOR] = "monitor",
};

static const char *const verdict_names[] = {
    [POLICY_VERDICT_NONE] = "none",
    [POLICY_VERDICT_PASS] = "pass",
    [POLICY_VERDICT_FAIL] = "fail",
};

static const char *const action_names[] = {
    [POLICY_ACTION_ACCEPT]     = "accept",
    [POLICY_ACTION_TAG]        = "tag",
    [POLICY_ACTION_QUARANTINE] = "quarantine",
    [POLICY_ACTION_TEMPFAIL]   = "tempfail",
    [POLICY_ACTION_REJECT]     = "reject",
};

static const char *const mta_names[] = {
    [POLICY_MTA_AUTO]     = "auto",
    [POLICY_MTA_POSTFIX]  = "postfix",
    [POLICY_MTA_SENDMAIL] = "sendmail",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *
name_of(const char *const *names, size_t n, int v)
{
    if (v < 0 || (size_t)v >= n || names[v] == NULL)
        return "?";
    return names[v];
}

/* Names in the connectors file are lower case and matched exactly, so that a
 * file means the same thing to every reader of it. */
static int
parse_of(const char *const *names, size_t n, const char *s)
{
    if (s == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (names[i] != NULL && strcmp(names[i], s) == 0)
            return (int)i;
    return -1;
}

const char *
policy_mode_name(enum policy_mode m)
{
    return name_of(mode_names, NELEM(mode_names), (int)m);
}

const char *
policy_verdict_name(enum policy_verdict v)
{
    return name_of(verdict_names, NELEM(verdict_names), (int)v);
}

const char *
policy_action_name(enum policy_action a)
{
    return name_of(action_names, NELEM(action_names), (int)a);
}

const char *
policy_mta_name(enum policy_mta m)
{
    return name_of(mta_names, NELEM(mta_names), (int)m);
}

const char *
policy_tri_name(enum policy_tri t)
{
    switch (t) {
    case POLICY_TRI_YES:
        return "yes";
    case POLICY_TRI_NO:
        return "no";
    case POLICY_TRI_UNKNOWN:
        break;
    }
    return "unknown";
}

int
policy_action_parse(const char *s)
{
    return parse_of(action_names, NELEM(action_names), s);
}

int
policy_mode_parse(const char *s)
{
    return parse_of(mode_names, NELEM(mode_names), s);
}

/* The MTA comes from a command-line option, where "Postfix" is a fair spelling. */
int
policy_mta_parse(const char *s)
{
    if (s == NULL)
        return -1;
    for (size_t i = 0; i < NELEM(mta_names); i++)
        if (strcasecmp(mta_names[i], s) == 0)
            return (int)i;
    return -1;
}

/* ---------------------------------------------------------------- CA names */

const struct trust_store *
policy_trust_store(const struct policy *p)
{
    return p != NULL ? p->trust : NULL;
}

/* The names of one list as policy_ca_name entries; i counts down through them. */
static bool
ca_name_in(const char *conn, const char *key, const struct policy_names *n, size_t *i,
           struct policy_ca_name *out)
{
    if (n->text == NULL || *i >= n->n) {
        *i -= n->text != NULL ? n->n : 0;
        return false;
    }
    out->connector = conn;
    out->key = key;
    out->text = n->text[*i];
    out->line = n->line[*i];
    out->column = n->column[*i];
    out->match = n->match != NULL ? &n->match[*i] : NULL;
    return true;
}

bool
policy_ca_name(const struct policy *p, size_t i, struct policy_ca_name *out)
{
    if (p == NULL)
        return false;
    if (ca_name_in("defaults", "issuers", &p->default_require.issuers, &i, out) ||
        ca_name_in("defaults", "root_issuers", &p->default_require.root_issuers, &i, out))
        return true;
    for (size_t c = 0; c < p->nconn; c++)
        if (ca_name_in(p->conn[c].name, "issuers", &p->conn[c].require.issuers, &i, out) ||
            ca_name_in(p->conn[c].name, "root_issuers", &p->conn[c].require.root_issuers, &i, out))
            return true;
    return false;
}
