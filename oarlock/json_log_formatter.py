"""One JSON object per log line (``OARLOCK_LOG_FORMAT=json``), for log pipelines that index fields.

Carries the request id that ``RequestContextFilter`` stamps on the record, so a line can be joined
with the client's ``x-request-id`` and the usage record. Only the formatted message and fixed
fields are written: nothing from the request is added here that the plain format would not show.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


class JsonLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)
