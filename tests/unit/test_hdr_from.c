/*
 * test_hdr_from.c -- the From: field reader (hdr_from.c), one row per form of
 * RFC 5322 3.4/3.6.2 and 4.4 met in real mail or in a spoofing attempt: the
 * domains it must find, or the error and what a lenient reading still finds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hdr_from.h"
#include "table_test.h"

struct row {
    const char *name;
    const char *value;
    const char *domains;          /* space-separated, in order */
    bool error;                   /* the field does not parse (domains: lenient) */
};

static const struct row rows[] = {
    { "addr-spec", "pay@bank.example", "bank.example", false },
    { "name-addr", "Pay Dept <pay@bank.example>", "bank.example", false },
    { "quoted display name holding an address", "\"pay@bank.example\" <x@evil.test>",
      "evil.test", false },
    { "encoded word in the display name is no mailbox",
      "=?utf-8?q?pay=40bank.example?= <x@evil.test>", "evil.test", false },
    { "comments, nested, with a quoted parenthesis",
      "(a (b \\) c) pay@bank.example) x@evil.test (Pay)", "evil.test", false },
    { "quoted local part with specials", "\"a@b, <c>\"@bank.example", "bank.example", false },
    { "several mailboxes", "a@one.test, B <b@two.test> ,c@three.test",
      "one.test two.test three.test", false },
    { "group with mailboxes", "Team: a@one.test, b@two.test;", "one.test two.test", false },
    { "group then mailbox", "Team: a@one.test;, b@two.test", "one.test two.test", false },
    { "folded with CRLF and tab", "Pay\r\n\t<pay@\r\n bank.example>", "bank.example", false },
    { "obsolete spaces in local part and domain", "a . b @ bank . example",
      "bank.example", false },
    { "obsolete route is not the author", "<@relay.test,@r2.test:x@evil.test>",
      "evil.test", false },
    { "obsolete empty list elements", ", ,a@one.test,,", "one.test", false },
    { "domain literal", "x@[192.0.2.1]", "[192.0.2.1]", false },
    { "UTF-8 (RFC 6532) in names and domain", "J\xc3\xb6rg <j@b\xc3\xa4nk.test>",
      "b\xc3\xa4nk.test", false },
    { "dot in display name (obs-phrase)", "J. Smith <j@one.test>", "one.test", false },
    /* Errors: the lenient reading finds every "@domain" in the raw text. */
    { "unquoted comma in display name", "Pay, Bank <pay@bank.example>", "bank.example", true },
    { "no address", "nobody", "", true },
    { "empty", "", "", true },
    { "empty group only", "undisclosed-recipients:;", "", true },
    { "unterminated quote", "\"Pay <pay@bank.example>", "bank.example", true },
    { "unterminated comment", "(x@bank.example", "bank.example", true },
    { "unterminated angle", "Pay <pay@bank.example", "bank.example", true },
    { "missing domain", "pay@", "", true },
    { "trailing dot in domain", "pay@bank.example.", "bank.example", true },
    { "two addresses without comma", "a@one.test b@two.test", "one.test two.test", true },
    { "group inside a group", "A: B: b@two.test;;", "two.test", true },
    { "group not closed", "Team: a@one.test", "one.test", true },
    { "stray closing parenthesis", "a@one.test)", "one.test", true },
};

static void
run_row(void **state)
{
    const struct row *w = *state;
    struct hdr_from hf;
    char got[512] = "";
    size_t used = 0;

    assert_int_equal(hdr_from_parse(w->value, strlen(w->value), &hf), 0);
    for (size_t i = 0; i < hf.n; i++)
        used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%s", i ? " " : "",
                                 hf.domain[i]);
    if (strcmp(got, w->domains) != 0)
        fail_msg("domains: want '%s', got '%s'", w->domains, got);
    if (w->error && hf.error == NULL)
        fail_msg("want an error, got none");
    if (!w->error && hf.error != NULL)
        fail_msg("want no error, got '%s' at %zu", hf.error, hf.error_at);
    hdr_from_free(&hf);
}

/* A NUL inside the value ends nothing early and is no atom text. */
static void
nul_byte(void **state)
{
    static const char v[] = "a@one.test\0b@two.test";
    struct hdr_from hf;

    (void)state;
    assert_int_equal(hdr_from_parse(v, sizeof(v) - 1, &hf), 0);
    assert_non_null(hf.error);
    assert_int_equal(hf.n, 2);
    hdr_from_free(&hf);
}

int
main(void)
{
    struct table_tests tt = { 0 };

    TABLE_TEST_ROWS(&tt, rows, name, run_row);
    TABLE_TEST_FN(&tt, nul_byte);
    return table_test_run(&tt, "hdr_from", NULL, NULL);
}
