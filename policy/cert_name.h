/*
 * cert_name.h -- RFC 6125 host name matching of certificate names (cert_name.c).
 * It includes cert_dn.h, because every caller that matches host names also
 * reads the DNs the same certificate arrives with.
 * Never: trusts its input; every length is checked, nothing is assumed printable.
 */
#ifndef CERT_NAME_H
#define CERT_NAME_H

#include <stdbool.h>

#include "cert_dn.h"

/* RFC 6125 section 6.4: does the presented identifier (certificate CN or DNS SAN,
 * may hold a wildcard "*.x.test" in the left-most label only) match the reference
 * identifier (from the connectors file; "*.x.test" there means exactly one more
 * label)? Case-insensitive, trailing dots ignored; partial-label wildcards
 * ("f*.x.test"), wildcards over a single-label remainder ("*.test") and wildcards
 * in IDN A-labels are refused. */
bool cert_name_match(const char *reference, const char *presented);
/* Validate a reference identifier from the connectors file; NULL when valid. */
const char *cert_name_pattern_check(const char *pattern);

#endif
