/*
 * posture.h -- what the daemon and tlspolicy(1) say about a message, decided
 * once: the recipients of a message and its summary (the one severity order),
 * and the display rules for the issuer, the TLS version and the queue id.
 * Never: does I/O, logs, allocates, or decides policy (policy_eval does).
 * Diagnostics: none; every function is total.
 */
#ifndef POLICY_POSTURE_H
#define POLICY_POSTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

/* Source bytes kept of any one value taken from the network or a certificate. */
#define POSTURE_VALUE_MAX   256
#define POSTURE_REASON_MAX  512
/* In headers: per value, and for all reasons together (lines must stay well
 * under RFC 5322's 998 octets even when every byte is escaped as \xHH). */
#define POSTURE_HDR_VALUE_MAX   128
#define POSTURE_HDR_REASONS_MAX 400

/* One recipient of a message and its result. */
struct posture_rcpt {
    const char *rcpt;
    const struct policy_result *res;
    bool refused;                 /* refused at RCPT (policy_result_refuses) */
};

/* A message as the log, the JSON record and tlspolicy(1) report it. */
struct posture_msg {
    const char *queue_id;                 /* NULL: "NOQUEUE" */
    const struct policy_facts *facts;     /* NULL after an internal error */
    const struct policy_result *summary;  /* NULL after an internal error */
    const struct posture_rcpt *rcpts;     /* every recipient seen, refused too */
    size_t nrcpts;
    size_t naccepted;
    const char *error;                    /* internal error text, or NULL */
    bool json;                            /* also write the JSON line */
    bool delivered;                       /* end of message reached (JSON "delivered") */
    const char *host;                     /* JSON "host": who decided, or NULL */
    const char *policy;                   /* JSON "policy": policy_hash(), or NULL */
    const char *prev;                     /* JSON "prev": the hash chain's link, or NULL */
};

/* The one severity order: > 0 when a is worse than b, < 0 when better, 0 on a
 * tie. Worse is: refused before accepted, then the stronger action (reject,
 * tempfail, quarantine, tag, accept), then fail before none before pass, then
 * enforce before monitor. */
int posture_severity_cmp(const struct posture_rcpt *a, const struct posture_rcpt *b);

/* The recipient whose result summarises the message, or NULL when n is 0 (the
 * caller then describes the session with a recipient-less evaluation). For a
 * delivered message (delivered: the header goes on it) the most severe of the
 * accepted recipients, since only they get the copy that carries it; when none
 * was accepted, or for a transaction that ended without a message, the most
 * severe of all. On a tie the first recipient wins. */
const struct posture_rcpt *posture_summary(const struct posture_rcpt *v, size_t n,
                                           bool delivered);
/* How many of v were accepted. */
size_t posture_naccepted(const struct posture_rcpt *v, size_t n);

/* The issuer to show: its CN, else its DN (Sendmail), else NULL. */
const char *posture_issuer(const struct policy_facts *f);
/* The TLS version to show: the version macro, or "none" (no TLS, or f NULL). */
const char *posture_tls_version(const struct policy_facts *f);
/* The queue id to show: qid, or "NOQUEUE" when there is none yet. */
const char *posture_qid(const char *qid);

#endif
