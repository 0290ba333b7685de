"""Facts about a request that make it invalid, raised by the OpenAI surface."""

from __future__ import annotations

from foundation.errors import OarlockError


class InvalidRequest(OarlockError):
    """400 ``invalid_request_error``; ``code`` follows OpenAI's (``unknown_parameter``, ...)."""

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message, param=param)
        self.code = code


class PayloadTooLarge(OarlockError):
    """413: the request body, or the body we would send upstream, is over a size limit."""


class NotFoundError(OarlockError):
    """404 for an object the caller named (a stored response, a model)."""

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message, param=param)
        self.code = code
