#!/usr/bin/env python3
"""A plain-HTTP client whose every byte is known: what tests/recorder/plain_capture_test.cc
compares a recording's plain tls events with, byte for byte.

usage: plain_client.py PORT OUT.json

Against fixtures/server/server.js --plain-port (127.0.0.1:PORT), through the syscalls the
recorder captures:
  connection "a": a POST (sendmsg, two buffers, an Authorization header) answered through
                  recvmsg, then on the same connection a GET (writev) of 40000 bytes
                  answered through readv (several chunks of a call);
  connection "b": a second socket, GET /hello by send, answered through recv;
  connection "c": a GET whose request is written by one writev of 20 buffers: the
                  recorder walks 16 and says the rest was not captured.
OUT.json: per connection its fd, the bytes sent and received (latin-1 text).
"""
import json
import os
import socket
import sys

SECRET = "Bearer sk-test-0123456789"


def response_done(buf):
    """Whether buf holds one whole response (content-length framed, as the server sends)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False
    length = 0
    for line in buf[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return len(buf) >= end + 4 + length


def read_response(read):
    buf = b""
    while not response_done(buf):
        got = read()
        if not got:
            raise SystemExit("plain_client.py: connection closed before the response ended")
        buf += got
    return buf


def connect(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    conns = {}

    a = connect(port)
    body = b'{"text": "' + b"x" * 300 + b'"}'
    head = (b"POST /echo-size HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + SECRET.encode() +
            b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    sent = head + body
    assert a.sendmsg([head, body]) == len(sent)

    def recvmsg():
        return a.recvmsg(65536)[0]
    got = read_response(recvmsg)
    req2 = [b"GET /bytes/40000 HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n", b"\r\n"]
    n = os.writev(a.fileno(), req2)
    assert n == sum(map(len, req2))
    sent += b"".join(req2)

    def readv():
        small, big = bytearray(100), bytearray(65536)
        k = os.readv(a.fileno(), [small, big])
        return bytes((small + big)[:k])
    got += read_response(readv)
    conns["a"] = {"fd": a.fileno(), "sent": sent.decode("latin-1"), "received": got.decode("latin-1")}

    b = connect(port)
    req = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    b.send(req)
    got = read_response(lambda: b.recv(65536))
    conns["b"] = {"fd": b.fileno(), "sent": req.decode("latin-1"), "received": got.decode("latin-1")}

    c = connect(port)
    parts = [b"GET /hello HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n"]
    parts += [b"X-Part-%02d: %s\r\n" % (i, b"p" * 10) for i in range(17)]
    parts.append(b"\r\n")
    assert len(parts) == 20
    assert os.writev(c.fileno(), parts) == sum(map(len, parts))
    got = read_response(lambda: c.recv(65536))
    conns["c"] = {"fd": c.fileno(), "sent": b"".join(parts).decode("latin-1"),
                  "received": got.decode("latin-1"), "captured_parts": 16,
                  "captured": b"".join(parts[:16]).decode("latin-1")}

    for s in (a, b, c):
        s.close()
    with open(out, "w") as f:
        json.dump(conns, f)


if __name__ == "__main__":
    main()
