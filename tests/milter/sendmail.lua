-- sendmail.lua -- milter-tlspolicy driven with the macros Sendmail 8.17 sends
-- (doc/mta-facts.md 6.2: xtext-encoded X509 one-line DNs whether or not the certificate
-- verified, {verify} OK/FAIL/NO, "i" at MAIL, bracketed host names).
dofile(SRCDIR .. "/tests/milter/common.lua")

local r

r = session{ cmacros = SM_CONN, host = "mail.partner-a.test", addr = "127.0.0.2",
             tls = tls("TLSv1.3", TLS13, "256", sm_cert(SM_A_SUBJ, SM_A_ISS, "OK")),
             mail = "<s@partner-a.test>", mail_macro = "s@partner-a.test", mail_i = "SMPASS1",
             rcpts = { "r@example.test" } }
check("sendmail: verified partner-a (verify=OK) is accepted", accepted(r), describe(r))
check("sendmail: posture header decodes the DN to the CN and issuer",
      has(r.hdr, "pass (connector=partner-a") and has(r.hdr, "cert=mail.partner-a.test") and
      has(r.hdr, 'issuer="Test Issuing CA 1"') and has(r.hdr, 'root="Test Root CA R1"'),
      describe(r))

r = session{ cmacros = SM_CONN, host = "mail.partner-a.test", addr = "127.0.0.2",
             tls = tls("TLSv1.3", TLS13, "256", sm_cert(SM_A_SUBJ, SM_A_ISS, "FAIL")),
             mail = "<s@partner-a.test>", mail_macro = "s@partner-a.test", mail_i = "SMREJ1",
             rcpts = { "r@example.test" } }
check("sendmail: partner-a with verify=FAIL is refused", refused(r), describe(r))

r = session{ cmacros = SM_CONN, host = "mail.partner-a.test", addr = "127.0.0.2",
             tls = tls("TLSv1.3", TLS13, "256", sm_cert("", "", "NO")),
             mail = "<s@partner-a.test>", mail_macro = "s@partner-a.test",
             rcpts = { "r@example.test" } }
check("sendmail: partner-a without certificate (verify=NO) is refused", refused(r), describe(r))

r = session{ cmacros = SM_CONN, host = "mail.partner-a.test", addr = "127.0.0.2",
             mail = "<s@partner-a.test>", mail_macro = "s@partner-a.test",
             rcpts = { "r@example.test" } }
check("sendmail: plaintext partner-a is refused", refused(r), describe(r))

r = session{ cmacros = SM_CONN, host = "mail.partner-a.test", addr = "127.0.0.2",
             tls = tls("TLSv1.3", TLS13, "256", sm_cert(SM_B_SUBJ, SM_B_ISS, "OK")),
             mail = "<s@partner-a.test>", mail_macro = "s@partner-a.test",
             rcpts = { "r@example.test" } }
check("sendmail: partner-a sender with partner-b's certificate is refused", refused(r), describe(r))

r = session{ cmacros = SM_CONN, host = "mail.partner-a.test", addr = "127.0.0.2",
             tls = tls("TLSv1.1", "ECDHE-RSA-AES256-SHA", "256", sm_cert(SM_A_SUBJ, SM_A_ISS, "OK")),
             mail = "<s@partner-a.test>", mail_macro = "s@partner-a.test",
             rcpts = { "r@example.test" } }
check("sendmail: partner-a over TLSv1.1 is refused", refused(r), describe(r))

r = session{ cmacros = SM_CONN, host = "mail.partner-a.test", addr = "127.0.0.2",
             tls = tls("TLSv1.2", "AES256-GCM-SHA384", "256", sm_cert(SM_A_SUBJ, SM_A_ISS, "OK")),
             mail = "<s@partner-a.test>", mail_macro = "s@partner-a.test",
             rcpts = { "r@example.test" } }
check("sendmail: partner-a with RSA key exchange (no FS) is refused", refused(r), describe(r))

r = session{ cmacros = SM_CONN, host = "mx.partner-b.test", addr = "192.0.2.9",
             tls = tls("TLSv1.3", TLS13, "256", sm_cert(SM_B_SUBJ, SM_B_ISS, "OK")),
             mail = "<s@partner-b.test>", mail_macro = "s@partner-b.test",
             rcpts = { "r@example.test" } }
check("sendmail: verified partner-b under Other Root CA passes",
      accepted(r) and has(r.hdr, "pass (connector=partner-b") and
      has(r.hdr, 'root="Other Root CA"'), describe(r))

r = session{ cmacros = SM_CONN, host = "[203.0.113.5]", addr = "203.0.113.5",
             tls = tls("TLSv1.3", TLS13, "256", sm_cert("", "", "NO")),
             mail = "<>", mail_macro = "<>", rcpts = { "r@example.test" } }
check("sendmail: null sender from an unnamed host goes to the defaults",
      accepted(r) and has(r.hdr, "none (connector=default"), describe(r))

r = session{ cmacros = SM_CONN, host = "mx.other.test", addr = "203.0.113.5",
             tls = tls("TLSv1.3", TLS13, "256",
                       sm_cert("/C=GB/O=CRLF+5Cx0D+5Cx0AInjected:+20yes/CN=crlf+5Cx0D+5Cx0AX-Evil:+201.partner-a.test",
                               SM_A_ISS, "OK")),
             mail = "<s@other.test>", mail_macro = "s@other.test", rcpts = { "r@example.test" } }
check("sendmail: escaped CR LF in a DN cannot inject a header",
      r.added and not has(r.hdr, "\r") and not has(r.hdr, "\nX-Evil"), describe(r))

r = session{ cmacros = SM_CONN, host = "mx.partner-c.test", addr = "192.0.2.10",
             tls = tls("TLSv1.3", TLS13, "256", sm_cert(SM_A_SUBJ, SM_A_ISS, "OK")),
             mail = "<s@partner-c.test>", mail_macro = "s@partner-c.test",
             rcpts = { "r@example.test" } }
check("sendmail: TLS satisfies the quarantine connector: no quarantine",
      accepted(r) and not r.quarantine and has(r.hdr, "pass (connector=quarantine-c"), describe(r))

-- miltertest cannot send a macro packet much over 1 KiB (the 64 KiB case is in
-- test_callbacks); 400 bytes is already over the daemon's per-value cap.
local big = "/CN=" .. string.rep("A", 400)
r = session{ cmacros = SM_CONN, host = "mx.other.test", addr = "203.0.113.5",
             tls = tls("TLSv1.3", TLS13, "256", sm_cert(big, big, "OK")),
             mail = "<s@other.test>", mail_macro = "s@other.test", rcpts = { "r@example.test" } }
check("sendmail: an overlong DN is capped in the header (\"...\")",
      r.added and has(r.hdr, "...") and #r.hdr < 1000, describe(r):sub(1, 300))

done()
