/*
 * json_out.h -- a small JSON writer: string escaping, objects and arrays built
 * into one growable buffer, so a caller can emit a whole document (or one log
 * line) with a single write.
 * Never: prints, exits or aborts; an allocation failure is sticky and reported
 * by json_out_finish.
 */
#ifndef JSON_OUT_H
#define JSON_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nesting deeper than this is a programming error and makes the writer fail. */
#define JSON_OUT_MAX_DEPTH 32

struct json_out {
    char    *buf;
    size_t   len;
    size_t   cap;
    bool     failed;              /* out of memory or misuse; sticky */
    unsigned depth;
    bool     after_key;           /* a key was written, its value comes next */
    bool     nonempty[JSON_OUT_MAX_DEPTH + 1];   /* container at depth d has an element */
};

void json_out_init(struct json_out *j);
void json_out_free(struct json_out *j);

/* Length of the well-formed UTF-8 sequence starting at s (at most n bytes), or 0
 * when the bytes there are not one (overlong forms, surrogates, code points above
 * U+10FFFF, truncated sequences and stray continuation bytes are all refused). */
size_t json_out_utf8_len(const unsigned char *s, size_t n);

/* Append the escaped form of s[0..n) (without quotes) to the buffer: \" \\ \n \r
 * \t, other control bytes and DEL as \u00XX, bytes that are not part of
 * well-formed UTF-8 as \u00XX of the byte (so they read as Latin-1), well-formed
 * UTF-8 unchanged. The output is always valid JSON string content. */
void json_out_escape(struct json_out *j, const char *s, size_t n);

/* Containers and values. Inside an object, call json_out_key before each value. */
void json_out_object_begin(struct json_out *j);
void json_out_object_end(struct json_out *j);
void json_out_array_begin(struct json_out *j);
void json_out_array_end(struct json_out *j);
void json_out_key(struct json_out *j, const char *key);
void json_out_string(struct json_out *j, const char *s);        /* NULL writes null */
void json_out_string_n(struct json_out *j, const char *s, size_t n);
void json_out_int(struct json_out *j, long long v);
void json_out_bool(struct json_out *j, bool v);
void json_out_null(struct json_out *j);

/* Shorthands for "key": value inside an object. */
void json_out_kv_string(struct json_out *j, const char *key, const char *s);
void json_out_kv_int(struct json_out *j, const char *key, long long v);
void json_out_kv_bool(struct json_out *j, const char *key, bool v);

/* Return the NUL-terminated text (owned by j, valid until json_out_free) and its
 * length, or NULL when an allocation failed or the containers are unbalanced. */
const char *json_out_finish(struct json_out *j, size_t *len);

/* Convenience: a new NUL-terminated string holding the escaped form of s (no
 * quotes), or NULL when out of memory. Caller frees. */
char *json_out_escape_dup(const char *s, size_t n);

#endif
