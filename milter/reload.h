/*
 * reload.h -- the current policy snapshot and the daemon's signal thread
 * (SIGUSR1 reload, SIGUSR2 reopen the JSON log, SIGTERM/SIGINT/SIGHUP stop).
 * Owns the one global snapshot pointer; only callbacks.c (new sessions) and
 * main.c read it.
 * Never: includes libmilter (stopping it is the caller's hook), loads a file
 * under a lock, or frees a snapshot a session still holds.
 * Diagnostics: load failures and warnings are logged; the old policy stays.
 */
#ifndef MILTER_RELOAD_H
#define MILTER_RELOAD_H

#include <signal.h>
#include <stdbool.h>

#include "policy.h"

/* Install the first snapshot (the reference is taken over) and remember the
 * file to reload. Returns 0, or -1 when out of memory. */
int  reload_init(struct policy *p, const char *path);
/* A new reference to the current snapshot (NULL when there is none). */
struct policy *reload_current(void);
/* Swap in p (reference taken over); the previous snapshot loses our reference. */
void reload_swap(struct policy *p);
/* Load the file again once it has stopped changing (nothing written for
 * 100 ms; waits at most 2 s), and again when it changed while it was read
 * (3 tries): on success swap it in, on failure keep the old one; every
 * diagnostic is logged. Reopens the JSON log either way (the new file may
 * name another). Returns 0 / -1. */
int  reload_now(void);
/* Reopen the current snapshot's JSON log (after rotation); failures are logged. */
void reload_reopen_log(void);
/* The signals the thread takes; they must be blocked in every thread before
 * any thread exists. */
void reload_sigset(sigset_t *set);
/* Start the signal thread; stop_hook runs in it, once, on the first SIGTERM,
 * SIGINT or SIGHUP. Returns 0, or an errno value. */
int  reload_start(void (*stop_hook)(void));
/* Stop the thread (if started) and drop the snapshot. */
void reload_shutdown(void);

/* Log each diagnostic of d (also used at start-up). */
void reload_log_diags(const struct policy_diags *d);

#endif
