/*
 * logq.h -- the daemon's syslog lines leave through one writer thread that
 * sends whatever has queued up every few milliseconds in one sendmmsg(2), so
 * a message costs the syslog daemon one wake-up per batch instead of one per
 * line, and no callback ever waits for a slow syslog daemon.
 * Never: formats or escapes a line (callers hand finished, escaped text), or
 * blocks a caller while the queue has room.
 * Diagnostics: counters (logq_stats); a full queue falls back to syslog(3).
 */
#ifndef MILTER_LOGQ_H
#define MILTER_LOGQ_H

#include <stdbool.h>
#include <stddef.h>

/* How long a queued line waits at most before the writer sends it. */
#define LOGQ_FLUSH_MS 5

/* Start the writer: ident and pid as openlog(3) would write them, path the
 * syslog socket (_PATH_LOG), stderr_copy to also write each line to stderr at
 * once (-f; like LOG_PERROR), max_bytes the queue bound (text queued; beyond
 * it a line goes through syslog(3) in the caller). Call after fork() and after dropping
 * privileges. Returns 0, or an errno value (lines then go to syslog(3)). */
int logq_start(const char *ident, const char *path, bool stderr_copy, size_t max_bytes);

/* Log one finished line (no format is applied) with LOG_MAIL | prio. Safe from
 * any thread; never blocks while the writer runs and the queue has room. */
void logq_line(int prio, const char *line);

/* New lines go to syslog(3) from now on; what is queued is sent, then the
 * writer stops. */
void logq_stop(void);

/* Counters for tests and the stop message: lines sent, lines that went to
 * syslog(3) because the queue was full, lines the syslog daemon never took. */
struct logq_stats {
    size_t sent, overflowed, dropped;
};
void logq_stats(struct logq_stats *st);

#endif
