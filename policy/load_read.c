/*
 * load_read.c -- the generic half of the loader: every diagnostic of a load goes
 * through load_diag here, and scalars (strings, booleans, integers, names from a
 * set), lists and mapping keys are read from the events of load_yaml.c, each
 * wrong node reported at its line:column and skipped so reading goes on.
 * Never: knows a section's keys (the load_*.c section readers do), includes
 * yaml.h, or guesses: "yes", "0x10" and quoted numbers are errors.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "idna.h"
#include "load_int.h"
#include "strfmt.h"
#include "tls_facts.h"

/* Every message of a load goes through here; the three spellings below only
 * say where it points. */
void
load_diag(struct rd *r, enum policy_severity sev, unsigned line, unsigned column,
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

void
load_oom(struct rd *r)
{
    err_nopos(r, "out of memory");
    r->fatal = true;
}

bool
load_had_errors(const struct rd *r)
{
    return r->diags->nerrors > r->errors0;
}

/* A printable, bounded copy of file text for a message: the file may hold any
 * byte, and a message ends up in logs and terminals. Two buffers rotate so one
 * message can quote two values. */
const char *
load_q(struct rd *r, const char *s)
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
void
load_diags_truncate(struct policy_diags *d, size_t k)
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
void
load_diags_sort(struct policy_diags *d, size_t k)
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

/* Report that the node here is not what was expected, and skip it. */
int
load_wrong_node(struct rd *r, const char *what, const char *expected)
{
    struct load_event *e = load_yaml_peek(r);
    if (e == NULL)
        return RD_FATAL;
    err_at(r, e->mark, "%s: expected %s, found %s", what, expected, load_value_kind(e));
    return load_yaml_skip_node(r);
}

/* ---------------------------------------------------------------- scalars */

/* A string value: plain or quoted; null is not a string. */
int
load_str(struct rd *r, const char *what, char **out, struct load_mark *vm)
{
    struct load_event *e = load_yaml_peek(r);

    *out = NULL;
    if (e == NULL)
        return RD_FATAL;
    *vm = e->mark;
    /* Spelled out so that no reader (clang's analyzer included) takes a wrong
     * node for RD_OK with *out still NULL. */
    if (e->type != LOAD_EV_SCALAR || load_is_null(e))
        return load_wrong_node(r, what, "a string") == RD_FATAL ? RD_FATAL : RD_BAD;
    if (strlen(load_sval(e)) != e->length) {
        err_at(r, e->mark, "%s: the value contains a NUL byte (expected text)", what);
        load_yaml_advance(r);
        return RD_BAD;
    }
    if ((*out = strdup(load_sval(e))) == NULL) {
        load_oom(r);
        return RD_FATAL;
    }
    load_yaml_advance(r);
    return RD_OK;
}

int
load_bool(struct rd *r, const char *what, bool *out, struct load_mark *vm)
{
    struct load_event *e = load_yaml_peek(r);

    if (e == NULL)
        return RD_FATAL;
    *vm = e->mark;
    if (e->type != LOAD_EV_SCALAR || load_is_null(e))
        return load_wrong_node(r, what, "true or false");
    if (load_is_plain(e) && strcmp(load_sval(e), "true") == 0) {
        *out = true;
    } else if (load_is_plain(e) && strcmp(load_sval(e), "false") == 0) {
        *out = false;
    } else {
        err_at(r, e->mark, "%s: '%s'%s is not a boolean (expected true or false)", what,
               load_q(r, load_sval(e)), load_is_plain(e) ? "" : " in quotes");
        load_yaml_advance(r);
        return RD_BAD;
    }
    load_yaml_advance(r);
    return RD_OK;
}

/* A plain decimal integer in [min, max]: no sign, no leading zero, no quotes, so
 * that "0x10", "1e3" or "128" in quotes are refused rather than guessed at. */
int
load_int(struct rd *r, const char *what, long min, long max, long *out, struct load_mark *vm)
{
    struct load_event *e = load_yaml_peek(r);
    const char *s;
    long v = 0;
    bool neg = false;

    if (e == NULL)
        return RD_FATAL;
    *vm = e->mark;
    if (e->type != LOAD_EV_SCALAR || load_is_null(e))
        return load_wrong_node(r, what, "an integer");
    s = load_sval(e);
    if (!load_is_plain(e)) {
        err_at(r, e->mark, "%s: '%s' is a quoted string (expected an integer without quotes)",
               what, load_q(r, s));
        goto bad;
    }
    if (*s == '-') {
        neg = true;
        s++;
    }
    if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] != '\0')) {
        err_at(r, e->mark, "%s: '%s' is not a decimal integer (expected %ld to %ld)", what,
               load_q(r, load_sval(e)), min, max);
        goto bad;
    }
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9') {
            err_at(r, e->mark, "%s: '%s' is not a decimal integer (expected %ld to %ld)",
                   what, load_q(r, load_sval(e)), min, max);
            goto bad;
        }
        if (v > max)              /* already out of range: stop before overflow */
            continue;
        v = v * 10 + (*s - '0');
    }
    if (neg)
        v = -v;
    if (v < min || v > max) {
        err_at(r, e->mark, "%s: %s is out of range (expected %ld to %ld)", what,
               load_q(r, load_sval(e)), min, max);
        goto bad;
    }
    *out = v;
    load_yaml_advance(r);
    return RD_OK;
bad:
    load_yaml_advance(r);
    return RD_BAD;
}

/* min_version, in inbound and outbound require blocks: a TLS version no older
 * than lowest; too_old says why an older one cannot be asked. */
int
load_min_version(struct rd *r, int lowest, const char *too_old, int *out, struct load_mark *vm)
{
    char *s = NULL;
    int rc = load_str(r, "min_version", &s, vm), v;

    if (rc != RD_OK)
        return rc;
    if ((v = tls_version_parse(s)) == TLS_VERSION_UNKNOWN) {
        err_at(r, *vm, "min_version: '%s' is not a TLS version (expected %s%sTLSv1.1, TLSv1.2 "
               "or TLSv1.3)", load_q(r, s), lowest <= TLS_VERSION_SSL3 ? "SSLv3, " : "",
               lowest <= TLS_VERSION_TLS1 ? "TLSv1, " : "");
        rc = RD_BAD;
    } else if (v < lowest) {
        err_at(r, *vm, "min_version: '%s' %s (expected %s or later)", load_q(r, s), too_old,
               tls_version_name(lowest));
        rc = RD_BAD;
    } else {
        *out = v;
    }
    free(s);
    return rc;
}

/* A string from a fixed set of names, e.g. on_fail. */
int
load_enum(struct rd *r, const char *what, int (*parse)(const char *), const char *expected,
          int *out, struct load_mark *vm)
{
    char *s = NULL;
    int rc = load_str(r, what, &s, vm), v;

    if (rc != RD_OK)
        return rc;
    if ((v = parse(s)) < 0) {
        err_at(r, *vm, "%s: '%s' is not valid (expected %s)", what, load_q(r, s), expected);
        rc = RD_BAD;
    } else {
        *out = v;
    }
    free(s);
    return rc;
}

/* ---------------------------------------------------------------- lists */

void
load_strlist_free(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    free(l->mark);
    memset(l, 0, sizeof(*l));
}

static int
load_strlist_push(struct strlist *l, char *s, struct load_mark m)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        char **v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL)
            return -1;
        l->v = v;
        struct load_mark *mk = realloc(l->mark, cap * sizeof(*mk));
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
int
load_list(struct rd *r, const char *what, const char *noun, const char *(*check)(const char *),
          bool allow_empty, struct strlist *l)
{
    struct load_event *e = load_yaml_peek(r);
    struct load_mark start;
    int rc = RD_OK;
    bool seq;

    if (e == NULL)
        return RD_FATAL;
    start = e->mark;
    if (e->type == LOAD_EV_SCALAR && !load_is_null(e)) {
        seq = false;
    } else if (e->type == LOAD_EV_SEQ_START) {
        seq = true;
        load_yaml_advance(r);
    } else {
        return load_wrong_node(r, what, "a list");
    }
    for (;;) {
        char *s = NULL;
        const char *why;
        struct load_mark vm;
        int one;

        if ((e = load_yaml_peek(r)) == NULL)
            return RD_FATAL;
        if (seq && e->type == LOAD_EV_SEQ_END) {
            load_yaml_advance(r);
            break;
        }
        one = load_str(r, what, &s, &vm);
        if (one == RD_FATAL)
            return RD_FATAL;
        if (one == RD_OK && check != NULL && (why = check(s)) != NULL) {
            err_at(r, vm, "%s: '%s' is not %s (expected %s)", what, load_q(r, s), noun, why);
            one = RD_BAD;
        }
        if (one == RD_OK && load_strlist_push(l, s, vm) < 0) {
            free(s);
            load_oom(r);
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

/* A list whose entries one() reads (the connectors, the outbound connectors):
 * anything but a list is reported as "expected <expected>". */
int
load_each(struct rd *r, const char *what, const char *expected, int (*one)(struct rd *, void *),
          void *arg)
{
    struct load_event *e = load_yaml_peek(r);
    int rc = RD_OK;

    if (e == NULL)
        return RD_FATAL;
    if (e->type != LOAD_EV_SEQ_START)
        return load_wrong_node(r, what, expected);
    load_yaml_advance(r);
    for (;;) {
        if ((e = load_yaml_peek(r)) == NULL)
            return RD_FATAL;
        if (e->type == LOAD_EV_SEQ_END) {
            load_yaml_advance(r);
            return rc;
        }
        if (!load_fold(&rc, one(r, arg)))
            return RD_FATAL;
    }
}

/* The file may spell an IDN as U-labels or A-labels, in any case: both become
 * the one form the indexes compare, here, once per load. An error names the
 * entry's own line:column and libidn2's reason. */
int
load_domain_list(struct rd *r, const char *what, const char *noun,
                 const char *(*check)(const char *), struct strlist *l)
{
    struct strlist raw = { 0, 0, NULL, NULL };
    int rc = load_list(r, what, noun, NULL, false, &raw);

    for (size_t i = 0; rc != RD_FATAL && i < raw.n; i++) {
        char ace[IDNA_DOMAIN_SIZE], *s;
        const char *why;

        errno = 0;
        if (idna_domain(raw.v[i], strlen(raw.v[i]), ace, sizeof(ace), &why) < 0) {
            if (errno == ENOMEM) {
                load_oom(r);
                rc = RD_FATAL;
                break;
            }
            err_at(r, raw.mark[i], "%s: '%s' is not %s (expected a valid internationalised "
                   "domain name: %s)", what, load_q(r, raw.v[i]), noun, why);
            rc = RD_BAD;
            continue;
        }
        if (check != NULL && (why = check(ace)) != NULL) {
            err_at(r, raw.mark[i], "%s: '%s' is not %s (expected %s)", what,
                   load_q(r, raw.v[i]), noun, why);
            rc = RD_BAD;
            continue;
        }
        if ((s = strdup(ace)) == NULL || load_strlist_push(l, s, raw.mark[i]) < 0) {
            free(s);
            load_oom(r);
            rc = RD_FATAL;
        }
    }
    load_strlist_free(&raw);
    return rc;
}

/* ---------------------------------------------------------------- mappings */

/* Enter a mapping value. RD_OK when inside it. */
int
load_enter_map(struct rd *r, const char *what, struct load_mark *vm)
{
    struct load_event *e = load_yaml_peek(r);

    if (e == NULL)
        return RD_FATAL;
    *vm = e->mark;
    if (e->type != LOAD_EV_MAP_START)
        return load_wrong_node(r, what, "a mapping");
    load_yaml_advance(r);
    return RD_OK;
}

/* The next key of a mapping of section sec: its index, KEY_END after the
 * mapping's end, KEY_SKIP when the key was wrong (reported; its value skipped).
 * first[] remembers the line of every key seen, to name duplicates. */
int
load_map_key(struct rd *r, const struct section *sec, unsigned *first, struct load_mark *km)
{
    struct load_event *e = load_yaml_peek(r);
    const char *k;
    size_t i;

    if (e == NULL)
        return KEY_FATAL;
    if (e->type == LOAD_EV_MAP_END) {
        load_yaml_advance(r);
        return KEY_END;
    }
    *km = e->mark;
    if (e->type != LOAD_EV_SCALAR || load_is_null(e)) {
        err_at(r, *km, "%s: expected a key name, found %s", sec->what, load_value_kind(e));
        if (load_yaml_skip_node(r) == RD_FATAL || load_yaml_skip_node(r) == RD_FATAL)
            return KEY_FATAL;
        return KEY_SKIP;
    }
    k = load_sval(e);
    for (i = 0; i < sec->n; i++)
        if (strcmp(k, sec->keys[i]) == 0)
            break;
    if (i == sec->n) {
        if (sec->hint_key != NULL && strcmp(k, sec->hint_key) == 0)
            err_at(r, *km, "%s", sec->hint);
        else
            err_at(r, *km, "unknown key '%s' in %s (expected one of: %s)", load_q(r, k), sec->what,
                   sec->expected);
        goto skip;
    }
    if (first[i] != 0) {
        err_at(r, *km, "duplicate key '%s' in %s (first at line %u)", load_q(r, k), sec->what,
               first[i]);
        goto skip;
    }
    first[i] = (*km).line;
    load_yaml_advance(r);
    return (int)i;
skip:
    load_yaml_advance(r);
    return load_yaml_skip_node(r) == RD_FATAL ? KEY_FATAL : KEY_SKIP;
}

/* load_map_key for a section reader: a wrong key (reported, its value skipped) only
 * marks the mapping bad. A key index, KEY_END or KEY_FATAL. */
int
load_next_key(struct rd *r, const struct section *sec, unsigned *first, struct load_mark *km, int *rc)
{
    int k;

    while ((k = load_map_key(r, sec, first, km)) == KEY_SKIP)
        *rc = RD_BAD;
    return k;
}

/* Fold one value's outcome into its mapping's: RD_BAD sticks; false when it was
 * RD_FATAL and reading must stop. */
bool
load_fold(int *rc, int one)
{
    if (one == RD_BAD)
        *rc = RD_BAD;
    return one != RD_FATAL;
}
