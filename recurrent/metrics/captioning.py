"""Caption metrics as the COCO evaluation server computes them (pycocoevalcap):
BLEU-1..4, METEOR, ROUGE-L and CIDEr-D on PTB-tokenized, lower-cased captions
stripped of punctuation, with a bootstrap 95% interval of CIDEr-D over images;
and grounding accuracy: whether attention peaks on the object a word names.

Every score is on a 0-100 scale; CIDEr-D is multiplied by 100 as papers print
it (1.05 -> 105.0). pycocoevalcap's `Cider` is CIDEr-D: n-gram clipping and a
Gaussian penalty on the length difference (sigma 6), the variant the COCO
server reports. Its IDF comes from the references of the scored images, so a
handful of images gives degenerate CIDEr-D; score a test split, not one image.

Java runs the tokenizer and METEOR. Without `java` on PATH, captions are
tokenized in Python (`python_tokenize`: PTB's splitting of punctuation and
contractions on ordinary caption text, not every corner of it) and METEOR is
None; one printed line says so and how to get Java.

References:
    Papineni et al., "BLEU: a Method for Automatic Evaluation of Machine
    Translation", ACL 2002.
    Banerjee and Lavie, "METEOR: An Automatic Metric for MT Evaluation with
    Improved Correlation with Human Judgments", 2005.
    Lin, "ROUGE: A Package for Automatic Evaluation of Summaries", 2004.
    Vedantam et al., "CIDEr: Consensus-based Image Description Evaluation",
    CVPR 2015 (CIDEr-D).
    Chen et al., "Microsoft COCO Captions: Data Collection and Evaluation
    Server", 2015.
"""

import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.meteor.meteor import Meteor
from pycocoevalcap.rouge.rouge import Rouge
from pycocoevalcap.tokenizer import ptbtokenizer

from recurrent.errors import UserInputError
from recurrent.metrics.summarization import bootstrap_interval, paired_difference

MEASURES = ("bleu1", "bleu2", "bleu3", "bleu4", "meteor", "rouge_l", "cider")
NAMES = ("BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "METEOR", "ROUGE-L", "CIDEr-D")
_CORENLP = Path(ptbtokenizer.__file__).with_name(
    ptbtokenizer.STANFORD_CORENLP_3_4_1_JAR
)
_PUNCTUATION = frozenset(ptbtokenizer.PUNCTUATIONS)
NO_JAVA = (
    "java not found: captions are tokenized in Python (close to, not exactly, "
    "PTB) and METEOR is left out; install a Java runtime (e.g. `apt-get install "
    "default-jre`) for the COCO metrics"
)


def tokenize(captions: Sequence[str]) -> list[str]:
    """Captions as the COCO evaluation tokenizes them: Stanford PTBTokenizer
    (the jar pycocoevalcap ships, its options), lower-cased, punctuation
    tokens removed; `python_tokenize` where `java` is missing.

    pycocoevalcap's own wrapper writes a temporary file into the installed
    package (failing where site-packages is read-only) and maps only "\\n" to
    a space, while the tokenizer also breaks lines at "\\r", form feeds and
    Unicode separators, which shifts every later caption. Here every run of
    whitespace becomes one space, the captions reach the same jar on stdin
    as UTF-8, and the line count is checked.
    """
    lines = [" ".join(str(caption).split()) for caption in captions]
    java = shutil.which("java")
    if java is None:
        return [python_tokenize(line) for line in lines]
    return _ptb_tokenize(java, lines) if lines else []


def _ptb_tokenize(java: str, lines: list[str]) -> list[str]:
    command = [java, "-cp", str(_CORENLP), "edu.stanford.nlp.process.PTBTokenizer"]
    command += ["-preserveLines", "-lowerCase", "-encoding", "UTF-8"]
    done = subprocess.run(
        command,
        input="\n".join(lines) + "\n",
        capture_output=True,
        encoding="utf-8",
        errors="replace",
        check=False,
    )
    tokenized = done.stdout.split("\n")[:-1]
    if done.returncode or len(tokenized) != len(lines):
        raise RuntimeError(
            f"PTBTokenizer gave {len(tokenized)} lines for {len(lines)} captions "
            f"(exit code {done.returncode}): {done.stderr.strip()[-500:]}"
        )
    return [_without_punctuation(line.split()) for line in tokenized]


def _without_punctuation(tokens: Sequence[str]) -> str:
    return " ".join(token for token in tokens if token not in _PUNCTUATION)


_CONTRACTION = re.compile(r"(n't|'(?:s|re|ve|ll|d|m))\b")
_TOKEN = re.compile(
    r"n't|'(?:s|re|ve|ll|d|m)\b"  # contractions, split off above
    r"|(?:mr|mrs|ms|dr|st|jr|sr|mt|vs)\."  # titles
    r"|\d+(?:[.,]\d+)+"  # 3.5, 1,000
    r"|[^\W_]+(?:\.[^\W_]+)+\.?"  # abbreviations: e.g., u.s.
    r"|[^\W_]+(?:[-'/&][^\W_]+)*"  # words, black-and-white, o'clock
    r"|\.\.\.|--|[?!]+|\S"
)
_CHARACTERS = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00ab": '"'}
    | {"\u00bb": '"', "\u2026": "...", "\u2013": " -- ", "\u2014": " -- "}
)
_OUTSIDE_BMP = re.compile("[\U00010000-\U0010ffff]")  # emoji: PTB drops them
_ELLIPSIS = re.compile(r"\.{3,}")
_BRACKETS = {"(": "-lrb-", ")": "-rrb-", "[": "-lsb-", "]": "-rsb-"}
_BRACKETS |= {"{": "-lcb-", "}": "-rcb-"}
_QUOTES = frozenset({'"', "''", "``", "`", "'"})


def python_tokenize(caption: str) -> str:
    """PTB tokenization without Java, for ordinary caption text: punctuation
    and contractions ("do n't", "man 's") split off, lower-cased, COCO's
    punctuation tokens and quotes removed; brackets become PTB's "-lrb-" and
    the like, which COCO's lower-case output keeps too; emoji are dropped."""
    text = _OUTSIDE_BMP.sub(" ", caption.lower().translate(_CHARACTERS))
    text = _CONTRACTION.sub(r" \1", _ELLIPSIS.sub(" ... ", text))
    tokens = [_BRACKETS.get(token, token) for token in _TOKEN.findall(text)]
    return _without_punctuation(token for token in tokens if token not in _QUOTES)


class MeteorScorer:
    """One METEOR process (`java -jar -Xmx2G meteor-1.5.jar`, about 8 s to
    start and load its paraphrase table) shared by several `caption_metrics`
    calls, closed on exit:

        with MeteorScorer() as meteor:
            first = caption_metrics(hypotheses, references, meteor=meteor)
            second = caption_metrics(others, references, meteor=meteor)

    Without `java` on PATH it scores nothing (METEOR is None).
    """

    def __init__(self):
        self._meteor = None
        self._open = False

    def __enter__(self):
        self._open = True
        if shutil.which("java") is not None:
            self._meteor = Meteor()
        return self

    def __exit__(self, *error):
        self.close()

    def score(
        self, references: dict[int, list[str]], hypotheses: dict[int, list[str]]
    ) -> tuple[float, np.ndarray] | None:
        """Corpus METEOR and METEOR per image, both 0-1, of tokenized captions;
        None without Java or when the process fails (one printed line)."""
        if not self._open:
            raise RuntimeError("open it first: `with MeteorScorer() as meteor: ...`")
        if self._meteor is None:
            return None
        # " ||| " separates the fields of METEOR's line protocol.
        clean = {
            key: [_meteor_safe(text) for text in texts]
            for key, texts in references.items()
        }
        hypotheses = {
            key: [_meteor_safe(text) for text in texts]
            for key, texts in hypotheses.items()
        }
        try:
            score, scores = self._meteor.compute_score(clean, hypotheses)
        except (ValueError, OSError) as error:
            message = self._stop() or str(error)
            print(f"METEOR failed, left out: {message.strip().splitlines()[-1]}")
            return None
        return score, np.asarray(scores, dtype=float)

    def close(self) -> None:
        """Ends the java process (idempotent)."""
        self._open = False
        self._stop()

    def _stop(self) -> str:
        if self._meteor is None:
            return ""
        meteor, self._meteor = self._meteor, None
        if meteor.lock.locked():
            # A failed compute_score keeps pycocoevalcap's lock, which its
            # __del__ would then wait on forever.
            meteor.lock.release()
        process = meteor.meteor_p
        process.kill()
        process.wait()
        errors = process.stderr.read().decode(errors="replace")
        for stream in (process.stdin, process.stdout, process.stderr):
            stream.close()
        return errors


def _meteor_safe(text: str) -> str:
    return " ".join(text.replace("|||", " ").split())


def caption_scores(
    hypotheses: Sequence[str],
    references: Sequence[Sequence[str]],
    meteor: bool | MeteorScorer = True,
) -> tuple[dict[str, float | None], dict[str, np.ndarray]]:
    """Corpus scores and scores per image (0-100) of one caption per image
    against that image's references.

    Args:
        hypotheses: one generated caption per image, raw text.
        references: the reference captions of each image (one string counts
            as one reference).
        meteor: whether to run METEOR, or an open `MeteorScorer` to reuse.

    Returns:
        `(corpus, per_image)`: corpus has the keys of `MEASURES` (METEOR None
        when not run; NaN for no image), as COCO reports them (corpus BLEU with
        the closest reference length; the mean of ROUGE-L and CIDEr-D per
        image); per_image maps the same keys, less METEOR when not run, to one
        score per image. BLEU per image is pycocoevalcap's sentence BLEU.

    Raises:
        UserInputError: an image without reference caption.
    """
    references = _reference_lists(hypotheses, references)
    java = shutil.which("java") is not None
    if not java:
        print(NO_JAVA)
    if not hypotheses:
        corpus = {measure: float("nan") for measure in MEASURES}
        per_image = {measure: np.zeros(0) for measure in MEASURES}
        if not (meteor and java):
            corpus["meteor"] = None
            del per_image["meteor"]
        return corpus, per_image
    gts, res = _tokenized(hypotheses, references)
    corpus, per_image = _bleu_rouge_cider(gts, res)
    corpus["meteor"] = None
    if meteor:
        scored = _meteor(meteor, gts, res)
        if scored is not None:
            corpus["meteor"], per_image["meteor"] = 100 * scored[0], 100 * scored[1]
    return {m: corpus[m] for m in MEASURES}, {
        m: per_image[m] for m in MEASURES if m in per_image
    }


def _reference_lists(hypotheses, references) -> list[list[str]]:
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} images")
    lists = [[texts] if isinstance(texts, str) else list(texts) for texts in references]
    for index, texts in enumerate(lists):
        if not texts:
            raise UserInputError(
                f"image {index} has no reference caption: give it one or leave the image out"
            )
    return lists


def _tokenized(hypotheses, references):
    tokens = tokenize([*hypotheses, *(text for texts in references for text in texts)])
    res = {index: [tokens[index]] for index in range(len(hypotheses))}
    gts, start = {}, len(hypotheses)
    for index, texts in enumerate(references):
        gts[index], start = tokens[start : start + len(texts)], start + len(texts)
    return gts, res


def _bleu_rouge_cider(gts, res):
    bleu, bleus = Bleu(4).compute_score(gts, res, verbose=0)
    rouge, rouges = Rouge().compute_score(gts, res)
    cider, ciders = Cider().compute_score(gts, res)
    corpus = {f"bleu{n + 1}": 100 * float(bleu[n]) for n in range(4)}
    per_image = {f"bleu{n + 1}": 100 * np.asarray(bleus[n], float) for n in range(4)}
    corpus |= {"rouge_l": 100 * float(rouge), "cider": 100 * float(cider)}
    per_image |= {"rouge_l": 100 * np.asarray(rouges, float)}
    per_image |= {"cider": 100 * np.asarray(ciders, float)}
    return corpus, per_image


def _meteor(meteor, gts, res):
    if isinstance(meteor, MeteorScorer):
        return meteor.score(gts, res)
    with MeteorScorer() as scorer:
        return scorer.score(gts, res)


def caption_summary(
    corpus: dict[str, float | None],
    per_image: dict[str, np.ndarray],
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, float | int | None]:
    """`caption_scores`' corpus scores with the percentile bootstrap 95%
    interval of CIDEr-D (images resampled, the IDF held fixed) and the image
    count: the dict `caption_metrics` returns."""
    low, high = bootstrap_interval(per_image["cider"], resamples, seed)
    return {
        **corpus,
        "cider_low": low,
        "cider_high": high,
        "images": int(per_image["cider"].size),
    }


def caption_metrics(
    hypotheses: Sequence[str],
    references: Sequence[Sequence[str]],
    meteor: bool | MeteorScorer = True,
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, float | int | None]:
    """BLEU-1..4, METEOR, ROUGE-L and CIDEr-D (0-100) of one caption per image,
    as the COCO evaluation server computes them, with CIDEr-D's 95% interval.

    Returns:
        `{"bleu1".."bleu4", "meteor", "rouge_l", "cider", "cider_low",
        "cider_high", "images"}`; METEOR is None when not run (no Java, or
        `meteor=False`); every score is NaN for no image.

    Example:
        >>> hypotheses = ["A red apple.", "a dog"]
        >>> references = [["a red apple", "an apple"], ["a small dog", "a puppy"]]
        >>> round(caption_metrics(hypotheses, references, meteor=False)["bleu1"])
        100
    """
    return caption_summary(
        *caption_scores(hypotheses, references, meteor), resamples, seed
    )


def per_image_scores(
    hypotheses: Sequence[str],
    references: Sequence[Sequence[str]],
    meteor: bool | MeteorScorer = False,
) -> dict[str, np.ndarray]:
    """Scores per image (0-100): BLEU-1..4 (sentence BLEU), ROUGE-L, CIDEr-D,
    and METEOR when run, for paired comparisons of two systems on the same
    images (`paired_caption_difference`)."""
    return caption_scores(hypotheses, references, meteor)[1]


def paired_caption_difference(
    first: dict[str, np.ndarray],
    second: dict[str, np.ndarray],
    measure: str = "cider",
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """How much system `first` beats `second` on one measure of
    `per_image_scores`: `paired_difference` over images (its
    "documents_*_higher" counts are images)."""
    return paired_difference(first[measure], second[measure], resamples, seed)


def caption_table(results: dict[str, dict[str, float | None]]) -> str:
    """A text table of `caption_metrics`: one row per system, CIDEr-D with its
    95% interval; "-" where a score is missing (METEOR without Java)."""
    lines = [
        f"{'system':<14}"
        + "".join(f"{name:>9}" for name in NAMES[:-1])
        + f"{NAMES[-1]:>25}"
    ]
    for system, scores in results.items():
        cells = [
            "-" if scores.get(m) is None else f"{scores[m]:.2f}" for m in MEASURES[:-1]
        ]
        cider = f"{scores['cider']:.2f} [{scores['cider_low']:.2f}, {scores['cider_high']:.2f}]"
        lines.append(
            f"{system:<14}" + "".join(f"{cell:>9}" for cell in cells) + f"{cider:>25}"
        )
    return "\n".join(lines)


# Grounding: attention peaks on the object a word names.


def object_words(words: Sequence[str], objects: Sequence[str]) -> list[tuple[int, str]]:
    """The positions of the caption's words that name an object, each with
    that name: every occurrence of a name's words, consecutive, longest names
    first (case aside), a word belonging to one name at most."""
    words = [word.lower() for word in words]
    names = {tuple(name.lower().split()) for name in objects} - {()}
    taken: list[tuple[str, ...] | None] = [None] * len(words)
    for name in sorted(names, key=lambda name: (-len(name), name)):
        for start in range(len(words) - len(name) + 1):
            span = range(start, start + len(name))
            if tuple(words[start : start + len(name)]) == name and not any(
                taken[i] for i in span
            ):
                taken[start : start + len(name)] = [name] * len(name)
    return [(i, " ".join(name)) for i, name in enumerate(taken) if name]


def _cells_in_boxes(
    boxes: Sequence[Sequence[float]], grid: tuple[int, int]
) -> np.ndarray:
    """Which cells of a rows x cols grid (row-major) have their centre inside
    any of `boxes` ([x0, y0, x1, y1] in 0..1, edges included)."""
    rows, cols = grid
    row, col = np.divmod(np.arange(rows * cols), cols)
    x, y = (col + 0.5) / cols, (row + 0.5) / rows
    inside = np.zeros(rows * cols, bool)
    for x0, y0, x1, y1 in boxes:
        inside |= (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    return inside


def _grounded_words(
    words, weights, objects, boxes, grid
) -> list[tuple[bool, float, float]]:
    """(peak inside, share of cells inside, attention mass inside) per object word."""
    if len(objects) != len(boxes):
        raise ValueError(f"{len(objects)} objects for {len(boxes)} boxes")
    weights = np.asarray(weights, dtype=float)
    weights = weights.reshape(len(weights), -1)
    if weights.shape[1] != grid[0] * grid[1]:
        raise ValueError(
            f"{weights.shape[1]} attention weights per step for a {grid[0]}x{grid[1]} grid"
        )
    if len(weights) < len(words):
        raise ValueError(f"{len(weights)} attention steps for {len(words)} words")
    rows = []
    for position, name in object_words(words, objects):
        named = [
            box
            for obj, box in zip(objects, boxes, strict=True)
            if " ".join(obj.lower().split()) == name
        ]
        inside = _cells_in_boxes(named, grid)
        step = weights[position]
        mass = step[inside].sum() / step.sum() if step.sum() > 0 else 0.0
        rows.append((bool(inside[np.argmax(step)]), float(inside.mean()), float(mass)))
    return rows


def batch_grounding_accuracy(
    words: Sequence[Sequence[str]],
    weights: Sequence[np.ndarray],
    objects: Sequence[Sequence[str]],
    boxes: Sequence[Sequence[Sequence[float]]],
    grid: tuple[int, int],
) -> dict[str, float | int]:
    """`grounding_accuracy` pooled over captions: each argument but `grid` is
    a list with one entry per example (every object word weighs the same)."""
    counts = (len(words), len(weights), len(objects), len(boxes))
    if len(set(counts)) != 1:
        raise ValueError(
            f"unequal numbers of captions, weights, objects and boxes: {counts}"
        )
    per_caption = [
        _grounded_words(*example, grid)
        for example in zip(words, weights, objects, boxes, strict=True)
    ]
    rows = [row for caption in per_caption for row in caption]
    hits, uniform, mass = np.array(rows, float).reshape(-1, 3).T
    return {
        "grounding_accuracy": _percent(hits),
        "uniform_rate": _percent(uniform),
        "attention_in_box": _percent(mass),
        "object_words": len(rows),
        "grounded_captions": sum(bool(caption) for caption in per_caption),
    }


def _percent(values: np.ndarray) -> float:
    return 100 * float(values.mean()) if values.size else float("nan")


def grounding_accuracy(
    words: Sequence[str],
    weights: np.ndarray,
    objects: Sequence[str],
    boxes: Sequence[Sequence[float]],
    grid: tuple[int, int],
) -> dict[str, float | int]:
    """Whether attention looks at the object each word names, on a scene whose
    objects' boxes are known.

    Each word of an object's name in the caption (`object_words`) is a hit
    when the cell its step attends most has its centre inside that object's
    box (inside any box of that name, when several objects share it).

    Args:
        words: the generated caption's words; step t produced `words[t]`.
        weights: attention weights, [steps, rows * cols] (row-major) or
            [steps, rows, cols]; steps beyond the words are ignored.
        objects: the scene's object names, one or more words each.
        boxes: [x0, y0, x1, y1] per object, in 0..1 image coordinates.
        grid: (rows, cols) of the attended image regions.

    Returns:
        `{"grounding_accuracy": 100 * hits / object words, "uniform_rate":
        the mean share (0-100) of cells inside the box (what a peak at random
        would hit), "attention_in_box": the mean share (0-100) of attention
        mass inside the box (compare with uniform_rate too), "object_words",
        "grounded_captions": captions with an object word}`; the rates are NaN
        without object word.

    Reference:
        Xu et al., "Show, Attend and Tell: Neural Image Caption Generation
        with Visual Attention", ICML 2015 (attention maps over words).
    """
    return batch_grounding_accuracy([words], [weights], [objects], [boxes], grid)
