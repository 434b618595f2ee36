"""`polaris-sync sandbox serve` end to end, in a subprocess."""

import json
import os
import signal
import socket
import ssl
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from polaris_sync.sandbox.prestashop import versions
from polaris_sync.sandbox.tls import certificate_sha256

# The console script installed beside this interpreter, as a user runs it.
SERVE = [str(Path(sys.executable).parent / "polaris-sync"), "sandbox", "serve"]


def start(directory: Path, *options: str) -> subprocess.Popen:
    return subprocess.Popen([*SERVE, "--dir", str(directory), "--models", "5",
                             *options],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_sandbox_file(process, directory: Path, timeout=30.0) -> dict:
    deadline = time.monotonic() + timeout
    path = directory / "sandbox.json"
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"serve exited early: {process.communicate()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("sandbox.json never appeared")
        time.sleep(0.05)
    return json.loads(path.read_text())


def stop(process, signal_number=signal.SIGTERM) -> tuple[int, str]:
    process.send_signal(signal_number)
    out, _ = process.communicate(timeout=15)
    return process.returncode, out


def test_serve_writes_sandbox_json_answers_and_stops_on_sigterm(tmp_path):
    process = start(tmp_path)
    try:
        info = wait_for_sandbox_file(process, tmp_path)
        assert stat.S_IMODE((tmp_path / "sandbox.json").stat().st_mode) == 0o600
        assert info["polaris_url"].startswith("http://127.0.0.1:")
        assert info["pid"] == process.pid

        claim = httpx.post(info["polaris_url"] + "/Association",
                           json={"Licence": info["licence"], "Pin": info["pin"]})
        assert claim.status_code == 200
        stores = httpx.get(info["polaris_url"] + "/Config/Magasins",
                           headers={"X-API-Key": claim.json()["Cle"]})
        assert stores.status_code == 200 and len(stores.json()["Items"]) == 3
        shop = httpx.get(info["prestashop_url"] + "/",
                         auth=(info["prestashop_key"], ""))
        assert shop.status_code == 200
        assert "<api" in shop.text
        refused = httpx.get(info["prestashop_url"] + "/", auth=("B" * 32, ""))
        assert refused.status_code == 401
    finally:
        code, out = stop(process)
    assert code == 0
    assert "Sandbox stopped." in out
    with pytest.raises(httpx.ConnectError):
        httpx.get(info["polaris_url"] + "/Config/Magasins", timeout=2)


def test_serve_stops_cleanly_on_ctrl_c(tmp_path):
    process = start(tmp_path)
    wait_for_sandbox_file(process, tmp_path)
    code, out = stop(process, signal.SIGINT)
    assert code == 0 and "Sandbox stopped." in out


def test_serve_keeps_its_data_across_restarts(tmp_path):
    process = start(tmp_path)
    info = wait_for_sandbox_file(process, tmp_path)
    key = httpx.post(info["polaris_url"] + "/Association",
                     json={"Licence": info["licence"], "Pin": info["pin"]}
                     ).json()["Cle"]
    assert stop(process)[0] == 0

    (tmp_path / "sandbox.json").unlink()
    process = start(tmp_path)
    try:
        again = wait_for_sandbox_file(process, tmp_path)
        stores = httpx.get(again["polaris_url"] + "/Config/Magasins",
                           headers={"X-API-Key": key})
        assert stores.status_code == 200
        assert again["prestashop_key"] == info["prestashop_key"]
        shop = httpx.get(again["prestashop_url"] + "/",
                         auth=(again["prestashop_key"], ""))
        assert shop.status_code == 200
    finally:
        assert stop(process)[0] == 0


def test_serve_exits_2_when_the_port_is_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*SERVE, "--dir", str(tmp_path), "--polaris-port", str(port)],
            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"127.0.0.1:{port}" in result.stderr
    assert not (tmp_path / "sandbox.json").exists()


def test_serve_exits_2_when_the_folder_is_unusable(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = subprocess.run([*SERVE, "--dir", str(blocker / "sandbox")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "cannot use" in result.stderr


def test_serve_exits_2_when_the_catalogue_folder_holds_no_catalogue(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = subprocess.run([*SERVE, "--dir", str(tmp_path / "data"),
                             "--catalogue", str(empty)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "no PrestaShop demo catalogue" in result.stderr


@pytest.mark.parametrize("option, value", [("--polaris-port", "99999"),
                                           ("--prestashop-version", "latest"),
                                           ("--models", "-3")])
def test_serve_rejects_a_bad_argument_with_exit_2(tmp_path, option, value):
    result = subprocess.run([*SERVE, "--dir", str(tmp_path), option, value],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert option in result.stderr


@pytest.mark.parametrize("version", ["1.6.1", "1.7.7.8", "10.0.0"])
def test_serve_refuses_a_version_the_emulator_does_not_play(tmp_path, version):
    result = subprocess.run([*SERVE, "--dir", str(tmp_path),
                             "--prestashop-version", version],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert version in result.stderr
    assert all(accepted in result.stderr for accepted in ("1.7.8", "8.", "9."))
    assert not (tmp_path / "sandbox.json").exists()


@pytest.mark.parametrize("version, played", [("1.7.8.11", True), ("1.7.8.x", True),
                                             ("8.1.2", True), ("8.0.4", True),
                                             ("9.0.x", True), ("1.6.1.24", False),
                                             ("1.7.6", False), ("7.1", False),
                                             ("10.0.0", False)])
def test_emulated_versions_are_1_7_8_and_8_and_9(version, played):
    assert versions.is_emulated(version) is played


def test_serve_over_tls_presents_the_pinned_self_signed_certificate(tmp_path):
    process = start(tmp_path, "--polaris-tls")
    try:
        info = wait_for_sandbox_file(process, tmp_path)
        assert info["polaris_url"].startswith("https://127.0.0.1:")
        host, port = info["polaris_url"].split("//")[1].split("/")[0].split(":")
        presented = ssl.get_server_certificate((host, int(port)))
        assert certificate_sha256(presented) == info["polaris_certificate_sha256"]
        with pytest.raises(httpx.ConnectError):
            httpx.get(info["polaris_admin_url"] + "/state")
    finally:
        assert stop(process)[0] == 0
    assert os.stat(tmp_path / "polaris" / "polaris-key.pem").st_mode & 0o077 == 0
