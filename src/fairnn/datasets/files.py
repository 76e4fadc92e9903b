"""Locating, verifying and (optionally) downloading dataset files.

A registered dataset file is looked up in this order:

1. an explicit ``path`` argument (a file, a directory, or a mapping file name -> path);
2. the data directory: the ``data_dir`` argument, else ``$FAIRNN_DATA_DIR``, laid out
   as ``<data_dir>/<dataset>/<file>`` (the layout of the offline mirror);
3. the user cache: ``$FAIRNN_CACHE_DIR``, else ``$XDG_CACHE_HOME/fairnn``, else
   ``~/.cache/fairnn``, laid out the same way;
4. for a file marked ``bundled`` (Adult's and German's, in their catalog entries), the
   gzip copy shipped with the package (``fairnn/datasets/bundled/<file>.gz``, the UCI
   bytes compressed with ``mtime=0``), decompressed into the cache (or into memory when
   the cache is not writable) and verified after decompression;
5. a checksum-verified download into the cache (``urllib``, with a timeout, into a
   temporary file, verified, then renamed atomically), skipped when
   ``FAIRNN_OFFLINE=1`` or when the network cannot be reached.

Otherwise a :class:`~fairnn.errors.DataNotFoundError` names the file, its URL and
where to put it. Every file located for a registered dataset is checked against its
recorded sha256 (a :class:`~fairnn.errors.ChecksumError` names the file, both hashes
and the fix). Hashing is chunked and cached per ``(path, size, mtime)`` within a
process, so repeated loads do not re-hash.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO, Literal

from fairnn.errors import ChecksumError, DataNotFoundError, DatasetError

ENV_DATA_DIR = "FAIRNN_DATA_DIR"
ENV_CACHE_DIR = "FAIRNN_CACHE_DIR"
ENV_OFFLINE = "FAIRNN_OFFLINE"

DOWNLOAD_TIMEOUT_S = 30.0
_CHUNK = 1 << 20

Origin = Literal["path", "data_dir", "cache", "bundled", "download"]
PathArg = str | os.PathLike[str] | Mapping[str, str | os.PathLike[str]] | None


@dataclass(frozen=True)
class DataFile:
    """One file of a registered dataset.

    ``path`` is relative to a data directory (``"adult/adult.data"``); its first
    component is the dataset name. ``url`` is where the exact bytes hashed by
    ``sha256`` can be downloaded (``None`` when no such place is known);
    ``sha256=None`` marks a file the user supplies (no copy fairnn could hash:
    it is used unverified, and a missing file's error says where to put it);
    ``canonical_url`` is the original distribution when it differs (for example
    when the original is an ``.xls`` or a ``.zip`` and the mirror holds a
    conversion or a member). ``bundled`` marks a file whose gzip copy ships inside the
    package (``fairnn/datasets/bundled/<name>.gz``, see :func:`make_bundled`).
    """

    path: str
    sha256: str | None
    url: str | None = None
    md5: str | None = None
    size: int | None = None
    canonical_url: str | None = None
    note: str = ""
    bundled: bool = False

    @property
    def dataset(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def bundled_name(self) -> str:
        return f"{self.name}.gz"


@dataclass(frozen=True)
class ResolvedFile:
    """A located (and normally verified) dataset file.

    ``path`` is set when the bytes are on disk; ``data`` holds them when a bundled
    file was decompressed into memory because the cache was not writable.
    """

    file: DataFile
    origin: Origin
    path: Path | None = None
    data: bytes | None = None
    sha256: str | None = None
    verified: bool = False

    def source(self) -> Path | BinaryIO:
        """What a parser reads: the path, or an in-memory binary stream."""
        if self.path is not None:
            return self.path
        assert self.data is not None
        return io.BytesIO(self.data)

    def describe(self) -> dict[str, Any]:
        """JSON-friendly provenance (goes into ``Splits.info['files']``)."""
        where = str(self.path) if self.path is not None else f"bundled:{self.file.bundled_name}"
        return {
            "file": self.file.path,
            "path": where,
            "origin": self.origin,
            "sha256": self.sha256,
            "expected_sha256": self.file.sha256,
            "verified": self.verified,
        }


# ---------------------------------------------------------------------------
# directories and environment


def is_offline() -> bool:
    """True when ``FAIRNN_OFFLINE`` is set to 1/true/yes/on."""
    return os.environ.get(ENV_OFFLINE, "").strip().lower() in {"1", "true", "yes", "on"}


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The data directory: ``explicit``, else ``$FAIRNN_DATA_DIR``, else ``None``."""
    if explicit is not None:
        return Path(explicit).expanduser()
    env = os.environ.get(ENV_DATA_DIR, "").strip()
    return Path(env).expanduser() if env else None


def cache_dir() -> Path:
    """The user cache: ``$FAIRNN_CACHE_DIR``, else ``$XDG_CACHE_HOME/fairnn``, else ``~/.cache/fairnn``."""
    env = os.environ.get(ENV_CACHE_DIR, "").strip()
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    if xdg:
        return Path(xdg).expanduser() / "fairnn"
    return Path.home() / ".cache" / "fairnn"


def bundled_resource(file: DataFile) -> Any | None:
    """The bundled ``.gz`` resource of ``file`` (a Traversable), or ``None``."""
    if not file.bundled:
        return None
    res = resources.files("fairnn.datasets").joinpath("bundled").joinpath(file.bundled_name)
    return res if res.is_file() else None


# ---------------------------------------------------------------------------
# hashing

_VERIFIED: dict[tuple[str, int, int], str] = {}


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """sha256 of a file, read in 1 MiB chunks, cached per (path, size, mtime) in this process."""
    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    hit = _VERIFIED.get(key)
    if hit is not None:
        return hit
    h = hashlib.sha256()
    with p.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    digest = h.hexdigest()
    _VERIFIED[key] = digest
    return digest


def clear_hash_cache() -> None:
    """Forget the per-process hash cache (tests use this)."""
    _VERIFIED.clear()


def _checksum_error(
    file: DataFile, where: str, actual: str, *, downloaded: bool = False
) -> ChecksumError:
    if downloaded:
        fix = (
            f"the download from {file.url} did not match; nothing was kept. The upstream file may "
            f"have changed: fetch it yourself, check it, and place it at <data dir>/{file.path}, "
            "or pass verify=False to skip the check at your own risk"
        )
    else:
        fix = (
            "delete it (or replace it with the original file) so that fairnn looks elsewhere or "
            "re-downloads it, or pass verify=False to use it unverified at your own risk"
        )
    return ChecksumError(
        f"checksum mismatch for {file.path} at {where}: expected sha256 {file.sha256}, "
        f"got {actual}. Fix: {fix}."
    )


def verify(file: DataFile, path: Path) -> str:
    """Hash ``path`` and compare with ``file.sha256``; raise :class:`ChecksumError` on mismatch."""
    actual = sha256_file(path)
    if actual != file.sha256:
        raise _checksum_error(file, str(path), actual)
    return actual


# ---------------------------------------------------------------------------
# locating


def _resolve_explicit(path: PathArg, file: DataFile, n_files: int) -> tuple[Path | None, list[str]]:
    """Candidate for ``file`` from an explicit ``path`` argument (None when not applicable)."""
    if path is None:
        return None, []
    if isinstance(path, Mapping):
        if file.name in path:
            return Path(path[file.name]).expanduser(), []
        if file.path in path:
            return Path(path[file.path]).expanduser(), []
        return None, []
    p = Path(path).expanduser()
    if p.is_dir():
        for cand in (p / file.name, p / file.path):
            if cand.is_file():
                return cand, []
        return p / file.name, [str(p / file.name), str(p / file.path)]
    if n_files == 1 or p.name == file.name:
        return p, []
    # a file for a multi-file dataset: look for the sibling next to it
    return p.parent / file.name, []


def _atomic_write(dest: Path, data: bytes) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _from_bundled(file: DataFile) -> ResolvedFile | None:
    res = bundled_resource(file)
    if res is None:
        return None
    data = gzip.decompress(res.read_bytes())
    actual = sha256_bytes(data)
    if actual != file.sha256:
        # a broken installation: never silently use it
        raise ChecksumError(
            f"checksum mismatch for the bundled copy of {file.path} "
            f"(fairnn/datasets/bundled/{file.bundled_name}): expected sha256 {file.sha256}, got "
            f"{actual}. Fix: reinstall fairnn, or place the original file at <data dir>/{file.path}."
        )
    dest = cache_dir() / file.path
    try:
        _atomic_write(dest, data)
    except OSError:
        return ResolvedFile(file, "bundled", data=data, sha256=actual, verified=True)
    return ResolvedFile(file, "bundled", path=dest, sha256=actual, verified=True)


def download(file: DataFile, dest: Path, *, timeout: float = DOWNLOAD_TIMEOUT_S) -> str:
    """Download ``file.url`` to ``dest``: stream into a temporary file next to it, verify
    the sha256, then rename atomically. Returns the sha256.

    Raises :class:`ChecksumError` when the bytes do not match (nothing is kept) and
    ``OSError``/``urllib.error.URLError`` when the download itself fails.
    """
    if not file.url:
        raise DatasetError(f"{file.path} has no download URL")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    h = hashlib.sha256()
    try:
        req = urllib.request.Request(file.url, headers={"User-Agent": "fairnn"})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(req, timeout=timeout) as resp:
            for chunk in iter(lambda: resp.read(_CHUNK), b""):
                h.update(chunk)
                out.write(chunk)
        actual = h.hexdigest()
        if actual != file.sha256:
            raise _checksum_error(file, file.url, actual, downloaded=True)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return actual


def _not_found(file: DataFile, searched: list[str], reason: str) -> DataNotFoundError:
    ddir = data_dir()
    env_hint = f"(currently {ddir})" if ddir is not None else "(currently unset)"
    if file.sha256 is None:  # a user-supplied file: fairnn has no copy to fetch
        return DataNotFoundError(
            f"dataset file {file.path} not found. Searched: "
            f"{', '.join(searched) if searched else 'nothing'}. fairnn cannot download this file"
            + (f": {file.note}" if file.note else "")
            + f". Put your copy at $FAIRNN_DATA_DIR/{file.path} {env_hint}, or at "
            f"{cache_dir() / file.path}, or pass path=... to the loader."
        )
    url = file.url or file.canonical_url or "no download URL is recorded"
    lines = [
        f"dataset file {file.path} not found.",
        f"Searched: {', '.join(searched) if searched else 'nothing'}.",
        f"Download: {reason}.",
        f"Get it from {url}"
        + (
            f" (original distribution: {file.canonical_url})"
            if file.canonical_url and file.url
            else ""
        )
        + f" and put it at $FAIRNN_DATA_DIR/{file.path} {env_hint}, or at "
        f"{cache_dir() / file.path}, or pass path=... to the loader.",
        f"Expected sha256: {file.sha256}.",
    ]
    return DataNotFoundError(" ".join(lines))


def locate_file(
    file: DataFile,
    *,
    path: PathArg = None,
    data_dir_arg: str | os.PathLike[str] | None = None,
    verify_hash: bool = True,
    allow_download: bool = True,
    n_files: int = 1,
) -> ResolvedFile:
    """Find one registered file (see the module docstring for the order)."""
    searched: list[str] = []

    def found(p: Path, origin: Origin) -> ResolvedFile:
        if verify_hash and file.sha256 is not None:
            return ResolvedFile(file, origin, path=p, sha256=verify(file, p), verified=True)
        return ResolvedFile(file, origin, path=p, sha256=None, verified=False)

    # 1. explicit path
    explicit, tried = _resolve_explicit(path, file, n_files)
    if explicit is not None:
        if explicit.is_file():
            return found(explicit, "path")
        raise DataNotFoundError(
            f"dataset file {file.path} not found at the path you passed: "
            f"{', '.join(tried) if tried else explicit}. Fix: pass the file (or a directory holding "
            f"{file.name}, or a mapping {{'{file.name}': path}}), or drop path= to use "
            f"$FAIRNN_DATA_DIR/{file.path}."
        )
    # 2. data directory
    ddir = data_dir(data_dir_arg)
    if ddir is not None:
        cand = ddir / file.path
        searched.append(str(cand))
        if cand.is_file():
            return found(cand, "data_dir")
    # 3. cache
    cand = cache_dir() / file.path
    searched.append(str(cand))
    if cand.is_file():
        return found(cand, "cache")
    # 4. bundled copy
    if file.bundled:
        searched.append(f"bundled {file.bundled_name}")
        hit = _from_bundled(file)
        if hit is not None:
            return hit
    # 5. download
    if not allow_download:
        reason = "not attempted (download=False)"
    elif is_offline():
        reason = f"skipped because {ENV_OFFLINE}=1"
    elif not file.url:
        reason = "no verifiable download URL is recorded for this file"
    else:
        try:
            sha = download(file, cand)
            return ResolvedFile(file, "download", path=cand, sha256=sha, verified=True)
        except ChecksumError:
            raise
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = f"failed ({type(exc).__name__}: {exc})"
    raise _not_found(file, searched, reason)


def locate_files(
    files: tuple[DataFile, ...],
    *,
    path: PathArg = None,
    data_dir_arg: str | os.PathLike[str] | None = None,
    verify_hash: bool = True,
    allow_download: bool = True,
) -> dict[str, ResolvedFile]:
    """Locate every file of a dataset; keys are the file names (``"adult.data"``)."""
    return {
        f.name: locate_file(
            f,
            path=path,
            data_dir_arg=data_dir_arg,
            verify_hash=verify_hash,
            allow_download=allow_download,
            n_files=len(files),
        )
        for f in files
    }


def find_local(
    file: DataFile, *, data_dir_arg: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """Where ``file`` is present locally, without hashing, decompressing or downloading."""
    places: list[dict[str, str]] = []
    ddir = data_dir(data_dir_arg)
    if ddir is not None and (ddir / file.path).is_file():
        places.append({"origin": "data_dir", "path": str(ddir / file.path)})
    if (cache_dir() / file.path).is_file():
        places.append({"origin": "cache", "path": str(cache_dir() / file.path)})
    if bundled_resource(file) is not None:
        places.append({"origin": "bundled", "path": f"fairnn/datasets/bundled/{file.bundled_name}"})
    return {"file": file.path, "present": bool(places), "locations": places}


def make_bundled(src: str | os.PathLike[str], dest: str | os.PathLike[str]) -> str:
    """Write ``src`` gzip-compressed to ``dest`` reproducibly (``mtime=0``, no file name in
    the header, level 9). Returns the sha256 of the uncompressed bytes.

    This is how ``fairnn/datasets/bundled/*.gz`` were made from the offline mirror.
    """
    data = Path(src).read_bytes()
    with (
        open(dest, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz,
    ):
        gz.write(data)
    return sha256_bytes(data)
