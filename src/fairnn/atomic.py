"""Output folders that appear complete or not at all.

:func:`atomic_directory` yields an empty temporary folder beside the target
(``.NAME.new.PID.HEX.tmp``, same parent so the rename stays on one file system). The
caller writes its files there; on success they are fsynced and the folder is renamed
into place, one atomic step on POSIX. An existing target folder is refused unless
``overwrite``; then it is renamed aside (``.NAME.old.PID.HEX.tmp``), the new folder
renamed in and the old one deleted. A writer killed midway leaves only a dot-folder; the
next save to the same target deletes it, or puts an old folder back when a kill fell
between the two renames of a swap.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from fairnn.errors import ModelFileError

_TEMP = re.compile(r"(new|old)\.(\d+)\.[0-9a-f]+\.tmp")


def check_target(
    target: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    owned: Collection[str] = (),
    what: str = "a fairnn model",
    option: str = "--out",
) -> Path:
    """Raise a :class:`ModelFileError` unless a folder can be written at ``target``.

    ``target`` may be absent or an empty folder; a folder holding only ``owned`` files
    (and dot-files ending in ``.tmp``) is replaced when ``overwrite``. Nothing is changed.
    """
    path = Path(target)
    where = f"{option} {str(path)!r}"
    if path.is_symlink() or path.exists():
        if not path.is_dir():
            raise ModelFileError(
                f"{where} is an existing file; fairnn writes a folder there: give a new "
                "folder name or delete the file"
            )
        try:
            names = sorted(p.name for p in path.iterdir())
        except OSError as e:
            raise _write_error(e, path, option) from None
        foreign = [n for n in names if n not in owned and not _stray_temp(n)]
        if foreign:
            raise ModelFileError(
                f"{where} is a folder holding other files ({', '.join(foreign[:3])}"
                f"{', ...' if len(foreign) > 3 else ''}); fairnn replaces only folders it "
                "wrote: choose a new folder name"
            )
        if names and not overwrite:
            raise ModelFileError(
                f"{where} already holds {what}; pass --overwrite (overwrite=True in Python) "
                "to replace it, or choose another folder"
            )
    ancestor = path.absolute().parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ModelFileError(
            f"{where}: {str(ancestor)!r} is a file, not a folder; choose another path"
        )
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ModelFileError(
            f"{where}: cannot write in {str(ancestor)!r} (permission denied); choose a folder "
            "you can write to"
        )
    return path


@contextmanager
def atomic_directory(
    target: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    owned: Collection[str] = (),
    what: str = "a fairnn model",
    option: str = "--out",
) -> Iterator[Path]:
    """Yield an empty temporary folder; when the block succeeds it becomes ``target``.

    The checks and ``overwrite`` are those of :func:`check_target`. Any ``OSError``
    (permission, full disk) becomes a :class:`ModelFileError` naming ``option``; on any
    error the temporary folder is removed and ``target`` is left as it was.
    """
    path = Path(target)
    check = partial(check_target, path, overwrite=overwrite, owned=owned, what=what, option=option)
    check()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _clean_stale(path)
        check()  # a stale swap may have put an old folder back
        tmp = _temp_name(path, "new")
        tmp.mkdir()
    except OSError as e:
        raise _write_error(e, path, option) from None
    try:
        yield tmp
        _fsync_tree(tmp)
        _commit(tmp, path, check)
    except OSError as e:
        raise _write_error(e, path, option) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def leftovers(target: str | os.PathLike[str]) -> list[Path]:
    """Temporary folders that interrupted saves to ``target`` left beside it."""
    path = Path(target)
    prefix = f".{path.name}."
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return []
    return sorted(
        p for p in entries if p.name.startswith(prefix) and _TEMP.fullmatch(p.name[len(prefix) :])
    )


def _commit(tmp: Path, path: Path, check: Callable[[], Path]) -> None:
    """Rename ``tmp`` to ``path``; swap out an existing folder when ``check`` allows it."""
    try:
        os.rename(tmp, path)  # atomic; replaces an absent target or an empty folder
    except OSError as e:
        if e.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
        check()  # another writer may have got there first
        old = _temp_name(path, "old")
        os.rename(path, old)
        os.rename(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    _fsync_dir(path.parent)


def _clean_stale(path: Path) -> None:
    """Delete temporary folders of ``path`` whose writer is dead; put back an old folder."""
    prefix = f".{path.name}."
    for stale in leftovers(path):
        kind, pid = _TEMP.fullmatch(stale.name[len(prefix) :]).groups()  # type: ignore[union-attr]
        if _alive(int(pid)):
            continue
        if kind == "old" and not path.exists():
            os.rename(stale, path)  # a swap was killed between its two renames
        else:
            shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: int) -> bool:
    if os.name != "posix" or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _temp_name(path: Path, kind: str) -> Path:
    return path.parent / f".{path.name}.{kind}.{os.getpid()}.{secrets.token_hex(4)}.tmp"


def _stray_temp(name: str) -> bool:
    """A temporary file of the per-file writes older fairnn versions made (``.model.json.X.tmp``)."""
    return name.startswith(".") and name.endswith(".tmp")


def _fsync_tree(folder: Path) -> None:
    for p in folder.iterdir():
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    if not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_error(e: OSError, path: Path, option: str) -> ModelFileError:
    reason = e.strerror or type(e).__name__
    where = f" ({e.filename})" if e.filename else ""
    return ModelFileError(
        f"{option} {str(path)!r}: cannot write there: {reason}{where}; choose a folder you "
        "can write to (and check the disk has space)"
    )
