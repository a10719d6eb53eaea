# report-lib.sh -- sourced by the report tests: the TAP counter and the
# generated logs they share. Sets T (a temporary directory, removed on exit).
# Never: decides a skip (each test knows what it needs) or runs the report.

n=0
fails=0
ok() {
    n=$((n + 1))
    if [ "$1" = 0 ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        fails=$((fails + 1))
    fi
}

# Fresh logs from the generator in $T/logs (seed 7: a failure can be replayed).
report_logs() {
    T=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || exit 1
    trap 'rm -rf "$T"' EXIT
    mkdir "$T/logs" && python3 "${top_srcdir:-.}/tests/tools/gen-posture.py" test "$T/logs" 7 \
        || { echo "Bail out! the log generator failed"; exit 1; }
}
