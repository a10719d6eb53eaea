/*
 * match_test.h -- what the two match-index tests (test_match_domain.c,
 * test_match_addr.c) share: a random generator that gives the same sequence
 * on every libc, and the check that lookups on a frozen index from many
 * threads at once agree with a lone lookup.
 * Never: knows which index it drives; each test passes its own lookup.
 */
#ifndef MATCH_TEST_H
#define MATCH_TEST_H

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static uint64_t rng_state;

/* xorshift64*: the same sequence on every libc, so failures reproduce */
static inline uint32_t
rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32);
}

/* Number of spans the index gives for key i of the test's keys. */
typedef size_t (*match_test_lookup)(const void *ctx, size_t i);

#define MATCH_TEST_THREADS 4
#define MATCH_TEST_ROUNDS  2000

struct match_test_job {
    match_test_lookup lookup;
    const void *ctx;
    const size_t *want;           /* spans per key from a lone lookup */
    size_t nkeys;
    size_t bad;
};

static inline void *
match_test_worker(void *arg)
{
    struct match_test_job *j = arg;

    for (unsigned round = 0; round < MATCH_TEST_ROUNDS; round++)
        for (size_t i = 0; i < j->nkeys; i++)
            j->bad += j->lookup(j->ctx, i) != j->want[i];
    return NULL;
}

/* Lookups after freeze run on many milter threads at once: each thread must
 * see exactly what a lone lookup saw (want[]), and TSan must see no write. */
static inline void
match_test_concurrent(match_test_lookup lookup, const void *ctx, const size_t *want,
                      size_t nkeys)
{
    struct match_test_job jobs[MATCH_TEST_THREADS];
    pthread_t th[MATCH_TEST_THREADS];

    for (size_t k = 0; k < MATCH_TEST_THREADS; k++) {
        jobs[k] = (struct match_test_job){ lookup, ctx, want, nkeys, 0 };
        assert_int_equal(pthread_create(&th[k], NULL, match_test_worker, &jobs[k]), 0);
    }
    for (size_t k = 0; k < MATCH_TEST_THREADS; k++) {
        assert_int_equal(pthread_join(th[k], NULL), 0);
        if (jobs[k].bad != 0)
            fail_msg("thread %zu: got %zu lookups differing from a lone lookup", k, jobs[k].bad);
    }
}

#endif
