import numpy as np
import tensorflow as tf

from recurrent.data.hierarchical import document_batches, nested_ids, sentence_targets
from recurrent.data.tokenizers import fit_vocabulary, word_vectorizer

DOCUMENTS = [
    ["One two three four.", "Five six."],
    ["Seven.", "Eight nine.", "Ten eleven twelve.", "!!!"],
    ["Thirteen."],
]


def _vectorizer():
    return fit_vocabulary(
        word_vectorizer(100, None), [s for doc in DOCUMENTS for s in doc]
    )


def test_documents_become_sentences_of_word_ids_cut_at_both_levels():
    vectorizer = _vectorizer()
    ids = nested_ids(vectorizer, DOCUMENTS, max_sentences=3, max_words=3)
    assert ids.shape.rank == 3 and ids.dtype == tf.int32
    assert ids.row_lengths().numpy().tolist() == [2, 3, 1]
    assert [len(s) for s in ids[0].to_list()] == [3, 2]
    expected = vectorizer(["One two three four."])[0, :3].numpy().tolist()
    assert ids[0, 0].numpy().tolist() == expected
    # "!!!" was the fourth sentence and is cut; a punctuation-only one has no ids.
    only_punctuation = nested_ids(vectorizer, [["!!!", "Ten."]], 5, 5)
    assert only_punctuation[0].row_lengths().numpy().tolist() == [0, 1]


def test_batches_pad_to_their_longest_document_and_mark_padded_targets():
    ids = nested_ids(_vectorizer(), DOCUMENTS * 5, max_sentences=4, max_words=4)
    targets = sentence_targets([[1, 0], [0, 1, 0, 0], [1]] * 5, max_sentences=4)
    dataset = document_batches(ids, targets, batch_size=4, shuffle=True, seed=3)
    batches = list(dataset)
    assert dataset.cardinality().numpy() == len(batches) == 4
    seen = 0
    for tokens, target in batches:
        assert tokens.shape[:2] == target.shape
        real = tf.reduce_any(tokens > 0, axis=-1).numpy()
        # Padding sentences have target -1; real ones 0 or 1 (except "!!!").
        assert (target.numpy()[~real] <= 0).all()
        assert set(np.unique(target.numpy()[real])) <= {0.0, 1.0}
        seen += tokens.shape[0]
    assert seen == 15
    labelled = sum(int((t.numpy() >= 0).sum()) for _, t in batches)
    assert labelled == 5 * (2 + 4 + 1)
    # Sorted in blocks: batches hold documents of similar sentence counts.
    assert min(t.shape[1] for _, t in batches) < 4


def test_max_batches_cuts_an_epoch():
    ids = nested_ids(_vectorizer(), DOCUMENTS * 5, 4, 4)
    targets = sentence_targets([[1, 0], [0, 1, 0, 0], [1]] * 5, 4)
    assert len(list(document_batches(ids, targets, 2, max_batches=3))) == 3
