"""A Polaris WebConnect simulator: an ASGI app with its data in SQLite.

    from polaris_sync.sandbox.polaris import create_app
    app = create_app(state_dir, models=300, seed=1, catalogue_dir=None)
    app.state.simulator.licence   # "pl-p8-111-2222"
    app.state.simulator.pin       # the current one-time PIN (6 digits)

The first start creates ``state_dir/polaris.sqlite3`` and loads the catalogue:
the demo catalogue's products (models 100 and up) if ``catalogue_dir`` is
given, then ``models`` generated models (1001 and up, drawn from ``seed``).
Later starts reuse the file as it is.

WebConnect routes, under ``/api/WebConnect`` (key in ``X-API-Key``):

- ``POST /Association`` (also at the server root), ``GET /Catalog/Produits``,
  ``GET /Config/{Magasins|Marques|GrillesTailles|Classifications|Collections|
  Saisons|ModesReglement|Proprietes}``, ``GET /Clients/Clients``,
  ``POST /Clients/Client``, ``POST /Ventes/Vente``, ``GET /Ventes/Ventes``.
- Paging: ``pager={"TI": true, "Nb": 1..1000 (default 100), "From": cursor}``;
  ``PagerNext`` is absent on the last page. Catalogue pages are ordered by
  ``DerniereChangement``; a change moves the item to the end.
- Sale lines may use an item's barcode or reference, or one of the service
  references ``PORT`` (shipping), ``EMBAL`` (gift wrapping), ``BON`` (voucher).
  A recorded sale takes its quantities off the stock of its ``CodeMagasin``
  and keeps ``Controle`` (lines total, payments total, difference).
- Answers: a sale 201 ``{"NoVente", "RefExt"}``; a customer 201 (created) or
  200 (updated) ``{"NoClient", "Cree"}``. Errors carry ``{"Message"}``: 401
  unknown or revoked key, 403 missing permission or test/production
  mismatch, 400 rejected payload or parameter, 404, 405, 409 existing sale
  or used PIN; injected faults give 500 and 504.
- Photos: ``GET /photos/...`` as given in each item's ``Photos[].Url``; no key,
  but injected faults apply.

Admin API under ``/_sandbox/`` (JSON, no key, loopback clients only):

- ``GET state``: licence, PIN and whether it was used, test mode, accesses,
  faults. ``GET sales``, ``GET customers``: what Polaris received.
- ``POST stock`` ``{"SKU", "CodeMagasin", "Dispo"}``: set a size's stock
  (or many: ``{"Changements": [{...}, ...]}``); ``POST stock/churn``
  ``{"Nombre"}``: change the stock of that many random sizes (reproducible
  per seed) and list the changes.
- ``POST price`` ``{"NoModele", "Variante"?, "PrixTTC"}``: new normal price
  (``Variante`` is the colour code, ``Niveau1.Code``; all colours if
  omitted).
- ``POST promotion`` ``{"NoModele", "Variante"?, "PrixTTC", "Type"?, "Debut"?,
  "Fin"?}``: start a promotion, dated when ``Debut``/``Fin`` are given;
  ``POST promotion/end`` ``{"NoModele", "Variante"?}``: end it.
- ``POST models`` ``{"Nombre"}``: add generated models; ``POST withdraw``
  ``{"NoModele", "Supprime"?}``: withdraw a model from the web (or restore it);
  ``POST publish`` ``{"NoModele", "Variante"?, "Publie"}``: (un)publish.
- ``POST pin`` ``{"ModeTest"?}``: issue a new PIN; ``POST revoke`` ``{"Cle"?}``:
  revoke one access or all; ``POST mode`` ``{"ModeTest"}``: put the base in
  isolated (test) mode or back; ``POST permissions`` ``{"Cle"?, "<name>":
  bool}``: tick or untick an access's boxes (all accesses without ``Cle``):
  ``ImportClients``, ``ModifClients``, ``ImportVentes``, ``ExportClients``,
  ``ExportClientsAvecEmailSeulement``, ``BonsAchat``.
- ``POST faults`` ``{"latency_ms", "error_rate", "timeout_rate",
  "timeout_seconds", "errors_next"}``: slow down, fail a share of requests with
  500, hang a share of them, or fail the next N. ``{}`` clears them all.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette

from polaris_sync.sandbox.polaris.app import build_app
from polaris_sync.sandbox.polaris.simulator import Simulator

__all__ = ["Simulator", "create_app"]


def create_app(
    state_dir: Path,
    *,
    models: int = 0,
    seed: int = 1,
    catalogue_dir: Path | None = None,
    licence: str = "pl-p8-111-2222",
) -> Starlette:
    """The simulator as an ASGI app; ``app.state.simulator`` is its base."""
    simulator = Simulator(Path(state_dir), models=models, seed=seed,
                          catalogue_dir=catalogue_dir, licence=licence)
    return build_app(simulator)
