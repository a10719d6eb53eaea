-- common.lua -- helpers shared by the miltertest scripts of milter-tlspolicy:
-- TAP output through mt.echo, and one function that drives a whole SMTP
-- session against the daemon and collects what it answered.
-- Loaded with dofile(SRCDIR .. "/tests/milter/common.lua"). The daemon is at
-- "unix:" .. SOCK, or at CONNSPEC when that is defined (inet sockets).

T = { n = 0 }

function check(name, cond, detail)
  T.n = T.n + 1
  if cond then
    mt.echo(string.format("ok %d - %s", T.n, name))
  else
    mt.echo(string.format("not ok %d - %s", T.n, name))
    if detail ~= nil then
      mt.echo("# " .. string.gsub(tostring(detail), "\n", "\n# "))
    end
  end
end

function done()
  mt.echo(string.format("1..%d", T.n))
end

function has(s, sub)
  return s ~= nil and string.find(s, sub, 1, true) ~= nil
end

function reply_name(r)
  if r == nil then return "nil" end
  return string.format("%c", r)
end

-- Macro sets, as the MTAs send them (doc/mta-facts.md sections 4-6).
PF_CONN = { "j", "mx.local.test", "v", "Postfix 3.7.11", "{daemon_name}", "mx.local.test" }
SM_CONN = { "j", "mx.local.test", "v", "8.17.1", "{daemon_name}", "MTA" }

function tls(version, cipher, bits, extra)
  local t = { "{tls_version}", version, "{cipher}", cipher, "{cipher_bits}", bits }
  for _, v in ipairs(extra or {}) do t[#t + 1] = v end
  return t
end

TLS13 = "TLS_AES_256_GCM_SHA384"
PF_A = { "{cert_subject}", "mail.partner-a.test", "{cert_issuer}", "Test Issuing CA 1" }
PF_B = { "{cert_subject}", "mail.partner-b.test", "{cert_issuer}", "Other Issuing CA" }
SM_A_SUBJ = "/C=GB/O=Partner+20A+20Ltd/OU=Mail/CN=mail.partner-a.test"
SM_A_ISS = "/C=DE/O=Test+20PKI/CN=Test+20Issuing+20CA+201"
SM_B_SUBJ = "/C=DE/O=Partner+20B+20GmbH/OU=Mail/CN=mail.partner-b.test"
SM_B_ISS = "/C=US/O=Other+20PKI/CN=Other+20Issuing+20CA"

function sm_cert(subj, iss, verify)
  return { "{cert_subject}", subj, "{cert_issuer}", iss, "{verify}", verify }
end

-- Drive one connection. o: cmacros, host, addr, tls (HELO macros), mail,
-- mail_macro, rcpts (list of addresses), headers ({name, value} list), qid,
-- before_mail (function(conn) run after HELO, e.g. to reload).
-- Returns r: connect, mail, rcpt[i] replies; after EOM: eom, hdr (value of the
-- posture header added), added, ar, ar_value, deleted, ar_deleted, quarantine.
function session(o)
  local r = { rcpt = {}, accepted = 0 }
  local spec = CONNSPEC or ("unix:" .. SOCK)
  local conn = mt.connect(spec, 50, 0.1)
  if conn == nil then
    r.err = "cannot connect to " .. spec
    return r
  end
  mt.negotiate(conn, nil, nil, nil)
  if o.cmacros then mt.macro(conn, SMFIC_CONNECT, table.unpack(o.cmacros)) end
  mt.conninfo(conn, o.host or "localhost", o.addr or "127.0.0.1")
  r.connect = mt.getreply(conn)
  if o.tls then mt.macro(conn, SMFIC_HELO, table.unpack(o.tls)) end
  mt.helo(conn, o.helo or "client.example")
  if o.before_mail then o.before_mail(conn) end
  local mm = {}
  if o.mail_macro then mm = { "{mail_addr}", o.mail_macro } end
  if o.mail_i then mm[#mm + 1] = "i"; mm[#mm + 1] = o.mail_i end
  if #mm > 0 then mt.macro(conn, SMFIC_MAIL, table.unpack(mm)) end
  mt.mailfrom(conn, o.mail)
  r.mail = mt.getreply(conn)
  for i, rc in ipairs(o.rcpts) do
    mt.macro(conn, SMFIC_RCPT, "{rcpt_addr}", rc)
    mt.rcptto(conn, "<" .. rc .. ">")
    r.rcpt[i] = mt.getreply(conn)
    if r.rcpt[i] == SMFIR_CONTINUE then r.accepted = r.accepted + 1 end
  end
  if r.accepted > 0 then
    for _, h in ipairs(o.headers or {}) do mt.header(conn, h[1], h[2]) end
    -- Postfix sends "i" from DATA on; with o.mail_i (Sendmail) it came at MAIL
    if o.qid or not o.mail_i then
      mt.macro(conn, string.byte("E"), "i", o.qid or "NOQID")
    end
    mt.eom(conn)
    r.eom = mt.getreply(conn)
    local name = o.header_name or "X-TLS-Policy"
    r.added = mt.eom_check(conn, MT_HDRADD, name)
    r.hdr = mt.getheader(conn, name, 0)
    r.ar = mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results")
    r.deleted = mt.eom_check(conn, MT_HDRDELETE, name)
    r.ar_deleted = mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results")
    r.quarantine = mt.eom_check(conn, MT_QUARANTINE)
  end
  mt.disconnect(conn)
  return r
end

-- "rejected at RCPT with a reply" as miltertest sees smfi_setreply + reject/tempfail
function refused(r, i)
  return r.rcpt[i or 1] == SMFIR_REPLYCODE
end

function accepted(r, i)
  return r.rcpt[i or 1] == SMFIR_CONTINUE
end

function describe(r)
  local s = "err=" .. tostring(r.err) .. " rcpt="
  for _, v in ipairs(r.rcpt) do s = s .. reply_name(v) end
  return s .. " eom=" .. reply_name(r.eom) .. " hdr=" .. tostring(r.hdr)
end
