"""Runs a pipeline in a subprocess, as a user would from the project root."""

import os
import subprocess
import sys
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
