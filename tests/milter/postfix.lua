-- postfix.lua -- milter-tlspolicy driven with the macros Postfix 3.7 sends
-- (doc/mta-facts.md 4/5: CN-only {cert_subject}/{cert_issuer}, present only when the
-- certificate verified; no {verify}). Prints TAP lines via mt.echo.
-- Needs -D SOCK=... -D SRCDIR=...; the daemon runs with tests/milter's policy.
dofile(SRCDIR .. "/tests/milter/common.lua")

local r

r = session{ cmacros = PF_CONN, host = "mail.partner-a.test", addr = "127.0.0.2",
             mail = "<s@partner-a.test>", mail_macro = "s@partner-a.test",
             rcpts = { "r@example.test" } }
check("postfix: plaintext from partner-a is refused at RCPT", refused(r), describe(r))

r = session{ cmacros = PF_CONN, host = "mail.partner-a.test", addr = "127.0.0.2",
             tls = tls("TLSv1.3", TLS13, "256"),
             mail = "<s@partner-a.test>", mail_macro = "s@partner-a.test",
             rcpts = { "r@example.test" } }
check("postfix: TLS without client certificate from partner-a is refused", refused(r), describe(r))

r = session{ cmacros = PF_CONN, host = "mail.partner-a.test", addr = "127.0.0.2",
             tls = tls("TLSv1.3", TLS13, "256", PF_A),
             mail = "<s@partner-a.test>", mail_macro = "s@partner-a.test",
             rcpts = { "r@example.test" }, qid = "PFPASS1" }
check("postfix: verified partner-a is accepted at RCPT", accepted(r), describe(r))
check("postfix: verified partner-a gets a pass posture header",
      r.added and has(r.hdr, "pass (connector=partner-a; action=accept"), describe(r))
check("postfix: posture header names version, cert, issuer and root",
      has(r.hdr, "version=TLSv1.3") and has(r.hdr, "cert=mail.partner-a.test") and
      has(r.hdr, 'issuer="Test Issuing CA 1"') and has(r.hdr, 'root="Test Root CA R1"') and
      has(r.hdr, "verified=yes"), describe(r))
check("postfix: posture header is folded with LF TAB only",
      has(r.hdr, "\n\t") and not has(r.hdr, "\r"), describe(r))
check("postfix: Authentication-Results inserted", r.ar, describe(r))

r = session{ cmacros = PF_CONN, host = "mail.partner-a.test", addr = "127.0.0.2",
             tls = tls("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", "256", PF_A),
             mail = "<s@partner-a.test>", mail_macro = "s@partner-a.test",
             rcpts = { "r@example.test" } }
check("postfix: partner-a TLSv1.2 with ECDHE passes",
      accepted(r) and has(r.hdr, "pass (") and has(r.hdr, "fs=yes"), describe(r))

r = session{ cmacros = PF_CONN, host = "mail.partner-a.test", addr = "127.0.0.2",
             tls = tls("TLSv1", "ECDHE-RSA-AES256-SHA", "256", PF_A),
             mail = "<s@partner-a.test>", mail_macro = "s@partner-a.test",
             rcpts = { "r@example.test" } }
check("postfix: partner-a over TLSv1 (too old) is refused", refused(r), describe(r))

r = session{ cmacros = PF_CONN, host = "mail.partner-a.test", addr = "127.0.0.2",
             tls = tls("TLSv1.2", "AES256-GCM-SHA384", "256", PF_A),
             mail = "<s@partner-a.test>", mail_macro = "s@partner-a.test",
             rcpts = { "r@example.test" } }
check("postfix: partner-a with a non-FS cipher is refused", refused(r), describe(r))

r = session{ cmacros = PF_CONN, host = "mail.partner-a.test", addr = "127.0.0.2",
             tls = tls("TLSv1.3", TLS13, "256",
                       { "{cert_subject}", "mail.evil.test", "{cert_issuer}", "Test Issuing CA 1" }),
             mail = "<s@partner-a.test>", mail_macro = "s@partner-a.test",
             rcpts = { "r@example.test" } }
check("postfix: partner-a with the wrong certificate name is refused", refused(r), describe(r))

r = session{ cmacros = PF_CONN, host = "mail.partner-a.test", addr = "127.0.0.2",
             tls = tls("TLSv1.3", TLS13, "256", PF_B),
             mail = "<s@partner-a.test>", mail_macro = "s@partner-a.test",
             rcpts = { "r@example.test" } }
check("postfix: partner-a with a certificate under the wrong root is refused", refused(r), describe(r))

r = session{ cmacros = PF_CONN, host = "spoof.example", addr = "198.51.100.7",
             tls = tls("TLSv1.3", TLS13, "256"),
             mail = "<s@partner-a.test>", mail_macro = "s@partner-a.test",
             rcpts = { "r@example.test" }, qid = "PFSPOOF" }
check("postfix: restrict_sender_domains refuses a partner-a sender from elsewhere",
      refused(r), describe(r))

r = session{ cmacros = PF_CONN, host = "mx.other.test", addr = "203.0.113.5",
             tls = tls("TLSv1.3", TLS13, "256"),
             mail = "<>", rcpts = { "r@example.test" }, qid = "PFNULL" }
check("postfix: null sender goes to the defaults (verdict none)",
      accepted(r) and has(r.hdr, "none (connector=default; action=accept"), describe(r))

r = session{ cmacros = PF_CONN, host = "mx.other.test", addr = "203.0.113.5",
             tls = tls("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", "256"),
             mail = "<s@other.test>", mail_macro = "s@other.test",
             rcpts = { "a@example.test", "b@strict.example", "c@example.test" }, qid = "PFMULTI" }
check("postfix: several recipients: the strict recipient is refused",
      accepted(r, 1) and refused(r, 2) and accepted(r, 3), describe(r))
check("postfix: several recipients: header shows the accepted ones",
      has(r.hdr, "none (connector=default") and not has(r.hdr, "rcpt-strict"), describe(r))

r = session{ cmacros = PF_CONN, host = "mx.other.test", addr = "203.0.113.5",
             mail = "<s@other.test>", mail_macro = "s@other.test",
             rcpts = { "a@example.test", "w@watch.example" } }
check("postfix: several recipients: header shows the most severe accepted result",
      accepted(r, 1) and accepted(r, 2) and
      has(r.hdr, "fail (connector=rcpt-watch; action=reject; mode=monitor"), describe(r))

r = session{ cmacros = PF_CONN, host = "mx.other.test", addr = "203.0.113.5",
             mail = "<s@other.test>", mail_macro = "s@other.test", rcpts = { "r@example.test" },
             headers = { { "X-TLS-Policy", " pass (connector=partner-a; verified=yes)" },
                         { "Authentication-Results", " mx.local.test; x-tls=pass" },
                         { "Authentication-Results", " other.example; spf=pass" } } }
check("postfix: a forged posture header is deleted", r.deleted, describe(r))
check("postfix: a forged Authentication-Results with our id is deleted", r.ar_deleted, describe(r))
check("postfix: the forged pass is replaced by the real verdict",
      r.added and has(r.hdr, "none (connector=default"), describe(r))

r = session{ cmacros = PF_CONN, host = "mx.other.test", addr = "203.0.113.5",
             mail = "<s@other.test>", mail_macro = "s@other.test", rcpts = { "r@example.test" },
             headers = { { "Subject", " hello" } } }
check("postfix: nothing is deleted when nothing was forged",
      r.added and not r.deleted and not r.ar_deleted, describe(r))

r = session{ cmacros = PF_CONN, host = "mx.partner-f.test", addr = "192.0.2.13",
             mail = "<s@partner-f.test>", mail_macro = "s@partner-f.test",
             rcpts = { "r@example.test" } }
check("postfix: monitor connector delivers what it would reject, header says so",
      accepted(r) and has(r.hdr, "action=reject; mode=monitor"), describe(r))

r = session{ cmacros = PF_CONN, host = "mx.partner-b.test", addr = "192.0.2.9",
             mail = "<s@partner-b.test>", mail_macro = "s@partner-b.test",
             rcpts = { "r@example.test" }, qid = "PFTEMP" }
check("postfix: action tempfail refuses at RCPT", refused(r), describe(r))

r = session{ cmacros = PF_CONN, host = "mx.partner-c.test", addr = "192.0.2.10",
             mail = "<s@partner-c.test>", mail_macro = "s@partner-c.test",
             rcpts = { "r@example.test" } }
check("postfix: action quarantine accepts and quarantines at end of message",
      accepted(r) and r.quarantine and has(r.hdr, "action=quarantine"), describe(r))

r = session{ cmacros = PF_CONN, host = "mx.partner-d.test", addr = "192.0.2.11",
             mail = "<s@partner-d.test>", mail_macro = "s@partner-d.test",
             rcpts = { "r@example.test" } }
check("postfix: action tag delivers with a fail header, no quarantine",
      accepted(r) and not r.quarantine and has(r.hdr, "fail (connector=tag-d; action=tag"),
      describe(r))

r = session{ cmacros = PF_CONN, host = "mx.partner-e.test", addr = "192.0.2.12",
             mail = "<s@partner-e.test>", mail_macro = "s@partner-e.test",
             rcpts = { "r@example.test" } }
check("postfix: action accept delivers, header records the failure",
      accepted(r) and has(r.hdr, "fail (connector=accept-e; action=accept"), describe(r))

r = session{ cmacros = PF_CONN, host = "mx.other.test", addr = "203.0.113.5",
             tls = tls("TLSv1.3", TLS13, "256",
                       { "{cert_subject}", "crlf\r\nX-Evil: yes", "{cert_issuer}", "CA \"q\"" }),
             mail = "<s@other.test>", mail_macro = "s@other.test", rcpts = { "r@example.test" } }
check("postfix: CR LF in a certificate name cannot inject a header",
      r.added and not has(r.hdr, "\r") and not has(r.hdr, "\nX-Evil") and
      has(r.hdr, "\\x0D\\x0AX-Evil"), describe(r))

done()
