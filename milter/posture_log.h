/*
 * posture_log.h -- everything the daemon writes about a message: the syslog
 * lines, the JSON line, the posture and Authentication-Results header values and
 * the SMTP reply text, all built through ONE sanitiser for untrusted bytes.
 */
#ifndef MILTER_POSTURE_LOG_H
#define MILTER_POSTURE_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"
#include "strbuf.h"

/* Source bytes kept of any one value taken from the network or a certificate. */
#define POSTURE_VALUE_MAX   256
#define POSTURE_REASON_MAX  512
/* In headers: per value, and for all reasons together (lines must stay well
 * under RFC 5322's 998 octets even when every byte is escaped as \xHH). */
#define POSTURE_HDR_VALUE_MAX   128
#define POSTURE_HDR_REASONS_MAX 400

enum posture_esc {
    POSTURE_ESC_QUOTED,   /* inside "..." of a log line or header: \" \\ \xHH */
    POSTURE_ESC_BARE,     /* unquoted log token: as QUOTED, and space as \x20 */
    POSTURE_ESC_REPLY,    /* SMTP reply / quarantine reason: printable ASCII, '%' dropped */
    POSTURE_ESC_JSON,     /* inside a JSON string: \" \\ \n \r \t \u00XX */
    POSTURE_ESC_LINE,     /* a finished log line: only bytes outside 0x20-0x7e, as \xHH */
};

/* Append at most cap bytes of src (NULL appends nothing), made safe for how.
 * A truncated value ends in "...". */
void posture_log_sanitize(struct strbuf *b, const char *src, size_t cap,
                          enum posture_esc how);
/* Append src as a bare token when it is one, else as a sanitised "quoted" string. */
void posture_log_value(struct strbuf *b, const char *src, size_t cap);

/* Posture header value ("fail (connector=...; ...)"), folded with "\n\t".
 * name_len is the header name's length, for folding; leadspc prepends the space
 * the MTA expects when SMFIP_HDR_LEADSPC was negotiated. */
void posture_log_header(struct strbuf *b, size_t name_len, bool leadspc,
                        const struct policy_facts *f, const struct policy_result *r);
/* Authentication-Results value: "<authserv_id>; x-tls=<verdict> ...". */
void posture_log_authres(struct strbuf *b, bool leadspc, const char *authserv_id,
                         const struct policy_facts *f, const struct policy_result *r);

/* An SMTP reply for a refused recipient, split for smfi_setreply. */
struct posture_reply {
    char  rcode[4];
    char  xcode[16];
    char *text;                  /* allocated; NULL when out of memory */
};
/* Build the reply: the connector's text (a leading "X.Y.Z " becomes the xcode)
 * or "TLS policy <name>: <first reason>". Returns 0, or -1 when out of memory. */
int  posture_log_reply(const struct policy_result *r, struct posture_reply *out);
void posture_log_reply_free(struct posture_reply *out);
/* "TLS policy <name>: <first reason>", sanitised for replies and quarantine. */
void posture_log_reason_text(struct strbuf *b, const struct policy_result *r);

/* One recipient of a message as the log reports it. */
struct posture_rcpt {
    const char *rcpt;
    const struct policy_result *res;
    bool refused;
};

struct posture_msg {
    const char *queue_id;                 /* NULL: "NOQUEUE" */
    const struct policy_facts *facts;     /* NULL after an internal error */
    const struct policy_result *summary;  /* NULL after an internal error */
    const struct posture_rcpt *rcpts;     /* every recipient seen, refused too */
    size_t nrcpts;
    size_t naccepted;
    const char *error;                    /* internal error text, or NULL */
    bool json;                            /* also write the JSON line */
    bool delivered;                       /* end of message reached (JSON "delivered") */
};

/* The per-message syslog line (and the JSON line when m->json). */
void posture_log_message(const struct posture_msg *m);
/* The JSON line alone (when m->json): posture_log_message writes it, and so
 * does a transaction that ended without a message, whose syslog story the
 * "refused" lines already tell. */
void posture_log_json_line(const struct posture_msg *m);
/* The per-refused-recipient syslog line. */
void posture_log_refused(const char *queue_id, const char *rcpt,
                         const struct policy_result *r);
/* Build the syslog line / JSON line without writing them (tests use these). */
void posture_log_format_line(struct strbuf *b, const struct posture_msg *m);
void posture_log_format_json(struct strbuf *b, const struct posture_msg *m, long long now);

/* (Re)open the JSON log ("" or NULL closes it). On failure the previous file
 * stays open and -1 is returned (errno set). */
int  posture_log_json_open(const char *path);
void posture_log_json_close(void);

void posture_log_set_verbose(bool on);
bool posture_log_verbose(void);
/* syslog(LOG_MAIL|prio) that also honours the -v switch for LOG_DEBUG. */
void posture_log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
