"""Association (A1-A3): licence shape, PIN claim, stored credentials, no key shown."""

import json
import stat

import httpx
import pytest

from polaris_sync.config import parse_config
from polaris_sync.errors import AssociationError, ConfigError, RemoteError
from polaris_sync.polaris.association import (
    associate,
    check_licence,
    client_from_state,
    forget_association,
    load_association,
    save_association,
)
from polaris_sync.state import STATE_FILENAME, State

pytestmark = pytest.mark.anyio

URL = "http://127.0.0.1:9/api/WebConnect"
GRANTED = {"Url": URL, "Cle": "k-123-secret", "MagasinReference": 3, "ModeTest": True}


def association_server(status=200, body=None, seen=None):
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, json=GRANTED if body is None else body)

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("licence", ["pl-p8-111-2222", "PL-P8-111-2222", "ab-12"])
def test_licence_shapes_that_are_accepted_A1(licence):
    assert check_licence(licence) == licence.lower()


@pytest.mark.parametrize(
    "licence", ["", "pl", "pl--p8", "-pl-p8", "pl-p8-", "pl p8", "pl_p8-1", "pl-p8/1"]
)
def test_licence_shapes_that_are_refused_with_the_expected_shape_A1(licence):
    with pytest.raises(ConfigError, match="pl-p8-111-2222"):
        check_licence(licence)


async def test_associate_claims_the_pin_and_returns_the_access_A1():
    seen = []
    association = await associate(
        "http://127.0.0.1:9/assoc",
        "PL-P8-111-2222",
        "123456",
        transport=association_server(seen=seen),
    )

    [request] = seen
    assert request.method == "POST"
    assert request.url.path == "/assoc/Association"
    assert json.loads(request.content) == {"Licence": "pl-p8-111-2222", "Pin": "123456"}
    assert association.url == URL
    assert association.key == "k-123-secret"
    assert association.store_code == 3 and association.test_mode is True
    assert "k-123-secret" not in repr(association)


async def test_a_used_pin_says_to_generate_a_new_one_A1():
    transport = association_server(409, {"Message": "PIN deja utilise"})
    with pytest.raises(AssociationError, match="generate a new one"):
        await associate(URL, "pl-p8-111-2222", "123456", transport=transport)


async def test_wrong_pin_and_unknown_licence_are_refused_A1():
    with pytest.raises(AssociationError, match="refused the PIN: PIN faux"):
        await associate(
            URL,
            "pl-p8-111-2222",
            "999999",
            transport=association_server(403, {"Message": "PIN faux"}),
        )
    with pytest.raises(AssociationError, match="does not know licence"):
        await associate(URL, "pl-p8-1", "123456", transport=association_server(404, {}))


async def test_an_answer_without_key_is_refused():
    transport = association_server(200, {"Url": URL, "MagasinReference": 1})
    with pytest.raises(RemoteError, match="no usable Cle"):
        await associate(URL, "pl-p8-111-2222", "123456", transport=transport)


@pytest.mark.parametrize("url", ["/api/WebConnect", "ftp://h/x", "https://"])
async def test_an_answer_with_an_unusable_address_is_refused(url):
    transport = association_server(200, {**GRANTED, "Url": url})
    with pytest.raises(RemoteError, match="no usable Url"):
        await associate(URL, "pl-p8-111-2222", "123456", transport=transport)


async def test_a_store_code_that_is_not_a_number_is_refused():
    answer = {**GRANTED, "MagasinReference": "Lyon"}
    transport = association_server(200, answer)
    with pytest.raises(RemoteError, match="store code"):
        await associate(URL, "pl-p8-111-2222", "123456", transport=transport)


async def test_no_association_address_is_a_config_error():
    with pytest.raises(ConfigError, match="association_url"):
        await associate("", "pl-p8-111-2222", "123456")


async def test_credentials_are_stored_owner_only_and_forgotten_A1_A3(tmp_path):
    association = await associate(
        URL, "pl-p8-111-2222", "123456", transport=association_server()
    )
    with State.open(tmp_path) as state:
        save_association(state, association)
    assert stat.S_IMODE((tmp_path / STATE_FILENAME).stat().st_mode) == 0o600

    with State.open(tmp_path) as state:
        assert load_association(state) == association
        assert forget_association(state) is True
        assert load_association(state) is None
        assert forget_association(state) is False


async def test_a_run_without_association_says_associate_A2(tmp_path):
    config = parse_config({"prestashop": {"url": "http://127.0.0.1:9/api"}}, tmp_path)
    with State.open(tmp_path) as state:
        with pytest.raises(AssociationError, match="polaris-sync associate"):
            client_from_state(config, state)


async def test_client_from_state_uses_the_stored_access(tmp_path):
    seen = []
    association = await associate(
        URL, "pl-p8-111-2222", "123456", transport=association_server()
    )
    config = parse_config(
        {"prestashop": {"url": "http://127.0.0.1:9/api"}}, tmp_path / "x.toml"
    )

    def polaris(request):
        seen.append(request)
        return httpx.Response(200, json={"Items": []})

    with State.open(tmp_path) as state:
        save_association(state, association)
        client = client_from_state(
            config, state, transport=httpx.MockTransport(polaris)
        )
    async with client:
        assert await client.get_config("Magasins") == []
    assert str(seen[0].url) == URL + "/Config/Magasins"
    assert seen[0].headers["X-API-Key"] == "k-123-secret"
