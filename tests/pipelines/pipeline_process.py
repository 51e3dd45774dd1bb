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
