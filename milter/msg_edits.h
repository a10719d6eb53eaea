/*
 * msg_edits.h -- the changes the daemon makes to a message at end of message:
 * removing forged copies of its headers, adding its own, quarantining.
 * Never: decides anything; the session hands over what was decided.
 * Diagnostics: a change the MTA refuses is logged with the queue id.
 */
#ifndef MILTER_MSG_EDITS_H
#define MILTER_MSG_EDITS_H

#include <libmilter/mfapi.h>

#include "policy.h"
#include "session.h"

#define MSG_EDITS_AUTHRES "Authentication-Results"

/* The header values of a message, built before anything is logged or sent. */
struct msg_edits {
    char *name;                     /* settings.header (libmilter wants it writable) */
    char *posture;                  /* its value, or NULL when disabled */
    char *authres;                  /* Authentication-Results value, or NULL */
};

/* Remove every copy of settings.header and of Authentication-Results with our
 * authserv-id that came with the message (a sender must not forge a pass). */
void msg_edits_remove_forged(SMFICTX *ctx, const struct session *s,
                             const struct policy_settings *st, const char *qid);
/* Render the headers for the summary sum into e before anything is sent or
 * logged: 0, or -1 when out of memory (e is then empty). */
int  msg_edits_build(const struct session *s, const struct policy_settings *st,
                     const struct policy_result *sum, struct msg_edits *e);
void msg_edits_send(SMFICTX *ctx, const struct msg_edits *e, const char *qid);
void msg_edits_free(struct msg_edits *e);
/* Quarantine when an accepted recipient's connector says so in enforce mode. */
void msg_edits_quarantine(SMFICTX *ctx, const struct session *s, const char *qid);

#endif
