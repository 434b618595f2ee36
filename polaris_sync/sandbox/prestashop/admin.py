"""The sandbox admin API under `/_sandbox/` (JSON in and out, no API key).

- ``GET /_sandbox/requests``: ``{"total": n, "counts": {"GET products": n, ...}}``,
  webservice requests per method and resource since start or the last reset
  (the root listing counts under resource ``""``).
- ``POST /_sandbox/requests/reset``: zero the counts.
- ``PUT /_sandbox/faults`` with ``{"latency_ms": int, "error_rate": float,
  "error_after_write": bool, "timeout_rate": float, "seed": int}`` (every key
  optional): from now on each webservice request waits ``latency_ms``; with
  probability ``error_rate`` it answers 500 with an HTML body, before the work
  is done or, when ``error_after_write`` is true and the request writes, after
  the write landed (reads still fail before); with probability
  ``timeout_rate`` it hangs for ``HANG_SECONDS`` (long enough for any client
  timeout), or until the faults are changed, and then answers 504; before
  the work is done or, when ``"timeout_after_write": true`` and the request
  writes, after the write landed (reads still hang before).
  The draws come from a random generator seeded with ``seed``.
  An optional ``"notice_rate": float`` prefixes that share of the successful
  answers with a PHP notice and turns their Content-Type into
  ``application/javascript``, as a shop with ``display_errors`` on does.
  An optional ``"shuffle_unsorted": true`` returns lists requested without
  ``sort`` in random order (the real shop promises no order either).
- ``DELETE /_sandbox/faults``: back to a healthy server.
- ``PUT /_sandbox/permissions`` with ``{"products": ["GET", "PUT"], "*": [...]}``:
  restrict the API key to these methods per resource (``"*"`` for the
  resources not named, none if absent), as a key created in the back office
  with fewer rights (e.g. without PATCH, like keys older than an upgrade to
  8.0). The root listing follows; other resources answer 401 code 26, other
  methods 405 code 25. ``GET`` shows them, ``DELETE`` grants everything again.

Other modules add routes with :meth:`Admin.route` (e.g. the order side's
``POST /_sandbox/orders``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .shop import KEY_METHODS

if TYPE_CHECKING:
    from .shop import Shop


def from_loopback(host: str | None) -> bool:
    """A real peer must be on loopback; in-process test transports name no
    IP address (no network crossed)."""
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return True


HANG_SECONDS = 120.0
PHP_NOTICE = (
    "<br />\n<b>Notice</b>:  Trying to access array offset on value of type null in "
    "<b>/var/www/prestashop/modules/ps_example/ps_example.php</b> on line <b>42</b>"
    "<br />\n"
)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FAULT_PAGE = (
    "<html><head><title>500 Internal Server Error</title></head>"
    "<body><h1>Internal Server Error</h1></body></html>"
)

Handler = Callable[["Shop", Request], Awaitable[Response]]
EXTRA_ROUTES: dict[tuple[str, str], Handler] = {}


def route(method: str, path: str) -> Callable[[Handler], Handler]:
    """Register an extra admin route (`path` below `/_sandbox/`)."""

    def register(handler: Handler) -> Handler:
        EXTRA_ROUTES[(method, path.strip("/"))] = handler
        return handler

    return register


@dataclass
class Faults:
    latency_ms: int = 0
    error_rate: float = 0.0
    error_after_write: bool = False
    timeout_rate: float = 0.0
    timeout_after_write: bool = False
    seed: int = 0
    notice_rate: float = 0.0
    shuffle_unsorted: bool = False

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> Faults:
        unknown = set(payload) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}")
        faults = cls(
            latency_ms=int(payload.get("latency_ms", 0)),
            error_rate=float(payload.get("error_rate", 0.0)),
            error_after_write=bool(payload.get("error_after_write", False)),
            timeout_rate=float(payload.get("timeout_rate", 0.0)),
            timeout_after_write=bool(payload.get("timeout_after_write", False)),
            seed=int(payload.get("seed", 0)),
            notice_rate=float(payload.get("notice_rate", 0.0)),
            shuffle_unsorted=bool(payload.get("shuffle_unsorted", False)),
        )
        rates = (faults.error_rate, faults.timeout_rate, faults.notice_rate)
        if faults.latency_ms < 0 or not all(0 <= rate <= 1 for rate in rates):
            raise ValueError("latency_ms must be >= 0 and rates between 0 and 1")
        return faults

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Admin:
    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.counts: Counter[str] = Counter()
        self.faults = Faults()
        self.random = random.Random(0)
        # Set when the faults change: hanging requests give up at once.
        self.released = asyncio.Event()

    def count(self, method: str, resource: str) -> None:
        self.counts[f"{method} {resource}"] += 1

    # --- fault injection --------------------------------------------------

    async def before_request(self, method: str) -> Response | None:
        faults = self.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        writes = method in WRITE_METHODS
        if not (faults.timeout_after_write and writes) and self._times_out():
            return await self._hang()
        if faults.error_rate and not (faults.error_after_write and writes):
            if self.random.random() < faults.error_rate:
                return _fault_page()
        return None

    def notice(self, status: int) -> str | None:
        """A PHP notice to print before a successful answer, if one is due."""
        rate = self.faults.notice_rate
        if not rate or status >= 300 or self.random.random() >= rate:
            return None
        return PHP_NOTICE

    async def after_request(self, method: str, status: int) -> Response | None:
        """A fault for a write that landed: its answer is lost."""
        faults = self.faults
        if method not in WRITE_METHODS or status >= 300:
            return None
        if faults.timeout_after_write and self._times_out():
            return await self._hang()
        if faults.error_after_write and faults.error_rate:
            if self.random.random() < faults.error_rate:
                return _fault_page()
        return None

    def _times_out(self) -> bool:
        rate = self.faults.timeout_rate
        return bool(rate) and self.random.random() < rate

    async def _hang(self) -> Response:
        """Answer nothing for long, then a gateway's 504; sooner on a change."""
        try:
            await asyncio.wait_for(self.released.wait(), HANG_SECONDS)
        except TimeoutError:
            pass
        return Response(b"", status_code=504)

    # --- routes -----------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        if not from_loopback(request.client.host if request.client else None):
            return JSONResponse({"error": "the sandbox admin API is local"}, 403)
        path = request.url.path[len("/_sandbox/") :].strip("/")
        method = request.method
        if (method, path) in EXTRA_ROUTES:
            return await EXTRA_ROUTES[(method, path)](self.shop, request)
        if path == "requests" and method == "GET":
            return JSONResponse(
                {"total": sum(self.counts.values()), "counts": dict(self.counts)}
            )
        if path == "requests/reset" and method == "POST":
            self.counts.clear()
            return JSONResponse({"total": 0, "counts": {}})
        if path == "faults":
            return await self._faults(request)
        if path == "permissions":
            return await self._permissions(request)
        return JSONResponse({"error": f"no route {method} /_sandbox/{path}"}, 404)

    async def _faults(self, request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(self.faults.as_json())
        if request.method == "DELETE":
            self._set(Faults())
            return JSONResponse(self.faults.as_json())
        if request.method != "PUT":
            return JSONResponse({"error": "use GET, PUT or DELETE"}, 405)
        try:
            payload = json.loads(await request.body() or b"{}")
            faults = Faults.from_json(payload)
        except (ValueError, TypeError, AttributeError) as exc:
            return JSONResponse({"error": f"bad faults: {exc}"}, 400)
        self._set(faults)
        return JSONResponse(faults.as_json())

    async def _permissions(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.shop.key_rights = None
        elif request.method == "PUT":
            try:
                self.shop.key_rights = _rights(
                    json.loads(await request.body() or b"{}")
                )
            except (ValueError, TypeError, AttributeError) as exc:
                return JSONResponse({"error": f"bad permissions: {exc}"}, 400)
        elif request.method != "GET":
            return JSONResponse({"error": "use GET, PUT or DELETE"}, 405)
        rights = self.shop.key_rights
        if rights is None:
            return JSONResponse({"*": sorted(KEY_METHODS)})
        return JSONResponse({name: sorted(methods) for name, methods in rights.items()})

    def _set(self, faults: Faults) -> None:
        self.faults = faults
        self.random = random.Random(faults.seed)
        self.shop.unsorted_order = (
            random.Random(faults.seed) if faults.shuffle_unsorted else None
        )
        self.released.set()
        self.released = asyncio.Event()


def _rights(payload: dict[str, Any]) -> dict[str, frozenset[str]]:
    rights: dict[str, frozenset[str]] = {}
    for resource, methods in payload.items():
        wanted = frozenset(str(m).upper() for m in methods)
        if not wanted <= KEY_METHODS:
            raise ValueError(f"unknown methods {sorted(wanted - KEY_METHODS)}")
        rights[str(resource)] = wanted
    return rights


def _fault_page() -> Response:
    return Response(FAULT_PAGE, status_code=500, media_type="text/html")
