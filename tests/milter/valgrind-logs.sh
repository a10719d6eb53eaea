#!/bin/sh
# valgrind-logs.sh -- the last test of "make check-valgrind": reads every
# valgrind log the run left in tests/milter/valgrind/ (test_callbacks, and the
# daemon started by run-miltertest.sh) and prints one TAP line per log. A log
# passes with "ERROR SUMMARY: 0 errors", no definitely lost bytes, and a leak
# check that ran (a process killed before exit is never leak-checked).
# Environment: top_builddir (set by "make check").
set -u
dir=${top_builddir:-$(pwd)}/tests/milter/valgrind
n=0
for log in "$dir"/*.log; do
    [ -f "$log" ] || continue
    n=$((n + 1))
    name=${log##*/}
    # the command valgrind ran, to name the check
    what=$(sed -n 's/^==[0-9]*== Command: \([^ ]*\).*/\1/p' "$log" | head -1)
    why=
    grep -q 'ERROR SUMMARY: 0 errors' "$log" || why="valgrind reported errors"
    grep -Eq 'definitely lost: [1-9]' "$log" && why="${why:+$why; }definite leaks"
    grep -Eq 'LEAK SUMMARY|All heap blocks were freed' "$log" || why="${why:+$why; }no leak check (killed?)"
    if [ -z "$why" ]; then
        echo "ok $n - valgrind: ${what##*/} ($name): no errors, no definite leaks"
    else
        echo "not ok $n - valgrind: ${what##*/} ($name): $why"
        grep -E '^==[0-9]+== ' "$log" | head -40 | sed 's/^/# /'
    fi
done
if [ $n -eq 0 ]; then
    # only "make check-valgrind" runs this: no log means nothing was checked
    n=1
    echo "not ok 1 - valgrind: no log in $dir"
fi
echo "1..$n"
