"""How axes names a client in its logs: nothing a client typed can start a log line."""

from __future__ import annotations

from accounts.login_lockout import client_label


def test_a_username_with_a_newline_stays_on_one_log_line() -> None:
    label = client_label("x\n2026-01-01 INFO FAKE LOG LINE", "10.0.0.1", "agent", "/admin/login/", None)
    assert "\n" not in label and "\\n2026-01-01 INFO FAKE" in label


def test_a_long_username_is_bounded() -> None:
    assert len(client_label("a" * 100_000, "10.0.0.1", "agent", "/admin/login/", None)) < 500
