"""Classification metrics (scikit-learn) and their printable forms."""

from collections.abc import Sequence

from sklearn.metrics import accuracy_score, confusion_matrix, f1_score


def classification_scores(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]
):
    """Accuracy, macro-F1 and the confusion matrix (rows: truth, columns: prediction)."""
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=list(labels), average="macro")
        ),
        "confusion_matrix": confusion_matrix(
            y_true, y_pred, labels=list(labels)
        ).tolist(),
    }


def format_confusion(matrix: Sequence[Sequence[int]], labels: Sequence[str]) -> str:
    """The confusion matrix as aligned text, truth down the side, predictions across."""
    width = max(6, *(len(label) for label in labels)) + 1
    header = "truth \\ predicted".ljust(width + 4) + "".join(
        label[: width - 1].rjust(width) for label in labels
    )
    rows = [
        label.ljust(width + 4) + "".join(str(count).rjust(width) for count in row)
        for label, row in zip(labels, matrix, strict=True)
    ]
    return "\n".join([header, *rows])
