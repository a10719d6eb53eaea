/*
 * test_authres.c -- table-driven tests of policy/authres.c: which spellings of
 * an Authentication-Results authserv-id name ours (quoted, quoted-pairs,
 * comments, folds, case, versions, ";" forms) and which look-alikes do not.
 * One cmocka test per table row, so every case is one TAP line.
 * Never: compares against output produced by the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "authres.h"
#include "table_test.h"

#define ID "mx.local.test"

struct authres_row {
    const char *name;
    const char *value;   /* the field body as the MTA hands it, leading space kept */
    const char *id;
    bool want;
};

static const struct authres_row rows[] = {
    /* ours, however spelt */
    { "ours: bare", " mx.local.test; x-tls=pass", ID, true },
    { "ours: no leading space", "mx.local.test;x-tls=pass", ID, true },
    { "ours: case folded", " MX.Local.TEST; spf=pass", ID, true },
    { "ours: id in upper case in config", " mx.local.test; spf=pass", "MX.LOCAL.TEST", true },
    { "ours: quoted", " \"mx.local.test\"; x-tls=pass", ID, true },
    { "ours: quoted then space before ;", " \"mx.local.test\" ; x-tls=pass", ID, true },
    { "ours: quoted, nothing after", " \"mx.local.test\"", ID, true },
    { "ours: quoted-pair in quotes", " \"mx\\.local.test\"; x-tls=pass", ID, true },
    { "ours: every byte a quoted-pair", " \"\\m\\x\\.\\l\\o\\c\\a\\l\\.\\t\\e\\s\\t\";x", ID,
      true },
    { "ours: quoted, case folded", " \"MX.LOCAL.TEST\"; none", ID, true },
    { "ours: comment before", " (forged) mx.local.test; x-tls=pass", ID, true },
    { "ours: comment after", " mx.local.test (looks fine); x-tls=pass", ID, true },
    { "ours: comment glued after", " mx.local.test(x); x-tls=pass", ID, true },
    { "ours: comments before and after quoted", " (a)\"mx.local.test\"(b);x", ID, true },
    { "ours: nested comment before", " (a (b (c)) d) mx.local.test; x", ID, true },
    { "ours: comment with quoted-pair paren", " (a \\) b) mx.local.test; x", ID, true },
    { "ours: two comments before", " (a) (b)mx.local.test;x", ID, true },
    { "ours: folded before id", "\r\n\tmx.local.test; x-tls=pass", ID, true },
    { "ours: folded inside comment", " (a\r\n b) mx.local.test; x", ID, true },
    { "ours: folded after quoted id", " \"mx.local.test\"\r\n ; x-tls=pass", ID, true },
    { "ours: fold CRLF inside quotes is invisible", " \"mx.local\r\n.test\"; x", ID, true },
    { "ours: trailing ; only", " mx.local.test;", ID, true },
    { "ours: nothing after id", " mx.local.test", ID, true },
    { "ours: version after id", " mx.local.test 1; none", ID, true },
    { "ours: version after comment", " mx.local.test (c) 1 ; x-tls=pass", ID, true },
    { "ours: quoted id, version", " \"mx.local.test\" 1; none", ID, true },
    { "ours: tab before ;", " mx.local.test\t; x", ID, true },
    { "ours: stray special after token", " mx.local.test/x; x-tls=pass", ID, true },
    /* not ours */
    { "not ours: longer name", " mx.local.test.evil; x-tls=pass", ID, false },
    { "not ours: prefix", " xmx.local.test; x-tls=pass", ID, false },
    { "not ours: shorter name", " mx.local.tes; x-tls=pass", ID, false },
    { "not ours: digit appended", " mx.local.test2; x", ID, false },
    { "not ours: trailing dot", " mx.local.test.; x", ID, false },
    { "not ours: quoted longer", " \"mx.local.test.evil\"; x", ID, false },
    { "not ours: quoted with space inside", " \"mx.local.test \"; x", ID, false },
    { "not ours: quoted with folded space inside", " \"mx.local.test\r\n \"; x", ID, false },
    { "not ours: other id", " other.example; spf=pass", ID, false },
    { "not ours: ours only in a comment", " (mx.local.test) other.example; x", ID, false },
    { "not ours: ours only in a result", " other.example; x-tls=pass smtp.mx=mx.local.test",
      ID, false },
    { "not ours: ours after a bare backslash", " mx\\.local.test; x", ID, false },
    { "not ours: unterminated comment", " (mx.local.test", ID, false },
    { "not ours: unterminated quote", " \"mx.local.test; x-tls=pass", ID, false },
    { "not ours: quote ends in backslash", " \"mx.local.test\\", ID, false },
    { "not ours: empty value", "", ID, false },
    { "not ours: only white space", " \r\n ", ID, false },
    { "not ours: starts with ;", " ; mx.local.test", ID, false },
    { "not ours: empty quoted", " \"\"; x", ID, false },
    { "not ours: NULL value", NULL, ID, false },
    { "not ours: empty id configured", " mx.local.test; x", "", false },
    { "not ours: NULL id", " mx.local.test; x", NULL, false },
    { "not ours: 8-bit look-alike", " mx.local.t\xc3\xa9st; x", ID, false },
};

static void
run_row(void **state)
{
    const struct authres_row *r = *state;
    bool got = authres_names_id(r->value, r->id);

    if (got != r->want)
        fail_msg("%s: got %s, want %s", r->name, got ? "ours" : "not ours",
                 r->want ? "ours" : "not ours");
}

int
main(void)
{
    struct table_tests tt = { 0 };

    TABLE_TEST_ROWS(&tt, rows, name, run_row);
    return table_test_run(&tt, "authres", NULL, NULL);
}
