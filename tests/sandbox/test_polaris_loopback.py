"""The simulator over real loopback HTTP and HTTPS, as the client meets it."""

import json
import ssl

import httpx
import pytest

from polaris_sync.sandbox.http import BackgroundServer
from polaris_sync.sandbox.polaris import create_app
from polaris_sync.sandbox.tls import certificate_sha256, ensure_self_signed


@pytest.fixture
def served(tmp_path):
    app = create_app(tmp_path, models=30, seed=3)
    with BackgroundServer(app) as server:
        yield server, app.state.simulator


def test_association_then_full_paging_over_http(served):
    server, simulator = served
    with httpx.Client(base_url=server.url) as http:
        claim = http.post("/Association", json={"Licence": simulator.licence,
                                                "Pin": simulator.pin})
        assert claim.status_code == 200
        assert claim.json()["Url"] == f"{server.url}/api/WebConnect"
        http.headers["X-API-Key"] = claim.json()["Cle"]

        seen, cursor = [], ""
        while True:
            page = http.get("/api/WebConnect/Catalog/Produits", params={
                "pager": json.dumps({"TI": True, "Nb": 10, "From": cursor})}).json()
            seen += page["Items"]
            if "PagerNext" not in page:
                break
            cursor = page["PagerNext"]["From"]
        assert len(seen) == simulator.store.count_items()
        photo = next(photo for item in seen for photo in item["Photos"])
        assert http.get(photo["Url"]).headers["content-type"] == "image/jpeg"


def test_a_hanging_request_meets_the_client_timeout(served):
    server, _ = served
    httpx.post(f"{server.url}/_sandbox/faults",
               json={"timeout_rate": 1.0, "timeout_seconds": 1})
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{server.url}/api/WebConnect/Config/Magasins", timeout=0.3)
    httpx.post(f"{server.url}/_sandbox/faults", json={})


@pytest.mark.parametrize("expired", [False, True])
def test_https_with_a_self_signed_certificate_a_pinning_client_can_trust(
        tmp_path, expired):
    certificate = ensure_self_signed(tmp_path / "tls", expired=expired)
    assert ensure_self_signed(tmp_path / "tls").sha256 == certificate.sha256
    app = create_app(tmp_path / "polaris", models=3)
    with BackgroundServer(app, certfile=str(certificate.certfile),
                          keyfile=str(certificate.keyfile)) as server:
        assert server.url.startswith("https://127.0.0.1:")
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{server.url}/_sandbox/state")

        presented = ssl.get_server_certificate(("127.0.0.1", server.port))
        assert certificate_sha256(presented) == certificate.sha256
        # A client trusting exactly that certificate gets through while it is
        # valid; an expired one can only be trusted by its pinned fingerprint.
        context = ssl.create_default_context(cadata=presented)
        context.check_hostname = False
        if expired:
            with pytest.raises(httpx.ConnectError, match="expired"):
                httpx.get(f"{server.url}/_sandbox/state", verify=context)
        else:
            answer = httpx.get(f"{server.url}/_sandbox/state", verify=context)
            assert answer.status_code == 200
