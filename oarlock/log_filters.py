"""Stamps every log record with the current request id."""

from __future__ import annotations

import logging

from foundation.request_context import current_request_id


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True
