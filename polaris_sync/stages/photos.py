"""Product photos (E9): each Polaris photo uploaded once, removed when gone.

A photo is known by its Polaris fingerprint (`Empreinte`, else its URL). The
image id PrestaShop gave it is linked to that fingerprint, so an unchanged
photo is never uploaded twice and a replaced one is swapped.
"""

from __future__ import annotations

from functools import partial

from polaris_sync.errors import ItemRejected
from polaris_sync.mapping.item import Photo
from polaris_sync.mapping.product import DesiredProduct, fingerprint
from polaris_sync.stages.base import StageContext
from polaris_sync.stages.items import ItemRun
from polaris_sync.stages.shop import IMAGE, ShopLookups, linked_ids
from polaris_sync.state import State

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
    *,
    new_product: bool = False,
) -> None:
    wanted_set = fingerprint([photo.fingerprint for photo in desired.photos])
    if ctx.state.fingerprint(PHOTO_SET, desired.item_key) == wanted_set:
        return
    uploaded = lookups.photo_links(desired.item_key)
    images: set[int] = set()
    if not new_product:  # a product created just now has no image yet
        images = await _check_against_shop(ctx, items, desired, product_id, uploaded)
    complete = True

    # Every image the product has, the merchant's included: an upload whose
    # answer is lost is recognised as the one new image among these.
    known = images | set(uploaded.values())
    for photo in desired.photos:
        if photo.fingerprint in uploaded:
            continue
        image_id = await _upload(ctx, items, desired, product_id, photo, known)
        if image_id is None:
            complete = False
        else:
            known.add(image_id)

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
            what="photo",
        )
        if not ctx.dry_run:
            ctx.state.remove_link(IMAGE, f"{desired.item_key}#{photo_fingerprint}")

    if complete and not ctx.dry_run:
        ctx.state.set_fingerprint(PHOTO_SET, desired.item_key, wanted_set)


async def _check_against_shop(
    ctx: StageContext,
    items: ItemRun,
    desired: DesiredProduct,
    product_id: int,
    uploaded: dict[str, int],
) -> set[int]:
    """Set our photo links (`uploaded`) right by the images the product has.

    A linked image deleted in the shop is forgotten, so its photo goes up
    again. An upload whose answer was lost (a server error, a timeout, the
    run killed before the link was saved) is found and linked rather than
    sent twice. Any other image is the merchant's and stays. Returns the ids
    of the product's images.
    """
    images = set(await ctx.prestashop.product_images(product_id))
    for photo_fingerprint, image_id in list(uploaded.items()):
        if image_id not in images:
            del uploaded[photo_fingerprint]
            if not ctx.dry_run:
                link = f"{desired.item_key}#{photo_fingerprint}"
                ctx.state.remove_link(IMAGE, link)
    if not ctx.dry_run:
        _adopt_landed_uploads(ctx, items, desired, product_id, images, uploaded)
    return images


def _adopt_landed_uploads(
    ctx: StageContext,
    items: ItemRun,
    desired: DesiredProduct,
    product_id: int,
    images: set[int],
    uploaded: dict[str, int],
) -> None:
    """Link the images that unfinished uploads left, and close those uploads.

    The shop numbers images in order, so an upload that landed is an image no
    link names with an id above the product's highest one before that upload.
    Each pending upload takes at most one such image, lowest id first: the
    merchant's images are never taken for ours, unless the merchant added one
    while an upload's answer was being lost. An upload that left no image
    did not land; its photo goes up again.
    """
    pending = pending_uploads(ctx.state, product_id)
    if not pending:
        return
    unclaimed = sorted(images - _linked_images(ctx, images))
    own_prefix = f"{desired.item_key}#"
    for photo_key, watermark in pending:
        landed = next((i for i in unclaimed if i > watermark), None)
        with ctx.state.transaction():
            forget_upload(ctx.state, product_id, photo_key)
            if landed is None or ctx.state.link(IMAGE, photo_key) is not None:
                continue
            unclaimed.remove(landed)
            ctx.state.set_link(IMAGE, photo_key, landed)
        if photo_key.startswith(own_prefix):
            uploaded[photo_key.removeprefix(own_prefix)] = landed
        ctx.audit.event(
            "updated",
            stage=items.stage,
            reason=f"image {landed} is the photo {photo_key} whose upload answer "
            "was lost: linked, not uploaded again",
            polaris_key=desired.key,
            prestashop_id=product_id,
            what="photo",
        )
        items.result.count("updated", what="photo")


def pending_uploads(state: State, product_id: int) -> list[tuple[str, int]]:
    """Uploads to a product begun and not seen through: (photo key, watermark)."""
    rows = state.execute(
        "SELECT photo_key, watermark FROM photo_uploads WHERE product_id = ?"
        " ORDER BY watermark, photo_key",
        (product_id,),
    )
    return [(str(row[0]), int(row[1])) for row in rows]


def note_upload(state: State, product_id: int, photo_key: str, watermark: int) -> None:
    """Record an upload about to be sent, before the shop can answer it."""
    state.execute(
        "INSERT OR REPLACE INTO photo_uploads (product_id, photo_key, watermark)"
        " VALUES (?, ?, ?)",
        (product_id, photo_key, watermark),
    )


def forget_upload(state: State, product_id: int, photo_key: str) -> None:
    state.execute(
        "DELETE FROM photo_uploads WHERE product_id = ? AND photo_key = ?",
        (product_id, photo_key),
    )


def _linked_images(ctx: StageContext, image_ids: set[int]) -> set[int]:
    """Those of `image_ids` some photo link names, whichever item it is of.

    With one product per model, several items share the product's images.
    """
    return linked_ids(ctx.state, IMAGE, image_ids)


async def _upload(
    ctx: StageContext,
    items: ItemRun,
    desired: DesiredProduct,
    product_id: int,
    photo: Photo,
    known: set[int],
) -> int | None:
    """Upload one photo; a photo the shop refuses is skipped, not fatal."""
    if ctx.dry_run:
        await items.write(
            "created",
            f"photo {photo.url} would be uploaded",
            _nothing,
            polaris_key=desired.key,
            prestashop_id=product_id,
            what="photo",
        )
        return None
    photo_key = f"{desired.item_key}#{photo.fingerprint}"
    try:
        content = await ctx.polaris.fetch_photo(photo.url)
        kind = image_format(content)
        if kind is None:
            raise ItemRejected(f"photo {photo.url} is not a JPEG, PNG, GIF or WebP")
        content_type, extension = kind
        filename = f"{desired.reference}-{photo.order}.{extension}"
        note_upload(ctx.state, product_id, photo_key, max(known, default=0))
        image_id = await items.write(
            "created",
            f"photo {photo.url} uploaded",
            partial(
                ctx.prestashop.upload_image,
                product_id,
                content,
                filename,
                content_type,
                known_images=frozenset(known),
            ),
            polaris_key=desired.key,
            prestashop_id=product_id,
            what="photo",
        )
    except ItemRejected as error:
        forget_upload(ctx.state, product_id, photo_key)  # refused: nothing landed
        items.skip(
            desired.key,
            f"{desired.name}: photo {photo.url} not synced: {error}",
            product_id,
            what="photo",
        )
        return None
    if image_id is not None:
        with ctx.state.transaction():
            ctx.state.set_link(IMAGE, photo_key, image_id)
            forget_upload(ctx.state, product_id, photo_key)
    return image_id


async def _nothing() -> None:
    return None
