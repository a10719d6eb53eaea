/*
 * posture_render.h -- the text of everything said about a message: header
 * values, SMTP reply and quarantine text, syslog lines and the JSON record,
 * each appended to a strbuf. The daemon's sinks write them; tests read them.
 * Never: writes to a file, a socket or syslog, or decides which result
 * summarises a message (posture.h).
 * Diagnostics: none; out of memory is the strbuf's sticky flag (and -1 from
 * posture_render_reply).
 */
#ifndef POLICY_POSTURE_RENDER_H
#define POLICY_POSTURE_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"
#include "posture.h"
#include "strbuf.h"

/* Posture header value ("fail (connector=...; ...)"), folded with "\n\t".
 * name_len is the header name's length, for folding; leadspc prepends the space
 * the MTA expects when SMFIP_HDR_LEADSPC was negotiated. */
void posture_render_header(struct strbuf *b, size_t name_len, bool leadspc,
                           const struct policy_facts *f, const struct policy_result *r);
/* Authentication-Results value: "<authserv_id>; x-tls=<verdict> ...". */
void posture_render_authres(struct strbuf *b, bool leadspc, const char *authserv_id,
                            const struct policy_facts *f, const struct policy_result *r);

/* An SMTP reply for a refused recipient, split for smfi_setreply. */
struct posture_reply {
    char  rcode[4];
    char  xcode[16];
    char *text;                  /* allocated; NULL when out of memory */
};
/* Build the reply: the connector's text (a leading "X.Y.Z " becomes the xcode)
 * or "TLS policy <name>: <first reason>". Returns 0, or -1 when out of memory. */
int  posture_render_reply(const struct policy_result *r, struct posture_reply *out);
void posture_render_reply_free(struct posture_reply *out);
/* "TLS policy <name>: <first reason>", escaped for replies and quarantine. */
void posture_render_reason_text(struct strbuf *b, const struct policy_result *r);

/* The per-message syslog line (without the syslog prefix). */
void posture_render_line(struct strbuf *b, const struct posture_msg *m);
/* The per-refused-recipient syslog line. */
void posture_render_refused(struct strbuf *b, const char *queue_id, const char *rcpt,
                            const struct policy_result *r);
/* The JSON record of a message, one line ending in "\n"; now is its time stamp. */
void posture_render_json(struct strbuf *b, const struct posture_msg *m, long long now);
/* The version of the JSON record's fields ("schema"), documented in
 * milter-tlspolicy(8); a reader warns on a newer one. */
#define POSTURE_JSON_SCHEMA 1
/* A hash-chain link line: written where the JSON log is opened, its "prev"
 * the hash of the last line already in the file, or "genesis". */
void posture_render_link(struct strbuf *b, long long now, const char *host, const char *prev);

#endif
