"""HTTP face of the simulator: WebConnect routes, photos, and the admin API."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import random
from dataclasses import asdict, dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from polaris_sync.sandbox.polaris import reference
from polaris_sync.sandbox.polaris.simulator import (
    Access,
    ApiError,
    Simulator,
    require,
)
from polaris_sync.sandbox.polaris.validation import Rejected

API = "/api/WebConnect"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass
class Faults:
    """What the admin API can make the WebConnect routes suffer."""

    latency_ms: int = 0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    errors_next: int = 0


def build_app(simulator: Simulator) -> Starlette:
    faults = Faults()
    webconnect = _WebConnect(simulator, faults)
    app = Starlette(
        routes=[*webconnect.routes(), *_admin_routes(simulator, faults)],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.simulator = simulator
    app.state.faults = faults
    return app


class _WebConnect:
    """The routes a polaris-sync client calls, suffering the injected faults."""

    def __init__(self, simulator: Simulator, faults: Faults) -> None:
        self.simulator = simulator
        self.faults = faults
        self._dice = random.Random(simulator.seed)

    def routes(self) -> list[Route]:
        association = self._endpoint(self.association, authenticated=False)
        return [
            Route("/Association", association, methods=["POST"]),
            Route(f"{API}/Association", association, methods=["POST"]),
            Route(f"{API}/Catalog/Produits", self._endpoint(self.products)),
            Route(f"{API}/Config/{{table}}", self._endpoint(self.config)),
            Route(f"{API}/Clients/Clients", self._endpoint(self.customers)),
            Route(f"{API}/Clients/Client", self._endpoint(self.customer),
                  methods=["POST"]),
            Route(f"{API}/Ventes/Vente", self._endpoint(self.sale), methods=["POST"]),
            Route(f"{API}/Ventes/Ventes", self._endpoint(self.sales)),
            Route("/photos/{name:path}", self._endpoint(self.photo,
                                                        authenticated=False)),
        ]

    def _endpoint(self, handler: Any, *, authenticated: bool = True) -> Any:
        async def endpoint(request: Request) -> Response:
            failure = await self._suffer()
            if failure is not None:
                return failure
            try:
                access = None
                if authenticated:
                    access = self.simulator.authenticate(
                        request.headers.get("X-API-Key"))
                return await handler(request, access)
            except ApiError as error:
                return _message(error.status, error.message)
            except Rejected as error:
                return _message(400, str(error))
        return endpoint

    async def _suffer(self) -> Response | None:
        faults = self.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.errors_next > 0:
            faults.errors_next -= 1
            return _message(500, "Erreur interne du serveur (simulée)")
        roll = self._dice.random()
        if roll < faults.timeout_rate:
            await asyncio.sleep(faults.timeout_seconds)
            return _message(504, "Délai dépassé (simulé)")
        if roll < faults.timeout_rate + faults.error_rate:
            return _message(500, "Erreur interne du serveur (simulée)")
        return None

    async def association(self, request: Request, access: None) -> Response:
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "Attendu : {\"Licence\": ..., \"Pin\": ...}")
        base_url = str(request.base_url).rstrip("/") + API
        return JSONResponse(self.simulator.associate(
            body.get("Licence"), body.get("Pin"), base_url))

    async def products(self, request: Request, access: Access) -> Response:
        product_filter = _json_param(request, "filtreProduit")
        since = _text_field(product_filter, "DerniereDateChangement", "filtreProduit")
        pager = _pager(request)
        return JSONResponse(self.simulator.product_page(
            since, pager["From"], pager["Nb"], str(request.base_url).rstrip("/")))

    async def config(self, request: Request, access: Access) -> Response:
        table = request.path_params["table"]
        tables = reference.config_tables()
        if table not in tables:
            raise ApiError(404, f"Table de configuration inconnue : {table}")
        return JSONResponse({"Items": tables[table]})

    async def customers(self, request: Request, access: Access) -> Response:
        require(access, "ExportClients")
        customer_filter = _json_param(request, "filtreClient")
        email_only = customer_filter.get("ExEmail", False)
        if not isinstance(email_only, bool):
            raise ApiError(400, "filtreClient.ExEmail doit être un booléen")
        email_only = email_only or access.permissions["ExportClientsAvecEmailSeulement"]
        since = _text_field(customer_filter, "DerniereDateChangement", "filtreClient")
        found = self.simulator.customers(email_only, since)
        return JSONResponse(_offset_page(found, _pager(request)))

    async def customer(self, request: Request, access: Access) -> Response:
        answer = self.simulator.upsert_customer(await _json_body(request), access)
        return JSONResponse(answer, status_code=201 if answer["Cree"] else 200)

    async def sale(self, request: Request, access: Access) -> Response:
        answer = self.simulator.record_sale(await _json_body(request), access)
        return JSONResponse(answer, status_code=201)

    async def sales(self, request: Request, access: Access) -> Response:
        require(access, "ImportVentes")
        sale_filter = _json_param(request, "filtreVente")
        ref_ext = _text_field(sale_filter, "RefExt", "filtreVente") or None
        return JSONResponse({"Items": [_sale_summary(found)
                                       for found in self.simulator.sales(ref_ext)]})

    async def photo(self, request: Request, access: None) -> Response:
        found = self.simulator.photo(request.path_params["name"])
        if found is None:
            return _message(404, "Photo introuvable")
        return Response(found[0], media_type=found[1],
                        headers={"Cache-Control": "max-age=3600"})


def _admin_routes(simulator: Simulator, faults: Faults) -> list[Route]:
    def admin(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            if not _is_loopback(request):
                return _message(403, "L'administration du simulateur est locale")
            try:
                body = await _json_body(request) if request.method == "POST" else {}
                body = body if isinstance(body, dict) else {}
                return JSONResponse(await handler(body))
            except ApiError as error:
                return _message(error.status, error.message)
            except (KeyError, TypeError, ValueError) as error:
                return _message(400, f"Requête d'administration invalide : {error}")
        return endpoint

    async def state(body: dict[str, Any]) -> Any:
        return {"Licence": simulator.licence, "Pin": simulator.pin,
                "PinUtilise": simulator.store.get_meta("pin_used") == "1",
                "ModeTest": simulator.mode_test, "Articles":
                simulator.store.count_items(), "Acces": simulator.accesses(),
                "Pannes": asdict(faults)}

    async def stock(body: dict[str, Any]) -> Any:
        changes = body["Changements"] if "Changements" in body else [body]
        for change in changes:
            simulator.set_stock(str(change["SKU"]), int(change["CodeMagasin"]),
                                int(change["Dispo"]))
        return {"Changements": len(changes)}

    async def sizes(body: dict[str, Any]) -> Any:
        rows = simulator.find_item(int(body["NoModele"]), body.get("Variante"))
        simulator.set_sizes(rows, body.get("Tailles"))
        return {"Articles": len(rows)}

    async def churn(body: dict[str, Any]) -> Any:
        return {"Changements": simulator.churn_stock(int(body["Nombre"]))}

    async def price(body: dict[str, Any]) -> Any:
        rows = simulator.find_item(int(body["NoModele"]), body.get("Variante"))
        simulator.change_items(rows, {"PrixNormalTTC": float(body["PrixTTC"])})
        return {"Articles": len(rows)}

    async def promotion(body: dict[str, Any]) -> Any:
        rows = simulator.find_item(int(body["NoModele"]), body.get("Variante"))
        simulator.change_items(rows, {"Promotion": _promotion(body)})
        return {"Articles": len(rows)}

    async def end_promotion(body: dict[str, Any]) -> Any:
        rows = simulator.find_item(int(body["NoModele"]), body.get("Variante"))
        simulator.change_items(rows, {"Promotion": None})
        return {"Articles": len(rows)}

    async def models(body: dict[str, Any]) -> Any:
        return {"NoModeles": simulator.add_models(int(body.get("Nombre", 1)))}

    async def withdraw(body: dict[str, Any]) -> Any:
        rows = simulator.find_item(int(body["NoModele"]))
        simulator.change_items(rows, {"Supprime": bool(body.get("Supprime", True))})
        return {"Articles": len(rows)}

    async def publish(body: dict[str, Any]) -> Any:
        rows = simulator.find_item(int(body["NoModele"]), body.get("Variante"))
        simulator.change_items(rows, {"Publie": bool(body["Publie"])})
        return {"Articles": len(rows)}

    async def pin(body: dict[str, Any]) -> Any:
        return {"Pin": simulator.new_pin(mode_test=bool(body.get("ModeTest")))}

    async def revoke(body: dict[str, Any]) -> Any:
        return {"Revoquees": simulator.revoke(body.get("Cle"))}

    async def mode(body: dict[str, Any]) -> Any:
        simulator.set_mode_test(bool(body["ModeTest"]))
        return {"ModeTest": simulator.mode_test}

    async def permissions(body: dict[str, Any]) -> Any:
        changes = {name: bool(value) for name, value in body.items() if name != "Cle"}
        simulator.set_permissions(body.get("Cle"), changes)
        return {"Acces": simulator.accesses()}

    async def sales(body: dict[str, Any]) -> Any:
        return {"Items": simulator.sales()}

    async def customers(body: dict[str, Any]) -> Any:
        return {"Items": simulator.customers(False, "")}

    async def set_faults(body: dict[str, Any]) -> Any:
        fresh = Faults(**body)
        for field, value in asdict(fresh).items():
            setattr(faults, field, value)
        return asdict(faults)

    post = ["POST"]
    return [
        Route("/_sandbox/state", admin(state)),
        Route("/_sandbox/stock", admin(stock), methods=post),
        Route("/_sandbox/price", admin(price), methods=post),
        Route("/_sandbox/promotion", admin(promotion), methods=post),
        Route("/_sandbox/promotion/end", admin(end_promotion), methods=post),
        Route("/_sandbox/models", admin(models), methods=post),
        Route("/_sandbox/stock/churn", admin(churn), methods=post),
        Route("/_sandbox/sizes", admin(sizes), methods=post),
        Route("/_sandbox/withdraw", admin(withdraw), methods=post),
        Route("/_sandbox/publish", admin(publish), methods=post),
        Route("/_sandbox/pin", admin(pin), methods=post),
        Route("/_sandbox/revoke", admin(revoke), methods=post),
        Route("/_sandbox/mode", admin(mode), methods=post),
        Route("/_sandbox/permissions", admin(permissions), methods=post),
        Route("/_sandbox/sales", admin(sales)),
        Route("/_sandbox/customers", admin(customers)),
        Route("/_sandbox/faults", admin(set_faults), methods=post),
    ]


def _promotion(body: dict[str, Any]) -> dict[str, Any]:
    promotion: dict[str, Any] = {"PrixTTC": float(body["PrixTTC"])}
    if "Debut" in body or "Fin" in body:
        kind = body.get("Type", "Promo")
        if kind not in ("Solde", "Promo"):
            raise ApiError(400, "Type vaut Solde ou Promo")
        promotion |= {"Type": kind, "Debut": str(body["Debut"]),
                      "Fin": str(body["Fin"])}
    return promotion


def _sale_summary(sale: dict[str, Any]) -> dict[str, Any]:
    return {"NoVente": sale["NoVente"], "RefExt": sale["RefExt"],
            "RefExtOrigine": sale.get("RefExtOrigine"),
            "DateVente": sale["DateVente"], "CodeMagasin": sale["CodeMagasin"],
            "TotalTTC": sale["Controle"]["TotalLignesTTC"]}


def _offset_page(items: list[Any], pager: dict[str, Any]) -> dict[str, Any]:
    if pager["From"] and not pager["From"].isdigit():
        raise ApiError(400, f"Curseur de pagination invalide : {pager['From']!r}")
    start = int(pager["From"] or 0)
    end = start + pager["Nb"]
    page: dict[str, Any] = {"Items": items[start:end]}
    if end < len(items):
        page["PagerNext"] = {"From": str(end)}
    return page


def _pager(request: Request) -> dict[str, Any]:
    pager = _json_param(request, "pager")
    size = pager.get("Nb", DEFAULT_PAGE_SIZE)
    if isinstance(size, bool) or not isinstance(size, int) or not (
            0 < size <= MAX_PAGE_SIZE):
        raise ApiError(400, f"pager.Nb doit être un entier de 1 à {MAX_PAGE_SIZE}")
    if not isinstance(pager.get("TI", True), bool):
        raise ApiError(400, "pager.TI doit être un booléen")
    return {"Nb": size, "From": _text_field(pager, "From", "pager")}


def _json_param(request: Request, name: str) -> dict[str, Any]:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ApiError(400, f"Le paramètre {name} n'est pas du JSON : {raw!r}") \
            from error
    if not isinstance(value, dict):
        raise ApiError(400, f"Le paramètre {name} doit être un objet JSON")
    return value


def _text_field(container: dict[str, Any], field: str, where: str) -> str:
    value = container.get(field) or ""
    if not isinstance(value, str):
        raise ApiError(400, f"{where}.{field} doit être du texte")
    return value


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ApiError(400, "Le corps de la requête n'est pas du JSON") from error


def _is_loopback(request: Request) -> bool:
    # In-process test transports give no address or a name, not an IP: those
    # calls never crossed a network. A real peer must be on loopback.
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


async def _http_error(request: Request, error: Exception) -> Response:
    # Unknown paths and methods answer in Polaris' error shape too.
    status = error.status_code if isinstance(error, HTTPException) else 500
    detail = error.detail if isinstance(error, HTTPException) else str(error)
    return _message(status, f"{detail} : {request.method} {request.url.path}")


def _message(status: int, message: str) -> JSONResponse:
    return JSONResponse({"Message": message}, status_code=status)
