"""Where a task's runs and exports live under the output folder.

<output>/<task>/<version>/      a finished export (TF Serving layout)
<output>/<task>/runs/<run>/     a training run: TensorBoard logs, checkpoint, backup
"""

import dataclasses
from pathlib import Path

from recurrent.errors import UserInputError


@dataclasses.dataclass(frozen=True)
class Layout:
    output: Path
    task: str

    @property
    def task_dir(self) -> Path:
        return self.output / self.task

    @property
    def runs(self) -> Path:
        return self.task_dir / "runs"

    def run(self, name: str) -> Path:
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

    def latest_run(self) -> Path:
        runs = [path for path in self.runs.glob("*") if (path / "run.json").is_file()]
        if not runs:
            raise UserInputError(
                f"no training run of {self.task} under {self.runs}; run "
                f"`python -m pipelines.{self.task} train` first, or pass --run NAME"
            )
        return max(runs, key=lambda path: (path / "run.json").stat().st_mtime)


def checkpoint(run_dir: Path) -> Path:
    """The best model of a run, as a `.keras` file."""
    return run_dir / "checkpoint.keras"
