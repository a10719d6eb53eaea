/*
 * report.h -- the pieces of "tlspolicy report": the line reader (report_input.c),
 * the record parser (report_parse.c), the bounded aggregate (report_agg.c), the
 * output escapers (report_esc.c) and the formatters (report_text.c for text and
 * CSV, report_json.c, report_html.c), and the outbound contracts of -c FILE
 * (built in report.c, shown by every formatter but CSV).
 * Never: holds a whole input file or one record per message; every table here is
 * capped (REPORT_MAX_*), and a cap that was hit is counted and reported.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "outbound.h"

/* The caps that keep memory bounded whatever the input (documented in tlspolicy(1)). */
#define REPORT_MAX_LINE        (1024 * 1024) /* a longer line is malformed ("huge") */
#define REPORT_MAX_CONNECTORS  1000          /* more go to the "(other)" bucket */
#define REPORT_MAX_DAY_BUCKETS 200000        /* connector-days, over all connectors */
#define REPORT_MAX_NAMES       32            /* names per kind per connector */
#define REPORT_MAX_NAME_LEN    256           /* longer names are cut (bytes) */
#define REPORT_MAX_REASONS     32            /* distinct reasons per connector */
#define REPORT_MAX_REASON_LEN  512
#define REPORT_MAX_EXAMPLES    3             /* example queue ids per reason */
#define REPORT_MAX_BAD         20            /* malformed lines listed by file:line */
#define REPORT_SCHEMA          1             /* the newest schema this reader knows */

#define REPORT_DEFAULTS_NAME "(defaults)"
#define REPORT_OTHER_NAME    "(other)"

enum report_verdict { RV_PASS, RV_FAIL, RV_NONE, RV_ERROR, RV_OTHER, RV_N };
enum report_action { RA_ACCEPT, RA_TAG, RA_QUARANTINE, RA_TEMPFAIL, RA_REJECT, RA_OTHER, RA_N };
enum report_tls { RT_PLAIN, RT_10, RT_11, RT_12, RT_13, RT_OTHER, RT_N };
enum report_bits { RB_LT128, RB_128, RB_256, RB_UNKNOWN, RB_N };
enum report_namekind { RN_CERT, RN_ISSUER, RN_ROOT, RN_HOST, RN_POLICY, RN_N };

/* Counters shared by a connector's total and by each of its days. */
struct report_counts {
    uint64_t msgs, rcpts;
    uint64_t verdict[RV_N];
    uint64_t action[RA_N];
    uint64_t monitor;           /* mode "monitor": nothing was enforced */
    uint64_t tls[RT_N];
    uint64_t fs;                /* forward secrecy "yes" */
    uint64_t verified;          /* verified "yes" */
    uint64_t bits[RB_N];        /* over TLS messages only */
};

/* One parsed message line; the strings are borrowed from the parser and live
 * until the next line is parsed. NULL means absent or JSON null. */
struct report_rec {
    long long   time;           /* seconds since the epoch, UTC */
    const char *queue_id;
    const char *connector;      /* NULL: the defaults */
    enum report_verdict verdict;
    enum report_action action;
    bool        monitor;
    uint64_t    rcpts;
    enum report_tls tls;
    long long   bits;           /* -1: unknown */
    bool        fs, verified;
    const char *cert, *issuer, *root, *host, *policy;
    const char *reasons[REPORT_MAX_REASONS];
    size_t      nreasons;
    long long   schema;
};

/* ---- report_input.c: lines from plain or gzip files, or stdin ---- */
struct report_input;

/* Open path ("-" is stdin) for reading lines. Regular files and stdin only; NULL
 * with a message in err (size errlen) on failure. */
struct report_input *report_input_open(const char *path, char *err, size_t errlen);
/* The next line without its newline (NUL-terminated, valid until the next call),
 * its length in *len and its 1-based number in *lineno; NULL at end of input or on
 * a read error (see report_input_error). A line longer than REPORT_MAX_LINE is
 * returned as "" with *huge set. */
const char *report_input_line(struct report_input *in, size_t *len, uint64_t *lineno,
                              bool *huge);
/* After the last line: NULL when the input ended cleanly, else what went wrong
 * (a truncated gzip stream, a read error). */
const char *report_input_error(const struct report_input *in);
void report_input_close(struct report_input *in);

/* ---- report_parse.c: one JSON line into a report_rec ---- */
enum report_parse_rc { RP_MESSAGE, RP_LINK, RP_MALFORMED };
struct report_parser;

struct report_parser *report_parser_new(void);
void report_parser_free(struct report_parser *p);
/* Parse line[0..len). RP_MESSAGE fills rec; RP_LINK is a hash-chain link line (to
 * be skipped); RP_MALFORMED writes why into why (size whylen). */
enum report_parse_rc report_parse_line(struct report_parser *p, const char *line, size_t len,
                                       struct report_rec *rec, char *why, size_t whylen);
/* Parse a --since/--until value (YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z], UTC) into
 * seconds; a date alone is midnight and sets *date_only. -1 when malformed. */
int report_parse_time(const char *s, long long *out, bool *date_only);
/* Days since 1970-01-01 of t, and "YYYY-MM-DD" of a day number into buf[11]. */
long long report_day_of(long long t);
void report_day_format(long long day, char buf[static 11]);
/* "YYYY-MM-DDTHH:MM:SSZ" of t into buf[21]. */
void report_time_format(long long t, char buf[static 21]);

/* ---- report_agg.c: the bounded aggregate ---- */
struct report_name {
    char       *name;
    uint64_t    count;
    long long   first, last;
};
struct report_nameset {
    struct report_name v[REPORT_MAX_NAMES];
    size_t      n;
    uint64_t    dropped;        /* occurrences of names past the cap */
    size_t      hit;            /* index of the last name matched */
};
struct report_reason {
    char       *text;
    uint64_t    count;
    char       *example[REPORT_MAX_EXAMPLES];   /* the earliest, by time then id */
    long long   example_time[REPORT_MAX_EXAMPLES];
    size_t      nexample;
};
struct report_day {
    long long   day;
    struct report_counts c;
};
struct report_conn {
    char       *name;
    struct report_counts total;
    long long   first, last;
    struct report_day *days;    /* sorted by day */
    size_t      ndays, capdays;
    struct report_nameset names[RN_N];
    struct report_reason reasons[REPORT_MAX_REASONS];
    size_t      nreasons;
    uint64_t    reasons_dropped;
    uint64_t    days_dropped;   /* messages not in the timeline (bucket cap) */
};
struct report_bad {
    char       *file;
    uint64_t    line;
    char       *why;
};
struct report_agg {
    struct report_conn **conn;  /* hash table of REPORT_MAX_CONNECTORS * 2 slots */
    size_t      nslots, nconn;
    struct report_conn *other;  /* past the connector cap */
    size_t      day_buckets;
    struct report_counts total;
    uint64_t    lines, links, filtered, malformed, future_schema, bad_files;
    long long   max_schema;
    struct report_bad bad[REPORT_MAX_BAD];
    size_t      nbad;
    char      **file_errors;    /* "file: what" for unreadable or truncated files */
    size_t      nfile_errors;
    bool        caps_hit;
    bool        oom;
};

int report_agg_init(struct report_agg *a);
void report_agg_free(struct report_agg *a);
/* Count one message. Returns -1 only when out of memory. */
int report_agg_add(struct report_agg *a, const struct report_rec *r);
/* Remember a malformed line (counted always, listed up to REPORT_MAX_BAD). */
int report_agg_bad(struct report_agg *a, const char *file, uint64_t line, const char *why);
int report_agg_file_error(struct report_agg *a, const char *file, const char *what);
/* The connectors (and "(other)" when used) sorted by compliance, worst first;
 * caller frees the array (not the connectors). Each connector's names are put
 * in order of first seen, then name: with the earliest examples of each reason,
 * the report is the same whatever the order of its input lines (several hosts'
 * files, or one file a collector interleaved). Call it after the last add. */
struct report_conn **report_agg_sorted(const struct report_agg *a, size_t *n);
/* The connector's reasons sorted by count, most first, into out; returns n. */
size_t report_reasons_sorted(const struct report_conn *c,
                             const struct report_reason *out[REPORT_MAX_REASONS]);
/* Changes: calls fn for each certificate name, issuer or root first seen on a later
 * day than the connector's first message (a rollover), with that day (YYYY-MM-DD)
 * and the kind ("issuer"); the one rule all formats share. */
void report_changes(const struct report_conn *c,
                    void (*fn)(void *arg, const char *day, const char *kind, const char *name),
                    void *arg);
/* Share num/den as a percentage, or -1 when den is 0. */
double report_pct(uint64_t num, uint64_t den);
/* pass / (pass + fail + error), or -1 when that is 0/0. */
double report_compliance(const struct report_counts *c);
/* Downgrades: the first day with TLS 1.3 and the later days with older TLS or
 * plaintext. Calls fn for each such day. */
void report_downgrades(const struct report_conn *c,
                       void (*fn)(void *arg, long long first13, const struct report_day *d),
                       void *arg);

extern const char *const report_verdict_names[RV_N];
extern const char *const report_action_names[RA_N];
extern const char *const report_tls_names[RT_N];
extern const char *const report_bits_names[RB_N];
extern const char *const report_namekind_names[RN_N];
extern const char *const report_change_names[RN_N];    /* singular: "new issuer" */

/* ---- report_esc.c: every record string is escaped for its output ---- */
/* Terminal: control bytes, DEL and invalid UTF-8 become \xNN; backslash \\. */
void report_esc_term(FILE *fp, const char *s);
/* CSV field: always quoted, quotes doubled, control bytes \xNN, and a leading
 * = + - @ prefixed with ' so a spreadsheet never reads a formula. */
void report_esc_csv(FILE *fp, const char *s);
/* HTML text or attribute: & < > " ' as entities, control bytes as \xNN. */
void report_esc_html(FILE *fp, const char *s);

/* ---- the outbound contracts of the connectors file given with -c (report.c) ---- */
/* One outbound connector as every format shows it: the connector (borrowed from
 * the loaded file) with its requirements as text and the Postfix policy export
 * postfix writes for it, computed once so the formats cannot disagree. */
struct report_outbound {
    const struct outbound_connector *c;
    char      **reqs;           /* "min_version: TLSv1.2", in the man page's order */
    size_t      nreqs;
    char       *postfix;        /* "may" in monitor mode; NULL: cannot be exported */
    char       *postfix_enforce;   /* the enforce form in monitor mode, else NULL */
};
/* The Postfix policy of c as eval direction=outbound prints it (eval_outbound.c,
 * which names the tafile under x's directory); NULL after an error (printed on
 * stderr) or out of memory (*oom set). */
struct export_ctx;
char *eval_outbound_postfix(struct export_ctx *x, const struct outbound_connector *c,
                            bool *oom);

/* ---- the formatters; each returns 0, or -1 when out of memory ---- */
struct report_view {
    const struct report_agg *agg;
    struct report_conn **conn;  /* sorted by compliance */
    size_t      nconn;
    const char *since, *until;  /* as given, or NULL */
    const char *config;         /* -c FILE as given, or NULL: no outbound section */
    const char *config_sha256;
    const struct report_outbound *outbound;
    size_t      noutbound;
};
int report_text(FILE *fp, const struct report_view *v);
int report_csv(FILE *fp, const struct report_view *v);
int report_json(FILE *fp, const struct report_view *v);
int report_html(FILE *fp, const struct report_view *v);

/* ---- report.c ---- */
int report_main(const char *progname, int argc, char **argv);

#endif
