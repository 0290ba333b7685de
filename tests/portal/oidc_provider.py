"""A real OpenID Connect provider for the SSO tests: ``oidc-provider-mock`` (PyPI) run as its
own process on loopback. Its users and their claims are set over its HTTP API."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import httpx

from tests.live_server import free_port


class OidcProvider:
    def __init__(self) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> OidcProvider:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(self.port),
             "--require-nonce"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.issuer + "/.well-known/openid-configuration", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the OIDC provider did not start")

    def set_user(self, sub: str, **claims: Any) -> None:
        """The claims the provider puts in the ID token and userinfo for ``sub`` from now on."""
        response = httpx.put(f"{self.issuer}/users/{sub}", json=claims, timeout=5)
        response.raise_for_status()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
