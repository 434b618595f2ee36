"""The PrestaShop Webservice client: one keep-alive connection pool, bounded.

Reads ask for JSON (smaller, faster to parse); writes send XML, the only input
the Webservice understands. Every HTTP failure leaves this module as an error
of `polaris_sync.errors`, keyed by status and PrestaShop's numeric code (its
messages are translated into the shop's language, so never matched on).
"""

from __future__ import annotations

import asyncio
import base64
import collections
import json
import time
from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from itertools import islice
from types import TracebackType
from typing import Any

import httpx

from polaris_sync.errors import (
    AuthError,
    ItemRejected,
    RemoteError,
    ServerUnreachable,
    TransientError,
)
from polaris_sync.http11 import transport_for
from polaris_sync.prestashop import xml
from polaris_sync.prestashop.fields import merge_for_put, strip_read_only

Entity = dict[str, Any]
FilterValue = str | int | Iterable[str | int]

_READS = ("GET", "HEAD")
# Waits before the second and third attempt of a failed read, as fractions of
# the client's `retry_delay`: short, since the item waits for the answer.
_READ_RETRY_DELAYS = (0.5, 1.5)
# How many places a JSON answer preceded by PHP noise may start at.
_MAX_JSON_STARTS = 64

# Resources whose JSON list is keyed by another name than their URL.
_LIST_KEYS = {"order_slip": "order_slips"}


class PrestaShopClient:
    """Async client of one shop's Webservice (`<shop>/api`).

    At most `max_concurrency` requests are in flight, and at most
    `max_requests_per_second` start each second (0 turns pacing off): shared
    hostings answer floods with 503s or bans.
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        max_concurrency: int = 4,
        max_requests_per_second: float = 5.0,
        timeout: float = 30.0,
        retry_delay: float = 1.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.api_root = _api_root(url)
        self.version: str | None = None
        self.requests: collections.Counter[tuple[str, str]] = collections.Counter()
        self.writes_forbidden = False
        self._retry_delay = retry_delay
        self._patch_rights: dict[str, bool] | None = None
        self._languages: list[int] | None = None
        # Concurrent items asking for reference data wait for one read of it.
        self._reference_lock = asyncio.Lock()
        self._slots = asyncio.Semaphore(max(1, max_concurrency))
        self._interval = 1.0 / max_requests_per_second if max_requests_per_second else 0
        self._next_start = 0.0
        self._pace_lock = asyncio.Lock()
        # Requests go straight to the transport: the shop needs no cookies,
        # redirects or auth flows, and httpx.AsyncClient's work for them costs
        # more CPU than the exchange itself on a fast shop.
        self._transport = transport or transport_for(
            self.api_root, max_connections=max(1, max_concurrency)
        )
        self._headers = {
            "Authorization": _basic_auth(api_key),
            "User-Agent": "polaris-sync",
            "Accept": "*/*",
            "Accept-Encoding": "gzip, deflate",
        }
        self._timeouts = {"timeout": httpx.Timeout(timeout).as_dict()}

    async def __aenter__(self) -> PrestaShopClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    @property
    def request_count(self) -> int:
        return sum(self.requests.values())

    # -- version and rights -------------------------------------------------

    async def detect(self) -> str:
        """Read the resource list once: shop version and per-resource PATCH right."""
        response = await self._send("GET", "", "")
        root = xml.parse_xml(response.text)
        api = root.find("api")
        resources = list(api) if api is not None else []
        self._patch_rights = {r.tag: r.get("patch") == "true" for r in resources}
        return self.version or "0"

    @property
    def supports_patch(self) -> bool:
        """PATCH exists from PrestaShop 8.0 on (1.7.8 answers 405 code 23)."""
        return _major(self.version) >= 8

    async def _can_patch(self, resource: str) -> bool:
        async with self._reference_lock:
            if self._patch_rights is None:
                await self.detect()
        assert self._patch_rights is not None
        # A key created before an upgrade to 8.x lacks the PATCH right.
        return self.supports_patch and self._patch_rights.get(resource, True)

    async def languages(self) -> list[int]:
        """Ids of the shop's active languages: every multilingual write needs all."""
        async with self._reference_lock:
            if self._languages is None:
                rows = await self.list(
                    "languages", filters={"active": 1}, display="[id]", sort="[id_ASC]"
                )
                self._languages = [int(row["id"]) for row in rows]
        return self._languages

    # -- reads ----------------------------------------------------------------

    async def get(self, resource: str, object_id: int) -> Entity | None:
        """One object, or None when the shop has no such id."""
        try:
            response = await self._send("GET", resource, f"/{object_id}", as_json=True)
        except ItemRejected as exc:
            if exc.status == 404:
                return None
            raise
        return _json_entity(response, resource)

    async def list(
        self,
        resource: str,
        *,
        filters: Mapping[str, FilterValue] | None = None,
        display: str = "full",
        sort: str | None = None,
        limit: str | int | None = None,
        date: bool = False,
    ) -> list[Entity]:
        """The objects matching `filters` (see `filter_value` for the grammar)."""
        params: dict[str, str] = {"display": display}
        for field, value in (filters or {}).items():
            params[f"filter[{field}]"] = filter_value(value)
        if sort:
            params["sort"] = sort
        if limit is not None:
            params["limit"] = str(limit)
        if date:
            params["date"] = "1"
        response = await self._send("GET", resource, "", params=params, as_json=True)
        return _json_list(response, resource)

    async def iter_by_ids(
        self, resource: str, ids: Iterable[int], batch: int = 100
    ) -> AsyncIterator[Entity]:
        """Full objects for many ids, `batch` per request (URLs stay under 8 KB)."""
        pending = sorted(set(ids))
        for start in range(0, len(pending), batch):
            chunk = pending[start : start + batch]
            for entity in await self.list(resource, filters={"id": chunk}):
                yield entity

    async def iter_all(
        self,
        resource: str,
        filters: Mapping[str, FilterValue] | None = None,
        page_size: int = 100,
        display: str = "full",
    ) -> AsyncIterator[Entity]:
        """Every matching object, page by page in id order; stops on a short page."""
        offset = 0
        while True:
            page = await self.list(
                resource,
                filters=filters,
                display=display,
                sort="[id_ASC]",
                limit=f"{offset},{page_size}",
            )
            for entity in page:
                yield entity
            if len(page) < page_size:
                return
            offset += page_size

    async def find_one(
        self,
        resource: str,
        filters: Mapping[str, str | int],
        fields: Iterable[str] = (),
    ) -> Entity | None:
        """The single object whose fields equal `filters`, checked on our side too.

        A filter the shop does not recognise is ignored and the whole table comes
        back, so rows are checked before one is trusted to decide create/update.
        """
        display = "[" + ",".join(dict.fromkeys(["id", *filters, *fields])) + "]"
        rows = await self.list(
            resource, filters=filters, display=display, sort="[id_ASC]"
        )
        matching = [row for row in rows if row_matches(row, filters)]
        return matching[0] if matching else None

    # -- writes ---------------------------------------------------------------

    async def create(
        self,
        resource: str,
        fields: Mapping[str, Any],
        *,
        lookup: Mapping[str, str | int] | None = None,
    ) -> Entity:
        """POST one object and return it as the shop holds it.

        After a 5xx or a timeout the object may exist anyway; with `lookup` the
        shop is searched before one more attempt, so nothing is created twice.
        Without it no retry happens.
        """
        body = xml.build_body(resource, strip_read_only(resource, fields))
        try:
            return await self._write("POST", resource, "", body)
        except ServerUnreachable:
            raise
        except TransientError:
            if lookup is None:
                raise
            await asyncio.sleep(self._retry_delay)
            existing = await self.find_one(resource, lookup)
            if existing is not None:
                return existing
            return await self._write("POST", resource, "", body)

    async def update(
        self, resource: str, object_id: int, fields: Mapping[str, Any]
    ) -> Entity:
        """Change the given fields only.

        PATCH on 8.x and later; on 1.7.8 read the whole object, drop what may not
        be written, apply the change and PUT it all back (PUT blanks every field
        it does not receive).
        """
        if await self._can_patch(resource):
            method, document = "PATCH", {"id": object_id, **fields}
            document = strip_read_only(resource, document)
        else:
            current = await self._get_xml(resource, object_id)
            method, document = "PUT", merge_for_put(resource, current, fields)
        body = xml.build_body(resource, document)
        try:
            return await self._write(method, resource, f"/{object_id}", body)
        except ServerUnreachable:
            raise
        except TransientError:
            # The same full write twice leaves the same object: safe to repeat.
            await asyncio.sleep(self._retry_delay)
            return await self._write(method, resource, f"/{object_id}", body)

    async def delete(self, resource: str, object_id: int) -> None:
        """Delete one object; an id already gone counts as done."""
        try:
            await self._send("DELETE", resource, f"/{object_id}")
        except ItemRejected as exc:
            if exc.status != 404:
                raise

    async def upload_image(
        self,
        product_id: int,
        content: bytes,
        filename: str,
        content_type: str,
        *,
        known_images: Collection[int] | None = None,
    ) -> int:
        """Add one photo to a product; returns the new image id.

        An upload may land and still answer 5xx or time out. With
        `known_images` (every image the product had before), the product's
        images are listed after such a failure: exactly one new image is the
        upload; none means it did not land and it is tried once more.
        """
        files = {"image": (filename, content, content_type)}
        try:
            return await self._upload(product_id, files)
        except ServerUnreachable:
            raise
        except TransientError:
            if known_images is None:
                raise
            await asyncio.sleep(self._retry_delay)
            current = await self.product_images(product_id)
            new: set[int] = set(current) - set(known_images)
            if len(new) == 1:
                return new.pop()
            if new:
                raise
            return await self._upload(product_id, files)

    async def product_images(self, product_id: int) -> Sequence[int]:
        """Ids of a product's images (the shop answers 404 when it has none)."""
        try:
            response = await self._send("GET", "images", f"/products/{product_id}")
        except ItemRejected as exc:
            if exc.status == 404:
                return []
            raise
        root = xml.parse_xml(response.text)
        ids = (declination.get("id", "") for declination in root.iter("declination"))
        return [int(image_id) for image_id in ids if image_id.isdigit()]

    async def _upload(self, product_id: int, files: dict[str, Any]) -> int:
        response = await self._send(
            "POST", "images", f"/products/{product_id}", files=files
        )
        image = xml.parse_xml(response.text).find("image")
        image_id = image.findtext("id") if image is not None else None
        if not image_id or not image_id.strip().isdigit():
            raise TransientError(
                f"PrestaShop answered an image upload for product {product_id} "
                "without an image id"
            )
        return int(image_id)

    async def delete_image(self, product_id: int, image_id: int) -> None:
        try:
            await self._send("DELETE", "images", f"/products/{product_id}/{image_id}")
        except ItemRejected as exc:
            if exc.status not in (400, 404):  # already gone (code 57 or 404)
                raise

    # -- plumbing -------------------------------------------------------------

    async def _get_xml(self, resource: str, object_id: int) -> Entity:
        # XML, not JSON, feeds full rewrites: JSON leaves empty fields out.
        response = await self._send("GET", resource, f"/{object_id}")
        return _xml_entity(response.text, resource)

    async def _write(
        self, method: str, resource: str, path: str, body: bytes
    ) -> Entity:
        response = await self._send(
            method,
            resource,
            path,
            content=body,
            headers={"Content-Type": "text/xml; charset=utf-8"},
        )
        entity = _xml_entity(response.text, resource)
        if not str(entity.get("id", "")).isdigit():
            raise TransientError(
                f"PrestaShop answered a {method} {resource} with no id"
            )
        return entity

    async def _send(
        self,
        method: str,
        resource: str,
        path: str,
        *,
        as_json: bool = False,
        params: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        if method not in _READS and self.writes_forbidden:
            raise RuntimeError(f"{method} {resource} attempted while writes are off")
        params = dict(params or {})
        if as_json:
            params["output_format"] = "JSON"
        url = f"{self.api_root}/{resource}{path}"
        if method not in _READS:
            return await self._send_once(method, resource, path, url, params, kwargs)

        # A read changes nothing: one slow or failed answer is asked for again
        # rather than failing the whole item. Writes never come through here
        # twice; their callers check the shop before repeating one.
        for delay in _READ_RETRY_DELAYS:
            try:
                return await self._send_once(
                    method, resource, path, url, params, kwargs
                )
            except ServerUnreachable:
                raise
            except TransientError:
                await asyncio.sleep(delay * self._retry_delay)
        return await self._send_once(method, resource, path, url, params, kwargs)

    async def _send_once(
        self,
        method: str,
        resource: str,
        path: str,
        url: str,
        params: dict[str, str],
        kwargs: dict[str, Any],
    ) -> httpx.Response:
        async with self._slots:
            await self._pace()
            self.requests[(method, resource)] += 1
            try:
                response = await self._exchange(method, url, params, kwargs)
            except httpx.TimeoutException as exc:
                raise TransientError(
                    f"PrestaShop did not answer {method} {resource} in time"
                ) from exc
            except httpx.ConnectError as exc:
                raise ServerUnreachable(
                    f"cannot reach PrestaShop at {self.api_root}: {exc}"
                ) from exc
            except httpx.TransportError as exc:
                # Reset or cut mid-answer: the shop is there, this exchange
                # failed. A write may have landed: its caller checks.
                raise TransientError(
                    f"PrestaShop dropped the connection on {method} {resource}: "
                    f"{exc}"
                ) from exc

        header = response.headers.get("PSWS-Version")
        if header and header != "0":
            self.version = header
        if response.status_code >= 300:
            raise _http_error(method, resource, path, response)
        return response

    async def _exchange(
        self, method: str, url: str, params: dict[str, str], kwargs: dict[str, Any]
    ) -> httpx.Response:
        # The caller's kwargs serve again when a read is retried: not altered.
        body = {name: value for name, value in kwargs.items() if name != "headers"}
        headers = {**self._headers, **kwargs.get("headers", {})}
        request = httpx.Request(
            method, url, params=params, headers=headers, extensions=self._timeouts,
            **body,
        )
        response = await self._transport.handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        response.request = request
        # The Webservice writes UTF-8 only; naming it spares httpx's search of
        # the Content-Type header on every answer.
        response.encoding = "utf-8"
        return response

    async def _pace(self) -> None:
        if not self._interval:
            return
        async with self._pace_lock:
            now = time.monotonic()
            wait = self._next_start - now
            if wait > 0:
                await asyncio.sleep(wait)
            self._next_start = max(now, self._next_start) + self._interval


def filter_value(value: FilterValue) -> str:
    """A `filter[...]` value: a list becomes `[a|b]`, a number `[n]`.

    A string is sent as written, so callers may use the shop's grammar
    (`>[5]`, `[a]%`...). `exact()` makes a literal string safe.
    """
    if isinstance(value, int):
        return f"[{value}]"
    if isinstance(value, str):
        return value
    return "[" + "|".join(str(v) for v in value) + "]"


def exact(text: str) -> str:
    """Filter on one literal value, commas and pipes included.

    The bracket-less form is a plain equality; only brackets cannot be matched.
    """
    if "[" in text or "]" in text:
        raise ValueError(f"PrestaShop cannot filter on a value with brackets: {text}")
    return text


def row_matches(row: Entity, filters: Mapping[str, str | int]) -> bool:
    for field, wanted in filters.items():
        wanted_text = str(wanted)
        if wanted_text.startswith("[") and wanted_text.endswith("]"):
            wanted_text = wanted_text[1:-1]
        found = str(row.get(field, "")).casefold()
        # JSON leaves out fields whose value is empty or zero.
        if found != wanted_text.casefold() and {found, wanted_text} - {"", "0"}:
            return False
    return True


def _basic_auth(api_key: str) -> str:
    # The Webservice takes the key as the user name, with no password.
    token = base64.b64encode(f"{api_key}:".encode()).decode("ascii")
    return f"Basic {token}"


def _api_root(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/api") else url + "/api"


def _major(version: str | None) -> int:
    try:
        return int((version or "0").split(".")[0])
    except ValueError:
        return 0


def _normalise(value: Any) -> Any:
    """Language lists become {language id: text}; the rest stays as sent."""
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, dict) and set(v) == {"id", "value"} for v in value)
    ):
        return {int(v["id"]): v["value"] for v in value}
    return value


def _entity(raw: Mapping[str, Any]) -> Entity:
    return {key: _normalise(value) for key, value in raw.items()}


def _json_entity(response: httpx.Response, resource: str) -> Entity | None:
    document = _json(response)
    single = (
        document.get(xml.node_name(resource)) if isinstance(document, dict) else None
    )
    if isinstance(single, dict):
        return _entity(single)
    rows = _json_list(response, resource)
    return rows[0] if rows else None


def _json_list(response: httpx.Response, resource: str) -> list[Entity]:
    document = _json(response)
    # An empty list comes back as [] (or {}) instead of {"products": []}.
    if not isinstance(document, dict):
        return []
    rows = document.get(resource) or document.get(_LIST_KEYS.get(resource, "")) or []
    if isinstance(rows, dict):
        rows = [rows]
    return [_entity(row) for row in rows]


def _json(response: httpx.Response) -> Any:
    """The JSON document of an answer, skipping any PHP notice printed first.

    A notice may itself hold brackets: the document is the first `{` or `[`
    from which a JSON value runs to the end of the answer.
    """
    text = response.text.strip()
    if not text:
        return []
    decoder = json.JSONDecoder()
    starts = islice(
        (i for i, char in enumerate(text) if char in "{["), _MAX_JSON_STARTS
    )
    for start in starts:
        try:
            document, end = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if end == len(text):
            return document
    raise TransientError(f"PrestaShop answered unreadable JSON: {text[:120]!r}")


def _xml_entity(text: str, resource: str) -> Entity:
    """The object of a write answer, checking that it is the one we wrote.

    A request that lost its resource segment lands on the resource list, and
    the shop ignores the entity name of a body: the answer's element tells.
    """
    try:
        root = xml.parse_xml(text)
    except xml.ET.ParseError as exc:
        raise TransientError(
            f"PrestaShop answered unreadable XML: {text[:120]!r}"
        ) from exc
    element = root.find(xml.node_name(resource))
    if element is None:
        found = root[0].tag if len(root) else "nothing"
        raise TransientError(
            f"PrestaShop answered with {found} where a {xml.node_name(resource)} "
            "was expected"
        )
    return xml.entity_from_xml(element)


def _http_error(
    method: str, resource: str, path: str, response: httpx.Response
) -> Exception:
    status = response.status_code
    codes, message = xml.error_codes(response.text)
    if len(message) > 240:
        # Did-you-mean lists name every field of the resource.
        message = message[:240] + "..."
    where = f"{method} {resource}{path}"
    detail = (
        f"{message} (HTTP {status}, codes {list(codes)})" if codes else f"HTTP {status}"
    )
    if status in (401, 403):
        return AuthError(f"PrestaShop refused the API key for {where}: {detail}")
    if status == 405:
        return AuthError(
            f"PrestaShop does not allow {where} for this API key: {detail}; "
            "grant the method to the key in Advanced Parameters > Webservice"
        )
    if status == 503 and 22 in codes:
        return RemoteError("the PrestaShop Webservice is disabled in the shop")
    if status >= 500:
        return TransientError(f"PrestaShop failed on {where}: {detail}")
    if status < 400:
        return RemoteError(
            f"PrestaShop redirected {where} (HTTP {status}): unknown shop or bad URL"
        )
    return ItemRejected(
        f"PrestaShop refused {where}: {detail}", status=status, codes=codes
    )
