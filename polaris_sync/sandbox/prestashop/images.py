"""`/api/images/...`: product images, PrestaShop's "specific management" resource.

Uploads go through the multipart field `image`, are checked on their content
(GIF, JPEG, PNG, WebP), capped at PS_LIMIT_UPLOAD_IMAGE_VALUE x 1,000,000 bytes,
and re-encoded with pillow (WebP and GIF become JPEG, PNG stays PNG). The first
image of a product becomes its cover.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError

from .engine import Answer, Context
from .errors import EmptyAnswer, WsError
from .render import document, ml_xml
from .xmlio import XML_CONTENT_TYPE, cdata

if TYPE_CHECKING:
    from .shop import Shop
    from .store import Store

# name -> (width, height), as a fresh shop's theme declares them.
IMAGE_TYPES = {
    "cart_default": (125, 125),
    "home_default": (250, 250),
    "large_default": (800, 800),
    "medium_default": (452, 452),
    "small_default": (98, 98),
}
FAMILIES = (
    "general",
    "products",
    "categories",
    "manufacturers",
    "suppliers",
    "stores",
    "customizations",
)
FORMAT_ERROR = (
    "Image upload error : Image format not recognized, allowed formats are: "
    "gif, jpg, jpeg, jpe, png, webp"
)
_MIME = {"PNG": "image/png", "JPEG": "image/jpeg"}


@dataclass
class Upload:
    """The `image` part of a multipart body, or None when it was absent."""

    data: bytes | None


def create_table(store: Store) -> None:
    """Images live beside the resources' tables (created with the shop)."""
    store.execute(
        "CREATE TABLE IF NOT EXISTS ws_product_images (id INTEGER PRIMARY KEY "
        "AUTOINCREMENT, id_product INTEGER, position INTEGER, cover INTEGER, "
        "format TEXT, data BLOB)"
    )
    store.execute(
        "CREATE INDEX IF NOT EXISTS ix_product_images ON ws_product_images (id_product)"
    )


def image_ids(shop: Shop, product_id: int) -> list[int]:
    rows = shop.store.execute(
        "SELECT id FROM ws_product_images WHERE id_product = ? ORDER BY position, id",
        (product_id,),
    )
    return [row[0] for row in rows]


def cover_id(shop: Shop, product_id: int) -> int | None:
    return shop.store.scalar(
        "SELECT id FROM ws_product_images WHERE id_product = ? AND cover = 1",
        (product_id,),
    )


def set_cover(shop: Shop, product_id: int, image_id: int) -> None:
    shop.store.execute(
        "UPDATE ws_product_images SET cover = NULL WHERE id_product = ?", (product_id,)
    )
    shop.store.execute(
        "UPDATE ws_product_images SET cover = 1 WHERE id = ?", (image_id,)
    )


def delete_product_images(shop: Shop, product_id: int) -> None:
    shop.store.execute(
        "DELETE FROM ws_product_images WHERE id_product = ?", (product_id,)
    )


# --- routing ----------------------------------------------------------------


def handle(
    ctx: Context, segments: list[str], method: str, upload: Upload | None
) -> Answer:
    if not segments:
        return _families(ctx)
    if segments[0] != "products":
        raise WsError(400, (50, "This image type does not exist"))
    rest = segments[1:]
    if not rest:
        return _products_index(ctx)
    product_id = _number(rest[0])
    image_id = _number(rest[1]) if len(rest) > 1 else None
    size = rest[2] if len(rest) > 2 else None
    if len(rest) > 1 and rest[1] == "bin" and method in ("GET", "HEAD"):
        # The cover, whatever its id.
        image_id = cover_id(ctx.shop, product_id) or 0
    if method in ("GET", "HEAD"):
        return _read(ctx, product_id, image_id, size)
    if method == "POST":
        return _upload(ctx, product_id, image_id, upload)
    if method == "PUT" and image_id is not None:
        return _replace(ctx, product_id, image_id, upload)
    if method == "DELETE" and image_id is not None:
        return _delete(ctx, product_id, image_id)
    raise WsError(405, (23, f"Method {method} is not valid"))


def _number(text: str) -> int:
    return int(text) if text.isdigit() else 0


def _families(ctx: Context) -> Answer:
    lines = ["<image_types>\n"]
    for family in FAMILIES:
        link = f"{ctx.base}/images/{family}"
        lines.append(
            f'<{family} xlink:href="{link}" get="true" put="true" post="true" '
            f'patch="false" delete="true" head="true" upload_allowed_mimetypes='
            f'"image/gif, image/jpg, image/jpeg, image/pjpeg, image/png, '
            f'image/x-png, image/webp"/>\n'
        )
    lines.append("</image_types>\n")
    return Answer(200, document("".join(lines)), XML_CONTENT_TYPE)


def _products_index(ctx: Context) -> Answer:
    lines = ["<image_types>\n"]
    for name, (width, height) in IMAGE_TYPES.items():
        link = f"{ctx.base}/image_types/{name}"
        lines.append(
            f'<image_type id="{name}" name="{name}" xlink:href="{link}" '
            f'width="{width}" height="{height}"/>\n'
        )
    lines.append("</image_types>\n<images>\n")
    for (product_id,) in ctx.store.execute(
        "SELECT DISTINCT id_product FROM ws_product_images ORDER BY id_product"
    ):
        link = f"{ctx.base}/images/products/{product_id}"
        lines.append(f'<image id="{product_id}" xlink:href="{link}"/>\n')
    lines.append("</images>\n")
    return Answer(200, document("".join(lines)), XML_CONTENT_TYPE)


def _read(
    ctx: Context, product_id: int, image_id: int | None, size: str | None
) -> Answer:
    ids = image_ids(ctx.shop, product_id)
    if image_id is None:
        if not ids:
            raise EmptyAnswer(404)
        lines = [f'<image id="{product_id}">\n']
        for each in ids:
            link = f"{ctx.base}/images/products/{product_id}/{each}"
            lines.append(f'<declination id="{each}" xlink:href="{link}"/>\n')
        lines.append("</image>\n")
        return Answer(200, document("".join(lines)), XML_CONTENT_TYPE)
    if image_id not in ids:
        raise WsError(400, (57, "This image id does not exist"))
    if size is not None and size not in IMAGE_TYPES:
        names = ", ".join(f'"{n}"' for n in IMAGE_TYPES)
        raise WsError(
            400,
            (
                58,
                f"This image size does not exist. Did you mean: "
                f'"home_default"? The full list is: {names}',
            ),
        )
    fmt, data = _stored(ctx, image_id)
    if size is not None:
        data = _resized(data, IMAGE_TYPES[size], fmt)
    return _binary(data, fmt)


def _binary(data: bytes, fmt: str) -> Answer:
    return Answer(200, "", _MIME.get(fmt, "image/jpeg"), data=data)


def _stored(ctx: Context, image_id: int) -> tuple[str, bytes]:
    row = ctx.store.execute(
        "SELECT format, data FROM ws_product_images WHERE id = ?", (image_id,)
    )
    return str(row[0][0]), bytes(row[0][1])


def _resized(data: bytes, box: tuple[int, int], fmt: str) -> bytes:
    """A thumbnail in the stored format (PNG stays PNG, the rest is JPEG)."""
    with Image.open(io.BytesIO(data)) as source:
        picture = source.convert("RGBA" if fmt == "PNG" else "RGB")
        picture.thumbnail(box)
        out = io.BytesIO()
        picture.save(out, fmt, **({} if fmt == "PNG" else {"quality": 90}))
    return out.getvalue()


# --- writes -----------------------------------------------------------------


def _checked_upload(ctx: Context, upload: Upload | None) -> tuple[str, bytes]:
    if upload is None or upload.data is None:
        raise WsError(
            400, (76, 'Please set an "image" parameter with image data for value')
        )
    limit_mb = int(ctx.shop.configuration("PS_LIMIT_UPLOAD_IMAGE_VALUE") or 2)
    if len(upload.data) > limit_mb * 1_000_000:
        raise WsError(
            400,
            (
                72,
                f"The image size is too large (maximum allowed is "
                f"{limit_mb * 1000} KB)",
            ),
        )
    return _reencoded(upload.data)


def _reencoded(data: bytes) -> tuple[str, bytes]:
    """PNG stays PNG; JPEG, GIF and WebP are stored as JPEG."""
    try:
        with Image.open(io.BytesIO(data)) as picture:
            source = picture.format
            if source not in ("PNG", "JPEG", "GIF", "WEBP"):
                raise WsError(400, (76, FORMAT_ERROR))
            picture.load()
            out = io.BytesIO()
            if source == "PNG":
                picture.save(out, "PNG")
                return "PNG", out.getvalue()
            picture.convert("RGB").save(out, "JPEG", quality=90)
            return "JPEG", out.getvalue()
    except (UnidentifiedImageError, OSError) as exc:
        raise WsError(400, (76, FORMAT_ERROR)) from exc


def _upload(
    ctx: Context, product_id: int, image_id: int | None, upload: Upload | None
) -> Answer:
    if image_id is not None:
        if image_id in image_ids(ctx.shop, product_id):
            raise WsError(
                400,
                (
                    65,
                    "This image already exists. To modify it, please "
                    "use the PUT method",
                ),
            )
        raise WsError(400, (57, "This image id does not exist"))
    if ctx.store.get(ctx.resource("products"), product_id) is None:
        raise WsError(400, (76, f"Product {product_id} does not exist"))
    fmt, data = _checked_upload(ctx, upload)
    with ctx.store.transaction():
        position = 1 + int(
            ctx.store.scalar(
                "SELECT COALESCE(MAX(position), 0) FROM ws_product_images "
                "WHERE id_product = ?",
                (product_id,),
            )
        )
        cover = None if cover_id(ctx.shop, product_id) else 1
        ctx.store.execute(
            "INSERT INTO ws_product_images (id_product, position, cover, format, data) "
            "VALUES (?, ?, ?, ?, ?)",
            (product_id, position, cover, fmt, data),
        )
        new_id = int(ctx.store.scalar("SELECT last_insert_rowid()"))
    return _image_entity(ctx, new_id, product_id, position, cover, data)


def _image_entity(
    ctx: Context,
    image_id: int,
    product_id: int,
    position: int,
    cover: int | None,
    data: bytes,
) -> Answer:
    legend = ml_xml(ctx, {lang: "" for lang in ctx.shop.languages})
    body = (
        f"<image>\n<id>{cdata(str(image_id))}</id>\n"
        f"<id_product>{cdata(str(product_id))}</id_product>\n"
        f"<position>{cdata(str(position))}</position>\n"
        f"<cover>{cdata('1' if cover else '')}</cover>\n"
        f"<legend>{legend}</legend>\n</image>\n"
        f'<content encode="base64">{cdata(base64.b64encode(data).decode())}</content>\n'
    )
    return Answer(200, document(body), XML_CONTENT_TYPE)


def _replace(
    ctx: Context, product_id: int, image_id: int, upload: Upload | None
) -> Answer:
    if image_id not in image_ids(ctx.shop, product_id):
        raise WsError(400, (57, "This image id does not exist"))
    fmt, data = _checked_upload(ctx, upload)
    ctx.store.execute(
        "UPDATE ws_product_images SET format = ?, data = ? WHERE id = ?",
        ("JPEG", _as_jpeg(data) if fmt != "JPEG" else data, image_id),
    )
    return _binary(_stored(ctx, image_id)[1], "JPEG")


def _as_jpeg(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as picture:
        out = io.BytesIO()
        picture.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def _delete(ctx: Context, product_id: int, image_id: int) -> Answer:
    if image_id not in image_ids(ctx.shop, product_id):
        raise WsError(400, (57, "This image id does not exist"))
    was_cover = cover_id(ctx.shop, product_id) == image_id
    ctx.store.execute("DELETE FROM ws_product_images WHERE id = ?", (image_id,))
    remaining = image_ids(ctx.shop, product_id)
    if was_cover and remaining:
        set_cover(ctx.shop, product_id, remaining[0])
    return Answer(200, "", None)
