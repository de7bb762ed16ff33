"""The front door: a wheel built from this checkout, installed into a fresh venv outside the repository.

The venv borrows the already installed dependencies through a ``.pth`` file (so the test downloads
nothing and takes seconds), but gets the wheel itself with ``--no-deps --no-index``: the ``tuning``
package, ``hpx`` and the app's files all come from the wheel, never from the checkout. ``pip check``
then proves the wheel's pinned dependencies agree with what ``requirements.txt`` installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import time
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.e2e.browser import free_port
from tests.results.factories import make_project

ROOT = Path(__file__).resolve().parent.parent
APP_FILES = ("hpx_app/app.py", "hpx_app/pages/_shared.py", "hpx_app/pages/analyse.py", "hpx_app/.streamlit/config.toml")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(ROOT)]
    subprocess.run(build, check=True, cwd=out, timeout=300)
    (found,) = out.glob("hyperparameter_explorer-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("fresh")
    target = home / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(target)], check=True, timeout=300)
    purelib = Path(
        subprocess.check_output(
            [_python(target), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    (purelib / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = [_python(target), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--force-reinstall"]
    subprocess.run([*install, str(wheel)], check=True, cwd=home, timeout=300)
    return target


def _python(venv: Path) -> str:
    return str(venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))


def _hpx(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [str(venv / "bin" / "hpx"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_wheel_carries_the_package_the_app_and_the_command(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names if n.endswith("entry_points.txt"))
        metadata = next(archive.read(n).decode() for n in names if n.endswith("METADATA"))
    assert {"tuning/__init__.py", "tuning/cli/app.py", "tuning/engine/launch.py", *APP_FILES} <= names
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "benchmarks/"))]
    assert "hpx = tuning.cli:hpx" in entry_points
    pinned = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    requires = {
        line.removeprefix("Requires-Dist: ") for line in metadata.splitlines() if line.startswith("Requires-Dist")
    }
    assert set(pinned) <= requires
    assert any(r.startswith("tensorflow-cpu==2.21.0") and "extra == 'cpu'" in r for r in requires)
    assert any(r.startswith("tensorflow[and-cuda]==2.21.0") and "extra == 'gpu'" in r for r in requires)


def test_requirements_install_the_package_itself() -> None:
    """One source of truth: the pins are in pyproject.toml; requirements.txt only installs the package."""
    lines = [ln.strip() for ln in (ROOT / "requirements.txt").read_text().splitlines() if ln.strip()]
    assert [ln for ln in lines if not ln.startswith("#")] == ["-e .[cpu]"]


def test_hpx_help_and_summary_from_the_installed_wheel(venv: Path, tmp_path: Path) -> None:
    where = subprocess.run(
        [_python(venv), "-c", "import tuning; print(tuning.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(venv), "tuning must come from the wheel, not the checkout"
    shown = _hpx(venv, "--help", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("usage: hpx")
    for command in ("run", "status", "stop", "resume", "worker", "list", "summary", "export", "app"):
        assert f"    {command} " in shown.stdout
    project = make_project(tmp_path, n_trials=4, metrics={2: {"val_accuracy": 0.91, "loss": 0.3}})
    summary = _hpx(venv, "summary", str(project), "--json", cwd=tmp_path)
    assert summary.returncode == 0, summary.stderr
    info = json.loads(summary.stdout)
    assert info["trials"]["total"] == 4
    assert info["best"]["trial_id"] == "02" and info["best"]["score"] == pytest.approx(0.91)
    missing = _hpx(venv, "summary", str(tmp_path / "nothing"), cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.startswith("error: ")


def test_pins_agree_with_what_is_installed(venv: Path) -> None:
    check = subprocess.run([_python(venv), "-m", "pip", "check"], capture_output=True, text=True, timeout=300)
    mine = [line for line in check.stdout.splitlines() if line.lower().startswith("hyperparameter-explorer")]
    assert not mine, check.stdout


def test_hpx_app_serves_the_installed_app_from_any_folder(venv: Path, tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "app.log").open("wb")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"HPX_RUNS_DIR": str(tmp_path / "runs")}
    process = subprocess.Popen(
        [str(venv / "bin" / "hpx"), "app", "--server.port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        assert _wait_for_health(f"http://127.0.0.1:{port}", process), (tmp_path / "app.log").read_text()
        command = _cmdline(process.pid)  # hpx replaced itself by `streamlit run .../hpx_app/app.py ...`
        assert f"{venv}/" in command and "/hpx_app/app.py" in command, command
        assert "--server.address=127.0.0.1" in command  # the app's own settings travel with it
        assert "--server.fileWatcherType=none" in command
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _wait_for_health(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
