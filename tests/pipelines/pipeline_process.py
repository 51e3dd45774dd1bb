"""Runs a pipeline in a subprocess, as a user would from the project root."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def command(task: str, *args: str, output: Path) -> list[str]:
    return [sys.executable, "-m", f"pipelines.{task}", *args, "--output", str(output)]


def environment() -> dict[str, str]:
    return dict(os.environ, PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL="2")


def run_pipeline(
    task: str, *args: str, output: Path, check: bool = True, timeout: int = 600
):
    result = subprocess.run(
        command(task, *args, output=output),
        cwd=PROJECT,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check:
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result


BLOCK_PROJECT = """
import importlib.abc, sys

class BlockProject(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {"recurrent", "tasks", "pipelines"}:
            raise ImportError(name + " must not be importable here")

sys.meta_path.insert(0, BlockProject())
try:
    import recurrent
except ImportError:
    pass
else:
    raise SystemExit("the project is importable")
"""


def run_without_project(
    script: str, *args: str, cwd: Path
) -> subprocess.CompletedProcess:
    """Runs `script` in a fresh Python that cannot import this project."""
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_PROJECT + script, *args],
        cwd=cwd,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def start_pipeline(task: str, *args: str, output: Path, log: Path) -> subprocess.Popen:
    """Starts a pipeline in the background, its output going to `log`."""
    with log.open("w") as stream:
        return subprocess.Popen(
            command(task, *args, output=output),
            cwd=PROJECT,
            env=environment(),
            stdout=stream,
            stderr=subprocess.STDOUT,
        )


def backup_epoch(output: Path, task: str) -> int | None:
    """The epoch of the crash backup of the (only) run, once fully written."""
    for metadata in output.glob(f"{task}/runs/*/backup/training_metadata.json"):
        try:
            return json.loads(metadata.read_text())["epoch"]
        except (ValueError, KeyError, OSError):
            return None
    return None


def kill_after_backup(
    process: subprocess.Popen, output: Path, task: str, epoch: int, log: Path
) -> None:
    """SIGKILLs `process` as soon as its crash backup holds `epoch`."""
    deadline = time.monotonic() + 300
    while (backup_epoch(output, task) or 0) < epoch:
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, f"no backup of epoch {epoch} in 5 min"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
