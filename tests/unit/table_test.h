/*
 * table_test.h -- builds one cmocka group from row tables (one test case per row,
 * named after the row, with the row as its state) plus single tests, so that each
 * table-driven test program says only which tables go with which runner.
 * Never: decides anything about a row; the runners do. Header-only, for tests.
 */
#ifndef TABLE_TEST_H
#define TABLE_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

struct table_tests {
    struct CMUnitTest *t;
    size_t n, cap;
    int oom;                      /* an add failed: the group is not run */
};

/* Add one test; state is handed to fn as its *state (NULL for a single test). */
static inline void
table_test_add(struct table_tests *tt, const char *name, CMUnitTestFunction fn,
               const void *state)
{
    if (tt->n == tt->cap) {
        size_t cap = tt->cap ? tt->cap * 2 : 64;
        struct CMUnitTest *t = realloc(tt->t, cap * sizeof(*t));

        if (t == NULL) {
            tt->oom = 1;
            return;
        }
        tt->t = t;
        tt->cap = cap;
    }
    tt->t[tt->n++] = (struct CMUnitTest){ name, fn, NULL, NULL, (void *)(uintptr_t)state };
}

/* One test per row of the array rows, named by the row's field namefield. */
#define TABLE_TEST_ROWS(tt, rows, namefield, fn)                                    \
    do {                                                                            \
        for (size_t tt_row_ = 0; tt_row_ < sizeof(rows) / sizeof((rows)[0]); tt_row_++) \
            table_test_add((tt), (rows)[tt_row_].namefield, (fn), &(rows)[tt_row_]); \
    } while (0)

/* A single test named after its function, as cmocka_unit_test() names it. */
#define TABLE_TEST_FN(tt, fn) table_test_add((tt), #fn, (fn), NULL)

/* Run everything added as one group and free the list. cmocka_run_group_tests_name
 * needs an array whose size is known at compile time; this calls the function it
 * expands to with the count instead. */
static inline int
table_test_run(struct table_tests *tt, const char *group, CMFixtureFunction setup,
               CMFixtureFunction teardown)
{
    int rc = 1;

    if (tt->oom)
        fprintf(stderr, "%s: out of memory building the test list\n", group);
    else
        rc = _cmocka_run_group_tests(group, tt->t, tt->n, setup, teardown);
    free(tt->t);
    tt->t = NULL;
    tt->n = tt->cap = 0;
    return rc;
}

#endif
