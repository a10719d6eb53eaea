/*
 * fingerprint.h -- reads a certificate or public-key fingerprint as an
 * administrator writes it ("sha256:" and 64 hex digits, colons allowed, any
 * case) into the one form the library compares: 64 lower-case hex digits.
 * Never: allocates, logs, or accepts another digest or a partial value.
 * Diagnostics: a static string saying what was expected.
 */
#ifndef FINGERPRINT_H
#define FINGERPRINT_H

#include <stdbool.h>

#define FINGERPRINT_PREFIX  "sha256:"
#define FINGERPRINT_HEX_LEN 64

/* Whether s is written as a fingerprint (starts with "sha256:", any case), so
 * that a malformed one is reported as such rather than taken for a name. */
bool fingerprint_is(const char *s);
/* "sha256:AB:cd..." into out (64 lower-case hex digits and a NUL). 0, or -1 with
 * *why set to a static string saying what was wrong and what was expected. */
int  fingerprint_parse(const char *s, char out[FINGERPRINT_HEX_LEN + 1], const char **why);

#endif
