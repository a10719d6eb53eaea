/*
 * load_int.h -- what the files of the connectors-file loader share: the reader
 * state (struct rd), the events the YAML reader hands out, and the generic
 * value readers. load_yaml.c turns libyaml's events into struct load_event;
 * load_read.c reads scalars, lists and mappings from them and reports errors;
 * load_settings.c, load_require.c and load_connector.c read the sections;
 * policy_load.c builds the policy and reads the file.
 * Never: included outside the loader's files; never includes yaml.h (only
 * load_yaml.c does).
 */
#ifndef LOAD_INT_H
#define LOAD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "policy_int.h"

/* Results of the value readers: the value was read, it was wrong (already
 * reported and its node consumed, keep going), or reading cannot continue. */
enum { RD_FATAL = -1, RD_BAD = 0, RD_OK = 1 };
/* Results of load_map_key besides a key index. */
enum { KEY_FATAL = -1, KEY_END = -2, KEY_SKIP = -3 };

/* A position in the file, 1-based, as every diagnostic shows it. */
struct load_mark {
    unsigned line, column;
};

enum load_ev {
    LOAD_EV_OTHER = 0,            /* stream and document start and end */
    LOAD_EV_STREAM_END,
    LOAD_EV_DOC_START,
    LOAD_EV_SCALAR,
    LOAD_EV_SEQ_START,
    LOAD_EV_SEQ_END,
    LOAD_EV_MAP_START,
    LOAD_EV_MAP_END,
};

/* One YAML event; value lives until load_yaml_advance. Anchors, aliases and
 * tags never get this far (load_yaml.c refuses them). */
struct load_event {
    enum load_ev type;
    struct load_mark mark;        /* where the node starts */
    const char *value;            /* scalars: the bytes, NUL-terminated */
    size_t length;                /* scalars: may exceed strlen(value) (NUL inside) */
    bool plain;                   /* scalars: not quoted, not a block scalar */
};

struct strlist {
    size_t n, cap;
    char **v;
    struct load_mark *mark;
};

struct name_slot {
    uint64_t hash;                /* kept so growing never re-reads the names */
    uint32_t idx1;                /* connector index + 1; 0 = empty */
    unsigned line;
};

struct load_yaml;

/* The match lists of one connector, in POLICY_KEY_* bit order, kept after
 * indexing for the lint that compares connectors (load_lint.c). */
#define LOAD_NKEYS 5
struct load_match {
    struct strlist l[LOAD_NKEYS];
};

struct rd {
    struct load_yaml *yaml;
    struct load_event ev;
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
    struct load_mark version_mark, settings_mark, trust_mark;
    bool have_settings, have_trust;
    struct load_mark *inter_mark;

    struct name_slot *names;      /* open addressing over connector names */
    size_t names_cap, names_used;

    struct load_match *match;     /* per connector, nmatch long; empty when not indexed */
    size_t nmatch;
};

struct section {
    const char *what;             /* "require", "settings", ... */
    const char *const *keys;
    size_t n;
    const char *expected;         /* the keys, for "expected one of: ..." */
    const char *hint_key;         /* a key with its own explanation */
    const char *hint;
};

/* ---- events (load_yaml.c) */

/* The reader over buf (which must outlive it); NULL when out of memory. */
struct load_yaml *load_yaml_open(const char *buf, size_t len);
void load_yaml_close(struct load_yaml *y);
/* The next event, parsed on demand; NULL when reading must stop (r->fatal). */
struct load_event *load_yaml_peek(struct rd *r);
void load_yaml_advance(struct rd *r);
/* Consume one whole node (after an error about it): RD_BAD, or RD_FATAL. */
int  load_yaml_skip_node(struct rd *r);
/* After reading stopped: when libyaml found a syntax error, drop what this load
 * said from diags index first_diag on (it is moot) and report the error. */
void load_yaml_report(struct rd *r, const char *buf, size_t len, size_t first_diag);

/* ---- event helpers */

static inline const char *
load_event_kind(const struct load_event *e)
{
    switch (e->type) {
    case LOAD_EV_MAP_START:
        return "a mapping";
    case LOAD_EV_SEQ_START:
        return "a list";
    case LOAD_EV_SCALAR:
        return "a scalar";
    default:
        return "the end of a block";
    }
}

static inline const char *
load_sval(const struct load_event *e)
{
    return e->value;
}

static inline bool
load_is_plain(const struct load_event *e)
{
    return e->plain;
}

/* YAML's null: an empty plain scalar, "~" or "null". */
static inline bool
load_is_null(const struct load_event *e)
{
    const char *s = load_sval(e);
    return e->type == LOAD_EV_SCALAR && load_is_plain(e) &&
           (s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
            strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0);
}

static inline const char *
load_value_kind(const struct load_event *e)
{
    if (e->type == LOAD_EV_SCALAR)
        return load_is_null(e) ? "nothing (null)" : "a string";
    return load_event_kind(e);
}

/* ---- diagnostics and generic readers (load_read.c) */

void load_diag(struct rd *, enum policy_severity, unsigned, unsigned, const char *, ...)
    __attribute__((format(printf, 5, 6)));
/* m is read twice: pass a mark, not a computation. */
#define err_at(r, m, ...)  load_diag((r), POLICY_SEV_ERROR, (m).line, (m).column, __VA_ARGS__)
#define warn_at(r, m, ...) load_diag((r), POLICY_SEV_WARNING, (m).line, (m).column, __VA_ARGS__)
#define err_nopos(r, ...)  load_diag((r), POLICY_SEV_ERROR, 0, 0, __VA_ARGS__)
void load_oom(struct rd *r);
bool load_had_errors(const struct rd *r);
/* A printable, bounded copy of file text for a message (two rotate). */
const char *load_q(struct rd *r, const char *s);
void load_diags_truncate(struct policy_diags *d, size_t k);
void load_diags_sort(struct policy_diags *d, size_t k);

int  load_wrong_node(struct rd *r, const char *what, const char *expected);
int  load_str(struct rd *r, const char *what, char **out, struct load_mark *vm);
int  load_bool(struct rd *r, const char *what, bool *out, struct load_mark *vm);
int  load_int(struct rd *r, const char *what, long min, long max, long *out,
              struct load_mark *vm);
int  load_enum(struct rd *r, const char *what, int (*parse)(const char *), const char *expected,
               int *out, struct load_mark *vm);
/* min_version: a TLS version name no older than lowest (enum tls_version);
 * too_old completes "min_version: 'X' ..." for an older one. */
int  load_min_version(struct rd *r, int lowest, const char *too_old, int *out,
                      struct load_mark *vm);
void load_strlist_free(struct strlist *l);
/* Warn about connectors that can never claim, and sender domains given to a
 * connector that a restricting one owns (load_lint.c). After the indexes froze. */
void load_lint(struct rd *r);
void load_match_free(struct rd *r);
int  load_list(struct rd *r, const char *what, const char *noun,
               const char *(*check)(const char *), bool allow_empty, struct strlist *l);
/* A list of entries read by one(r, arg); RD_OK, RD_BAD or RD_FATAL. */
int  load_each(struct rd *r, const char *what, const char *expected,
               int (*one)(struct rd *, void *), void *arg);
/* load_list for domain names: each entry is brought to lower-case A-labels
 * (idna.h) before check() sees it; one that is not valid IDNA is an error. */
int  load_domain_list(struct rd *r, const char *what, const char *noun,
                      const char *(*check)(const char *), struct strlist *l);
int  load_enter_map(struct rd *r, const char *what, struct load_mark *vm);
int  load_map_key(struct rd *r, const struct section *sec, unsigned *first, struct load_mark *km);
int  load_next_key(struct rd *r, const struct section *sec, unsigned *first,
                   struct load_mark *km, int *rc);
bool load_fold(int *rc, int one);

/* ---- sections */

/* load_require.c: a require block (connector or defaults). */
int  load_require(struct rd *r, struct policy_require *rq);
/* load_require.c: after the trust store loaded, resolve every issuer and root
 * name to certificates; warnings for names that match none or several CAs. */
void load_resolve_names(struct rd *r);
/* load_require.c: a list of "sha256:..." fingerprints into pins (match uses it too). */
int  load_fingerprints(struct rd *r, const char *what, bool pubkey, struct policy_pins *pins);
/* load_connector.c: the connectors list. */
int  load_connectors(struct rd *r);
/* load_outbound.c: the outbound list; after the trust store loaded, its roots
 * resolved and its recipient domains linted. */
int  load_outbound(struct rd *r);
void load_outbound_finish(struct rd *r);
/* load_settings.c: the whole stream (one document, its top-level mapping). */
void load_stream(struct rd *r);

#endif
