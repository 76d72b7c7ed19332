"""``deepseek config path|show|profiles|init|set|doctor`` and the safety of config writes."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tomllib

import pytest
from conftest import CANARY_DASHSCOPE, CANARY_DEEPSEEK
from fakeserver import http_fixture, json_reply
from ttyrun import run_in_terminal

from deepseek_cli.config.files import validate_config


def fingerprint(path):
    st = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), st.st_mtime_ns, st.st_ino


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask0():
    old = os.umask(0)  # children inherit it: files must be private without help from umask
    yield
    os.umask(old)


# --- path, show, profiles ------------------------------------------------------------------


def test_path(cli):
    assert cli.run("config", "path").stdout == f"{cli.home / 'config.toml'}\n"
    other = cli.run("config", "path", "--config", "/tmp/x.toml").stdout
    assert other == "/tmp/x.toml\n"
    full = cli.run("config", "path", "--all").stdout
    assert f"usage ledger  {cli.home / 'usage.db'}" in full


def test_show_redacts_the_key_and_names_its_source(cli):
    result = cli.run("config", "show")
    assert result.code == 0, result.stderr
    out = result.stdout
    assert f"api key       …{CANARY_DEEPSEEK[-4:]} from env DEEPSEEK_API_KEY" in out
    assert "profile       ds (config file; chosen by default_profile in the config file)" in out
    assert f"base_url      {cli.server.url}" in out
    assert "model         deepseek-v4-pro" in out
    # the conftest teardown also checks that no 12-character piece of a key appears anywhere


def test_show_gives_the_deadlines_in_seconds_and_minutes_and_batch_runs_own(cli):
    out = cli.run("config", "show").stdout
    assert (
        "timeouts      connect 10 s, idle 120 s (2 min), first token 600 s (10 min), "
        "total 600 s (10 min); batch run: first token 660 s (11 min), total 1800 s (30 min)\n"
    ) in out
    cli.write_config('[profiles.t]\nprovider = "deepseek"\ntimeout = 90\n')
    out = cli.run("config", "show", "-p", "t").stdout
    # A chosen total holds in batch run too: no second line of deadlines.
    assert (
        "timeouts      connect 10 s, idle 120 s (2 min), first token 90 s (1.5 min), "
        "total 90 s (1.5 min)\n"
    ) in out


@pytest.mark.parametrize(
    ("command", "default"), [(["ask"], "600"), (["chat"], "600"), (["batch", "run"], "1800")]
)
def test_help_gives_one_timeout_default(cli, command, default):
    text = " ".join(cli.run(*command, "--help").stdout.split())
    assert f"Total time limit per attempt (default: the profile's timeout, else {default})." in text
    assert text.count("defaults to") == 0 and text.count("(default 600)") == 0


def test_show_json(cli):
    data = json.loads(cli.run("config", "show", "-p", "dsc", "--json").stdout)
    assert data["profile"] == "dsc" and data["selected_by"] == "-p/--profile"
    assert data["provider"] == "dashscope" and data["region"] == "intl"
    assert data["api_key"] == {
        "source": "env DASHSCOPE_API_KEY",
        "masked": "…" + CANARY_DASHSCOPE[-4:],
        "problem": None,
    }
    assert data["config_file"]["private"] is True


def test_show_reports_an_unusable_key_without_printing_it(cli):
    text = (cli.home / "config.toml").read_text()
    cli.write_config(
        text
        + '\n[profiles.filekey]\nprovider = "deepseek"\napi_key = "sk-file-0123456789abcdef"\n',
        mode=0o644,
    )
    env = {"DEEPSEEK_API_KEY": ""}
    result = cli.run("config", "show", "-p", "filekey", env=env)
    assert result.code == 0
    assert "unusable:" in result.stdout and "readable by group or others" in result.stdout
    assert "0123456789abcdef" not in result.stdout
    missing = cli.run("config", "show", "-p", "dsc", env={"DASHSCOPE_API_KEY": ""})
    assert "unusable: no API key" in missing.stdout and "Singapore (intl)" in missing.stdout


def test_show_follows_env_and_flags(cli):
    env = {"DEEPSEEK_CLI_PROFILE": "dsn", "DEEPSEEK_CLI_MODEL": "deepseek-v3.2"}
    data = json.loads(cli.run("config", "show", "--json", env=env).stdout)
    assert (data["profile"], data["model"], data["api"]) == ("dsn", "deepseek-v3.2", "native")
    assert data["selected_by"] == "DEEPSEEK_CLI_PROFILE" and data["model_status"] == "retired"
    out = cli.run("config", "show", "-m", "deepseek-chat").stdout
    assert "deepseek-chat (deepseek-chat was retired on 2026-07-24" in out


def test_profiles_lists_builtins_and_file_profiles(cli):
    result = cli.run("config", "profiles")
    rows = {
        line.split()[0] if not line.startswith("*") else line.split()[1]: line
        for line in result.stdout.splitlines()[1:]
    }
    assert set(rows) >= {"ds", "dsc", "dsn", "oai", "intl", "cn", "us", "deepseek", "local"}
    assert rows["ds"].startswith("*")
    assert "built-in" in rows["cn-native"] and "native" in rows["cn-native"]
    data = json.loads(cli.run("config", "profiles", "--json").stdout)
    by_name = {p["name"]: p for p in data}
    assert by_name["ds"]["default"] is True and by_name["ds"]["origin"] == "config file"
    assert by_name["dsn"]["api"] == "native"


def test_profiles_shows_a_broken_profile_instead_of_failing(cli):
    cli.write_config('[profiles.bad]\nprovider = "dashscope"\nregion = "mars"\n')
    data = json.loads(cli.run("config", "profiles", "--json").stdout)
    bad = next(p for p in data if p["name"] == "bad")
    assert "region must be one of" in bad["problem"]


# --- init ----------------------------------------------------------------------------------


def test_init_writes_a_private_commented_config(cli, tmp_path, umask0):
    home = tmp_path / "fresh" / "deeper"
    result = cli.run("config", "init", env={"DEEPSEEK_CLI_HOME": str(home)})
    assert result.code == 0, result.stderr
    path = home / "config.toml"
    assert result.stdout == (
        f"wrote {path}: a commented starting config, default profile intl\n"
        'next: DASHSCOPE_API_KEY is set, then: deepseek ask "hello"\n'
        "check the setup: deepseek config doctor; change a setting: deepseek config set\n"
    )
    assert sorted(p.name for p in home.iterdir()) == ["config.toml"]  # no lock file beside it
    assert mode(path) == 0o600 and mode(home) == 0o700
    text = path.read_text()
    assert text.count("\n#") > 20 and 'default_profile = "intl"' in text
    data = tomllib.loads(text)
    validate_config(data)
    assert data == {"default_profile": "intl"}


@pytest.mark.parametrize(
    ("profile", "step"),
    [
        ("cn", "export DASHSCOPE_API_KEY=... (a key from Beijing (cn))"),
        ("deepseek", "export DEEPSEEK_API_KEY=..."),
        ("local", "start the server at http://127.0.0.1:8000/v1"),
    ],
)
def test_init_says_what_to_do_next(cli, tmp_path, profile, step):
    env = {
        "DEEPSEEK_CLI_HOME": str(tmp_path / "h"),
        "DASHSCOPE_API_KEY": "",
        "DEEPSEEK_API_KEY": "",
    }
    result = cli.run("config", "init", "--default-profile", profile, env=env)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[1] == f'next: {step}, then: deepseek ask "hello"'


def test_init_refuses_to_overwrite_without_force(cli):
    path = cli.home / "config.toml"
    before = fingerprint(path)
    result = cli.run("config", "init")
    assert result.code == 2 and "already exists" in result.stderr and "--force" in result.stderr
    assert fingerprint(path) == before


def test_init_force_keeps_a_private_backup(cli):
    path = cli.home / "config.toml"
    old = path.read_bytes()
    path.chmod(0o644)
    result = cli.run("config", "init", "--force", "--default-profile", "deepseek")
    assert result.code == 0
    backup = cli.home / "config.toml.bak"
    assert backup.read_bytes() == old and mode(backup) == 0o600
    assert tomllib.loads(path.read_text()) == {"default_profile": "deepseek"}


def test_init_rejects_an_unknown_default_profile(cli, tmp_path):
    result = cli.run(
        "config",
        "init",
        "--default-profile",
        "nope",
        env={"DEEPSEEK_CLI_HOME": str(tmp_path / "h")},
    )
    assert result.code == 2 and not (tmp_path / "h" / "config.toml").exists()


# --- set -----------------------------------------------------------------------------------

COMMENTED = """\
# my settings; do not lose this comment
default_profile = "ds"   # the one I use

[profiles.ds]
provider = "deepseek"
base_url = "{url}"
# model = "deepseek-flash"   (tried it, too chatty)
model = "deepseek-v4-pro"
"""


def test_set_changes_one_field_and_keeps_comments(cli):
    path = cli.write_config(COMMENTED.format(url=cli.server.url))
    result = cli.run("config", "set", "ds.model", "deepseek-flash")
    assert result.code == 0, result.stderr
    assert result.stdout == f'{path}: profiles.ds.model = "deepseek-flash"\n'
    expected = COMMENTED.format(url=cli.server.url).replace(
        'model = "deepseek-v4-pro"', 'model = "deepseek-flash"'
    )
    assert path.read_text() == expected
    assert mode(path) == 0o600


def test_set_types_new_tables_and_unset(cli):
    path = cli.home / "config.toml"
    assert cli.run("config", "set", "profiles.ds.thinking", "false").code == 0
    assert cli.run("config", "set", "ds.temperature", "0.7").code == 0
    assert cli.run("config", "set", "ds.max_tokens", "512").code == 0
    assert cli.run("config", "set", "ds.extra_body", '{"top_k": 20}').code == 0
    assert cli.run("config", "set", "log_prompts", "yes").code == 0
    assert cli.run("config", "set", "mine.provider", "openai").code == 2  # no base_url yet
    assert cli.run("config", "set", "mine.base_url", "http://127.0.0.1:1/v1").code == 2
    data = tomllib.loads(path.read_text())
    assert data["profiles"]["ds"] | {"base_url": None} == {
        "provider": "deepseek",
        "base_url": None,
        "thinking": False,
        "temperature": 0.7,
        "max_tokens": 512,
        "extra_body": {"top_k": 20},
    }
    assert data["log_prompts"] is True and "mine" not in data["profiles"]
    assert cli.run("config", "set", "ds.temperature", "--unset").code == 0
    assert "temperature" not in tomllib.loads(path.read_text())["profiles"]["ds"]
    # the settings really apply
    cli.run("ask", "hi")
    body = cli.server.requests[-1].json
    assert body["thinking"] == {"type": "disabled"} and body["top_k"] == 20


def test_set_with_p_sets_a_field_of_that_profile(cli):
    path = cli.write_config(COMMENTED.format(url=cli.server.url))
    result = cli.run("config", "set", "-p", "ds", "model", "deepseek-flash")
    assert result.code == 0, result.stderr
    assert result.stdout == f'{path}: profiles.ds.model = "deepseek-flash"\n'
    assert path.read_text() == COMMENTED.format(url=cli.server.url).replace(
        'model = "deepseek-v4-pro"', 'model = "deepseek-flash"'
    )
    assert cli.run("config", "set", "--profile", "ds", "model", "--unset").code == 0
    assert "model" not in tomllib.loads(path.read_text())["profiles"]["ds"]
    assert "-p, --profile NAME" in cli.run("config", "set", "--help").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-p", "ds", "default_profile", "x"), "with -p ds, KEY is a field of that profile"),
        (("-p", "ds", "dsc.model", "x"), "with -p ds, KEY is a field of that profile"),
        (("-p", "", "model", "x"), "-p needs a profile name"),
        (("-p", "ds", "colour", "blue"), "unknown profile field 'colour'"),
    ],
)
def test_set_with_p_refuses_keys_that_are_not_fields(cli, args, message):
    before = fingerprint(cli.home / "config.toml")
    result = cli.run("config", "set", *args)
    assert result.code == 2 and message in result.stderr, result
    assert fingerprint(cli.home / "config.toml") == before


def test_set_a_new_profile_provider_first(cli):
    assert cli.run("config", "set", "work.model", "deepseek-flash").code == 2
    assert cli.run("config", "set", "work.provider", "deepseek").code == 0
    assert cli.run("config", "set", "work.model", "deepseek-flash").code == 0
    assert cli.run("config", "set", "default_profile", "work").code == 0
    assert cli.run("config", "set", "default_profile", "nowhere").code == 2
    data = json.loads(cli.run("config", "show", "--json").stdout)
    assert (data["profile"], data["model"]) == ("work", "deepseek-flash")


@pytest.mark.parametrize(
    "args",
    [
        ("ds.thinking", "maybe"),
        ("ds.max_tokens", "many"),
        ("ds.extra_body", "[1, 2]"),
        ("ds.colour", "blue"),
        ("nonsense", "1"),
        ("ds.model",),
        ("ds.model", "x", "--unset"),
        ("dsc.region", "mars"),
    ],
)
def test_set_bad_values_exit_2_and_change_nothing(cli, args):
    path = cli.home / "config.toml"
    before = fingerprint(path)
    result = cli.run("config", "set", *args)
    assert result.code == 2, result
    assert fingerprint(path) == before


def test_set_never_rewrites_a_corrupt_config(cli):
    path = cli.write_config('[profiles.ds]\napi_key = "sk-CANARY-unterminated\nmodel = "x"\n')
    before = fingerprint(path)
    for args in (
        ("ds.model", "deepseek-flash"),
        ("default_profile", "ds"),
        ("ds.model", "--unset"),
    ):
        result = cli.run("config", "set", *args)
        assert result.code == 78, result
        assert "config.toml:2:" in result.stderr
        assert "CANARY" not in result.stderr
    assert cli.run("config", "init").code == 2
    assert fingerprint(path) == before


def test_set_refuses_an_api_key_on_the_command_line(cli):
    path = cli.home / "config.toml"
    before = fingerprint(path)
    result = cli.run("config", "set", "ds.api_key", "sk-visible-in-ps-0123456789")
    assert result.code == 2 and "not accepted on the command line" in result.stderr
    assert fingerprint(path) == before


def test_set_api_key_from_stdin_into_a_private_file(cli):
    path = cli.home / "config.toml"
    key = "sk-stdin-key-0123456789abcdef"
    result = cli.run("config", "set", "ds.api_key", "-", input=key + "\n")
    assert result.code == 0, result.stderr
    assert result.stdout.endswith("profiles.ds.api_key = …cdef\n")
    assert tomllib.loads(path.read_text())["profiles"]["ds"]["api_key"] == key
    assert mode(path) == 0o600


def test_set_api_key_refused_into_a_readable_file(cli):
    path = cli.home / "config.toml"
    path.chmod(0o644)
    before = fingerprint(path)
    result = cli.run("config", "set", "ds.api_key", "-", input="sk-abcdefghijklmnop1234\n")
    assert result.code == 78 and "chmod 600" in result.stderr
    assert fingerprint(path) == before


def test_set_keeps_the_file_mode_and_a_symlink(cli, tmp_path):
    real = tmp_path / "dotfiles" / "deepseek.toml"
    real.parent.mkdir()
    real.write_text((cli.home / "config.toml").read_text())
    real.chmod(0o640)
    link = cli.home / "config.toml"
    link.unlink()
    link.symlink_to(real)
    assert cli.run("config", "set", "ds.model", "deepseek-flash").code == 0
    assert link.is_symlink() and link.resolve() == real
    assert mode(real) == 0o640  # not silently tightened (nor loosened)
    assert tomllib.loads(real.read_text())["profiles"]["ds"]["model"] == "deepseek-flash"
    assert not list(real.parent.glob(".deepseek.toml.*.tmp"))


def test_set_creates_a_missing_config_privately(cli, tmp_path, umask0):
    home = tmp_path / "new"
    result = cli.run(
        "config", "set", "intl.model", "deepseek-v4-flash", env={"DEEPSEEK_CLI_HOME": str(home)}
    )
    assert result.code == 0, result.stderr
    path = home / "config.toml"
    assert mode(path) == 0o600 and mode(home) == 0o700
    assert tomllib.loads(path.read_text()) == {"profiles": {"intl": {"model": "deepseek-v4-flash"}}}


def test_concurrent_sets_lose_no_update(cli):
    fields = [f"{p}.max_tokens" for p in ("ds", "dsc", "dsn", "oai", "intl", "cn", "us", "local")]
    procs = [cli.spawn("config", "set", field, str(100 + i)) for i, field in enumerate(fields)]
    results = [cli.finish(p) for p in procs]
    assert [r.code for r in results] == [0] * len(fields), results
    profiles = tomllib.loads((cli.home / "config.toml").read_text())["profiles"]
    assert {f"{name}.max_tokens": t.get("max_tokens") for name, t in profiles.items()} == {
        field: 100 + i for i, field in enumerate(fields)
    }
    # The lock is on the directory: nothing is left beside the config.
    assert sorted(p.name for p in cli.home.iterdir() if p.name.startswith(".")) == []


# --- doctor --------------------------------------------------------------------------------


def test_doctor_all_good(cli):
    cli.server.enqueue(json_reply({"object": "list", "data": [{"id": "deepseek-v4-pro"}]}))
    result = cli.run("config", "doctor")
    assert result.code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["ok"] * 6
    assert any(f"…{CANARY_DEEPSEEK[-4:]} from env DEEPSEEK_API_KEY" in line for line in lines)
    assert "visible to this key" in lines[-1]
    assert cli.server.paths() == ["/models"]


def test_doctor_hints_at_region_on_a_dashscope_401(cli):
    cli.server.enqueue(http_fixture("errors/dashscope_compat_401_invalid_api_key.http"))
    result = cli.run("config", "doctor", "-p", "dsc")
    assert result.code == 77
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1 and "key accepted" in failed[0] and "HTTP 401" in failed[0]
    assert "only work in the region that issued them" in failed[0]
    assert "-p cn or -p us" in failed[0]
    assert "1 check failed" in result.stderr


def test_doctor_warns_when_the_model_is_not_visible(cli):
    cli.server.enqueue(json_reply({"object": "list", "data": [{"id": "deepseek-flash"}]}))
    result = cli.run("config", "doctor")
    assert result.code == 0
    assert result.stdout.splitlines()[-1].startswith("warn")
    assert "not in this key's model list" in result.stdout


def test_doctor_missing_key_exits_78_and_sends_nothing(cli):
    result = cli.run("config", "doctor", "-p", "dsc", env={"DASHSCOPE_API_KEY": ""})
    assert result.code == 78
    assert "FAIL  key" in result.stdout and "DASHSCOPE_API_KEY" in result.stdout
    assert "skip  key accepted" in result.stdout
    assert cli.server.requests == []


def test_doctor_refuses_a_key_in_a_world_readable_file(cli):
    text = (cli.home / "config.toml").read_text()
    cli.write_config(
        text + '\n[profiles.filekey]\nprovider = "deepseek"\n'
        f'base_url = "{cli.server.url}"\napi_key = "sk-file-0123456789abcdef"\n',
        mode=0o644,
    )
    result = cli.run("config", "doctor", "-p", "filekey", env={"DEEPSEEK_API_KEY": ""})
    assert result.code == 78
    assert "readable by group or others" in result.stdout and "chmod 600" in result.stdout
    assert "0123456789abcdef" not in result.stdout + result.stderr
    assert cli.server.requests == []


def test_doctor_unreachable_host_exits_69(cli):
    cli.write_config("""
    [profiles.gone]
    provider = "openai"
    base_url = "http://127.0.0.1:9/v1"
    """)
    result = cli.run("config", "doctor", "-p", "gone")
    assert result.code == 69
    assert "cannot connect to 127.0.0.1:9" in result.stdout


def test_doctor_corrupt_config_exits_78(cli):
    path = cli.write_config("default_profile = [\n")
    before = fingerprint(path)
    result = cli.run("config", "doctor")
    assert result.code == 78 and "FAIL  config" in result.stdout
    assert fingerprint(path) == before


def test_config_without_subcommand_shows_help(cli):
    result = cli.run("config")
    assert "Commands:" in result.stdout + result.stderr


def test_set_removes_a_temp_file_left_by_a_crashed_write(cli):
    stray = cli.home / ".config.toml.k3j4h5.tmp"
    stray.write_text("half a config")
    assert cli.run("config", "set", "ds.model", "deepseek-flash").code == 0
    assert not stray.exists()


def test_doctor_on_a_native_profile_tests_the_key_on_compatible_mode(cli):
    cli.server.enqueue(json_reply({"object": "list", "data": [{"id": "deepseek-v4-pro"}]}))
    result = cli.run("config", "doctor", "-p", "dsn")
    assert result.code == 0, result.stdout + result.stderr
    assert cli.server.paths() == ["/compatible-mode/v1/models"]
    assert "native API" in result.stdout


def test_profiles_on_a_terminal(cli):
    screen = run_in_terminal(cli, "config", "profiles")
    assert "Profiles (" in screen and "─" in screen
    assert "cn-native" in screen and "built-in" in screen
