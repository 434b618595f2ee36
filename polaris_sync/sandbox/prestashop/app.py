"""The ASGI application: authentication, method rules, routing, envelopes."""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from . import engine, images, registry, schema
from .admin import Admin
from .engine import Answer, Context
from .errors import EmptyAnswer, WsError
from .images import Upload
from .shop import Shop
from .xmlio import JSON_CONTENT_TYPE, XML_CONTENT_TYPE, error_json, error_xml

KNOWN_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
REALM = (
    'Basic realm="Welcome to PrestaShop Webservice, please enter the '
    'authentication key as the login. No password required."'
)


class PrestaShopApp:
    """ASGI app emulating `/api/` of one PrestaShop shop, plus `/_sandbox/`."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.admin = Admin(shop)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        path = request.url.path
        if path.startswith("/_sandbox/"):
            response = await self.admin.answer(request)
        elif path == "/api" or path.startswith("/api/"):
            response = await self._webservice(request)
        else:
            # The front office is not emulated.
            response = Response(b"Not Found", status_code=404, media_type="text/plain")
        await response(scope, receive, send)

    async def _webservice(self, request: Request) -> Response:
        body = await request.body()
        params = _query_pairs(request.scope.get("query_string", b""))
        method = _effective_method(request.method, params)
        resource_name = _resource_name(request.url.path)
        self.admin.count(method, resource_name or "")
        as_json = _wants_json(request, params)
        # Taken before the latency: requests handled meanwhile stay unseen.
        seen = self._combinations_seen(method, resource_name)
        fault = await self.admin.before_request(method)
        if fault is not None:
            return fault
        upload = await _upload(request, resource_name, method)
        try:
            answer = self._answer(
                request, method, params, body, as_json, upload, seen
            )
        except WsError as error:
            answer = _error_answer(error, as_json)
        except EmptyAnswer as empty:
            return _empty(empty, self.shop.version)
        late_fault = await self.admin.after_request(method, answer.status)
        if late_fault is not None:
            return late_fault
        notice = self.admin.notice(answer.status)
        if notice is not None and answer.data is None:
            # PHP printed before the dispatcher: noise first, type switched.
            answer.body = notice + answer.body
            answer.content_type = "application/javascript"
        return self._respond(answer, method, request.headers.get("local-content-sha1"))

    def _answer(
        self,
        request: Request,
        method: str,
        params: list[tuple[str, str]],
        body: bytes,
        as_json: bool,
        upload: Upload | None,
        combinations_seen: int | None = None,
    ) -> Answer:
        if self.shop.configuration("PS_WEBSERVICE") == "0":
            raise WsError(
                503,
                (
                    22,
                    "The PrestaShop webservice is disabled. Please "
                    "activate it in the PrestaShop Back Office",
                ),
            )
        _authenticate(request, params, self.shop.api_key)
        if method not in KNOWN_METHODS or (
            method == "PATCH" and not self.shop.patch_allowed
        ):
            raise WsError(405, (23, f"Method {method} is not valid"))
        ctx = Context(
            shop=self.shop,
            base=_api_root(request),
            method=method,
            params=params,
            as_json=as_json,
            output_languages=_output_languages(self.shop, params),
            combinations_seen=combinations_seen,
        )
        segments = [s for s in request.url.path.split("/")[2:] if s]
        if not self._known_shop(ctx):
            # A single-shop 8.1.2 sends unknown shops to the front office.
            where = "/".join(segments)
            query = request.url.query
            location = f"/?url={where}" + (f"&{query}" if query else "")
            return Answer(302, "", None, headers={"Location": location})
        if not segments:
            return schema.root(ctx, method, body)
        return self._resource(ctx, segments, method, body, upload)

    def _combinations_seen(self, method: str, resource: str | None) -> int | None:
        """For a new combination, the highest combination id at its arrival."""
        if method != "POST" or resource != "combinations":
            return None
        return int(self.shop.store.scalar("SELECT MAX(id) FROM ws_combinations") or 0)

    def _known_shop(self, ctx: Context) -> bool:
        wanted = ctx.param("id_shop")
        if wanted is None or wanted == "all":
            return True
        found = self.shop.store.scalar(
            "SELECT id FROM ws_shops WHERE id = ?", (_shop_id(wanted),)
        )
        return found is not None

    def _resource(
        self,
        ctx: Context,
        segments: list[str],
        method: str,
        body: bytes,
        upload: Upload | None,
    ) -> Answer:
        name = segments[0]
        if name not in registry.RESOURCE_INDEX:
            raise WsError(400, (27, _unknown_resource_message(name)))
        rights = self.shop.granted(name)
        if not rights:
            raise WsError(
                401,
                (
                    26,
                    f"No permission for this authentication key on the resource {name}",
                ),
            )
        if method not in rights:
            raise WsError(
                405,
                (
                    25,
                    f"This method ({method}) is not allowed for this "
                    "authentication key",
                ),
            )
        if method in registry.FORBIDDEN_METHODS.get(name, frozenset()):
            raise WsError(
                405, (101, f"Method {method} is not allowed for the resource {name}")
            )
        if name == "images":
            return images.answer_request(ctx, segments[1:], method, upload)
        resource = self.shop.resources.get(name)
        if resource is None:
            raise WsError(400, (27, _unknown_resource_message(name)))
        schema_kind = ctx.param("schema")
        if schema_kind is not None and method in ("GET", "HEAD"):
            return schema.resource_schema(ctx, resource, schema_kind)
        entity_id = _entity_id(segments)
        if method in ("GET", "HEAD"):
            if entity_id is None:
                return engine.get_list(ctx, resource)
            return engine.get_one(ctx, resource, entity_id)
        if method == "DELETE":
            return engine.delete(ctx, resource, _delete_ids(ctx, entity_id))
        return engine.write(ctx, resource, body, method)

    def _respond(self, answer: Answer, method: str, known_sha1: str | None) -> Response:
        content = answer.data if answer.data is not None else answer.body.encode()
        headers = {
            "X-Powered-By": "PrestaShop Webservice",
            "Access-Time": str(int(time.time())),
            "Execution-Time": "0.001",
            **answer.headers,
        }
        if content:
            headers["Content-Sha1"] = hashlib.sha1(content).hexdigest()
            if known_sha1 == headers["Content-Sha1"] and answer.status == 200:
                # The client already holds this very answer.
                return Response(b"", status_code=304, headers=headers)
        if answer.version_header == engine.SHOP_VERSION:
            headers["PSWS-Version"] = self.shop.version
        elif answer.version_header is not None:
            headers["PSWS-Version"] = answer.version_header
        if answer.content_type:
            headers["Content-Type"] = answer.content_type
        if method == "HEAD":
            return Response(b"", status_code=answer.status, headers=headers)
        return Response(content, status_code=answer.status, headers=headers)


# --- request helpers --------------------------------------------------------


async def _upload(request: Request, resource: str | None, method: str) -> Upload | None:
    """The multipart `image` part of an image upload (PHP parses real POSTs only)."""
    if resource != "images" or request.method != "POST":
        return None
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return Upload(None)
    form = await request.form()
    part = form.get("image")
    if part is None or isinstance(part, str):
        return Upload(None)
    return Upload(await part.read())


def _query_pairs(query: bytes) -> list[tuple[str, str]]:
    """Query parameters as sent: brackets raw or %-encoded, `+` kept literal."""
    pairs = []
    for part in query.decode("latin-1").split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((_decode(key), _decode(value)))
    return pairs


def _decode(text: str) -> str:
    return unquote(text.replace("+", " "), encoding="utf-8", errors="replace")


def _param(params: list[tuple[str, str]], name: str) -> str | None:
    for key, value in params:
        if key == name:
            return value
    return None


def _effective_method(method: str, params: list[tuple[str, str]]) -> str:
    # ps_method only rewrites real POSTs (a GET with ps_method=HEAD stays GET).
    override = _param(params, "ps_method")
    if method == "POST" and override:
        return override.upper()
    return method


def _resource_name(path: str) -> str | None:
    parts = [p for p in path.split("/")[2:] if p]
    return parts[0] if parts else None


def _wants_json(request: Request, params: list[tuple[str, str]]) -> bool:
    for name in ("output_format", "io_format"):
        if _param(params, name) == "JSON":
            return True
    for header in ("output-format", "io-format"):
        if request.headers.get(header) == "JSON":
            return True
    return False


def _api_root(request: Request) -> str:
    host = request.headers.get("host") or "127.0.0.1"
    return f"{request.url.scheme}://{host}/api"


def _output_languages(shop: Shop, params: list[tuple[str, str]]) -> list[int]:
    raw = _param(params, "language")
    if raw is None:
        return list(shop.languages)
    inner = raw[1:-1] if raw.startswith("[") and raw.endswith("]") else raw
    wanted: list[int] = []
    if not all(part.strip().isdigit() for part in inner.replace("|", ",").split(",")):
        raise WsError(
            400,
            (79, "Language ID must be numeric"),
            (81, "Language ID not valid"),
        )
    for part in inner.split("|"):
        if "," in part:
            low, high = sorted(int(x) for x in part.split(",")[:2])
            wanted.extend(range(low, high + 1))
        else:
            wanted.append(int(part))
    chosen = [lang for lang in shop.languages if lang in wanted]
    if not chosen:
        raise WsError(400, (81, "Language ID not valid"))
    return chosen


def _shop_id(text: str) -> int:
    return int(text) if text.isdigit() else -1


def _entity_id(segments: list[str]) -> int | None:
    if len(segments) < 2:
        return None
    return int(segments[1]) if segments[1].isdigit() else 0


def _delete_ids(ctx: Context, entity_id: int | None) -> list[int]:
    if entity_id is not None:
        return [entity_id]
    raw = ctx.param("id") or ""
    inner = raw.strip("[]")
    return [int(part) for part in inner.replace("|", ",").split(",") if part.isdigit()]


def _authenticate(
    request: Request, params: list[tuple[str, str]], api_key: str
) -> None:
    key = _basic_user(request.headers.get("authorization"))
    if key is None:
        key = _param(params, "ws_key")
    if key is None:
        raise _Unauthenticated()
    if key == "":
        raise _BadKey((17, "Authentication key is empty"))
    if len(key) != 32:
        raise _BadKey((18, "Invalid authentication key format"))
    if key != api_key:
        raise _BadKey(
            (20, "Authentification key is not active"),
            (21, "No permission for this authentication key"),
        )


def _basic_user(header: str | None) -> str | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip()).decode("utf-8", "replace")
    except ValueError:
        return None
    return decoded.partition(":")[0]


class _Unauthenticated(WsError):
    def __init__(self) -> None:
        super().__init__(401)


class _BadKey(WsError):
    def __init__(self, *errors: tuple[int, str]) -> None:
        super().__init__(401, *errors)


def _unknown_resource_message(name: str) -> str:
    import difflib

    names = list(registry.RESOURCE_INDEX)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.0)
    guess = close[0] if close else names[-1]
    listing = ", ".join(f'"{n}"' for n in names)
    return (
        f'Resource of type "{name}" does not exists. Did you mean: "{guess}"? '
        f"The full list is: {listing}"
    )


# --- answers ---------------------------------------------------------------


def _error_answer(error: WsError, as_json: bool) -> Answer:
    if isinstance(error, _Unauthenticated):
        # No key at all: plain text, and no version header.
        return Answer(
            401,
            "401 Unauthorized",
            "text/html; charset=utf-8",
            version_header=None,
            headers={"WWW-Authenticate": REALM},
        )
    if as_json:
        answer = Answer(error.status, error_json(error.errors), JSON_CONTENT_TYPE)
    else:
        answer = Answer(error.status, error_xml(error.errors), XML_CONTENT_TYPE)
    if isinstance(error, _BadKey):
        answer.version_header = "0"
        answer.headers["WWW-Authenticate"] = REALM
    return answer


def _empty(empty: EmptyAnswer, version: str) -> Response:
    # Empty 404s carry the version header but no type; SQL failures (500,
    # text/html) carry no version header.
    response = Response(empty.text.encode(), status_code=empty.status)
    if empty.content_type:
        response.headers["Content-Type"] = empty.content_type
    else:
        response.headers["PSWS-Version"] = version
    return response


def create_app(db_path: Path, *, api_key: str, version: str = "8.1.2") -> PrestaShopApp:
    """The emulator as an ASGI app; `db_path` is created and seeded if missing."""
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    return PrestaShopApp(Shop(db_path, api_key=api_key, version=version))
