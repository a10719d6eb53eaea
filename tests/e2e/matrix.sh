# shellcheck shell=bash
# tests/e2e/matrix.sh -- the scenario matrix run through each real MTA (postfix.sh,
# sendmail.sh): one swaks session per scenario, then what the client saw, what was
# delivered (or queued) per recipient, the posture header, the log line and the JSON line.
# Owns: the scenarios and their expectations. Never: starts or stops anything itself; the
# MTA suite provides copy_headers/has_copy/copy_wait and the running rig.
#
# The MTA suite defines, before run_matrix:
#   MILTER_DIR, JSON_LOG      where the daemon's files are (milter_start's directory)
#   has_copy QID RCPT         a copy for RCPT exists (delivered or queued) now
#   copy_wait QID RCPT        wait (bounded) until it exists
#   copy_headers QID RCPT H   the values of header H in that copy, one per line

# e2e_policy OUT [reloaded]: the connectors file, with the PKI and state paths filled in.
e2e_policy() {
    local sedx=(-e "s|@PKI@|$P|g" -e "s|@STATE@|$MILTER_DIR|g")
    [ "${2:-}" = reloaded ] && sedx+=(-e 's/on_fail: tag # reload-target/on_fail: reject # reloaded/')
    sed "${sedx[@]}" "$E2E_HERE/connectors.yaml.in" >"$1"
    chmod 644 "$1"
}

# ------------------------------------------------------------------ verdict checks

# accepted NAME RCPT VERDICT CONNECTOR ACTION [HEADER-ERE...]: the recipient was taken,
# one copy was delivered with exactly one posture header saying VERDICT/CONNECTOR/ACTION
# and matching every extra ERE.
accepted() {
    local name=$1 rcpt=$2 verdict=$3 conn=$4 action=$5 q h; shift 5
    is "$(code "$name" "RCPT TO:<$rcpt>")" 250 "$name: RCPT TO:<$rcpt> accepted"
    q=$(qid "$name")
    if ! ok "$name: message accepted at end of DATA (queue id ${q:-none})" test -n "$q"; then
        diag_file "$OUT/$name.txt" 60
    fi
    copy_wait "$q" "$rcpt"
    ok "$name: a copy for <$rcpt> was delivered" has_copy "$q" "$rcpt"
    h=$(copy_headers "$q" "$rcpt" X-TLS-Policy)
    is "$(grep -c . <<<"$h")" 1 "$name: exactly one X-TLS-Policy header"
    like "$h" "^$verdict \(connector=$conn;" "$name: header says $verdict, connector=$conn"
    like "$h" "action=${action}[;)]" "$name: header says action=$action"
    local re
    for re in "$@"; do like "$h" "$re" "$name: header has /$re/"; done
}
# refused NAME RCPT REPLY-ERE: the recipient got REPLY-ERE at RCPT and nothing reached it.
refused() {
    local name=$1 rcpt=$2 want=$3 r q
    r=$(reply "$name" "RCPT TO:<$rcpt>")
    r=${r/"<$rcpt>... "/}     # Sendmail puts the address before the milter's text
    if ! like "$r" "$want" "$name: RCPT TO:<$rcpt> refused"; then diag_file "$OUT/$name.txt" 60; fi
    q=$(qid "$name")
    if [ -z "$q" ]; then
        ok "$name: nothing queued for <$rcpt>" true
    else
        ok "$name: nothing delivered to <$rcpt> (queue id $q)" not has_copy "$q" "$rcpt"
    fi
}
# logged NAME ERE...: the daemon logged, for this session, a line matching every ERE
logged() {
    local name=$1 re all; shift
    all=$(log_since_mark)
    for re in "$@"; do
        if ! like "$all" "$re" "$name: milter log has /$re/"; then diag "$all"; fi
    done
}
# json NAME FIELD=VALUE...: the session wrote exactly one JSON line with these fields
json() {
    local name=$1 kv; shift
    wait_json 1
    is "$(json_since_mark | grep -c .)" 1 "$name: exactly one JSON posture line"
    ok "$name: the JSON line parses" json_valid
    for kv in "$@"; do is "$(json_get "${kv%%=*}")" "${kv#*=}" "$name: JSON ${kv%%=*} is ${kv#*=}"; done
}

# ------------------------------------------------------------------ the matrix

ORD=sender@example.org           # an ordinary sender no connector claims
PA=postmaster@partner-a.test
TO=rcpt@example.test

run_matrix() {
    local n

    n=plain-ordinary; mark
    smtp $n --from $ORD --to $TO
    accepted $n $TO none default accept
    unlike "$(copy_headers "$(qid $n)" $TO X-TLS-Policy)" "version=TLSv" "$n: header shows no TLS version"
    logged $n "connector=default" "verdict=none"
    json $n connector=default verdict=none action=accept

    n=plain-partner-a; mark
    smtp $n --from $PA --to $TO
    refused $n $TO '^550 5\.7\.1 TLS policy partner-a: '
    logged $n "refused rcpt=<$TO>.*connector=partner-a"

    n=tls-nocert-ordinary; mark
    smtp $n --from $ORD --to $TO --tls
    accepted $n $TO none default accept 'version=TLSv1\.3;' 'cipher=TLS_AES_256_GCM_SHA384;' \
        'bits=256;' 'fs=yes'
    json $n connector=default verdict=none

    n=tls-nocert-partner-a; mark
    smtp $n --from $PA --to $TO --tls
    refused $n $TO '^550 5\.7\.1 TLS policy partner-a: .*certificate'
    logged $n "refused rcpt=<$TO>.*connector=partner-a"

    n=verified-partner-a; mark
    # shellcheck disable=SC2046
    smtp $n --from $PA --to $TO --tls $(cert_chain partner-a)
    accepted $n $TO pass partner-a accept 'cert=mail\.partner-a\.test;' \
        'issuer="Test Issuing CA 1"' 'root="Test Root CA R1"' 'verified=yes' 'fs=yes'
    logged $n "connector=partner-a" "verdict=pass"
    json $n connector=partner-a verdict=pass action=accept

    n=verified-partner-a-ec; mark
    # shellcheck disable=SC2046
    smtp $n --from $PA --to $TO --tls $(cert_chain partner-a-ec)
    accepted $n $TO pass partner-a accept 'cert=mail\.partner-a\.test;'

    n=selfsigned-as-partner-a; mark
    # shellcheck disable=SC2046
    smtp $n --from $PA --to $TO --tls $(cert_leaf partner-c-selfsigned)
    refused $n $TO '^550 5\.7\.1 TLS policy partner-a: '
    logged $n "refused rcpt=<$TO>.*connector=partner-a"

    n=other-root-as-partner-a; mark
    # shellcheck disable=SC2046
    smtp $n --from $PA --to $TO --tls $(cert_chain partner-b)
    refused $n $TO '^550 5\.7\.1 TLS policy partner-a: '
    logged $n "refused rcpt=<$TO>.*connector=partner-a"

    n=expired-as-partner-a; mark
    # shellcheck disable=SC2046
    smtp $n --from $PA --to $TO --tls $(cert_chain expired)
    refused $n $TO '^550 5\.7\.1 TLS policy partner-a: '

    n=tls12-ecdhe-partner-a; mark
    # shellcheck disable=SC2046
    smtp $n --from $PA --to $TO --tls $(cert_chain partner-a) \
        --tls-protocol tlsv1_2 --tls-cipher ECDHE-RSA-AES256-GCM-SHA384
    accepted $n $TO pass partner-a accept 'version=TLSv1\.2;' \
        'cipher=ECDHE-RSA-AES256-GCM-SHA384;' 'fs=yes'

    n=tls12-rsa-kx-partner-a; mark
    # shellcheck disable=SC2046
    smtp $n --from $PA --to $TO --tls $(cert_chain partner-a) \
        --tls-protocol tlsv1_2 --tls-cipher AES256-GCM-SHA384
    refused $n $TO '^550 5\.7\.1 TLS policy partner-a: .*(forward|secrecy|fs)'
    logged $n "refused rcpt=<$TO>.*connector=partner-a"

    n=tls13-partner-a; mark
    # shellcheck disable=SC2046
    smtp $n --from $PA --to $TO --tls $(cert_chain partner-a) --tls-protocol tlsv1_3
    accepted $n $TO pass partner-a accept 'version=TLSv1\.3;'

    n=spoofed-partner-r; mark
    smtp $n --from billing@partner-r.test --to $TO --tls
    refused $n $TO '^550 5\.7\.1 '
    logged $n "refused rcpt=<$TO>"

    n=null-sender; mark
    smtp $n --from '<>' --to $TO --tls
    accepted $n $TO none default accept
    json $n connector=default

    n=forged-header; mark
    smtp $n --from $ORD --to $TO --tls \
        --add-header 'X-TLS-Policy: pass (connector=partner-a; forged=yes)' \
        --add-header 'x-tls-policy: pass (forged=again)'
    accepted $n $TO none default accept
    unlike "$(copy_headers "$(qid $n)" $TO X-TLS-Policy)" "forged" "$n: no forged header left"

    n=multi-rcpt; mark
    local fin=cfo@finance.example.test two=ops@example.test
    smtp $n --from $ORD --to "$TO,$fin,$two" --tls --tls-protocol tlsv1_2
    refused $n $fin '^550 5\.7\.1 finance\.example\.test accepts mail only over TLS 1\.3'
    accepted $n $TO none default accept 'version=TLSv1\.2;'
    accepted $n $two none default accept
    copy_wait "$(qid $n)" $two
    ok "$n: still nothing for <$fin> after the others were delivered" \
        not has_copy "$(qid $n)" "$fin"
    logged $n "refused rcpt=<$fin>.*connector=finance"
    json $n verdict=none
    is "$(json_rcpt $fin action)" reject "$n: JSON recipient <$fin> action is reject"
    is "$(json_rcpt $TO action)" accept "$n: JSON recipient <$TO> action is accept"

    n=monitor-partner-m; mark
    smtp $n --from news@partner-m.test --to $TO --tls
    accepted $n $TO fail partner-m reject 'mode=monitor'
    logged $n "connector=partner-m" "verdict=fail" "mode=monitor"
    json $n connector=partner-m verdict=fail action=reject mode=monitor

    run_reload
}

# A session opened before SIGUSR1 keeps the policy it started with; a new session gets
# the new one. The held session waits after MAIL FROM until the reload is done.
run_reload() {
    local n=reload-held gate=$OUT/reload.gate bg from=z@partner-z.test
    mark
    held_session $n $from $TO "$gate" &
    bg=$!
    E2E_BG_PIDS+=("$bg")
    wait_for 10 eval "grep -q 'MAIL FROM' '$OUT/$n.txt' && [ \"\$(grep -c '^ <- 250 ' '$OUT/$n.txt')\" -ge 2 ]"
    e2e_policy "$MILTER_DIR/connectors.yaml" reloaded
    ok "reload: SIGUSR1 acknowledged in the milter log" milter_reload

    local n2=reload-new-session
    mark
    smtp $n2 --from $from --to $TO
    refused $n2 $TO '^550 5\.7\.1 TLS policy partner-z: '

    mark
    touch "$gate"
    wait_for 30 not alive "$bg"
    wait "$bg" 2>/dev/null
    accepted $n $TO fail partner-z tag
    logged $n "connector=partner-z" "action=tag"
}
