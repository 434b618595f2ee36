"""Pairing with Polaris (A1-A5): claim a PIN, keep the access, forget it.

The merchant creates a WebConnect access in Polaris and reads out a single-use
PIN. ``associate`` trades licence + PIN for the server's address and an access
key, records the TLS certificate of each server met (A5), and stores all of it
in the owner-only state database. Nothing here prints or logs the key.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from polaris_sync.config import Config
from polaris_sync.errors import (
    AssociationError,
    ConfigError,
    RemoteError,
    TransientError,
)
from polaris_sync.polaris.client import PolarisClient, polaris_message
from polaris_sync.polaris.pinning import Pin, origin_of, pin_for, pinned_context
from polaris_sync.state import State

LICENCE_SHAPE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+")
PIN_SHAPE = re.compile(r"[A-Za-z0-9]{4,32}")
CREDENTIAL_PREFIX = "polaris."


@dataclass(frozen=True)
class Association:
    licence: str
    url: str
    key: str = field(repr=False)
    store_code: int
    test_mode: bool
    associated_at: str
    pins: tuple[Pin, ...] = ()

    def pin_for_url(self, url: str) -> Pin | None:
        host, port = origin_of(url)
        return next((p for p in self.pins if p.origin == f"{host}:{port}"), None)


def check_licence(licence: str) -> str:
    """The licence in its canonical form, or a ConfigError saying the shape."""
    canonical = licence.strip().lower()
    if not LICENCE_SHAPE.fullmatch(canonical):
        raise ConfigError(
            f"licence {licence!r} does not look like a Polaris licence number: "
            "groups of letters and digits separated by '-', e.g. pl-p8-111-2222"
        )
    return canonical


def check_pin(pin: str) -> str:
    pin = pin.strip()
    if not PIN_SHAPE.fullmatch(pin):
        raise ConfigError(
            "the PIN is the 4 to 32 letters or digits Polaris showed when the "
            "WebConnect access was created"
        )
    return pin


async def associate(
    association_url: str,
    licence: str,
    pin: str,
    *,
    timeout: float = 60,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Association:
    """Claim ``pin`` for ``licence`` at ``association_url`` (A1, A5)."""
    licence = check_licence(licence)
    pin = check_pin(pin)
    if not association_url:
        raise ConfigError(
            "no Polaris association address: set polaris.association_url in the "
            "configuration or pass --polaris-url"
        )

    pins: dict[str, Pin] = {}
    answer = await _claim(association_url, licence, pin, pins, timeout, transport)
    url = _answer_field(answer, "Url", str)
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise RemoteError(f"Polaris' association answer has no usable Url: {url!r}")
    if url.startswith("https://") and transport is None:
        host, port = origin_of(url)
        if f"{host}:{port}" not in pins:
            pins[f"{host}:{port}"] = await asyncio.to_thread(pin_for, url, timeout)

    return Association(
        licence=licence,
        url=url.rstrip("/"),
        key=_answer_field(answer, "Cle", str),
        store_code=_store_code(answer),
        test_mode=bool(answer.get("ModeTest", False)),
        associated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        pins=tuple(pins.values()),
    )


async def _claim(
    association_url: str,
    licence: str,
    pin: str,
    pins: dict[str, Pin],
    timeout: float,
    transport: httpx.AsyncBaseTransport | None,
) -> dict[str, Any]:
    verify: Any = True
    if association_url.startswith("https://") and transport is None:
        first_use = await asyncio.to_thread(pin_for, association_url, timeout)
        pins[first_use.origin] = first_use
        verify = pinned_context(first_use)

    endpoint = association_url.rstrip("/") + "/Association"
    async with httpx.AsyncClient(
        timeout=timeout, verify=verify, transport=transport
    ) as http:
        try:
            response = await http.post(endpoint, json={"Licence": licence, "Pin": pin})
        except httpx.TransportError as error:
            raise TransientError(
                f"cannot reach Polaris at {endpoint}: {error}"
            ) from error
    _check_claim(response, licence)
    body = response.json() if response.content else None
    if not isinstance(body, dict):
        raise RemoteError(f"Polaris answered {endpoint} without the access details")
    return body


def _check_claim(response: httpx.Response, licence: str) -> None:
    status = response.status_code
    if status < 400:
        return
    message = polaris_message(response)
    if status == 409:
        raise AssociationError(
            f"this PIN was already used ({message}): generate a new one in Polaris, "
            "Système > Gestion des appareils, then associate again"
        )
    if status == 404:
        raise AssociationError(f"Polaris does not know licence {licence}: {message}")
    if status in (401, 403):
        raise AssociationError(f"Polaris refused the PIN: {message}")
    if status >= 500:
        raise TransientError(f"Polaris failed to associate (HTTP {status}): {message}")
    raise RemoteError(f"Polaris refused the association (HTTP {status}): {message}")


def _answer_field(answer: dict[str, Any], name: str, kind: Any) -> Any:
    value = answer.get(name)
    if value is None or value == "" or not isinstance(value, kind):
        raise RemoteError(f"Polaris' association answer has no usable {name}")
    return value


def _store_code(answer: dict[str, Any]) -> int:
    value = _answer_field(answer, "MagasinReference", (int, str))
    try:
        return int(value)
    except ValueError:
        raise RemoteError(
            f"Polaris' association answer has a store code that is not a number: "
            f"{value!r}"
        ) from None


# -- keeping the association in the state database --------------------------


def save_association(state: State, association: Association) -> None:
    with state.transaction():
        forget_association(state)
        for name, value in {
            "licence": association.licence,
            "url": association.url,
            "key": association.key,
            "store_code": str(association.store_code),
            "test_mode": "1" if association.test_mode else "0",
            "associated_at": association.associated_at,
            "pins": json.dumps([pin.as_dict() for pin in association.pins]),
        }.items():
            state.set_credential(CREDENTIAL_PREFIX + name, value)


def load_association(state: State) -> Association | None:
    def credential(name: str) -> str | None:
        return state.credential(CREDENTIAL_PREFIX + name)

    key, url = credential("key"), credential("url")
    if not key or not url:
        return None
    pins = tuple(Pin(**raw) for raw in json.loads(credential("pins") or "[]"))
    return Association(
        licence=credential("licence") or "",
        url=url,
        key=key,
        store_code=int(credential("store_code") or 0),
        test_mode=credential("test_mode") == "1",
        associated_at=credential("associated_at") or "",
        pins=pins,
    )


def forget_association(state: State) -> bool:
    """Dissociate (A3). True when there was an association to forget."""
    had_one = state.credential(CREDENTIAL_PREFIX + "key") is not None
    state.clear_credentials(CREDENTIAL_PREFIX)
    return had_one


def client_from_state(
    config: Config,
    state: State,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> PolarisClient:
    """A client for the associated server, or AssociationError (A2)."""
    association = load_association(state)
    if association is None:
        raise AssociationError(
            "not associated with Polaris: run `polaris-sync associate --licence "
            "<licence> --pin <PIN>` with a PIN generated in Polaris"
        )
    url = config.polaris.url or association.url
    return PolarisClient(
        url,
        association.key,
        pin=association.pin_for_url(url),
        timeout=config.polaris.timeout_seconds,
        transport=transport,
    )
