"""Deployment settings come from the environment, and `check --deploy` is clean with them set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from foundation.env import env_header

PROJECT_DIR = Path(__file__).resolve().parents[2]

DEPLOYMENT_ENV = {
    "OARLOCK_SECURE_COOKIES": "1",
    "OARLOCK_HSTS_SECONDS": "31536000",
    "OARLOCK_HSTS_INCLUDE_SUBDOMAINS": "1",
    "OARLOCK_SSL_REDIRECT": "1",
    "OARLOCK_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto: https",
    "OARLOCK_CSRF_TRUSTED_ORIGINS": "https://llm.example.com",
    "OARLOCK_ALLOWED_HOSTS": "llm.example.com",
}


def deploy_check(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {name: value for name, value in os.environ.items() if not name.startswith("OARLOCK_")}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_DIR,
        env={**clean, "OARLOCK_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_deployment_settings(tmp_path: Path) -> None:
    result = deploy_check(tmp_path, DEPLOYMENT_ENV)
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_fails_on_the_defaults(tmp_path: Path) -> None:
    result = deploy_check(tmp_path, {})
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr


def test_a_proxy_header_is_read_as_djangos_meta_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OARLOCK_SECURE_PROXY_SSL_HEADER", " X-Forwarded-Proto :  https ")
    assert env_header("OARLOCK_SECURE_PROXY_SSL_HEADER") == ("HTTP_X_FORWARDED_PROTO", "https")
    monkeypatch.setenv("OARLOCK_SECURE_PROXY_SSL_HEADER", "")
    assert env_header("OARLOCK_SECURE_PROXY_SSL_HEADER") is None


@pytest.mark.parametrize("raw", ["https", "X-Forwarded-Proto", "X Forwarded: https", ": https", "X-Proto:"])
def test_a_malformed_proxy_header_is_refused_at_start(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("OARLOCK_SECURE_PROXY_SSL_HEADER", raw)
    with pytest.raises(ImproperlyConfigured, match="X-Forwarded-Proto: https"):
        env_header("OARLOCK_SECURE_PROXY_SSL_HEADER")
