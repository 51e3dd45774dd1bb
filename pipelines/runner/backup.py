"""Checks and repairs the crash backup that `keras.callbacks.BackupAndRestore`
keeps in `<run>/backup/`.

With `double_checkpoint=True` Keras keeps the backup of the epoch before as
`.bkp` copies, but it falls back to them only when the weights fail to load,
not when a kill during the write left `training_metadata.json` empty or
partial. `repair_backup` checks both files of the current backup and of the
previous one, and puts a good pair in place before training resumes.
"""

import json
import shutil
from pathlib import Path

import h5py

WEIGHTS = "latest.weights.h5"
METADATA = "training_metadata.json"
PREVIOUS = ".bkp"


def _epoch(weights: Path, metadata: Path) -> int | None:
    """The epoch a backup pair holds, or None if either file is missing or damaged."""
    try:
        epoch = json.loads(metadata.read_text())["epoch"]
        with h5py.File(weights, "r"):
            pass
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return epoch if isinstance(epoch, int) and epoch >= 0 else None


def backup_epoch(backup: Path) -> int | None:
    """Epochs finished according to a usable backup, or None."""
    return _epoch(backup / WEIGHTS, backup / METADATA) if backup.is_dir() else None


def repair_backup(backup: Path) -> str | None:
    """Replaces a damaged backup by its previous copy, or removes it.

    Returns:
        What was done, for the user, or None if the backup was fine or absent.
    """
    if not backup.is_dir() or backup_epoch(backup) is not None:
        return None
    previous = _epoch(backup / (WEIGHTS + PREVIOUS), backup / (METADATA + PREVIOUS))
    if previous is not None:
        for name in (WEIGHTS, METADATA):
            shutil.copyfile(backup / (name + PREVIOUS), backup / name)
        return (
            f"the crash backup in {backup} is damaged (the run was killed while "
            f"writing it); resuming from the backup before it, after epoch {previous}"
        )
    shutil.rmtree(backup)
    return (
        f"the crash backup in {backup} is damaged and has no good copy; "
        "removed it, resuming from the best checkpoint if there is one"
    )
