#!/usr/bin/env bash
# tests/e2e/held-session.sh PORT NAME FROM RCPT GATE -- a hand-driven plaintext SMTP session
# to 127.0.0.1:PORT (bash /dev/tcp, no other tool) that stops after MAIL FROM and waits
# (at most 30 s) for the file GATE before it sends RCPT, DATA and QUIT. The suites use it
# to hold a session open across a policy reload. Writes a transcript in swaks' notation
# (" -> " sent, " <- " received) on stdout. Run through nsenter for Sendmail's namespace.
set -u
port=$1 name=$2 from=$3 rcpt=$4 gate=$5
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
line=
# shellcheck source=tests/e2e/smtp-talk.sh
. "$(dirname "$0")/smtp-talk.sh"
hold() {
    local i
    for ((i = 0; i < 600; i++)); do [ -e "$gate" ] && return 0; sleep 0.05; done
    printf ' <** gate %s never opened\n' "$gate"
    return 1
}
hear && say "EHLO held.e2e.test" && hear && say "MAIL FROM:<$from>" && hear && hold &&
    say "RCPT TO:<$rcpt>" && hear && say "DATA" && hear && [ "${line:0:3}" = 354 ] &&
    printf 'Subject: e2e %s\r\nFrom: <%s>\r\nTo: <%s>\r\n\r\nheld across a reload\r\n.\r\n' \
        "$name" "$from" "$rcpt" >&3 && printf ' -> <message>\n' && hear
say QUIT && hear
exec 3>&-
exit 0
