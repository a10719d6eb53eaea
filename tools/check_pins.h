/*
 * check_pins.h -- what `tlspolicy check` shows of each pinned certificate.
 * Never: loads a policy or decides the exit status (tlspolicy.c does).
 */
#ifndef CHECK_PINS_H
#define CHECK_PINS_H

#include <stdio.h>

struct policy;

/* One block per certificate pinned by require.certificates, every byte taken
 * from a certificate escaped. Prints nothing when there is none. */
void check_pins_print(const struct policy *p, FILE *fp);

#endif
