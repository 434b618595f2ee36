"""Fixtures for the sandbox servers' tests."""

from __future__ import annotations

import pytest

from polaris_sync.sandbox.polaris import create_app

from .asgi import InProcessClient


@pytest.fixture
def associated_polaris(tmp_path):
    """Make an in-process simulator client already carrying an access key."""
    clients = []

    def open_client(**options) -> InProcessClient:
        client = InProcessClient(create_app(tmp_path / "polaris", **options))
        clients.append(client)
        simulator = client.app.state.simulator
        answer = client.post("/api/WebConnect/Association",
                             json={"Licence": simulator.licence, "Pin": simulator.pin})
        assert answer.status_code == 200, answer.text
        client.headers["X-API-Key"] = answer.json()["Cle"]
        return client

    yield open_client
    for client in clients:
        client.close()
