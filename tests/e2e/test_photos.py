"""Photos (E9) against both sandbox servers: each Polaris photo once in the shop."""

from __future__ import annotations

import asyncio
import io

import httpx
from PIL import Image

from e2e.sandbox import Sandbox
from e2e.test_catalogue_sync import polaris_items, reference_of
from polaris_sync.stages.photos import PHOTO_SET, note_upload, pending_uploads
from polaris_sync.stages.shop import IMAGE


def shop_images(sandbox: Sandbox) -> dict[str, list[int]]:
    """Image ids of each product of the shop, by product reference."""

    async def read() -> dict[str, list[int]]:
        async with sandbox.shop() as shop:
            return {
                product["reference"]: list(await shop.product_images(product["id"]))
                for product in await shop.list("products", sort="[id_ASC]")
            }

    return asyncio.run(read())


def photo_counts(sandbox: Sandbox) -> dict[str, int]:
    """How many photos Polaris has for each product, by product reference."""
    items = polaris_items(sandbox)
    return {reference_of(raw): len(raw.get("Photos") or []) for raw in items}


def image_counts(sandbox: Sandbox) -> dict[str, int]:
    return {ref: len(ids) for ref, ids in shop_images(sandbox).items()}


def is_upload(request: httpx.Request) -> bool:
    return request.method == "POST" and "/images/products/" in request.url.path


def test_a_first_sync_uploads_each_photo_once_and_never_again_E9(sandbox):
    sandbox.run(["catalogue"])
    assert image_counts(sandbox) == photo_counts(sandbox)

    sandbox.state.clear_fingerprints(PHOTO_SET)  # every photo set checked again
    sandbox.run(["catalogue"])
    assert not any(is_upload(r) for r in sandbox.shop_requests)
    assert image_counts(sandbox) == photo_counts(sandbox)


def test_an_upload_whose_answer_and_check_were_lost_leaves_no_extra_image_E9(
    sandbox,
):
    lost = {"answers": 3}

    def fault(request: httpx.Request) -> str | None:
        # The upload lands but its answer is lost; so is every listing the
        # client reads to find it (each read tried three times), so the run
        # cannot tell.
        if is_upload(request) and lost["answers"]:
            lost["answers"] -= 1
            return "after"
        if request.method == "GET" and "/images/products/" in request.url.path:
            if lost["answers"] < 3:
                return "before"
        return None

    sandbox.fault = fault
    first = sandbox.run(["catalogue"])["catalogue"]
    assert first.failed
    sandbox.fault = None
    sandbox.run(["catalogue"])

    assert image_counts(sandbox) == photo_counts(sandbox)


def test_a_run_killed_between_upload_and_link_leaves_no_extra_image_E9(sandbox):
    sandbox.run(["catalogue"])
    reference, count = next((r, n) for r, n in photo_counts(sandbox).items() if n)
    raw = next(raw for raw in polaris_items(sandbox) if reference_of(raw) == reference)
    item_key = f"{raw['NoModele']}:{raw['Niveau1']['Code']}"
    [product_id] = [
        int(p["id"]) for p in sandbox.read_shop("products", reference=reference)
    ]
    # What a run killed right after an upload leaves: the image, no link, and
    # the upload noted as begun when the product had only lower image ids.
    links = sandbox.state.links(IMAGE)
    link = next(key for key in links if key.startswith(f"{item_key}#"))
    sandbox.state.remove_link(IMAGE, link)
    note_upload(sandbox.state, product_id, link, links[link] - 1)
    sandbox.state.forget_fingerprint(PHOTO_SET, item_key)

    sandbox.run(["catalogue"])

    assert not any(is_upload(r) for r in sandbox.shop_requests)  # found, not resent
    assert sandbox.state.link(IMAGE, link) == links[link]
    assert pending_uploads(sandbox.state, product_id) == []
    assert image_counts(sandbox)[reference] == count
    assert sorted(shop_images(sandbox)[reference]) == sorted(
        image_id
        for key, image_id in sandbox.state.links(IMAGE).items()
        if key.startswith(f"{item_key}#")
    )


def test_a_photo_deleted_in_the_shop_is_uploaded_again_E9(sandbox):
    sandbox.run(["catalogue"])
    reference = next(r for r, n in photo_counts(sandbox).items() if n)
    [product_id] = [
        int(p["id"]) for p in sandbox.read_shop("products", reference=reference)
    ]
    image_id = shop_images(sandbox)[reference][0]

    async def delete() -> None:
        async with sandbox.shop() as shop:
            await shop.delete_image(product_id, image_id)

    asyncio.run(delete())
    sandbox.state.clear_fingerprints(PHOTO_SET)
    sandbox.run(["catalogue"])

    assert image_counts(sandbox) == photo_counts(sandbox)


def hand_made_png() -> bytes:
    picture = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(picture, format="PNG")
    return picture.getvalue()


def product_with_photos(sandbox: Sandbox) -> tuple[dict, int]:
    """A Polaris item with two photos or more, and its product's id in the shop."""
    raw = next(r for r in polaris_items(sandbox) if len(r.get("Photos") or []) >= 2)
    [product_id] = [
        int(p["id"]) for p in sandbox.read_shop("products", reference=reference_of(raw))
    ]
    return raw, product_id


def add_by_hand(sandbox: Sandbox, product_id: int) -> int:
    """An image the merchant uploads in the back office: its id."""

    async def upload() -> int:
        async with sandbox.shop() as shop:
            return await shop.upload_image(
                product_id, hand_made_png(), "vitrine.png", "image/png"
            )

    return asyncio.run(upload())


def test_an_image_the_merchant_added_survives_a_photo_change_E9(sandbox):
    sandbox.run(["catalogue"])
    raw, product_id = product_with_photos(sandbox)
    reference = reference_of(raw)

    hand_made = add_by_hand(sandbox, product_id)
    rows = sandbox.simulator.find_item(raw["NoModele"], raw["Niveau1"]["Code"])
    kept = [
        {"Chemin": photo["Url"].split("/photos/", 1)[1], "Ordre": photo["Ordre"]}
        for photo in raw["Photos"][:-1]
    ]
    sandbox.simulator.change_items(rows, {"Photos": kept})  # the last photo goes
    result = sandbox.run(["catalogue"])["catalogue"]

    assert not result.failed
    images = shop_images(sandbox)[reference]
    assert hand_made in images
    assert len(images) == len(raw["Photos"])  # one photo fewer, the hand-made one
    ours = {
        image_id
        for key, image_id in sandbox.state.links(IMAGE).items()
        if key.startswith(f"{raw['NoModele']}:{raw['Niveau1']['Code']}#")
    }
    assert ours == set(images) - {hand_made}


def test_an_image_added_before_a_lost_upload_is_not_taken_for_it_E9(sandbox):
    """Only an image newer than the upload's start can be that upload."""
    sandbox.run(["catalogue"])
    raw, product_id = product_with_photos(sandbox)
    reference = reference_of(raw)
    item_key = f"{raw['NoModele']}:{raw['Niveau1']['Code']}"

    hand_made = add_by_hand(sandbox, product_id)
    # An upload begun after the merchant's image, which never reached the shop.
    links = sandbox.state.links(IMAGE)
    link = next(key for key in links if key.startswith(f"{item_key}#"))

    async def delete_ours() -> None:
        async with sandbox.shop() as shop:
            await shop.delete_image(product_id, links[link])

    asyncio.run(delete_ours())
    sandbox.state.remove_link(IMAGE, link)
    note_upload(sandbox.state, product_id, link, hand_made)
    sandbox.state.forget_fingerprint(PHOTO_SET, item_key)

    sandbox.run(["catalogue"])

    assert sum(is_upload(r) for r in sandbox.shop_requests) == 1
    images = shop_images(sandbox)[reference]
    assert hand_made in images
    assert sandbox.state.link(IMAGE, link) not in (None, hand_made)
    assert len(images) == len(raw["Photos"]) + 1
    assert pending_uploads(sandbox.state, product_id) == []
