/*
 * test_json_write.c -- table-driven tests of policy/json_write.c and of esc.c's
 * ESC_JSON: escaping of hostile and non-UTF-8 bytes, the UTF-8 validator, and
 * the comma-tracking writer.
 * One cmocka test per table row, so every case is one TAP line.
 * Never: compares against output produced by the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esc.h"
#include "json_write.h"
#include "table_test.h"

#define S(lit) lit, sizeof(lit) - 1

struct esc_case {
    const char *name;
    const char *in;
    size_t      inlen;
    const char *want;
};

static const struct esc_case esc_cases[] = {
    { "escape: plain ASCII",         S("mail.partner-a.test"), "mail.partner-a.test" },
    { "escape: empty string",        S(""),                    "" },
    { "escape: double quote",        S("Odd \"Quoted\" Name"), "Odd \\\"Quoted\\\" Name" },
    { "escape: backslash",           S("a\\/b"),               "a\\\\/b" },
    { "escape: CR LF",               S("crlf\r\nX-Evil: 1"),   "crlf\\r\\nX-Evil: 1" },
    { "escape: tab",                 S("a\tb"),                "a\\tb" },
    { "escape: NUL inside length",   S("a\0b"),                "a\\u0000b" },
    { "escape: control 0x01",        S("\x01"),                "\\u0001" },
    { "escape: ESC sequence",        S("\x1b[31mred"),         "\\u001B[31mred" },
    { "escape: control 0x1f",        S("\x1f"),                "\\u001F" },
    { "escape: DEL",                 S("a\x7f" "b"),           "a\\u007Fb" },
    { "escape: valid UTF-8 Zurich",  S("Z\xc3\xbcrich"),       "Z\xc3\xbcrich" },
    { "escape: valid 3-byte euro",   S("\xe2\x82\xac" "5"),    "\xe2\x82\xac" "5" },
    { "escape: valid 4-byte emoji",  S("\xf0\x9f\x98\x80"),    "\xf0\x9f\x98\x80" },
    { "escape: U+2028 passes",       S("\xe2\x80\xa8"),        "\xe2\x80\xa8" },
    { "escape: truncated 2-byte",    S("Z\xc3"),               "Z\\u00C3" },
    { "escape: bad continuation",    S("\xc3\x28"),            "\\u00C3(" },
    { "escape: lone continuation",   S("\x80x"),               "\\u0080x" },
    { "escape: byte 0xff",           S("\xff"),                "\\u00FF" },
    { "escape: Latin-1 u-umlaut",    S("Z\xfcrich"),           "Z\\u00FCrich" },
    { "escape: overlong slash C0AF", S("\xc0\xaf"),            "\\u00C0\\u00AF" },
    { "escape: overlong 3-byte",     S("\xe0\x80\xaf"),        "\\u00E0\\u0080\\u00AF" },
    { "escape: UTF-16 surrogate",    S("\xed\xa0\x80"),        "\\u00ED\\u00A0\\u0080" },
    { "escape: above U+10FFFF",      S("\xf4\x90\x80\x80"),    "\\u00F4\\u0090\\u0080\\u0080" },
    { "escape: 0xF5 lead byte",      S("\xf5\x80\x80\x80"),    "\\u00F5\\u0080\\u0080\\u0080" },
    { "escape: truncated 4-byte",    S("\xf0\x9f\x98"),        "\\u00F0\\u009F\\u0098" },
    { "escape: Sendmail oneline escapes",
      S("/O=Odd Org, Z\\xC3\\xBCrich/CN=a\\/b"),
      "/O=Odd Org, Z\\\\xC3\\\\xBCrich/CN=a\\\\/b" },
    { "escape: CR LF inside a DN",
      S("/C=GB/O=CRLF\r\nInjected: yes/CN=crlf\r\nX-Evil: 1.partner-a.test"),
      "/C=GB/O=CRLF\\r\\nInjected: yes/CN=crlf\\r\\nX-Evil: 1.partner-a.test" },
    { "escape: mixed valid and invalid",
      S("\"\xc3\xbc\xc3\\\n"),
      "\\\"\xc3\xbc\\u00C3\\\\\\n" },
};

static void
test_escape(void **state)
{
    const struct esc_case *c = *state;
    struct json_write j;
    const char *got;
    size_t len = 0;

    json_write_init(&j);
    json_write_object_begin(&j);
    json_write_key(&j, "k");
    json_write_string_n(&j, c->in, c->inlen);
    json_write_object_end(&j);
    got = json_write_finish(&j, &len);
    assert_non_null(got);
    /* The value appears inside {"k":"..."}: 6 bytes before it, 2 after. */
    assert_true(len >= 8);
    if (strlen(c->want) != len - 8 || memcmp(got + 6, c->want, len - 8) != 0)
        fail_msg("%s: got %s, want {\"k\":\"%s\"}", c->name, got, c->want);
    assert_int_equal(strlen(got), len);         /* no NUL smuggled into the text */
    json_write_free(&j);
}

static void
test_escape_dup(void **state)
{
    const struct esc_case *c = *state;
    char *got = json_write_escape_dup(c->in, c->inlen);

    assert_non_null(got);
    if (strcmp(got, c->want) != 0)
        fail_msg("%s: got \"%s\", want \"%s\"", c->name, got, c->want);
    free(got);
}

struct utf8_case {
    const char *name;
    const char *in;
    size_t      inlen;
    size_t      want;
};

static const struct utf8_case utf8_cases[] = {
    { "utf8: ASCII",               S("a"),                 1 },
    { "utf8: empty input",         S(""),                  0 },
    { "utf8: U+00FC",              S("\xc3\xbc"),          2 },
    { "utf8: U+0080 smallest 2",   S("\xc2\x80"),          2 },
    { "utf8: C1 overlong",         S("\xc1\xbf"),          0 },
    { "utf8: U+0800 smallest 3",   S("\xe0\xa0\x80"),      3 },
    { "utf8: U+D7FF last before surrogates", S("\xed\x9f\xbf"), 3 },
    { "utf8: U+D800 surrogate",    S("\xed\xa0\x80"),      0 },
    { "utf8: U+FFFF",              S("\xef\xbf\xbf"),      3 },
    { "utf8: U+10000 smallest 4",  S("\xf0\x90\x80\x80"),  4 },
    { "utf8: 4-byte overlong",     S("\xf0\x8f\xbf\xbf"),  0 },
    { "utf8: U+10FFFF largest",    S("\xf4\x8f\xbf\xbf"),  4 },
    { "utf8: U+110000",            S("\xf4\x90\x80\x80"),  0 },
    { "utf8: truncated by length", S("\xe2\x82"),          0 },
    { "utf8: continuation first",  S("\xbf"),              0 },
    { "utf8: ASCII in 3rd byte",   S("\xe2\x82" "A"),      0 },
};

static void
test_utf8(void **state)
{
    const struct utf8_case *c = *state;
    size_t got = esc_utf8_len((const unsigned char *)c->in, c->inlen);

    if (got != c->want)
        fail_msg("%s: got %zu, want %zu", c->name, got, c->want);
}

/* Writer cases: each builds a document with one function and names the text
 * it must produce (NULL: finish must refuse it). */
struct doc_case {
    const char *name;
    void (*build)(struct json_write *);
    const char *want;
};

static void
build_nested(struct json_write *j)
{
    json_write_object_begin(j);
    json_write_kv_string(j, "connector", "partner-a");
    json_write_key(j, "reasons");
    json_write_array_begin(j);
    json_write_string(j, "a");
    json_write_string(j, "b");
    json_write_array_end(j);
    json_write_key(j, "posture");
    json_write_object_begin(j);
    json_write_kv_int(j, "bits", 256);
    json_write_kv_bool(j, "fs", true);
    json_write_kv_string(j, "root", NULL);
    json_write_object_end(j);
    json_write_kv_int(j, "neg", -12);
    json_write_object_end(j);
}

static void
build_empty_containers(struct json_write *j)
{
    json_write_object_begin(j);
    json_write_key(j, "a");
    json_write_array_begin(j);
    json_write_array_end(j);
    json_write_key(j, "o");
    json_write_object_begin(j);
    json_write_object_end(j);
    json_write_kv_bool(j, "f", false);
    json_write_object_end(j);
}

static void
build_array_of_objects(struct json_write *j)
{
    json_write_array_begin(j);
    json_write_object_begin(j);
    json_write_kv_string(j, "rcpt", "x@example.com");
    json_write_object_end(j);
    json_write_object_begin(j);
    json_write_kv_string(j, "rcpt", "y@example.com");
    json_write_object_end(j);
    json_write_null(j);
    json_write_array_end(j);
}

static void
build_escaped_key(struct json_write *j)
{
    json_write_object_begin(j);
    json_write_kv_string(j, "k\"\n", "v");
    json_write_object_end(j);
}

static void
build_unclosed(struct json_write *j)
{
    json_write_object_begin(j);
    json_write_kv_string(j, "a", "b");
}

static void
build_key_outside_object(struct json_write *j)
{
    json_write_key(j, "a");
}

static void
build_dangling_key(struct json_write *j)
{
    json_write_object_begin(j);
    json_write_key(j, "a");
    json_write_object_end(j);
}

static void
build_too_deep(struct json_write *j)
{
    int i;

    for (i = 0; i < JSON_WRITE_MAX_DEPTH + 1; i++)
        json_write_array_begin(j);
    for (i = 0; i < JSON_WRITE_MAX_DEPTH + 1; i++)
        json_write_array_end(j);
}

static void
build_max_depth(struct json_write *j)
{
    int i;

    for (i = 0; i < JSON_WRITE_MAX_DEPTH; i++)
        json_write_array_begin(j);
    for (i = 0; i < JSON_WRITE_MAX_DEPTH; i++)
        json_write_array_end(j);
}

static void
build_extra_close(struct json_write *j)
{
    json_write_array_begin(j);
    json_write_array_end(j);
    json_write_array_end(j);
}

static void
build_long_string(struct json_write *j)
{
    /* Forces several reallocations of the buffer. */
    static char big[5000];

    memset(big, '\n', sizeof(big) - 1);
    json_write_string(j, big);
}

static const struct doc_case doc_cases[] = {
    { "writer: nested object", build_nested,
      "{\"connector\":\"partner-a\",\"reasons\":[\"a\",\"b\"],"
      "\"posture\":{\"bits\":256,\"fs\":true,\"root\":null},\"neg\":-12}" },
    { "writer: empty containers", build_empty_containers,
      "{\"a\":[],\"o\":{},\"f\":false}" },
    { "writer: array of objects", build_array_of_objects,
      "[{\"rcpt\":\"x@example.com\"},{\"rcpt\":\"y@example.com\"},null]" },
    { "writer: key is escaped", build_escaped_key, "{\"k\\\"\\n\":\"v\"}" },
    { "writer: unclosed object refused", build_unclosed, NULL },
    { "writer: key outside an object refused", build_key_outside_object, NULL },
    { "writer: key without value refused", build_dangling_key, NULL },
    { "writer: nesting beyond the limit refused", build_too_deep, NULL },
    { "writer: nesting at the limit accepted", build_max_depth, "" },
    { "writer: extra close refused", build_extra_close, NULL },
    { "writer: long string grows the buffer", build_long_string, "\"\\n" },
};

static void
test_doc(void **state)
{
    const struct doc_case *c = *state;
    struct json_write j;
    const char *got;
    size_t len = 0;

    json_write_init(&j);
    c->build(&j);
    got = json_write_finish(&j, &len);
    if (c->want == NULL) {
        if (got != NULL)
            fail_msg("%s: got %s, want a refusal (NULL)", c->name, got);
    } else if (c->build == build_max_depth) {
        int i;
        assert_non_null(got);
        assert_int_equal(len, 2 * JSON_WRITE_MAX_DEPTH);
        for (i = 0; i < JSON_WRITE_MAX_DEPTH; i++)
            assert_true(got[i] == '[' && got[len - 1 - (size_t)i] == ']');
    } else if (c->build == build_long_string) {
        assert_non_null(got);
        assert_int_equal(len, 2 + 2 * 4999);
        assert_memory_equal(got, c->want, strlen(c->want));
        assert_true(got[len - 1] == '"');
    } else {
        assert_non_null(got);
        if (strcmp(got, c->want) != 0 || len != strlen(c->want))
            fail_msg("%s: got %s, want %s", c->name, got, c->want);
    }
    json_write_free(&j);
}

#define NESC  (sizeof(esc_cases) / sizeof(esc_cases[0]))
#define NUTF8 (sizeof(utf8_cases) / sizeof(utf8_cases[0]))
#define NDOC  (sizeof(doc_cases) / sizeof(doc_cases[0]))

int
main(void)
{
    static char dupnames[NESC][128];
    struct table_tests tt = { 0 };

    TABLE_TEST_ROWS(&tt, esc_cases, name, test_escape);
    for (size_t i = 0; i < NESC; i++) {
        int w = snprintf(dupnames[i], sizeof(dupnames[i]), "escape_dup: %s",
                         esc_cases[i].name + strlen("escape: "));
        if (w < 0 || (size_t)w >= sizeof(dupnames[i]))
            return 1;
        table_test_add(&tt, dupnames[i], test_escape_dup, &esc_cases[i]);
    }
    TABLE_TEST_ROWS(&tt, utf8_cases, name, test_utf8);
    TABLE_TEST_ROWS(&tt, doc_cases, name, test_doc);
    return table_test_run(&tt, "json_write", NULL, NULL);
}
