"""The root of Oarlock's own exceptions.

Business code raises facts (``InvalidApiKey``, ``ModelNotFound``, ``UpstreamUnavailable``);
``compat_api.error_envelope`` is the one place that turns them into HTTP statuses and
OpenAI error bodies.
"""

from __future__ import annotations


class OarlockError(Exception):
    """An error whose message is safe to show to the API client."""

    default_message: str = "An error occurred."

    def __init__(self, message: str | None = None, *, param: str | None = None) -> None:
        self.message = message or self.default_message
        self.param = param
        super().__init__(self.message)
