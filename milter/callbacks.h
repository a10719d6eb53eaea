/*
 * callbacks.h -- the xxfi_* entry points libmilter calls, and the filter
 * description main() registers. Owns the session's private-data slot and hands
 * each new session its policy snapshot.
 * Never: decides policy, formats text, or assumes an earlier callback ran.
 * Diagnostics: a missing session is answered per the snapshot's on_error.
 */
#ifndef MILTER_CALLBACKS_H
#define MILTER_CALLBACKS_H

#include <libmilter/mfapi.h>

sfsistat callbacks_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
                             unsigned long f2, unsigned long f3, unsigned long *pf0,
                             unsigned long *pf1, unsigned long *pf2, unsigned long *pf3);
sfsistat callbacks_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa);
sfsistat callbacks_helo(SMFICTX *ctx, char *helo);
sfsistat callbacks_envfrom(SMFICTX *ctx, char **argv);
sfsistat callbacks_envrcpt(SMFICTX *ctx, char **argv);
sfsistat callbacks_header(SMFICTX *ctx, char *name, char *value);
sfsistat callbacks_eom(SMFICTX *ctx);
sfsistat callbacks_abort(SMFICTX *ctx);
sfsistat callbacks_close(SMFICTX *ctx);

/* The filter description for smfi_register (name "milter-tlspolicy"). */
struct smfiDesc callbacks_desc(void);

#endif
