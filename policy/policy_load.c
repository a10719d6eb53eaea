/*
 * policy_load.c -- reads a connectors file (schema version 1, see
 * milter-tlspolicy.yaml(5)) with libyaml's event API and a small recursive-descent
 * reader, validates every value, builds the rule model of policy_int.h and its
 * match indexes, and loads the trust store.
 * Never: includes yaml.h anywhere else (this is the only file that does), logs,
 * or returns a half-valid policy: any error means NULL.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "policy_int.h"
#include "strfmt.h"
#include "cert_name.h"
#include "file_read.h"
#include "match_addr.h"
#include "match_domain.h"
#include "tls_facts.h"
#include "trust_store.h"

#define LOAD_MAX_BYTES   ((size_t)256 * 1024 * 1024)
#define NAME_MAX_LEN     64
#define REPLY_MAX_LEN    400
#define HEADER_MAX_LEN   64
#define CIPHER_BITS_MAX  4096
#define DEFAULT_TRUST    "/etc/ssl/certs/ca-certificates.crt"
#define DEFAULT_HEADER   "X-TLS-Policy"
#define POSTFIX_CN_ONLY  "on Postfix this requirement always fails: Postfix passes only the certificate CN"
#define UNVERIFIED_NAMES "names of an unverified certificate prove nothing " \
                         "(add 'certificate: verified' to this require block)"

/* Results of the value readers: the value was read, it was wrong (already
 * reported and its node consumed, keep going), or reading cannot continue. */
enum { RD_FATAL = -1, RD_BAD = 0, RD_OK = 1 };
/* Results of map_key besides a key index. */
enum { KEY_FATAL = -1, KEY_END = -2, KEY_SKIP = -3 };

struct strlist {
    size_t n, cap;
    char **v;
    yaml_mark_t *mark;
};

struct name_slot {
    uint64_t hash;                /* kept so growing never re-reads the names */
    uint32_t idx1;                /* connector index + 1; 0 = empty */
    unsigned line;
};

struct rd {
    yaml_parser_t parser;
    yaml_event_t ev;
    bool have;                    /* ev is the next, not yet consumed event */
    bool fatal;                   /* no further reading: syntax error, alias, OOM */
    const char *name;
    const char *base_dir;
    struct policy_diags *diags;
    size_t errors0;               /* diags->nerrors when this load began */
    struct policy *p;

    char *scratch[2];             /* sanitised copies of input for messages */
    size_t scratch_size[2];
    unsigned scratch_next;

    /* where values came from, for errors found after reading */
    yaml_mark_t version_mark, settings_mark, trust_mark;
    bool have_settings, have_trust;
    yaml_mark_t *inter_mark;

    struct name_slot *names;      /* open addressing over connector names */
    size_t names_cap, names_used;
};

struct section {
    const char *what;             /* "require", "settings", ... */
    const char *const *keys;
    size_t n;
    const char *expected;         /* the keys, for "expected one of: ..." */
    const char *hint_key;         /* a key with its own explanation */
    const char *hint;
};

static unsigned ln(yaml_mark_t m) { return (unsigned)m.line + 1; }
static unsigned col(yaml_mark_t m) { return (unsigned)m.column + 1; }

/* ---------------------------------------------------------------- diagnostics */

static void diag(struct rd *, enum policy_severity, unsigned, unsigned, const char *, ...)
    __attribute__((format(printf, 5, 6)));

/* Every message of a load goes through here; the three spellings below only
 * say where it points. */
static void
diag(struct rd *r, enum policy_severity sev, unsigned line, unsigned column,
     const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = vstrfmt(fmt, ap);
    va_end(ap);
    if (msg == NULL)
        goto oom;
    if (policy_diags_add(r->diags, sev, r->name, line, column, "%s", msg) < 0)
        goto oom;
    free(msg);
    return;
oom:
    free(msg);
    r->fatal = true;
    /* Out of memory: try once more with a message that needs no formatting. */
    policy_diags_add(r->diags, POLICY_SEV_ERROR, r->name, line, column, "out of memory");
}

/* m is read twice: pass a mark, not a computation. */
#define err_at(r, m, ...)  diag((r), POLICY_SEV_ERROR, ln(m), col(m), __VA_ARGS__)
#define warn_at(r, m, ...) diag((r), POLICY_SEV_WARNING, ln(m), col(m), __VA_ARGS__)
#define err_nopos(r, ...)  diag((r), POLICY_SEV_ERROR, 0, 0, __VA_ARGS__)

static void
oom(struct rd *r)
{
    err_nopos(r, "out of memory");
    r->fatal = true;
}

static bool
had_errors(const struct rd *r)
{
    return r->diags->nerrors > r->errors0;
}

/* A printable, bounded copy of file text for a message: the file may hold any
 * byte, and a message ends up in logs and terminals. Two buffers rotate so one
 * message can quote two values. */
static const char *
q(struct rd *r, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const size_t maxin = 80;
    unsigned slot = r->scratch_next++ % 2;
    size_t need = maxin * 4 + 4, o = 0, i;

    if (r->scratch_size[slot] < need) {
        char *nb = realloc(r->scratch[slot], need);
        if (nb == NULL)
            return "?";
        r->scratch[slot] = nb;
        r->scratch_size[slot] = need;
    }
    char *b = r->scratch[slot];
    for (i = 0; i < maxin && s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            b[o++] = (char)c;
        } else if (c == '\\') {
            b[o++] = '\\';
            b[o++] = '\\';
        } else {
            b[o++] = '\\';
            b[o++] = 'x';
            b[o++] = hex[c >> 4];
            b[o++] = hex[c & 15];
        }
    }
    if (s[i] != '\0') {
        b[o++] = '.';
        b[o++] = '.';
        b[o++] = '.';
    }
    b[o] = '\0';
    return b;
}

/* Free the diagnostics this load added from index k on (a YAML syntax error
 * replaces whatever was said about the half-read file before it). */
static void
diags_truncate(struct policy_diags *d, size_t k)
{
    for (size_t i = k; i < d->n; i++) {
        if (d->v[i].severity == POLICY_SEV_ERROR)
            d->nerrors--;
        free(d->v[i].file);
        free(d->v[i].message);
    }
    if (k < d->n)
        d->n = k;
}

static int
diag_pos_cmp(const void *a, const void *b)
{
    const struct policy_diag *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->column != y->column)
        return x->column < y->column ? -1 : 1;
    return 0;
}

/* Order this load's messages by position, so the first error is the first
 * problem in the file even when it was found late (a missing key is noticed at
 * the end of its mapping). Insertion sort keeps equal positions in order; the
 * list is nearly sorted already. */
static void
diags_sort(struct policy_diags *d, size_t k)
{
    for (size_t i = k + 1; i < d->n; i++) {
        struct policy_diag t = d->v[i];
        size_t j = i;
        while (j > k && diag_pos_cmp(&d->v[j - 1], &t) > 0) {
            d->v[j] = d->v[j - 1];
            j--;
        }
        d->v[j] = t;
    }
}

/* ---------------------------------------------------------------- events */

static const char *
event_kind(const yaml_event_t *e)
{
    switch (e->type) {
    case YAML_MAPPING_START_EVENT:
        return "a mapping";
    case YAML_SEQUENCE_START_EVENT:
        return "a list";
    case YAML_SCALAR_EVENT:
        return "a scalar";
    default:
        return "the end of a block";
    }
}

static const char *
sval(const yaml_event_t *e)
{
    return (const char *)e->data.scalar.value;
}

static bool
is_plain(const yaml_event_t *e)
{
    return e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* YAML's null: an empty plain scalar, "~" or "null". */
static bool
is_null(const yaml_event_t *e)
{
    const char *s = sval(e);
    return e->type == YAML_SCALAR_EVENT && is_plain(e) &&
           (s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
            strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0);
}

static const char *
value_kind(const yaml_event_t *e)
{
    if (e->type == YAML_SCALAR_EVENT)
        return is_null(e) ? "nothing (null)" : "a string";
    return event_kind(e);
}

/* The next event, parsed on demand. Anchors, aliases and tags are refused here,
 * once, for every node of the file. NULL when reading must stop. */
static yaml_event_t *
peek(struct rd *r)
{
    yaml_event_t *e = &r->ev;
    const yaml_char_t *anchor = NULL, *tag = NULL;

    if (r->fatal)
        return NULL;
    if (r->have)
        return e;
    if (!yaml_parser_parse(&r->parser, e)) {
        /* Reported once by policy_load_buffer, which also drops what was said
         * about the file before the error. */
        if (r->parser.error == YAML_MEMORY_ERROR)
            oom(r);
        r->fatal = true;
        return NULL;
    }
    r->have = true;
    switch (e->type) {
    case YAML_ALIAS_EVENT:
        err_at(r, e->start_mark, "anchors and aliases are not supported (found alias '*%s')",
               q(r, (const char *)e->data.alias.anchor));
        r->fatal = true;
        return NULL;
    case YAML_SCALAR_EVENT:
        anchor = e->data.scalar.anchor;
        tag = e->data.scalar.tag;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = e->data.sequence_start.anchor;
        tag = e->data.sequence_start.tag;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = e->data.mapping_start.anchor;
        tag = e->data.mapping_start.tag;
        break;
    default:
        break;
    }
    if (anchor != NULL) {
        err_at(r, e->start_mark, "anchors and aliases are not supported (found anchor '&%s')",
               q(r, (const char *)anchor));
        r->fatal = true;
        return NULL;
    }
    if (tag != NULL) {
        err_at(r, e->start_mark, "YAML tags are not supported (found tag '%s'; write the value "
               "without a tag)", q(r, (const char *)tag));
        r->fatal = true;
        return NULL;
    }
    return e;
}

static void
advance(struct rd *r)
{
    if (r->have) {
        yaml_event_delete(&r->ev);
        r->have = false;
    }
}

/* Consume one whole node (after an error about it). */
static int
skip_node(struct rd *r)
{
    int depth = 0;
    do {
        yaml_event_t *e = peek(r);
        if (e == NULL)
            return RD_FATAL;
        switch (e->type) {
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            depth++;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        default:
            break;
        }
        advance(r);
    } while (depth > 0);
    return RD_BAD;
}

/* Report that the node here is not what was expected, and skip it. */
static int
wrong_node(struct rd *r, const char *what, const char *expected)
{
    yaml_event_t *e = peek(r);
    if (e == NULL)
        return RD_FATAL;
    err_at(r, e->start_mark, "%s: expected %s, found %s", what, expected, value_kind(e));
    return skip_node(r);
}

/* ---------------------------------------------------------------- scalars */

/* A string value: plain or quoted; null is not a string. */
static int
read_str(struct rd *r, const char *what, char **out, yaml_mark_t *vm)
{
    yaml_event_t *e = peek(r);

    *out = NULL;
    if (e == NULL)
        return RD_FATAL;
    *vm = e->start_mark;
    /* Spelled out so that no reader (clang's analyzer included) takes a wrong
     * node for RD_OK with *out still NULL. */
    if (e->type != YAML_SCALAR_EVENT || is_null(e))
        return wrong_node(r, what, "a string") == RD_FATAL ? RD_FATAL : RD_BAD;
    if (strlen(sval(e)) != e->data.scalar.length) {
        err_at(r, e->start_mark, "%s: the value contains a NUL byte (expected text)", what);
        advance(r);
        return RD_BAD;
    }
    if ((*out = strdup(sval(e))) == NULL) {
        oom(r);
        return RD_FATAL;
    }
    advance(r);
    return RD_OK;
}

static int
read_bool(struct rd *r, const char *what, bool *out, yaml_mark_t *vm)
{
    yaml_event_t *e = peek(r);

    if (e == NULL)
        return RD_FATAL;
    *vm = e->start_mark;
    if (e->type != YAML_SCALAR_EVENT || is_null(e))
        return wrong_node(r, what, "true or false");
    if (is_plain(e) && strcmp(sval(e), "true") == 0) {
        *out = true;
    } else if (is_plain(e) && strcmp(sval(e), "false") == 0) {
        *out = false;
    } else {
        err_at(r, e->start_mark, "%s: '%s'%s is not a boolean (expected true or false)", what,
               q(r, sval(e)), is_plain(e) ? "" : " in quotes");
        advance(r);
        return RD_BAD;
    }
    advance(r);
    return RD_OK;
}

/* A plain decimal integer in [min, max]: no sign, no leading zero, no quotes, so
 * that "0x10", "1e3" or "128" in quotes are refused rather than guessed at. */
static int
read_int(struct rd *r, const char *what, long min, long max, long *out, yaml_mark_t *vm)
{
    yaml_event_t *e = peek(r);
    const char *s;
    long v = 0;
    bool neg = false;

    if (e == NULL)
        return RD_FATAL;
    *vm = e->start_mark;
    if (e->type != YAML_SCALAR_EVENT || is_null(e))
        return wrong_node(r, what, "an integer");
    s = sval(e);
    if (!is_plain(e)) {
        err_at(r, e->start_mark, "%s: '%s' is a quoted string (expected an integer without quotes)",
               what, q(r, s));
        goto bad;
    }
    if (*s == '-') {
        neg = true;
        s++;
    }
    if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] != '\0')) {
        err_at(r, e->start_mark, "%s: '%s' is not a decimal integer (expected %ld to %ld)", what,
               q(r, sval(e)), min, max);
        goto bad;
    }
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9') {
            err_at(r, e->start_mark, "%s: '%s' is not a decimal integer (expected %ld to %ld)",
                   what, q(r, sval(e)), min, max);
            goto bad;
        }
        if (v > max)              /* already out of range: stop before overflow */
            continue;
        v = v * 10 + (*s - '0');
    }
    if (neg)
        v = -v;
    if (v < min || v > max) {
        err_at(r, e->start_mark, "%s: %s is out of range (expected %ld to %ld)", what,
               q(r, sval(e)), min, max);
        goto bad;
    }
    *out = v;
    advance(r);
    return RD_OK;
bad:
    advance(r);
    return RD_BAD;
}

/* A string from a fixed set of names, e.g. on_fail. */
static int
read_enum(struct rd *r, const char *what, int (*parse)(const char *), const char *expected,
          int *out, yaml_mark_t *vm)
{
    char *s = NULL;
    int rc = read_str(r, what, &s, vm), v;

    if (rc != RD_OK)
        return rc;
    if ((v = parse(s)) < 0) {
        err_at(r, *vm, "%s: '%s' is not valid (expected %s)", what, q(r, s), expected);
        rc = RD_BAD;
    } else {
        *out = v;
    }
    free(s);
    return rc;
}

/* ---------------------------------------------------------------- lists */

static void
strlist_free(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    free(l->mark);
    memset(l, 0, sizeof(*l));
}

static int
strlist_push(struct strlist *l, char *s, yaml_mark_t m)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        char **v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL)
            return -1;
        l->v = v;
        yaml_mark_t *mk = realloc(l->mark, cap * sizeof(*mk));
        if (mk == NULL)
            return -1;
        l->mark = mk;
        l->cap = cap;
    }
    l->v[l->n] = s;
    l->mark[l->n] = m;
    l->n++;
    return 0;
}

/* A list of strings, or one string standing for a list of one. Every entry is
 * checked with check() (NULL = any non-empty text is fine here); noun says what
 * an entry should be. The list holds the valid entries; RD_BAD when any was not. */
static int
read_list(struct rd *r, const char *what, const char *noun, const char *(*check)(const char *),
          bool allow_empty, struct strlist *l)
{
    yaml_event_t *e = peek(r);
    yaml_mark_t start;
    int rc = RD_OK;
    bool seq;

    if (e == NULL)
        return RD_FATAL;
    start = e->start_mark;
    if (e->type == YAML_SCALAR_EVENT && !is_null(e)) {
        seq = false;
    } else if (e->type == YAML_SEQUENCE_START_EVENT) {
        seq = true;
        advance(r);
    } else {
        return wrong_node(r, what, "a list");
    }
    for (;;) {
        char *s = NULL;
        const char *why;
        yaml_mark_t vm;
        int one;

        if ((e = peek(r)) == NULL)
            return RD_FATAL;
        if (seq && e->type == YAML_SEQUENCE_END_EVENT) {
            advance(r);
            break;
        }
        one = read_str(r, what, &s, &vm);
        if (one == RD_FATAL)
            return RD_FATAL;
        if (one == RD_OK && check != NULL && (why = check(s)) != NULL) {
            err_at(r, vm, "%s: '%s' is not %s (expected %s)", what, q(r, s), noun, why);
            one = RD_BAD;
        }
        if (one == RD_OK && strlist_push(l, s, vm) < 0) {
            free(s);
            oom(r);
            return RD_FATAL;
        }
        if (one != RD_OK) {
            free(s);
            rc = RD_BAD;
        }
        if (!seq)
            break;
    }
    if (l->n == 0 && rc == RD_OK && !allow_empty) {
        err_at(r, start, "%s: the list is empty (expected at least one entry, each %s)", what,
               noun);
        rc = RD_BAD;
    }
    return rc;
}

/* ---------------------------------------------------------------- mappings */

/* Enter a mapping value. RD_OK when inside it. */
static int
enter_map(struct rd *r, const char *what, yaml_mark_t *vm)
{
    yaml_event_t *e = peek(r);

    if (e == NULL)
        return RD_FATAL;
    *vm = e->start_mark;
    if (e->type != YAML_MAPPING_START_EVENT)
        return wrong_node(r, what, "a mapping");
    advance(r);
    return RD_OK;
}

/* The next key of a mapping of section sec: its index, KEY_END after the
 * mapping's end, KEY_SKIP when the key was wrong (reported; its value skipped).
 * first[] remembers the line of every key seen, to name duplicates. */
static int
map_key(struct rd *r, const struct section *sec, unsigned *first, yaml_mark_t *km)
{
    yaml_event_t *e = peek(r);
    const char *k;
    size_t i;

    if (e == NULL)
        return KEY_FATAL;
    if (e->type == YAML_MAPPING_END_EVENT) {
        advance(r);
        return KEY_END;
    }
    *km = e->start_mark;
    if (e->type != YAML_SCALAR_EVENT || is_null(e)) {
        err_at(r, *km, "%s: expected a key name, found %s", sec->what, value_kind(e));
        if (skip_node(r) == RD_FATAL || skip_node(r) == RD_FATAL)
            return KEY_FATAL;
        return KEY_SKIP;
    }
    k = sval(e);
    for (i = 0; i < sec->n; i++)
        if (strcmp(k, sec->keys[i]) == 0)
            break;
    if (i == sec->n) {
        if (sec->hint_key != NULL && strcmp(k, sec->hint_key) == 0)
            err_at(r, *km, "%s", sec->hint);
        else
            err_at(r, *km, "unknown key '%s' in %s (expected one of: %s)", q(r, k), sec->what,
                   sec->expected);
        goto skip;
    }
    if (first[i] != 0) {
        err_at(r, *km, "duplicate key '%s' in %s (first at line %u)", q(r, k), sec->what,
               first[i]);
        goto skip;
    }
    first[i] = ln(*km);
    advance(r);
    return (int)i;
skip:
    advance(r);
    return skip_node(r) == RD_FATAL ? KEY_FATAL : KEY_SKIP;
}

/* map_key for a section reader: a wrong key (reported, its value skipped) only
 * marks the mapping bad. A key index, KEY_END or KEY_FATAL. */
static int
next_key(struct rd *r, const struct section *sec, unsigned *first, yaml_mark_t *km, int *rc)
{
    int k;

    while ((k = map_key(r, sec, first, km)) == KEY_SKIP)
        *rc = RD_BAD;
    return k;
}

/* Fold one value's outcome into its mapping's: RD_BAD sticks; false when it was
 * RD_FATAL and reading must stop. */
static bool
fold(int *rc, int one)
{
    if (one == RD_BAD)
        *rc = RD_BAD;
    return one != RD_FATAL;
}

/* ---------------------------------------------------------------- checks */

static const char *
check_header(const char *s)
{
    size_t n = strlen(s);
    if (n > HEADER_MAX_LEN)
        return "a header field name of at most 64 characters";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 33 || c > 126 || c == ':')
            return "a header field name: printable ASCII without spaces or ':', or \"\" to disable";
    }
    return NULL;
}

/* The characters of a connector name and an authserv-id: both end up in
 * header fields and log lines unquoted. */
static bool
is_name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_';
}

static const char *
check_authserv_id(const char *s)
{
    for (size_t i = 0; s[i] != '\0'; i++)
        if (!is_name_char((unsigned char)s[i]))
            return "letters, digits, '.', '-' and '_' only, or \"\" to disable";
    return NULL;
}

static const char *
check_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > NAME_MAX_LEN)
        return "1 to 64 characters";
    for (size_t i = 0; i < n; i++)
        if (!is_name_char((unsigned char)s[i]))
            return "only letters, digits, '.', '-' and '_'";
    return NULL;
}

/* A certificate CN or O as written by the administrator. */
static const char *
check_text(const char *s)
{
    if (s[0] == '\0')
        return "a non-empty name";
    for (size_t i = 0; s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return "a name without control characters";
    }
    return NULL;
}

static int
parse_cert_req(const char *s)
{
    if (strcmp(s, "any") == 0)
        return POLICY_CERT_ANY;
    if (strcmp(s, "presented") == 0)
        return POLICY_CERT_PRESENTED;
    if (strcmp(s, "verified") == 0)
        return POLICY_CERT_VERIFIED;
    return -1;
}

static int
parse_on_error(const char *s)
{
    if (strcmp(s, "tempfail") == 0)
        return POLICY_ON_ERROR_TEMPFAIL;
    if (strcmp(s, "accept") == 0)
        return POLICY_ON_ERROR_ACCEPT;
    return -1;
}

/* Relative paths in the file are relative to the file, not to wherever the
 * daemon happened to start. */
static char *
resolve_path(const char *base_dir, const char *path)
{
    size_t nb, np;
    char *out;

    if (path[0] == '/' || base_dir == NULL || base_dir[0] == '\0')
        return strdup(path);
    nb = strlen(base_dir);
    np = strlen(path);
    while (nb > 1 && base_dir[nb - 1] == '/')
        nb--;
    if ((out = malloc(nb + 1 + np + 1)) == NULL)
        return NULL;
    memcpy(out, base_dir, nb);
    out[nb] = '/';
    memcpy(out + nb + 1, path, np + 1);
    return out;
}

/* ---------------------------------------------------------------- require */

static const char *const require_keys[] = {
    "tls", "min_version", "min_cipher_bits", "forward_secrecy", "certificate",
    "certificate_names", "issuers", "root_issuers", "organizations",
};
enum { RQ_TLS, RQ_MIN_VERSION, RQ_MIN_BITS, RQ_FS, RQ_CERT, RQ_NAMES, RQ_ISSUERS, RQ_ROOTS,
       RQ_ORGS, RQ_N };
static const struct section require_sec = {
    "require", require_keys, RQ_N,
    "tls, min_version, min_cipher_bits, forward_secrecy, certificate, certificate_names, "
    "issuers, root_issuers, organizations", NULL, NULL,
};

/* Move a checked list into a policy_names. */
static int
names_take(struct policy_names *n, struct strlist *l)
{
    n->n = l->n;
    n->v = l->v;
    l->v = NULL;
    l->n = 0;
    return 0;
}

/* issuers / root_issuers: an entry with '=' is a DN, stored canonical so the
 * evaluator compares like with like; anything else is a CN. */
static int
read_issuers(struct rd *r, const char *what, struct policy_names *out, bool warn_dn)
{
    struct strlist l = { 0 };
    int rc = read_list(r, what, "a certificate CN or DN", NULL, false, &l);
    bool any_dn = false;

    if (rc == RD_FATAL)
        goto out;
    for (size_t i = 0; i < l.n; i++)
        if (strchr(l.v[i], '=') != NULL)
            any_dn = true;
    if (any_dn && (out->is_dn = calloc(l.n ? l.n : 1, sizeof(bool))) == NULL) {
        oom(r);
        rc = RD_FATAL;
        goto out;
    }
    for (size_t i = 0; i < l.n; i++) {
        const char *why;
        if (strchr(l.v[i], '=') == NULL) {
            if ((why = check_text(l.v[i])) != NULL) {
                err_at(r, l.mark[i], "%s: '%s' is not a certificate name (expected %s)", what,
                       q(r, l.v[i]), why);
                rc = RD_BAD;
            }
            continue;
        }
        struct cert_dn dn = { 0 };
        char *canon;
        why = NULL;
        errno = 0;
        if (cert_dn_parse_config(l.v[i], &dn, &why) < 0) {
            if (errno == ENOMEM && why == NULL) {
                oom(r);
                rc = RD_FATAL;
                goto out;
            }
            err_at(r, l.mark[i], "%s: '%s' is not a valid DN: %s", what, q(r, l.v[i]),
                   why ? why : "malformed (expected \"CN=name,O=org,C=XX\" or a CN without '=')");
            rc = RD_BAD;
            continue;
        }
        canon = cert_dn_canonical(&dn);
        cert_dn_free(&dn);
        if (canon == NULL) {
            oom(r);
            rc = RD_FATAL;
            goto out;
        }
        free(l.v[i]);
        l.v[i] = canon;
        out->is_dn[i] = true;
        if (warn_dn)
            warn_at(r, l.mark[i], "%s: DN form: %s", what, POSTFIX_CN_ONLY);
    }
    names_take(out, &l);
out:
    strlist_free(&l);
    return rc;
}

/* A require block (connector or defaults). RD_OK or RD_BAD after the block's end. */
static int
read_require(struct rd *r, struct policy_require *rq)
{
    unsigned first[RQ_N] = { 0 };
    yaml_mark_t vm, km, names_mark[RQ_N] = { { 0 } };
    bool given[RQ_N] = { false };
    int rc = enter_map(r, "require", &vm), k, one;

    rq->min_version = TLS_VERSION_UNKNOWN;
    if (rc != RD_OK)
        return rc;
    while ((k = next_key(r, &require_sec, first, &km, &rc)) >= 0) {
        struct strlist l = { 0 };
        char *s = NULL;
        long v = 0;
        int e;

        names_mark[k] = km;
        switch (k) {
        case RQ_TLS:
            one = read_bool(r, "tls", &rq->tls, &vm);
            break;
        case RQ_MIN_VERSION:
            one = read_str(r, "min_version", &s, &vm);
            if (one == RD_OK && (rq->min_version = tls_version_parse(s)) == TLS_VERSION_UNKNOWN) {
                err_at(r, vm, "min_version: '%s' is not a TLS version (expected SSLv3, TLSv1, "
                       "TLSv1.1, TLSv1.2 or TLSv1.3)", q(r, s));
                one = RD_BAD;
            }
            free(s);
            break;
        case RQ_MIN_BITS:
            one = read_int(r, "min_cipher_bits", 1, CIPHER_BITS_MAX, &v, &vm);
            if (one == RD_OK)
                rq->min_cipher_bits = (int)v;
            break;
        case RQ_FS:
            one = read_bool(r, "forward_secrecy", &rq->forward_secrecy, &vm);
            break;
        case RQ_CERT:
            e = POLICY_CERT_ANY;
            one = read_enum(r, "certificate", parse_cert_req, "any, presented or verified", &e,
                            &vm);
            rq->certificate = (enum policy_cert_req)e;
            break;
        case RQ_NAMES:
            one = read_list(r, "certificate_names", "a certificate name pattern",
                            cert_name_pattern_check, false, &l);
            names_take(&rq->certificate_names, &l);
            strlist_free(&l);
            break;
        case RQ_ISSUERS:
            one = read_issuers(r, "issuers", &rq->issuers, true);
            break;
        case RQ_ROOTS:
            /* A DN-form root is answerable on Postfix too: the root comes from the
             * trust store, looked up by the issuer's CN. */
            one = read_issuers(r, "root_issuers", &rq->root_issuers, false);
            break;
        case RQ_ORGS:
            one = read_list(r, "organizations", "an organization name", check_text, false, &l);
            names_take(&rq->organizations, &l);
            strlist_free(&l);
            if (one == RD_OK)
                warn_at(r, km, "organizations: %s", POSTFIX_CN_ONLY);
            break;
        default:
            one = RD_FATAL;
            break;
        }
        if (!fold(&rc, one))
            return RD_FATAL;
        given[k] = one == RD_OK;
    }
    if (k == KEY_FATAL)
        return RD_FATAL;
    rq->any = rq->tls || rq->min_version != TLS_VERSION_UNKNOWN || rq->min_cipher_bits > 0 ||
              rq->forward_secrecy || rq->certificate != POLICY_CERT_ANY ||
              rq->certificate_names.n > 0 || rq->issuers.n > 0 || rq->root_issuers.n > 0 ||
              rq->organizations.n > 0;
    if (rq->certificate != POLICY_CERT_VERIFIED) {
        static const int name_keys[] = { RQ_NAMES, RQ_ISSUERS, RQ_ROOTS, RQ_ORGS };
        for (size_t i = 0; i < sizeof(name_keys) / sizeof(name_keys[0]); i++)
            if (given[name_keys[i]])
                warn_at(r, names_mark[name_keys[i]], "%s: %s", require_keys[name_keys[i]],
                        UNVERIFIED_NAMES);
    }
    return rc;
}

/* ---------------------------------------------------------------- connectors */

static const char *const match_keys[] = {
    "sender_domains", "client_addresses", "client_names", "recipient_domains",
    "certificate_names",
};
enum { MK_SENDER, MK_ADDR, MK_CNAME, MK_RCPT, MK_CERT, MK_N };
static const unsigned match_bits[MK_N] = {
    POLICY_KEY_SENDER_DOMAIN, POLICY_KEY_CLIENT_ADDR, POLICY_KEY_CLIENT_NAME,
    POLICY_KEY_RCPT_DOMAIN, POLICY_KEY_CERT_NAME,
};
static const struct section match_sec = {
    "match", match_keys, MK_N,
    "sender_domains, client_addresses, client_names, recipient_domains, certificate_names",
    NULL, NULL,
};

static const char *const conn_keys[] = {
    "name", "enabled", "mode", "match", "require", "restrict_sender_domains", "on_fail", "reply",
};
enum { CK_NAME, CK_ENABLED, CK_MODE, CK_MATCH, CK_REQUIRE, CK_RESTRICT, CK_ON_FAIL, CK_REPLY,
       CK_N };
static const struct section conn_sec = {
    "connector", conn_keys, CK_N,
    "name, enabled, mode, match, require, restrict_sender_domains, on_fail, reply", NULL, NULL,
};

static int
read_match(struct rd *r, struct policy_connector *c, struct strlist lists[MK_N])
{
    unsigned first[MK_N] = { 0 };
    yaml_mark_t vm, km;
    int rc = enter_map(r, "match", &vm), k, one;
    bool any = false;

    if (rc != RD_OK)
        return rc;
    while ((k = map_key(r, &match_sec, first, &km)) != KEY_END) {
        if (k == KEY_FATAL)
            return RD_FATAL;
        any = true;
        if (k == KEY_SKIP) {
            rc = RD_BAD;
            continue;
        }
        if (k == MK_ADDR)
            one = read_list(r, match_keys[k], "an IP address or CIDR prefix", addr_cidr_check,
                            false, &lists[k]);
        else
            one = read_list(r, match_keys[k], "a domain pattern", domain_pattern_check, false,
                            &lists[k]);
        if (one == RD_FATAL)
            return RD_FATAL;
        if (one == RD_OK)
            c->keys |= match_bits[k];
        else
            rc = RD_BAD;
    }
    if (!any) {
        err_at(r, vm, "match: the mapping is empty (expected at least one of: %s)",
               match_sec.expected);
        rc = RD_BAD;
    }
    return rc;
}

static uint64_t
name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Remember a connector name; returns the line of an earlier connector of that
 * name, 0 when new, or -1 when out of memory. */
static long
name_seen(struct rd *r, uint32_t idx, unsigned line)
{
    const char *s = r->p->conn[idx].name;
    uint64_t h = name_hash(s);
    size_t i;

    if ((r->names_used + 1) * 2 > r->names_cap) {
        size_t cap = r->names_cap ? r->names_cap * 2 : 64;
        struct name_slot *nv = calloc(cap, sizeof(*nv));
        if (nv == NULL)
            return -1;
        for (i = 0; i < r->names_cap; i++) {
            if (r->names[i].idx1 == 0)
                continue;
            size_t j = r->names[i].hash & (cap - 1);
            while (nv[j].idx1 != 0)
                j = (j + 1) & (cap - 1);
            nv[j] = r->names[i];
        }
        free(r->names);
        r->names = nv;
        r->names_cap = cap;
    }
    for (i = h & (r->names_cap - 1); r->names[i].idx1 != 0; i = (i + 1) & (r->names_cap - 1))
        if (r->names[i].hash == h && strcmp(r->p->conn[r->names[i].idx1 - 1].name, s) == 0)
            return r->names[i].line;
    r->names[i].hash = h;
    r->names[i].idx1 = idx + 1;
    r->names[i].line = line;
    r->names_used++;
    return 0;
}

/* "X.Y.Z " at the start of a reply: the enhanced status code's class digit. */
static int
reply_class(const char *s)
{
    const char *p = s;
    int cls;

    if (*p < '2' || *p > '5' || p[1] != '.')
        return -1;
    cls = *p - '0';
    p += 2;
    for (int part = 0; part < 2; part++) {
        size_t n = 0;
        while (p[n] >= '0' && p[n] <= '9')
            n++;
        if (n < 1 || n > 3)
            return -1;
        p += n;
        if (part == 0 && *p++ != '.')
            return -1;
    }
    return (*p == ' ' || *p == '\0') ? cls : -1;
}

static const char *
check_reply(const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return "a non-empty text";
    if (n > REPLY_MAX_LEN)
        return "at most 400 characters";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e)
            return "printable ASCII only: no CR, LF, tabs or other control characters";
    }
    return NULL;
}

/* Append an empty connector to p->conn. */
static struct policy_connector *
conn_new(struct rd *r, size_t *cap)
{
    struct policy *p = r->p;
    if (p->nconn == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        struct policy_connector *v = realloc(p->conn, ncap * sizeof(*v));
        if (v == NULL)
            return NULL;
        p->conn = v;
        *cap = ncap;
    }
    struct policy_connector *c = &p->conn[p->nconn++];
    memset(c, 0, sizeof(*c));
    c->enabled = true;
    c->on_fail = POLICY_ACTION_REJECT;
    c->require.min_version = TLS_VERSION_UNKNOWN;
    return c;
}

static int
index_connector(struct rd *r, uint32_t id, struct strlist lists[MK_N])
{
    struct policy *p = r->p;
    struct domain_table *dt[MK_N] = {
        p->by_sender_domain, NULL, p->by_client_name, p->by_rcpt_domain, p->by_cert_name,
    };

    for (size_t k = 0; k < MK_N; k++)
        for (size_t i = 0; i < lists[k].n; i++) {
            int e = k == MK_ADDR ? addr_table_add(p->by_client_addr, lists[k].v[i], id)
                                 : domain_table_add(dt[k], lists[k].v[i], id);
            if (e < 0)
                return -1;
        }
    return 0;
}

static int
read_connector(struct rd *r, size_t *cap)
{
    struct strlist lists[MK_N];
    unsigned first[CK_N] = { 0 };
    yaml_mark_t start, km, vm, mark[CK_N] = { { 0 } };
    struct policy_connector *c;
    size_t idx;
    int rc, k, one;
    bool bad_name = false;

    memset(lists, 0, sizeof(lists));
    rc = enter_map(r, "connector", &start);
    if (rc != RD_OK)
        return rc;
    if ((c = conn_new(r, cap)) == NULL) {
        oom(r);
        return RD_FATAL;
    }
    idx = r->p->nconn - 1;
    c->line = ln(start);
    c->column = col(start);
    while ((k = next_key(r, &conn_sec, first, &km, &rc)) >= 0) {
        char *s = NULL;
        int e;

        c = &r->p->conn[idx];
        mark[k] = km;
        switch (k) {
        case CK_NAME:
            one = read_str(r, "name", &s, &vm);
            mark[k] = vm;
            if (one == RD_OK) {
                const char *why = check_name(s);
                if (why != NULL) {
                    err_at(r, vm, "name: '%s' is not a connector name (expected %s)", q(r, s), why);
                    one = RD_BAD;
                } else if (strcmp(s, "default") == 0) {
                    err_at(r, vm, "name: 'default' is reserved (it names the defaults in results; "
                           "choose another name)");
                    one = RD_BAD;
                }
            }
            if (one == RD_OK) {
                long prev;
                c->name = s;
                s = NULL;
                if ((prev = name_seen(r, (uint32_t)idx, ln(vm))) < 0) {
                    oom(r);
                    rc = RD_FATAL;
                    goto out;
                }
                if (prev > 0) {
                    err_at(r, vm, "duplicate connector name '%s' (first at line %ld)",
                           q(r, c->name), prev);
                    one = RD_BAD;
                }
            } else {
                bad_name = true;
            }
            free(s);
            break;
        case CK_ENABLED:
            one = read_bool(r, "enabled", &c->enabled, &vm);
            mark[k] = vm;
            break;
        case CK_MODE:
            e = POLICY_MODE_ENFORCE;
            one = read_enum(r, "mode", policy_mode_parse, "enforce or monitor", &e, &vm);
            c->mode = (enum policy_mode)e;
            c->has_mode = one == RD_OK;
            break;
        case CK_MATCH:
            one = read_match(r, c, lists);
            break;
        case CK_REQUIRE:
            one = read_require(r, &c->require);
            break;
        case CK_RESTRICT:
            one = read_bool(r, "restrict_sender_domains", &c->restrict_sender_domains, &vm);
            mark[k] = vm;
            break;
        case CK_ON_FAIL:
            e = POLICY_ACTION_REJECT;
            one = read_enum(r, "on_fail", policy_action_parse,
                            "reject, tempfail, quarantine, tag or accept", &e, &vm);
            c->on_fail = (enum policy_action)e;
            mark[k] = vm;
            break;
        case CK_REPLY:
            one = read_str(r, "reply", &s, &vm);
            mark[k] = vm;
            if (one == RD_OK) {
                const char *why = check_reply(s);
                if (why != NULL) {
                    err_at(r, vm, "reply: '%s' is not a usable SMTP reply text (expected %s)",
                           q(r, s), why);
                    one = RD_BAD;
                    free(s);
                } else {
                    c->reply = s;
                }
            }
            break;
        default:
            one = RD_FATAL;
            break;
        }
        if (!fold(&rc, one)) {
            rc = RD_FATAL;
            goto out;
        }
    }
    if (k == KEY_FATAL) {
        rc = RD_FATAL;
        goto out;
    }
    c = &r->p->conn[idx];
    const char *who = c->name ? c->name : "?";
    if (first[CK_NAME] == 0 && !bad_name) {
        err_at(r, start, "connector has no name (expected name: followed by letters, digits, "
               "'.', '-' or '_')");
        rc = RD_BAD;
    }
    if (first[CK_MATCH] == 0) {
        err_at(r, start, "connector '%s' has no match (expected a match mapping with at least "
               "one of: %s)", q(r, who), match_sec.expected);
        rc = RD_BAD;
    }
    /* Only when match read cleanly: a bad sender_domains entry was reported already. */
    if (c->restrict_sender_domains && !(c->keys & POLICY_KEY_SENDER_DOMAIN) && rc == RD_OK) {
        err_at(r, mark[CK_RESTRICT], "restrict_sender_domains: true needs match.sender_domains "
               "(the domains whose mail must come through connector '%s')", q(r, who));
        rc = RD_BAD;
    }
    if (c->reply != NULL) {
        int cls = reply_class(c->reply);
        if (c->on_fail == POLICY_ACTION_REJECT && cls != -1 && cls != 5) {
            err_at(r, mark[CK_REPLY], "reply: enhanced status code %c.x.x does not fit "
                   "on_fail: reject (expected 5.x.x, e.g. \"5.7.1 ...\")", c->reply[0]);
            rc = RD_BAD;
        } else if (c->on_fail == POLICY_ACTION_TEMPFAIL && cls != -1 && cls != 4) {
            err_at(r, mark[CK_REPLY], "reply: enhanced status code %c.x.x does not fit "
                   "on_fail: tempfail (expected 4.x.x, e.g. \"4.7.1 ...\")", c->reply[0]);
            rc = RD_BAD;
        } else if (c->on_fail != POLICY_ACTION_REJECT && c->on_fail != POLICY_ACTION_TEMPFAIL) {
            warn_at(r, mark[CK_REPLY], "reply: never sent, on_fail: %s does not refuse mail",
                    policy_action_name(c->on_fail));
        }
    }
    if (rc == RD_OK && !c->enabled)
        warn_at(r, mark[CK_ENABLED], "connector '%s' is disabled: it matches nothing and its "
                "mail goes to the next connector or the defaults", q(r, who));
    if (rc == RD_OK && !c->require.any)
        warn_at(r, start, "connector '%s' requires nothing (empty require): its mail is "
                "claimed, gets verdict none and on_fail never applies", q(r, who));
    /* Indexing only pays off for a file that will load. */
    if (rc == RD_OK && c->enabled && !had_errors(r) &&
        index_connector(r, (uint32_t)idx, lists) < 0) {
        oom(r);
        rc = RD_FATAL;
    }
out:
    for (size_t i = 0; i < MK_N; i++)
        strlist_free(&lists[i]);
    return rc;
}

static int
read_connectors(struct rd *r)
{
    yaml_event_t *e = peek(r);
    size_t cap = 0;
    int rc = RD_OK;

    if (e == NULL)
        return RD_FATAL;
    if (e->type != YAML_SEQUENCE_START_EVENT)
        return wrong_node(r, "connectors", "a list of connectors");
    advance(r);
    for (;;) {
        if ((e = peek(r)) == NULL)
            return RD_FATAL;
        if (e->type == YAML_SEQUENCE_END_EVENT) {
            advance(r);
            break;
        }
        if (!fold(&rc, read_connector(r, &cap)))
            return RD_FATAL;
    }
    return rc;
}

/* ---------------------------------------------------------------- settings, defaults */

static const char *const settings_keys[] = {
    "mode", "trust_store", "intermediates", "header", "authserv_id", "log_json", "on_error",
};
enum { SK_MODE, SK_TRUST, SK_INTER, SK_HEADER, SK_AUTHSERV, SK_LOG, SK_ON_ERROR, SK_N };
static const struct section settings_sec = {
    "settings", settings_keys, SK_N,
    "mode, trust_store, intermediates, header, authserv_id, log_json, on_error", NULL, NULL,
};

/* Replace *dst with a string read here (and checked). */
static int
read_setting_str(struct rd *r, const char *what, const char *(*check)(const char *),
                 const char *expected_noun, bool resolve, char **dst, yaml_mark_t *vm)
{
    char *s = NULL;
    const char *why;
    int rc = read_str(r, what, &s, vm);

    if (rc != RD_OK)
        return rc;
    if (check != NULL && (why = check(s)) != NULL) {
        err_at(r, *vm, "%s: '%s' is not %s (expected %s)", what, q(r, s), expected_noun, why);
        free(s);
        return RD_BAD;
    }
    if (resolve && s[0] != '\0') {
        char *abs = resolve_path(r->base_dir, s);
        free(s);
        if ((s = abs) == NULL) {
            oom(r);
            return RD_FATAL;
        }
    }
    free(*dst);
    *dst = s;
    return RD_OK;
}

static const char *
check_path(const char *s)
{
    return s[0] == '\0' ? "a file or directory name" : NULL;
}

static int
read_settings(struct rd *r)
{
    struct policy *p = r->p;
    unsigned first[SK_N] = { 0 };
    yaml_mark_t vm, km;
    int rc = enter_map(r, "settings", &vm), k, one, e;

    if (rc != RD_OK)
        return rc;
    while ((k = next_key(r, &settings_sec, first, &km, &rc)) >= 0) {
        struct strlist l = { 0 };

        switch (k) {
        case SK_MODE:
            e = POLICY_MODE_ENFORCE;
            one = read_enum(r, "mode", policy_mode_parse, "enforce or monitor", &e, &vm);
            p->settings.mode = (enum policy_mode)e;
            break;
        case SK_TRUST:
            one = read_setting_str(r, "trust_store", check_path, "a path", true,
                                   &p->trust_store_path, &vm);
            if (one == RD_OK) {
                r->have_trust = true;
                r->trust_mark = vm;
            }
            break;
        case SK_INTER:
            one = read_list(r, "intermediates", "a PEM file name", check_path, true, &l);
            if (one == RD_OK && l.n > 0) {
                p->intermediates = calloc(l.n, sizeof(char *));
                r->inter_mark = calloc(l.n, sizeof(yaml_mark_t));
                if (p->intermediates == NULL || r->inter_mark == NULL) {
                    strlist_free(&l);
                    oom(r);
                    return RD_FATAL;
                }
                for (size_t i = 0; i < l.n; i++) {
                    r->inter_mark[i] = l.mark[i];
                    if ((p->intermediates[i] = resolve_path(r->base_dir, l.v[i])) == NULL) {
                        strlist_free(&l);
                        oom(r);
                        return RD_FATAL;
                    }
                    p->nintermediates++;
                }
            }
            strlist_free(&l);
            break;
        case SK_HEADER:
            one = read_setting_str(r, "header", check_header, "a header field name", false,
                                   &p->header, &vm);
            break;
        case SK_AUTHSERV:
            one = read_setting_str(r, "authserv_id", check_authserv_id, "an authserv-id", false,
                                   &p->authserv_id, &vm);
            break;
        case SK_LOG:
            one = read_setting_str(r, "log_json", NULL, NULL, true, &p->log_json, &vm);
            break;
        case SK_ON_ERROR:
            e = POLICY_ON_ERROR_TEMPFAIL;
            one = read_enum(r, "on_error", parse_on_error, "tempfail or accept", &e, &vm);
            p->settings.on_error = (enum policy_on_error)e;
            break;
        default:
            one = RD_FATAL;
            break;
        }
        if (!fold(&rc, one))
            return RD_FATAL;
    }
    return k == KEY_FATAL ? RD_FATAL : rc;
}

static const char *const defaults_keys[] = { "require", "on_fail" };
static const struct section defaults_sec = {
    "defaults", defaults_keys, 2, "require, on_fail", "match",
    "match is not allowed in defaults (defaults apply to the mail that no connector "
    "matches; expected one of: require, on_fail)",
};

static int
read_defaults(struct rd *r)
{
    unsigned first[2] = { 0 };
    yaml_mark_t vm, km;
    int rc = enter_map(r, "defaults", &vm), k, one, e;

    if (rc != RD_OK)
        return rc;
    while ((k = next_key(r, &defaults_sec, first, &km, &rc)) >= 0) {
        if (k == 0) {
            one = read_require(r, &r->p->default_require);
        } else {
            e = POLICY_ACTION_TAG;
            one = read_enum(r, "on_fail", policy_action_parse,
                            "reject, tempfail, quarantine, tag or accept", &e, &vm);
            r->p->default_on_fail = (enum policy_action)e;
        }
        if (!fold(&rc, one))
            return RD_FATAL;
    }
    return k == KEY_FATAL ? RD_FATAL : rc;
}

/* ---------------------------------------------------------------- top level */

static const char *const top_keys[] = { "version", "settings", "defaults", "connectors" };
enum { TK_VERSION, TK_SETTINGS, TK_DEFAULTS, TK_CONNECTORS, TK_N };
static const struct section top_sec = {
    "the top level", top_keys, TK_N, "version, settings, defaults, connectors", NULL, NULL,
};

static int
read_version(struct rd *r)
{
    yaml_event_t *e = peek(r);

    if (e == NULL)
        return RD_FATAL;
    r->version_mark = e->start_mark;
    if (e->type != YAML_SCALAR_EVENT || is_null(e))
        return wrong_node(r, "version", "1");
    if (is_plain(e) && strcmp(sval(e), "1") == 0) {
        advance(r);
        return RD_OK;
    }
    if (!is_plain(e))
        err_at(r, e->start_mark, "version: '%s' is quoted (expected the number 1 without quotes)",
               q(r, sval(e)));
    else
        err_at(r, e->start_mark, "version: '%s' is not a supported schema version (expected 1)",
           q(r, sval(e)));
    /* Another version may mean another schema: its other keys would only add noise. */
    r->fatal = true;
    return RD_FATAL;
}

static int
read_top(struct rd *r)
{
    unsigned first[TK_N] = { 0 };
    yaml_mark_t start, km;
    int k, one, rc = RD_OK;

    start = r->ev.start_mark;
    advance(r);
    /* A wrong key marks rc bad like any other problem; read_stream only looks
     * for RD_FATAL, and the error itself was reported. */
    while ((k = next_key(r, &top_sec, first, &km, &rc)) >= 0) {
        switch (k) {
        case TK_VERSION:
            one = read_version(r);
            break;
        case TK_SETTINGS:
            r->have_settings = true;
            r->settings_mark = km;
            one = read_settings(r);
            break;
        case TK_DEFAULTS:
            one = read_defaults(r);
            break;
        case TK_CONNECTORS:
            one = read_connectors(r);
            break;
        default:
            one = RD_FATAL;
            break;
        }
        if (!fold(&rc, one))
            return RD_FATAL;
    }
    if (k == KEY_FATAL)
        return RD_FATAL;
    if (first[TK_VERSION] == 0) {
        err_at(r, start, "missing version (expected 'version: 1' at the top of the file)");
        rc = RD_BAD;
    }
    return rc;
}

/* libyaml's reader (encoding) errors carry a byte offset instead of a mark. */
static yaml_mark_t
mark_of_offset(const char *buf, size_t len, size_t off)
{
    yaml_mark_t m = { 0, 0, 0 };

    for (size_t i = 0; i < off && i < len; i++) {
        if (buf[i] == '\n') {
            m.line++;
            m.column = 0;
        } else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
            m.column++;
        }
    }
    m.index = off;
    return m;
}

static void
syntax_error(struct rd *r, const char *buf, size_t len)
{
    const yaml_parser_t *ps = &r->parser;
    const char *problem = ps->problem ? ps->problem : "malformed";

    if (ps->error == YAML_READER_ERROR) {
        yaml_mark_t m = mark_of_offset(buf, len, ps->problem_offset);

        err_at(r, m, "YAML syntax error: %s (the file must be UTF-8 text)", problem);
    } else if (ps->context != NULL) {
        err_at(r, ps->problem_mark, "YAML syntax error: %s (%s started at line %u, column %u)",
               problem, ps->context, ln(ps->context_mark), col(ps->context_mark));
    } else {
        err_at(r, ps->problem_mark, "YAML syntax error: %s", problem);
    }
}

/* The stream: exactly one document whose root is a mapping. */
static void
read_stream(struct rd *r)
{
    yaml_event_t *e;

    if (peek(r) == NULL)
        return;
    advance(r);                       /* STREAM-START */
    if ((e = peek(r)) == NULL)
        return;
    if (e->type == YAML_STREAM_END_EVENT) {
        err_at(r, e->start_mark, "the file is empty (expected a mapping starting with "
               "'version: 1')");
        return;
    }
    advance(r);                       /* DOCUMENT-START */
    if ((e = peek(r)) == NULL)
        return;
    if (e->type != YAML_MAPPING_START_EVENT) {
        err_at(r, e->start_mark, "the file holds %s (expected a mapping starting with "
               "'version: 1')", value_kind(e));
        r->fatal = true;
        return;
    }
    if (read_top(r) == RD_FATAL)
        return;
    if (peek(r) == NULL)
        return;
    advance(r);                       /* DOCUMENT-END */
    if ((e = peek(r)) == NULL)
        return;
    if (e->type == YAML_DOCUMENT_START_EVENT) {
        err_at(r, e->start_mark, "a second YAML document (expected exactly one document; "
               "remove the '---' and what follows)");
        r->fatal = true;
    }
}

static int
set_default_str(char **dst, const char *v)
{
    if (*dst == NULL && (*dst = strdup(v)) == NULL)
        return -1;
    return 0;
}

/* The trust store is loaded for every policy: the posture log names the root of
 * every message's issuer, not only of those a requirement looks at. */
static void
load_trust(struct rd *r)
{
    struct policy *p = r->p;
    char *err = NULL;
    yaml_mark_t m = r->have_trust ? r->trust_mark
                  : r->have_settings ? r->settings_mark : r->version_mark;

    p->trust = trust_store_load(p->trust_store_path, (const char *const *)p->intermediates,
                                p->nintermediates, &err);
    if (p->trust != NULL)
        return;
    /* Point at the intermediate the message names, if it names one. */
    for (size_t i = 0; err != NULL && i < p->nintermediates; i++)
        if (strstr(err, p->intermediates[i]) != NULL) {
            m = r->inter_mark[i];
            break;
        }
    /* Messages about what the path is already say what was expected. */
    err_at(r, m, "trust store: %s%s", err ? err : "cannot be loaded",
           err != NULL && strstr(err, "(expected ") != NULL ? ""
           : " (expected a PEM bundle or a directory of PEM certificates)");
    free(err);
}

static int
build_indexes(struct policy *p)
{
    if ((p->by_sender_domain = domain_table_new()) == NULL ||
        (p->by_client_name = domain_table_new()) == NULL ||
        (p->by_rcpt_domain = domain_table_new()) == NULL ||
        (p->by_cert_name = domain_table_new()) == NULL ||
        (p->by_client_addr = addr_table_new()) == NULL)
        return -1;
    return 0;
}

static int
freeze_indexes(struct policy *p)
{
    if (domain_table_freeze(p->by_sender_domain) < 0 ||
        domain_table_freeze(p->by_client_name) < 0 ||
        domain_table_freeze(p->by_rcpt_domain) < 0 ||
        domain_table_freeze(p->by_cert_name) < 0 ||
        addr_table_freeze(p->by_client_addr) < 0)
        return -1;
    return 0;
}

struct policy *
policy_load_buffer(const char *name, const char *buf, size_t len, const char *base_dir,
                   struct policy_diags *diags)
{
    struct rd r;
    struct policy *p = NULL;
    size_t first_diag = diags->n;
    bool parser_ok = false;

    memset(&r, 0, sizeof(r));
    r.name = name ? name : "-";
    r.base_dir = base_dir;
    r.diags = diags;
    r.errors0 = diags->nerrors;

    if (len > LOAD_MAX_BYTES) {
        err_nopos(&r, "the connectors file is %zu bytes, more than the 256 MiB limit", len);
        goto out;
    }
    if ((p = calloc(1, sizeof(*p))) == NULL) {
        oom(&r);
        goto out;
    }
    atomic_init(&p->refs, 1);
    r.p = p;
    p->settings.mode = POLICY_MODE_ENFORCE;
    p->settings.on_error = POLICY_ON_ERROR_TEMPFAIL;
    p->default_on_fail = POLICY_ACTION_TAG;
    p->default_require.min_version = TLS_VERSION_UNKNOWN;
    if ((p->path = strdup(r.name)) == NULL || build_indexes(p) < 0) {
        oom(&r);
        goto out;
    }
    if (!yaml_parser_initialize(&r.parser)) {
        oom(&r);
        goto out;
    }
    parser_ok = true;
    /* libyaml asserts on a NULL input, even an empty one. */
    yaml_parser_set_input_string(&r.parser, (const unsigned char *)(buf ? buf : ""),
                                 buf ? len : 0);

    read_stream(&r);
    if (r.fatal && r.parser.error != YAML_NO_ERROR && r.parser.error != YAML_MEMORY_ERROR) {
        /* A syntax error makes everything said before it about this file moot. */
        diags_truncate(diags, first_diag);
        syntax_error(&r, buf, len);
    }
    if (had_errors(&r))
        goto out;

    if (set_default_str(&p->trust_store_path, DEFAULT_TRUST) < 0 ||
        set_default_str(&p->header, DEFAULT_HEADER) < 0 ||
        set_default_str(&p->authserv_id, "") < 0 || set_default_str(&p->log_json, "") < 0) {
        oom(&r);
        goto out;
    }
    p->settings.trust_store = p->trust_store_path;
    p->settings.header = p->header;
    p->settings.authserv_id = p->authserv_id;
    p->settings.log_json = p->log_json;

    if (freeze_indexes(p) < 0) {
        oom(&r);
        goto out;
    }
    load_trust(&r);
out:
    if (r.have)
        yaml_event_delete(&r.ev);
    if (parser_ok)
        yaml_parser_delete(&r.parser);
    free(r.scratch[0]);
    free(r.scratch[1]);
    free(r.inter_mark);
    free(r.names);
    diags_sort(diags, first_diag);
    if (had_errors(&r)) {
        policy_free_internal(p);
        return NULL;
    }
    return p;
}

/* The directory part of path, or NULL for a bare file name (current directory). */
static char *
dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return NULL;
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

struct policy *
policy_load(const char *path, struct policy_diags *diags)
{
    struct policy *p = NULL;
    char *buf = NULL, *dir = NULL, *why = NULL;
    size_t len;

    /* The path comes from the command line, not from a file: a link is followed
     * (reloads swap a link), but a FIFO or device fails at once. */
    if (file_read(path, FILE_READ_FOLLOW, LOAD_MAX_BYTES, "a YAML connectors file", &buf,
                  &len, &why) < 0) {
        policy_diags_add(diags, POLICY_SEV_ERROR, path, 0, 0, "the connectors file %s",
                         why ? why : "cannot be read: out of memory");
        goto out;
    }
    errno = 0;
    dir = dir_of(path);
    if (dir == NULL && errno == ENOMEM) {
        policy_diags_add(diags, POLICY_SEV_ERROR, path, 0, 0, "out of memory");
        goto out;
    }
    p = policy_load_buffer(path, buf, len, dir, diags);
out:
    free(why);
    free(buf);
    free(dir);
    return p;
}
