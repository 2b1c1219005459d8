"""The settings registry: types, precedence, masking, and the generated reference page."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SQLITE_RUN_ONLY
from urbanos.errors import ConfigError
from urbanos.plugins import settings_registry
from urbanos.settings import CORE_SETTINGS, Setting, build_registry, load, reference_markdown

pytestmark = SQLITE_RUN_ONLY  # no database: the same on every back end

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_typed_documented_and_defaulted() -> None:
    for s in settings_registry().values():
        assert s.help and s.help[0].isupper(), s.name
        assert isinstance(s.default, s.type), s.name
        assert s.name == s.name.lower() and " " not in s.name


def test_precedence_defaults_toml_env_cli(tmp_path: Path) -> None:
    reg = build_registry(CORE_SETTINGS)
    toml = tmp_path / "urbanos.toml"
    toml.write_text('port = 9000\ncity_name = "From TOML"\nlog_level = "debug"\n')
    s = load(reg, toml_path=toml, env={"URBANOS_PORT": "9100", "URBANOS_LOG_LEVEL": "error"}, overrides={"port": "9200"})
    assert s.port == 9200 and s.sources["port"] == "cli"
    assert s.log_level == "error" and s.sources["log_level"] == "env"
    assert s.city_name == "From TOML"
    assert s.host == "127.0.0.1" and s.sources["host"] == "default"


def test_only_the_prefix_is_read() -> None:
    reg = build_registry(CORE_SETTINGS)
    s = load(reg, env={"PORT": "1", "DB": "postgresql://x", "URBANOS_CITY_NAME": "Hamburg"})
    assert s.port == 8000 and s.db == "" and s.city_name == "Hamburg"


def test_toml_sections_flatten(tmp_path: Path) -> None:
    reg = build_registry(CORE_SETTINGS)
    toml = tmp_path / "c.toml"
    toml.write_text("[oidc]\nroles_claim = 'realm_access.roles'\n")
    assert load(reg, toml_path=toml, env={}).oidc_roles_claim == "realm_access.roles"


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"URBANOS_PORT": "eighty"}, "URBANOS_PORT"),
        ({"URBANOS_LOG_LEVEL": "loud"}, "one of debug"),
        ({"URBANOS_ACCESS_LOG": "maybe"}, "boolean"),
        ({"URBANOS_MAX_BODY_BYTES": "0"}, ">= 1"),
    ],
)
def test_bad_values_name_the_setting_and_the_fix(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(build_registry(CORE_SETTINGS), env=env)
    assert fragment in err.value.message and "Fix:" in err.value.message


def test_unknown_toml_key_is_an_error(tmp_path: Path) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text("prot = 1\n")
    with pytest.raises(ConfigError, match="unknown setting 'prot'"):
        load(build_registry(CORE_SETTINGS), toml_path=toml, env={})


def test_sensitive_values_are_masked() -> None:
    s = load(build_registry(CORE_SETTINGS), env={"URBANOS_ADMIN_TOKEN": "s3cret", "URBANOS_DB": "postgresql://u:pw@h/db"})
    assert s.display("admin_token") == "****"
    assert s.display("db") == "****"
    assert s.display("port") == "8000"


def test_lists_parse_from_env() -> None:
    s = load(build_registry(CORE_SETTINGS), env={"URBANOS_CORS_ORIGINS": "https://a.example, https://b.example"})
    assert s.cors_origins == ["https://a.example", "https://b.example"]


def test_duplicate_settings_are_refused() -> None:
    with pytest.raises(ConfigError):
        build_registry([*CORE_SETTINGS, Setting("port", int, 1, "Again.")])


def test_reference_page_is_up_to_date() -> None:
    page = ROOT / "docs" / "reference" / "settings.md"
    assert page.read_text(encoding="utf-8") == reference_markdown(settings_registry()), (
        "docs/reference/settings.md is stale: run `urbanos settings --markdown > docs/reference/settings.md`"
    )
