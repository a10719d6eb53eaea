/*
 * outbound_int.h -- what the outbound loader (load_outbound.c) and the model
 * (outbound.c) share beyond outbound.h: building, freeing and root resolution.
 * Never: included outside policy/ (tests excepted).
 */
#ifndef OUTBOUND_INT_H
#define OUTBOUND_INT_H

#include "outbound.h"

struct policy;

/* Resolve root->name against the policy's trust store into root certificates.
 * 0, 1 (found nothing: *why is a new message saying why), or -1 (out of memory). */
int  outbound_roots_resolve(const struct policy *p, struct outbound_root *root, char **why);
/* Append one root (dn copied, pem taken). 0, or -1 (out of memory; pem freed). */
int  outbound_root_add(struct outbound_root *root, const char *dn, char *pem);
void outbound_connector_free(struct outbound_connector *c);
/* Free p->out (called by policy_free_internal). */
void outbound_free_all(struct policy *p);

#endif
