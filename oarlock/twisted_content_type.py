"""Twisted's parse of each request's Content-Type, memoised.

Daphne serves on Twisted, whose ``Request.requestReceived`` parses the ``Content-Type`` of every
request with a body through the ``email`` package (``twisted.web.http._parseContentType``: an
``EmailMessage``, its header registry and policy) to find form posts, whose arguments Daphne
never reads. That was ~5 % of the event loop's time per /v1 request (py-spy,
``bench.profile_request_path``), for a handful of distinct values per deployment.

The function is pure (bytes in, bytes out), so an LRU cache gives the same answers; it is
bounded, so a client sending ever-new values costs at most ``CACHE_SIZE`` entries of at most a
header line each. Nothing changes if Twisted renames or drops the function.
"""

from __future__ import annotations

import functools
from typing import Final

from twisted.web import http

CACHE_SIZE: Final = 64


def memoize_content_type_parsing() -> None:
    parse = getattr(http, "_parseContentType", None)
    if parse is None or hasattr(parse, "cache_info"):
        return
    http._parseContentType = functools.lru_cache(maxsize=CACHE_SIZE)(parse)
