"""Order shapes a real PrestaShop 8.1.2 answered, read where they lie."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

EXCHANGES = "data/prestashop-8.1.2-exchanges"


class Recordings:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def body(self, scenario: str, step: int) -> str:
        path = self.folder / f"{scenario}.jsonl"
        if not path.exists():
            pytest.skip(f"recorded exchanges not found at {path}")
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record["step"] == step:
                return record["response"]["body"]
        raise LookupError(f"{scenario} has no step {step}")

    def json(self, scenario: str, step: int) -> Any:
        return json.loads(self.body(scenario, step))

    def xml_entries(self, scenario: str, step: int, node: str) -> list[dict[str, Any]]:
        """Entries of an XML list answer, as the JSON output would give them."""
        root = ET.fromstring(self.body(scenario, step))
        return [_entry(element) for element in root.iter(node)]


@pytest.fixture(scope="session")
def recordings(shared_dir: Path) -> Recordings:
    return Recordings(shared_dir / EXCHANGES)


def _entry(element: ET.Element) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for child in element:
        if child.tag == "associations":
            entry["associations"] = {
                association.tag: [_entry(item) for item in association]
                for association in child
            }
        else:
            entry[child.tag] = child.text or ""
    return entry
