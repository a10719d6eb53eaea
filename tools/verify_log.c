/*
 * verify_log.c -- "tlspolicy verify-log FILE...": checks the hash chain of JSON
 * posture logs written with settings.log_json_chain, files in the order given
 * (oldest first; plain or gzip, read by report_input.c), and names the first
 * place where a line was removed, altered or reordered.
 * Owns: the rules a chain must meet and the words for each break.
 * Never: trusts a line it has not hashed, holds more than two lines, or prints
 * a byte from the input unescaped.
 * Exit: 0 the chain is intact; 1 it is broken (the first break is named);
 * 2 usage error, a file that cannot be read, or out of memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "line_hash.h"
#include "report.h"
#include "verify_log.h"

enum { VERIFY_LOG_INTACT = 0, VERIFY_LOG_BROKEN = 1, VERIFY_LOG_FAIL = 2 };

/* One line as the chain sees it: its hash, its "prev" and whether it is a link. */
struct verify_log_line {
    char hash[LINE_HASH_HEX + 1];
    char prev[LINE_HASH_HEX + 1];  /* "" when absent or not a chain value */
    bool link, json;
};

struct verify_log_state {
    const char *progname;
    char last[LINE_HASH_HEX + 1];  /* hash of the line before; "" at the start */
    const char *last_file;
    unsigned long long last_lineno;
    unsigned long long lines, links;
    size_t files;
};

/* A chain value: 64 lower-case hex digits, or "genesis". */
static bool
verify_log_is_chain_value(const char *s)
{
    size_t i;

    if (strcmp(s, LINE_HASH_GENESIS) == 0)
        return true;
    if (strlen(s) != LINE_HASH_HEX)
        return false;
    for (i = 0; i < LINE_HASH_HEX; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static int
verify_log_read(const char *line, size_t len, struct verify_log_line *v)
{
    static const char *prev_path[] = { "prev", NULL };
    static const char *type_path[] = { "type", NULL };
    yajl_val root, x;
    const char *s;

    memset(v, 0, sizeof *v);
    if (line_hash(line, len, v->hash) != 0)
        return -1;
    /* a NUL inside the line would hide the rest from yajl: not a record */
    if (memchr(line, '\0', len) != NULL || (root = yajl_tree_parse(line, NULL, 0)) == NULL)
        return 0;
    if (YAJL_IS_OBJECT(root)) {
        v->json = true;
        x = yajl_tree_get(root, prev_path, yajl_t_string);
        if ((s = YAJL_GET_STRING(x)) != NULL && verify_log_is_chain_value(s))
            snprintf(v->prev, sizeof v->prev, "%s", s);
        x = yajl_tree_get(root, type_path, yajl_t_string);
        v->link = (s = YAJL_GET_STRING(x)) != NULL && strcmp(s, "link") == 0;
    }
    yajl_tree_free(root);
    return 0;
}

/* "FILE:LINE: " on stdout, the name escaped. */
static void
verify_log_where(const char *file, unsigned long long lineno)
{
    report_esc_term(stdout, file);
    printf(":%llu: ", lineno);
}

/* The first break, at line lineno of file (v is that line, next the one after
 * it when there is one): which words fit. */
static void
verify_log_broken(struct verify_log_state *s, const char *file, unsigned long long lineno,
          const struct verify_log_line *v, const struct verify_log_line *next)
{
    verify_log_where(file, lineno);
    if (!v->json)
        printf("not a JSON record: this line was altered or cut short\n");
    else if (v->prev[0] == '\0')
        printf("no \"prev\": this line is not part of a hash chain (altered, or written "
               "without settings.log_json_chain)\n");
    else if (next != NULL && strcmp(v->prev, next->hash) == 0)
        printf("reordered: this line names the line after it as its predecessor "
               "(lines %llu and %llu were swapped)\n", lineno, lineno + 1);
    else if (strcmp(v->prev, LINE_HASH_GENESIS) == 0)
        printf("a new chain starts here (\"genesis\"): nothing ties it to the lines "
               "before (a restart after a rotation without SIGUSR2, or lines removed)\n");
    else if (s->last_file == file)
        printf("the chain breaks: line %llu was altered, or lines were removed between "
               "it and this line\n", s->last_lineno);
    else {
        printf("the chain breaks: the last line of ");
        report_esc_term(stdout, s->last_file);
        printf(" (line %llu) was altered, or lines were removed from its end or from "
               "the start of this file, or the files are out of order\n", s->last_lineno);
    }
}

/* One file: VERIFY_LOG_INTACT to go on, VERIFY_LOG_BROKEN after naming the
 * break, or VERIFY_LOG_FAIL. */
static int
verify_log_file(struct verify_log_state *s, const char *path)
{
    const char *name = strcmp(path, "-") == 0 ? "(stdin)" : path;
    char err[200];
    struct report_input *in;
    struct verify_log_line cur, next;
    const char *line;
    unsigned long long lineno = 0;
    uint64_t no;
    size_t len;
    bool huge, have_next = false;
    int rc = VERIFY_LOG_INTACT;

    if ((in = report_input_open(path, err, sizeof err)) == NULL) {
        fprintf(stderr, "%s verify-log: ", s->progname);
        report_esc_term(stderr, name);
        fprintf(stderr, ": %s\n", err);
        return VERIFY_LOG_FAIL;
    }
    s->files++;
    for (;;) {
        if ((line = report_input_line(in, &len, &no, &huge)) == NULL)
            break;
        lineno = no;
        if (huge) {
            verify_log_where(name, lineno);
            printf("a line longer than %d bytes: it cannot be checked\n", REPORT_MAX_LINE);
            rc = VERIFY_LOG_BROKEN;
            break;
        }
        if (verify_log_read(line, len, &cur) != 0)
            goto oom;
        s->lines++;
        if (cur.link)
            s->links++;
        /* The very first line opens the chain: whatever it continues from was
         * given in no file here. Every other line must name the one before. */
        if (s->last[0] == '\0' ? (!cur.json || cur.prev[0] == '\0')
                               : strcmp(cur.prev, s->last) != 0) {
            /* one line more tells a swap from a removal */
            if ((line = report_input_line(in, &len, &no, &huge)) != NULL && !huge) {
                if (verify_log_read(line, len, &next) != 0)
                    goto oom;
                have_next = true;
            }
            verify_log_broken(s, name, lineno, &cur, have_next ? &next : NULL);
            rc = VERIFY_LOG_BROKEN;
            break;
        }
        if (s->last[0] == '\0' && !cur.link) {
            verify_log_where(name, lineno);
            printf("note: the chain starts with a record, not a link line: the lines "
                   "before it are not in the files given\n");
        }
        memcpy(s->last, cur.hash, sizeof s->last);
        s->last_file = name;
        s->last_lineno = lineno;
    }
    if (rc == VERIFY_LOG_INTACT && report_input_error(in) != NULL) {
        verify_log_where(name, lineno + 1);
        printf("the file cannot be read to its end (%s): its tail is missing\n",
               report_input_error(in));
        rc = VERIFY_LOG_BROKEN;
    }
    report_input_close(in);
    return rc;
oom:
    report_input_close(in);
    fprintf(stderr, "%s verify-log: out of memory\n", s->progname);
    return VERIFY_LOG_FAIL;
}

int
verify_log_main(const char *progname, int argc, char **argv)
{
    struct verify_log_state s;
    int i, rc = VERIFY_LOG_INTACT, first = 0;

    memset(&s, 0, sizeof s);
    s.progname = progname;
    if (argc > 0 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        printf("usage: %s verify-log FILE...\n"
               "FILE: JSON posture logs written with settings.log_json_chain, oldest first;\n"
               "plain or gzip; - reads stdin. Exit 0 intact, 1 broken, 2 error.\n", progname);
        return VERIFY_LOG_INTACT;
    }
    if (argc > 0 && strcmp(argv[0], "--") == 0)
        first = 1;
    if (argc - first < 1) {
        fprintf(stderr, "%s verify-log: expected one or more FILE (oldest first)\n", progname);
        return VERIFY_LOG_FAIL;
    }
    for (i = first; i < argc && rc == VERIFY_LOG_INTACT; i++)
        rc = verify_log_file(&s, argv[i]);
    if (rc == VERIFY_LOG_INTACT && s.lines == 0) {
        printf("no lines: nothing to verify\n");
        return VERIFY_LOG_BROKEN;
    }
    if (rc == VERIFY_LOG_INTACT)
        printf("hash chain intact: %llu lines (%llu link lines) in %zu file%s\n",
               s.lines, s.links, s.files, s.files == 1 ? "" : "s");
    return rc;
}
