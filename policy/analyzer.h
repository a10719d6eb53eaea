/*
 * analyzer.h -- the one excuse policy/ makes to gcc -fanalyzer, for functions
 * that fill heap arrays through computed indexes or hand an allocation to a
 * struct freed in another file (see below).
 * Never: silences anything but those two warnings, or anything outside the
 * functions wrapped in ANALYZER_ARRAYS_BEGIN/END.
 */
#ifndef ANALYZER_H
#define ANALYZER_H

/*
 * gcc 12's -fanalyzer (make lint) loses track of a pointer once it is stored
 * through a computed index into a heap array (names[n] = strdup(...),
 * d.rdn[d.n].value = v) and then reports it leaked, and takes the first free of
 * a pointer that started out NULL for a double free. Both arrays are freed on
 * every path at out:, which ASan's leak check in make check confirms; only the
 * functions so marked are excused, and only from those two warnings.
 * The same excuse covers a function that stores a new allocation into a struct
 * it was handed, when the function that frees that struct is in another file:
 * seeing one file at a time, the analyzer takes the store for a leak (the
 * loader's settings and defaults, since the loader was cut into files).
 */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 10
#define ANALYZER_ARRAYS_BEGIN                                   \
    _Pragma("GCC diagnostic push")                                 \
    _Pragma("GCC diagnostic ignored \"-Wanalyzer-malloc-leak\"")  \
    _Pragma("GCC diagnostic ignored \"-Wanalyzer-double-free\"")
#define ANALYZER_ARRAYS_END _Pragma("GCC diagnostic pop")
#else
#define ANALYZER_ARRAYS_BEGIN
#define ANALYZER_ARRAYS_END
#endif

#endif
