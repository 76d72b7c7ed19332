"""Profiles, precedence, paths and key lookup (pure functions over dicts and files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deepseek_cli.config import paths
from deepseek_cli.config.files import ConfigFile, load_config_file
from deepseek_cli.config.keys import resolve_api_key
from deepseek_cli.config.profiles import BUILTIN_PROFILES, resolve_profile
from deepseek_cli.errors import ConfigError

EXPECTED_URLS = {
    "intl": "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
    "cn": "https://dashscope.aliyuncs.com/compatible-mode/v1",
    "us": "https://dashscope-us.aliyuncs.com/compatible-mode/v1",
    "intl-native": "https://dashscope-intl.aliyuncs.com/api/v1",
    "cn-native": "https://dashscope.aliyuncs.com/api/v1",
    "us-native": "https://dashscope-us.aliyuncs.com/api/v1",
    "deepseek": "https://api.deepseek.com",
    "local": "http://127.0.0.1:8000/v1",
}


@pytest.mark.parametrize("name", sorted(EXPECTED_URLS))
def test_builtin_profiles_resolve_without_a_config_file(name):
    profile = resolve_profile({}, {}, profile=name)
    assert profile.base_url == EXPECTED_URLS[name]
    assert profile.backend_name == ("dashscope_native" if "native" in name else "openai_compat")
    if name != "local":
        assert profile.model == "deepseek-v4-pro"


def test_builtins_are_exactly_the_documented_set():
    assert set(BUILTIN_PROFILES) == set(EXPECTED_URLS)


def test_default_profile_is_intl():
    assert resolve_profile({}, {}).name == "intl"


def test_precedence_defaults_file_env_flags():
    data = {"default_profile": "cn", "profiles": {"cn": {"model": "deepseek-v3.2"}}}
    assert resolve_profile(data, {}).name == "cn"
    assert resolve_profile(data, {}).model == "deepseek-v3.2"
    env = {"DEEPSEEK_CLI_PROFILE": "us", "DEEPSEEK_CLI_MODEL": "deepseek-v4-flash"}
    assert resolve_profile(data, env).name == "us"
    assert resolve_profile(data, env).model == "deepseek-v4-flash"
    flagged = resolve_profile(data, env, profile="cn", model="deepseek-r1")
    assert (flagged.name, flagged.model) == ("cn", "deepseek-r1")


def test_config_profile_overrides_only_fields_it_sets():
    data = {"profiles": {"intl": {"model": "deepseek-v3.2", "thinking": False}}}
    profile = resolve_profile(data, {}, profile="intl")
    assert profile.base_url == EXPECTED_URLS["intl"]
    assert profile.model == "deepseek-v3.2"
    assert profile.request_defaults == {"thinking": False}


def test_unknown_profile_lists_the_known_ones():
    with pytest.raises(ConfigError) as err:
        resolve_profile({"profiles": {"mine": {"provider": "deepseek"}}}, {}, profile="nope")
    assert "unknown profile 'nope'" in err.value.message
    assert "mine" in (err.value.hint or "") and "intl" in (err.value.hint or "")


def test_plain_http_only_for_loopback():
    ok = {"profiles": {"p": {"provider": "openai", "base_url": "http://localhost:9/v1"}}}
    assert resolve_profile(ok, {}, profile="p").base_url == "http://localhost:9/v1"
    bad = {"profiles": {"p": {"provider": "openai", "base_url": "http://example.com/v1"}}}
    with pytest.raises(ConfigError, match="loopback"):
        resolve_profile(bad, {}, profile="p")


def test_region_picks_the_host_and_bad_region_is_refused():
    data = {"profiles": {"x": {"provider": "dashscope", "region": "us", "api": "native"}}}
    assert resolve_profile(data, {}, profile="x").base_url == EXPECTED_URLS["us-native"]
    with pytest.raises(ConfigError, match="region"):
        resolve_profile(
            {"profiles": {"x": {"provider": "dashscope", "region": "eu"}}}, {}, profile="x"
        )


def test_bad_toml_names_path_line_and_column_without_echoing_the_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[profiles.a]\nprovider = "deepseek"\napi_key = "sk-SECRET-unterminated\n')
    with pytest.raises(ConfigError) as err:
        load_config_file(path)
    assert err.value.message.startswith(f"{path}:3:")
    assert "SECRET" not in err.value.message


def test_unknown_and_mistyped_keys_are_errors(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[profiles.a]\nprovider = "deepseek"\nmodle = "x"\n')
    with pytest.raises(ConfigError, match="unknown key 'modle'"):
        load_config_file(path)
    path.write_text('[profiles.a]\nprovider = "deepseek"\ntemperature = true\n')
    with pytest.raises(ConfigError, match="temperature"):
        load_config_file(path)


def test_paths_follow_home_and_config_override(tmp_path):
    env = {"DEEPSEEK_CLI_HOME": str(tmp_path)}
    assert paths.config_file(env) == tmp_path / "config.toml"
    assert paths.ledger_file(env) == tmp_path / "usage.db"
    assert paths.config_file(env, "/x/y.toml") == Path("/x/y.toml")
    assert paths.config_file({**env, "DEEPSEEK_CLI_CONFIG": "/a.toml"}) == Path("/a.toml")


def _file(tmp_path: Path, text: str, mode: int) -> ConfigFile:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(mode)
    return load_config_file(path)


def test_key_lookup_order_cmd_then_env_then_file(tmp_path):
    config = _file(
        tmp_path,
        '[profiles.d]\nprovider = "deepseek"\napi_key = "sk-file-aaaaaaaaaaaaaaaa"\n'
        'api_key_cmd = "echo sk-cmd-bbbbbbbbbbbbbbbb"\n',
        0o600,
    )
    profile = resolve_profile(config.data, {}, profile="d")
    env = {"DEEPSEEK_API_KEY": "sk-env-cccccccccccccccc"}
    key = resolve_api_key(profile, env, config)
    assert (key.value, key.source) == ("sk-cmd-bbbbbbbbbbbbbbbb", "api_key_cmd")
    config = _file(
        tmp_path,
        '[profiles.d]\nprovider = "deepseek"\napi_key = "sk-file-aaaaaaaaaaaaaaaa"\n',
        0o600,
    )
    profile = resolve_profile(config.data, {}, profile="d")
    assert resolve_api_key(profile, env, config).source == "env DEEPSEEK_API_KEY"
    key = resolve_api_key(profile, {}, config)
    assert key.value == "sk-file-aaaaaaaaaaaaaaaa" and key.source.startswith("config file")


def test_file_key_refused_when_group_or_world_readable(tmp_path):
    config = _file(
        tmp_path,
        '[profiles.d]\nprovider = "deepseek"\napi_key = "sk-file-aaaaaaaaaaaaaaaa"\n',
        0o644,
    )
    profile = resolve_profile(config.data, {}, profile="d")
    with pytest.raises(ConfigError) as err:
        resolve_api_key(profile, {}, config)
    assert "readable by group or others" in err.value.message
    assert "chmod 600" in (err.value.hint or "")


def test_failing_key_command_does_not_echo_its_output(tmp_path):
    config = _file(
        tmp_path,
        '[profiles.d]\nprovider = "deepseek"\napi_key_cmd = "echo sk-leaky-dddddddddddd; exit 3"\n',
        0o600,
    )
    profile = resolve_profile(config.data, {}, profile="d")
    with pytest.raises(ConfigError) as err:
        resolve_api_key(profile, {}, config)
    assert "exit 3" in err.value.message and "leaky" not in err.value.message


def test_missing_key_names_env_var_and_region():
    profile = resolve_profile({}, {}, profile="cn")
    with pytest.raises(ConfigError) as err:
        resolve_api_key(profile, {}, ConfigFile(Path("c.toml"), {}, True, False))
    assert "DASHSCOPE_API_KEY" in (err.value.hint or "")
    assert "Beijing" in (err.value.hint or "")


def test_local_profile_needs_no_key():
    profile = resolve_profile({}, {}, profile="local")
    assert resolve_api_key(profile, {}, ConfigFile(Path("c.toml"), {}, True, False)) is None
