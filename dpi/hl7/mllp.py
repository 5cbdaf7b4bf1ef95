"""MLLP listener: asyncio for the connections, a thread pool for the (sync, Django ORM) engine.

Framing: ``0x0B <message> 0x1C 0x0D``. Bytes outside a frame are discarded. A frame larger
than ``MLLP_MAX_MESSAGE_BYTES`` is answered AR once its end arrives, and only its beginning
is kept in the journal. Frames of one connection are processed one at a time, in order.

Resources are bounded: at most ``MLLP_MAX_CONNECTIONS`` connections (one more is closed at
once), and at most ``MLLP_MAX_BYTES_IN_FLIGHT`` bytes of frames held, being received or
processed, over all connections, beyond the first ``HEAD_BYTES`` of each frame. A frame that
would go over that budget is not kept: only those first bytes (the MSH) are, and it is answered
AR "resend later" once its end arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from django.db import close_old_connections, connections

from dpi.audit_context import bind
from dpi.hl7 import engine

logger = logging.getLogger(__name__)

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"
READ_SIZE = 64 * 1024
# The first bytes of every frame are kept whatever the in-flight budget (at most this much per
# connection over it): ordinary messages (a few kB) go through even while large frames fill the
# budget, and a frame refused for lack of budget keeps its MSH, so that the refusal is journaled
# with its sender and control id and answered with an AR that names it.
HEAD_BYTES = 64 * 1024


def frame(payload: bytes) -> bytes:
    """Wrap a message in MLLP start and end blocks."""
    return START_BLOCK + payload + END_BLOCK


@dataclass(frozen=True)
class Frame:
    """A complete frame; ``size`` exceeds ``len(payload)`` when it was over the limit.

    ``overloaded``: refused because the listener's in-flight budget was spent (only the head is
    kept); ``reserved``: bytes of that budget the frame holds until it is answered.
    """

    payload: bytes
    size: int
    overloaded: bool = False
    reserved: int = 0

    @property
    def truncated(self) -> bool:
        return self.size > len(self.payload)


class InFlightBudget:
    """The bytes of frames a listener holds, received or being processed, against ``limit``.

    Used from the event loop's thread only. ``reserve`` refuses what would go over the limit,
    except a frame's head (``force``): at most ``HEAD_BYTES`` per connection over it.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.peak = 0

    def reserve(self, size: int, *, force: bool = False) -> bool:
        if not force and self.used + size > self.limit:
            return False
        self.used += size
        self.peak = max(self.peak, self.used)
        return True

    def release(self, size: int) -> None:
        self.used -= size


class FrameReader:
    """Incremental MLLP decoder: feed it bytes as they come, get the frames completed so far.

    With a ``budget``, the bytes kept are reserved from it as they arrive; a frame the budget
    cannot hold keeps only its head and comes out ``overloaded``.
    """

    def __init__(self, max_bytes: int, budget: InFlightBudget | None = None) -> None:
        self.max_bytes = max_bytes
        self.budget = budget
        self.in_frame = False
        self._payload = bytearray()
        self._size = 0
        self._overloaded = False
        self._reserved = 0
        self._carry = b""  # a trailing 0x1C that may start the end block

    def feed(self, data: bytes) -> list[Frame]:
        frames: list[Frame] = []
        data, self._carry = self._carry + data, b""
        position = 0
        while position < len(data):
            if not self.in_frame:
                start = data.find(START_BLOCK, position)
                if start < 0:
                    break
                self._start()
                position = start + 1
                continue
            end = data.find(END_BLOCK, position)
            if end < 0:
                stop = len(data) - 1 if data.endswith(END_BLOCK[:1]) else len(data)
                self._carry = data[stop:]
                self._append(data[position:stop])
                break
            self._append(data[position:end])
            frames.append(self._complete())
            position = end + len(END_BLOCK)
        return frames

    def release(self) -> None:
        """Give back the budget of a frame still being received (the connection is gone)."""
        if self.budget is not None:
            self.budget.release(self._reserved)
        self._payload, self._reserved, self.in_frame = bytearray(), 0, False

    def _start(self) -> None:
        self.in_frame = True
        self._payload = bytearray()
        self._size = 0
        self._overloaded = False
        self._reserved = 0

    def _complete(self) -> Frame:
        payload, self._payload = bytes(self._payload), bytearray()  # one copy only while it is made
        self.in_frame = False
        return Frame(payload, self._size, overloaded=self._overloaded, reserved=self._reserved)

    def _append(self, chunk: bytes) -> None:
        self._size += len(chunk)
        keep = (HEAD_BYTES if self._overloaded else self.max_bytes) - len(self._payload)
        if keep <= 0:
            return
        piece = chunk[:keep]
        if self.budget is not None:
            free = max(HEAD_BYTES - len(self._payload), 0)
            head, rest = piece[:free], piece[free:]
            self.budget.reserve(len(head), force=True)  # the head is always kept
            self._reserved += len(head)
            if rest and self.budget.reserve(len(rest)):
                self._reserved += len(rest)
            elif rest:
                self._shed()
                piece = head
        self._payload += piece

    def _shed(self) -> None:
        """Over the budget: keep the head only, and give the rest back."""
        self._overloaded = True
        if self.budget is not None and len(self._payload) > HEAD_BYTES:
            self.budget.release(len(self._payload) - HEAD_BYTES)
            self._reserved = HEAD_BYTES
            self._payload = self._payload[:HEAD_BYTES]


def process_frame(received: Frame, peer: str) -> bytes:
    """Run one frame through the engine, in a worker thread, with a healthy database connection."""
    close_old_connections()
    try:
        with bind():  # one audit request id per message
            if received.overloaded:
                return engine.reject_overloaded(received.payload, peer=peer, size=received.size)
            if received.truncated:
                return engine.reject_oversized(received.payload, peer=peer, size=received.size)
            return engine.process_inbound(received.payload, peer=peer)
    finally:
        close_old_connections()


@dataclass(eq=False)
class _Connection:
    writer: asyncio.StreamWriter
    busy: bool = False
    closed: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class MLLPServer:
    """The listener. ``await start()``, then ``await stop()`` for a graceful shutdown."""

    host: str = field(default_factory=lambda: settings.MLLP_HOST)
    port: int = field(default_factory=lambda: settings.MLLP_PORT)
    workers: int = field(default_factory=lambda: settings.MLLP_WORKERS)
    max_bytes: int = field(default_factory=lambda: settings.MLLP_MAX_MESSAGE_BYTES)
    idle_timeout: float = field(default_factory=lambda: settings.MLLP_IDLE_TIMEOUT_SECONDS)
    max_connections: int = field(default_factory=lambda: settings.MLLP_MAX_CONNECTIONS)
    max_bytes_in_flight: int = field(default_factory=lambda: settings.MLLP_MAX_BYTES_IN_FLIGHT)
    reuse_port: bool = False  # SO_REUSEPORT: several listener processes share the port (see run_processes)

    def __post_init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="mllp")
        self._connections: set[_Connection] = set()
        self._stopping = False
        if self.max_bytes_in_flight < self.max_bytes:
            logger.warning(
                "MLLP_MAX_BYTES_IN_FLIGHT (%d) is below MLLP_MAX_MESSAGE_BYTES (%d): "
                "larger messages are always refused",
                self.max_bytes_in_flight,
                self.max_bytes,
            )
        self.budget = InFlightBudget(self.max_bytes_in_flight)
        self.refused_connections = 0  # counters for the operator's log and the tests
        self.refused_frames = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port, reuse_port=self.reuse_port)
        self.port = self._server.sockets[0].getsockname()[1]
        logger.info("MLLP listener on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        """Stop accepting, close idle connections, let in-flight messages finish, then release threads."""
        self._stopping = True
        if self._server is not None:
            self._server.close()
        open_connections = list(self._connections)
        for connection in open_connections:
            if not connection.busy:
                connection.writer.close()  # its pending read returns end of file
        await asyncio.gather(*(connection.closed.wait() for connection in open_connections))
        if self._server is not None:
            await self._server.wait_closed()
        await asyncio.get_running_loop().run_in_executor(None, self._close_pool)
        logger.info("MLLP listener stopped")

    async def serve(self, stop: asyncio.Event, started: threading.Event | None = None) -> None:
        await self.start()
        if started is not None:
            started.set()
        await stop.wait()
        await self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = _peer_name(writer)
        if len(self._connections) >= self.max_connections:
            self.refused_connections += 1
            logger.warning(
                "MLLP connection from %s refused and closed: %d connections open, MLLP_MAX_CONNECTIONS=%d",
                peer,
                len(self._connections),
                self.max_connections,
            )
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            return
        connection = _Connection(writer)
        self._connections.add(connection)
        try:
            await self._converse(connection, reader, writer, peer)
        except TimeoutError:
            logger.info("MLLP connection %s idle for %ss, closed", peer, self.idle_timeout)
        except ConnectionError:
            logger.info("MLLP connection %s lost", peer)
        finally:
            self._connections.discard(connection)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            connection.closed.set()

    async def _converse(
        self, connection: _Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str
    ) -> None:
        frames = FrameReader(self.max_bytes, self.budget)
        pending: list[Frame] = []
        try:
            while not self._stopping:
                data = await asyncio.wait_for(reader.read(READ_SIZE), self.idle_timeout)
                if not data:
                    return
                connection.busy = True
                pending = frames.feed(data)
                del data
                while pending:
                    if await self._answer(pending[0], writer, peer):
                        return
                    self.budget.release(pending.pop(0).reserved)
                connection.busy = False
        finally:
            frames.release()
            for received in pending:
                self.budget.release(received.reserved)

    async def _answer(self, received: Frame, writer: asyncio.StreamWriter, peer: str) -> bool:
        """Process one frame in a worker thread and send its ACK; ``True`` when the listener stops."""
        if received.overloaded:
            self.refused_frames += 1
            logger.warning(
                "MLLP frame of %d bytes from %s refused (AR, resend later): %d bytes in flight, "
                "MLLP_MAX_BYTES_IN_FLIGHT=%d",
                received.size,
                peer,
                self.budget.used,
                self.budget.limit,
            )
        loop = asyncio.get_running_loop()
        ack = await loop.run_in_executor(self._pool, process_frame, received, peer)
        writer.write(frame(ack))
        await writer.drain()
        return self._stopping

    def _close_pool(self) -> None:
        """Close the database connection of every worker thread, then join them.

        One job per thread, held at a barrier, so that each job lands on a different thread.
        """
        barrier = threading.Barrier(self.workers)

        def close_connections() -> None:
            connections.close_all()
            barrier.wait(timeout=10)

        jobs = [self._pool.submit(close_connections) for _ in range(self.workers)]
        for job in jobs:
            with contextlib.suppress(threading.BrokenBarrierError):
                job.result()
        self._pool.shutdown(wait=True)


def _peer_name(writer: asyncio.StreamWriter) -> str:
    address = writer.get_extra_info("peername")
    if isinstance(address, tuple):
        return f"{address[0]}:{address[1]}"
    return str(address or "")


def run(*, host: str, port: int, reuse_port: bool = False) -> None:
    """Serve until SIGINT or SIGTERM (``manage.py run_mllp``)."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await MLLPServer(host=host, port=port, reuse_port=reuse_port).serve(stop)

    asyncio.run(main())


def run_processes(*, host: str, port: int, processes: int) -> int:
    """``processes`` listener processes on one port, until SIGINT or SIGTERM; returns the exit status.

    Each child listens with ``SO_REUSEPORT``: the kernel hands every new connection to one of them, and
    the connection stays with it, so that its frames are processed in order, as with one process. The
    engine is synchronous Python: one process runs one thread of it at a time (the GIL), several use
    several cores. The parent only forwards SIGINT and SIGTERM to the children and waits for them; when
    a child ends on its own (killed, crashed), the others are stopped too and the status is 1, so that
    the service manager restarts the whole listener. Linux (and BSDs) only: ``os.fork`` and
    ``SO_REUSEPORT``.
    """
    reserved = _reserve(host, port)  # with port 0, the one free port all the children take
    port = reserved.getsockname()[1]
    connections.close_all()  # no database connection crosses the fork
    children = {_fork(host, port) for _ in range(processes)}
    stopping = False

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, forward)
    status = 0
    while children:
        pid, wait_status = os.wait()
        children.discard(pid)
        if os.waitstatus_to_exitcode(wait_status) != 0 or not stopping:
            status = 1
            if not stopping:
                logger.error("MLLP listener process %s ended on its own: stopping the others", pid)
                forward(signal.SIGTERM, None)
    reserved.close()
    return status


def _reserve(host: str, port: int) -> socket.socket:
    """A socket bound to the port with ``SO_REUSEPORT`` but not listening: it takes no connection, and
    keeps the port's number for the children while they start."""
    family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    reserved = socket.socket(family, kind, proto)
    reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    reserved.bind(address)
    return reserved


def _fork(host: str, port: int) -> int:
    pid = os.fork()
    if pid:
        return pid
    status = 0
    try:
        run(host=host, port=port, reuse_port=True)
    except BaseException:
        logger.exception("MLLP listener process %s failed", os.getpid())
        status = 1
    finally:
        os._exit(status)  # never back into the parent's code


class ThreadedServer(Protocol):
    """A server ``serve_in_thread`` can run: the MLLP listener, the sandbox's simulators."""

    host: str
    port: int

    async def serve(self, stop: asyncio.Event, started: threading.Event | None = None) -> None: ...


@dataclass
class ServerHandle:
    """A server running in a background thread (tests, benchmark)."""

    server: ThreadedServer
    thread: threading.Thread
    loop: asyncio.AbstractEventLoop
    stop_event: asyncio.Event

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    def stop(self, timeout: float | None = None) -> None:
        """Graceful stop, as on SIGTERM; returns once in-flight work is done."""
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(timeout)


def start_server_in_thread(host: str = "127.0.0.1", port: int = 0, **options: float) -> ServerHandle:
    """Start a listener in a daemon thread; ``port=0`` picks a free port (see ``handle.port``)."""
    return serve_in_thread(MLLPServer(host=host, port=port, **options), name=f"mllp-{host}:{port}")


def serve_in_thread(server: ThreadedServer, *, name: str) -> ServerHandle:
    """Run ``server.serve`` on its own event loop in a daemon thread; returns once it listens."""
    loop = asyncio.new_event_loop()
    stop_event = asyncio.Event()
    started = threading.Event()
    failures: list[BaseException] = []

    def run_loop() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.serve(stop_event, started))
        except Exception as exc:  # e.g. address in use: reported to the caller below
            failures.append(exc)
            started.set()
        finally:
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    thread = threading.Thread(target=run_loop, name=name, daemon=True)
    thread.start()
    started.wait()
    if failures:
        raise failures[0]
    return ServerHandle(server=server, thread=thread, loop=loop, stop_event=stop_event)
