"""A run killed in the middle of the catalogue, then a normal run (G11-like)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

from e2e.sandbox import API_KEY, Sandbox
from e2e.test_catalogue_sync import expected_stock, polaris_items, shop_stock

RUNNER = Path(__file__).with_name("stage_runner.py")


def product_posts(shop_url: str) -> int:
    counts = httpx.get(shop_url.removesuffix("/api") + "/_sandbox/requests").json()
    return int(counts["counts"].get("POST products", 0))


def test_sigkill_mid_catalogue_then_a_normal_run_converges_without_duplicates(tmp_path):
    sandbox = Sandbox(tmp_path, models=4)
    try:
        sandbox.prepare_shop()
        sandbox.serve()
        shop_root = sandbox.shop_url.removesuffix("/api")
        # Slow enough that the kill lands in the middle of the catalogue.
        httpx.put(f"{shop_root}/_sandbox/faults", json={"latency_ms": 15})
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        runner = subprocess.Popen(
            [
                sys.executable,
                str(RUNNER),
                str(tmp_path),
                f"{sandbox.polaris_url}/api/WebConnect",
                sandbox.polaris_key,
                sandbox.shop_url,
                API_KEY,
            ],
            env=environment,
        )
        deadline = time.monotonic() + 60
        while product_posts(sandbox.shop_url) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        runner.send_signal(signal.SIGKILL)
        runner.wait()
        assert runner.returncode == -signal.SIGKILL
        created_before = len(sandbox.read_shop("products"))
        assert 0 < created_before < len(polaris_items(sandbox))

        httpx.delete(f"{shop_root}/_sandbox/faults")
        results = sandbox.run()

        assert all(not result.errors for result in results.values())
        references = Counter(p["reference"] for p in sandbox.read_shop("products"))
        assert len(references) == len(polaris_items(sandbox))
        assert max(references.values()) == 1
        combinations = Counter(
            (c["id_product"], c["reference"]) for c in sandbox.read_shop("combinations")
        )
        assert max(combinations.values()) == 1
        assert shop_stock(sandbox) == expected_stock(sandbox)
    finally:
        sandbox.close()
