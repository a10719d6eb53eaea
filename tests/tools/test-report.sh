#!/bin/bash
# test-report.sh -- "tlspolicy report" against generated posture logs (several
# hosts, plain, gzip and truncated gzip files, malformed and huge lines, a future
# schema, link lines, unknown and hostile connector names). Every figure the
# report prints in JSON and CSV is compared with counts that python3 computes on
# its own from the same files (json and zlib modules, none of the C code).
# Then: the filters, stdin, escaping in every format, usage errors and paths that
# must be refused. TAP output.
set -u

TLSPOLICY=${TLSPOLICY:-${top_builddir:-.}/tools/tlspolicy}
SRCDIR=${top_srcdir:-.}

if ! command -v python3 >/dev/null 2>&1; then
    echo "1..0 # SKIP python3 is needed to count independently"
    exit 0
fi
if [ ! -x "$TLSPOLICY" ]; then
    echo "Bail out! $TLSPOLICY is not built"
    exit 1
fi
. "$SRCDIR/tests/tools/report-lib.sh"
report_logs test-report
LOGS=("$T/logs/mx1.jsonl" "$T/logs/mx2.jsonl.gz" "$T/logs/old.jsonl" "$T/logs/mx1.jsonl.1.gz")


# run NAME WANT_EXIT ARGS...: stdout to $T/NAME.out, stderr to $T/NAME.err.
run() {
    local name=$1 want=$2 rc
    shift 2
    "$TLSPOLICY" report "$@" >"$T/$name.out" 2>"$T/$name.err"
    rc=$?
    if [ "$rc" = "$want" ]; then
        ok 0 "$name: exit $rc"
    else
        ok 1 "$name: exit $rc, want $want"
        sed 's/^/# /' "$T/$name.err" | head -5
    fi
}

# compare NAME FORMAT [FILTER ARGS...]: python3 counts the logs and compares.
compare() {
    local name=$1 fmt=$2 out
    shift 2
    if out=$(python3 - "$fmt" "$T/$name.out" "$@" -- "${LOGS[@]}" <<'EOF' 2>&1
import calendar, csv, json, sys, time, zlib
fmt, out = sys.argv[1], sys.argv[2]
rest = sys.argv[3:]
sep = rest.index("--")
flt, files = rest[:sep], rest[sep + 1:]
opt = dict(zip(flt[0::2], flt[1::2]))

def when(s, until=False):
    if len(s) == 10:
        t = calendar.timegm(time.strptime(s, "%Y-%m-%d"))
        return t + 86400 if until else t
    t = calendar.timegm(time.strptime(s.rstrip("Z"), "%Y-%m-%dT%H:%M:%S"))
    return t + 1 if until else t
lo = when(opt["--since"]) if "--since" in opt else -2**63
hi = when(opt["--until"], True) if "--until" in opt else 2**63

def lines(path):
    data = open(path, "rb").read()
    if data[:2] == b"\x1f\x8b":
        d = zlib.decompressobj(31)
        data = d.decompress(data)   # all a truncated stream yields, as gzread does
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    return parts

def cut(s):
    b = s.encode()
    return b[:256].decode("utf-8", "ignore") if len(b) > 256 else s

V = ["pass", "fail", "none", "error"]
A = ["accept", "tag", "quarantine", "tempfail", "reject"]
TLS = {None: "plaintext", "TLSv1": "TLSv1", "TLSv1.1": "TLSv1.1", "TLSv1.2": "TLSv1.2",
       "TLSv1.3": "TLSv1.3"}
def zero():
    return {"messages": 0, "recipients": 0, "verdict": {}, "action": {}, "tls": {},
            "monitor": 0, "fs": 0, "verified": 0}
conn, days, total = {}, {}, zero()
malformed, links, future, lines_n = [], 0, 0, 0
for f in files:
    for i, raw in enumerate(lines(f), 1):
        lines_n += 1
        if len(raw) > 1024 * 1024:
            malformed.append((f, i)); continue
        try:
            r = json.loads(raw)
        except Exception:
            malformed.append((f, i)); continue
        if not isinstance(r, dict):
            malformed.append((f, i)); continue
        if r.get("type") == "link":
            links += 1; continue
        t = r.get("time")
        try:
            assert isinstance(t, str) and len(t) == 20 and t.endswith("Z")
            ts = calendar.timegm(time.strptime(t, "%Y-%m-%dT%H:%M:%SZ"))
        except Exception:
            malformed.append((f, i)); continue
        if r.get("schema", 1) > 1:
            future += 1
        c = r.get("connector") or "(defaults)"
        if not (lo <= ts < hi): continue
        if "--connector" in opt and c != opt["--connector"]: continue
        if "--host" in opt and r.get("host", "-") != opt["--host"]: continue
        if "--policy" in opt:
            have, want = r.get("policy"), opt["--policy"]
            if have is None and want != "-": continue
            if have is not None and not (have.startswith(want) or want.startswith(have)): continue
        c = cut(c)
        day = time.strftime("%Y-%m-%d", time.gmtime(ts))
        for k in (total, conn.setdefault(c, zero()), days.setdefault((c, day), zero())):
            k["messages"] += 1
            k["recipients"] += r.get("rcpts", 0)
            v = r.get("verdict") if r.get("verdict") in V else "other"
            k["verdict"][v] = k["verdict"].get(v, 0) + 1
            a = r.get("action") if r.get("action") in A else "other"
            k["action"][a] = k["action"].get(a, 0) + 1
            tl = TLS.get(r.get("tls"), "other")
            k["tls"][tl] = k["tls"].get(tl, 0) + 1
            k["monitor"] += r.get("mode") == "monitor"
            k["fs"] += r.get("tls") is not None and r.get("fs") == "yes"
            k["verified"] += r.get("verified") == "yes"

errors = []
def same(what, got, want):
    if got != want:
        errors.append("%s: got %r, want %r" % (what, got, want))
def check_counts(where, got, want):
    same(where + " messages", got["messages"], want["messages"])
    same(where + " recipients", got["recipients"], want["recipients"])
    for v in V + ["other"]:
        same(where + " " + v, got[v], want["verdict"].get(v, 0))
    for a in A + ["other"]:
        same(where + " action " + a, got["actions"][a], want["action"].get(a, 0))
    same(where + " monitor", got["actions"]["monitor"], want["monitor"])
    for tl in list(TLS.values()) + ["other"]:
        same(where + " " + tl, got["tls"][tl], want["tls"].get(tl, 0))
    same(where + " fs", got["forward_secrecy"], want["fs"])
    same(where + " verified", got["verified"], want["verified"])

if fmt == "json":
    rep = json.load(open(out))
    inp = rep["input"]
    same("lines", inp["lines"], lines_n)
    same("malformed", inp["malformed"], len(malformed))
    same("links", inp["links"], links)
    same("future_schema", inp["future_schema"], future)
    same("bad_files", inp["bad_files"], 1)
    same("malformed file:line", [(m["file"], m["line"]) for m in inp["malformed_lines"]],
         malformed[:20])
    check_counts("overall", rep["overall"], total)
    got = {c["connector"]: c for c in rep["connectors"]}
    same("connectors", sorted(got), sorted(conn))
    for c in conn:
        if c in got:
            check_counts(repr(c), got[c], conn[c])
            gd = {d["date"]: d for d in got[c]["days"]}
            same(repr(c) + " days", sorted(gd), sorted(d for (k, d) in days if k == c))
            for (k, d) in days:
                if k == c and d in gd:
                    check_counts("%r %s" % (c, d), gd[d], days[(k, d)])
    rates = [c["compliance_ppm"] for c in rep["connectors"] if c["compliance_ppm"] is not None]
    same("sorted by compliance", rates, sorted(rates))
else:
    rows = list(csv.reader(open(out, newline="")))
    head = rows[0]
    same("csv row width", {len(r) for r in rows}, {len(head)})
    same("csv rows", len(rows) - 1, len(days))
    col = {h: i for i, h in enumerate(head)}
    byname = {}
    for r in rows[1:]:
        byname.setdefault(r[col["date"]], []).append(r)
    for (c, d), k in days.items():
        # Only names CSV shows as is (no escapes, no formula guard) are matched by name.
        if any(ord(ch) < 32 for ch in c) or c[:1] in "=+-@":
            continue
        m = [r for r in byname.get(d, []) if r[col["connector"]] == c]
        if len(m) != 1:
            errors.append("csv: %d rows for %r %s" % (len(m), c, d)); continue
        r = m[0]
        same("csv %r %s messages" % (c, d), int(r[col["messages"]]), k["messages"])
        same("csv %r %s recipients" % (c, d), int(r[col["recipients"]]), k["recipients"])
        for v in V:
            same("csv %r %s %s" % (c, d, v), int(r[col[v]]), k["verdict"].get(v, 0))
        for a in ["reject", "tempfail", "quarantine", "tag", "accept"]:
            same("csv %r %s %s" % (c, d, a), int(r[col[a]]), k["action"].get(a, 0))
        for h, tl in [("plaintext", "plaintext"), ("tls1_0", "TLSv1"), ("tls1_2", "TLSv1.2"),
                      ("tls1_3", "TLSv1.3")]:
            same("csv %r %s %s" % (c, d, h), int(r[col[h]]), k["tls"].get(tl, 0))
        den = sum(k["verdict"].get(v, 0) for v in ("pass", "fail", "error"))
        want = "" if den == 0 else "%.4f" % (k["verdict"].get("pass", 0) / den)
        same("csv %r %s compliance" % (c, d), r[col["compliance"]], want)
print("\n".join(errors[:15]))
sys.exit(1 if errors else 0)
EOF
    ); then
        ok 0 "$name: $fmt figures match the independent count"
    else
        ok 1 "$name: $fmt figures differ from the independent count"
        printf '%s\n' "$out" | sed 's/^/# /'
    fi
}

# The whole set: bad lines and a truncated file make exit 1, never an abort.
run all-json 1 --format json "${LOGS[@]}"
compare all-json json
run all-csv 1 --format csv "${LOGS[@]}"
compare all-csv csv
grep -q '^[^#]*schema 2 is newer' "$T/all-json.err"
ok $? "future schema: warned"
[ "$(grep -c 'is newer' "$T/all-json.err")" = 1 ]
ok $? "future schema: warned once"
grep -q 'mx1.jsonl.1.gz: truncated gzip stream' "$T/all-json.out"
ok $? "truncated gzip file named in the report"

# Filters.
run since-until 1 --format json --since 2025-12-02 --until 2025-12-04T12:00:00Z "${LOGS[@]}"
compare since-until json --since 2025-12-02 --until 2025-12-04T12:00:00Z
run until-date 1 --format json --until 2025-12-03 "${LOGS[@]}"
compare until-date json --until 2025-12-03
run connector 1 --format json --connector bank "${LOGS[@]}"
compare connector json --connector bank
run defaults 1 --format json --connector '(defaults)' "${LOGS[@]}"
compare defaults json --connector '(defaults)'
run host 1 --format json --host mx2 "${LOGS[@]}"
compare host json --host mx2
run nohost 1 --format json --host - "${LOGS[@]}"
compare nohost json --host -
run policy 1 --format json --policy sha256:fedcba98 "${LOGS[@]}"
compare policy json --policy sha256:fedcba98
run policylong 1 --format json --policy sha256:0123456789abcdef0011223344 "${LOGS[@]}"
compare policylong json --policy sha256:0123456789abcdef0011223344

# Groups by host and policy: each connector lists the hosts and policies seen.
python3 - "$T/all-json.out" <<'EOF'
import json, sys
rep = json.load(open(sys.argv[1]))
bank = [c for c in rep["connectors"] if c["connector"] == "bank"][0]
assert {h["name"] for h in bank["hosts"]} == {"mx1", "mx2", "-"}, bank["hosts"]
assert {p["name"] for p in bank["policies"]} == {"sha256:0123456789abcdef",
                                                "sha256:fedcba9876543210", "-"}
assert any(ch["kind"] == "issuer" and ch["name"] in ("R11", "E6") for ch in bank["changes"])
assert bank["downgrades"], "a downgrade after TLSv1.3 is listed"
assert all(len(r["examples"]) <= 3 for r in bank["reasons"])
EOF
ok $? "json: hosts, policies, issuer rollover, downgrades and example caps"

# stdin, plain and gzip, gives the same figures as the file.
"$TLSPOLICY" report --format json "$T/logs/mx2.jsonl.gz" >"$T/f.json"
ok $? "clean gzip file: exit 0"
"$TLSPOLICY" report --format json <"$T/logs/mx2.jsonl.gz" >"$T/s.json"
ok $? "gzip on stdin: exit 0"
cmp -s "$T/f.json" "$T/s.json"
ok $? "gzip on stdin: same report as the file"

# Escaping: the hostile connector name (ESC, CR LF, <b>, quote) in every format.
"$TLSPOLICY" report "${LOGS[@]}" >"$T/text.out" 2>/dev/null
! LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$T/text.out"
ok $? "text: no control byte reaches the terminal"
grep -qF 'evil\x1B[31m\x0D\x0Aname<b>"' "$T/text.out"
ok $? "text: the hostile name is shown escaped"
"$TLSPOLICY" report --format html "${LOGS[@]}" >"$T/r.html" 2>/dev/null
! grep -q '<b>' "$T/r.html" && grep -qF 'evil\x1B[31m\x0D\x0Aname&lt;b&gt;&quot;' "$T/r.html"
ok $? "html: the hostile name is escaped"
# CSV rows end in CR LF (RFC 4180); no other control byte may appear.
! sed 's/\r$//' "$T/all-csv.out" | LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' \
    && grep -qF '"evil\x1B[31m\x0D\x0Aname<b>"","' "$T/all-csv.out"
ok $? "csv: quoted, quotes doubled, control bytes escaped"
! grep -qE '(src|href)="?(https?:)?//' "$T/r.html" && ! grep -q '<script' "$T/r.html"
ok $? "html: self-contained (no external reference, no script)"

# -c FILE: the outbound contracts beside the inbound figures, the same in text and JSON.
cat >"$T/ob.yaml" <<'YAML'
version: 1
outbound:
  - name: partner
    recipient_domains: [partner.test, .partner.test]
    require: { min_version: TLSv1.3, certificate: verified }
  - name: relay
    recipient_domains: relay.test
    smart_hosts: ["[mx1.relay.test]:2525", "[mx2.relay.test]"]
    require: { certificate: verified, certificate_names: [mx1.relay.test] }
  - name: watch
    mode: monitor
    recipient_domains: watch.test
    require: { tls: true }
  - name: strong
    recipient_domains: strong.test
    require: { min_cipher_bits: 256 }
YAML
run ob-json 1 --format json -c "$T/ob.yaml" "${LOGS[@]}"
python3 - "$T/ob-json.out" "$T/ob.yaml" <<'PY'
import hashlib, json, sys
d = json.load(open(sys.argv[1]))
ob = d["outbound"]
want_sha = hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest()
assert ob["config"] == sys.argv[2] and ob["sha256"] == want_sha, ob
c = {x["name"]: x for x in ob["connectors"]}
assert [x["name"] for x in ob["connectors"]] == ["partner", "relay", "watch", "strong"], c
p = c["partner"]
assert p["mode"] == "enforce" and p["domains"] == ["partner.test", "*.partner.test"], p
assert p["smart_hosts"] == [] and "min_version: TLSv1.3" in p["requires"], p
assert p["postfix"].startswith("secure protocols=>=TLSv1.3"), p
assert p["postfix_enforce"] is None, p
r = c["relay"]
assert r["smart_hosts"] == ["[mx1.relay.test]:2525", "[mx2.relay.test]"], r
assert "certificate_names: mx1.relay.test" in r["requires"], r
assert r["postfix"] == "secure match=mx1.relay.test", r
w = c["watch"]
assert w["mode"] == "monitor" and w["postfix"] == "may" and w["postfix_enforce"] == "encrypt", w
assert c["strong"]["postfix"] is None, c["strong"]
assert d["connectors"], "the inbound figures are still there"
PY
ok $? "json -c: every outbound connector with domains, hosts, requirements and policy"
grep -q "outbound connector 'strong': min_cipher_bits" "$T/ob-json.err"
ok $? "json -c: what Postfix cannot express is named on stderr"
run ob-text 1 -c "$T/ob.yaml" "${LOGS[@]}"
grep -qF "outbound contracts of $T/ob.yaml (sha256 $(sha256sum "$T/ob.yaml" | cut -c1-64)): 4 connector(s)" "$T/ob-text.out"
ok $? "text -c: the section names the file and its hash"
grep -A4 '^outbound relay: mode enforce$' "$T/ob-text.out" \
    | grep -qxF '  smart hosts: [mx1.relay.test]:2525, [mx2.relay.test]'
ok $? "text -c: a connector's smart hosts"
grep -qxF '  postfix in enforce mode: encrypt' "$T/ob-text.out" \
    && grep -qxF '  postfix: (cannot be exported; the error is on stderr)' "$T/ob-text.out"
ok $? "text -c: monitor's enforce form, and the connector Postfix cannot take"
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["outbound"]["connectors"][0]["postfix"])' "$T/ob-json.out")" \
    = "$(sed -n '/^outbound partner:/,/^$/s/^  postfix: //p' "$T/ob-text.out")" ]
ok $? "text and json -c give the same policy"
run no-ob 1 --format json "${LOGS[@]}"
run no-ob-text 1 "${LOGS[@]}"
! grep -q '"outbound"' "$T/no-ob.out" && ! grep -q "outbound contracts" "$T/no-ob-text.out"
ok $? "without -c: no outbound section"
cp "$T/ob.yaml" "$T/o<b>&\"'.yaml"
run ob-html 1 --format html -c "$T/o<b>&\"'.yaml" "${LOGS[@]}"
grep -qF "$T/o&lt;b&gt;&amp;&quot;&#39;.yaml (sha256" "$T/ob-html.out" && ! grep -q '<b>' "$T/ob-html.out"
ok $? "html -c: the file name is escaped"
grep -q '<section id="outbound">' "$T/ob-html.out" \
    && grep -qF '<td class="l">[mx1.relay.test]:2525<br>[mx2.relay.test]</td>' "$T/ob-html.out"
ok $? "html -c: the outbound section with each smart host"
printf 'version: 1\noutbound:\n  - name: x\n    recipient_domains: x.test\n    smart_hosts: "[x.test:25"\n' \
    >"$T/ob-bad.yaml"
run ob-bad 2 -c "$T/ob-bad.yaml" "${LOGS[@]}"
grep -q "ob-bad.yaml:5:[0-9]*: error: smart_hosts" "$T/ob-bad.err" && [ ! -s "$T/ob-bad.out" ]
ok $? "-c with a file that does not load: its file:line:column error, no report"

# Usage errors and refused paths.
run bad-format 2 --format xml "${LOGS[0]}"
run bad-since 2 --since yesterday "${LOGS[0]}"
run bad-option 2 --frobnicate "${LOGS[0]}"
run help 0 --help
mkfifo "$T/fifo"
run fifo 1 --format json "$T/fifo"
grep -q 'not a regular file' "$T/fifo.out"
ok $? "a FIFO is refused without blocking, and named"
ln -s "$T/logs/mx1.jsonl" "$T/link"
run symlink 1 --format json "$T/link"
run missing 1 --format json "$T/nonexistent"
grep -q '"bad_files":1' "$T/missing.out"
ok $? "a missing file is counted as a bad file"

echo "1..$n"
[ "$fails" = 0 ]
