#!/usr/bin/env python3
# tests/e2e/outbound-rx.py -- the receiving MTAs of tests/e2e/outbound.sh: one small
# ESMTP server per listener, with real STARTTLS (Python's ssl module, certificates from
# the test PKI), each configured to be one case: compliant, no STARTTLS, another name,
# another root, TLS 1.2 at most. Every accepted message is written to DIR/NAME.N.eml
# with a first line "X-Rx-TLS: <version> <cipher>" (or "none"), so the test can tell
# how it arrived.
# Never: binds anything but 127.0.0.1, relays, or runs without an end: it exits after
# --lifetime seconds whatever happens (the test also stops it).
#
# usage: outbound-rx.py --dir DIR --lifetime SECONDS
#            --listen NAME:PORT:starttls|plain[:CHAIN:KEY[:max12]] ...
import argparse
import os
import socket
import ssl
import sys
import threading
import time


def serve_one(conn, spec, outdir, counter):
    name, tls_ctx = spec["name"], spec["ctx"]
    f = conn.makefile("rb")
    tls = None

    def send(line):
        conn.sendall((line + "\r\n").encode("ascii"))

    send("220 rx-%s.local.test ESMTP outbound-rx" % name)
    mail_from, rcpts = None, []
    while True:
        raw = f.readline(4096)
        if not raw:
            return
        cmd = raw.decode("latin-1").rstrip("\r\n")
        verb = cmd.split(" ", 1)[0].upper()
        if verb in ("EHLO", "HELO"):
            lines = ["rx-%s.local.test" % name, "PIPELINING", "8BITMIME", "SIZE 10240000"]
            if tls_ctx is not None and tls is None:
                lines.append("STARTTLS")
            for i, l in enumerate(lines):
                send(("250 " if i == len(lines) - 1 else "250-") + l)
        elif verb == "STARTTLS" and tls_ctx is not None and tls is None:
            send("220 2.0.0 ready to start TLS")
            try:
                conn = tls_ctx.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                return                       # the handshake failed: the client's problem
            tls = "%s %s" % (conn.version(), conn.cipher()[0])
            f = conn.makefile("rb")
        elif verb == "MAIL":
            mail_from, rcpts = cmd[10:], []
            send("250 2.1.0 ok")
        elif verb == "RCPT":
            rcpts.append(cmd[8:])
            send("250 2.1.5 ok")
        elif verb == "DATA":
            send("354 go ahead")
            body = []
            while True:
                l = f.readline(65536)
                if not l or l in (b".\r\n", b".\n"):
                    break
                body.append(l)
            with counter["lock"]:
                counter["n"] += 1
                n = counter["n"]
            path = os.path.join(outdir, "%s.%d.eml" % (name, n))
            with open(path + ".tmp", "wb") as out:
                out.write(("X-Rx-TLS: %s\r\nX-Rx-From: %s\r\nX-Rx-To: %s\r\n"
                           % (tls or "none", mail_from, " ".join(rcpts))).encode("latin-1"))
                out.writelines(body)
            os.rename(path + ".tmp", path)
            send("250 2.0.0 queued as rx%d" % n)
        elif verb == "RSET":
            send("250 2.0.0 ok")
        elif verb == "NOOP":
            send("250 2.0.0 ok")
        elif verb == "QUIT":
            send("221 2.0.0 bye")
            return
        else:
            send("502 5.5.2 not implemented")


def listener(sock, spec, outdir, counter):
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        conn.settimeout(20)

        def run(c=conn):
            try:
                serve_one(c, spec, outdir, counter)
            except (OSError, ssl.SSLError, UnicodeError):
                pass
            finally:
                try:
                    c.close()
                except OSError:
                    pass
        threading.Thread(target=run, daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--lifetime", type=float, required=True)
    ap.add_argument("--listen", action="append", required=True)
    a = ap.parse_args()
    counter = {"n": 0, "lock": threading.Lock()}
    for spec_text in a.listen:
        parts = spec_text.split(":")
        name, port, mode = parts[0], int(parts[1]), parts[2]
        ctx = None
        if mode == "starttls":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(parts[3], parts[4])
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            if len(parts) > 5 and parts[5] == "max12":
                ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(16)
        threading.Thread(target=listener, args=(s, {"name": name, "ctx": ctx}, a.dir, counter),
                         daemon=True).start()
    print("ready", flush=True)
    time.sleep(a.lifetime)
    return 0


if __name__ == "__main__":
    sys.exit(main())
