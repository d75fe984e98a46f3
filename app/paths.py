"""Where Ghostpilot keeps its files: private per-user directories from platformdirs (XDG on Linux).

The log holds what the user typed and thumbnails of their screen, so directories are 0700 and files 0600
regardless of the process umask. Nothing here touches the disk until called.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs

APP_NAME = "ghostpilot"
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) and make it 0700, also when it already existed with wider rights."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    os.chmod(path, PRIVATE_DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Make an existing file 0600 (owner read/write only); a missing file is left missing."""
    if path.exists():
        os.chmod(path, PRIVATE_FILE_MODE)
    return path


@contextmanager
def private_umask() -> Iterator[None]:
    """Files created inside the block start as 0600 (umask 077), so they are never briefly world-readable.

    The umask is process-wide: keep the block short (opening a file, not a long write).
    """
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def data_path() -> Path:
    """Where the data directory is, without creating it (for readers and checks that must not change it)."""
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def data_dir() -> Path:
    """The user's Ghostpilot data directory (the log database lives here), created private."""
    return private_dir(data_path())


def config_dir() -> Path:
    """The user's Ghostpilot configuration directory (settings), created private."""
    return private_dir(platformdirs.user_config_path(APP_NAME, appauthor=False))
