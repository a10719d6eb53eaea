/*
 * policyd.h -- the daemon's second listener: Postfix's policy delegation
 * protocol (-d), whose requests carry the client certificate's fingerprints
 * that Postfix never gives a milter for an unverified certificate.
 * Never: answers anything but DUNNO (it only listens), or runs on a milter thread.
 * Diagnostics: start-up errors and every malformed request are logged (syslog)
 * with what was expected; the counts of dropped records are logged at stop.
 */
#ifndef MILTER_POLICYD_H
#define MILTER_POLICYD_H

#include <stdbool.h>

/* Whether spec is unix:/path, local:/path, /path, or inet:PORT@ADDR /
 * inet6:PORT@ADDR with a loopback ADDR. NULL when valid, else what was expected. */
const char *policyd_spec_check(const char *spec);

/* Create the listening socket (as root, before -u). *path is the unix socket's
 * path, for the caller to hand to the daemon's user, or NULL. 0 / -1 (logged). */
int  policyd_open(const char *spec, const char **path);
/* Start serving on its own thread (after daemonising and -u). 0 / -1 (logged). */
int  policyd_start(void);
/* Stop the thread, close every connection, log the counts. Safe when never started. */
void policyd_stop(void);
/* True once policyd_open succeeded: sessions then expect a request per recipient. */
bool policyd_enabled(void);

#endif
