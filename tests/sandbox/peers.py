"""A raw MLLP sender for the simulator tests."""

from __future__ import annotations

import socket

from dpi.hl7.ack import Ack, parse_ack
from dpi.hl7.mllp import FrameReader, frame

SOCKET_TIMEOUT = 30  # a safety net against a hanging test, never an assertion


class RawPeer:
    """A sender speaking raw MLLP, to send what ``dpi.hl7.client.send`` would never send."""

    def __init__(self, port: int) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT)
        self.frames = FrameReader(max_bytes=1 << 30)

    def exchange(self, payload: bytes) -> Ack:
        self.socket.sendall(frame(payload))
        while True:
            data = self.socket.recv(65536)
            if not data:
                raise ConnectionResetError("the simulator closed the connection")
            received = self.frames.feed(data)
            if received:
                return parse_ack(received[0].payload)

    def close(self) -> None:
        self.socket.close()
