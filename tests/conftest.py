"""Shared pytest setup for fairnn.

- ``FAIRNN_DATA_DIR`` points at the offline data mirror (``<repo>/../shared/data``)
  when it exists (else at a pre-set ``$FAIRNN_DATA_DIR`` directory, else it is unset);
- ``FAIRNN_OFFLINE=1``: tests never download;
- ``FAIRNN_CACHE_DIR`` is a fresh temporary directory for the session;
- the ``requires_mirror`` marker skips a test when no mirror is available (datasets
  other than the bundled adult and german need it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _find_mirror() -> Path | None:
    mirror = REPO_ROOT.parent / "shared" / "data"
    if mirror.is_dir():
        return mirror
    env = os.environ.get("FAIRNN_DATA_DIR", "").strip()
    if env and Path(env).is_dir():
        return Path(env)
    return None


MIRROR_DIR = _find_mirror()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requires_mirror: needs the offline data mirror ($FAIRNN_DATA_DIR); skipped without it",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if MIRROR_DIR is not None:
        return
    skip = pytest.mark.skip(
        reason="offline data mirror not found (../shared/data or $FAIRNN_DATA_DIR)"
    )
    for item in items:
        if "requires_mirror" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def fairnn_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Session environment: mirror as data dir, offline, a temporary cache."""
    mp = pytest.MonkeyPatch()
    if MIRROR_DIR is not None:
        mp.setenv("FAIRNN_DATA_DIR", str(MIRROR_DIR))
    else:
        mp.delenv("FAIRNN_DATA_DIR", raising=False)
    mp.setenv("FAIRNN_OFFLINE", "1")
    mp.setenv("FAIRNN_CACHE_DIR", str(tmp_path_factory.mktemp("fairnn-cache")))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def mirror_dir() -> Path | None:
    """The offline data mirror, or None when it is not available."""
    return MIRROR_DIR
