# smtp-talk.sh -- sourced by the hand-driven SMTP clients (held-session.sh,
# tests/faults/sigkill-postfix.sh): say and hear on file descriptor 3, with a
# transcript in swaks' notation (" -> " sent, " <- " received) on stdout.
# Never: opens the connection (the caller does, so it controls the namespace).

say() { printf '%s\r\n' "$1" >&3; printf ' -> %s\n' "$1"; }

# hear: one (possibly multi-line) reply, at most 20 s; its last line is left in $line
hear() {
    while IFS= read -r -t 20 line <&3; do
        line=${line%$'\r'}
        printf ' <- %s\n' "$line"
        [ "${line:3:1}" = - ] || return 0
    done
    printf ' <** no reply within 20 s\n'
    return 1
}
