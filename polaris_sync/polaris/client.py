"""The Polaris WebConnect client: catalogue pages, configuration, sales, customers.

Every WebConnect detail (paths, JSON query parameters, field names, status
meanings) lives in this package, so that a merchant's server that differs from
the contract changes one place. HTTP failures become the errors.py tree here:

- 401, and 403 (missing permission, test access on a production base):
  :class:`AssociationError`, the run stops and says to associate again (A2);
- 400, 404, 422: :class:`ItemRejected` with Polaris' message;
- 409 on a sale: :class:`SaleAlreadyExists` (the sale is in Polaris already);
- 5xx, 429, timeouts, dropped connections: :class:`TransientError`; reads are
  retried a few times first, writes never (the sale journal decides);
- a certificate other than the pinned one: :class:`CertificateMismatch`.

The access key travels in the ``X-API-Key`` header only, to the Polaris server
only; it is never logged nor put in an error message.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from pydantic import ValidationError

from polaris_sync.errors import (
    AssociationError,
    CertificateMismatch,
    ItemRejected,
    RemoteError,
    TransientError,
)
from polaris_sync.http11 import transport_for
from polaris_sync.polaris.models import PolarisItem, ProductPage
from polaris_sync.polaris.pinning import (
    Pin,
    fingerprint,
    is_verification_failure,
    pinned_context,
    presented_certificate,
)

RETRY_DELAYS = (0.5, 2.0)


class SaleAlreadyExists(ItemRejected):
    """Polaris already holds a sale with this ``RefExt`` (409)."""


class PolarisClient:
    def __init__(
        self,
        base_url: str,
        key: str,
        *,
        pin: Pin | None = None,
        timeout: float = 60,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.pin = pin
        self.retry_delays = retry_delays
        self.requests = 0
        self.writes = 0
        # Set for dry runs: a write reaching this client is a bug, never sent.
        self.writes_forbidden = False
        context = None
        if pin is not None and self.base_url.startswith("https://"):
            context = pinned_context(pin)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"X-API-Key": key, "Accept": "application/json"},
            timeout=timeout,
            transport=transport
            or transport_for(self.base_url, max_connections=8, ssl_context=context),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> PolarisClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- catalogue ---------------------------------------------------------

    async def iter_product_pages(
        self, since: str | None, cursor: str = "", page_size: int = 500
    ) -> AsyncIterator[ProductPage]:
        """Pages of items changed at or after ``since`` (everything when None).

        ``cursor`` resumes paging where a previous run stopped.
        """
        product_filter = {"DerniereDateChangement": since or ""}
        while True:
            pager = {"TI": True, "Nb": page_size, "From": cursor}
            body = await self._get_json(
                "Catalog/Produits",
                {
                    "filtreProduit": _query_json(product_filter),
                    "pager": _query_json(pager),
                },
            )
            page = parse_product_page(body)
            yield page
            if page.next_cursor is None:
                return
            if page.next_cursor == cursor:
                # Following it would read the same page for ever.
                raise RemoteError(f"Polaris returned page cursor {cursor!r} twice")
            cursor = page.next_cursor

    async def check_access(self) -> None:
        """One small read: AssociationError now if Polaris refuses the key (A2)."""
        await self._get_json("Config/Magasins")

    async def get_config(self, table: str) -> list[dict[str, Any]]:
        """One configuration table: Magasins, Marques, GrillesTailles..."""
        body = await self._get_json(f"Config/{table}")
        return _items(body, f"Config/{table}")

    async def fetch_photo(self, url: str) -> bytes:
        """A product photo. The key goes only to the Polaris server itself."""
        absolute = urljoin(self.base_url, url)
        if _origin(absolute) == _origin(self.base_url):
            response = await self._send("GET", absolute, idempotent=True)
            return response.content
        async with httpx.AsyncClient(timeout=self._http.timeout) as stranger:
            try:
                response = await stranger.get(absolute)
            except httpx.TransportError as error:
                raise TransientError(f"photo {absolute}: {error}") from error
        if response.status_code >= 400:
            raise ItemRejected(
                f"photo {absolute}: HTTP {response.status_code}",
                status=response.status_code,
            )
        return response.content

    # -- sales and customers -----------------------------------------------

    async def send_sale(self, sale: dict[str, Any]) -> dict[str, Any]:
        """Create one sale. Never retried here: the journal decides (G11)."""
        response = await self._send("POST", "Ventes/Vente", json=sale, idempotent=False)
        return _json_or_empty(response)

    async def find_sale(self, ref_ext: str) -> dict[str, Any] | None:
        """The sale Polaris holds under ``ref_ext``, or None."""
        body = await self._get_json(
            "Ventes/Ventes", {"filtreVente": _query_json({"RefExt": ref_ext})}
        )
        items = _items(body, "Ventes/Ventes")
        return next((sale for sale in items if sale.get("RefExt") == ref_ext), None)

    async def upsert_customer(self, customer: dict[str, Any]) -> dict[str, Any]:
        """Create or update a customer keyed by its ``RefsExt``."""
        response = await self._send(
            "POST", "Clients/Client", json=customer, idempotent=False
        )
        return _json_or_empty(response)

    # -- transport ---------------------------------------------------------

    async def _get_json(self, path: str, params: dict[str, str] | None = None) -> Any:
        response = await self._send("GET", path, params=params, idempotent=True)
        try:
            return response.json()
        except ValueError as error:
            raise RemoteError(
                f"Polaris answered {path} with something not JSON"
            ) from error

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        idempotent: bool,
    ) -> httpx.Response:
        delays = self.retry_delays if idempotent else ()
        for attempt in range(len(delays) + 1):
            try:
                return await self._send_once(method, path, params=params, json=json)
            except TransientError:
                if attempt == len(delays):
                    raise
                await asyncio.sleep(delays[attempt])
        raise AssertionError("unreachable")

    async def _send_once(
        self, method: str, path: str, *, params: Any, json: Any
    ) -> httpx.Response:
        if method != "GET" and self.writes_forbidden:
            raise RuntimeError(f"{method} {path} attempted while writes are off")
        self.requests += 1
        self.writes += method != "GET"
        try:
            response = await self._http.request(method, path, params=params, json=json)
        except httpx.TransportError as error:
            raise await self._transport_failure(error, path) from error
        return _checked(response, f"{method} {path}")

    async def _transport_failure(
        self, error: httpx.TransportError, path: str
    ) -> Exception:
        if is_verification_failure(error):
            if self.pin is not None:
                return await self._certificate_mismatch()
            return RemoteError(
                f"the certificate of {self.base_url} is not trusted and none was "
                "recorded for it at association: associate again to record it"
            )
        if isinstance(error, httpx.TimeoutException):
            return TransientError(f"Polaris did not answer {path} in time")
        return TransientError(f"cannot reach Polaris at {self.base_url}: {error}")

    async def _certificate_mismatch(self) -> CertificateMismatch:
        assert self.pin is not None
        try:
            der = await asyncio.to_thread(presented_certificate, self.base_url)
            presented = fingerprint(der)
        except RemoteError:
            presented = "unknown"
        return CertificateMismatch(
            f"the Polaris server {self.pin.origin} presents another certificate "
            f"(SHA-256 {presented}) than the one recorded at association "
            f"(SHA-256 {self.pin.sha256}); nothing was sent. If the merchant "
            "replaced the certificate, associate again with a new PIN; otherwise "
            "the connection may be intercepted"
        )


def parse_product_page(body: Any) -> ProductPage:
    """A page of items; an item that does not parse is set aside with why."""
    raw_items = _items(body, "Catalog/Produits")
    items: list[PolarisItem] = []
    rejected: list[tuple[str, str]] = []
    for raw in raw_items:
        try:
            items.append(PolarisItem.model_validate(raw))
        except ValidationError as error:
            rejected.append((_raw_item_key(raw), _validation_summary(error)))
    pager_next = body.get("PagerNext") if isinstance(body, dict) else None
    next_cursor = pager_next.get("From") if isinstance(pager_next, dict) else None
    return ProductPage(items=items, next_cursor=next_cursor or None, rejected=rejected)


def _checked(response: httpx.Response, what: str) -> httpx.Response:
    status = response.status_code
    if status < 400:
        return response
    message = polaris_message(response)
    if status == 401:
        raise AssociationError(
            "Polaris refused the access key (revoked, expired or unknown): "
            "associate again with `polaris-sync associate`"
        )
    if status == 403:
        raise AssociationError(
            f"Polaris refused {what}: {message}. Check the access's permissions "
            "and test/production mode in Polaris, or associate again"
        )
    if status == 409 and what.endswith("Ventes/Vente"):
        raise SaleAlreadyExists(f"Polaris already has this sale: {message}", status=409)
    if status >= 500 or status == 429:
        raise TransientError(f"Polaris failed on {what} (HTTP {status}): {message}")
    raise ItemRejected(
        f"Polaris refused {what} (HTTP {status}): {message}", status=status
    )


def polaris_message(response: httpx.Response) -> str:
    """Polaris' own words from an error answer, else the HTTP reason."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    if isinstance(body, dict) and body.get("Message"):
        return str(body["Message"])
    return response.reason_phrase


def _items(body: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(body, dict) or not isinstance(body.get("Items"), list):
        raise RemoteError(f"Polaris answered {what} without an Items list")
    return [item for item in body["Items"] if isinstance(item, dict)]


def _json_or_empty(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _query_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname or "", parts.port


def _raw_item_key(raw: dict[str, Any]) -> str:
    colour = raw.get("Niveau1") or {}
    colour_key = (
        colour.get("Code") or colour.get("Nom") if isinstance(colour, dict) else ""
    )
    return f"{raw.get('NoModele', '?')}/{colour_key or ''}"


def _validation_summary(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in detail['loc'])}: {detail['msg']}"
        for detail in error.errors()
    )
