"""The simulator: the MLLP server, its behaviour switches, the ZAMs it sends to the DPI; in a thread for tests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from django.utils.translation import gettext as _

from dpi.hl7.ack import MalformedAck, new_control_id, parse_ack
from dpi.hl7.mllp import READ_SIZE, Frame, FrameReader, ServerHandle, frame, serve_in_thread
from dpi.hl7.parsing import Header, read_envelope
from sandbox.dmp.feeding import feed_from_pfi
from sandbox.models import PfiBehaviour
from sandbox.pfi.common import POLL_SECONDS
from sandbox.pfi.reading import Problem, read_mdm
from sandbox.pfi.replies import PlannedZam, build_ack, build_zam, plan_zams
from sandbox.pfi.storage import T, _current_behaviour, _receive, _record_outcome, _record_zam

logger = logging.getLogger(__name__)


class PfiSimulator:
    """The PFI over MLLP: ``await serve(stop)`` listens on ``host:port`` until ``stop`` is set."""

    name = "pfi"

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        dpi_host: str | None = None,
        dpi_port: int | None = None,
        *,
        zam_delay: float | None = None,
        zam_retries: int = 5,
        timeout: float = 10.0,
    ) -> None:
        self.host = host or settings.PFI_HOST
        self.port = settings.PFI_PORT if port is None else port
        self.dpi_host = dpi_host or settings.MLLP_HOST
        self.dpi_port = settings.MLLP_PORT if dpi_port is None else dpi_port
        self.zam_delay = settings.SANDBOX_PFI_ZAM_DELAY_SECONDS if zam_delay is None else zam_delay
        self.zam_retries = zam_retries
        self.timeout = timeout
        self._server: asyncio.Server | None = None
        self._db: ThreadPoolExecutor | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task] = set()
        self._behaviour_unreadable = False

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def serve(self, stop: asyncio.Event, started: threading.Event | None = None) -> None:
        """Listen (or refuse, as the behaviour says) until ``stop`` is set, then release everything."""
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pfi-db")
        try:
            await self._open()
            logger.info("PFI simulator on %s:%s, ZAM to %s:%s", self.host, self.port, self.dpi_host, self.dpi_port)
            if started is not None:
                started.set()
            while not stop.is_set():
                await self._follow_behaviour()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), POLL_SECONDS)
        finally:
            await self._shutdown()

    # -- listening socket, opened and closed as the mode says

    async def _open(self) -> None:
        self._server = await asyncio.start_server(self._serve_connection, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.close()
        if server is not None:
            with contextlib.suppress(Exception):
                await server.wait_closed()

    async def _follow_behaviour(self) -> None:
        try:
            behaviour = await self._call(_current_behaviour)
        except Exception:  # database briefly unavailable: keep the current state, say it once
            if not self._behaviour_unreadable:
                logger.exception("PFI simulator: cannot read its behaviour")
            self._behaviour_unreadable = True
            return
        self._behaviour_unreadable = False
        refusing = behaviour.mode == PfiBehaviour.Mode.REFUSE
        if refusing and self.listening:
            logger.info("PFI simulator: refusing connections")
            await self._close()
        elif not refusing and not self.listening:
            try:
                await self._open()
                logger.info("PFI simulator: listening again on %s:%s", self.host, self.port)
            except OSError:
                logger.exception("PFI simulator: cannot listen on %s:%s", self.host, self.port)

    async def _shutdown(self) -> None:
        await self._close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._db is not None:
            loop = asyncio.get_running_loop()
            with contextlib.suppress(Exception):
                await loop.run_in_executor(self._db, connections.close_all)
            self._db.shutdown(wait=True)
            self._db = None
        logger.info("PFI simulator stopped")

    async def _call(self, function: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run a database function in the simulator's database thread."""
        return await sync_to_async(function, thread_sensitive=False, executor=self._db)(*args, **kwargs)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- inbound MDM

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._writers.add(writer)
        address = writer.get_extra_info("peername")
        peer = f"{address[0]}:{address[1]}" if isinstance(address, tuple) else str(address or "")
        frames = FrameReader(settings.MLLP_MAX_MESSAGE_BYTES)
        try:
            while True:
                data = await asyncio.wait_for(reader.read(READ_SIZE), settings.MLLP_IDLE_TIMEOUT_SECONDS)
                if not data:
                    return
                for received in frames.feed(data):
                    ack = await self._answer_safely(received, peer)
                    writer.write(frame(ack.encode("utf-8")))
                    await writer.drain()
        except (ConnectionError, TimeoutError):
            logger.info("PFI simulator: connection %s closed", peer)
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            if task is not None:
                self._tasks.discard(task)

    async def _answer_safely(self, received: Frame, peer: str) -> str:
        try:
            return await self.answer(received, peer)
        except asyncio.CancelledError:
            raise
        except Exception:  # the simulator never dies on a message
            logger.exception("PFI simulator: failure on a message from %s", peer)
            problem = Problem(_("Erreur interne de la PFI simulée"), ack_code="AR")
            return build_ack(read_envelope(received.payload).header, code="AR", problems=[problem])

    async def answer(self, received: Frame, peer: str) -> str:
        """The ACK text for one frame. The message is recorded on receipt (before the wait of the slow
        mode); its ZAMs are scheduled once the ACK AA is about to leave."""
        behaviour = await self._call(_current_behaviour)
        mdm = read_mdm(received.payload)
        problems = list(mdm.problems)
        if received.truncated:
            problems.insert(0, Problem(_("Message trop volumineux"), ack_code="AR"))
        message, problems = await self._call(_receive, mdm, peer=peer, problems=problems, mode=behaviour.mode)
        if behaviour.mode == PfiBehaviour.Mode.SLOW:
            await asyncio.sleep(behaviour.slow_seconds)
        if message.ack_code == "AA" and not message.duplicate:
            if mdm.to_dmp and behaviour.mode != PfiBehaviour.Mode.DMP_REJECT:
                await self._call(
                    feed_from_pfi,
                    trigger=mdm.trigger,
                    ins=mdm.ins,
                    document_id=mdm.document_id,
                    cda=mdm.cda,
                    flags=mdm.flags,
                )
            planned = plan_zams(mdm, behaviour.mode)
            if planned:
                delay = behaviour.zam_delay_seconds if behaviour.zam_delay_seconds is not None else self.zam_delay
                self._spawn(self._send_zams(message.pk, mdm.header, planned, delay))
        return build_ack(mdm.header, code=message.ack_code, problems=problems)

    # -- outbound ZAM

    async def _send_zams(self, message_id: int, header: Header, planned: list[PlannedZam], delay: float) -> None:
        for stage in sorted({zam.stage for zam in planned}):
            await asyncio.sleep(delay)
            for zam in (zam for zam in planned if zam.stage == stage):
                await self._send_zam(message_id, header, zam)

    async def _send_zam(self, message_id: int, header: Header, planned: PlannedZam) -> None:
        control_id = new_control_id()
        text = build_zam(planned, mdm_header=header, control_id=control_id)
        row = await self._call(_record_zam, message_id, planned, control_id=control_id, raw=text)
        outcome = await self._deliver(text.encode("utf-8"), control_id)
        await self._call(_record_outcome, row.pk, outcome)

    async def _deliver(self, payload: bytes, control_id: str) -> str:
        """Send one ZAM to the DPI listener; the ACK code it answered, or the transport error."""
        error = ""
        for attempt in range(self.zam_retries + 1):
            if attempt:
                await asyncio.sleep(min(0.5 * 2 ** (attempt - 1), 5.0))
            try:
                answer = await self._exchange(payload)
            except (OSError, TimeoutError) as exc:
                error = _("erreur de transport après %(attempts)d tentative(s) : %(error)r") % {
                    "attempts": attempt + 1,
                    "error": exc,
                }
                logger.warning("PFI simulator: ZAM %s to %s:%s: %s", control_id, self.dpi_host, self.dpi_port, error)
                continue
            try:
                ack = parse_ack(answer)
            except MalformedAck as exc:
                return _("acquittement illisible : %(error)s") % {"error": exc}
            details = "; ".join(f"[{detail.code}] {detail.text}" for detail in ack.errors)
            return f"{ack.code} {details}".strip()
        return error

    async def _exchange(self, payload: bytes) -> bytes:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(self.dpi_host, self.dpi_port), self.timeout)
        try:
            writer.write(frame(payload))
            await writer.drain()
            frames = FrameReader(settings.MLLP_MAX_MESSAGE_BYTES)
            while True:
                data = await asyncio.wait_for(reader.read(READ_SIZE), self.timeout)
                if not data:
                    raise ConnectionResetError(_("connexion fermée par le DPI avant l'acquittement"))
                received = frames.feed(data)
                if received:
                    return received[0].payload
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


# --- Running it in a thread (tests, benchmarks) ---------------------------------------------


def start_pfi_in_thread(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    dpi_host: str | None = None,
    dpi_port: int | None = None,
    zam_delay: float | None = None,
    zam_retries: int = 5,
    timeout: float = 10.0,
) -> ServerHandle:
    """Start a simulator in a daemon thread; ``port=0`` picks a free port (see ``handle.port``)."""
    simulator = PfiSimulator(
        host, port, dpi_host, dpi_port, zam_delay=zam_delay, zam_retries=zam_retries, timeout=timeout
    )
    return serve_in_thread(simulator, name=f"pfi-{host}:{port}")
