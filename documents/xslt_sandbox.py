"""One XSLT transformation in a child process, within time, memory and output limits (issue 17).

A stylesheet is a program: a producer's XSL with nested ``for-each`` over ``//node()`` (or ours, or the agency's,
on a huge or deeply nested document) would keep a web worker at 100 % CPU for minutes, and libxslt has no
deadline of its own. :func:`run_xslt` therefore starts this file as a script (``python -I``: lxml only, no Django,
nothing of the caller's memory), sends it the stylesheet and the document on stdin and waits at most
``limits.seconds`` for the answer on stdout; past that the child is killed. In the child, the address space is
capped (``RLIMIT_AS``), so is the CPU time (``RLIMIT_CPU``, a backstop if the parent died), and an output larger
than ``limits.output_bytes`` is not sent back. The outcome is ``ok`` (the HTML), ``failed`` (the stylesheet does
not compile or fails on the document: the caller falls back to ours) or ``costly`` (a limit was exceeded).

Three kinds of stylesheet: ``dpi`` (our file, ``path``) and ``producer`` (the bytes ``xsl``) run with no file or
network access (``DENY_ALL``); ``agency`` (the file ``path``) runs with network and writing denied and reads, for
its ``xsl:import``, ``xsl:include`` and ``document()``, only files of ``folder``, each without a DOCTYPE. The
document is the CDA bytes the caller has already accepted with the hardened parser; the child parses it again
with the same protections.
"""

from __future__ import annotations

import json
import signal
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

OK, FAILED, COSTLY = "ok", "failed", "costly"
_MAX_FILE_BYTES = 20 * 1024 * 1024  # a file the agency's stylesheet reads, as the hardened parser allows
_HEADER = struct.Struct(">III")  # lengths of the request (JSON), the stylesheet and the document


@dataclass(frozen=True)
class Limits:
    seconds: float  # wall-clock deadline of the whole run, the child's start included
    memory_bytes: int  # the child's address space
    output_bytes: int  # the HTML (UTF-8) the stylesheet may produce


@dataclass(frozen=True)
class Outcome:
    status: str  # OK, FAILED or COSTLY
    output: str = ""
    reason: str = ""  # for the log, never shown to the user


def run_xslt(
    *, kind: str, document: bytes, limits: Limits, xsl: bytes = b"", path: str = "", folder: str = ""
) -> Outcome:
    """Transform ``document`` with a stylesheet in a child process; see the module's docstring."""
    request = json.dumps(
        {"kind": kind, "path": path, "folder": folder, "memory": limits.memory_bytes,
         "output": limits.output_bytes, "cpu": int(limits.seconds) + 1}
    ).encode()  # fmt: skip
    payload = _HEADER.pack(len(request), len(xsl), len(document)) + request + xsl + document
    process = subprocess.Popen(  # noqa: S603  (our interpreter and our own script, no shell, no user input)
        [sys.executable, "-I", str(Path(__file__).resolve())],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        answer, _ = process.communicate(payload, timeout=limits.seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return Outcome(COSTLY, reason=f"stopped after {limits.seconds} s")
    status, _, body = answer.partition(b"\n")
    if status == OK.encode() and process.returncode == 0:
        return Outcome(OK, output=body.decode("utf-8"))
    if status in (FAILED.encode(), COSTLY.encode()):
        return Outcome(status.decode(), reason=body[:1000].decode("utf-8", "replace"))
    if process.returncode in (-signal.SIGXCPU, -signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT):
        # CPU limit, the kernel's OOM killer, or libxml2 failing an allocation under the memory cap
        return Outcome(COSTLY, reason=f"child ended by signal {-process.returncode}")
    return Outcome(FAILED, reason=f"child ended with code {process.returncode} and no answer")


# --- In the child ------------------------------------------------------------------------------------------


def _child() -> None:
    import resource

    data = sys.stdin.buffer.read()
    request_length, xsl_length, document_length = _HEADER.unpack_from(data)
    start = _HEADER.size
    request = json.loads(data[start : start + request_length])
    xsl = data[start + request_length : start + request_length + xsl_length]
    document = data[start + request_length + xsl_length :]
    resource.setrlimit(resource.RLIMIT_AS, (request["memory"], request["memory"]))
    resource.setrlimit(resource.RLIMIT_CPU, (request["cpu"], request["cpu"] + 1))
    status, body = _transform(request, xsl, document)
    sys.stdout.buffer.write(status.encode() + b"\n" + body)
    sys.stdout.buffer.flush()


def _transform(request: dict, xsl: bytes, document: bytes) -> tuple[str, bytes]:
    from lxml import etree

    try:
        source = etree.fromstring(document, _parser())
        if request["kind"] == "agency":
            transform = _agency_transform(Path(request["path"]), Path(request["folder"]))
        else:
            stylesheet = Path(request["path"]).read_bytes() if request["kind"] == "dpi" else xsl
            transform = etree.XSLT(_checked(stylesheet), access_control=etree.XSLTAccessControl.DENY_ALL)
        output = str(transform(source)).encode("utf-8")
    except MemoryError:
        return COSTLY, b"memory limit"
    except (etree.LxmlError, ValueError, OSError) as exc:
        text = f"{exc} (peak memory {_peak_memory() // 2**20} MiB)"
        return (COSTLY if _ran_out_of_memory(exc, request["memory"]) else FAILED), text.encode("utf-8", "replace")
    if len(output) > request["output"]:
        return COSTLY, f"output of {len(output)} bytes, {request['output']} at most".encode()
    if not output.strip():
        return FAILED, b"the stylesheet produced no output"
    return OK, output


def _ran_out_of_memory(exc: Exception, limit: int) -> bool:
    """libxml2 and libxslt report a failed allocation in many ways ("copy html failed", an undefined variable...):
    a failure with the process's peak resident memory close to the cap is taken as the cap reached."""
    from lxml import etree

    log = getattr(exc, "error_log", None) or []
    reported = any(entry.type == etree.ErrorTypes.ERR_NO_MEMORY for entry in log)
    return reported or _peak_memory() >= limit * 0.7


def _peak_memory() -> int:
    """The child's own peak resident memory (VmHWM, reset by exec; getrusage's maxrss would include the
    parent's, kept across exec), 0 where /proc is not there."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024  # kB
    return 0


def _parser(resolver: object = None):  # noqa: ANN202  (lxml is imported in the child only)
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    if resolver is not None:
        parser.resolvers.add(resolver)
    return parser


def _checked(data: bytes, parser: object = None, base_url: str | None = None):  # noqa: ANN202
    """Parse a stylesheet (or a file it reads); a DOCTYPE is refused, as the hardened parser does."""
    from lxml import etree

    root = etree.fromstring(data, parser or _parser(), base_url=base_url)
    if root.getroottree().docinfo.doctype:
        raise ValueError("a stylesheet file with a DOCTYPE is refused")
    return root


def _agency_transform(path: Path, folder: Path):  # noqa: ANN202
    from lxml import etree

    class FolderResolver(etree.Resolver):
        """xsl:import/xsl:include/document() targets from the stylesheet's folder and nowhere else; raising stops
        libxslt from falling back to its own loader, so a refused URL fails the stylesheet."""

        def resolve(self, system_url: str, public_id: str | None, context: object) -> object:
            target = _local_path(system_url).resolve()
            return self.resolve_string(_folder_file(target, folder), context, base_url=str(target))

    parser = _parser(FolderResolver())
    stylesheet = _checked(_folder_file(path, folder), parser, base_url=str(path))
    access = etree.XSLTAccessControl(
        read_file=True, write_file=False, create_dir=False, read_network=False, write_network=False
    )
    return etree.XSLT(stylesheet, access_control=access)


def _local_path(url: str) -> Path:
    parts = urlsplit(url)
    if parts.scheme not in ("", "file") or parts.netloc:
        raise ValueError(f"{url}: only files of the stylesheet folder can be read")
    return Path(unquote(parts.path if parts.scheme else url))


def _folder_file(path: Path, folder: Path) -> bytes:
    """The bytes of a file of ``folder`` (symbolic links resolved), once checked: not too large, no DOCTYPE."""
    resolved = path.resolve()
    if not resolved.is_relative_to(folder) or not resolved.is_file():
        raise ValueError(f"{path}: not a file of the stylesheet folder {folder}")
    if resolved.stat().st_size > _MAX_FILE_BYTES:
        raise ValueError(f"{path}: larger than {_MAX_FILE_BYTES} bytes")
    data = resolved.read_bytes()
    _checked(data)
    return data


if __name__ == "__main__":
    _child()
