/*
 * posture_log.h -- the daemon's sinks: the per-message and per-refusal syslog
 * lines, the JSON posture log file, and posture_log_msg, the general logger of
 * every milter/ file. The text itself comes from policy/posture_render.h.
 * Never: formats a posture field, calls libmilter, or decides policy.
 * Diagnostics: a syslog line that cannot be built (out of memory) is reported
 * through syslog(3) directly; a JSON record that cannot be built or written is
 * logged at most once a minute with the count of the others (and the caller
 * applies settings.on_log_error); a JSON log that cannot be opened, or breaks
 * an ownership rule, is the caller's to report.
 */
#ifndef MILTER_POSTURE_LOG_H
#define MILTER_POSTURE_LOG_H

#include <stdbool.h>

#include "strbuf.h"

#include "policy.h"
#include "posture.h"

/* The per-message syslog line (and the JSON line when m->json). 0, or -1
 * when the JSON record was due but not written (settings.on_log_error then
 * decides; the failure was logged, at most once a minute). */
int  posture_log_message(const struct posture_msg *m);
/* The JSON line alone (when m->json): posture_log_message writes it, and so
 * does a transaction that ended without a message, whose syslog story the
 * "refused" lines already tell. */
int  posture_log_json_line(const struct posture_msg *m);
/* The per-refused-recipient syslog line. */
void posture_log_refused(const char *queue_id, const char *rcpt,
                         const struct policy_result *r);

/* (Re)open the JSON log st->log_json ("", NULL or st NULL closes it), with the
 * hash chain when st->log_json_chain: a link line is written first, naming the
 * last line in the file (or, in an empty file, the last this process wrote, or
 * "genesis"); a record with no host of its own gets the system's name. The file must be a regular
 * file, not reached through a symbolic link, owned by the effective uid and
 * writable by nobody else (group and others). On failure the previous file
 * stays open, why (unless NULL) gets a sentence naming the path and the rule it broke, and
 * -1 is returned. */
int  posture_log_json_open(const struct policy_settings *st, struct strbuf *why);
/* What can be told without the daemon's user: whether path, if it exists, is a
 * symbolic link or not a regular file. 0 when fine or absent (the daemon
 * creates it), else -1 and a sentence in why. For -n. */
int  posture_log_json_check(const char *path, struct strbuf *why);
void posture_log_json_close(void);

void posture_log_set_verbose(bool on);
bool posture_log_verbose(void);
/* syslog(LOG_MAIL|prio) that also honours the -v switch for LOG_DEBUG; the
 * finished line is escaped (ESC_LINE) when an argument carried unsafe bytes. */
void posture_log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
