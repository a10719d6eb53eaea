/*
 * session.h -- per-connection and per-message state of one SMTP session, and
 * the work each milter stage does with it.
 * Never: reaches for the global policy snapshot (the caller hands one over),
 * keeps state between connections, or formats posture text.
 * Diagnostics: internal errors are logged and answered per settings.on_error.
 */
#ifndef MILTER_SESSION_H
#define MILTER_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <libmilter/mfapi.h>

#include "policy.h"
#include "policyd_conn.h"

struct session_rcpt {
    char *addr;
    struct policy_result res;
    bool refused;
};

struct session {
    /* connection */
    struct policy *policy;          /* one snapshot for the whole connection */
    unsigned long actions;          /* SMFIF_* the MTA granted */
    unsigned long noreply;          /* SMFIP_NR_* negotiated: stages not answered */
    bool leadspc;                   /* SMFIP_HDR_LEADSPC negotiated */
    bool negotiated;
    char *conn_host;                /* xxfi_connect host name */
    char *conn_addr;                /* xxfi_connect address as text */
    char *helo;                     /* last HELO/EHLO argument */
    struct policyd_conn deleg;      /* Postfix policy delegation join (-d) */

    /* message */
    bool in_msg;
    bool msg_error;                 /* internal error under on_error: accept */
    bool msg_tempfail;              /* unanswered stage failed: tempfail at the next */
    bool have_facts;
    struct policy_facts facts;
    char *qid;                      /* queue id seen at MAIL/RCPT (Sendmail), or NULL */
    char *mail_arg;                 /* MAIL FROM argument, to build the facts again */
    struct session_rcpt *rcpts;
    size_t nrcpts, caprcpts;
    size_t nposture;                /* copies of our posture header in the message */
    size_t nauthres;                /* Authentication-Results seen */
    size_t *authres_ours;           /* indexes (1-based) of those with our authserv-id */
    size_t nauthres_ours, capauthres_ours;
};

/* A session bound to the snapshot p (a reference is taken; NULL: no policy is
 * loaded, and every stage answers per that). NULL when out of memory. */
struct session *session_new(struct policy *p);
void session_free(struct session *s);

sfsistat session_negotiate(SMFICTX *ctx, struct session *s, unsigned long f0,
                           unsigned long f1, unsigned long *pf0, unsigned long *pf1,
                           unsigned long *pf2, unsigned long *pf3);
sfsistat session_connect(SMFICTX *ctx, struct session *s, const char *host,
                         const struct sockaddr *sa);
sfsistat session_helo(SMFICTX *ctx, struct session *s, const char *helo);
sfsistat session_envfrom(SMFICTX *ctx, struct session *s, char **argv);
sfsistat session_envrcpt(SMFICTX *ctx, struct session *s, char **argv);
sfsistat session_header(SMFICTX *ctx, struct session *s, const char *name, const char *value);
sfsistat session_eom(SMFICTX *ctx, struct session *s);
/* Forget the current message (end of message, and inside session_end_msg). */
void session_reset_msg(struct session *s);
/* The transaction ends without a message (xxfi_abort, xxfi_close, a new MAIL):
 * write its JSON line when it had recipients (delivered=false), then forget it. */
void session_end_msg(struct session *s);

/* What a callback returns when it has no session: settings.on_error of p, the
 * current snapshot (tempfail when NULL). */
sfsistat session_no_state(SMFICTX *ctx, const struct policy *p, bool can_reply);

#endif
