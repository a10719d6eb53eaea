/*
 * verify_log.h -- "tlspolicy verify-log": the entry point tools/tlspolicy.c
 * dispatches to (tools/verify_log.c checks a JSON posture log's hash chain).
 * Never: anything but the one entry point.
 */
#ifndef TOOLS_VERIFY_LOG_H
#define TOOLS_VERIFY_LOG_H

/* argv holds the arguments after "verify-log". Exit status: 0 intact, 1 broken,
 * 2 usage error or unreadable input. */
int verify_log_main(const char *progname, int argc, char **argv);

#endif
