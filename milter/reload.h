/*
 * reload.h -- the current policy snapshot and the SIGUSR1 reload thread.
 * Owns the one global snapshot pointer; only callbacks.c (new sessions) and
 * main.c read it.
 * Never: loads a file under a lock, or frees a snapshot a session still holds.
 * Diagnostics: load failures and warnings are logged; the old policy stays.
 */
#ifndef MILTER_RELOAD_H
#define MILTER_RELOAD_H

#include <stdbool.h>

#include "policy.h"

/* Install the first snapshot (the reference is taken over) and remember the
 * file to reload. Returns 0, or -1 when out of memory. */
int  reload_init(struct policy *p, const char *path);
/* A new reference to the current snapshot (NULL when there is none). */
struct policy *reload_current(void);
/* Swap in p (reference taken over); the previous snapshot loses our reference. */
void reload_swap(struct policy *p);
/* Load the file again: on success swap it in, on failure keep the old one;
 * every diagnostic is logged. Reopens the JSON log either way. Returns 0 / -1. */
int  reload_now(void);
/* Start the thread that sigwait()s SIGUSR1; SIGUSR1 must already be blocked in
 * every thread. Returns 0, or an errno value. */
int  reload_start(void);
/* Stop the thread (if started) and drop the snapshot. */
void reload_shutdown(void);

/* Log each diagnostic of d (also used at start-up). */
void reload_log_diags(const struct policy_diags *d);

#endif
