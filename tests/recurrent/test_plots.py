import numpy as np

from recurrent.plots import attention_figure, png_bytes


def test_attention_heat_map_labels_rows_with_output_and_columns_with_source():
    weights = np.array([[0.9, 0.1, 0.0], [0.2, 0.3, 0.5]])
    figure = attention_figure(weights, ["a", "b", "."], ["x", "[END]"], title="a b .")
    axes = figure.axes[0]
    assert [t.get_text() for t in axes.get_xticklabels()] == ["a", "b", "."]
    assert [t.get_text() for t in axes.get_yticklabels()] == ["x", "[END]"]
    np.testing.assert_array_equal(axes.images[0].get_array(), weights)
    assert png_bytes(figure).startswith(b"\x89PNG")


def test_copy_figures_shade_each_source_word_by_what_was_copied():
    from recurrent.generation.report import attention_figures, copy_figures

    outputs = {
        "source_tokens": np.array([[b"The", b"zorp", b"met", b"blix", b""]]),
        "output_tokens": np.array([[b"zorp", b"blix", b"[END]"]]),
        "weights": np.array(
            [[[0.1, 0.8, 0.05, 0.05, 0], [0.1, 0.1, 0, 0.8, 0], [0.25] * 4 + [0]]]
        ),
        "p_gen": np.array([[0.1, 0.2, 0.9]]),
        "summary": np.array([b"zorp blix"]),
    }
    (figure,) = copy_figures(outputs, ["a document"]).values()
    texts = figure.axes[0].texts
    assert [t.get_text() for t in texts] == ["The", "zorp", "met", "blix"]
    # (1 - p_gen) * attention summed over the output: zorp .83, blix .71, The .20, met .07.
    darkness = [1 - np.mean(t.get_bbox_patch().get_facecolor()[:3]) for t in texts]
    assert np.argsort(darkness).tolist() == [2, 0, 3, 1]
    assert png_bytes(figure).startswith(b"\x89PNG")
    (heat_map,) = attention_figures(outputs, ["a document"], widest=2).values()
    labels = [t.get_text() for t in heat_map.axes[0].get_yticklabels()]
    assert labels == ["zorp  0.10", "blix  0.20", "[END]  0.90"]
    # Only the two attended words the width allows are shown.
    columns = [t.get_text() for t in heat_map.axes[0].get_xticklabels()]
    assert len(columns) == 2 and "zorp" in columns
