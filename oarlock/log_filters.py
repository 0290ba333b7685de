"""Filters on every log record: the current request id, and escaped client text.

A value a client chose (a model name, a tool type) may reach a log message; a newline in it
would start a line a reader (or a log shipper) takes for a record of its own — a forged log
line. ``EscapedMessageFilter`` renders the message once and escapes line breaks and other
control characters, so one record is always one line; tracebacks (``exc_info``) are the
formatter's and keep their lines.
"""

from __future__ import annotations

import logging

from foundation.request_context import current_request_id

# C0 controls except tab, DEL, C1 controls and the Unicode line/paragraph separators.
_ESCAPES = {
    code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    for code in [*range(0x00, 0x09), *range(0x0A, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]
}
_ESCAPES |= {ord("\n"): "\\n", ord("\r"): "\\r"}


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


class EscapedMessageFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        escaped = escape_log_text(message)
        if escaped is not message:
            record.msg, record.args = escaped, None
        return True


def escape_log_text(text: str) -> str:
    """``text`` with every character that could break a log line escaped (same object if none)."""
    if text.isprintable():
        return text
    return text.translate(_ESCAPES)
