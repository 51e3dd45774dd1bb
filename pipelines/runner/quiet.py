"""Imports TensorFlow without its start-up noise on the terminal.

TensorFlow's C++ runtime prints a few lines at import (oneDNN, CUDA drivers,
CPU instructions) before Python's logging exists, so `TF_CPP_MIN_LOG_LEVEL`
cannot silence all of them. The import runs with the process' stderr sent to a
file; lines that are not known start-up notices are written back afterwards,
so real warnings and errors still reach the user.
"""

import os
import re
import sys
import tempfile

NOISE = re.compile(
    r"All log messages before absl::InitializeLog|oneDNN custom operations|"
    r"cudart_stub|Could not find cuda drivers|cpu_feature_guard|"
    r"To enable the following instructions|Unable to register cu(DNN|FFT|BLAS)|"
    r"computation placer already registered|TF-TRT Warning"
)


def import_tensorflow_quietly() -> None:
    """Imports tensorflow, keras and tensorflow_datasets, dropping start-up notices."""
    if "tensorflow" in sys.modules:
        return
    # C++ errors at run time are CUDA probes and oneDNN notices on a CPU machine;
    # Python exceptions still report real failures. Set the variable to see them.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras  # noqa: F401
            import tensorflow  # noqa: F401
            import tensorflow_datasets  # noqa: F401
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode("utf-8", "replace").splitlines()
            kept = [line for line in lines if line.strip() and not NOISE.search(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr)
