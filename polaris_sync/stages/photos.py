"""Product photos (E9): each Polaris photo uploaded once, removed when gone.

A photo is known by its Polaris fingerprint (`Empreinte`, else its URL). The
image id PrestaShop gave it is linked to that fingerprint, so an unchanged
photo is never uploaded twice and a replaced one is swapped.
"""

from __future__ import annotations

from functools import partial

from polaris_sync.errors import ItemRejected
from polaris_sync.mapping.product import DesiredProduct, fingerprint
from polaris_sync.stages.base import StageContext
from polaris_sync.stages.items import ItemRun
from polaris_sync.stages.shop import IMAGE, ShopLookups

PHOTO_SET = "photos"

_FORMATS = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG", "image/png", "png"),
    (b"GIF8", "image/gif", "gif"),
)


def image_format(content: bytes) -> tuple[str, str] | None:
    """Content type and extension, from the bytes: PrestaShop checks content."""
    for magic, content_type, extension in _FORMATS:
        if content.startswith(magic):
            return content_type, extension
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


async def sync_photos(
    ctx: StageContext,
    items: ItemRun,
    lookups: ShopLookups,
    desired: DesiredProduct,
    product_id: int,
) -> None:
    wanted_set = fingerprint([photo.fingerprint for photo in desired.photos])
    if ctx.state.fingerprint(PHOTO_SET, desired.item_key) == wanted_set:
        return
    uploaded = lookups.photo_links(desired.item_key)
    complete = True

    for photo in desired.photos:
        if photo.fingerprint in uploaded:
            continue
        complete &= await _upload(
            ctx, items, desired, product_id, photo.url, photo.fingerprint
        )

    wanted = {photo.fingerprint for photo in desired.photos}
    for photo_fingerprint, image_id in uploaded.items():
        if photo_fingerprint in wanted:
            continue
        await items.write(
            "updated",
            f"photo {image_id} no longer in Polaris, removed",
            partial(ctx.prestashop.delete_image, product_id, image_id),
            polaris_key=desired.key,
            prestashop_id=product_id,
        )
        if not ctx.dry_run:
            ctx.state.remove_link(IMAGE, f"{desired.item_key}#{photo_fingerprint}")

    if complete and not ctx.dry_run:
        ctx.state.set_fingerprint(PHOTO_SET, desired.item_key, wanted_set)


async def _upload(
    ctx: StageContext,
    items: ItemRun,
    desired: DesiredProduct,
    product_id: int,
    url: str,
    photo_fingerprint: str,
) -> bool:
    """Upload one photo; a photo the shop refuses is skipped, not fatal."""
    if ctx.dry_run:
        await items.write(
            "updated",
            f"photo {url} would be uploaded",
            _nothing,
            polaris_key=desired.key,
            prestashop_id=product_id,
        )
        return False
    try:
        content = await ctx.polaris.fetch_photo(url)
        kind = image_format(content)
        if kind is None:
            raise ItemRejected(f"photo {url} is not a JPEG, PNG, GIF or WebP image")
        content_type, extension = kind
        filename = f"{desired.reference}-{len(content)}.{extension}"
        image_id = await items.write(
            "updated",
            f"photo {url} uploaded",
            lambda: ctx.prestashop.upload_image(
                product_id, content, filename, content_type
            ),
            polaris_key=desired.key,
            prestashop_id=product_id,
        )
    except ItemRejected as error:
        items.skip(
            desired.key, f"{desired.name}: photo {url} not synced: {error}", product_id
        )
        return False
    if image_id is not None:
        ctx.state.set_link(IMAGE, f"{desired.item_key}#{photo_fingerprint}", image_id)
    return True


async def _nothing() -> None:
    return None
