-- reload.lua -- SIGUSR1 reload of milter-tlspolicy: a good file is swapped in
-- for new connections only, a broken one is logged and the old policy stays.
-- Needs -D SOCK, SRCDIR, CONF (the file the daemon reads), CONF_BASE,
-- CONF_MONITOR, CONF_BROKEN, PIDFILE, LOG (the daemon's stderr).
dofile(SRCDIR .. "/tests/milter/common.lua")

local function daemon_log()
  local f = io.open(LOG, "r")
  if f == nil then return "" end
  local s = f:read("a")
  f:close()
  return s
end

local function count(s, sub)
  local n, pos = 0, 1
  while true do
    local i = string.find(s, sub, pos, true)
    if i == nil then return n end
    n = n + 1
    pos = i + 1
  end
end

-- Put src in place, signal the daemon, wait (bounded) for the log line.
local function reload_with(src, expect)
  local before = count(daemon_log(), expect)
  os.execute("cp '" .. src .. "' '" .. CONF .. "' && kill -USR1 $(cat '" .. PIDFILE .. "')")
  for _ = 1, 50 do
    if count(daemon_log(), expect) > before then return true end
    os.execute("sleep 0.1")
  end
  return false
end

local function partner_a_plain(hook)
  return session{ cmacros = PF_CONN, host = "mail.partner-a.test", addr = "127.0.0.2",
                  mail = "<s@partner-a.test>", mail_macro = "s@partner-a.test",
                  rcpts = { "r@example.test" }, before_mail = hook }
end

local r, ok

r = partner_a_plain()
check("reload: before, plaintext partner-a is refused (enforce)", refused(r), describe(r))

-- a connection that is already open when the reload happens
r = partner_a_plain(function(conn)
  ok = reload_with(CONF_MONITOR, "reloaded " .. CONF .. ":")
end)
check("reload: a good file is reloaded and logged", ok, daemon_log())
check("reload: a connection opened before the reload keeps its snapshot", refused(r), describe(r))

r = partner_a_plain()
check("reload: a new connection sees the new policy (monitor)",
      accepted(r) and has(r.hdr, "mode=monitor"), describe(r))

ok = reload_with(CONF_BROKEN, "reload of " .. CONF .. " failed, keeping the previous policy")
check("reload: a broken file is refused and logged", ok, daemon_log())
check("reload: every diagnostic is logged with file:line:column",
      string.find(daemon_log(), CONF:gsub("%p", "%%%0") .. ":%d+:%d+: ") ~= nil, daemon_log())

r = partner_a_plain()
check("reload: after a broken file the previous policy stays",
      accepted(r) and has(r.hdr, "mode=monitor"), describe(r))

ok = reload_with(CONF_BASE, "reloaded " .. CONF .. ":")
r = partner_a_plain()
check("reload: reloading the first file again restores enforce", ok and refused(r), describe(r))

-- configuration management often swaps a symlink: each reload must follow it
local before = count(daemon_log(), "reloaded " .. CONF .. ":")
os.execute("ln -sf '" .. CONF_MONITOR .. "' '" .. CONF .. ".new' && mv -f '" .. CONF ..
           ".new' '" .. CONF .. "' && kill -USR1 $(cat '" .. PIDFILE .. "')")
ok = false
for _ = 1, 50 do
  if count(daemon_log(), "reloaded " .. CONF .. ":") > before then ok = true; break end
  os.execute("sleep 0.1")
end
r = partner_a_plain()
check("reload: a swapped symlink is followed (monitor policy now)",
      ok and accepted(r) and has(r.hdr, "mode=monitor"), describe(r))

done()
