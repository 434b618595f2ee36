"""Product photos the simulator draws itself: small, deterministic, cheap.

A photo is a garment-like silhouette in the item's colour on a light
background. The same (seed, model, variant, order) always gives the same
bytes, hence the same ``Empreinte`` (sha1); the JPEG comment names the item, so
a photo found in the shop can be traced back to it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import random

from PIL import Image, ImageDraw

SIZE = (120, 150)

_COLOUR_RGB = {
    "NOI": (25, 25, 28), "BLA": (246, 246, 242), "MAR": (27, 38, 79),
    "MOU": (214, 165, 30), "NBL": (60, 60, 60), "ECR": (238, 230, 210),
    "KAK": (107, 111, 60), "BOR": (110, 22, 40), "GCH": (150, 150, 155),
    "RPO": (232, 190, 190), "CAM": (193, 154, 107), "VBO": (20, 80, 50),
    "RME": (40, 50, 95), "TER": (190, 90, 60), "BCI": (150, 200, 235),
    "ANT": (60, 65, 70),
}


def draw_photo(seed: int, model: int, variant_index: int, order: int,
               colour_code: str) -> bytes:
    """A JPEG unique to this photo of this item.

    Drawing thousands of pictures would make paging slow, so a few pictures
    per colour are drawn once and each photo gets its identity in a JPEG
    comment: distinct bytes, hence a distinct sha1, for no drawing cost.
    """
    rng = random.Random(f"photo:{seed}:{model}:{variant_index}:{order}")
    template = _template(colour_code, rng.randrange(_SHAPES), rng.randrange(_TONES))
    identity = f"polaris-sync sandbox photo {seed}:{model}:{variant_index}:{order}"
    comment = identity.encode("ascii")
    segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    # Right after the start-of-image marker, where any decoder expects markers.
    return template[:2] + segment + template[2:]


def fingerprint(photo: bytes) -> str:
    return hashlib.sha1(photo).hexdigest()


_SHAPES = 4
_TONES = 3


@functools.lru_cache(maxsize=256)
def _template(colour_code: str, shape: int, tone: int) -> bytes:
    colour = _COLOUR_RGB.get(colour_code, (128, 128, 128))
    background = (250 - 10 * tone, 246 - 8 * tone, 238 - 4 * tone)
    image = Image.new("RGB", SIZE, background)
    pen = ImageDraw.Draw(image)

    width, height = SIZE
    shoulders = 20 + 5 * shape
    sleeve = 15 + 4 * shape
    pen.polygon(
        [(shoulders, 30), (width - shoulders, 30), (width - sleeve, 60),
         (width - 30, 65), (width - 30, height - 15), (30, height - 15),
         (30, 65), (sleeve, 60)],
        fill=colour,
        outline=(0, 0, 0),
    )
    pen.ellipse((width // 2 - 12, 22, width // 2 + 12, 40), fill=background)

    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()
