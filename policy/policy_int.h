/*
 * policy_int.h -- the in-memory rule model shared by the loader (policy_load.c
 * and load_*.c), which builds it, and the evaluator (policy_eval.c), which only
 * reads it.
 * Never: included outside policy/ (tests excepted); callers use policy.h.
 */
#ifndef POLICY_INT_H
#define POLICY_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pins.h"
#include "policy.h"
#include "trust_store.h"

struct domain_table;
struct addr_table;
struct trust_store;
struct outbound_connector;
struct pin_index;

enum policy_cert_req { POLICY_CERT_ANY = 0, POLICY_CERT_PRESENTED, POLICY_CERT_VERIFIED };

/* Match keys, as bits of policy_connector.keys. */
enum {
    POLICY_KEY_SENDER_DOMAIN  = 1u << 0,
    POLICY_KEY_CLIENT_ADDR    = 1u << 1,
    POLICY_KEY_CLIENT_NAME    = 1u << 2,
    POLICY_KEY_RCPT_DOMAIN    = 1u << 3,
    POLICY_KEY_CERT_NAME      = 1u << 4,
    /* match.certificate_fingerprints / public_key_fingerprints: either one shown */
    POLICY_KEY_FINGERPRINT    = 1u << 5,
};

/* A list of names from the file. For issuers/root_issuers/organizations an entry
 * holding '=' is a DN, stored canonical (cert_dn_canonical); otherwise a plain CN. */
struct policy_names {
    size_t n;
    char **v;
    bool  *is_dn;                 /* NULL when the list never holds DNs */
    /* issuers and root_issuers only: each entry as written, where it was
     * written, and the certificates it resolved to once the trust store
     * loaded (load_require.c); NULL until then. */
    char **text;
    unsigned *line, *column;
    struct trust_match *match;
};

struct policy_require {
    bool any;                     /* at least one requirement given ({} = none) */
    bool tls;
    int  min_version;             /* enum tls_version, TLS_VERSION_UNKNOWN = none */
    int  min_cipher_bits;         /* 0 = none */
    bool forward_secrecy;
    enum policy_cert_req certificate;
    struct policy_names certificate_names;   /* RFC 6125 reference identifiers */
    struct policy_names issuers;
    struct policy_names root_issuers;
    struct policy_names organizations;
    /* certificate_fingerprints, public_key_fingerprints, certificates: any one
     * matching is the partner's identity, verified by the CAfile or not */
    struct policy_pins pins;
    int  min_key_bits;            /* 0 = none; RSA bits, others by equal strength */
};

struct policy_connector {
    char    *name;
    unsigned line, column;        /* where the connector starts, for diagnostics */
    bool     enabled;
    bool     has_mode;
    enum policy_mode mode;
    unsigned keys;                /* POLICY_KEY_* present in match */
    bool     restrict_sender_domains;
    struct policy_require require;
    struct policy_pins match_pins;   /* the fingerprint match keys */
    enum policy_action on_fail;
    char    *reply;               /* NULL = built from the first reason */
};

struct policy {
    atomic_uint refs;
    char *path;                   /* name used in diagnostics */

    struct policy_settings settings;
    /* storage behind settings' const char * fields */
    char *trust_store_path;
    char *header;
    char *authserv_id;
    char *log_json;
    char *hostname;
    char hash[7 + 16 + 1];        /* policy_hash(): "sha256:" + 16 hex */
    char **intermediates;
    size_t nintermediates;

    struct policy_require default_require;
    enum policy_action    default_on_fail;

    struct policy_connector *conn;
    size_t nconn;

    /* Indexes over enabled connectors; the ids are indexes into conn[]. */
    struct domain_table *by_sender_domain;
    struct domain_table *by_client_name;
    struct domain_table *by_rcpt_domain;
    struct domain_table *by_cert_name;
    struct addr_table   *by_client_addr;
    /* Sender-domain patterns of restricting connectors only: a hit means the
     * sender domain is owned, and the ids are its owners, in file order. */
    struct domain_table *by_restricted_sender;

    struct trust_store  *trust;   /* NULL only when no requirement needs roots */

    /* The outbound connectors (outbound.h), in file order: read by the
     * exporters of tlspolicy(1), never by the daemon's evaluation. */
    struct outbound_connector *out;
    size_t nout;
    struct pin_index    *by_fingerprint;   /* the fingerprint match keys */
    int pin_expiry_warn_days;     /* settings.pin_expiry_warn_days */
};

/* Free everything a (possibly half-built) policy owns. */
void policy_free_internal(struct policy *p);
void policy_names_free(struct policy_names *n);
void policy_require_free(struct policy_require *r);

#endif
