"""One process trains a run folder at a time.

The lock is an `fcntl.flock` on `<run>/train.lock`, so the operating system
releases it when the process ends, killed or not: a crash never leaves a run
locked. The file names the process that holds it, for the refusal message.
"""

import datetime
import fcntl
import os
import socket
from pathlib import Path

from recurrent.errors import UserInputError

LOCK_FILE = "train.lock"


class RunLock:
    """Context manager that holds the training lock of `run_dir` (created if new).

    Raises:
        UserInputError: another process is training the run; the message names it.
    """

    def __init__(self, run_dir: Path):
        self.run_dir = run_dir
        self.path = run_dir / LOCK_FILE
        self.stream = None
        self.created = False

    def __enter__(self) -> "RunLock":
        self.created = not self.run_dir.exists()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        stream = self.path.open("a+")
        try:
            fcntl.flock(stream, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            stream.seek(0)
            holder = stream.read().strip() or "another process"
            stream.close()
            raise UserInputError(
                f"{self.run_dir} is being trained by {holder}; wait for it to finish, "
                "or pass --run NAME to train a separate run"
            ) from None
        started = datetime.datetime.now().isoformat(sep=" ", timespec="seconds")
        stream.seek(0)
        stream.truncate()
        stream.write(
            f"process {os.getpid()} on {socket.gethostname()} (since {started})"
        )
        stream.flush()
        self.stream = stream
        return self

    def __exit__(self, *exc_info) -> None:
        self.stream.seek(0)
        self.stream.truncate()
        if self.created and {p.name for p in self.run_dir.iterdir()} == {LOCK_FILE}:
            # Nothing was trained (bad data or settings): leave no empty run behind.
            self.path.unlink()
            self.run_dir.rmdir()
        fcntl.flock(self.stream, fcntl.LOCK_UN)
        self.stream.close()
