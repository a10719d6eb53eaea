#!/usr/bin/env bash
# quickstart.sh -- the two commands of the README, on a fresh Debian 12 (as root):
#   contrib/quickstart.sh demo   install build dependencies, build, and run the live demo:
#                                the milter with the example policy in front of a private
#                                Postfix on 127.0.0.1, a handful of SMTP sessions, and what
#                                happened to each (replies, posture headers, log lines)
#   contrib/quickstart.sh test   install build and test dependencies, build, and run every
#                                suite (unit, tool, milter, end-to-end through real Postfix
#                                and Sendmail, fuzz corpora replay; then all but end-to-end
#                                again under ASan+UBSan, the daemon included, and the
#                                milter suite under valgrind); ends with "N passed, N failed"
# Nothing outside the build directories and /tmp is touched: no system Postfix is
# configured, no service is started, no packet leaves loopback.
set -euo pipefail
cmd=${1:-}
top=$(cd "$(dirname "$0")/.." && pwd)
JOBS=${JOBS:-2}

say() { printf '\n==> %s\n' "$*"; }

install_deps() {
    local pkgs=(build-essential autoconf automake pkg-config libmilter-dev libssl-dev libyaml-dev
                openssl ca-certificates)
    if [ "$1" = test ] || [ "$1" = demo ]; then
        # postfix and swaks for the live demo and the end-to-end suite
        pkgs+=(postfix swaks iproute2 python3)
    fi
    if [ "$1" = test ]; then
        # cmocka: unit tests; miltertest: drives the daemon over its socket;
        # m4 + libwrap0: an unpacked Sendmail 8.17 for the end-to-end suite; valgrind
        pkgs+=(libcmocka-dev miltertest m4 libwrap0 valgrind clang)
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "quickstart: run as root (it installs packages with apt-get)" >&2
        exit 2
    fi
    say "installing: ${pkgs[*]}"
    # Debian's postfix package asks how to configure the system MTA; we configure none.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}"
}

build() {   # build DIR [configure args...]
    local dir=$1; shift
    say "building in $dir ($*)"
    (cd "$top" && autoreconf -fi >/dev/null)
    mkdir -p "$dir"
    (cd "$dir" && "$top/configure" --enable-werror "$@" >configure.out &&
        make -j"$JOBS" >make.out 2>&1) || { tail -40 "$dir/make.out" 2>/dev/null; exit 1; }
}

# Sum the per-case counts that the TAP driver wrote into each suite's .trs files.
summary() {
    local pass=0 fail=0 skip=0 p f s
    for log in "$@"; do
        [ -f "$log" ] || continue
        p=$(awk '/^# PASS:/{print $3}' "$log"); f=$(awk '/^# (FAIL|ERROR|XPASS):/{n+=$3} END{print n+0}' "$log")
        s=$(awk '/^# SKIP:/{print $3}' "$log")
        pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skip=$((skip + ${s:-0}))
    done
    echo "$pass passed, $fail failed, $skip skipped"
}

case $cmd in
demo)
    install_deps demo
    build "$top/_build"
    say "live demo"
    make -C "$top/_build" demo
    ;;
test)
    install_deps test
    rc=0
    build "$top/_build"
    say "all suites"
    make -C "$top/_build" -j"$JOBS" check || rc=1
    logs=("$top/_build/test-suite.log")
    build "$top/_build-asan" --enable-sanitizers
    # tests/e2e steps aside in this build (configure.ac: SANITIZERS)
    say "unit, tool, milter, fuzz replay and bench smoke suites under ASan+UBSan"
    make -C "$top/_build-asan" -j"$JOBS" check \
        TEST_SUITE_LOG=test-suite-asan.log || rc=1
    logs+=("$top/_build-asan/test-suite-asan.log")
    if make -C "$top/_build" -n check-valgrind >/dev/null 2>&1; then
        say "milter suite under valgrind memcheck"
        make -C "$top/_build" check-valgrind TEST_SUITE_LOG=test-suite-valgrind.log || rc=1
        logs+=("$top/_build/test-suite-valgrind.log")
    fi
    for l in "${logs[@]}"; do
        [ -f "$l" ] && grep -E '^(FAIL|ERROR|XPASS)' "$l" | head -20 || true
    done
    summary "${logs[@]}"
    exit $rc
    ;;
*)
    sed -n '2,13p' "$0" >&2
    exit 2
    ;;
esac
