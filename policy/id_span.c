/*
 * id_span.c -- membership test over the borrowed id lists that the match indexes
 * return.
 * Never: allocates or writes through a span.
 */
#include "id_span.h"

bool
id_span_contains(const struct id_span *spans, size_t nspans, uint32_t id)
{
    for (size_t s = 0; s < nspans; s++) {
        size_t lo = 0, hi = spans[s].n;

        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;

            if (spans[s].ids[mid] == id)
                return true;
            if (spans[s].ids[mid] < id)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    return false;
}
