"""MCP servers from config: ``deepseek tools``, ``config doctor``, and the Toolbox itself.

Every server here is real: ``mcp_servers/calc_server.py``, built with the SDK, run over stdio
with ``sys.executable``. The Toolbox tests drive the real class in-process against it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import CANARY_DASHSCOPE, profiles_toml
from fakeserver import json_reply

from deepseek_cli.config.mcp import McpServer
from deepseek_cli.errors import ConfigError
from deepseek_cli.tools.tool import Tool
from deepseek_cli.tools.toolbox import Toolbox

CALC = Path(__file__).parent / "mcp_servers" / "calc_server.py"
CALC_TOOLS = {
    "add",
    "multiply",
    "fail",
    "slow",
    "environment",
    "env_value",
    "die",
    "die_once",
    "pid",
}


def calc_toml(name: str = "calc", extra: str = "") -> str:
    return f"""
    [mcp.{name}]
    command = {json.dumps(sys.executable)}
    args = [{json.dumps(str(CALC))}]
    {extra}
    """


def with_servers(cli, servers: str, profile_extra: str = "") -> None:
    base = profiles_toml(cli.server.url)
    if profile_extra:
        base = base.replace(
            '[profiles.ds]\n    provider = "deepseek"',
            f'[profiles.ds]\n    provider = "deepseek"\n    {profile_extra}',
        )
    cli.write_config(base + servers)


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


# --- deepseek tools ---------------------------------------------------------------------------


def test_tools_lists_each_server_and_marks_the_profiles_tools(cli):
    with_servers(cli, calc_toml(), 'tools = ["calc.add"]')
    result = cli.run("tools")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("calc  (9 tools)  ")
    assert str(CALC) in lines[0]
    assert "* calc.add" in result.stdout and "Add two numbers." in result.stdout
    assert "  calc.multiply" in result.stdout and "* calc.multiply" not in result.stdout
    assert "profile 'ds'" in lines[-1]
    assert "calc server starting" not in result.stdout + result.stderr  # its stderr is kept


def test_tools_json(cli):
    with_servers(cli, calc_toml(), 'tools = ["calc"]')
    result = cli.run("tools", "--json")
    assert result.code == 0, result.stderr
    [server] = json.loads(result.stdout)
    assert server["server"] == "calc" and server["ok"] is True and server["error"] is None
    assert str(CALC) in server["command"]
    tools = {t["name"]: t for t in server["tools"]}
    assert set(tools) == {f"calc.{n}" for n in CALC_TOOLS}
    assert all(t["selected"] for t in tools.values())
    assert tools["calc.add"]["input_schema"]["required"] == ["a", "b"]


def test_tools_without_servers_is_a_hint(cli):
    result = cli.run("tools")
    assert result.code == 0
    assert result.stdout.count("\n") == 1 and "[mcp.calc]" in result.stdout
    assert json.loads(cli.run("tools", "--json").stdout) == []


def test_a_server_that_fails_is_listed_and_the_command_exits_78(cli):
    with_servers(cli, calc_toml() + '\n[mcp.broken]\ncommand = "no-such-command-xyz"\n')
    result = cli.run("tools")
    assert result.code == 78
    assert "broken  (FAILED)" in result.stdout and "calc  (9 tools)" in result.stdout
    [line] = result.stderr.splitlines()
    assert "MCP server 'broken' did not start: command not found: no-such-command-xyz" in line
    data = json.loads(cli.run("tools", "--json").stdout)
    assert [(s["server"], s["ok"]) for s in data] == [("broken", False), ("calc", True)]


def test_a_server_that_exits_at_once_is_one_line_with_its_last_words(cli, tmp_path):
    script = tmp_path / "quits.py"
    script.write_text(
        "import sys\nprint('warming up', file=sys.stderr)\nsys.exit('quits: no licence file')\n"
    )
    command = json.dumps(sys.executable)
    with_servers(cli, f"[mcp.quits]\ncommand = {command}\nargs = [{json.dumps(str(script))}]\n")
    result = cli.run("tools")
    assert result.code == 78
    [line] = result.stderr.splitlines()
    assert "MCP server 'quits' did not start: quits: no licence file" in line


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ('[mcp.x]\ncommand = "a"\nport = 1\n', "[mcp.x]: unknown key 'port'"),
        ("[mcp.x]\ncommand = 3\n", "[mcp.x]: 'command' must be a string"),
        ('[mcp.x]\ncommand = "  "\n', "[mcp.x]: 'command' is empty"),
        ('[mcp.x]\nargs = ["a"]\n', "[mcp.x]: 'command' is missing"),
        ('[mcp.x]\ncommand = "a"\nargs = "b"\n', "[mcp.x]: 'args' must be a list of strings"),
        ('[mcp.x]\ncommand = "a"\nenv = { A = 1 }\n', "[mcp.x]: 'env' must be a table of strings"),
        ('[mcp.x]\ncommand = "a"\ntimeout = 0\n', "[mcp.x]: 'timeout' must be a number"),
        ('[mcp.x]\ncommand = "a"\ntimeout = true\n', "[mcp.x]: 'timeout' must be a number"),
        ('[mcp."a.b"]\ncommand = "a"\n', "[mcp.a.b]: a server name may hold only"),
        ("mcp = 3\n", "'mcp' must be dict"),
        ('[profiles.ds]\ntools = "calc"\n', "[profiles.ds]: 'tools' must be list"),
        ("[profiles.ds]\napprove_tools = [1]\n", "'approve_tools' must be a list of names"),
    ],
)
def test_bad_mcp_config_exits_78_naming_the_file_and_table(cli, table, said):
    path = cli.write_config(table)
    result = cli.run("tools")
    assert result.code == 78
    [line] = result.stderr.splitlines()
    assert str(path) in line and said in line


def test_tools_help_and_no_servers_do_not_import_mcp(cli):
    report = '[m for m in ("mcp", "mcp_types") if m in sys.modules]'
    assert cli.probe(report, "tools", "--help") == []
    assert cli.probe(report, "tools") == []
    assert cli.probe(report, "--help") == []


# --- config doctor ----------------------------------------------------------------------------


def test_doctor_starts_each_server(cli):
    with_servers(cli, calc_toml() + '\n[mcp.broken]\ncommand = "no-such-command-xyz"\n')
    cli.server.enqueue(json_reply({"object": "list", "data": [{"id": "deepseek-v4-pro"}]}))
    result = cli.run("config", "doctor")
    assert result.code == 78, result.stdout + result.stderr
    lines = {line.split()[2]: line for line in result.stdout.splitlines() if " mcp " in line}
    assert lines["calc"].startswith("ok") and "9 tools" in lines["calc"]
    assert lines["broken"].startswith("FAIL") and "command not found" in lines["broken"]


# --- the Toolbox ------------------------------------------------------------------------------


def calc(timeout: float = 60, **env: str) -> McpServer:
    return McpServer("calc", sys.executable, (str(CALC),), dict(env), None, timeout)


@pytest.fixture
def box():
    toolbox = Toolbox({"calc": calc(timeout=2, CALC_MODE="exact")})
    yield toolbox
    toolbox.close()


def tool(box: Toolbox, name: str) -> Tool:
    found = box.find(f"calc__{name}")
    assert found is not None
    return found


def test_select_collapses_duplicates_and_names_what_exists(box):
    tools = box.select(["calc", "calc.add", "calc"])
    assert {t.name for t in tools} == CALC_TOOLS and len(tools) == len(CALC_TOOLS)
    assert box.select(["calc.add", "calc.add"]) == (tool(box, "add"),)
    with pytest.raises(ConfigError, match="unknown MCP server 'nope'") as info:
        box.select(["nope"])
    assert info.value.hint == "configured: calc"
    with pytest.raises(ConfigError, match="'calc' has no tool 'nope'") as info:
        box.select(["calc.nope"])
    assert "calc.add" in (info.value.hint or "")


def test_calls_answer_and_errors_are_results(box):
    box.select(["calc"])
    assert box.call(tool(box, "add"), {"a": 2, "b": 3}).text == "5"
    failed = box.call(tool(box, "fail"), {})
    assert failed.is_error and failed.text
    assert box.call(tool(box, "add"), {"a": 1, "b": 1}).is_error is False


def test_a_slow_call_times_out_as_an_error_result_and_the_server_goes_on(box):
    box.select(["calc"])
    result = box.call(tool(box, "slow"), {"seconds": 30})
    assert result.is_error and result.text == "calc.slow timed out after 2 s"
    assert box.call(tool(box, "multiply"), {"a": 2, "b": 4}).text == "8"


def test_a_server_that_dies_is_restarted_once(box, tmp_path):
    box.select(["calc"])
    before = int(box.call(tool(box, "pid"), {}).text)
    marker = tmp_path / "died"
    result = box.call(tool(box, "die_once"), {"marker": str(marker)})
    assert (result.text, result.is_error) == ("survived", False)
    assert marker.exists()
    after = int(box.call(tool(box, "pid"), {}).text)
    assert after != before and gone(before)
    # Dying again (the restart is spent): an error result, and so is every later call.
    died = box.call(tool(box, "die"), {})
    assert died.is_error and "MCP server 'calc' stopped" in died.text
    later = box.call(tool(box, "add"), {"a": 1, "b": 2})
    assert later.is_error and later.text == died.text


def test_the_server_sees_only_its_environment(monkeypatch):
    monkeypatch.setenv("DASHSCOPE_API_KEY", CANARY_DASHSCOPE)
    monkeypatch.setenv("SOME_OTHER_SETTING", "x")
    with Toolbox({"calc": calc(CALC_MODE="exact")}) as box:
        box.select(["calc"])
        names = set(json.loads(box.call(tool(box, "environment"), {}).text))
        mode = box.call(tool(box, "env_value"), {"name": "CALC_MODE"}).text
    assert mode == "exact"
    assert "CALC_MODE" in names and "PATH" in names and "HOME" in names
    # Python itself may set LC_CTYPE (PEP 538) in a C locale; nothing else may appear.
    assert names - {"LC_CTYPE"} <= {"PATH", "HOME", "LANG", "TMPDIR", "CALC_MODE"}


def test_close_leaves_no_server_process():
    box = Toolbox({"calc": calc()})
    box.select(["calc"])
    pid = int(box.call(tool(box, "pid"), {}).text)
    assert not gone(pid)
    box.close()
    assert gone(pid)
    box.close()  # twice is fine


def test_a_server_that_does_not_answer_the_handshake_times_out():
    silent = McpServer("silent", sys.executable, ("-c", "import time; time.sleep(60)"), timeout=1)
    with Toolbox({"silent": silent}) as box, pytest.raises(ConfigError) as info:
        box.select(["silent"])
    assert info.value.message == (
        "MCP server 'silent' did not start: no answer to the MCP handshake within 1 s"
    )


INTERRUPTED = textwrap.dedent(
    """
    import sys
    from deepseek_cli.config.mcp import McpServer
    from deepseek_cli.tools.toolbox import Toolbox
    box = Toolbox({"calc": McpServer("calc", sys.executable, (sys.argv[1],))})
    try:
        box.select(["calc"])
        print("pid", box.call(box.find("calc__pid"), {}).text, flush=True)
        box.call(box.find("calc__slow"), {"seconds": 60})
        print("not interrupted", flush=True)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        box.close()
        print("closed", flush=True)
    """
)


def test_ctrl_c_during_a_call_propagates_and_close_still_stops_the_server():
    proc = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED, str(CALC)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
    )
    assert proc.stdout is not None
    first = proc.stdout.readline().split()
    assert first[0] == "pid", first
    pid = int(first[1])
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert out.split() == ["interrupted", "closed"], err
    assert gone(pid)


@pytest.mark.parametrize(
    ("server", "name", "wire"),
    [
        ("calc", "add", "calc__add"),
        ("my-srv", "read_file", "my-srv__read_file"),
    ],
)
def test_plain_wire_names(server, name, wire):
    t = Tool(server, name, "d", {"type": "object"})
    assert t.wire_name == wire
    assert t.spec() == {
        "type": "function",
        "function": {"name": wire, "description": "d", "parameters": {"type": "object"}},
    }


def test_wire_names_are_valid_and_unique_when_names_are_odd():
    odd = [
        Tool("calc", "add.v2", "", {}),
        Tool("calc", "add/v2", "", {}),
        Tool("calc", "x" * 100, "", {}),
        Tool("calc", "x" * 100 + "y", "", {}),
        Tool("a__b", "c", "", {}),
        Tool("a", "b__c", "", {}),
        Tool("a_", "_b", "", {}),
        Tool("a", "__b", "", {}),
    ]
    names = [t.wire_name for t in odd]
    assert len(set(names)) == len(names)
    for name in names:
        assert 1 <= len(name) <= 64 and all(c.isalnum() or c in "_-" for c in name)


def test_profile_tools_are_shown_and_can_be_set(cli):
    path = cli.write_config('[profiles.ds]\nprovider = "deepseek"\ntools = ["calc"]\n')
    assert "tools" in cli.run("config", "show", "-p", "ds").stdout
    result = cli.run("config", "set", "ds.approve_tools", "calc.*,files.read")
    assert result.code == 0, result.stderr
    shown = json.loads(cli.run("config", "show", "-p", "ds", "--json").stdout)
    assert shown["tools"] == ["calc"]
    assert shown["approve_tools"] == ["calc.*", "files.read"]
    assert 'approve_tools = ["calc.*", "files.read"]' in path.read_text()


def test_a_server_that_writes_garbage_on_stdout_is_one_line_and_no_traceback(cli):
    code = "print('hello, not JSON-RPC'); import sys; sys.stdin.read()"
    command = json.dumps(sys.executable)
    table = f"[mcp.noisy]\ncommand = {command}\nargs = ['-c', {json.dumps(code)}]\ntimeout = 2\n"
    with_servers(cli, table)
    result = cli.run("tools")
    assert result.code == 78
    [line] = result.stderr.splitlines()
    assert "MCP server 'noisy' did not start: no answer to the MCP handshake within 2 s" in line


def test_a_restart_that_fails_is_an_error_result(tmp_path):
    # Starts once; the second start (the restart after `die`) fails with a message.
    script = (
        "if [ -e started ]; then echo 'no second start' >&2; exit 1; fi; "
        f'touch started; exec "{sys.executable}" "{CALC}"'
    )
    server = McpServer("once", "sh", ("-c", script), {}, tmp_path, 10)
    with Toolbox({"once": server}) as box:
        box.select(["once"])
        died = box.call(box.find("once__die"), {})
        assert died.is_error
        assert died.text == (
            "MCP server 'once' did not start: no second start; its tools are unavailable"
        )
        assert box.call(box.find("once__add"), {"a": 1, "b": 2}).text == died.text
