"""Reading the configuration file, and one clear error per mistake."""

import os
import re
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from polaris_sync.config import (
    CONFIG_ENV,
    PRESTASHOP_KEY_ENV,
    Config,
    config_path,
    load_config,
    parse_config,
)
from polaris_sync.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent

MINIMAL = '[prestashop]\nurl = "http://127.0.0.1:8080/api"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "polaris-sync.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_file_gets_documented_defaults(tmp_path):
    config = load_config(write(tmp_path, MINIMAL))

    assert config.enabled is True
    assert config.mode == "basic"
    assert config.prestashop.max_concurrency == 4
    assert config.prestashop.max_requests_per_second == 5
    assert config.stock.safety_stock == 0
    assert config.intervals.stock == 0
    assert config.state_dir == tmp_path
    assert config.audit_path == tmp_path / "audit"
    assert config.source == tmp_path / "polaris-sync.toml"


def test_options_of_each_section_are_read_B2_C1_D1_D2_D3(tmp_path):
    path = write(
        tmp_path,
        'enabled = false\nmode = "full"\nstate_dir = "var"\n'
        + MINIMAL
        + '[stock]\nsafety_stock = 2\nout_of_stock = "hide"\nstores = [1, 3]\n'
        + "[intervals]\ncatalogue = 15\n",
    )

    config = load_config(path)

    assert config.enabled is False
    assert config.mode == "full"
    assert config.state_dir == tmp_path / "var"
    assert config.stock.safety_stock == 2
    assert config.stock.out_of_stock == "hide"
    assert config.stock.stores == [1, 3]
    assert config.intervals.catalogue == 15


def test_unknown_key_names_the_key_and_the_file(tmp_path):
    path = write(tmp_path, MINIMAL + "[stock]\nsafety = 2\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(path) in str(error.value)
    assert "stock.safety: unknown option" in str(error.value)


def test_wrong_type_names_the_key_and_the_value(tmp_path):
    path = write(tmp_path, MINIMAL + '[stock]\nsafety_stock = "two"\n')
    with pytest.raises(ConfigError, match=r"stock\.safety_stock: .*'two'"):
        load_config(path)


def test_negative_safety_stock_is_refused_D1(tmp_path):
    path = write(tmp_path, MINIMAL + "[stock]\nsafety_stock = -1\n")
    with pytest.raises(ConfigError, match=r"stock\.safety_stock"):
        load_config(path)


def test_e1_one_product_per_model_needs_a_colour_group(tmp_path):
    """Without a colour attribute the colours of a model would become
    combinations nobody can tell apart."""
    path = write(tmp_path, MINIMAL + '[catalogue]\nproducts_per = "model"\n')
    with pytest.raises(ConfigError, match=r"catalogue: .*colour_group"):
        load_config(path)
    path = write(
        tmp_path, MINIMAL + '[catalogue]\nproducts_per = "model"\ncolour_group = 5\n'
    )
    assert load_config(path).catalogue.colour_group == 5


def test_missing_shop_address_is_named(tmp_path):
    with pytest.raises(ConfigError, match="prestashop: required option missing"):
        load_config(write(tmp_path, "enabled = true\n"))


def test_shop_address_must_be_http(tmp_path):
    path = write(tmp_path, '[prestashop]\nurl = "ftp://shop/api"\n')
    with pytest.raises(ConfigError, match=r"prestashop\.url: must start with http"):
        load_config(path)


def test_broken_toml_is_one_readable_error(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[prestashop\n"))


def test_missing_file_says_how_to_create_one(tmp_path):
    with pytest.raises(ConfigError, match="polaris-sync init"):
        load_config(tmp_path / "absent.toml")


def test_state_dir_under_a_file_is_refused(tmp_path):
    (tmp_path / "plain-file").write_text("")
    path = write(tmp_path, 'state_dir = "plain-file/state"\n' + MINIMAL)
    with pytest.raises(ConfigError, match="state_dir: .* is not a folder"):
        load_config(path)


def test_state_dir_that_cannot_be_written_is_refused(tmp_path):
    if os.geteuid() == 0:
        # Root may write into any ordinary folder; /proc/1 refuses even root.
        locked = Path("/proc/1")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
    path = write(tmp_path, f'state_dir = "{locked}/state"\n' + MINIMAL)
    with pytest.raises(ConfigError, match="state_dir: .* is not writable"):
        load_config(path)


def test_config_path_prefers_option_then_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    assert config_path(None) == Path("polaris-sync.toml")
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "env.toml"))
    assert config_path(None) == tmp_path / "env.toml"
    assert config_path(tmp_path / "given.toml") == tmp_path / "given.toml"


def test_prestashop_key_from_file_then_environment_then_state(monkeypatch, tmp_path):
    monkeypatch.delenv(PRESTASHOP_KEY_ENV, raising=False)
    config = load_config(write(tmp_path, MINIMAL))
    assert config.prestashop_key(stored="from-state") == "from-state"

    monkeypatch.setenv(PRESTASHOP_KEY_ENV, "from-env")
    assert config.prestashop_key(stored="from-state") == "from-env"

    config = load_config(write(tmp_path, MINIMAL + 'key = "from-file"\n'))
    assert config.prestashop_key(stored="from-state") == "from-file"
    assert "from-file" not in repr(config)


def _option_names(model, prefix=""):
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _option_names(annotation, f"{prefix}{name}.")
        else:
            yield prefix + name


def test_example_configuration_is_valid_and_documents_every_option():
    example = REPO_ROOT / "config.example.toml"
    text = example.read_text(encoding="utf-8")
    config = parse_config(tomllib.loads(text), example)

    assert config.prestashop.url == "https://shop.example/api"
    documented = {
        match.group(1)
        for match in re.finditer(r"^(?:# )?(\w+) = ", text, flags=re.MULTILINE)
    }
    sections = {line.strip("[]") for line in text.splitlines() if line.startswith("[")}
    for option in _option_names(Config):
        section, _, name = option.rpartition(".")
        assert not section or section in sections, f"[{section}] missing"
        assert name in documented, f"{option} is not documented in config.example.toml"
