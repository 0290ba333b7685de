"""The one place every /v1 request ends, however it ended."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from compat_api.api_call import ApiCall

logger = logging.getLogger(__name__)


async def close_request(request: Any, *, client_disconnected: bool, status: int) -> None:
    """Finish the meter if the view did not, and release admission. Never raises."""
    call: ApiCall | None = getattr(request, "api_call", None)
    if call is None:
        return
    try:
        if not call.meter.finished:
            outcome = "client_disconnected" if client_disconnected else "failed"
            call.meter.finish(
                outcome=outcome,
                http_status=499 if client_disconnected else status,
                error="ClientDisconnected" if client_disconnected else _unfinished_reason(),
            )
        if call.admission is not None and not call.admission.released:
            await call.admission.release(used_tokens=call.meter.billed_tokens)
            call.meter.admission_settled()
    except Exception:
        logger.exception("closing the request failed")


def _unfinished_reason() -> str:
    # The server cancels every request still running when it shuts down (Daphne on SIGTERM):
    # say so on the usage record rather than leave an unexplained "Unfinished".
    task = asyncio.current_task()
    return "ServerShutdown" if task is not None and task.cancelling() else "Unfinished"
