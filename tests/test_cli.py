"""Each command through the CLI: exit code, output, and nothing secret printed."""

import json
import socket
import stat
import tomllib

import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from polaris_sync.audit import Audit
from polaris_sync.cli import cli
from polaris_sync.config import load_config
from polaris_sync.onboarding import NEEDED_RIGHTS, starting_config
from polaris_sync.run import run_lock
from polaris_sync.sandbox.http import BackgroundServer
from polaris_sync.sandbox.prestashop import create_app
from polaris_sync.state import STATE_FILENAME, State

POLARIS_KEY = "polaris-secret-key-123"
SHOP_KEY = "SHOPKEY0123456789ABCDEFGHIJKLMNO"

RESOURCES = list(NEEDED_RIGHTS)


def shop_app(denied=("combinations",)):
    """A shop whose root listing grants everything listed but `denied`."""

    async def root(request):
        if request.headers.get("authorization") is None:
            return Response(status_code=401)
        rows = []
        for name in RESOURCES:
            right = "false" if name in denied else "true"
            rows.append(
                f'<{name} get="true" put="{right}" post="{right}" '
                f'patch="{right}" delete="{right}" head="true"/>'
            )
        body = f'<prestashop><api shopName="Test">{"".join(rows)}</api></prestashop>'
        return Response(body, media_type="text/xml")

    return Starlette(routes=[Route("/api/", root)])


def polaris_app(claims):
    async def association(request):
        body = await request.json()
        claims.append(body)
        if body["Pin"] == "000000":
            return JSONResponse({"Message": "PIN deja utilise"}, status_code=409)
        base = f"{request.url.scheme}://{request.url.netloc}/api/WebConnect"
        return JSONResponse(
            {"Url": base, "Cle": POLARIS_KEY, "MagasinReference": 2, "ModeTest": False}
        )

    async def config_table(request):
        if request.headers.get("X-API-Key") != POLARIS_KEY:
            return JSONResponse({"Message": "Cle inconnue"}, status_code=401)
        if request.path_params["table"] == "Marques":
            return JSONResponse({"Items": [{"Code": "ATL", "Nom": "Atelier"}]})
        return JSONResponse({"Items": []})

    return Starlette(
        routes=[
            Route("/Association", association, methods=["POST"]),
            Route("/api/WebConnect/Config/{table}", config_table),
        ]
    )


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("POLARIS_SYNC_CONFIG", raising=False)
    monkeypatch.delenv("POLARIS_SYNC_PRESTASHOP_KEY", raising=False)
    return tmp_path


def invoke(*args):
    return CliRunner().invoke(cli, [str(arg) for arg in args])


def associate(licence: str, pin: str, polaris_url: str):
    """`polaris-sync associate` against the Polaris at `polaris_url`."""
    return invoke(
        "associate", "--licence", licence, "--pin", pin, "--polaris-url", polaris_url
    )


def write_config(folder, extra=""):
    path = folder / "polaris-sync.toml"
    path.write_text(
        f'state_dir = "state"\n{extra}\n[prestashop]\nurl = "http://127.0.0.1:9/api"\n'
    )
    return path


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_init_writes_config_stores_key_and_lists_missing_rights(workdir):
    with BackgroundServer(shop_app()) as shop:
        result = invoke(
            "init", "--prestashop-url", f"{shop.url}/api", "--prestashop-key", SHOP_KEY
        )

    assert result.exit_code == 2, result.output
    assert "combinations: POST, PUT, DELETE" in result.stderr
    assert "languages" not in result.stderr
    config_text = (workdir / "polaris-sync.toml").read_text()
    assert f"{shop.url}/api" in config_text and SHOP_KEY not in config_text
    with State.open(workdir / "polaris-sync-state") as state:
        assert state.credential("prestashop.key") == SHOP_KEY
    assert SHOP_KEY not in result.output


def test_init_writes_every_option_commented_but_its_own(workdir):
    with BackgroundServer(shop_app(denied=())) as shop:
        result = invoke("init", "--prestashop-url", f"{shop.url}/api",
                        "--prestashop-key", SHOP_KEY, "--polaris-url",
                        "https://127.0.0.1:9/api/WebConnect")  # fmt: skip
    assert result.exit_code == 0, result.output + result.stderr

    text = (workdir / "polaris-sync.toml").read_text()
    assert "\n# safety_stock = 0\n" in text and "\n# max_age_days = 90\n" in text
    assert '\nassociation_url = "https://127.0.0.1:9/api/WebConnect"\n' in text
    config = load_config(workdir / "polaris-sync.toml")
    assert config.mode == "basic" and config.stock.safety_stock == 0
    assert config.state_dir == workdir / "polaris-sync-state"


def test_a_commented_value_spanning_lines_stays_commented():
    example = 'a = 1\n[s]\nlist = [\n  "x",\n]\nurl = ""\n'
    text = starting_config(example, {("s", "url"): '"http://shop/api"'})
    assert text == '# a = 1\n[s]\n# list = [\n#   "x",\n# ]\nurl = "http://shop/api"\n'
    assert tomllib.loads(text) == {"s": {"url": "http://shop/api"}}


def test_init_refuses_to_overwrite(workdir):
    write_config(workdir)
    result = invoke(
        "init",
        "--prestashop-url",
        "http://127.0.0.1:9/api",
        "--prestashop-key",
        SHOP_KEY,
    )
    assert result.exit_code == 2
    assert "never overwrites" in result.stderr


def test_init_refuses_an_existing_file_before_asking_for_the_key(workdir):
    """No key is typed for nothing: the refusal names the file and the way out."""
    write_config(workdir)
    before = (workdir / "polaris-sync.toml").read_text()

    result = CliRunner().invoke(
        cli, ["init", "--prestashop-url", "http://127.0.0.1:9/api"], input="typed\n"
    )

    assert result.exit_code == 2
    assert "Webservice key" not in result.output
    assert "polaris-sync.toml already exists" in result.stderr
    assert "--config" in result.stderr
    assert (workdir / "polaris-sync.toml").read_text() == before


def test_init_asks_for_the_key_when_none_is_given(workdir):
    with BackgroundServer(shop_app(denied=())) as shop:
        result = CliRunner().invoke(
            cli, ["init", "--prestashop-url", f"{shop.url}/api"], input=f"{SHOP_KEY}\n"
        )

    assert result.exit_code == 0, result.output + result.stderr
    assert "PrestaShop Webservice key" in result.output
    assert SHOP_KEY not in result.output
    with State.open(workdir / "polaris-sync-state") as state:
        assert state.credential("prestashop.key") == SHOP_KEY


def test_init_against_an_unreachable_shop_writes_nothing(workdir):
    url = f"http://127.0.0.1:{free_port()}/api"
    result = invoke("init", "--prestashop-url", url, "--prestashop-key", SHOP_KEY)
    assert result.exit_code == 3
    assert "cannot reach the shop" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (workdir / "polaris-sync.toml").exists()


def test_associate_stores_access_and_never_prints_the_key_A1(workdir):
    write_config(workdir)
    claims = []
    with BackgroundServer(polaris_app(claims)) as polaris:
        result = associate("pl-p8-111-2222", "123456", polaris.url)

    assert result.exit_code == 0, result.output
    assert claims == [{"Licence": "pl-p8-111-2222", "Pin": "123456"}]
    assert "reference store 2" in result.output
    assert POLARIS_KEY not in result.output + result.stderr
    state_file = workdir / "state" / STATE_FILENAME
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600

    status = invoke("status")
    assert status.exit_code == 0, status.output
    assert "licence pl-p8-111-2222" in status.output
    assert "UNENCRYPTED (http)" in status.output
    assert POLARIS_KEY not in status.output


def test_a_used_pin_is_one_line_and_exit_3_A1(workdir):
    write_config(workdir)
    with BackgroundServer(polaris_app([])) as polaris:
        result = associate("pl-p8-111-2222", "000000", polaris.url)
    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1 and "generate a new one" in result.stderr


def test_a_malformed_licence_is_refused_before_any_call_A1(workdir):
    write_config(workdir)
    result = associate("pl_p8", "123456", "http://127.0.0.1:9")
    assert result.exit_code == 2
    assert "pl-p8-111-2222" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_dissociate_forgets_the_access_A3(workdir):
    write_config(workdir)
    with BackgroundServer(polaris_app([])) as polaris:
        associate("pl-p8-1", "123456", polaris.url)
    with BackgroundServer(polaris_app([])) as polaris:
        again = invoke("associate", "--licence", "pl-p8-2", "--pin", "123456",
                       "--polaris-url", polaris.url)  # fmt: skip
    assert "replaced the association with licence pl-p8-1" in again.output
    assert invoke("dissociate").output.strip() == "association forgotten"
    assert invoke("dissociate").output.strip() == "there was no association"
    assert "not associated" in invoke("status").output


def test_run_without_association_says_associate_again_A2(workdir):
    write_config(workdir, "enabled = true")
    (workdir / "polaris-sync.toml").write_text(
        (workdir / "polaris-sync.toml").read_text() + 'key = "k"\n'
    )
    result = invoke("run")
    assert result.exit_code == 3
    assert "polaris-sync associate" in result.output


def test_run_paused_exits_0_without_calls_B2(workdir):
    write_config(workdir, "enabled = false")
    result = invoke("run")
    assert result.exit_code == 0
    assert "paused" in result.output


def test_missing_configuration_is_one_line_exit_2(workdir):
    result = invoke("status")
    assert result.exit_code == 2
    assert "polaris-sync init" in result.stderr
    assert result.stderr.count("\n") == 1


def test_config_option_and_environment_choose_the_file(workdir, monkeypatch):
    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir()
    write_config(elsewhere)
    assert invoke("--config", elsewhere / "polaris-sync.toml", "status").exit_code == 0
    assert invoke("status", "--config", elsewhere / "polaris-sync.toml").exit_code == 0
    listed = invoke("mappings", "list", "--config", elsewhere / "polaris-sync.toml")
    assert listed.exit_code == 0 and "no mapping rows yet" in listed.output
    assert invoke("status").exit_code == 2  # nothing in the current folder
    monkeypatch.setenv("POLARIS_SYNC_CONFIG", str(elsewhere / "polaris-sync.toml"))
    assert invoke("status").exit_code == 0


def test_mappings_set_list_export_import_F1_F9(workdir):
    write_config(workdir)
    assert invoke("mappings", "set", "--no-check", "brand", "NIKE", "4").exit_code == 0
    assert invoke("mappings", "set", "brand", "*", "ignore").exit_code == 0
    result = invoke(
        "mappings",
        "set",
        "--no-check",
        "category",
        "rayon:R1",
        "3, 7",
        "--weight",
        "0.4",
    )
    assert result.stdout.strip() == "category rayon:R1 -> 3,7"

    listing = invoke("mappings", "list", "brand").output
    assert "NIKE" in listing and "*" in listing and "category" not in listing

    exported = workdir / "mappings.csv"
    assert invoke("mappings", "export", exported).exit_code == 0
    text = exported.read_text()
    assert 'category,rayon:R1,,"3,7",0.4' in text

    exported.write_text(text.replace("brand,NIKE,,4", "brand,NIKE,Nike,5"))
    assert invoke("mappings", "import", "--no-check", exported).stdout.startswith(
        "imported 3 rows"
    )
    with State.open(workdir / "state") as state:
        assert state.mapping("brand", "NIKE").target == "5"


def test_mappings_refuse_a_wrong_target_and_a_wrong_file_as_a_whole_F1(workdir):
    write_config(workdir)
    result = invoke("mappings", "set", "brand", "NIKE", "3,4")
    assert result.exit_code == 2 and "one PrestaShop id only" in result.stderr

    bad = workdir / "bad.csv"
    bad.write_text("kind;source;target\nbrand;ADIDAS;6\nsize-grid;G1;abc\n")
    result = invoke("mappings", "import", bad)
    assert result.exit_code == 2 and "line 3" in result.stderr
    with State.open(workdir / "state") as state:
        assert state.mapping("brand", "ADIDAS") is None


def test_a_changed_mapping_says_the_catalogue_is_read_again_F5(workdir):
    write_config(workdir)
    assert (
        "reads the whole catalogue again"
        in invoke("mappings", "set", "--no-check", "brand", "*", "3").output
    )
    assert (
        "again" not in invoke("mappings", "set", "--no-check", "brand", "*", "3").stdout
    )
    assert "again" not in invoke("mappings", "set", "payment", "*", "CB").output
    assert "pending: catalogue read again (a mapping changed)" in (
        invoke("status").output
    )


def test_resync_is_requested_for_the_next_run_B4(workdir):
    write_config(workdir)
    assert invoke("resync").exit_code == 0
    assert "pending: full resync" in invoke("status").output


def test_log_shows_audit_events_with_filters_H2(workdir):
    write_config(workdir)
    with Audit(workdir / "state" / "audit") as audit:
        audit.event(
            "skipped",
            stage="catalogue",
            reason="brand NIKE is not mapped",
            polaris_key="1042/NOIR",
        )
        audit.event(
            "updated",
            stage="stock",
            reason="quantity 3 -> 2",
            polaris_key="1043/BLEU",
            prestashop_id=17,
            email="a@b.c",
        )

    result = invoke("log")
    assert "brand NIKE is not mapped" in result.output
    assert "1043/BLEU #17: quantity 3 -> 2" in result.output
    only = invoke("log", "--action", "skipped").output
    assert "1043" not in only and "1042/NOIR" in only

    [audit_file] = (workdir / "state" / "audit").iterdir()
    assert "a@b.c" not in audit_file.read_text()
    assert json.loads(audit_file.read_text().splitlines()[0])["action"] == "skipped"


def test_status_counts_values_waiting_for_a_target_unless_a_wildcard_covers_F5(
    workdir,
):
    write_config(workdir)
    with State.open(workdir / "state") as state:
        state.note_mapping_value("brand", "NIKE")
        state.note_mapping_value("size-grid", "TXT")
    assert "1 brand value(s) without target" in invoke("status").output

    invoke("mappings", "set", "--no-check", "brand", "*", "3")
    output = invoke("status").output
    assert "brand value(s)" not in output
    assert "1 size-grid value(s) without target" in output


def test_pull_config_offers_new_values_for_mapping_B4_F7(workdir):
    write_config(workdir, "enabled = true")
    path = workdir / "polaris-sync.toml"
    path.write_text(path.read_text() + 'key = "shop-key"\n')
    with BackgroundServer(polaris_app([])) as polaris:
        associate("pl-p8-1", "123456", polaris.url)
        result = invoke("pull-config")

    assert result.exit_code == 0, result.output + result.stderr
    assert "config: 1 new mapping values, 8 tables" in result.output
    listing = invoke("mappings", "list").output
    assert "brand" in listing and "ATL" in listing and "(not set)" in listing
    assert "last success" in invoke("status").output


def test_payment_targets_must_be_polaris_codes_once_known_F9(workdir):
    write_config(workdir)
    assert invoke("mappings", "set", "payment", "ps_wirepayment", "VIR").exit_code == 0

    with State.open(workdir / "state") as state:
        state.set_polaris_table("ModesReglement", [{"Code": "CB"}, {"Code": "CHQ"}])
    result = invoke("mappings", "set", "payment", "ps_checkpayment", "CHEQUE")
    assert result.exit_code == 2
    assert "Polaris has: CB, CHQ" in result.stderr
    assert invoke("mappings", "set", "payment", "*", "CB").exit_code == 0
    assert invoke("mappings", "set", "payment", "paypal", "ignore").exit_code == 0


def test_init_reads_the_key_from_the_environment_or_asks_for_it(workdir, monkeypatch):
    with BackgroundServer(shop_app(denied=())) as shop:
        monkeypatch.setenv("POLARIS_SYNC_PRESTASHOP_KEY", SHOP_KEY)
        from_env = invoke("init", "--prestashop-url", f"{shop.url}/api")
        assert from_env.exit_code == 0, from_env.output + from_env.stderr

        monkeypatch.delenv("POLARIS_SYNC_PRESTASHOP_KEY")
        other = workdir / "other.toml"
        asked = CliRunner().invoke(
            cli,
            ["--config", str(other), "init", "--prestashop-url", f"{shop.url}/api"],
            input=SHOP_KEY + "\n",
        )
    assert asked.exit_code == 0, asked.output + asked.stderr
    assert SHOP_KEY not in asked.output
    assert other.exists()


def test_init_with_the_shop_root_instead_of_its_api_writes_nothing(
    workdir, tmp_path_factory
):
    db = tmp_path_factory.mktemp("shop") / "shop.db"
    with BackgroundServer(create_app(db, api_key=SHOP_KEY)) as shop:
        result = invoke(
            "init", "--prestashop-url", shop.url, "--prestashop-key", SHOP_KEY
        )

    assert result.exit_code == 3
    assert "HTTP 404" in result.stderr and "ends in /api" in result.stderr
    assert not (workdir / "polaris-sync.toml").exists()


def test_status_says_a_killed_run_was_interrupted_not_running_H2(workdir):
    write_config(workdir)
    with State.open(workdir / "state") as state:
        state.start_run()  # what a run killed with SIGKILL leaves behind

    output = invoke("status").output
    assert "interrupted before it finished" in output
    assert "running" not in output

    with run_lock(workdir / "state"):
        assert " running" in invoke("status").output
