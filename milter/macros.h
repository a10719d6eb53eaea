/*
 * macros.h -- which MTA macros the daemon asks for, and how they become a
 * struct policy_macros.
 * Never: interprets a value (policy_facts_build does: absent vs empty, the
 * "unknown" client name), or copies one.
 * Diagnostics: none; an absent macro is NULL.
 */
#ifndef MILTER_MACROS_H
#define MILTER_MACROS_H

#include <libmilter/mfapi.h>

#include "policy.h"

/* The smfi_setsymlist lists, per stage (exported for the tests and the man page). */
extern const char *const macros_connect;
extern const char *const macros_helo;
extern const char *const macros_envfrom;
extern const char *const macros_envrcpt;
extern const char *const macros_eom;

/* Request the lists above; only from xxfi_negotiate with SMFIF_SETSYMLIST granted.
 * Returns 0, or -1 when the library refused one of them. */
int macros_request(SMFICTX *ctx);

/* A macro's value: NULL when the MTA did not send it, "" when sent empty. */
const char *macros_get(SMFICTX *ctx, const char *name);

/* The queue id ("i"), or NULL when not known yet. */
const char *macros_queue_id(SMFICTX *ctx);

/* Fill m from the macros, with the xxfi_connect host name and address as
 * fallbacks for {client_name}/{client_addr}, the last HELO argument, and the
 * MAIL FROM argument (with its <>) when {mail_addr} is absent. The pointers stay
 * valid until the MTA sends the next macros of the same or an earlier stage. */
void macros_read(SMFICTX *ctx, const char *conn_host, const char *conn_addr,
                 const char *helo, const char *mail_arg, struct policy_macros *m);

/* The recipient address: {rcpt_addr}, else the RCPT TO argument without <>.
 * Returns an allocated string, or NULL when out of memory. */
char *macros_rcpt(SMFICTX *ctx, const char *rcpt_arg);

#endif
