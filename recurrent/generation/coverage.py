"""Switching coverage training on for the last epochs, as See et al. (2017) do."""

import math

import keras


class CoverageSchedule(keras.callbacks.Callback):
    """Sets a `Seq2Seq`'s `coverage_active` variable: training adds the
    coverage loss from epoch `start` (1-based) on, or, with `start=0`, from
    the epoch after the first one whose validation log-likelihood did not
    improve (See et al. train without coverage until convergence, then
    briefly with it).

    The likelihood part of the validation loss is `val_loss - lambda *
    val_coverage` (`Seq2Seq` adds the coverage loss to the validation loss in
    every epoch). Each epoch's logs get "coverage_active" (0 or 1: whether
    that epoch trained with it), so TensorBoard and history.csv show the
    switch. The variable is saved with the model, so a resumed run keeps it.

    Args:
        start: the first epoch trained with the coverage loss (1-based), or 0
            to switch on at the first plateau.
        best: the lowest validation log-likelihood loss seen before (when
            resuming), or None.
    """

    def __init__(self, start: int = 0, best: float | None = None):
        super().__init__()
        self.start = start
        self.best = math.inf if best is None else best

    @property
    def active(self) -> bool:
        return float(self.model.coverage_active.numpy()) > 0

    def _switch_on(self, reason: str) -> None:
        if not self.active:
            self.model.coverage_active.assign(1.0)
            print(f"coverage loss on: {reason}")

    def on_epoch_begin(self, epoch, logs=None):
        if self.start and epoch + 1 >= self.start:
            self._switch_on(f"epoch {epoch + 1} of the schedule")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        was_active = self.active
        logs["coverage_active"] = float(was_active)
        if "val_loss" not in logs or was_active:
            return
        likelihood = logs["val_loss"] - self.model.coverage_weight * logs.get(
            "val_coverage", 0.0
        )
        if self.start == 0 and not likelihood < self.best:
            self._switch_on(
                f"validation likelihood loss {likelihood:.4f} did not improve on "
                f"{self.best:.4f} in epoch {epoch + 1}"
            )
        self.best = min(self.best, likelihood)
