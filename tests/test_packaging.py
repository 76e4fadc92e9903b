"""The package as a user installs it: sdist and wheel built from the tracked files, the wheel
installed (not editable) into a clean venv from the lock file, then ``fairnn datasets`` and
``fairnn demo`` run offline from a folder with no repository beside them.

This proves that the bundled Adult and German files and every other package data file ship,
and that the wheel's declared dependencies are satisfied by the lock (``pip check``). The new
venv sees the base lock's packages through links into this environment when it holds them at
the locked versions (:func:`_lock_view`), and installs the lock otherwise (about a minute).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "base.txt"

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 600):
    done = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{' '.join(cmd)} exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done


def _tracked_copy(dest: Path) -> Path:
    """The tracked files only (what a clean clone holds), so nothing local leaks into the build."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to know the tracked files")
    files = _run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT)
    for name in filter(None, files.stdout.split("\0")):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def _package_data(src_root: Path) -> set[str]:
    pkg = src_root / "src"
    return {
        str(p.relative_to(pkg))
        for p in (pkg / "fairnn").rglob("*")
        if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts
    }


def _lock_pins(lock: Path) -> dict[str, str]:
    """``name -> version`` of every ``name==version`` line of a pip-compile lock."""
    pins = {}
    for line in lock.read_text().splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, version = line.split("==", 1)
            pins[name.strip().lower()] = version.split()[0]
    return pins


def _lock_view(venv: Path, view: Path) -> bool:
    """Let ``venv`` see exactly the base lock's packages, linked from this environment.

    Installing the lock (torch alone unpacks to over a gigabyte) took a minute, most of this
    test's cost. When this environment holds every package of ``requirements/base.txt`` at
    its locked version (the test lock is compiled under that constraint), a folder of links
    to those packages' files (nothing else: not the test extras, not the editable fairnn) on
    the new venv's path is the same environment. Returns False, to install for real, when
    a version differs or a package is missing.
    """
    from importlib import metadata

    links: dict[str, Path] = {}
    for name, version in _lock_pins(LOCK).items():
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            return False
        if dist.version != version or not dist.files:
            return False
        for f in dist.files:
            top = f.parts[0]
            if top not in ("..", "__pycache__") and not top.endswith(".pth"):
                links[top] = Path(dist.locate_file(top))
    site = next((venv / "lib").glob("python*/site-packages"))
    own = {p.name.split("-")[0].lower() for p in site.glob("*.dist-info")}
    for name in sorted(own & set(_lock_pins(LOCK)) - {"pip"}):  # venv's setuptools: the lock's
        _run([str(venv / "bin" / "python"), "-m", "pip", "uninstall", "-q", "-y", name], venv)
    view.mkdir()
    for top, target in links.items():
        (view / top).symlink_to(target)
    (site / "_lock_view.pth").write_text(f"{view}\n")  # a plain path: no .pth of theirs runs
    return True


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("packaging")
    src = _tracked_copy(tmp / "src-tree")
    dist = tmp / "dist"
    # sdist first, then the wheel built from the unpacked sdist: both must be complete
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(src)], tmp)
    wheels, sdists = list(dist.glob("fairnn-*.whl")), list(dist.glob("fairnn-*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in dist.iterdir())
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp)
    py = venv / "bin" / "python"
    pip = [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if not _lock_view(venv, tmp / "lock-view"):
        _run([*pip, "--require-hashes", "--no-deps", "-r", str(LOCK)], tmp)
    _run([*pip, "--no-deps", str(wheels[0])], tmp)
    _run([str(py), "-m", "pip", "check"], tmp)
    work = tmp / "elsewhere"
    work.mkdir()
    env = {
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(work),  # an empty cache
        "XDG_CACHE_HOME": str(work / ".cache"),
        "FAIRNN_OFFLINE": "1",
        # and a dead proxy, so any download that ignored FAIRNN_OFFLINE would fail
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "OMP_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
    }
    return {"wheel": wheels[0], "src": src, "venv": venv, "work": work, "env": env}


def test_the_wheel_ships_every_package_data_file(wheel_env):
    with zipfile.ZipFile(wheel_env["wheel"]) as zf:
        shipped = set(zf.namelist())
    expected = _package_data(wheel_env["src"])
    assert {"fairnn/datasets/bundled/adult.data.gz", "fairnn/datasets/bundled/german.data.gz"} <= (
        expected
    )
    assert expected <= shipped, f"missing from the wheel: {sorted(expected - shipped)}"


def test_the_installed_wheel_runs_offline_with_no_repo_beside_it(wheel_env):
    env, work = wheel_env["env"], wheel_env["work"]
    fairnn = str(wheel_env["venv"] / "bin" / "fairnn")
    where = _run(
        [str(wheel_env["venv"] / "bin" / "python"), "-c", "import fairnn; print(fairnn.__file__)"],
        work,
        env,
    )
    assert str(wheel_env["venv"]) in where.stdout, (
        "fairnn was not imported from the installed wheel"
    )
    listing = _run([fairnn, "datasets"], work, env).stdout
    for name in ("adult", "german"):
        line = next(row for row in listing.splitlines() if row.split()[:1] == [name])
        assert "bundled" in line or "yes" in line, line
    # the suite's one real demo (tests/test_api.py checks the facade's plumbing)
    table = _run([fairnn, "demo", "--out", "demo-output"], work, env).stdout
    rows = {line.split()[0]: line.split()[-4:] for line in table.splitlines()[2:] if line.strip()}
    assert set(rows) >= {"vanilla", "gapreg"}, table
    assert all(0.7 < float(v[0]) < 1 for k, v in rows.items() if k in ("vanilla", "gapreg")), table
    report = work / "demo-output" / "report.md"
    assert report.is_file() and "vanilla" in report.read_text()
    assert (work / "demo-output" / "demo-chart.png").stat().st_size > 1000
