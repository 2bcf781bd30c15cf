#!/usr/bin/env python3
"""A reference TLS echo server for danmu's TLS tests, on Python's `ssl` module (OpenSSL underneath, but not our
binding). Prints `PORT <n>` once listening on 127.0.0.1, serves --connections connections one after another
(each: echo every byte until the client closes), then exits. One SSLContext serves them all, so the second
connection can resume the first one's session (TLS 1.3 tickets).
Usage: tls_reference_server.py CERT KEY [--connections N]
"""
import socket
import ssl
import sys

cert, key = sys.argv[1], sys.argv[2]
connections = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--connections" else 1
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(8)
listener.settimeout(60)
print("PORT", listener.getsockname()[1], flush=True)
for _ in range(connections):
    raw, _ = listener.accept()
    raw.settimeout(30)
    try:
        with context.wrap_socket(raw, server_side=True) as tls:
            while True:
                data = tls.recv(65536)
                if not data:
                    break
                tls.sendall(data)
    except (ssl.SSLError, OSError) as error:
        # A client that refused our certificate aborts the handshake: expected in the rejection tests.
        print("connection ended:", error, file=sys.stderr, flush=True)
