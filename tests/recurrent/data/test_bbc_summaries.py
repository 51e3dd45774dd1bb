from recurrent.data.bundled.bbc_summaries import summary_examples
from recurrent.data.sentences import sentences
from recurrent.data.sources import load_splits


def test_the_lede_summarizes_the_rest_and_each_article_keeps_its_bbc_news_split():
    summaries = load_splits(
        "bbc_summaries",
        {"document": "document", "summary": "summary", "headline": "headline"},
        key="document",
    )
    news = load_splits("bbc_news", {"text": "text", "body": "body"}, key="text")
    total = sum(len(frame) for frame in summaries.values())
    assert 2100 <= total <= 2127  # the distinct articles with two sentences or more
    for split, frame in summaries.items():
        bodies = set(news[split]["body"])
        # The lede and the document rebuild a body of the same split.
        rebuilt = [
            f"{lede} {' '.join(document.splitlines())}"
            for lede, document in zip(frame["summary"], frame["document"], strict=True)
        ]
        flattened = {" ".join(body.split()) for body in bodies}
        assert all(" ".join(text.split()) in flattened for text in rebuilt[:50])
    first = summaries["train"].iloc[0]
    lines = first["document"].splitlines()
    # One sentence per line, and splitting again finds the same sentences.
    assert sentences([first["document"]])[0] == lines
    assert first["summary"] not in lines and first["headline"]


def test_examples_and_splits_are_the_same_on_every_run():
    first = [(key, split) for key, split, _ in summary_examples()]
    assert first == [(key, split) for key, split, _ in summary_examples()]
    assert len({key for key, _ in first}) == len(first)
