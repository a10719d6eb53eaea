#!/usr/bin/env bash
# quickstart.sh -- the two commands of the README, on a fresh Debian 12 (as root):
#   contrib/quickstart.sh demo   install build dependencies, build, and run the live demo:
#                                the milter with the example policy in front of a private
#                                Postfix on 127.0.0.1, a handful of SMTP sessions, and for
#                                each the result it expected and the one it got; exits
#                                non-zero when any differs
#   contrib/quickstart.sh test   install build and test dependencies, build, and run every
#                                suite (unit, tool, milter, end-to-end through real Postfix
#                                and Sendmail, fuzz corpora replay; then all but end-to-end
#                                again under ASan+UBSan, the daemon included, and the
#                                milter suite under valgrind); ends with "N passed, N failed"
# Owns: the package list and the check that each package brings the feature it is
# installed for (swaks that can do STARTTLS, not just swaks); stops with one line naming
# what is missing and the package that brings it.
# Never: touches anything outside the build directories and /tmp: no system Postfix is
# configured, no service is started, no packet leaves loopback.
# Environment: JOBS (make -j, default 2); CI=true counts a whole suite skipped for a
# missing prerequisite as a failure; TLSPOLICY_CI_LOGS=DIR copies the logs there when
# something failed (.ci/run uses both).
set -euo pipefail
cmd=${1:-}
top=$(cd "$(dirname "$0")/.." && pwd)
JOBS=${JOBS:-2}

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'quickstart: %s\n' "$*" >&2; exit 1; }

# Each package, with what it is used for (the README's table says the same).
DEMO_PKGS=(build-essential autoconf automake pkg-config libmilter-dev libssl-dev libyaml-dev libunistring-dev libidn2-dev
           libyajl-dev zlib1g-dev openssl ca-certificates
           postfix swaks libnet-ssleay-perl iproute2)
# The Sendmail rig unpacks sendmail-bin without installing it: its libraries are named here.
SENDMAIL_LIBS=(libwrap0 libldap-2.5-0 liblockfile1 libsasl2-2 libnsl2 libdb5.3)
TEST_PKGS=(libcmocka-dev miltertest python3 m4 valgrind chromium jq time rsyslog "${SENDMAIL_LIBS[@]}")

install_deps() {
    local pkgs=("${DEMO_PKGS[@]}")
    [ "$1" = test ] && pkgs+=("${TEST_PKGS[@]}")
    [ "$(id -u)" = 0 ] || die "run as root (it installs packages with apt-get)"
    say "installing: ${pkgs[*]}"
    # Debian's postfix package asks how to configure the system MTA; we configure none.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -q
    # --no-install-recommends keeps the root small; anything a feature needs is named
    # above and checked below, never left to a Recommends.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}"
}

# need WHAT PACKAGE COMMAND...: stop with one line when COMMAND fails
need() {
    local what=$1 pkg=$2; shift 2
    "$@" >/dev/null 2>&1 || die "missing: $what (apt-get install $pkg)"
}
swaks_tls() { swaks --support 2>&1 | grep -q '^=== TLS supported'; }
have_lib() { ldconfig -p | grep -q "$1"; }
# check_features demo|test: every feature the demo or the suites use, by use, not by name
check_features() {
    say "checking that each package brings what it is installed for"
    need "a C compiler and make" build-essential sh -c 'command -v cc && command -v make'
    need "autoreconf" autoconf command -v autoreconf
    need "automake" automake command -v automake
    need "pkg-config" pkg-config command -v pkg-config
    need "libmilter headers (libmilter/mfapi.h)" libmilter-dev test -f /usr/include/libmilter/mfapi.h
    need "OpenSSL 3 headers (pkg-config openssl >= 3)" libssl-dev pkg-config --atleast-version=3 openssl
    need "libyaml headers (pkg-config yaml-0.1)" libyaml-dev pkg-config --exists yaml-0.1
    need "libidn2 headers (pkg-config libidn2; every domain is compared as IDNA A-labels)" libidn2-dev pkg-config --exists libidn2
    need "yajl headers (pkg-config yajl; tlspolicy report parses JSON with it)" libyajl-dev pkg-config --exists yajl
    need "zlib headers (pkg-config zlib; tlspolicy report reads gzip logs)" zlib1g-dev pkg-config --exists zlib
    need "libunistring headers (uninorm.h; CA names compare after NFKC)" libunistring-dev test -f /usr/include/uninorm.h
    need "the openssl command (the test PKI)" openssl command -v openssl
    need "the CA bundle /etc/ssl/certs/ca-certificates.crt" ca-certificates test -s /etc/ssl/certs/ca-certificates.crt
    need "postfix (with its postfix user)" postfix sh -c 'command -v postfix && getent passwd postfix'
    need "swaks" swaks command -v swaks
    need "STARTTLS in swaks (swaks --support: TLS needs Net::SSLeay)" libnet-ssleay-perl swaks_tls
    need "perl's JSON::PP (reading the posture log)" perl perl -MJSON::PP -e 1
    need "ss (free ports, listeners)" iproute2 command -v ss
    [ "$1" = test ] || return 0
    need "cmocka (pkg-config cmocka)" libcmocka-dev pkg-config --exists cmocka
    need "miltertest" miltertest command -v miltertest
    need "python3 (the tool and milter suites read JSON with it)" python3 command -v python3
    need "m4 (the Sendmail rig builds its sendmail.cf)" m4 command -v m4
    need "libwrap.so.0 (the unpacked Sendmail 8.17 links it)" libwrap0 have_lib libwrap.so.0
    need "libldap-2.5.so.0 and liblber-2.5.so.0 (Sendmail links them)" libldap-2.5-0 \
        sh -c 'ldconfig -p | grep -q libldap-2.5.so.0 && ldconfig -p | grep -q liblber-2.5.so.0'
    need "liblockfile.so.1 (Sendmail links it)" liblockfile1 have_lib liblockfile.so.1
    need "libsasl2.so.2 (Sendmail links it)" libsasl2-2 have_lib libsasl2.so.2
    need "libnsl.so.2 (Sendmail links it)" libnsl2 have_lib libnsl.so.2
    need "libdb-5.3.so (Sendmail links it)" libdb5.3 have_lib libdb-5.3.so
    need "ip (the Sendmail rig's loopback)" iproute2 command -v ip
    need "valgrind" valgrind command -v valgrind
    need "chromium (renders the HTML report)" chromium command -v chromium
    need "jq (the report benchmark's side-by-side)" jq command -v jq
    need "/usr/bin/time (the report benchmark's figures)" time test -x /usr/bin/time
    need "taskset (one core for the report benchmark)" util-linux command -v taskset
    need "rsyslogd with imfile and imtcp (the many-hosts recipe's test)" rsyslog \
        sh -c 'command -v rsyslogd && ls /usr/lib/*/rsyslog/imfile.so /usr/lib/*/rsyslog/imtcp.so'
    need "unshare and nsenter" util-linux sh -c 'command -v unshare && command -v nsenter'
    unshare --net --uts --mount true 2>/dev/null ||
        die "missing: network namespaces (unshare --net --uts --mount fails here; the Sendmail rig needs CAP_SYS_ADMIN)"
}

build() {   # build DIR [configure args...]
    local dir=$1; shift
    say "building in $dir ($*)"
    (cd "$top" && autoreconf -fi >/dev/null 2>&1) || die "autoreconf -fi failed in $top"
    mkdir -p "$dir"
    (cd "$dir" && "$top/configure" --enable-werror "$@" >configure.out 2>&1) ||
        { tail -40 "$dir/configure.out"; die "configure failed (whole output: $dir/configure.out)"; }
    (cd "$dir" && make -j"$JOBS" >make.out 2>&1) ||
        { tail -40 "$dir/make.out"; die "make failed (whole output: $dir/make.out)"; }
}

# Per-case counts from the header of each test-suite log (automake's TAP driver counts
# every case, not every program).
PASS=0 FAIL=0 SKIP=0
count() {
    local log=$1 p f s
    [ -f "$log" ] || { echo "no $log: the suites did not run"; FAIL=$((FAIL + 1)); return; }
    p=$(head -12 "$log" | awk '/^# PASS:/{print $3}')
    f=$(head -12 "$log" | awk '/^# (FAIL|ERROR|XPASS):/{n+=$3} END{print n+0}')
    s=$(head -12 "$log" | awk '/^# SKIP:/{print $3}')
    PASS=$((PASS + ${p:-0})); FAIL=$((FAIL + ${f:-0})); SKIP=$((SKIP + ${s:-0}))
    grep -E '^(FAIL|ERROR|XPASS): ' "$log" | head -20 || true
}
# A suite skipped as a whole ("1..0 # SKIP reason") is named with its reason; under
# CI=true it counts as a failure, so a missing install step cannot pass as a skip.
skipped_suites() {
    local trs log why
    while IFS= read -r trs; do
        grep -q '^:global-test-result: SKIP' "$trs" || continue
        log=${trs%.trs}.log
        why=$(sed -n 's/^1\.\.0 # SKIP *//p' "$log" 2>/dev/null | head -1)
        if [ "${CI:-}" = true ]; then
            echo "FAIL (a whole suite skipped, under CI): ${trs#"$top"/}: $why"
            FAIL=$((FAIL + 1))
        else
            echo "skipped as a whole: ${trs#"$top"/}: $why"
        fi
    done < <(find "$top/_build" "$top/_build-asan" -name '*.trs' 2>/dev/null | sort)
}
# copy_logs: every suite's log, configure and make output, to $TLSPOLICY_CI_LOGS
copy_logs() {
    local to=${TLSPOLICY_CI_LOGS:-} d
    [ -n "$to" ] || return 0
    mkdir -p "$to"
    for d in _build _build-asan; do
        [ -d "$top/$d" ] || continue
        (cd "$top" && find "$d" \( -name '*.log' -o -name '*.trs' -o -name configure.out -o -name make.out \) \
            -type f -exec cp --parents {} "$to/" \;)
    done
    echo "logs copied to ${TLSPOLICY_CI_LOGS_SHOWN:-$to}"
}

case $cmd in
demo)
    install_deps demo
    check_features demo
    build "$top/_build"
    say "live demo"
    make -C "$top/_build" demo
    ;;
test)
    install_deps test
    check_features test
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
    say "milter suite under valgrind memcheck"
    make -C "$top/_build" check-valgrind TEST_SUITE_LOG=test-suite-valgrind.log || rc=1
    logs+=("$top/_build/test-suite-valgrind.log")
    say "summary"
    for l in "${logs[@]}"; do count "$l"; done
    skipped_suites
    [ "$FAIL" -eq 0 ] || rc=1
    [ "$rc" -eq 0 ] || copy_logs
    echo "($SKIP single cases skipped)"
    echo "$PASS passed, $FAIL failed"
    exit $rc
    ;;
*)
    sed -n '2,12p' "$0" >&2
    exit 2
    ;;
esac
