/*
 * json_write.h -- the one JSON writer: objects and arrays with their commas,
 * strings escaped by esc.c, all into one strbuf, so a caller can emit a whole
 * document (or one log line) with a single write.
 * Never: prints, exits or aborts.
 * Diagnostics: out of memory and misuse (unbalanced containers, a key outside
 * an object, nesting beyond JSON_WRITE_MAX_DEPTH) are sticky; json_write_finish
 * then returns NULL.
 */
#ifndef POLICY_JSON_WRITE_H
#define POLICY_JSON_WRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* Nesting deeper than this is a programming error and makes the writer fail. */
#define JSON_WRITE_MAX_DEPTH 32

struct json_write {
    struct strbuf b;
    bool     failed;              /* misuse; sticky (out of memory is b.oom) */
    unsigned depth;
    bool     after_key;           /* a key was written, its value comes next */
    bool     nonempty[JSON_WRITE_MAX_DEPTH + 1];   /* container at depth d has an element */
};

void json_write_init(struct json_write *j);
void json_write_free(struct json_write *j);

/* Containers and values. Inside an object, call json_write_key before each value. */
void json_write_object_begin(struct json_write *j);
void json_write_object_end(struct json_write *j);
void json_write_array_begin(struct json_write *j);
void json_write_array_end(struct json_write *j);
void json_write_key(struct json_write *j, const char *key);
void json_write_string(struct json_write *j, const char *s);        /* NULL writes null */
/* The n bytes at s (NUL included), escaped as esc.c's ESC_JSON says. */
void json_write_string_n(struct json_write *j, const char *s, size_t n);
/* At most cap bytes of s, ending in "..." when cut; NULL writes null. */
void json_write_string_cap(struct json_write *j, const char *s, size_t cap);
void json_write_int(struct json_write *j, long long v);
void json_write_bool(struct json_write *j, bool v);
void json_write_null(struct json_write *j);

/* Shorthands for "key": value inside an object. */
void json_write_kv_string(struct json_write *j, const char *key, const char *s);
void json_write_kv_int(struct json_write *j, const char *key, long long v);
void json_write_kv_bool(struct json_write *j, const char *key, bool v);

/* Return the NUL-terminated text (owned by j, valid until json_write_free) and its
 * length, or NULL when an allocation failed or the containers are unbalanced. */
const char *json_write_finish(struct json_write *j, size_t *len);

/* Convenience: a new NUL-terminated string holding the escaped form of s (no
 * quotes), or NULL when out of memory. Caller frees. */
char *json_write_escape_dup(const char *s, size_t n);

#endif
