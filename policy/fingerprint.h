/*
 * fingerprint.h -- the one reading of a SHA-256 fingerprint as an administrator
 * writes it in the connectors file ("sha256:" and 64 hex digits, colons between
 * bytes allowed, any case), and its short form for reasons.
 * Never: allocates, does I/O, or accepts another digest: a pin must never match
 * a guess.
 * Diagnostics: fingerprint_parse returns a static text saying what was expected.
 */
#ifndef FINGERPRINT_H
#define FINGERPRINT_H

#include <stdbool.h>
#include <stddef.h>

#define FINGERPRINT_PREFIX  "sha256:"
/* 64 lower-case hex digits and a NUL. */
#define FINGERPRINT_HEX_LEN 64
#define FINGERPRINT_SIZE    (FINGERPRINT_HEX_LEN + 1)
/* "sha256:" + 16 hex digits + "...": enough to tell pins apart in a reason. */
#define FINGERPRINT_SHORT_SIZE 32

/* Read s ("sha256:AB:CD:..." or "sha256:abcd...") into out as 64 lower-case hex
 * digits. NULL when it is one, else what was expected. */
const char *fingerprint_parse(const char *s, char out[FINGERPRINT_SIZE]);
/* Whether s is written as a fingerprint (starts with "sha256:", any case), so
 * that a malformed one is reported as such rather than taken for a name. */
bool fingerprint_is(const char *s);

/* "sha256:" and the first 16 hex digits of hex, and "..." when cut. */
void fingerprint_short(const char *hex, char out[FINGERPRINT_SHORT_SIZE]);

#endif
