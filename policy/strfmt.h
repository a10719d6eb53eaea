/*
 * strfmt.h -- printf into a freshly allocated string, for the policy modules that
 * build reasons, notes and diagnostics (internal to policy/).
 * Never: part of the public API (policy.h); callers outside policy/ have their own.
 */
#ifndef STRFMT_H
#define STRFMT_H

#include <stdarg.h>

/* New NUL-terminated string, or NULL when out of memory or on a format error. */
char *strfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same with a va_list, which is left for the caller to va_end. */
char *vstrfmt(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
