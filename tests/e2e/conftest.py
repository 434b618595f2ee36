from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from e2e.sandbox import Sandbox


@pytest.fixture
def sandbox(tmp_path) -> Iterator[Sandbox]:
    """Three Polaris models (about a dozen colours) and a prepared shop."""
    from e2e.sandbox import Sandbox

    box = Sandbox(tmp_path, models=3)
    box.prepare_shop()
    yield box
    box.close()
