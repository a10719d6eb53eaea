/*
 * load_connector.c -- reads the connectors list: each connector's name (unique,
 * checked with a hash set), match keys, require block, action and reply, the
 * cross-checks between them, and the match indexes its keys go into.
 * Never: reads settings or defaults (load_settings.c), includes yaml.h, or
 * indexes a connector of a file that will not load.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "load_int.h"
#include "load_values.h"
#include "match_addr.h"
#include "match_domain.h"
#include "pin_index.h"
#include "tls_facts.h"

static const char *const match_keys[] = {
    "sender_domains", "client_addresses", "client_names", "recipient_domains",
    "certificate_names", "certificate_fingerprints", "public_key_fingerprints",
};
/* The fingerprint keys come after MK_N: they go to the connector's match_pins
 * and the fingerprint index, not to the name lists. */
enum { MK_SENDER, MK_ADDR, MK_CNAME, MK_RCPT, MK_CERT, MK_N, MK_CERT_FP = MK_N, MK_KEY_FP,
       MK_ALL };
_Static_assert(MK_N == LOAD_NKEYS, "r->match keeps one list per match key");
static const unsigned match_bits[MK_N] = {
    POLICY_KEY_SENDER_DOMAIN, POLICY_KEY_CLIENT_ADDR, POLICY_KEY_CLIENT_NAME,
    POLICY_KEY_RCPT_DOMAIN, POLICY_KEY_CERT_NAME,
};
static const struct section match_sec = {
    "match", match_keys, MK_ALL,
    "sender_domains, client_addresses, client_names, recipient_domains, certificate_names, "
    "certificate_fingerprints, public_key_fingerprints",
    NULL, NULL,
};

static const char *const conn_keys[] = {
    "name", "enabled", "mode", "match", "require", "restrict_sender_domains", "on_fail", "reply",
};
enum { CK_NAME, CK_ENABLED, CK_MODE, CK_MATCH, CK_REQUIRE, CK_RESTRICT, CK_ON_FAIL, CK_REPLY,
       CK_N };
static const struct section conn_sec = {
    "connector", conn_keys, CK_N,
    "name, enabled, mode, match, require, restrict_sender_domains, on_fail, reply", NULL, NULL,
};

static int
read_match(struct rd *r, struct policy_connector *c, struct strlist lists[MK_N])
{
    unsigned first[MK_ALL] = { 0 };
    struct load_mark vm, km;
    int rc = load_enter_map(r, "match", &vm), k, one;
    bool any = false;

    if (rc != RD_OK)
        return rc;
    while ((k = load_map_key(r, &match_sec, first, &km)) != KEY_END) {
        if (k == KEY_FATAL)
            return RD_FATAL;
        any = true;
        if (k == KEY_SKIP) {
            rc = RD_BAD;
            continue;
        }
        if (k == MK_CERT_FP || k == MK_KEY_FP) {
            one = load_fingerprints(r, match_keys[k], k == MK_KEY_FP, &c->match_pins);
            if (one == RD_FATAL)
                return RD_FATAL;
            if (one == RD_OK)
                c->keys |= POLICY_KEY_FINGERPRINT;
            else
                rc = RD_BAD;
            continue;
        }
        if (k == MK_ADDR)
            one = load_list(r, match_keys[k], "an IP address or CIDR prefix", addr_cidr_check,
                            false, &lists[k]);
        else
            one = load_domain_list(r, match_keys[k], "a domain pattern", domain_pattern_check,
                                   &lists[k]);
        if (one == RD_FATAL)
            return RD_FATAL;
        if (one == RD_OK)
            c->keys |= match_bits[k];
        else
            rc = RD_BAD;
    }
    if (!any) {
        err_at(r, vm, "match: the mapping is empty (expected at least one of: %s)",
               match_sec.expected);
        rc = RD_BAD;
    }
    return rc;
}

static uint64_t
name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Remember a connector name; returns the line of an earlier connector of that
 * name, 0 when new, or -1 when out of memory. */
static long
name_seen(struct rd *r, uint32_t idx, unsigned line)
{
    const char *s = r->p->conn[idx].name;
    uint64_t h = name_hash(s);
    size_t i;

    if ((r->names_used + 1) * 2 > r->names_cap) {
        size_t cap = r->names_cap ? r->names_cap * 2 : 64;
        struct name_slot *nv = calloc(cap, sizeof(*nv));
        if (nv == NULL)
            return -1;
        for (i = 0; i < r->names_cap; i++) {
            if (r->names[i].idx1 == 0)
                continue;
            size_t j = r->names[i].hash & (cap - 1);
            while (nv[j].idx1 != 0)
                j = (j + 1) & (cap - 1);
            nv[j] = r->names[i];
        }
        free(r->names);
        r->names = nv;
        r->names_cap = cap;
    }
    for (i = h & (r->names_cap - 1); r->names[i].idx1 != 0; i = (i + 1) & (r->names_cap - 1))
        if (r->names[i].hash == h && strcmp(r->p->conn[r->names[i].idx1 - 1].name, s) == 0)
            return r->names[i].line;
    r->names[i].hash = h;
    r->names[i].idx1 = idx + 1;
    r->names[i].line = line;
    r->names_used++;
    return 0;
}

/* Append an empty connector to p->conn. */
static struct policy_connector *
conn_new(struct rd *r, size_t *cap)
{
    struct policy *p = r->p;
    if (p->nconn == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        struct policy_connector *v = realloc(p->conn, ncap * sizeof(*v));
        if (v == NULL)
            return NULL;
        p->conn = v;
        *cap = ncap;
    }
    struct policy_connector *c = &p->conn[p->nconn++];
    memset(c, 0, sizeof(*c));
    c->enabled = true;
    c->on_fail = POLICY_ACTION_REJECT;
    c->require.min_version = TLS_VERSION_UNKNOWN;
    return c;
}

static int
index_connector(struct rd *r, uint32_t id, struct strlist lists[MK_N])
{
    struct policy *p = r->p;
    struct domain_table *dt[MK_N] = {
        p->by_sender_domain, NULL, p->by_client_name, p->by_rcpt_domain, p->by_cert_name,
    };

    for (size_t k = 0; k < MK_N; k++)
        for (size_t i = 0; i < lists[k].n; i++) {
            int e = k == MK_ADDR ? addr_table_add(p->by_client_addr, lists[k].v[i], id)
                                 : domain_table_add(dt[k], lists[k].v[i], id);
            if (e < 0)
                return -1;
        }
    for (size_t i = 0; i < p->conn[id].match_pins.ncert; i++)
        if (pin_index_add(p->by_fingerprint, false, p->conn[id].match_pins.cert[i].hex, id) < 0)
            return -1;
    for (size_t i = 0; i < p->conn[id].match_pins.npubkey; i++)
        if (pin_index_add(p->by_fingerprint, true, p->conn[id].match_pins.pubkey[i].hex, id) < 0)
            return -1;
    if (p->conn[id].restrict_sender_domains)
        for (size_t i = 0; i < lists[MK_SENDER].n; i++)
            if (domain_table_add(p->by_restricted_sender, lists[MK_SENDER].v[i], id) < 0)
                return -1;
    return 0;
}

/* Hand the lists to r->match[idx] for the lint, leaving lists empty. */
static int
keep_match(struct rd *r, size_t idx, struct strlist lists[MK_N])
{
    if (idx >= r->nmatch) {
        size_t n = r->nmatch ? r->nmatch * 2 : 16;
        struct load_match *v;

        while (n <= idx)
            n *= 2;
        if ((v = realloc(r->match, n * sizeof(*v))) == NULL)
            return -1;
        memset(v + r->nmatch, 0, (n - r->nmatch) * sizeof(*v));
        r->match = v;
        r->nmatch = n;
    }
    for (size_t k = 0; k < MK_N; k++) {
        r->match[idx].l[k] = lists[k];
        memset(&lists[k], 0, sizeof(lists[k]));
    }
    return 0;
}

static int
read_connector(struct rd *r, size_t *cap)
{
    struct strlist lists[MK_N];
    unsigned first[CK_N] = { 0 };
    struct load_mark start, km, vm, mark[CK_N] = { { 0 } };
    struct policy_connector *c;
    size_t idx;
    int rc, k, one;
    bool bad_name = false;

    memset(lists, 0, sizeof(lists));
    rc = load_enter_map(r, "connector", &start);
    if (rc != RD_OK)
        return rc;
    if ((c = conn_new(r, cap)) == NULL) {
        load_oom(r);
        return RD_FATAL;
    }
    idx = r->p->nconn - 1;
    c->line = (start).line;
    c->column = (start).column;
    while ((k = load_next_key(r, &conn_sec, first, &km, &rc)) >= 0) {
        char *s = NULL;
        int e;

        c = &r->p->conn[idx];
        mark[k] = km;
        switch (k) {
        case CK_NAME:
            one = load_str(r, "name", &s, &vm);
            mark[k] = vm;
            if (one == RD_OK) {
                const char *why = load_check_name(s);
                if (why != NULL) {
                    err_at(r, vm, "name: '%s' is not a connector name (expected %s)", load_q(r, s), why);
                    one = RD_BAD;
                } else if (strcmp(s, "default") == 0) {
                    err_at(r, vm, "name: 'default' is reserved (it names the defaults in results; "
                           "choose another name)");
                    one = RD_BAD;
                }
            }
            if (one == RD_OK) {
                long prev;
                c->name = s;
                s = NULL;
                if ((prev = name_seen(r, (uint32_t)idx, (vm).line)) < 0) {
                    load_oom(r);
                    rc = RD_FATAL;
                    goto out;
                }
                if (prev > 0) {
                    err_at(r, vm, "duplicate connector name '%s' (first at line %ld)",
                           load_q(r, c->name), prev);
                    one = RD_BAD;
                }
            } else {
                bad_name = true;
            }
            free(s);
            break;
        case CK_ENABLED:
            one = load_bool(r, "enabled", &c->enabled, &vm);
            mark[k] = vm;
            break;
        case CK_MODE:
            e = POLICY_MODE_ENFORCE;
            one = load_enum(r, "mode", policy_mode_parse, "enforce or monitor", &e, &vm);
            c->mode = (enum policy_mode)e;
            c->has_mode = one == RD_OK;
            break;
        case CK_MATCH:
            one = read_match(r, c, lists);
            break;
        case CK_REQUIRE:
            one = load_require(r, &c->require);
            break;
        case CK_RESTRICT:
            one = load_bool(r, "restrict_sender_domains", &c->restrict_sender_domains, &vm);
            mark[k] = vm;
            break;
        case CK_ON_FAIL:
            e = POLICY_ACTION_REJECT;
            one = load_enum(r, "on_fail", policy_action_parse,
                            "reject, tempfail, quarantine, tag or accept", &e, &vm);
            c->on_fail = (enum policy_action)e;
            mark[k] = vm;
            break;
        case CK_REPLY:
            one = load_str(r, "reply", &s, &vm);
            mark[k] = vm;
            if (one == RD_OK) {
                const char *why = load_check_reply(s);
                if (why != NULL) {
                    err_at(r, vm, "reply: '%s' is not a usable SMTP reply text (expected %s)",
                           load_q(r, s), why);
                    one = RD_BAD;
                    free(s);
                } else {
                    c->reply = s;
                }
            }
            break;
        default:
            one = RD_FATAL;
            break;
        }
        if (!load_fold(&rc, one)) {
            rc = RD_FATAL;
            goto out;
        }
    }
    if (k == KEY_FATAL) {
        rc = RD_FATAL;
        goto out;
    }
    c = &r->p->conn[idx];
    const char *who = c->name ? c->name : "?";
    if (first[CK_NAME] == 0 && !bad_name) {
        err_at(r, start, "connector has no name (expected name: followed by letters, digits, "
               "'.', '-' or '_')");
        rc = RD_BAD;
    }
    if (first[CK_MATCH] == 0) {
        err_at(r, start, "connector '%s' has no match (expected a match mapping with at least "
               "one of: %s)", load_q(r, who), match_sec.expected);
        rc = RD_BAD;
    }
    /* Only when match read cleanly: a bad sender_domains entry was reported already. */
    if (c->restrict_sender_domains && !(c->keys & POLICY_KEY_SENDER_DOMAIN) && rc == RD_OK) {
        err_at(r, mark[CK_RESTRICT], "restrict_sender_domains: true needs match.sender_domains "
               "(the domains whose mail must come through connector '%s')", load_q(r, who));
        rc = RD_BAD;
    }
    if (c->reply != NULL) {
        int cls = load_reply_class(c->reply);
        if (c->on_fail == POLICY_ACTION_REJECT && cls != -1 && cls != 5) {
            err_at(r, mark[CK_REPLY], "reply: enhanced status code %c.x.x does not fit "
                   "on_fail: reject (expected 5.x.x, e.g. \"5.7.1 ...\")", c->reply[0]);
            rc = RD_BAD;
        } else if (c->on_fail == POLICY_ACTION_TEMPFAIL && cls != -1 && cls != 4) {
            err_at(r, mark[CK_REPLY], "reply: enhanced status code %c.x.x does not fit "
                   "on_fail: tempfail (expected 4.x.x, e.g. \"4.7.1 ...\")", c->reply[0]);
            rc = RD_BAD;
        } else if (c->on_fail != POLICY_ACTION_REJECT && c->on_fail != POLICY_ACTION_TEMPFAIL) {
            warn_at(r, mark[CK_REPLY], "reply: never sent, on_fail: %s does not refuse mail",
                    policy_action_name(c->on_fail));
        }
    }
    if (rc == RD_OK && !c->enabled)
        warn_at(r, mark[CK_ENABLED], "connector '%s' is disabled: it matches nothing and its "
                "mail goes to the next connector or the defaults", load_q(r, who));
    if (rc == RD_OK && !c->require.any)
        warn_at(r, start, "connector '%s' requires nothing (empty require): its mail is "
                "claimed, gets verdict none and on_fail never applies", load_q(r, who));
    /* Indexing only pays off for a file that will load. */
    if (rc == RD_OK && c->enabled && !load_had_errors(r)) {
        if (index_connector(r, (uint32_t)idx, lists) < 0 || keep_match(r, idx, lists) < 0) {
            load_oom(r);
            rc = RD_FATAL;
        }
    }
out:
    for (size_t i = 0; i < MK_N; i++)
        load_strlist_free(&lists[i]);
    return rc;
}

static int
read_connector_at(struct rd *r, void *cap)
{
    return read_connector(r, cap);
}

int
load_connectors(struct rd *r)
{
    size_t cap = 0;

    return load_each(r, "connectors", "a list of connectors", read_connector_at, &cap);
}
