"""Captioning baselines that copy a training caption: the caption of the
nearest training image by pixels.

Images are compared as tiny thumbnails: each one averaged down to size x size
pixels (area averaging), flattened, centred and scaled to unit length, so the
cosine similarity ignores brightness and contrast. Copying a neighbour's caption
needs no training and is strong wherever test images resemble training images.

Reference:
    Devlin et al., "Exploring Nearest Neighbor Approaches for Image
    Captioning", 2015 (nearest-neighbour captions are strong
    baselines on COCO).
"""

from collections.abc import Sequence

import numpy as np

from recurrent.errors import UserInputError

CHUNK = 512


def _area_weights(length: int, size: int) -> np.ndarray:
    """[size, length]: how much each of `length` pixels covers each of `size`
    output cells, rows summing to 1 (area averaging, any ratio)."""
    edges = np.arange(size + 1) * length / size
    pixels = np.arange(length)[None, :]
    overlap = np.minimum(edges[1:, None], pixels + 1) - np.maximum(
        edges[:-1, None], pixels
    )
    overlap = np.clip(overlap, 0, None)
    return (overlap / overlap.sum(1, keepdims=True)).astype(np.float32)


def _thumbnails(batch: np.ndarray, size: int) -> np.ndarray:
    """[n, H, W, C] or [n, H, W] images -> [n, size * size * C] centred unit vectors."""
    batch = np.asarray(batch, dtype=np.float32)
    if batch.ndim == 3:
        batch = batch[..., None]
    if batch.ndim != 4:
        raise UserInputError(
            f"images must be [n, height, width, channels], got shape {batch.shape}"
        )
    rows = _area_weights(batch.shape[1], size)
    cols = _area_weights(batch.shape[2], size)
    small = np.einsum("ih,nhwc,jw->nijc", rows, batch, cols, optimize=True).reshape(
        len(batch), -1
    )
    small -= small.mean(1, keepdims=True)
    norms = np.linalg.norm(small, axis=1, keepdims=True)
    return small / np.where(norms > 0, norms, 1)


def image_features(images, size: int = 16) -> np.ndarray:
    """Thumbnail vectors of images (0..255, uint8 or float): an array [n, H, W, 3]
    (or [n, H, W]) in chunks, or a sequence of images of any sizes one by one.

    Returns:
        [n, size * size * channels] float32, each row centred, of unit length
        (zero for a blank image).
    """
    if isinstance(images, np.ndarray):
        chunks = [images[i : i + CHUNK] for i in range(0, len(images), CHUNK)]
    else:
        chunks = [np.asarray(image)[None] for image in images]
    if not chunks:
        return np.zeros((0, 0), np.float32)
    return np.concatenate([_thumbnails(chunk, size) for chunk in chunks])


def nearest_images(train: np.ndarray, queries: np.ndarray, k: int = 1) -> np.ndarray:
    """Indices [queries, k] of the `k` training rows most cosine-similar to
    each query row (unit vectors), most similar first, ties to the lower index."""
    if len(train) == 0:
        raise UserInputError("no training image to take a caption from")
    if train.shape[1] != queries.shape[1]:
        raise UserInputError(
            f"training and query images differ in channels: {train.shape[1]} and "
            f"{queries.shape[1]} values per thumbnail"
        )
    k = min(k, len(train))
    indices = []
    for start in range(0, len(queries), CHUNK):
        similarity = queries[start : start + CHUNK] @ train.T
        if k == 1:
            indices.append(similarity.argmax(1)[:, None])
        else:
            indices.append(np.argsort(-similarity, axis=1, kind="stable")[:, :k])
    return np.concatenate(indices) if indices else np.zeros((0, k), int)


def _caption_lists(captions: Sequence, images) -> list[list[str]]:
    if len(captions) != len(images):
        raise ValueError(f"{len(captions)} captions for {len(images)} training images")
    lists = [[texts] if isinstance(texts, str) else list(texts) for texts in captions]
    for index, texts in enumerate(lists):
        if not texts:
            raise UserInputError(f"training image {index} has no caption")
    return lists


def nearest_neighbour_captions(
    train_images, train_captions: Sequence, query_images, size: int = 16
) -> list[str]:
    """The first caption of the training image nearest to each query image.

    Args:
        train_images: training images, [n, H, W, 3] (0..255) or a sequence.
        train_captions: per training image, its list of captions or one string.
        query_images: the images to caption, as `train_images`.
        size: thumbnail side in pixels.

    Returns:
        One caption per query image.
    """
    captions = _caption_lists(train_captions, train_images)
    train = image_features(train_images, size)
    queries = image_features(query_images, size)
    if len(queries) == 0:
        return []
    return [captions[i][0] for i in nearest_images(train, queries)[:, 0]]
