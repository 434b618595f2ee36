"""Association, pinning and refusals against the Polaris simulator over HTTPS.

A1 (single-use PIN), A2 (revoked access, test access on a production base) and
A5 (the certificate pinned at association is the simulator's own).
"""

import httpx
import pytest

from polaris_sync.errors import AssociationError
from polaris_sync.polaris.association import associate
from polaris_sync.polaris.client import PolarisClient
from polaris_sync.polaris.pinning import pin_for, pinned_context
from polaris_sync.sandbox import serve

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sandbox")
    options = serve.SandboxOptions(directory=folder, models=2, polaris_tls=True)
    with serve.Sandbox(options) as box:
        yield box.info


def admin(info, path, body):
    """The simulator's loopback admin API, trusting its certificate only."""
    context = pinned_context(pin_for(info["polaris_url"]))
    with httpx.Client(verify=context, timeout=10) as client:
        answer = client.post(f"{info['polaris_admin_url']}/{path}", json=body)
        answer.raise_for_status()
        return answer.json()


async def associate_with_new_pin(info, *, mode_test=False):
    pin = admin(info, "pin", {"ModeTest": mode_test})["Pin"]
    return await associate(info["polaris_url"], info["licence"], pin, timeout=10), pin


def client_for(granted):
    return PolarisClient(
        granted.url, granted.key, pin=granted.pin_for_url(granted.url), timeout=10
    )


async def test_the_simulator_certificate_is_pinned_and_the_pin_is_single_use_A1_A5(
    sandbox,
):
    granted, pin = await associate_with_new_pin(sandbox)

    [pinned] = granted.pins
    simulator_says = sandbox["polaris_certificate_sha256"]
    assert _hex(pinned.sha256) == _hex(simulator_says)
    async with client_for(granted) as client:
        assert await client.get_config("Magasins")

    with pytest.raises(AssociationError, match="already used"):
        await associate(sandbox["polaris_url"], sandbox["licence"], pin, timeout=10)


async def test_a_revoked_access_says_associate_again_A2(sandbox):
    granted, _ = await associate_with_new_pin(sandbox)
    admin(sandbox, "revoke", {"Cle": granted.key})

    async with client_for(granted) as client:
        with pytest.raises(AssociationError, match="associate again"):
            await client.get_config("Magasins")


async def test_a_test_access_on_a_production_base_is_refused_A2(sandbox):
    granted, _ = await associate_with_new_pin(sandbox, mode_test=True)
    assert granted.test_mode is True

    async with client_for(granted) as client:
        with pytest.raises(AssociationError, match="associate again"):
            await client.get_config("Magasins")


def _hex(fingerprint):
    return fingerprint.replace(":", "").lower()
