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
