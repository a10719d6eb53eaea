/*
 * export.h -- what the exporters of tlspolicy(1) share (export.c): the
 * loaded connectors file with its SHA-256, diagnostics that name the outbound
 * connector and the requirement an MTA cannot express, the sorted key/value
 * table every generated map source is, and writing a file of the output
 * directory in one piece.
 * Never: decides what an MTA can express (each export_<mta>.c does).
 */
#ifndef EXPORT_H
#define EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "outbound.h"
#include "policy.h"

struct export_ctx {
    const char *progname;
    const char *config;           /* the file as named on the command line */
    char        sha256[65];       /* of the bytes that were loaded */
    struct policy *p;
    const char *dir;              /* --dir, as given */
    char       *absdir;           /* the same, absolute, for the MTA's configuration */
    size_t      nerrors, nwarnings;
};

/* Parse "[-c FILE] [--dir DIR]" (dir_ok: --dir allowed), load FILE and hash it.
 * 0, or the exit status to return (diagnostics printed). */
int  export_open(struct export_ctx *x, const char *progname, const char *mta, int argc,
                 char **argv, bool dir_ok);
void export_close(struct export_ctx *x);
/* "tlspolicy: export postfix: outbound connector 'NAME' (file:line): REQ: ..." on
 * stderr; an error makes the export fail, a warning does not. */
void export_error(struct export_ctx *x, const struct outbound_connector *c, const char *req,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void export_warn(struct export_ctx *x, const struct outbound_connector *c, const char *req,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The first line of every generated file: source file and its SHA-256. */
char *export_header(const struct export_ctx *x, const char *comment, const char *what);
/* Does c get the key of pattern? The loader warned about a pattern given twice:
 * the first connector in the file keeps it, as policy_outbound_find decides. */
bool export_owns(const struct export_ctx *x, const struct outbound_connector *c,
                 const char *pattern);
/* Does pattern lie inside a wildcard of a connector that leaves through smart
 * hosts? A connector without smart hosts then needs a route of its own for it,
 * or the wildcard's route would carry its mail to the other partner's hosts. */
bool export_under_smart_host(const struct export_ctx *x, const char *pattern);

/* One entry of a generated map source, with the "# ..." lines before it. */
struct export_entry {
    char *key;
    char *value;
    char *comment;
};

struct export_table {
    struct export_entry *v;
    size_t n, cap;
    bool   oom;                   /* an add failed: the table is incomplete */
};

/* Takes key, value and comment (freed on failure; NULL ones set oom). */
void export_table_add(struct export_table *t, char *key, char *value, char *comment);
/* By key, so the same file gives the same bytes whatever its order. */
void export_table_sort(struct export_table *t);
void export_table_free(struct export_table *t);

/* Write DIR/name (a new file replaces the old one by rename, so a reader never
 * sees half a file); *path gets the absolute path. 0, or -1 (message printed). */
int  export_write(struct export_ctx *x, const char *name, const char *data, size_t len,
                  char **path);

#endif
