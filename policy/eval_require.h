/*
 * eval_require.h -- what policy_eval.c asks of eval_require.c: whether one require
 * block holds for a session, with one reason per failed requirement, and the
 * reason list both add to.
 * Never: included outside policy/ (tests excepted); decides which connector
 * claims a session (policy_eval.c does).
 */
#ifndef EVAL_REQUIRE_H
#define EVAL_REQUIRE_H

#include <stdbool.h>

#include "policy_int.h"
#include "trust_store.h"

/* Values from the network echoed in reasons are cut here; reasons are for people. */
#define REASON_VALUE_MAX 96

/* Append one reason (formatted); a full list drops it. 0, or -1 when out of memory. */
int eval_reason_add(struct policy_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Check q against the session; claimed_by_pin: the connector claimed the session by
 * a pinned fingerprint, which is identity of its own. 0, or -1 when out of memory. */
int eval_check_require(const struct policy *p, const struct policy_require *q,
                       const struct policy_facts *f, bool claimed_by_pin,
                       struct policy_result *r);

/* The roots the session's issuer chains to in the trust store, or NULL. */
const struct trust_roots *eval_roots_of_issuer(const struct policy *p,
                                               const struct policy_facts *f);

#endif
