# shellcheck shell=bash
# tests/e2e/matrix.sh -- the scenario matrix run through each real MTA (postfix.sh,
# sendmail.sh): one swaks session per scenario, then what the client saw, what was
# delivered (or queued) per recipient, the posture header, the log line and the JSON line.
# Owns: the scenarios and their expectations. Never: starts or stops anything itself; the
# MTA suite provides copy_headers/has_copy/copy_wait and the running rig.
#
# The MTA suite defines, before run_matrix:
#   MTA                       postfix | sendmail (the few expectations that differ)
#   MILTER_DIR, JSON_LOG      where the daemon's files are (milter_start's directory)
#   has_copy QID RCPT         a copy for RCPT exists (delivered or queued) now
#   copy_wait QID RCPT        wait (bounded) until it exists
#   copy_headers QID RCPT H   the values of header H in that copy, one per line
#   held QID                  the message is quarantined (Postfix hold queue, Sendmail qf q line)

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
    for re in "$@"; do
        # the line may still be on its way (it is written when the callback returns)
        wait_for 3 log_has "$re"
        all=$(log_since_mark)
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
    local n q

    n=plain-ordinary; mark
    smtp $n --from $ORD --to $TO
    accepted $n $TO none default accept 'version=none'
    logged $n "connector=default verdict=none action=accept"
    json $n connector=default verdict=none action=accept tls=null

    n=plain-partner-a; mark
    smtp $n --from $PA --to $TO
    refused $n $TO '^550 5\.7\.1 TLS policy partner-a: .*not encrypted'
    logged $n "refused rcpt=<$TO> connector=partner-a verdict=fail action=reject"

    n=tls-nocert-ordinary; mark
    smtp $n --from $ORD --to $TO --tls
    accepted $n $TO none default accept 'version=TLSv1\.3;' 'cipher=TLS_AES_256_GCM_SHA384;' \
        'bits=256;' 'fs=yes' 'verified=no'
    json $n connector=default verdict=none tls=TLSv1.3 bits=256 fs=yes

    n=tls-nocert-partner-a; mark
    smtp $n --from $PA --to $TO --tls
    refused $n $TO '^550 5\.7\.1 TLS policy partner-a: .*certificate'
    logged $n "refused rcpt=<$TO> connector=partner-a .*reason=\".*certificate"

    n=verified-partner-a; mark
    # shellcheck disable=SC2046
    smtp $n --from $PA --to $TO --tls $(cert_chain partner-a)
    accepted $n $TO pass partner-a accept 'cert=mail\.partner-a\.test;' \
        'issuer="Test Issuing CA 1"' 'root="Test Root CA R1"' 'verified=yes' 'fs=yes'
    unlike "$(copy_headers "$(qid $n)" $TO X-TLS-Policy)" 'reason=' "$n: no reason on a pass"
    logged $n "$(qid $n): connector=partner-a verdict=pass action=accept" 'root="Test Root CA R1"'
    json $n connector=partner-a verdict=pass action=accept cert=mail.partner-a.test \
        "issuer=Test Issuing CA 1" "root=Test Root CA R1" verified=yes "queue_id=$(qid $n)"

    n=verified-partner-a-ec; mark
    # shellcheck disable=SC2046
    smtp $n --from $PA --to $TO --tls $(cert_chain partner-a-ec)
    accepted $n $TO pass partner-a accept 'cert=mail\.partner-a\.test;' 'verified=yes'

    n=cross-signed-partner-x; mark
    # shellcheck disable=SC2046
    smtp $n --from postmaster@partner-x.test --to $TO --tls \
        --tls-cert "$P/partner-x.crt" --tls-key "$P/partner-x.key" --tls-ca-path "$P/partner-x.chain.pem"
    accepted $n $TO pass partner-x accept 'issuer="Test Cross CA"' 'root="Test Root CA R1, Test Root CA R2"'

    n=cross-signed-r2-only; mark
    # shellcheck disable=SC2046
    smtp $n --from postmaster@r2.partner-x.test --to $TO --tls \
        --tls-cert "$P/partner-x.crt" --tls-key "$P/partner-x.key" --tls-ca-path "$P/partner-x.chain.pem"
    refused $n $TO '^550 5\.7\.1 TLS policy partner-x-r2-only: .*Test Root CA R1, Test Root CA R2'

    n=selfsigned-as-partner-a; mark
    # shellcheck disable=SC2046
    smtp $n --from $PA --to $TO --tls $(cert_leaf partner-c-selfsigned)
    refused $n $TO '^550 5\.7\.1 TLS policy partner-a: '
    if [ "$MTA" = sendmail ]; then
        # {verify} is not in Sendmail's default macro lists: seeing it proves the daemon's
        # smfi_setsymlist request was honoured
        logged $n "refused rcpt=<$TO> connector=partner-a .*\{verify\}=FAIL"
    else
        # Postfix sends no certificate macros for an unverified certificate
        logged $n "refused rcpt=<$TO> connector=partner-a .*no verified client certificate"
    fi

    n=other-root-as-partner-a; mark
    # shellcheck disable=SC2046
    smtp $n --from $PA --to $TO --tls $(cert_chain partner-b)
    refused $n $TO '^550 5\.7\.1 TLS policy partner-a: '
    logged $n "refused rcpt=<$TO> connector=partner-a .*mail\.partner-b\.test.*Other Root CA"

    n=expired-as-partner-a; mark
    # shellcheck disable=SC2046
    smtp $n --from $PA --to $TO --tls $(cert_chain expired)
    refused $n $TO '^550 5\.7\.1 TLS policy partner-a: '
    logged $n "refused rcpt=<$TO> connector=partner-a"

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
    refused $n $TO '^550 5\.7\.1 TLS policy partner-a: .*forward secrecy'
    logged $n "refused rcpt=<$TO> connector=partner-a .*AES256-GCM-SHA384.*forward secrecy"

    # Debian's Postfix accepts TLS 1.0 from a client that offers it (doc/mta-facts.md: smtpd does not
    # apply the system's TLS 1.2 floor); the client needs a lowered OpenSSL level for it
    n=tls10-partner-a; mark
    # shellcheck disable=SC2046
    OPENSSL_CONF=$P/legacy-openssl.cnf smtp $n --from $PA --to $TO --tls $(cert_chain partner-a) \
        --tls-protocol tlsv1
    if grep -q '^=== TLS started with cipher TLSv1:' "$OUT/$n.txt"; then
        refused $n $TO '^550 5\.7\.1 TLS policy partner-a: .*TLSv1 is below the required TLSv1\.2'
    else
        skip "$n: refused for its TLS version" "this $MTA does not negotiate TLS 1.0 at all"
    fi

    n=tls13-partner-a; mark
    # shellcheck disable=SC2046
    smtp $n --from $PA --to $TO --tls $(cert_chain partner-a) --tls-protocol tlsv1_3
    accepted $n $TO pass partner-a accept 'version=TLSv1\.3;'

    n=spoofed-partner-r; mark
    smtp $n --from billing@partner-r.test --to $TO --tls
    refused $n $TO '^550 5\.7\.1 TLS policy partner-r: '
    logged $n "refused rcpt=<$TO> connector=partner-r .*restricted"

    # The finance connector comes first and its TLS 1.3 floor holds, but the
    # restricted sender domain belongs to partner-r alone.
    n=spoofed-partner-r-to-finance; mark
    smtp $n --from billing@partner-r.test --to cfo@finance.example.test --tls --tls-protocol tlsv1_3
    refused $n cfo@finance.example.test '^550 5\.7\.1 TLS policy partner-r: '
    logged $n "refused rcpt=<cfo@finance\.example\.test> connector=partner-r .*restricted"

    n=null-sender; mark
    smtp $n --from '<>' --to $TO --tls
    accepted $n $TO none default accept
    json $n connector=default from=

    n=forged-header; mark
    smtp $n --from $ORD --to $TO --tls \
        --add-header 'X-TLS-Policy: pass (connector=partner-a; forged=yes)' \
        --add-header 'x-tls-policy: pass (forged=again)' \
        --add-header 'Authentication-Results: MX.local.test; x-tls=pass (forged)' \
        --add-header 'Authentication-Results: elsewhere.example; spf=pass smtp.mailfrom=example.org'
    accepted $n $TO none default accept
    q=$(qid $n)
    unlike "$(copy_headers "$q" $TO X-TLS-Policy)" "forged" "$n: no forged header left"
    logged $n "removed 2 inbound X-TLS-Policy"
    like "$(copy_headers "$q" $TO Authentication-Results | grep -c '^mx\.local\.test; x-tls=none')" '^1$' \
        "$n: exactly one Authentication-Results of ours, saying x-tls=none"
    unlike "$(copy_headers "$q" $TO Authentication-Results)" "forged" \
        "$n: the forged Authentication-Results with our authserv-id is gone"
    like "$(copy_headers "$q" $TO Authentication-Results)" "^elsewhere\.example; spf=pass" \
        "$n: another host's Authentication-Results is kept"

    n=tempfail-partner-t; mark
    smtp $n --from sales@partner-t.test --to $TO
    refused $n $TO '^451 4\.7\.1 TLS policy partner-t: .*not encrypted'
    logged $n "refused rcpt=<$TO> connector=partner-t verdict=fail action=tempfail"

    n=quarantine-partner-q; mark
    smtp $n --from sales@partner-q.test --to $TO
    is "$(code $n "RCPT TO:<$TO>")" 250 "$n: RCPT TO:<$TO> accepted"
    q=$(qid $n)
    ok "$n: message accepted at end of DATA (queue id ${q:-none})" test -n "$q"
    ok "$n: the message is held by the MTA" wait_for 5 held "$q"
    sleep 0.3
    ok "$n: and not delivered" not has_copy "$q" $TO
    logged $n "$q: quarantined: " "connector=partner-q verdict=fail action=quarantine"
    json $n connector=partner-q action=quarantine

    # hostile certificate names reach the header and the logs escaped, never raw
    local c
    for c in odd crlf; do
        n=hostile-name-$c; mark
        # shellcheck disable=SC2046
        smtp $n --from $ORD --to $TO --tls $(cert_chain $c)
        accepted $n $TO none default accept
        q=$(qid $n)
        ok "$n: header is printable ASCII" not grep -q '[^ -~]' <<<"$(copy_headers "$q" $TO X-TLS-Policy)"
        is "$(copy_headers "$q" $TO X-Evil)$(copy_headers "$q" $TO Injected-O)" "" "$n: no injected header"
        ok "$n: log line is printable ASCII" not grep -q '[^ -~]' <<<"$(log_since_mark)"
        [ $c = odd ] && like "$(copy_headers "$q" $TO X-TLS-Policy)" \
            'cert="Odd \\"Quoted\\" Name, Inc\. \+ Partner'"'"'s Z\\xC3\\xBCrich <mx> a/b=c;d"' \
            "$n: quotes and UTF-8 escaped in the header"
        json $n connector=default
    done

    n=multi-rcpt; mark
    local fin=cfo@finance.example.test two=ops@example.test
    smtp $n --from $ORD --to "$TO,$fin,$two" --tls --tls-protocol tlsv1_2
    refused $n $fin '^550 5\.7\.1 finance\.example\.test accepts mail only over TLS 1\.3$'
    accepted $n $TO none default accept 'version=TLSv1\.2;'
    accepted $n $two none default accept
    copy_wait "$(qid $n)" $two
    ok "$n: still nothing for <$fin> after the others were delivered" \
        not has_copy "$(qid $n)" "$fin"
    logged $n "refused rcpt=<$fin> connector=finance .*TLSv1\.2 is below the required TLSv1\.3"
    json $n verdict=none rcpts=2
    is "$(json_rcpt $fin action)" reject "$n: JSON recipient <$fin> action is reject"
    is "$(json_rcpt $fin refused)" 1 "$n: JSON recipient <$fin> is marked refused"
    is "$(json_rcpt $TO action)" accept "$n: JSON recipient <$TO> action is accept"

    n=monitor-partner-m; mark
    smtp $n --from news@partner-m.test --to $TO --tls
    accepted $n $TO fail partner-m reject 'mode=monitor' 'reason="[^"]*certificate'
    logged $n "connector=partner-m verdict=fail action=reject mode=monitor"
    json $n connector=partner-m verdict=fail action=reject mode=monitor

    run_concurrent
    run_reload
}

# Eight sessions at once, verified partners and ordinary senders mixed: every one gets
# its own verdict, one header, and one whole JSON line (no interleaving in the log).
run_concurrent() {
    local i pids=() q n qs=() bad=0
    mark
    for i in 1 2 3 4 5 6 7 8; do
        if [ $((i % 2)) = 0 ]; then
            # shellcheck disable=SC2046
            smtp concurrent-$i --from $PA --to $TO --tls $(cert_chain partner-a) &
        else
            smtp concurrent-$i --from $ORD --to $TO --tls &
        fi
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i"; done
    for i in 1 2 3 4 5 6 7 8; do
        q=$(qid concurrent-$i)
        [ -n "$q" ] && qs+=("$q")
    done
    is "${#qs[@]}" 8 "concurrent: all 8 sessions were accepted"
    wait_json 8
    is "$(json_since_mark | grep -c .)" 8 "concurrent: 8 JSON lines"
    ok "concurrent: every JSON line parses" json_valid
    for i in 1 2 3 4 5 6 7 8; do
        q=$(qid concurrent-$i)
        n=$(json_since_mark | grep -c "\"queue_id\":\"$q\"")
        [ "$n" = 1 ] || { bad=$((bad + 1)); diag "concurrent-$i ($q): $n JSON lines"; }
        copy_wait "$q" $TO
        h=$(copy_headers "$q" $TO X-TLS-Policy)
        if [ $((i % 2)) = 0 ]; then want='^pass \(connector=partner-a;'; else want='^none \(connector=default;'; fi
        if [ "$(grep -c . <<<"$h")" != 1 ] || ! grep -Eq "$want" <<<"$h"; then
            bad=$((bad + 1)); diag "concurrent-$i ($q): header '$h', want /$want/"
        fi
    done
    is "$bad" 0 "concurrent: each message has one JSON line and one header with its own verdict"
}

# A session opened before SIGUSR1 keeps the policy it started with; a new session gets
# the new one. The held session waits after MAIL FROM until the reload is done.
run_reload() {
    local n=reload-held gate=$OUT/reload.gate bg from=z@partner-z.test
    mark
    held_session $n $from $TO "$gate" &
    bg=$!
    E2E_BG_PIDS+=("$bg")
    wait_for 10 eval "[ \"\$(grep -c '^ <- 250 ' '$OUT/$n.txt' 2>/dev/null)\" -ge 2 ]"
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
    accepted $n $TO fail partner-z tag 'reason="the session was not encrypted'
    logged $n "connector=partner-z verdict=fail action=tag"

    # a broken file is refused with its diagnostics, and the running policy stays
    n=reload-broken; mark
    printf 'version: 1\nconnectors:\n  - name: broken\n    on_fail: maybe\n' >"$MILTER_DIR/connectors.yaml"
    ok "$n: SIGUSR1 acknowledged in the milter log" milter_reload
    logged $n "reload of .*connectors\.yaml failed, keeping the previous policy" \
        "connectors\.yaml:[0-9]+:[0-9]+: error: "
    n=reload-broken-new-session; mark
    smtp $n --from $from --to $TO
    refused $n $TO '^550 5\.7\.1 TLS policy partner-z: '
}
