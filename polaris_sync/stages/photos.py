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
    *,
    new_product: bool = False,
) -> None:
    wanted_set = fingerprint([photo.fingerprint for photo in desired.photos])
    if ctx.state.fingerprint(PHOTO_SET, desired.item_key) == wanted_set:
        return
    uploaded = lookups.photo_links(desired.item_key)
    if not new_product:  # a product created just now has no image yet
        await _check_against_shop(ctx, items, desired, product_id, uploaded)
    complete = True

    # Every image of the product is one of ours: after a failed upload, a
    # new image that is none of these is the upload that landed anyway.
    known = set(uploaded.values())
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
) -> None:
    """Set our photo links (`uploaded`) right by the images the product has.

    An upload can land while its answer is lost (a server error, a timeout,
    the run killed before the link was saved): the shop then has an image no
    link names, and uploading that photo again would show it twice. Such an
    image is removed before the photo goes up again; with photos synced,
    Polaris's photos are the product's images. A linked image deleted in
    the shop is forgotten, so its photo goes up again.
    """
    images = set(await ctx.prestashop.product_images(product_id))
    for photo_fingerprint, image_id in list(uploaded.items()):
        if image_id not in images:
            del uploaded[photo_fingerprint]
            if not ctx.dry_run:
                link = f"{desired.item_key}#{photo_fingerprint}"
                ctx.state.remove_link(IMAGE, link)
    if not desired.photos:
        return  # the merchant's images stay when Polaris has none

    for image_id in sorted(images - _linked_images(ctx, images)):
        await items.write(
            "updated",
            f"image {image_id} is no Polaris photo (an upload whose answer was "
            "lost), removed",
            partial(ctx.prestashop.delete_image, product_id, image_id),
            polaris_key=desired.key,
            prestashop_id=product_id,
        )


def _linked_images(ctx: StageContext, image_ids: set[int]) -> set[int]:
    """Those of `image_ids` some photo link names, whichever item it is of.

    With one product per model, several items share the product's images.
    """
    if not image_ids:
        return set()
    marks = ",".join("?" * len(image_ids))
    rows = ctx.state.execute(
        "SELECT prestashop_id FROM links"
        f" WHERE kind = ? AND prestashop_id IN ({marks})",
        (IMAGE, *sorted(image_ids)),
    )
    return {int(row[0]) for row in rows}


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
            "updated",
            f"photo {photo.url} would be uploaded",
            _nothing,
            polaris_key=desired.key,
            prestashop_id=product_id,
        )
        return None
    try:
        content = await ctx.polaris.fetch_photo(photo.url)
        kind = image_format(content)
        if kind is None:
            raise ItemRejected(f"photo {photo.url} is not a JPEG, PNG, GIF or WebP")
        content_type, extension = kind
        filename = f"{desired.reference}-{photo.order}.{extension}"
        image_id = await items.write(
            "updated",
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
        )
    except ItemRejected as error:
        items.skip(
            desired.key,
            f"{desired.name}: photo {photo.url} not synced: {error}",
            product_id,
        )
        return None
    if image_id is not None:
        ctx.state.set_link(IMAGE, f"{desired.item_key}#{photo.fingerprint}", image_id)
    return image_id


async def _nothing() -> None:
    return None
