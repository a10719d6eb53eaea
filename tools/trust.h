/*
 * trust.h -- the entry point of "tlspolicy trust" (tools/trust.c) for the
 * dispatcher in tools/tlspolicy.c.
 * Never: more than the one entry point.
 */
#ifndef TOOLS_TRUST_H
#define TOOLS_TRUST_H

/* Exit status: 0 every name resolved, 1 some did not, 2 usage or load error. */
int trust_main(const char *progname, int argc, char **argv);

#endif
