/*
 * outbound.h -- the outbound connectors of a connectors file: for mail our users
 * send to a partner, which recipient domains it covers, through which smart
 * hosts it leaves, and what the partner's servers must show (TLS, version,
 * verified certificate, names, roots). Built by load_outbound.c, read by the
 * exporters of tlspolicy(1), which turn it into Postfix or Sendmail tables.
 * Never: includes libmilter, logs, exits, or talks to the network; the daemon
 * never consults it (an MTA applies the exported tables, not the milter).
 */
#ifndef OUTBOUND_H
#define OUTBOUND_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

/* A smart host: "[host]:port" (no MX lookup) or "host:port" (MX lookup). */
struct outbound_host {
    char    *text;                /* canonical next hop: "[mx.partner.test]:25" */
    char    *host;                /* without brackets, lower case; "ipv6:" kept off */
    bool     bracketed;
    bool     is_ip;               /* an IPv4 or IPv6 literal */
    bool     is_ipv6;
    unsigned port;                /* 0 = the transport's default */
    unsigned line, column;
};

/* One root_issuers entry and the self-signed roots it resolved to. */
struct outbound_root {
    char       *name;             /* as written (canonical when a DN) */
    bool        is_dn;
    unsigned    line, column;
    size_t      n;                /* roots found; > 0 once loaded */
    char      **root_dn;          /* canonical subject DNs */
    char      **root_cn;          /* subject CNs ("" when none) */
    char      **pem;              /* the certificates, PEM text */
};

/* A recipient domain pattern: "partner.test" or "*.partner.test" (the file may
 * also say ".partner.test", stored as "*.partner.test"). */
struct outbound_domain {
    char    *pattern;             /* lower case, no trailing dot */
    unsigned line, column;
};

struct outbound_connector {
    char    *name;
    unsigned line, column;
    enum policy_mode mode;        /* the connector's, else settings.mode */
    size_t   ndomains;
    struct outbound_domain *domains;
    size_t   nhosts;
    struct outbound_host *hosts;
    /* The requirements (a subset of the inbound keys; see the man page). */
    bool     tls;
    int      min_version;         /* enum tls_version; TLS_VERSION_UNKNOWN = none */
    int      min_cipher_bits;     /* 0 = none */
    bool     forward_secrecy;
    bool     verified;            /* certificate: verified */
    size_t   nnames;              /* certificate_names; 0 = the MTA's default */
    char   **names;
    size_t   nroots;
    struct outbound_root *roots;
};

size_t policy_outbound_count(const struct policy *);
/* The i-th outbound connector, in file order. */
const struct outbound_connector *policy_outbound_get(const struct policy *, size_t i);
/* The connector for a recipient domain: an exact pattern wins over a wildcard,
 * a longer wildcard suffix over a shorter one, and among equal patterns the
 * first in the file. The domain may be spelled in U-labels or A-labels, in any
 * case. NULL when none covers the domain; *pattern (if not NULL) is set to the
 * pattern that matched. */
const struct outbound_connector *policy_outbound_find(const struct policy *, const char *domain,
                                                      const char **pattern);
/* Does the wildcard pattern wide ("*.x.test") cover every domain that pattern
 * narrow covers ("a.x.test", "*.a.x.test"), narrow being the narrower? */
bool outbound_pattern_covers(const char *wide, const char *narrow);
/* True when the connector asks nothing of the partner's servers. */
bool outbound_requires_nothing(const struct outbound_connector *);

#endif
