"""The request options that ``ask``, ``chat``, ``batch run``, ``batch estimate`` and ``batch
submit`` share: each command lists them in the same place of its ``--help`` as it always has,
and every one of them reaches the request."""

from __future__ import annotations

import json
import re

import pytest

REQUEST = [
    "--profile",
    "--model",
    "--think",
    "--budget",
    "--effort",
    "--system",
    "--temperature",
    "--top-p",
    "--max-tokens",
    "--search",
    "--extra",
    "--timeout",
]
CLOSING = ["--config", "--debug", "--help"]
NO_TIMEOUT = [name for name in REQUEST if name != "--timeout"]

ASK = ["--file", "--force", "--json-object", "--prefix", "--suffix", "--stop"]
ASK += ["--show-thinking", "--usage", "--no-stream", "--json"]
TOOLS = ["--tool", "--yes", "--max-steps", "--show-tools"]
RUN = ["--output", "--errors", "--format", "--lenient", "--retry-errors", "--max-line-bytes"]
RUN += ["--concurrency", "--rpm", "--tpm", "--max-attempts", "--ramp", "--backoff"]
RUN += ["--max-wait", "--outage-budget", "--grace", "--max-cost", "--stream", "--json"]
ESTIMATE = ["--assume-output", "--lenient", "--max-line-bytes", "--remote", "--max-cost", "--json"]
SUBMIT = ["--window", "--name", "--new", "--max-lines", "--max-bytes", "--max-line-bytes"]
SUBMIT += ["--json"]


def listed_options(help_text: str) -> list[str]:
    """The first long name of each option, in the order ``--help`` lists them."""
    block = help_text.split("Options:\n")[1].split("\n\n", maxsplit=1)[0]
    names = []
    for line in block.splitlines():
        if line.startswith("  -"):
            match = re.search(r"--[a-z][a-z-]*", line.strip().split("  ")[0])
            assert match, line
            names.append(match.group())
    return names


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["ask"], REQUEST + ASK + TOOLS + CLOSING),
        (["chat"], [*REQUEST, "--session", "--continue", "--show-thinking", *TOOLS, *CLOSING]),
        (["batch", "run"], RUN + REQUEST + CLOSING),
        (["batch", "estimate"], ESTIMATE + NO_TIMEOUT + CLOSING),  # sends nothing: no timeout
        (["batch", "submit"], SUBMIT + REQUEST + CLOSING),
    ],
    ids=" ".join,
)
def test_each_command_lists_its_options_in_order(cli, command, expected):
    result = cli.run(*command, "--help")
    assert result.code == 0, result.stderr
    assert listed_options(result.stdout) == expected


def test_estimate_refuses_timeout(cli):
    (cli.home / "in.jsonl").write_text('{"id": "a", "prompt": "hi"}\n')
    result = cli.run("batch", "estimate", "in.jsonl", "--timeout", "3")
    assert result.code == 2 and "No such option: --timeout" in result.stderr


SHARED_FLAGS = [
    "-m",
    "deepseek-flash",
    "--no-think",
    "-s",
    "be brief",
    "-t",
    "0.3",
    "--top-p",
    "0.5",
    "--max-tokens",
    "9",
    "-x",
    "seed=7",
]


def assert_shared_flags_sent(body):
    assert body["model"] == "deepseek-flash"
    assert body["thinking"] == {"type": "disabled"}
    assert body["messages"][0] == {"role": "system", "content": "be brief"}
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["seed"]) == (
        0.3,
        0.5,
        9,
        7,
    )


@pytest.mark.parametrize("command", [["ask", "q"], ["chat"]], ids=" ".join)
def test_request_options_reach_the_request(cli, command):
    result = cli.run(*command, *SHARED_FLAGS, input="q\n" if command == ["chat"] else "")
    assert result.code == 0, result.stderr
    assert_shared_flags_sent(cli.server.requests[-1].json)


def test_request_options_reach_every_batch_request(cli):
    (cli.home / "in.jsonl").write_text('{"id": "a", "prompt": "q"}\n{"id": "b", "prompt": "r"}\n')
    result = cli.run("batch", "run", "in.jsonl", *SHARED_FLAGS)
    assert result.code == 0, result.stderr
    assert len(cli.server.requests) == 2
    for request in cli.server.requests:
        assert_shared_flags_sent(request.json)


def test_estimate_prices_the_model_given(cli):
    (cli.home / "in.jsonl").write_text('{"id": "a", "prompt": "q", "max_tokens": 10}\n')
    result = cli.run("batch", "estimate", "in.jsonl", "-m", "deepseek-flash", "--json")
    assert result.code == 0, result.stderr
    assert [m["model"] for m in json.loads(result.stdout)["models"]] == ["deepseek-flash"]


@pytest.mark.parametrize(
    "command",
    [["ask", "q"], ["chat"], ["batch", "run", "in.jsonl"], ["batch", "estimate", "in.jsonl"]],
    ids=" ".join,
)
def test_config_names_the_config_file(cli, command):
    (cli.home / "in.jsonl").write_text('{"id": "a", "prompt": "q"}\n')
    result = cli.run(*command, "--config", str(cli.home / "missing.toml"), input="q\n")
    assert result.code == 78, result.stderr  # a config named explicitly must exist
    assert "missing.toml" in result.stderr
    assert cli.server.requests == []


@pytest.mark.parametrize(
    ("usage", "names", "metavar"),
    [
        ("-j, --concurrency N", ["-j", "--concurrency"], "N"),
        ("--json", ["--json"], None),
        ("--think/--no-think", ["--think/--no-think"], None),
        ("-x, --extra KEY=VALUE", ["-x", "--extra"], "KEY=VALUE"),
    ],
)
def test_an_option_is_declared_as_its_help_shows_it(usage, names, metavar):
    from deepseek_cli.cli.options import option

    declared = option(usage, "Help.", panel="Panel", min=1)
    # In Annotated, Typer takes the first positional (``default``) as the first name.
    assert ([declared.default, *declared.param_decls], declared.metavar) == (names, metavar)
    assert (declared.help, declared.rich_help_panel, declared.min) == ("Help.", "Panel", 1)


@pytest.mark.parametrize("usage", ["N", "--name NAME EXTRA", ""])
def test_a_malformed_option_usage_is_refused(usage):
    from deepseek_cli.cli.options import option

    with pytest.raises(ValueError, match="usage"):
        option(usage, "Help.")
