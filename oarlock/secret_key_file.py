"""The generated ``SECRET_KEY`` kept in ``var/`` when ``OARLOCK_SECRET_KEY`` is not set.

The file is written whole under a temporary name with mode 0600 and then linked into place, so
no process ever reads a half-written or world-readable key, and two processes starting at once
(``make serve WORKERS=N``) end up with the same key: the first link wins, the other reads it.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path


def private_directory(path: Path) -> Path:
    """``path`` created with mode 0700 if missing (an existing directory is left as it is)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def read_or_create_secret_key(key_file: Path) -> str:
    if not key_file.exists():
        _create_atomically(key_file, secrets.token_urlsafe(50))
    return key_file.read_text().strip()


def _create_atomically(key_file: Path, key: str) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=key_file.parent, prefix=".secret_key.")  # mode 0600
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(key)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, key_file)  # never replaces: another process's key wins
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)
