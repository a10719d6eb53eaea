/*
 * idna.h -- one spelling for every domain name: IDNA2008 A-labels in lower
 * case, through libidn2 (UTS #46 non-transitional mapping, which folds case),
 * so that "bänk.test", "BÄNK.test" and "xn--bnk-qla.test" compare equal.
 * Never: writes Punycode itself, logs, exits, or keeps state between calls.
 * Diagnostics: a name that does not convert is refused with libidn2's words.
 */
#ifndef IDNA_H
#define IDNA_H

#include <stddef.h>

/* Room for any result idna_domain can give: 253 octets, a trailing dot, NUL. */
#define IDNA_DOMAIN_SIZE 255

/*
 * Write in[0..len) to out as lower-case A-labels. Labels (between ASCII dots)
 * of plain ASCII are only lower-cased, so the tolerant rules of the callers
 * (a '_', a hyphen at a label's end, a "*" wildcard label) stay theirs; a label
 * holding a byte above 0x7f or starting with "xn--" goes through libidn2,
 * which also checks that an A-label is valid IDNA. A trailing dot is kept.
 * Returns the length written (out is NUL-terminated), or -1 with *why set to a
 * static text: the name is not valid IDNA (libidn2's idn2_strerror), or its
 * A-label form does not fit in out, or (errno ENOMEM) memory ran out.
 */
long idna_domain(const char *in, size_t len, char *out, size_t size, const char **why);

/* True when in[0..len) has a label idna_domain would hand to libidn2. */
int idna_needed(const char *in, size_t len);

#endif
