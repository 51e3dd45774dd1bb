import pytest
import tensorflow as tf

from recurrent.data.sentences import sentences, split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Profits rose 76% to $1.13bn. The firm said so! Did it? Yes.",
            ["Profits rose 76% to $1.13bn.", "The firm said so!", "Did it?", "Yes."],
        ),
        (  # abbreviations and initials do not end a sentence
            "Mr. Smith met Dr. Jones in the U.S. on Jan. 5. J. K. Rowling came too.",
            [
                "Mr. Smith met Dr. Jones in the U.S. on Jan. 5.",
                "J. K. Rowling came too.",
            ],
        ),
        (  # closing quotes and brackets stay with their sentence
            'He said "Stop." Then he left. (It was late.) "Why?" she asked.',
            ['He said "Stop."', "Then he left.", "(It was late.)", '"Why?" she asked.'],
        ),
        (  # a line break always ends one; decimals, names and lower case do not
            "Version 3.5 of file.txt is out. it works\n\nA new paragraph",
            ["Version 3.5 of file.txt is out. it works", "A new paragraph"],
        ),
        (
            "Prices rose 5%. 2005 was good.\r\nNext",
            ["Prices rose 5%.", "2005 was good.", "Next"],
        ),
        ("   ", []),
        ("", []),
    ],
)
def test_sentences_follow_the_rules(text, expected):
    assert sentences([text]) == [expected]


def test_a_batch_gives_one_row_per_text_inside_a_graph():
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def split(texts):
        return split_sentences(texts).to_tensor("")

    rows = split(tf.constant(["One. Two.", "", "Three"])).numpy().tolist()
    assert rows == [[b"One.", b"Two."], [b"", b""], [b"Three", b""]]
