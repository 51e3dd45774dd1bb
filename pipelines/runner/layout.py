"""Where a task's runs and exports live under the output folder.

<output>/<task>/<version>/      a finished export (TF Serving layout)
<output>/<task>/runs/<run>/     a training run: TensorBoard logs, checkpoint, backup
"""

import dataclasses
import re
from pathlib import Path

from recurrent.errors import UserInputError

RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclasses.dataclass(frozen=True)
class Layout:
    output: Path
    task: str

    def __post_init__(self):
        if self.output.exists() and not self.output.is_dir():
            raise UserInputError(
                f"--output {str(self.output)!r} is a file; pass a folder (it is "
                "created if missing)"
            )

    @property
    def task_dir(self) -> Path:
        return self.output / self.task

    @property
    def runs(self) -> Path:
        return self.task_dir / "runs"

    def run(self, name: str) -> Path:
        """The folder of run `name`: a plain folder name inside the runs folder."""
        if not RUN_NAME.fullmatch(name) or len(name) > 128:
            raise UserInputError(
                f"--run takes a plain folder name (letters, digits, '.', '_', '-'; "
                f"at most 128), got {name[:200]!r}"
            )
        return self.runs / name

    def versions(self) -> list[int]:
        if not self.task_dir.is_dir():
            return []
        return sorted(
            int(path.name) for path in self.task_dir.iterdir() if path.name.isdigit()
        )

    def latest_export(self) -> Path:
        versions = self.versions()
        if not versions:
            raise UserInputError(
                f"no export of {self.task} under {self.output}; run "
                f"`python -m pipelines.{self.task}` first, or pass --model PATH"
            )
        return self.task_dir / str(versions[-1])

    def finished_runs(self) -> list[Path]:
        """Runs with a best checkpoint, oldest first."""
        runs = [path for path in self.runs.glob("*") if checkpoint(path).is_file()]
        return sorted(runs, key=lambda path: checkpoint(path).stat().st_mtime)

    def run_with_checkpoint(self, name: str | None) -> Path:
        """The named run, or the latest one, that has a best checkpoint."""
        runs = self.finished_runs()
        if name is None and runs:
            return runs[-1]
        if name is not None and checkpoint(self.run(name)).is_file():
            return self.run(name)
        known = ", ".join(path.name for path in runs) or "none yet"
        raise UserInputError(
            f"no checkpoint of {self.task} run {name or '(latest)'} under {self.runs} "
            f"(runs with one: {known}); train first with `python -m pipelines.{self.task} train`"
        )


def checkpoint(run_dir: Path) -> Path:
    """The best model of a run, as a `.keras` file."""
    return run_dir / "checkpoint.keras"
