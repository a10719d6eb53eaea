/*
 * json_out.c -- JSON text for tlspolicy(1): escaping of untrusted bytes (macro
 * values from the network may hold anything but NUL) and a comma-tracking writer
 * for objects and arrays, all into one growable buffer.
 * Never: prints, exits, or lets a byte through that would make the output invalid
 * JSON; after an allocation failure every call is a no-op and finish says NULL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"

void
json_out_init(struct json_out *j)
{
    memset(j, 0, sizeof(*j));
}

void
json_out_free(struct json_out *j)
{
    free(j->buf);
    memset(j, 0, sizeof(*j));
}

/* Make room for n more bytes plus the terminating NUL. */
static bool
reserve(struct json_out *j, size_t n)
{
    size_t need, cap;
    char *nb;

    if (j->failed)
        return false;
    if (n > SIZE_MAX - j->len - 1)
        goto fail;
    need = j->len + n + 1;
    if (need <= j->cap)
        return true;
    cap = j->cap ? j->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            goto fail;
        cap *= 2;
    }
    nb = realloc(j->buf, cap);
    if (nb == NULL)
        goto fail;
    j->buf = nb;
    j->cap = cap;
    return true;
fail:
    j->failed = true;
    return false;
}

static void
append(struct json_out *j, const char *s, size_t n)
{
    if (!reserve(j, n))
        return;
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

size_t
json_out_utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c, lo = 0x80, hi = 0xBF;
    size_t len, i;

    if (n == 0)
        return 0;
    c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4;
    else
        return 0;             /* continuation byte, C0/C1 overlong lead, F5..FF */
    /* The second byte's range is what rules out overlongs, surrogates and
     * code points beyond U+10FFFF (RFC 3629 section 4). */
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (n < len)
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

void
json_out_escape(struct json_out *j, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run, u;
    char esc[8];

    while (i < n && !j->failed) {
        /* Copy the longest run that needs no escaping in one go. */
        run = i;
        while (run < n) {
            unsigned char c = p[run];
            if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
                run++;
                continue;
            }
            if (c >= 0x80 && (u = json_out_utf8_len(p + run, n - run)) > 0) {
                run += u;
                continue;
            }
            break;
        }
        if (run > i) {
            append(j, s + i, run - i);
            i = run;
            continue;
        }
        switch (p[i]) {
        case '"':  append(j, "\\\"", 2); break;
        case '\\': append(j, "\\\\", 2); break;
        case '\n': append(j, "\\n", 2); break;
        case '\r': append(j, "\\r", 2); break;
        case '\t': append(j, "\\t", 2); break;
        default:
            /* Control bytes, DEL, and bytes outside well-formed UTF-8. */
            (void)snprintf(esc, sizeof(esc), "\\u%04X", (unsigned)p[i]);
            append(j, esc, 6);
            break;
        }
        i++;
    }
}

char *
json_out_escape_dup(const char *s, size_t n)
{
    struct json_out j;
    char *r = NULL;

    json_out_init(&j);
    append(&j, "", 0);        /* an empty input still yields "" */
    json_out_escape(&j, s, n);
    if (j.failed)
        goto out;
    r = j.buf;
    j.buf = NULL;
out:
    json_out_free(&j);
    return r;
}

/* Separator and bookkeeping before any value (or key) at the current level. */
static void
before_value(struct json_out *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->depth > 0 && j->nonempty[j->depth])
        append(j, ",", 1);
    j->nonempty[j->depth] = true;
}

static void
begin(struct json_out *j, const char *open)
{
    if (j->failed)
        return;
    before_value(j);
    if (j->depth >= JSON_OUT_MAX_DEPTH) {
        j->failed = true;
        return;
    }
    append(j, open, 1);
    j->depth++;
    j->nonempty[j->depth] = false;
}

static void
end(struct json_out *j, const char *close)
{
    if (j->failed)
        return;
    if (j->depth == 0 || j->after_key) {
        j->failed = true;
        return;
    }
    append(j, close, 1);
    j->depth--;
}

void json_out_object_begin(struct json_out *j) { begin(j, "{"); }
void json_out_object_end(struct json_out *j)   { end(j, "}"); }
void json_out_array_begin(struct json_out *j)  { begin(j, "["); }
void json_out_array_end(struct json_out *j)    { end(j, "]"); }

void
json_out_key(struct json_out *j, const char *key)
{
    if (j->failed)
        return;
    if (j->depth == 0 || j->after_key) {
        j->failed = true;
        return;
    }
    before_value(j);
    append(j, "\"", 1);
    json_out_escape(j, key, strlen(key));
    append(j, "\":", 2);
    j->after_key = true;
}

void
json_out_string_n(struct json_out *j, const char *s, size_t n)
{
    if (j->failed)
        return;
    before_value(j);
    append(j, "\"", 1);
    json_out_escape(j, s, n);
    append(j, "\"", 1);
}

void
json_out_string(struct json_out *j, const char *s)
{
    if (s == NULL)
        json_out_null(j);
    else
        json_out_string_n(j, s, strlen(s));
}

void
json_out_int(struct json_out *j, long long v)
{
    char num[32];
    int n;

    if (j->failed)
        return;
    n = snprintf(num, sizeof(num), "%lld", v);
    if (n < 0 || (size_t)n >= sizeof(num)) {
        j->failed = true;
        return;
    }
    before_value(j);
    append(j, num, (size_t)n);
}

void
json_out_bool(struct json_out *j, bool v)
{
    if (j->failed)
        return;
    before_value(j);
    if (v)
        append(j, "true", 4);
    else
        append(j, "false", 5);
}

void
json_out_null(struct json_out *j)
{
    if (j->failed)
        return;
    before_value(j);
    append(j, "null", 4);
}

void
json_out_kv_string(struct json_out *j, const char *key, const char *s)
{
    json_out_key(j, key);
    json_out_string(j, s);
}

void
json_out_kv_int(struct json_out *j, const char *key, long long v)
{
    json_out_key(j, key);
    json_out_int(j, v);
}

void
json_out_kv_bool(struct json_out *j, const char *key, bool v)
{
    json_out_key(j, key);
    json_out_bool(j, v);
}

const char *
json_out_finish(struct json_out *j, size_t *len)
{
    if (j->failed || j->depth != 0 || j->after_key)
        return NULL;
    append(j, "", 0);         /* an empty document still has a buffer */
    if (j->failed)
        return NULL;
    if (len != NULL)
        *len = j->len;
    return j->buf;
}
