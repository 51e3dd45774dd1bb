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
