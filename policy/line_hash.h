/*
 * line_hash.h -- the SHA-256 of one JSON posture line, as lower-case hex: the
 * link of the optional hash chain, shared by the daemon that writes the chain
 * and by `tlspolicy verify-log` that checks it, so both hash the same bytes.
 * Owns: what is hashed (a line's bytes without its "\n") and the hex form.
 * Never: reads or writes a file, logs, or exits.
 */
#ifndef POLICY_LINE_HASH_H
#define POLICY_LINE_HASH_H

#include <stddef.h>

#define LINE_HASH_HEX 64                  /* hex digits, without the NUL */
/* The "prev" of the first link line of a chain that continues nothing. */
#define LINE_HASH_GENESIS "genesis"

struct line_hash;                         /* opaque: a digest in progress */

/* Hash a line given in pieces (a long last line read from a file backwards).
 * begin returns NULL without memory; end frees h and returns 0, or -1 on an
 * OpenSSL failure; update may be given h == NULL and then does nothing. */
struct line_hash *line_hash_begin(void);
void line_hash_update(struct line_hash *h, const void *p, size_t n);
int  line_hash_end(struct line_hash *h, char out[LINE_HASH_HEX + 1]);
/* The one-piece form: 0, or -1 when OpenSSL failed (out is then ""). */
int  line_hash(const void *p, size_t n, char out[LINE_HASH_HEX + 1]);

#endif
