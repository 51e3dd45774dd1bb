import tensorflow_datasets as tfds

from recurrent.data.bundled.bbc_news import TOPICS, BbcNews
from recurrent.data.splits import SPLITS


def _prepare(data_dir):
    builder = BbcNews(data_dir=str(data_dir))
    builder.download_and_prepare()
    return {
        split: [
            (example["text"].decode(), int(example["label"]))
            for example in tfds.as_numpy(
                builder.as_dataset(split=split, shuffle_files=False)
            )
        ]
        for split in SPLITS
    }


def test_two_preparations_give_identical_splits_and_no_article_is_in_two(tmp_path):
    first = _prepare(tmp_path / "first")
    second = _prepare(tmp_path / "second")
    assert first == second

    texts = {split: {text for text, _ in examples} for split, examples in first.items()}
    assert not texts["train"] & texts["validation"]
    assert not texts["train"] & texts["test"]
    assert not texts["validation"] & texts["test"]

    total = sum(len(examples) for examples in first.values())
    assert 2100 <= total <= 2150  # 2,225 files hold about 2,127 distinct articles
    assert sum(len(t) for t in texts.values()) == total  # no duplicate inside a split
    for split, share in {"train": 0.8, "validation": 0.1, "test": 0.1}.items():
        assert abs(len(first[split]) / total - share) < 0.03
    labels = {label for examples in first.values() for _, label in examples}
    assert labels == set(range(len(TOPICS)))
