/*
 * policyd_conn.h -- one milter connection's side of the policy delegation join:
 * its TCP 4-tuple (from the connect address and {daemon_addr}/{daemon_port}),
 * and the certificate fingerprints once a policy request for one of its
 * recipients was taken.
 * Never: shares state between connections or trusts a record of another 4-tuple.
 * Diagnostics: none; why the key is unknown is kept for the caller to log.
 */
#ifndef MILTER_POLICYD_CONN_H
#define MILTER_POLICYD_CONN_H

#include <stdbool.h>
#include <sys/socket.h>

#include <libmilter/mfapi.h>

#include "policy.h"
#include "policyd_req.h"

struct policyd_conn {
    bool enabled;             /* the daemon listens for delegation (-d) */
    bool keyed;               /* the 4-tuple is known */
    const char *why_unkeyed;  /* static text, when !keyed */
    struct policyd_key key;
    bool matched;             /* a record of this connection was taken */
    char *fp, *pkfp;          /* its fingerprints ("" = no certificate) */
};

/* At xxfi_connect: learn the 4-tuple and forget what an earlier connection with
 * the same one left behind. */
void policyd_conn_connect(struct policyd_conn *c, SMFICTX *ctx, const struct sockaddr *sa);
/* At RCPT, before the recipient is evaluated: take this recipient's record.
 * Returns 1 when this made the connection's fingerprints known (the facts must
 * be built again), 0 when nothing changed, -1 when out of memory. */
int  policyd_conn_rcpt(struct policyd_conn *c, const char *sender, const char *rcpt);
/* Give m what delegation said (Postfix only; Sendmail has its own {cert_fp}). */
void policyd_conn_macros(const struct policyd_conn *c, struct policy_macros *m);
void policyd_conn_free(struct policyd_conn *c);

#endif
