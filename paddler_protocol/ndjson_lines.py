"""Cut a chunked NDJSON body into lines (protocol reference 1.7).

HTTP chunks do not follow line boundaries: a line can be split across chunks and one chunk can
hold several lines. Paddler ends every line with ``\\n``; we also accept ``\\r\\n``, skip blank
lines, and hand back an unterminated last line at the end of the body rather than lose it.
"""

from __future__ import annotations

from paddler_protocol.errors import UpstreamProtocolError

# Far above any real line (a ToolCallParsed batch is a few KiB); only a broken upstream gets here,
# and without a cap it would make us buffer an endless line in memory.
MAX_LINE_BYTES = 16 * 1024 * 1024


class NdjsonLines:
    """Incremental splitter: ``feed`` each chunk, then ``finish`` once at the end of the body."""

    __slots__ = ("_pending", "_pending_size", "_max_line_bytes")

    def __init__(self, *, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        # Fragments of the current unterminated line, joined only once its "\n" arrives, so a
        # long line split over many chunks costs linear, not quadratic, copying.
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._max_line_bytes = max_line_bytes

    def feed(self, chunk: bytes) -> list[bytes]:
        """The complete, non-blank lines ``chunk`` finishes, without their line endings."""
        if b"\n" not in chunk:
            if chunk:
                self._pending.append(chunk)
                self._pending_size += len(chunk)
                if self._pending_size > self._max_line_bytes:
                    raise UpstreamProtocolError("Upstream sent an NDJSON line that is too long")
            return []
        if self._pending:
            self._pending.append(chunk)
            chunk = b"".join(self._pending)
            self._pending.clear()
            self._pending_size = 0
        parts = chunk.split(b"\n")
        tail = parts.pop()
        if tail:
            self._pending.append(tail)
            self._pending_size = len(tail)
        return [_strip_cr(part) for part in parts if part and not part.isspace()]

    def finish(self) -> bytes | None:
        """The unterminated last line, if the body did not end with ``\\n``."""
        if not self._pending:
            return None
        line = b"".join(self._pending)
        self._pending.clear()
        self._pending_size = 0
        return None if line.isspace() else _strip_cr(line)


def _strip_cr(line: bytes) -> bytes:
    return line[:-1] if line.endswith(b"\r") else line
