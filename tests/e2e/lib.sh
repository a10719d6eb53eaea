# shellcheck shell=bash
# tests/e2e/lib.sh -- shared by the end-to-end suites (postfix.sh, sendmail.sh) and demo.sh.
#
# Owns: TAP output, bounded waits, free loopback ports, the test PKI copy, starting and
# stopping milter-tlspolicy, a private Postfix instance and a private Sendmail 8.17, and
# reading what the clients saw and what was delivered or queued.
# Never: touches /etc/postfix or a system MTA, probes a listener by connecting to it (a probe
# would be a milter session), lets Sendmail or its clients near a non-loopback network, or
# leaves a process running (e2e_cleanup, installed with trap, stops everything it started).
#
# Sourced; the caller sets nothing except optionally E2E_KEEP=1 (keep the state directory).

E2E_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$E2E_HERE/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
MILTER_BIN=${TLSPOLICY_MILTER:-$top_builddir/milter/milter-tlspolicy}

# ------------------------------------------------------------------ TAP

TAP_N=0
TAP_FAILED=0

diag() {
    local a l
    for a in "$@"; do while IFS= read -r l; do printf '# %s\n' "$l"; done <<<"$a"; done
}
# Show a file to the reader of the log, prefixed so TAP ignores it.
diag_file() { [ -f "$1" ] && sed -e 's/^/#   /' -e 's/\r$//' "$1" | head -"${2:-40}"; }

_tap_line() {   # STATUS(0=ok) DESCRIPTION [DIRECTIVE]
    TAP_N=$((TAP_N + 1))
    local d=${2//#/\\#}
    if [ "$1" -eq 0 ]; then
        printf 'ok %d - %s%s\n' "$TAP_N" "$d" "${3:+ # $3}"
    else
        printf 'not ok %d - %s\n' "$TAP_N" "$d"
        TAP_FAILED=$((TAP_FAILED + 1))
    fi
}
# ok DESCRIPTION COMMAND...  -- passes when the command succeeds
ok() { local d=$1; shift; if "$@"; then _tap_line 0 "$d"; else _tap_line 1 "$d"; return 1; fi; }
# is GOT WANT DESCRIPTION
is() {
    if [ "$1" = "$2" ]; then _tap_line 0 "$3"; return 0; fi
    _tap_line 1 "$3"; diag "got:  '$1'" "want: '$2'"; return 1
}
# like GOT EXTENDED-REGEX DESCRIPTION
like() {
    if printf '%s' "$1" | grep -Eq -- "$2"; then _tap_line 0 "$3"; return 0; fi
    _tap_line 1 "$3"; diag "got:  '$1'" "want: match /$2/"; return 1
}
unlike() {
    if ! printf '%s' "$1" | grep -Eq -- "$2"; then _tap_line 0 "$3"; return 0; fi
    _tap_line 1 "$3"; diag "got:  '$1'" "want: no match /$2/"; return 1
}
skip() { _tap_line 0 "$1" "SKIP $2"; }
not() { ! "$@"; }
# The plan comes last: the number of assertions depends on what the rig could run.
tap_done() {
    printf '1..%d\n' "$TAP_N"
    [ "$TAP_FAILED" -eq 0 ]
}
skip_all() { printf '1..0 # SKIP %s\n' "$1"; exit 0; }
bail_out() { printf 'Bail out! %s\n' "$1"; exit 1; }

# ------------------------------------------------------------------ small helpers

# wait_for SECONDS COMMAND... -- poll every 50 ms; status of the last try
wait_for() {
    local limit=$1 i; shift
    for ((i = 0; i < limit * 20; i++)); do "$@" && return 0; sleep 0.05; done
    "$@"
}
# alive PID: exists and is not a zombie (a daemonised master can stay a zombie for a
# while before PID 1 reaps it; that counts as stopped)
alive() {
    local st
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ -n "$st" ] && [ "$st" != Z ]
}
# stop_pid PID [GRACE_SECONDS]: TERM, then KILL after the grace period (libmilter needs
# about 5 s to stop after it served a session: we do not wait for that)
stop_pid() {
    local pid=$1 grace=${2:-1} i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < grace * 20; i++)); do alive "$pid" || break; sleep 0.05; done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}
lines() { if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }
# A TCP port no socket of this namespace uses, below Linux's ephemeral range (32768+)
# so that no outgoing connection can take it between the choice and the bind.
free_port() {
    local p i used
    used=$(ss -Htan 2>/dev/null | awk '{print $4}' | sed 's/.*://' | sort -u)
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 12000))
        grep -qx "$p" <<<"$used" || { echo "$p"; return 0; }
    done
    return 1
}
listening() {   # PORT [NETNS-PID]
    if [ -n "${2:-}" ]; then
        nsenter --net="/proc/$2/ns/net" ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
    else
        ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
    fi
}

# ------------------------------------------------------------------ state directory

E2E_MILTER_PID=""
E2E_PF_DIRS=()
E2E_SM_DIRS=()
E2E_BG_PIDS=()

# e2e_init NAME: state directory $T (mode 755: the postfix user must reach the queue, the
# sink and the milter socket through it) and the cleanup trap.
e2e_init() {
    T=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-$1.XXXXXX") || bail_out "mktemp failed"
    chmod 755 "$T"
    OUT=$T/out
    mkdir -p "$OUT"
    trap e2e_cleanup EXIT
    trap 'exit 130' INT TERM HUP
}
e2e_cleanup() {
    local d p
    for p in "${E2E_BG_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    for d in "${E2E_SM_DIRS[@]}"; do sm_stop "$d"; done
    for d in "${E2E_PF_DIRS[@]}"; do pf_stop "$d"; done
    milter_stop
    if [ "${E2E_KEEP:-0}" = 1 ]; then
        echo "# state kept in $T" >&2
    elif [ -n "${T:-}" ] && [ -d "$T" ]; then
        rm -rf "$T"
    fi
}

# tls_client_problem: nothing when swaks can do STARTTLS (with client certificates);
# otherwise one line saying what is missing and which package brings it. Without
# Net::SSLeay swaks refuses every --tls session before it sends a byte, so "swaks is
# installed" proves nothing, and every TLS case would fail for a reason that is not ours.
tls_client_problem() {
    local support why
    if ! command -v swaks >/dev/null; then
        echo "swaks is not installed (apt-get install swaks libnet-ssleay-perl)"
        return
    fi
    support=$(swaks --support 2>&1)
    grep -q '^=== TLS supported' <<<"$support" && return
    why=$(sed -n 's/^\*\*\* TLS not available: //p' <<<"$support" | head -1)
    echo "swaks cannot do STARTTLS: ${why:-swaks --support does not list TLS} (apt-get install libnet-ssleay-perl)"
}

# Missing prerequisites skip the whole suite with the reason (not a failure: a developer
# without root or Postfix can still run make check). Once the rig can run, a client that
# cannot do TLS is a failure (a TAP "Bail out!"), never a skip.
e2e_require_common() {
    [ "$(id -u)" = 0 ] || skip_all "needs root (private Postfix/Sendmail instances, -u postfix)"
    getent passwd postfix >/dev/null || skip_all "no postfix user (apt-get install postfix)"
    local why
    why=$(tls_client_problem)
    [ -z "$why" ] || bail_out "$why"
    command -v openssl >/dev/null || skip_all "openssl not installed"
    command -v ss >/dev/null || skip_all "ss not installed (iproute2)"
    command -v perl >/dev/null || skip_all "perl not installed"
    [ -x "$MILTER_BIN" ] || skip_all "milter-tlspolicy not built ($MILTER_BIN)"
}

# e2e_pki: a private copy of the test PKI in $T/pki (generated when TLSPOLICY_TEST_PKI is
# not given). A copy, because the postfix user must read it and the build tree may not be
# reachable for it.
e2e_pki() {
    P=$T/pki
    if [ -n "${TLSPOLICY_TEST_PKI:-}" ] && [ -f "$TLSPOLICY_TEST_PKI/server.chain.pem" ]; then
        cp -R "$TLSPOLICY_TEST_PKI" "$P" || bail_out "cannot copy $TLSPOLICY_TEST_PKI"
    else
        sh "$top_srcdir/tests/pki/mkpki.sh" "$P" >"$T/mkpki.log" 2>&1 ||
            { diag_file "$T/mkpki.log"; bail_out "tests/pki/mkpki.sh failed"; }
    fi
    local f
    for f in server.key server.chain.pem roots+ints.pem ints.pem trust.pem partner-a.crt; do
        [ -f "$P/$f" ] || bail_out "test PKI has no $f"
    done
    chmod -R a+rX "$P"
}

# ------------------------------------------------------------------ milter-tlspolicy

# milter_start CONFIG: run the daemon in the foreground (-f) as user postfix on a unix
# socket in $T/milter; its stderr (the syslog lines, via -f) goes to $MILTER_LOG.
# MILTER_ARGS (an array, default empty) adds options (-d, -v).
MILTER_ARGS=()
milter_start() {
    local conf=$1
    MILTER_DIR=$T/milter
    MILTER_SOCK=$MILTER_DIR/milter.sock
    MILTER_LOG=$MILTER_DIR/milter.log
    mkdir -p "$MILTER_DIR"
    chown postfix:postfix "$MILTER_DIR"
    chmod 755 "$MILTER_DIR"
    rm -f "$MILTER_SOCK"
    "$MILTER_BIN" -f -c "$conf" -p "unix:$MILTER_SOCK" -u postfix \
        -P "$MILTER_DIR/milter.pid" "${MILTER_ARGS[@]}" >>"$MILTER_LOG" 2>&1 &
    E2E_MILTER_PID=$!
    milter_wait_socket
}

# milter_wait_socket: wait (at most 10 s) until the daemon started as E2E_MILTER_PID
# creates MILTER_SOCK; on failure show its log. Used by milter_start and tests/faults.
milter_wait_socket() {
    local i
    for ((i = 0; i < 200; i++)); do
        [ -S "$MILTER_SOCK" ] && return 0
        alive "$E2E_MILTER_PID" || break
        sleep 0.05
    done
    diag "milter-tlspolicy did not create $MILTER_SOCK:"
    diag_file "$MILTER_LOG"
    return 1
}
milter_stop() {
    stop_pid "$E2E_MILTER_PID" 1
    E2E_MILTER_PID=""
}
# milter_reload: SIGUSR1, then wait (bounded) for the daemon to say it reloaded.
milter_reload() {
    local n0
    n0=$(grep -c 'reload' "$MILTER_LOG" 2>/dev/null)
    kill -USR1 "$E2E_MILTER_PID" || return 1
    wait_for 5 eval "[ \"\$(grep -c reload \"\$MILTER_LOG\")\" -gt ${n0:-0} ]"
}

# A mark before each session, so that what the session logged can be cut out afterwards.
mark() { MARK_LOG=$(lines "$MILTER_LOG"); MARK_JSON=$(lines "$JSON_LOG"); }
log_since_mark() { tail -n +"$((MARK_LOG + 1))" "$MILTER_LOG" 2>/dev/null; }
log_has() { log_since_mark | grep -Eq -- "$1"; }
json_since_mark() { tail -n +"$((MARK_JSON + 1))" "$JSON_LOG" 2>/dev/null; }
# wait until the session's JSON line(s) are written (the daemon writes at end of message
# or when the connection closes)
wait_json() { wait_for "${2:-5}" eval "[ \"\$(lines \"\$JSON_LOG\")\" -ge $((MARK_JSON + $1)) ]"; }

# json_get FIELD [N]: a top-level field of the N-th (default 1st) JSON line since the mark;
# arrays are joined with ",". Parsed with perl's core JSON::PP, not matched as text.
json_get() {
    json_since_mark | perl -MJSON::PP -e '
        my ($field, $n) = @ARGV; my $i = 0;
        while (my $l = <STDIN>) {
            next unless ++$i == $n;
            my $o = eval { JSON::PP->new->decode($l) };
            if (!$o) { print "<invalid JSON>"; exit 0 }
            my $v = $o->{$field};
            $v = join(",", map { ref $_ ? JSON::PP->new->canonical->encode($_) : $_ } @$v)
                if ref $v eq "ARRAY";
            $v = JSON::PP->new->canonical->encode($v) if ref $v;
            print exists $o->{$field} ? (defined $v ? $v : "null") : "<absent>"; exit 0;
        }
        print "<no line>";' "$1" "${2:-1}"
}
# json_rcpt RCPT FIELD: a field of one recipient's entry in the "recipients" array.
json_rcpt() {
    json_since_mark | perl -MJSON::PP -e '
        my ($rcpt, $field) = @ARGV;
        while (my $l = <STDIN>) {
            my $o = eval { JSON::PP->new->decode($l) } or next;
            for my $r (@{ $o->{recipients} || [] }) {
                next unless lc($r->{rcpt} // "") eq lc($rcpt);
                my $v = $r->{$field};
                $v = join(",", @$v) if ref $v eq "ARRAY";
                print defined $v ? $v : "<absent>"; exit 0;
            }
        }
        print "<no entry>";' "$1" "$2"
}
json_valid() { json_since_mark | perl -MJSON::PP -ne 'JSON::PP->new->decode($_); END {}' 2>/dev/null; }

# ------------------------------------------------------------------ SMTP clients

# smtp NAME SWAKS-ARGS...: one swaks session against $SMTP_PORT (run through the
# $SMTP_WRAP command prefix: nsenter for Sendmail's namespace). Transcript: $OUT/NAME.txt.
SMTP_WRAP=()
smtp() {
    local name=$1; shift
    "${SMTP_WRAP[@]}" swaks --server 127.0.0.1 --port "$SMTP_PORT" --helo client.e2e.test \
        --timeout 20 --h-Subject "e2e $name" "$@" >"$OUT/$name.txt" 2>&1
    SMTP_RC=$?      # swaks exits non-zero on any refusal: the replies are what is checked
    export SMTP_RC
    return 0
}
# reply NAME 'RCPT TO:<x@y>': the server's (last) reply line to the first client line that
# contains the text, without swaks' direction marker: "550 5.7.1 ...".
reply() {
    awk -v want="$2" '
        found && /^ *<[-~*]/ { sub(/^ *<[-~*]+ */, ""); last = $0; next }
        found && last != "" { print last; exit }
        /^ *[-~]> / && index($0, want) { found = 1; last = "" }
        END { if (found && last != "") print last }' "$OUT/$1.txt" | head -1 | tr -d '\r'
}
code() { reply "$@" | cut -c1-3; }
# qid NAME: the queue id from the reply to the end of DATA (Postfix and Sendmail styles)
qid() {
    sed -n -e 's/.*250 2\.0\.0 Ok: queued as \([0-9A-Za-z]*\).*/\1/p' \
        -e 's/.*250 2\.0\.0 \([0-9A-Za-z]*\) Message accepted.*/\1/p' "$OUT/$1.txt" | head -1
}
# Certificate arguments: leaf with the intermediate (OpenSSL builds the chain from
# --tls-ca-path: swaks itself loads only the first certificate of the file) or leaf only.
cert_chain() { printf '%s\n' --tls-cert "$P/$1.crt" --tls-key "$P/$1.key" --tls-ca-path "$P/ints.pem"; }
cert_leaf() { printf '%s\n' --tls-cert "$P/$1.crt" --tls-key "$P/$1.key"; }

# held_session NAME FROM RCPT GATE: see held-session.sh; transcript in $OUT/NAME.txt
held_session() {
    "${SMTP_WRAP[@]}" bash "$E2E_HERE/held-session.sh" "$SMTP_PORT" "$@" >"$OUT/$1.txt" 2>&1
}

# ------------------------------------------------------------------ private Postfix

# pf_start DIR PORT MILTER-SOCKET [param=value...]: a throw-away Postfix with its own
# config, queue and data directories; smtpd on 127.0.0.1:PORT only, no chroot, delivery
# with pipe(8) into DIR/sink/QUEUEID.RECIPIENT (one file per recipient, so a refused
# recipient visibly gets nothing).
pf_start() {
    local dir=$1 port=$2 milter=$3 kv i; shift 3
    local etc=$dir/etc
    mkdir -p "$etc" "$dir/spool" "$dir/data" "$dir/log" "$dir/sink"
    chmod 755 "$dir"
    chmod 1777 "$dir/sink"
    chown postfix:postfix "$dir/data" "$dir/log"
    cat >"$etc/main.cf" <<EOF
# private instance of the milter-tlspolicy end-to-end tests
compatibility_level = 3.6
queue_directory = $dir/spool
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = tlspolicy-e2e
maillog_file = $dir/log/maillog
maillog_file_prefixes = $dir/log
myhostname = mx.local.test
mydomain = local.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
smtpd_relay_restrictions = permit_mynetworks, reject
default_transport = sink
relay_transport = sink
local_transport = sink
sink_destination_recipient_limit = 1
bounce_queue_lifetime = 0
delay_warning_time = 0
smtpd_tls_security_level = may
smtpd_tls_chain_files = $P/server.key, $P/server.chain.pem
smtpd_tls_ask_ccert = yes
smtpd_tls_CAfile = $P/roots+ints.pem
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_tls_session_cache_database =
smtp_tls_security_level = none
smtpd_milters = unix:$milter
non_smtpd_milters =
milter_default_action = tempfail
milter_protocol = 6
EOF
    # Every Postfix program sleeps ~2 s when main.cf/master.cf changed within the last
    # second or two (a guard against reading a file that is being written): backdate them.
    touch -d '-10 seconds' "$etc/main.cf"
    for kv in "$@"; do
        postconf -c "$etc" -e "$kv" || return 1
        touch -d '-10 seconds' "$etc/main.cf"
    done
    # no smtp(8)/local(8): nothing can be delivered anywhere but the sink
    cat >"$etc/master.cf" <<EOF
127.0.0.1:$port inet n - n - - smtpd
pickup     unix  n - n 60    1 pickup
cleanup    unix  n - n -     0 cleanup
qmgr       unix  n - n 300   1 qmgr
tlsmgr     unix  - - n 1000? 1 tlsmgr
rewrite    unix  - - n -     - trivial-rewrite
bounce     unix  - - n -     0 bounce
defer      unix  - - n -     0 bounce
trace      unix  - - n -     0 bounce
verify     unix  - - n -     1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -     - proxymap
proxywrite unix  - - n -     1 proxymap
showq      unix  n - n -     - showq
error      unix  - - n -     - error
retry      unix  - - n -     - error
discard    unix  - - n -     - discard
anvil      unix  - - n -     1 anvil
scache     unix  - - n -     1 scache
postlog    unix-dgram n - n - 1 postlogd
sink       unix  - n n -     - pipe
  user=nobody argv=/usr/bin/tee $dir/sink/\${queue_id}.\${recipient}
EOF
    # PF_SMTPS_PORT: also an implicit-TLS (465-style) listener, where the TLS macros exist
    # from the connect stage on and there is only one HELO
    if [ -n "${PF_SMTPS_PORT:-}" ]; then
        printf '127.0.0.1:%s inet n - n - - smtpd\n  -o smtpd_tls_wrappermode=yes\n' \
            "$PF_SMTPS_PORT" >>"$etc/master.cf"
    fi
    touch -d '-10 seconds' "$etc/main.cf" "$etc/master.cf"
    E2E_PF_DIRS+=("$dir")
    # "postfix check" creates the queue directories with their owners; quick-start then
    # lets "postfix start" skip its slow checks.
    postfix -c "$etc" check >"$dir/log/check.log" 2>&1 || { diag_file "$dir/log/check.log"; return 1; }
    touch "$dir/spool/quick-start"
    postfix -c "$etc" start >"$dir/log/start.log" 2>&1 ||
        { diag_file "$dir/log/start.log"; diag_file "$dir/log/maillog"; return 1; }
    # master -w returns once it listens; confirm without connecting
    wait_for 5 listening "$port" || { diag "postfix is not listening on $port"; return 1; }
    if [ -n "${PF_SMTPS_PORT:-}" ]; then
        wait_for 5 listening "$PF_SMTPS_PORT" || { diag "postfix is not listening on $PF_SMTPS_PORT"; return 1; }
    fi
}
pf_stop() {
    local dir=$1 pidf=$1/spool/pid/master.pid pid
    [ -f "$pidf" ] || return 0
    pid=$(head -1 "$pidf" | tr -d ' ')
    # what "postfix abort" does, without postfix-script's one-second polling
    if [ -n "$pid" ] && alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null
        wait_for 5 eval "! alive $pid" || { kill -KILL -- "-$pid" 2>/dev/null; kill -KILL "$pid" 2>/dev/null; }
    fi
    rm -f "$pidf"
}
# pf_delivered DIR QID RCPT: the delivered copy's path (waits up to 10 s for delivery)
pf_copy() { printf '%s/sink/%s.%s' "$1" "$2" "$3"; }
pf_wait_delivery() { [ -n "$2" ] && wait_for 10 test -s "$(pf_copy "$@")"; }

# headers FILE NAME: the unfolded values of every header NAME (any case) in the header
# block of a message file, one per line.
headers() {
    awk -v want="$2" '
        /^\r?$/ { flush(); exit }
        /^[ \t]/ { if (cur != "") { v = $0; sub(/^[ \t]+/, " ", v); val = val v }; next }
        { flush(); n = index($0, ":"); name = tolower(substr($0, 1, n - 1))
          if (name == tolower(want)) { cur = name; val = substr($0, n + 1); sub(/^ /, "", val) } }
        function flush() { if (cur != "") { sub(/\r$/, "", val); print val }; cur = ""; val = "" }
        END { flush() }' "$1"
}

# ------------------------------------------------------------------ private Sendmail 8.17

# sm_fetch DIR: Debian's sendmail-bin/-cf/-base unpacked (dpkg -x, not installed) into
# DIR/root. The .debs are cached in $TLSPOLICY_SENDMAIL_DEBS (default: the build tree) so
# only the first run downloads them. Returns 1 with a reason on stdout when impossible.
SM_DEB_CACHE=${TLSPOLICY_SENDMAIL_DEBS:-$top_builddir/tests/e2e/sendmail-debs}
sm_fetch() {
    local dir=$1 f
    command -v m4 >/dev/null || { echo "m4 not installed (apt-get install m4)"; return 1; }
    command -v dpkg >/dev/null || { echo "no dpkg: the Sendmail rig unpacks Debian packages"; return 1; }
    if ! command -v unshare >/dev/null || ! command -v nsenter >/dev/null; then
        echo "unshare/nsenter missing (util-linux)"; return 1
    fi
    unshare --net --uts --mount true 2>/dev/null ||
        { echo "cannot create a network namespace here (unshare --net)"; return 1; }
    if ! ls "$SM_DEB_CACHE"/sendmail-bin_*.deb >/dev/null 2>&1; then
        mkdir -p "$SM_DEB_CACHE"
        (cd "$SM_DEB_CACHE" && timeout 120 apt-get download sendmail-bin sendmail-cf sendmail-base) \
            >"$dir.fetch.log" 2>&1 ||
            { echo "apt-get download sendmail-bin sendmail-cf sendmail-base failed (offline?)"; return 1; }
    fi
    mkdir -p "$dir/root"
    for f in "$SM_DEB_CACHE"/sendmail-bin_*.deb "$SM_DEB_CACHE"/sendmail-cf_*.deb "$SM_DEB_CACHE"/sendmail-base_*.deb; do
        dpkg -x "$f" "$dir/root" || { echo "dpkg -x $f failed"; return 1; }
    done
    SM_BIN=$dir/root/usr/libexec/sendmail/sendmail
    [ -x "$SM_BIN" ] || { echo "no sendmail binary in the package"; return 1; }
    # Only ldd: the binary itself must never run outside the namespace (see sm_start).
    if ldd "$SM_BIN" | grep -q 'not found'; then
        echo "sendmail needs libraries that are missing: $(ldd "$SM_BIN" | awk '/not found/{print $1}' | tr '\n' ' ')(sendmail-bin depends on: $(dpkg-deb -f "$SM_DEB_CACHE"/sendmail-bin_*.deb Depends | tr -d '\n'))"
        return 1
    fi
    # shellcheck disable=SC2034  # read by the suites
    SM_VERSION=$(dpkg-deb -f "$SM_DEB_CACHE"/sendmail-bin_*.deb Version)
}

# sm_start DIR PORT MILTER-SOCKET: Sendmail with STARTTLS and INPUT_MAIL_FILTER on
# (SM_MC_EXTRA: more .mc lines, e.g. the certificate fingerprint algorithm;
# SM_HOSTS_EXTRA: more lines for its private /etc/hosts)
# 127.0.0.1:PORT, Sendmail's DEFAULT milter macro lists (no confMILTER_MACROS_*: the
# daemon's own smfi_setsymlist requests are what is tested), queue-only delivery.
# Isolation: sendmail canonicalises its host name before it reads its .cf, through
# nsswitch "files dns" (a DNS query to the system resolver, then a 60 s sleep). So it
# runs in its own network, UTS and mount namespaces: only loopback exists, the host name
# is mx.local.test and /etc/hosts is a private bind mount. Clients use sm_exec.
sm_start() {
    local dir=$1 port=$2 milter=$3 cf=$1/root/usr/share/sendmail/cf
    mkdir -p "$dir/mqueue" "$dir/tls/certs"
    chmod 755 "$dir"
    chmod 700 "$dir/mqueue"
    cp "$P/server.key" "$dir/tls/server.key"
    chmod 600 "$dir/tls/server.key"     # sendmail refuses a readable private key
    cp "$P/server.chain.pem" "$P/roots+ints.pem" "$dir/tls/"
    awk -v d="$dir/tls/certs" '/BEGIN CERT/{n++} {print > (d "/ca" n ".pem")}' "$P/roots+ints.pem"
    openssl rehash "$dir/tls/certs" >/dev/null 2>&1
    printf 'hosts files\naliases files\n' >"$dir/service.switch"
    printf '127.0.0.1 mx.local.test mx localhost\n::1 localhost\n%s' "${SM_HOSTS_EXTRA:-}" >"$dir/hosts"
    : >"$dir/statistics"
    cat >"$dir/sendmail.mc" <<EOF
divert(-1)
# private instance of the milter-tlspolicy end-to-end tests
divert(0)dnl
VERSIONID(\`tlspolicy-e2e')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx.local.test')dnl
define(\`QUEUE_DIR', \`$dir/mqueue')dnl
define(\`confPID_FILE', \`$dir/sendmail.pid')dnl
define(\`STATUS_FILE', \`$dir/statistics')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`HELP_FILE', \`')dnl
define(\`confSERVICE_SWITCH_FILE', \`$dir/service.switch')dnl
define(\`confHOSTS_FILE', \`/etc/hosts')dnl
define(\`confDELIVERY_MODE', \`queueonly')dnl
define(\`confTO_IDENT', \`0s')dnl
define(\`confDONT_PROBE_INTERFACES', \`true')dnl
define(\`confBIND_OPTS', \`-DNSRCH -DEFNAMES')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit,GroupWritableDirPathSafe,GroupReadableKeyFile')dnl
define(\`confCACERT_PATH', \`$dir/tls/certs')dnl
define(\`confCACERT', \`$dir/tls/roots+ints.pem')dnl
define(\`confSERVER_CERT', \`$dir/tls/server.chain.pem')dnl
define(\`confSERVER_KEY', \`$dir/tls/server.key')dnl
dnl like Debian's Postfix, accept the TLS 1.0 clients a real MTA meets, so that the
dnl milter's own min_version rule is what refuses them
define(\`confCIPHER_LIST', \`DEFAULT:@SECLEVEL=0')dnl
dnl Sendmail stops listening above RefuseLA (12 x CPUs) and queues instead of
dnl delivering above QueueLA; a busy test machine (make -j2 check runs 200-session
dnl fault tests beside this suite) passes that easily. The rig must not throttle.
define(\`confQUEUE_LA', \`100000')dnl
define(\`confREFUSE_LA', \`100000')dnl
define(\`confDELAY_LA', \`0')dnl
${SM_MC_EXTRA:-}
INPUT_MAIL_FILTER(\`tlspolicy', \`S=unix:$milter, F=T, T=C:10s;S:20s;R:20s;E:1m')dnl
DAEMON_OPTIONS(\`Port=$port, Addr=127.0.0.1, Name=MTA-e2e')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`promiscuous_relay')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`accept_unqualified_senders')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
    m4 -I "$cf" "$cf/m4/cf.m4" "$dir/sendmail.mc" >"$dir/sendmail.cf" 2>"$dir/m4.err" ||
        { diag_file "$dir/m4.err"; return 1; }
    chmod 644 "$dir/sendmail.cf"
    # unshare without --fork execs, so $! is sendmail itself (-bD: foreground daemon);
    # the inner script's $1/$2 are its own arguments
    # shellcheck disable=SC2016
    unshare --net --uts --mount sh -c '
        mount --bind "$1/hosts" /etc/hosts && ip link set lo up && hostname mx.local.test &&
        exec "$2" -C "$1/sendmail.cf" -bD -L sm-e2e' sh "$dir" "$SM_BIN" >"$dir/sendmail.out" 2>&1 &
    SM_PID=$!
    echo "$SM_PID" >"$dir/e2e.pid"
    E2E_SM_DIRS+=("$dir")
    local i
    for ((i = 0; i < 200; i++)); do
        listening "$port" "$SM_PID" && return 0
        alive "$SM_PID" || break
        sleep 0.05
    done
    diag "sendmail is not listening on $port:"
    diag_file "$dir/sendmail.out"
    return 1
}
sm_stop() {
    [ -f "$1/e2e.pid" ] || return 0
    stop_pid "$(cat "$1/e2e.pid")" 3
    rm -f "$1/e2e.pid"
}
# sm_qf DIR QID: the queued control file (headers and recipients) of an accepted message
sm_qf() { printf '%s/mqueue/qf%s' "$1" "$2"; }
# sm_headers QF NAME: unfolded values of header NAME in a qf file ("H??Name: value",
# continuation lines start with a tab), one per line.
sm_headers() {
    awk -v want="$2" '
        function flush() { if (cur) print val; cur = 0; val = "" }
        /^H/ { flush(); h = $0; sub(/^H(\?[^?]*\?)?/, "", h); n = index(h, ":")
               if (tolower(substr(h, 1, n - 1)) == tolower(want)) { cur = 1; val = substr(h, n + 1); sub(/^ /, "", val) }
               next }
        /^[ \t]/ { if (cur) { v = $0; sub(/^[ \t]+/, " ", v); val = val v }; next }
        { flush() }
        END { flush() }' "$1"
}
# sm_rcpts QF: the envelope recipients queued, one per line, lower case
sm_rcpts() { sed -n 's/^R[^:]*:<\{0,1\}\([^>]*\)>\{0,1\}$/\1/p' "$1" | awk '{ print tolower($0) }'; }
