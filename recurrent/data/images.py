"""Image files to pixels, in the graph (for serving) and from the command line.

`decode_images` runs inside a `tf.function` or a SavedModel: a batch of encoded
files (PNG, JPEG, GIF, BMP) becomes a batch of RGB pixels of one size. Other
formats Pillow reads (TIFF, WebP...) are converted to PNG by `read_image_file`
before they reach it.
"""

import functools
import io
import warnings
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from recurrent.errors import UserInputError

MAX_PIXELS = 50_000_000
# The first bytes of the formats `tf.io.decode_image` reads.
SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")
# The last chunk of every PNG file: IEND, empty, and its checksum.
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
# Little-endian sizes of the BMP DIB headers, bytes 14 to 17 of the file.
BMP_HEADER_SIZES = tuple(
    size.to_bytes(4, "little") for size in (12, 40, 52, 56, 64, 108, 124)
)
# The modes a PNG file keeps; others are converted to RGB(A) first.
PNG_MODES = ("1", "L", "LA", "I;16", "P", "RGB", "RGBA")
WHITE = 255.0


def decode_images(encoded: tf.Tensor, size: int) -> tuple[tf.Tensor, tf.Tensor]:
    """Decodes a batch of image files into RGB pixels of `size` x `size`.

    Grayscale images become RGB; an alpha channel (grayscale + alpha, RGBA, a
    PNG palette with transparency) is composited over white. Every image is
    resized to `size` x `size` (bilinear, antialiased) without keeping its
    aspect ratio: a wide image is squeezed, not cropped. Of a GIF, only the
    first frame is read, without its transparency. A huge image is decoded
    whole before it is resized: inside a `tf.function`, that takes about 10
    bytes per pixel, 25 with an alpha channel (0.5 GB, or 1.25 GB, for 50
    megapixels); run eagerly, about twice as much.

    An element that is not an image (empty, not starting like a PNG, JPEG,
    GIF or BMP file, or cut short: a PNG without its IEND chunk, a JPEG
    without its end-of-image marker near the end, a GIF without its trailer)
    gives a zero image and `valid` False, without an error. A file whose
    start and end are sound but whose middle is damaged still fails in the
    decoder with `tf.errors.InvalidArgumentError` (a graph cannot catch it);
    `read_image_file` checks files from users before they get here.

    Args:
        encoded: `[batch]` tf.string, the bytes of each file; the batch may be
            empty or of unknown size.
        size: the height and width of the output.

    Returns:
        `(images, valid)`: float32 `[batch, size, size, 3]` pixels in 0..255 and
        bool `[batch]`, whether each element was an image.

    Example:
        >>> images, valid = decode_images(tf.constant([png_bytes, b""]), 64)
        >>> images.shape, valid.numpy()
        (TensorShape([2, 64, 64, 3]), array([ True, False]))
    """
    encoded = tf.convert_to_tensor(encoded, tf.string)
    images, valid = tf.map_fn(
        lambda contents: _decode_one(contents, size),
        encoded,
        fn_output_signature=(
            tf.TensorSpec([size, size, 3], tf.float32),
            tf.TensorSpec([], tf.bool),
        ),
    )
    return tf.ensure_shape(images, [None, size, size, 3]), valid


def _decode_one(contents: tf.Tensor, size: int) -> tuple[tf.Tensor, tf.Tensor]:
    valid = _is_image(contents)
    image = tf.cond(
        valid,
        lambda: _pixels(contents, size),
        lambda: tf.zeros([size, size, 3], tf.float32),
    )
    return image, valid


def _is_image(contents: tf.Tensor) -> tf.Tensor:
    """Whether `contents` is a whole file of a format the graph decodes: it
    starts like one and ends as one (a truncated download does not)."""
    # Padded at both ends, so that reading past either end is no error.
    padding = tf.constant(b"\0" * 32)
    padded = tf.strings.join([contents, padding])
    ending = tf.strings.join([padding, contents])

    def at(start: int, length: int) -> tf.Tensor:
        return tf.strings.substr(padded, start, length)

    def last(length: int, before: int = 0) -> tf.Tensor:
        return tf.strings.substr(ending, -length - before, length)

    png = tf.logical_and(
        tf.equal(at(0, 8), SIGNATURES[0]),
        tf.logical_and(tf.equal(at(12, 4), b"IHDR"), tf.equal(last(12), PNG_END)),
    )
    # A JPEG ends at its end-of-image marker; some cameras append a few bytes.
    jpeg = tf.logical_and(
        tf.equal(at(0, 3), SIGNATURES[1]),
        tf.reduce_any(
            tf.stack([tf.equal(last(2, before), b"\xff\xd9") for before in range(16)])
        ),
    )
    gif = tf.logical_and(
        tf.logical_or(
            tf.equal(at(0, 6), SIGNATURES[2]), tf.equal(at(0, 6), SIGNATURES[3])
        ),
        tf.equal(last(1), b";"),
    )
    # "BM" alone is too common a start (a text file): a bitmap also has the
    # size of one of the known DIB headers at byte 14.
    bitmap = tf.logical_and(
        tf.equal(at(0, 2), SIGNATURES[4]),
        tf.reduce_any(
            tf.stack([tf.equal(at(14, 4), size) for size in BMP_HEADER_SIZES])
        ),
    )
    return tf.reduce_any(tf.stack([png, jpeg, gif, bitmap]))


def _pixels(contents: tf.Tensor, size: int) -> tf.Tensor:
    """One image file as float32 RGB over white, `size` x `size`."""
    image = tf.io.decode_image(contents, expand_animations=False, dtype=tf.uint8)
    channels = tf.shape(image)[-1]
    has_alpha = channels % 2 == 0  # grey + alpha, or RGBA
    colour = image[..., : channels - tf.cast(has_alpha, tf.int32)]
    # Composited before resizing, so transparent pixels' colours never bleed in.
    colour = tf.cond(
        has_alpha, lambda: _over_white(colour, image[..., -1:]), lambda: colour
    )
    rgb = tf.cond(
        tf.shape(colour)[-1] == 1,
        lambda: tf.repeat(colour, 3, axis=-1),
        lambda: colour,
    )
    pixels = tf.image.resize(rgb, [size, size], antialias=True)
    return tf.ensure_shape(tf.clip_by_value(pixels, 0.0, WHITE), [size, size, 3])


def _over_white(colour: tf.Tensor, alpha: tf.Tensor) -> tf.Tensor:
    """uint8 colour over white by its uint8 alpha, in 16-bit integers (a huge
    image costs 2 bytes a channel, not the 4 of floats)."""
    colour, alpha = tf.cast(colour, tf.uint16), tf.cast(alpha, tf.uint16)
    mixed = colour * alpha + 255 * (255 - alpha) + 127  # at most 65,152
    return tf.cast(mixed // 255, tf.uint8)


def read_image_file(path: str | Path, max_pixels: int = MAX_PIXELS) -> bytes:
    """Reads an image file a user names, as bytes `decode_images` accepts.

    PNG, JPEG, GIF and BMP files are returned as they are; other formats
    Pillow reads (TIFF, WebP...), the variants the graph's decoders get wrong
    (CMYK JPEG, palette BMP, GIF with transparency), files with bytes after
    their end that the graph would refuse (a JPEG with a video appended, as
    phones write), and photos whose EXIF orientation says they are turned
    (turned upright), are converted to PNG (the first frame of an animation).

    Args:
        path: the file.
        max_pixels: the largest width x height accepted.

    Raises:
        UserInputError: the path is missing, a folder or empty, the file is
            not an image Pillow can read, or it has more than `max_pixels`.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise UserInputError(f"image {str(path)!r} not found; check the path")
    if path.is_dir():
        raise UserInputError(
            f"{str(path)!r} is a folder; pass the path of an image file in it"
        )
    contents = path.read_bytes()
    if not contents:
        raise UserInputError(f"image file {str(path)!r} is empty; pass an image")
    image = _opened(contents, path, max_pixels)
    turned = image.getexif().get(ExifTags.Base.Orientation, 1) != 1
    if not turned and _readable_in_graph(image) and bool(_is_image(contents)):
        return contents
    if turned:
        image = ImageOps.exif_transpose(image)
    if image.mode not in PNG_MODES:
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="png")
    return buffer.getvalue()


def _readable_in_graph(image: Image.Image) -> bool:
    """Whether `decode_images` reads this file as Pillow does."""
    if image.format == "PNG":
        return True
    if image.format == "JPEG":
        return image.mode in ("L", "RGB")
    if image.format == "GIF":
        return "transparency" not in image.info
    return image.format == "BMP" and image.mode in ("RGB", "RGBA")


def _opened(contents: bytes, path: Path, max_pixels: int) -> Image.Image:
    """The image in `contents`, fully read, after checking its size."""
    shown = repr(str(path))
    try:
        with warnings.catch_warnings():
            # The size is checked below, against a limit the caller chooses.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(contents))
    except Image.DecompressionBombError:
        raise _too_large(shown, "more than", Image.MAX_IMAGE_PIXELS * 2) from None
    except UnidentifiedImageError:
        raise UserInputError(
            f"{shown} is not an image file that can be read; pass a PNG, JPEG, "
            "GIF, BMP, TIFF or WebP image"
        ) from None
    except (OSError, SyntaxError, ValueError) as error:
        raise _corrupt(shown, error) from None
    width, height = image.size
    if width * height > max_pixels:
        raise _too_large(shown, f"{width}x{height} =", width * height, max_pixels)
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as error:
        raise _corrupt(shown, error) from None
    return image


def _too_large(shown: str, how: str, pixels: int, limit: int = 0) -> UserInputError:
    limit_words = f" (the limit is {limit:,})" if limit else ""
    return UserInputError(
        f"image {shown} is too large: {how} {pixels:,} pixels{limit_words}; "
        'shrink it first, e.g. `python -c "from PIL import Image; '
        "im = Image.open('IN'); im.thumbnail((2048, 2048)); im.save('OUT.png')\"`"
    )


def _corrupt(shown: str, error: Exception) -> UserInputError:
    return UserInputError(
        f"image {shown} cannot be read ({error}); it may be truncated or "
        "corrupt: open it and save it again with an image editor"
    )


@functools.cache
def compiled_decoder(size: int):
    """`decode_images` at `size` pixels as one traced function."""
    return tf.function(
        lambda encoded: decode_images(encoded, size),
        input_signature=[tf.TensorSpec([None], tf.string)],
    )


def pixels(images, size: int, batch: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Encoded image files as uint8 `[n, size, size, 3]` pixels, and whether
    each decoded (`recurrent.data.images.decode_images`, compiled)."""
    arrays, valid = [np.zeros((0, size, size, 3), np.uint8)], [np.zeros(0, bool)]
    images = list(images)
    decode = compiled_decoder(size)
    for start in range(0, len(images), batch):
        decoded, ok = decode(tf.constant(images[start : start + batch]))
        arrays.append(np.round(decoded.numpy()).astype(np.uint8))
        valid.append(ok.numpy())
    return np.concatenate(arrays), np.concatenate(valid)
