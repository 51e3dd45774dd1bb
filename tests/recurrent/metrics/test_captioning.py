import math
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from pycocoevalcap.tokenizer import ptbtokenizer

from recurrent.errors import UserInputError
from recurrent.metrics.captioning import (
    MEASURES,
    NO_JAVA,
    MeteorScorer,
    batch_grounding_accuracy,
    caption_metrics,
    caption_table,
    grounding_accuracy,
    object_words,
    paired_caption_difference,
    per_image_scores,
    python_tokenize,
    tokenize,
)

JAVA = shutil.which("java") is not None
needs_java = pytest.mark.skipif(not JAVA, reason="java is not installed")
# pycocoevalcap's own tokenizer writes a temporary file beside its jar.
WRITABLE = os.access(Path(ptbtokenizer.__file__).parent, os.W_OK)

REFERENCES = [
    ["A red apple to the left of a green pear.", "a red apple beside a pear"],
    ["A dog runs on the beach.", "a brown dog running on sand"],
    ["Two cats sleep on a sofa.", "two cats sleeping on a couch"],
    ["A man rides a bicycle down the street.", "a person riding a bike"],
    ["A bowl of soup on a wooden table.", "soup in a bowl on a table"],
]
PERFECT = [texts[0] for texts in REFERENCES]
WORSE = [
    "a red apple near a pear",
    "a dog on the beach",
    "two cats on a chair",
    "a man riding a horse",
    "a cup of tea on a table",
]
UNRELATED = ["zebras gallop", "quantum flux", "stock prices", "rain falls", "a hat"]


def test_a_perfect_caption_scores_bleu4_100_and_the_highest_cider():
    perfect, worse, unrelated = (
        caption_metrics(hypotheses, REFERENCES, meteor=False)
        for hypotheses in (PERFECT, WORSE, UNRELATED)
    )
    assert perfect["bleu4"] == pytest.approx(100)
    assert perfect["rouge_l"] == pytest.approx(100)
    assert perfect["meteor"] is None and perfect["images"] == 5
    for measure in ("bleu1", "bleu2", "bleu3", "bleu4", "rouge_l", "cider"):
        assert perfect[measure] > worse[measure] > unrelated[measure], measure
    assert unrelated["cider"] == pytest.approx(0, abs=1e-6)


def test_more_references_raise_bleu():
    hypotheses = ["a brown dog running on the beach", "two cats sleeping on a sofa"]
    one = [["a dog runs on the beach"], ["two cats sleep on a couch"]]
    two = [
        [*one[0], "a brown dog running on sand"],
        [*one[1], "two cats sleeping on a sofa"],
    ]
    fewer = caption_metrics(hypotheses, one, meteor=False)
    more = caption_metrics(hypotheses, two, meteor=False)
    for n in (1, 2, 3, 4):
        assert more[f"bleu{n}"] > fewer[f"bleu{n}"]


@pytest.mark.skipif(
    not (JAVA and WRITABLE),
    reason="pycocoevalcap's own tokenizer needs java and a writable package folder",
)
def test_the_scores_are_those_of_pycocoevalcaps_own_pipeline():
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    def coco(captions):
        return {
            i: [{"caption": text} for text in texts] for i, texts in enumerate(captions)
        }

    gts = PTBTokenizer().tokenize(coco(REFERENCES))
    res = PTBTokenizer().tokenize(coco([[text] for text in WORSE]))
    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    rouge, _ = Rouge().compute_score(gts, res)
    cider, _ = Cider().compute_score(gts, res)
    ours = caption_metrics(WORSE, REFERENCES, meteor=False)
    expected = [*bleu, rouge, cider]
    for measure, value in zip(
        ("bleu1", "bleu2", "bleu3", "bleu4", "rouge_l", "cider"), expected, strict=True
    ):
        assert ours[measure] == pytest.approx(100 * value), measure


def test_whitespace_and_separators_keep_captions_on_their_own_line():
    captions = [
        "A dog\nruns",
        "a\rb\tc",
        "e\u2028f\u000cg",
        "",
        "Un café, à Tōkyō 東京!",
    ]
    assert tokenize(captions) == [
        "a dog runs",
        "a b c",
        "e f g",
        "",
        "un café à tōkyō 東京",
    ]


@pytest.fixture(scope="module")
def meteor():
    """One METEOR process for the module's tests (it takes ~8 s to start)."""
    with MeteorScorer() as scorer:
        yield scorer


def meteor_processes() -> int:
    """This process's METEOR children, zombies included (Linux /proc)."""
    count = 0
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat, command = (
                (entry / "stat").read_text(),
                (entry / "cmdline").read_bytes(),
            )
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        count += parent == os.getpid() and b"meteor-1.5.jar" in command
    return count


@needs_java
def test_meteor_scores_awkward_captions_on_their_own_images(meteor):
    awkward = [
        "",
        "a red apple\nto the left\tof a green pear\r\n",
        "two cats ||| sleep on a sofa",
        "un café à Tōkyō 東京 😀",
        "...",
        PERFECT[3],
    ]
    references = [*REFERENCES, ["a café in Tōkyō", "a coffee shop ||| in tokyo"]]
    references = [references[i] for i in (0, 0, 2, 5, 4, 3)]
    scores = caption_metrics(awkward, references, meteor=meteor)
    per_image = per_image_scores(awkward, references, meteor=meteor)
    assert scores == caption_metrics(awkward, references, meteor=meteor)
    assert all(math.isfinite(scores[m]) for m in MEASURES)
    assert scores["images"] == 6
    # Each caption is scored against its own references: nothing shifted.
    assert per_image["bleu4"][1] == pytest.approx(100)
    assert per_image["bleu4"][5] == pytest.approx(100)
    assert per_image["meteor"][1] > 90 and per_image["meteor"][5] > 90
    assert per_image["cider"][0] == 0 and per_image["meteor"][0] == 0
    assert per_image["bleu4"][0] == pytest.approx(0, abs=1e-3)


@needs_java
def test_meteor_ranks_a_perfect_caption_first(meteor):
    perfect = caption_metrics(PERFECT, REFERENCES, meteor=meteor)
    worse = caption_metrics(WORSE, REFERENCES, meteor=meteor)
    assert 95 < perfect["meteor"] <= 100
    assert 0 < worse["meteor"] < perfect["meteor"]
    assert worse["cider"] == caption_metrics(WORSE, REFERENCES, meteor=False)["cider"]


@needs_java
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="no /proc")
def test_meteor_runs_by_default_and_its_process_ends_after_the_call():
    before = meteor_processes()
    scores = caption_metrics(PERFECT, REFERENCES)
    assert 95 < scores["meteor"] <= 100
    assert meteor_processes() == before


def test_a_closed_meteor_scorer_is_refused():
    with pytest.raises(RuntimeError, match="with MeteorScorer"):
        caption_metrics(WORSE, REFERENCES, meteor=MeteorScorer())


def test_no_image_gives_nan_and_no_java_process():
    scores = caption_metrics([], [], meteor=True)
    assert scores["images"] == 0
    assert all(math.isnan(scores[m]) for m in MEASURES if m != "meteor")
    assert scores["meteor"] is None or math.isnan(scores["meteor"])
    assert math.isnan(scores["cider_low"]) and math.isnan(scores["cider_high"])


def test_without_java_metrics_come_from_python_tokens_and_meteor_is_none(
    monkeypatch, tmp_path, capsys
):
    with_java = caption_metrics(WORSE, REFERENCES, meteor=False) if JAVA else None
    capsys.readouterr()
    monkeypatch.setenv("PATH", str(tmp_path))
    scores = caption_metrics(WORSE, REFERENCES)
    assert capsys.readouterr().out.strip() == NO_JAVA
    assert scores["meteor"] is None and scores["cider"] > 0
    if with_java:
        for measure in MEASURES:
            if measure != "meteor":
                assert scores[measure] == pytest.approx(with_java[measure]), measure


@needs_java
def test_python_tokenization_matches_ptb_on_caption_text():
    captions = [
        *PERFECT,
        'A man\'s hat, on the "table" (left).',
        "Don't go -- e.g. U.S. 3.5 1,000 black-and-white [x] {y} & $5 50%",
        "A dog... runs! Two dogs' bones; a cat: sleeping?",
        "It's 5 o'clock and they're eating; he can't, won't.",
        "A café in Tōkyō \u2014 naïve 東京 \u2026 it\u2019s \u201cquoted\u201d 😀",
        "'quoted' words, `ticks`, a man/woman on a horse-drawn cart",
        "Mr. Smith at St. Paul's, a U.S.A. flag... well-known A-1 #1 @ home!!",
    ]
    assert [python_tokenize(text) for text in captions] == tokenize(captions)


def test_the_cider_interval_holds_the_mean_of_per_image_cider():
    scores = caption_metrics(WORSE, REFERENCES, meteor=False, seed=3)
    per_image = per_image_scores(WORSE, REFERENCES)
    assert set(per_image) == set(MEASURES) - {"meteor"}
    assert per_image["cider"].mean() == pytest.approx(scores["cider"])
    assert scores["cider_low"] <= scores["cider"] <= scores["cider_high"]
    assert scores["cider_low"] < scores["cider_high"]


def test_paired_difference_of_two_systems_on_the_same_images():
    perfect = per_image_scores(PERFECT, REFERENCES)
    worse = per_image_scores(WORSE, REFERENCES)
    difference = paired_caption_difference(perfect, worse)
    assert difference["difference"] == pytest.approx(
        perfect["cider"].mean() - worse["cider"].mean()
    )
    assert difference["difference_low"] > 0
    assert difference["documents_first_higher"] == 5
    bleu = paired_caption_difference(perfect, worse, "bleu4")
    assert bleu["difference"] > 0


def test_reference_problems_are_named():
    with pytest.raises(ValueError, match="2 hypotheses for 1 images"):
        caption_metrics(["a", "b"], [["a"]], meteor=False)
    with pytest.raises(UserInputError, match="image 1 has no reference"):
        caption_metrics(["a", "b"], [["a"], []], meteor=False)
    # One string is one reference, not a list of characters.
    as_string = caption_metrics(WORSE, [texts[0] for texts in REFERENCES], meteor=False)
    as_list = caption_metrics(WORSE, [texts[:1] for texts in REFERENCES], meteor=False)
    assert as_string == as_list


def test_caption_table_has_a_row_per_system_and_dashes_for_missing_meteor():
    scores = caption_metrics(WORSE, REFERENCES, meteor=False)
    table = caption_table({"attention": scores, "nearest": scores}).splitlines()
    assert "CIDEr-D" in table[0] and "METEOR" in table[0]
    assert len(table) == 3 and table[1].startswith("attention")
    assert " - " in table[1]
    assert f"[{scores['cider_low']:.2f}, {scores['cider_high']:.2f}]" in table[2]


# Grounding on a 2x2 grid: cells 0 1 / 2 3, centres at 0.25 and 0.75.
OBJECTS = ["red apple", "pear"]
BOXES = [[0, 0, 0.5, 0.5], [0.5, 0.5, 1, 1]]
WORDS = ["a", "red", "apple", "left", "of", "a", "pear"]


def peaks(cells, size=4):
    """One-hot attention: step t looks only at cells[t]."""
    return np.eye(size)[cells]


def test_peaks_inside_the_boxes_score_100_and_outside_0():
    inside = grounding_accuracy(
        WORDS, peaks([1, 0, 0, 1, 1, 1, 3]), OBJECTS, BOXES, (2, 2)
    )
    assert inside == {
        "grounding_accuracy": 100.0,
        "uniform_rate": 25.0,
        "attention_in_box": 100.0,
        "object_words": 3,
        "grounded_captions": 1,
    }
    outside = grounding_accuracy(
        WORDS, peaks([0, 3, 3, 0, 0, 0, 0]), OBJECTS, BOXES, (2, 2)
    )
    assert outside["grounding_accuracy"] == 0 and outside["attention_in_box"] == 0
    # Weights shaped [steps, rows, cols], with an end step after the words.
    grid = peaks([1, 0, 2, 1, 1, 1, 3, 0]).reshape(8, 2, 2)
    assert grounding_accuracy(WORDS, grid, OBJECTS, BOXES, (2, 2))[
        "grounding_accuracy"
    ] == pytest.approx(200 / 3)


def test_uniform_rate_is_the_share_of_cells_with_their_centre_in_the_box():
    words = ["pear"]
    uniform = np.full((1, 16), 1 / 16)
    half = grounding_accuracy(words, uniform, ["pear"], [[0, 0, 0.5, 1]], (4, 4))
    assert half["uniform_rate"] == 50.0 and half["attention_in_box"] == pytest.approx(
        50
    )
    corner = grounding_accuracy(words, uniform, ["pear"], [[0, 0, 0.3, 0.3]], (4, 4))
    assert corner["uniform_rate"] == 100 / 16
    # A 2 rows x 4 cols grid: the box covers the left half of the top row.
    wide = grounding_accuracy(
        words, np.eye(8)[[1]], ["pear"], [[0, 0, 0.5, 0.5]], (2, 4)
    )
    assert wide["uniform_rate"] == 25.0 and wide["grounding_accuracy"] == 100.0


def test_names_match_longest_first_and_every_occurrence_counts():
    assert object_words(
        ["the", "red", "apple", "and", "an", "apple"], ["apple", "red apple"]
    ) == [
        (1, "red apple"),
        (2, "red apple"),
        (5, "apple"),
    ]
    assert object_words(["a", "Pear", "and", "a", "pear"], ["pear"]) == [
        (1, "pear"),
        (4, "pear"),
    ]
    assert object_words(["a", "red", "pear"], ["red apple"]) == []


def test_objects_sharing_a_name_count_a_peak_in_either_box():
    objects, boxes = ["pear", "pear"], [[0, 0, 0.5, 0.5], [0.5, 0.5, 1, 1]]
    words = ["a", "pear", "and", "a", "pear"]
    scores = grounding_accuracy(words, peaks([1, 0, 1, 1, 3]), objects, boxes, (2, 2))
    assert scores["grounding_accuracy"] == 100 and scores["uniform_rate"] == 50
    assert scores["object_words"] == 2


def test_batches_pool_object_words_and_count_grounded_captions():
    scores = batch_grounding_accuracy(
        [WORDS, ["a", "pear"], ["nothing", "here"]],
        [peaks([0, 0, 0, 0, 0, 0, 3]), peaks([3, 0]), peaks([0, 0])],
        [OBJECTS, OBJECTS, OBJECTS],
        [BOXES, BOXES, BOXES],
        (2, 2),
    )
    # Hits: red apple (2 words) and pear; the lone "pear" misses.
    assert scores["object_words"] == 4 and scores["grounded_captions"] == 2
    assert scores["grounding_accuracy"] == 75.0
    empty = grounding_accuracy(["nothing"], peaks([0]), OBJECTS, BOXES, (2, 2))
    assert math.isnan(empty["grounding_accuracy"]) and math.isnan(empty["uniform_rate"])
    assert empty["object_words"] == 0 and empty["grounded_captions"] == 0


def test_grounding_shape_mistakes_are_named():
    with pytest.raises(ValueError, match="for a 3x3 grid"):
        grounding_accuracy(WORDS, peaks([0] * 7), OBJECTS, BOXES, (3, 3))
    with pytest.raises(ValueError, match="2 attention steps for 7 words"):
        grounding_accuracy(WORDS, peaks([0, 0]), OBJECTS, BOXES, (2, 2))
    with pytest.raises(ValueError, match="2 objects for 1 boxes"):
        grounding_accuracy(WORDS, peaks([0] * 7), OBJECTS, BOXES[:1], (2, 2))
