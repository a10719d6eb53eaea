/*
 * replay.c -- runs a fuzz target without libFuzzer: over every file of its seed
 * corpus (tests/fuzz/corpus/<target>/ under $top_srcdir) when given no argument,
 * or over the files and directories named, so `make check` replays every corpus
 * with gcc and a crash found by the fuzzer can be reproduced anywhere. TAP output.
 * Never: skips a file silently; an unreadable corpus is a failure.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef FUZZ_TARGET
#error "FUZZ_TARGET (the target's name) must be defined"
#endif


static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    long len;
    unsigned char *buf = NULL;
    int rc = -1;
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto out;
    /* Exactly the input's size, so that a sanitizer sees any over-read. */
    buf = malloc(len > 0 ? (size_t)len : 1);
    if (buf == NULL || (len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len))
        goto out;
    LLVMFuzzerTestOneInput(buf, (size_t)len);
    rc = 0;
out:
    if (rc != 0)
        printf("# %s: %s\n", path, strerror(errno ? errno : EIO));
    free(buf);
    if (f != NULL)
        fclose(f);
    return rc;
}

static int select_file(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

/* Every regular file of a directory in name order; returns files run, -1 on error. */
static long run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        printf("# %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path) == 0 ? 1 : -1;
    struct dirent **names = NULL;
    int n = scandir(path, &names, select_file, alphasort);
    long count = 0;
    if (n < 0) {
        printf("# %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char *p = NULL;
        if (count >= 0 && asprintf(&p, "%s/%s", path, names[i]->d_name) >= 0) {
            long c = run_path(p);
            count = c < 0 ? -1 : count + c;
        } else {
            count = -1;
        }
        free(p);
        free(names[i]);
    }
    free(names);
    return count;
}

int main(int argc, char **argv)
{
    char *dflt = NULL;
    long total = 0;
    const char *top = getenv("top_srcdir");
    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);
    printf("1..1\n");
    fflush(stdout);
    if (argc < 2) {
        if (asprintf(&dflt, "%s/tests/fuzz/corpus/%s", top ? top : ".", FUZZ_TARGET) < 0)
            return 1;
        total = run_path(dflt);
    } else {
        for (int i = 1; i < argc && total >= 0; i++) {
            long c = run_path(argv[i]);
            total = c < 0 ? -1 : total + c;
        }
    }
    if (total <= 0)
        printf("not ok 1 - %s: %s\n", FUZZ_TARGET, total == 0 ? "empty corpus" : "unreadable input");
    else
        printf("ok 1 - %s: %ld inputs replayed\n", FUZZ_TARGET, total);
    free(dflt);
    return total > 0 ? 0 : 1;
}
