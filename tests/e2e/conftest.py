from __future__ import annotations

from collections.abc import Iterator

import pytest

from e2e.sandbox import Sandbox


@pytest.fixture
def sandbox(tmp_path) -> Iterator[Sandbox]:
    """Three Polaris models (about a dozen colours) and a prepared 8.1 shop."""
    box = Sandbox(tmp_path, models=3)
    box.prepare_shop()
    yield box
    box.close()


@pytest.fixture(params=["1.7.8.11", "8.1.2", "9.0.0"])
def any_version_sandbox(tmp_path, request) -> Iterator[Sandbox]:
    """The same, once per PrestaShop version the daemon supports."""
    box = Sandbox(tmp_path, models=3, version=request.param)
    box.prepare_shop()
    yield box
    box.close()
