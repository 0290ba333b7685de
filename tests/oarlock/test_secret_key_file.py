"""The generated secret key: private, written whole, the same for processes that start together."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

from oarlock.secret_key_file import private_directory, read_or_create_secret_key


def test_the_key_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    key = read_or_create_secret_key(tmp_path / "secret_key")
    assert len(key) >= 50
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert [path.name for path in tmp_path.iterdir()] == ["secret_key"]  # no temporary left behind


def test_an_existing_key_is_kept(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("kept-key\n")
    assert read_or_create_secret_key(tmp_path / "secret_key") == "kept-key"


def test_processes_starting_together_all_read_the_same_whole_key(tmp_path: Path) -> None:
    key_file = tmp_path / "secret_key"
    start = threading.Barrier(16)
    keys: list[str] = []

    def start_one() -> None:
        start.wait()
        keys.append(read_or_create_secret_key(key_file))

    threads = [threading.Thread(target=start_one) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 16 and len(set(keys)) == 1 and len(keys[0]) >= 50


def test_the_var_directory_is_created_private(tmp_path: Path) -> None:
    var = private_directory(tmp_path / "var" / "inner")
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
