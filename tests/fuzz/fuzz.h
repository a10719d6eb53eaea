/*
 * fuzz.h -- what every fuzz target and the replay driver share: the libFuzzer
 * entry points, the splitter that turns one input into several strings, and the
 * guard that keeps the loader away from arbitrary files.
 * Never: used outside tests/fuzz.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Weak: only targets with set-up define it (libFuzzer declares it so too). */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Split data at NUL bytes into at most max NUL-terminated copies (the last one
 * takes the rest). Returns the number of fields, or -1 when out of memory;
 * free with fuzz_fields_free. */
int  fuzz_split(const uint8_t *data, size_t size, char **out, int max);
void fuzz_fields_free(char **v, int n);

/* Fill macros from an input: byte 0 picks the dialect (AUTO, POSTFIX, SENDMAIL),
 * bytes 1-2 (little endian) say which of the eleven macro fields are present
 * (absent and empty differ), then the fields NUL-separated in struct order
 * (mta_version ... verify). fields must hold FUZZ_NFIELDS slots; the last gets
 * what is left (a recipient for fuzz_eval). Returns the number of fields or -1. */
#define FUZZ_NFIELDS 12
int  fuzz_macros(const uint8_t *data, size_t size, struct policy_macros *m, char **fields);

/* The directory relative policy paths resolve against and that holds the only
 * trust store the fuzzed loader may open: $TLSPOLICY_TEST_PKI, or NULL. */
const char *fuzz_pki_dir(void);

#endif
