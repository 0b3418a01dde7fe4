"""A minimal ZMTP 3.0 client over a raw TCP socket, and shoal's frame sealing.

Lets the cluster tests put arbitrary bytes into a node's ROUTER inbox, as a
hostile or broken peer would: the NULL mechanism handshake (64-byte greeting,
READY command with Socket-Type DEALER), then message frames (ZMTP 3.0, RFC 23:
flags byte MORE=1 LONG=2 COMMAND=4, then a 1- or 8-byte big-endian size).

seal() builds a frame the node authenticates, exactly as gossip/keyring.c
does: [key id][24-byte nonce][XChaCha20-Poly1305(plain, ad=key id)], the key
id being BLAKE2b-256(key)[0] % 255 + 1. Pure Python, slow, for small frames.

Python 3 standard library only.
"""
import base64
import hashlib
import os
import socket
import struct
import time

MORE, LONG, COMMAND = 0x01, 0x02, 0x04
GREETING_LEN = 64


class ZmtpError(Exception):
    """The peer broke the handshake or the connection."""


def greeting(major=3, minor=0):
    """The 64-byte greeting: signature, version, mechanism NULL, as-server 0, filler."""
    g = bytearray(GREETING_LEN)
    g[0], g[9] = 0xFF, 0x7F
    g[10], g[11] = major, minor
    g[12:16] = b"NULL"
    return bytes(g)


def frame(body, more=False, command=False):
    """One ZMTP frame: flags, short (1 byte) or long (8 bytes) size, body."""
    flags = (MORE if more else 0) | (COMMAND if command else 0)
    if len(body) > 255:
        return bytes([flags | LONG]) + struct.pack(">Q", len(body)) + body
    return bytes([flags, len(body)]) + body


def ready(socket_type):
    """A READY command body with its Socket-Type and an empty Identity."""
    body = bytes([5]) + b"READY"
    for name, value in ((b"Socket-Type", socket_type.encode()), (b"Identity", b"")):
        body += bytes([len(name)]) + name + struct.pack(">I", len(value)) + value
    return body


class Connection:
    """One ZMTP connection to host:port, handshaken as a DEALER."""

    def __init__(self, addr, socket_type="DEALER", timeout=5.0, handshake=True):
        """addr is "host:port" (TCP) or "ipc:///path" (a Unix socket)."""
        if addr.startswith("ipc://"):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            try:
                self.sock.connect(addr[len("ipc://"):])
            except OSError:
                self.sock.close()
                raise
        else:
            host, port = addr.rsplit(":", 1)
            self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.peer_type = None
        if handshake:
            self.handshake(socket_type)

    def _recv_exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ZmtpError("connection closed after %d of %d bytes" % (len(data), n))
            data += chunk
        return data

    def handshake(self, socket_type):
        self.sock.sendall(greeting())
        peer = self._recv_exact(GREETING_LEN)
        if peer[0] != 0xFF or peer[9] != 0x7F or peer[10] < 3:
            raise ZmtpError("not a ZMTP 3 greeting: %r" % peer[:12])
        if peer[12:32].rstrip(b"\0") != b"NULL":
            raise ZmtpError("peer mechanism %r, expected NULL" % peer[12:32])
        self.sock.sendall(frame(ready(socket_type), command=True))
        flags, body = self.recv_frame()
        if not flags & COMMAND or body[1:1 + body[0]] != b"READY":
            raise ZmtpError("expected READY, got flags %#x body %r" % (flags, body[:40]))
        self.peer_type = self._property(body, b"Socket-Type")

    @staticmethod
    def _property(body, wanted):
        pos = 1 + body[0]
        while pos < len(body):
            name_len = body[pos]
            name = body[pos + 1:pos + 1 + name_len]
            pos += 1 + name_len
            (value_len,) = struct.unpack(">I", body[pos:pos + 4])
            value = body[pos + 4:pos + 4 + value_len]
            pos += 4 + value_len
            if name.lower() == wanted.lower():
                return value.decode(errors="replace")
        return None

    def recv_frame(self):
        flags = self._recv_exact(1)[0]
        if flags & LONG:
            (size,) = struct.unpack(">Q", self._recv_exact(8))
        else:
            size = self._recv_exact(1)[0]
        return flags, self._recv_exact(size)

    def send(self, *parts):
        """Sends one message of len(parts) frames."""
        data = b"".join(frame(p, more=i < len(parts) - 1) for i, p in enumerate(parts))
        self.sock.sendall(data)

    def send_raw(self, data):
        self.sock.sendall(data)

    def closed_by_peer(self, timeout):
        """Polls until the peer closes the connection (True) or timeout passes (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, min(0.1, deadline - time.monotonic())))
            try:
                if self.sock.recv(65536) == b"":
                    return True
            except socket.timeout:
                continue
            except OSError:
                return True
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def request(endpoint, text, timeout=3.0):
    """One REQ/REP round trip with a node's control socket, like `shoal members`.

    Sends text ("members json", "stats json") as a REQ socket would (empty
    delimiter frame, then the body) and returns the reply body as a string.
    Raises OSError or ZmtpError if the node does not answer within timeout.
    """
    with Connection(endpoint, socket_type="REQ", timeout=timeout) as conn:
        conn.send(b"", text.encode())
        parts = []
        while True:
            flags, body = conn.recv_frame()
            if flags & COMMAND:
                continue
            parts.append(body)
            if not flags & MORE:
                break
        if parts and parts[0] == b"":
            parts = parts[1:]
        return b"".join(parts).decode(errors="replace")


# ---------------------------------------------------------------- sealing

MASK32 = 0xFFFFFFFF
SIGMA = struct.unpack("<4I", b"expand 32-byte k")


def _rotl(v, n):
    return ((v << n) & MASK32) | (v >> (32 - n))


def _rounds(state):
    x = list(state)

    def qr(a, b, c, d):
        x[a] = (x[a] + x[b]) & MASK32
        x[d] = _rotl(x[d] ^ x[a], 16)
        x[c] = (x[c] + x[d]) & MASK32
        x[b] = _rotl(x[b] ^ x[c], 12)
        x[a] = (x[a] + x[b]) & MASK32
        x[d] = _rotl(x[d] ^ x[a], 8)
        x[c] = (x[c] + x[d]) & MASK32
        x[b] = _rotl(x[b] ^ x[c], 7)
    for _ in range(10):
        qr(0, 4, 8, 12)
        qr(1, 5, 9, 13)
        qr(2, 6, 10, 14)
        qr(3, 7, 11, 15)
        qr(0, 5, 10, 15)
        qr(1, 6, 11, 12)
        qr(2, 7, 8, 13)
        qr(3, 4, 9, 14)
    return x


def _hchacha20(key, nonce16):
    x = _rounds(list(SIGMA) + list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", nonce16)))
    return struct.pack("<8I", *(x[0:4] + x[12:16]))


def _chacha20_block(key, counter, nonce12):
    state = list(SIGMA) + list(struct.unpack("<8I", key)) + [counter] + \
        list(struct.unpack("<3I", nonce12))
    x = _rounds(state)
    return struct.pack("<16I", *((a + b) & MASK32 for a, b in zip(x, state)))


def _chacha20_xor(key, nonce12, counter, data):
    out = bytearray()
    for i in range(0, len(data), 64):
        block = _chacha20_block(key, counter + i // 64, nonce12)
        out += bytes(a ^ b for a, b in zip(data[i:i + 64], block))
    return bytes(out)


def _poly1305(key, msg):
    r = int.from_bytes(key[:16], "little") & 0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF
    s = int.from_bytes(key[16:], "little")
    p = (1 << 130) - 5
    acc = 0
    for i in range(0, len(msg), 16):
        block = msg[i:i + 16] + b"\x01"
        acc = (acc + int.from_bytes(block, "little")) * r % p
    return ((acc + s) & ((1 << 128) - 1)).to_bytes(16, "little")


def _pad16(data):
    return b"\0" * (-len(data) % 16)


def xchacha20poly1305_encrypt(key, nonce24, plain, ad):
    """libsodium's crypto_aead_xchacha20poly1305_ietf_encrypt: ciphertext || tag."""
    subkey = _hchacha20(key, nonce24[:16])
    nonce12 = b"\0\0\0\0" + nonce24[16:]
    poly_key = _chacha20_block(subkey, 0, nonce12)[:32]
    cipher = _chacha20_xor(subkey, nonce12, 1, plain)
    mac_data = ad + _pad16(ad) + cipher + _pad16(cipher) + \
        struct.pack("<QQ", len(ad), len(cipher))
    return cipher + _poly1305(poly_key, mac_data)


def key_id(key_b64):
    """The key id byte shoal puts in front of frames sealed with this key."""
    key = base64.b64decode(key_b64)
    return hashlib.blake2b(key, digest_size=32).digest()[0] % 255 + 1


def seal(key_b64, plain):
    """A frame sealed under key_b64 exactly as a node seals it."""
    key = base64.b64decode(key_b64)
    kid = bytes([key_id(key_b64)])
    nonce = os.urandom(24)
    return kid + nonce + xchacha20poly1305_encrypt(key, nonce, plain, kid)


def pack(value):
    """A minimal msgpack encoder (nil, bool, unsigned int, float, str, bytes,
    list): enough to forge frames the way a key holder could."""
    if value is None:
        return b"\xc0"
    if value is True or value is False:
        return b"\xc3" if value else b"\xc2"
    if isinstance(value, int):
        if 0 <= value < 128:
            return bytes([value])
        for tag, size in ((b"\xcc", 1), (b"\xcd", 2), (b"\xce", 4), (b"\xcf", 8)):
            if value < 1 << (8 * size):
                return tag + value.to_bytes(size, "big")
        raise ValueError("integer too large")
    if isinstance(value, float):
        return b"\xcb" + struct.pack(">d", value)
    if isinstance(value, str):
        raw = value.encode()
        if len(raw) < 32:
            return bytes([0xa0 | len(raw)]) + raw
        return (b"\xd9" + bytes([len(raw)]) if len(raw) < 256
                else b"\xda" + len(raw).to_bytes(2, "big")) + raw
    if isinstance(value, bytes):
        return (b"\xc4" + bytes([len(value)]) if len(value) < 256
                else b"\xc5" + len(value).to_bytes(2, "big")) + value
    if isinstance(value, list):
        head = (bytes([0x90 | len(value)]) if len(value) < 16
                else b"\xdc" + len(value).to_bytes(2, "big"))
        return head + b"".join(pack(v) for v in value)
    raise TypeError("cannot pack %r" % (value,))


def user_frame(sender, sender_addr, payload):
    """A gossip USER frame (type 7: [version, from, from_addr, seq, payload,
    updates]) claiming to come from `sender`; seal it before sending."""
    return bytes([7]) + pack([1, sender, sender_addr, 0, payload, []])
