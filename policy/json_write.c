/*
 * json_write.c -- JSON text for the daemon's posture log and tlspolicy(1): a
 * comma-tracking writer for objects and arrays over one strbuf; strings go
 * through esc.c (ESC_JSON), the project's only JSON string escaper.
 * Never: prints, exits, or lets a byte through that would make the output invalid
 * JSON; after a failure every call is a no-op and finish says NULL.
 */
#include <stdlib.h>
#include <string.h>

#include "esc.h"
#include "json_write.h"

void
json_write_init(struct json_write *j)
{
    memset(j, 0, sizeof(*j));
    strbuf_init(&j->b);
}

void
json_write_free(struct json_write *j)
{
    strbuf_free(&j->b);
    memset(j, 0, sizeof(*j));
}

static bool
json_write_ok(const struct json_write *j)
{
    return !j->failed && !j->b.oom;
}

char *
json_write_escape_dup(const char *s, size_t n)
{
    struct strbuf b;

    strbuf_init(&b);
    strbuf_putn(&b, "", 0);       /* an empty input still yields "" */
    esc_putn(&b, s, n, ESC_JSON);
    return strbuf_take(&b);
}

/* Separator and bookkeeping before any value (or key) at the current level. */
static void
json_write_before_value(struct json_write *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->depth > 0 && j->nonempty[j->depth])
        strbuf_putc(&j->b, ',');
    j->nonempty[j->depth] = true;
}

static void
json_write_open(struct json_write *j, char open)
{
    if (!json_write_ok(j))
        return;
    json_write_before_value(j);
    if (j->depth >= JSON_WRITE_MAX_DEPTH) {
        j->failed = true;
        return;
    }
    strbuf_putc(&j->b, open);
    j->depth++;
    j->nonempty[j->depth] = false;
}

static void
json_write_close(struct json_write *j, char close)
{
    if (!json_write_ok(j))
        return;
    if (j->depth == 0 || j->after_key) {
        j->failed = true;
        return;
    }
    strbuf_putc(&j->b, close);
    j->depth--;
}

void json_write_object_begin(struct json_write *j) { json_write_open(j, '{'); }
void json_write_object_end(struct json_write *j)   { json_write_close(j, '}'); }
void json_write_array_begin(struct json_write *j)  { json_write_open(j, '['); }
void json_write_array_end(struct json_write *j)    { json_write_close(j, ']'); }

void
json_write_key(struct json_write *j, const char *key)
{
    if (!json_write_ok(j))
        return;
    if (j->depth == 0 || j->after_key) {
        j->failed = true;
        return;
    }
    json_write_before_value(j);
    strbuf_putc(&j->b, '"');
    esc_putn(&j->b, key, strlen(key), ESC_JSON);
    strbuf_puts(&j->b, "\":");
    j->after_key = true;
}

/* "s[0..n)", with "..." before the closing quote when the value was cut. */
static void
json_write_quoted(struct json_write *j, const char *s, size_t n, bool cut)
{
    if (!json_write_ok(j))
        return;
    json_write_before_value(j);
    strbuf_putc(&j->b, '"');
    esc_putn(&j->b, s, n, ESC_JSON);
    if (cut)
        strbuf_puts(&j->b, "...");
    strbuf_putc(&j->b, '"');
}

void
json_write_string_n(struct json_write *j, const char *s, size_t n)
{
    json_write_quoted(j, s, n, false);
}

void
json_write_string(struct json_write *j, const char *s)
{
    if (s == NULL)
        json_write_null(j);
    else
        json_write_string_n(j, s, strlen(s));
}

void
json_write_string_cap(struct json_write *j, const char *s, size_t cap)
{
    size_t n;

    if (s == NULL) {
        json_write_null(j);
        return;
    }
    n = strnlen(s, cap);
    json_write_quoted(j, s, n, s[n] != '\0');
}

void
json_write_int(struct json_write *j, long long v)
{
    if (!json_write_ok(j))
        return;
    json_write_before_value(j);
    if (v < 0) {
        strbuf_putc(&j->b, '-');
        /* -(v + 1) + 1: LLONG_MIN has no positive twin */
        strbuf_putu(&j->b, (unsigned long)(-(v + 1)) + 1);
    } else
        strbuf_putu(&j->b, (unsigned long)v);
}

void
json_write_bool(struct json_write *j, bool v)
{
    if (!json_write_ok(j))
        return;
    json_write_before_value(j);
    strbuf_puts(&j->b, v ? "true" : "false");
}

void
json_write_null(struct json_write *j)
{
    if (!json_write_ok(j))
        return;
    json_write_before_value(j);
    strbuf_puts(&j->b, "null");
}

void
json_write_kv_string(struct json_write *j, const char *key, const char *s)
{
    json_write_key(j, key);
    json_write_string(j, s);
}

void
json_write_kv_int(struct json_write *j, const char *key, long long v)
{
    json_write_key(j, key);
    json_write_int(j, v);
}

void
json_write_kv_bool(struct json_write *j, const char *key, bool v)
{
    json_write_key(j, key);
    json_write_bool(j, v);
}

const char *
json_write_finish(struct json_write *j, size_t *len)
{
    if (!json_write_ok(j) || j->depth != 0 || j->after_key)
        return NULL;
    strbuf_putn(&j->b, "", 0);    /* an empty document still has a buffer */
    if (j->b.oom)
        return NULL;
    if (len != NULL)
        *len = j->b.len;
    return strbuf_str(&j->b);
}
