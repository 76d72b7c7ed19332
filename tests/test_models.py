"""``deepseek models`` and ``models show``: piped text, terminal table, JSON, and ``--live``."""

from __future__ import annotations

import json

import pytest
from fakeserver import http_fixture, json_reply
from ttyrun import run_in_terminal


def rows_by_model(stdout: str) -> dict[str, str]:
    return {line.split()[0]: line for line in stdout.splitlines()[1:] if line.strip()}


# --- the catalog, piped --------------------------------------------------------------------


def test_piped_list_is_a_plain_table_of_the_profiles_provider(cli):
    result = cli.run("models")  # default profile: ds (provider deepseek)
    assert result.code == 0, result.stderr
    assert "\x1b" not in result.stdout and "─" not in result.stdout
    header = result.stdout.splitlines()[0].split()
    assert header[:3] == ["MODEL", "THINKING", "CONTEXT"]
    assert "USD/1M" in header and "STATUS" in header
    rows = rows_by_model(result.stdout)
    assert set(rows) == {
        "deepseek-v4-pro",
        "deepseek-flash",
        "deepseek-v4-flash",
        "deepseek-chat",
        "deepseek-reasoner",
    }
    pro = rows["deepseek-v4-pro"]
    assert "hybrid, on" in pro and "1M" in pro and "384K" in pro
    assert "0.022/0.66/1.98 off-peak; 0.044/1.32/3.96 peak" in pro
    assert "2026-11-15" in pro and "function-calling" in pro
    assert rows["deepseek-chat"].endswith("retired 2026-07-24; use deepseek-flash")
    assert rows["deepseek-reasoner"].split()[1] == "always"
    assert rows["deepseek-v4-flash"].endswith("legacy; use deepseek-flash")
    assert cli.server.requests == []  # the catalog is offline


def test_every_piped_row_is_one_line_with_the_same_columns(cli):
    out = cli.run("models", "--all").stdout
    lines = out.splitlines()
    assert lines[0].split()[0] == "PROVIDER"
    providers = {line.split()[0] for line in lines[1:]}
    assert providers == {"dashscope", "deepseek"}
    assert len(lines) == 1 + 16 + 5  # header, DashScope, DeepSeek


def test_dashscope_prices_are_the_regions_and_unknown_stays_unknown(cli):
    out = cli.run("models", "-p", "dsc").stdout  # Singapore
    rows = rows_by_model(out)
    assert "0.2/2.4/4.8 2026-05-17 3rd-party" in " ".join(rows["deepseek-v4-pro"].split())
    assert "0.04/0.2/0.4" in rows["deepseek-v4-flash"]
    # Priced in Beijing only, disputed, or never published: unknown in Singapore.
    for model in ("deepseek-r1", "deepseek-v4-pro-0813", "deepseek-r1-distill-llama-70b"):
        assert " unknown " in rows[model], model
    assert rows["deepseek-r1"].endswith(
        "retired 2026-10-10; use deepseek-v4-flash, deepseek-v4-pro"
    )
    cli.write_config(f"""
    [profiles.bj]
    provider = "dashscope"
    region = "cn"
    base_url = "{cli.server.url}/compatible-mode/v1"
    """)
    beijing = rows_by_model(cli.run("models", "-p", "bj").stdout)
    assert "0.138/1.65/3.301" in beijing["deepseek-v4-pro"]
    assert "CNY ?/4/16" in beijing["deepseek-r1"]  # yuan only, no cache-hit price found


def test_currency_follows_the_profile(cli):
    cli.write_config(f"""
    [profiles.yuan]
    provider = "deepseek"
    base_url = "{cli.server.url}"
    currency = "CNY"
    """)
    out = cli.run("models", "-p", "yuan").stdout
    assert "CNY/1M" in out.splitlines()[0]
    assert "0.15/4.5/13.5 off-peak; 0.3/9/27 peak" in rows_by_model(out)["deepseek-v4-pro"]


def test_json_lists_everything_the_table_shows(cli):
    result = cli.run("models", "--json")
    data = json.loads(result.stdout)
    by_id = {m["id"]: m for m in data}
    pro = by_id["deepseek-v4-pro"]
    assert pro["provider"] == "deepseek" and pro["thinking"] == "hybrid"
    assert pro["thinking_default"] is True and pro["context"] == 1048576
    assert pro["max_output"] == 393216 and pro["max_input"] is None
    assert pro["defaults"] == {"temperature": 1.0, "reasoning_effort": "high"}
    current = {(p["currency"], p["window"]): p for p in pro["prices"]}
    assert set(current) == {
        ("USD", "peak"),
        ("USD", "off_peak"),
        ("CNY", "peak"),
        ("CNY", "off_peak"),
    }
    assert current["USD", "off_peak"]["input"] == 0.66
    assert current["USD", "off_peak"]["since"] == "2026-11-15T00:00:00Z"
    assert current["USD", "off_peak"]["source"]
    chat = by_id["deepseek-chat"]
    assert (chat["status"], chat["status_since"], chat["replacements"]) == (
        "retired",
        "2026-07-24",
        ["deepseek-flash"],
    )
    assert "visible" not in pro


def test_openai_profile_has_no_catalog_entries(cli):
    result = cli.run("models", "-p", "oai")
    assert result.code == 0 and result.stdout == ""
    assert "--live" in result.stderr
    assert json.loads(cli.run("models", "-p", "oai", "--json").stdout) == []


def test_corrupt_config_exits_78(cli):
    cli.write_config('default_profile = "ds\n')
    result = cli.run("models")
    assert result.code == 78 and "config.toml:1:" in result.stderr


# --- on a terminal -------------------------------------------------------------------------


def test_terminal_gets_a_rich_table(cli):
    screen = run_in_terminal(cli, "models", columns=160)
    assert "Models: DeepSeek API (profile ds)" in screen
    assert "─" in screen and "\x1b[" in screen  # box rule and styles
    assert "0.022/0.66/1.98 off-peak" in screen and "since 2026-11-15" in screen
    assert "tools, json" in screen  # short feature names where width is scarce
    assert "Prices per 1M tokens in force now" in screen


def test_narrow_terminal_stacks_rows_instead_of_cropping(cli):
    screen = run_in_terminal(cli, "models", "-p", "dsc", columns=70)
    assert "Status" in screen and "retired 2026-10-10; use deepseek-v4-flash" in screen
    assert "deepseek-r1-distill-llama-70b" in screen


# --- --live --------------------------------------------------------------------------------


def test_live_marks_what_the_key_can_see_and_lists_unknown_models(cli):
    cli.server.enqueue(
        json_reply(
            {
                "object": "list",
                "data": [
                    {"id": "deepseek-v4-pro", "object": "model", "owned_by": "deepseek"},
                    {"id": "deepseek-flash", "object": "model", "owned_by": "deepseek"},
                    {"id": "deepseek-v5-preview", "object": "model", "owned_by": "deepseek"},
                ],
            }
        )
    )
    result = cli.run("models", "--live", "--json")
    assert result.code == 0, result.stderr
    by_id = {m["id"]: m for m in json.loads(result.stdout)}
    assert by_id["deepseek-v4-pro"]["visible"] is True
    assert by_id["deepseek-chat"]["visible"] is False
    assert by_id["deepseek-v5-preview"] == {
        "provider": "deepseek",
        "id": "deepseek-v5-preview",
        "in_catalog": False,
        "visible": True,
    }
    request = cli.server.requests[0]
    assert (request.method, request.path) == ("GET", "/models")
    assert request.headers["authorization"].startswith("Bearer ")


def test_live_table_has_a_live_column(cli):
    cli.server.enqueue(http_fixture_json("listing/deepseek_models.json"))
    rows = rows_by_model(cli.run("models", "--live").stdout)
    assert rows["deepseek-flash"].endswith(" yes")
    assert rows["deepseek-chat"].endswith(" no")


def http_fixture_json(name: str):
    from fakeserver import FIXTURES

    return json_reply(json.loads((FIXTURES / name).read_text()))


def test_live_on_a_native_profile_asks_compatible_mode_of_the_same_host(cli):
    cli.server.enqueue(http_fixture_json("listing/dashscope_compat_models.json"))
    result = cli.run("models", "-p", "dsn", "--live", "--json")
    assert result.code == 0, result.stderr
    assert cli.server.paths() == ["/compatible-mode/v1/models"]
    by_id = {m["id"]: m for m in json.loads(result.stdout)}
    assert by_id["deepseek-v3.2"]["visible"] is True
    assert by_id["deepseek-r1"]["visible"] is False


def test_live_with_a_rejected_key_exits_77(cli):
    cli.server.enqueue(http_fixture("errors/deepseek_401_authentication_fails.http"))
    result = cli.run("models", "--live")
    assert result.code == 77 and "not permitted" in result.stderr


def test_live_without_a_key_exits_78_and_sends_nothing(cli):
    result = cli.run("models", "--live", env={"DEEPSEEK_API_KEY": ""})
    assert result.code == 78 and "DEEPSEEK_API_KEY" in result.stderr
    assert cli.server.requests == []


# --- models show ---------------------------------------------------------------------------


def test_show_prints_everything_with_price_history_and_sources(cli):
    result = cli.run("models", "show", "deepseek-v4-pro")
    assert result.code == 0, result.stderr
    out = result.stdout
    assert out.startswith("deepseek-v4-pro\n")
    for expected in (
        "provider            DeepSeek API",
        "hybrid (switchable), on by default",
        "low, high, max (minimal→low",
        "context             1,048,576",
        "max input           unknown",
        "default parameters  temperature=1.0, reasoning_effort=high",
        "peak hours          Mon–Fri 09:00–12:00, 14:00–18:00 (UTC+8)",
        "pricing page archived 2026-04-26 (75% launch discount)",
    ):
        assert expected in out, expected
    history = [line for line in out.splitlines() if "UTC  " in line]
    assert len(history) == 8
    assert sum(" now " in line for line in history) == 4


def test_show_prefers_the_profiles_provider(cli):
    ds = cli.run("models", "show", "deepseek-v4-pro").stdout
    dsc = cli.run("models", "show", "deepseek-v4-pro", "-p", "dsc").stdout
    assert "DeepSeek API" in ds and "DashScope" not in ds
    assert "DashScope" in dsc and "shared budget" in dsc and "catwalk" in dsc


def test_show_finds_a_model_of_another_provider(cli):
    out = cli.run("models", "show", "deepseek-r1").stdout  # profile ds, a DashScope model
    assert "Model Studio" in out and "fixed parameters" in out
    assert "presence_penalty=1" in out


def test_show_json_has_history_and_defaults(cli):
    data = json.loads(cli.run("models", "show", "deepseek-chat", "--json").stdout)
    assert len(data) == 1
    model = data[0]
    assert model["defaults"] == {"temperature": 1.0, "max_tokens": 4096}
    assert {p["currency"] for p in model["price_history"]} == {"USD", "CNY"}
    assert all(p["source"].startswith("seed") for p in model["price_history"])


def test_show_unknown_model_suggests_and_exits_2(cli):
    result = cli.run("models", "show", "deepseek-v4-pr")
    assert result.code == 2
    assert "not in the catalog" in result.stderr and "deepseek-v4-pro" in result.stderr


@pytest.mark.parametrize(
    "args",
    [("models", "--all"), ("models", "--json", "--all"), ("models", "show", "deepseek-v4-pro")],
    ids=["table", "json", "show"],
)
def test_a_closed_pipe_ends_quietly(cli, args):
    """``deepseek models | head -1``: the reader is gone before the output is written. The
    CLI must drop the rest like ``cat`` does: exit 0, and nothing on stderr (no traceback, no
    "Exception ignored ... BrokenPipeError" from the interpreter's last flush, exit 120)."""
    assert cli.run_into_closed_pipe(*args) == (0, "")


@pytest.mark.parametrize("terminal", [False, True])
@pytest.mark.parametrize("profile", ["ds", "oai"])
def test_live_lists_models_the_catalog_does_not_know(cli, profile, terminal):
    # Every real server (llama-server, vLLM, LiteLLM) lists ids the catalog has never heard of.
    listing = {
        "object": "list",
        "data": [
            {"id": "SmolLM2-135M-Instruct.Q4_1.gguf", "object": "model", "owned_by": "llamacpp"},
            {"id": "deepseek-flash", "object": "model", "owned_by": "deepseek"},
        ],
    }
    cli.server.enqueue(json_reply(listing))
    if terminal:
        screen = run_in_terminal(cli, "models", "-p", profile, "--live", columns=160)
        assert "SmolLM2-135M-Instruct.Q4_1.gguf" in screen or "SmolLM2-135M" in screen
        assert "not in catalog" in screen and "Traceback" not in screen
        return
    result = cli.run("models", "-p", profile, "--live")
    assert result.code == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    row = next(line for line in lines if line.startswith("SmolLM2"))
    # Each known cell sits under its own column: nothing shifted, nothing missing.
    assert row.index("not in catalog") == header.index("STATUS")
    assert row.rindex("yes") == header.index("LIVE")


def test_a_dashscope_model_listed_from_another_provider_shows_each_region(cli):
    out = cli.run("models", "--all", "-p", "ds").stdout
    row = next(
        line for line in out.splitlines() if line.split()[:2] == ["dashscope", "deepseek-v4-pro"]
    )
    assert "cn: 0.138/1.65/3.301; intl: 0.2/2.4/4.8; us: 0.2/2.4/4.8" in row
