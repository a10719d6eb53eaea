/*
 * pin_index.h -- the match index of match.certificate_fingerprints and
 * match.public_key_fingerprints: fingerprint -> ascending connector ids, built
 * while the file loads, frozen, then read by every session without a lock.
 * Never: changed after pin_index_freeze.
 */
#ifndef PIN_INDEX_H
#define PIN_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "id_span.h"

struct pin_index;

struct pin_index *pin_index_new(void);
/* Connector id claims sessions showing hex (64 lower-case hex). 0, or -1 (memory). */
int    pin_index_add(struct pin_index *x, bool pubkey, const char *hex, uint32_t id);
/* Sort for lookups. 0, or -1 when out of memory. */
int    pin_index_freeze(struct pin_index *x);
/* The ids claiming the certificate fingerprint and those claiming the key's (either
 * may be NULL): at most 2 spans, borrowed from the index. */
size_t pin_index_lookup(const struct pin_index *x, const char *cert_hex, const char *pubkey_hex,
                        struct id_span *spans, size_t max);
void   pin_index_free(struct pin_index *x);

#endif
