import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import ExifTags, Image, features

from recurrent.data.images import decode_images, read_image_file
from recurrent.errors import UserInputError

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def _encoded(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _palette_with_transparency() -> bytes:
    image = Image.new("P", (8, 8), 1)
    image.putpalette([0, 0, 0, *BLUE] + [0] * 762)
    image.paste(0, (0, 0, 8, 4))  # the top half is colour 0, transparent
    return _encoded(image, transparency=0)


def _animation() -> bytes:
    frames = [Image.new("RGB", (9, 9), colour) for colour in (RED, BLUE)]
    return _encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])


# Each file, and the colour its centre pixel decodes to (over white).
CASES = {
    "rgb png": (_encoded(Image.new("RGB", (30, 20), RED)), RED),
    "grey png": (_encoded(Image.new("L", (9, 9), 76)), (76, 76, 76)),
    "grey+alpha, half": (_encoded(Image.new("LA", (9, 9), (0, 128))), (127,) * 3),
    "rgba, transparent": (_encoded(Image.new("RGBA", (9, 9), (*BLUE, 0))), WHITE),
    "rgba, half": (_encoded(Image.new("RGBA", (9, 9), (0, 0, 0, 128))), (127,) * 3),
    "palette png": (_encoded(Image.new("RGB", (9, 9), BLUE).convert("P")), BLUE),
    "16-bit grey png": (_encoded(Image.new("I;16", (9, 9), 65535)), WHITE),
    "jpeg": (_encoded(Image.new("RGB", (40, 40), RED), "JPEG", quality=95), RED),
    "grey jpeg": (_encoded(Image.new("L", (16, 16), 200), "JPEG"), (200,) * 3),
    "gif": (_encoded(Image.new("RGB", (9, 9), BLUE), "GIF"), BLUE),
    "animated gif": (_animation(), RED),  # its first frame
    "bmp": (_encoded(Image.new("RGB", (9, 9), RED), "BMP"), RED),
    "rgba bmp": (_encoded(Image.new("RGBA", (9, 9), (*BLUE, 255)), "BMP"), BLUE),
}


def test_every_mode_decodes_to_rgb_over_white():
    encoded = [contents for contents, _ in CASES.values()]
    images, valid = decode_images(tf.constant(encoded), 16)
    assert images.shape == (len(CASES), 16, 16, 3) and images.dtype == tf.float32
    assert valid.numpy().all()
    centres = images.numpy()[:, 8, 8]
    for (name, (_, colour)), centre in zip(CASES.items(), centres, strict=True):
        assert np.allclose(centre, colour, atol=3), name


def test_a_palette_with_transparency_is_white_where_transparent():
    images, _ = decode_images(tf.constant([_palette_with_transparency()]), 8)
    assert np.allclose(images[0, 1, 4], WHITE) and np.allclose(images[0, 6, 4], BLUE)


def test_a_large_image_is_squeezed_to_the_size_without_keeping_its_aspect():
    pixels = np.zeros((2000, 3000, 3), np.uint8)
    pixels[:, :1500] = RED
    pixels[:, 1500:] = BLUE
    encoded = _encoded(Image.fromarray(pixels))
    images, valid = decode_images(tf.constant([encoded]), 32)
    assert valid.numpy().all()
    assert np.allclose(images[0, :, :15], RED, atol=1)
    assert np.allclose(images[0, :, 17:], BLUE, atol=1)


NOT_IMAGES = [
    b"",
    b"garbage",
    b"BMW owners club\n" * 4,
    b"\x89PN",
    b"GIF8",
    b"GIF89a? not really",
    # Files cut short, as by an interrupted download: a graph could not
    # catch the decoder's error, so they must be refused before it.
    CASES["rgb png"][0][:-20],
    CASES["jpeg"][0][: len(CASES["jpeg"][0]) // 2],
    CASES["gif"][0][:-1],
]


def test_what_is_not_an_image_is_a_zero_image_flagged_invalid():
    rgb = CASES["rgb png"][0]
    images, valid = decode_images(tf.constant([rgb, *NOT_IMAGES]), 8)
    assert valid.numpy().tolist() == [True] + [False] * len(NOT_IMAGES)
    assert np.all(images.numpy()[1:] == 0)


def test_a_jpeg_with_a_few_bytes_after_its_end_marker_is_still_read():
    jpeg = CASES["jpeg"][0] + b"\0" * 10
    images, valid = decode_images(tf.constant([jpeg]), 8)
    assert valid.numpy().tolist() == [True]
    assert np.allclose(images.numpy()[0, 4, 4], RED, atol=3)


def test_it_runs_in_a_function_and_a_saved_model_for_any_batch(tmp_path):
    module = tf.Module()
    module.decode = tf.function(
        lambda encoded: decode_images(encoded, 12),
        input_signature=[tf.TensorSpec([None], tf.string)],
    )
    batch = tf.constant([CASES["jpeg"][0], b"", CASES["rgba, half"][0]])
    eager = decode_images(batch, 12)
    tf.saved_model.save(module, str(tmp_path / "decoder"))
    loaded = tf.saved_model.load(str(tmp_path / "decoder"))
    for decode in (module.decode, loaded.decode):
        images, valid = decode(batch)
        assert np.allclose(images, eager[0]) and valid.numpy().tolist() == [
            True,
            False,
            True,
        ]
        empty_images, empty_valid = decode(tf.constant([], tf.string))
        assert empty_images.shape == (0, 12, 12, 3) and empty_valid.shape == (0,)
    assert decode_images(tf.constant([], tf.string), 4)[0].shape == (0, 4, 4, 3)


def test_image_files_in_graph_formats_are_read_as_they_are(tmp_path):
    for name in ("rgb png", "jpeg", "gif", "bmp", "grey+alpha, half"):
        path = tmp_path / "image"
        path.write_bytes(CASES[name][0])
        assert read_image_file(path) == CASES[name][0], name


@pytest.mark.parametrize(
    "fmt, mode",
    [("TIFF", "RGB"), ("WEBP", "RGBA"), ("JPEG", "CMYK"), ("BMP", "P"), ("PNG", "P")],
)
def test_other_formats_and_modes_become_png_with_the_same_pixels(tmp_path, fmt, mode):
    if fmt == "WEBP" and not features.check("webp"):
        pytest.skip("this Pillow reads no WebP")
    original = Image.new("RGB", (10, 6), (204, 51, 102))  # a web-palette colour
    path = tmp_path / f"image.{fmt.lower()}"
    original.convert(mode).save(
        path, format=fmt, **({"lossless": True} if fmt == "WEBP" else {})
    )
    contents = read_image_file(path)
    images, valid = decode_images(tf.constant([contents]), 6)
    expected = np.asarray(Image.open(path).convert("RGB"))[0, 0]
    assert valid.numpy().all()
    assert np.allclose(images[0, 3, 3], expected, atol=2)
    if fmt != "PNG":
        assert contents.startswith(b"\x89PNG") or (fmt, mode) == ("JPEG", "RGB")


def test_a_photo_turned_by_its_exif_orientation_is_turned_upright(tmp_path):
    pixels = np.zeros((20, 40, 3), np.uint8)
    pixels[:, :20] = RED  # red left, blue right, as stored
    pixels[:, 20:] = BLUE
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # to be shown turned 90 degrees clockwise
    path = tmp_path / "photo.jpg"
    Image.fromarray(pixels).save(path, exif=exif, quality=95)
    images, _ = decode_images(tf.constant([read_image_file(path)]), 16)
    assert np.allclose(images[0, 2, 8], RED, atol=4)  # red on top
    assert np.allclose(images[0, 13, 8], BLUE, atol=4)


def test_unusable_image_files_are_refused_with_the_fix(tmp_path):
    cases = {
        tmp_path / "missing.png": "not found; check the path",
        tmp_path: "is a folder; pass the path of an image file",
        tmp_path / "empty.png": "is empty",
        tmp_path / "notes.txt": "not an image file that can be read; pass a PNG",
        tmp_path / "cut.png": "truncated or corrupt",
    }
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not an image")
    big = _encoded(Image.new("RGB", (300, 200), RED))
    (tmp_path / "cut.png").write_bytes(big[: len(big) // 2])
    for path, message in cases.items():
        with pytest.raises(UserInputError, match=message):
            read_image_file(path)
    (tmp_path / "big.png").write_bytes(big)
    with pytest.raises(
        UserInputError, match=r"300x200 = 60,000 pixels \(the limit is 10,000\); shrink"
    ):
        read_image_file(tmp_path / "big.png", max_pixels=10_000)


def test_a_photo_with_bytes_after_its_end_is_read_as_png(tmp_path):
    # Phones append a video after a JPEG's end marker: the graph would refuse
    # the file, so the command line re-encodes it.
    path = tmp_path / "motion.jpg"
    path.write_bytes(CASES["jpeg"][0] + b"ftypmp42" + b"\1" * 5000)
    contents = read_image_file(path)
    assert contents.startswith(b"\x89PNG")
    images, valid = decode_images(tf.constant([contents]), 8)
    assert valid.numpy().tolist() == [True]
    assert np.allclose(images.numpy()[0, 4, 4], RED, atol=3)
