/*
 * authres.h -- reads the authserv-id of an Authentication-Results value as
 * RFC 8601 section 2.2 defines it, so that the daemon can tell every copy that
 * names its own id, however it is spelt.
 * Never: allocates, logs, or trusts the value (any bytes, no length limit).
 * Diagnostics: none; a value it cannot read is "not ours".
 */
#ifndef POLICY_AUTHRES_H
#define POLICY_AUTHRES_H

#include <stdbool.h>

/* Whether the authserv-id of Authentication-Results value (the field body,
 * without the name and colon) equals id, ignoring ASCII case. */
bool authres_names_id(const char *value, const char *id);

#endif
