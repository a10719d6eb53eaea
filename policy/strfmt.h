/*
 * strfmt.h -- printf into a freshly allocated string, for the policy modules that
 * build reasons, notes and diagnostics (internal to policy/).
 * Never: part of the public API (policy.h); callers outside policy/ have their own.
 */
#ifndef STRFMT_H
#define STRFMT_H

#include <stdarg.h>
#include <stdlib.h>

/* gcc 11 and later can tie the result to free(), which lets gcc -fanalyzer
 * follow the string across files (without it, it mistakes the NULL of a failed
 * call for a pointer already freed); clang knows only the plain form. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#define STRFMT_ALLOC __attribute__((malloc, malloc(free, 1)))
#else
#define STRFMT_ALLOC __attribute__((malloc))/* Replace *dst (freed) with a new formatted message; *dst is NULL when out of
 * memory. Does nothing when dst is NULL, for callers whose error is optional. */
void  strfmt_set(char **dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

/* New NUL-terminated string, or NULL when out of memory or on a format error. */
char *strfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2))) STRFMT_ALLOC;
/* The same with a va_list, which is left for the caller to va_end. */
char *vstrfmt(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0))) STRFMT_ALLOC;
/* Replace *dst (freed) with a new formatted message; *dst is NULL when out of
 * memory. Does nothing when dst is NULL, for callers whose error is optional. */
void  strfmt_set(char **dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
