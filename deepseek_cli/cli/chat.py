"""``deepseek chat``: the interactive REPL (scriptable when stdin is not a terminal)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from deepseek_cli.cli.boundary import guarded
from deepseek_cli.cli.options import complete_profiles, option, option_group, request_options
from deepseek_cli.cli.tool_options import ToolFlags

if TYPE_CHECKING:
    from deepseek_cli.chat.repl import LineSource, Output
    from deepseek_cli.chat.sessions import Session, SessionLock
    from deepseek_cli.config.settings import RequestFlags

EPILOG = """\b
Examples:
  deepseek chat                         # a new session, the default profile
  deepseek chat -p deepseek --no-think  # DeepSeek's API, thinking off
  deepseek chat --session refactor      # start or resume the session "refactor"
  deepseek chat -c                      # resume the most recent session
  printf 'hi\\n/usage\\n' | deepseek chat  # one turn per line, answers printed plainly
  deepseek chat --tool calc             # the model may call the MCP server calc's tools
Inside: /help lists the slash commands.
"""


def complete_sessions(incomplete: str) -> list[str]:
    from deepseek_cli.chat.sessions import listing

    return [s.name for s in listing(os.environ) if s.name.startswith(incomplete)]


@guarded
@request_options()
@option_group(ToolFlags, at="tools")
def chat(
    *,
    flags: RequestFlags,
    session: Annotated[
        str | None,
        option(
            "--session NAME", "Start or resume the named session.", autocompletion=complete_sessions
        ),
    ] = None,
    resume_last: Annotated[
        bool, option("-c, --continue", "Resume the most recent session.")
    ] = False,
    show_thinking: Annotated[
        bool | None, option("--show-thinking/--hide-thinking", "Show or hide the thinking panel.")
    ] = None,
    tools: ToolFlags,
) -> None:
    """Chat interactively: sessions, history, slash commands."""
    from deepseek_cli.chat.repl import Repl
    from deepseek_cli.chat.slash_commands import COMMANDS
    from deepseek_cli.config import settings
    from deepseek_cli.errors import UsageError

    if session is not None and resume_last:
        raise UsageError("--session and --continue cannot be combined")
    resolved = settings.load(flags, os.environ)  # fail fast (exit 78) on config and key problems
    state, lock = _session(session, resume_last=resume_last)
    interactive = sys.stdin.isatty() and sys.stdout.isatty() and os.environ.get("TERM") != "dumb"
    if interactive:
        # /model completes the models of the profile in use, which /profile changes.
        source, output = _terminal(
            state, show_thinking is not False, provider=lambda: repl.settings.profile.provider
        )
    else:
        source, output = _piped(
            show_thinking=bool(show_thinking), tools=lambda: repl.tools is not None
        )
    repl = Repl(
        os.environ,
        flags,
        state,
        source,
        output,
        interactive=interactive,
        commands=COMMANDS,
        lock=lock,
        tools=tools.open(resolved),  # the servers start now: one that cannot is exit 78
        start_tools=tools.start,
        max_steps=tools.max_steps,
    )
    try:
        code = repl.run()
    finally:
        if repl.tools is not None:
            repl.tools.close()
    if code:
        raise typer.Exit(code)


def _session(name: str | None, *, resume_last: bool) -> tuple[Session, SessionLock]:
    """The session named, the most recent one with ``--continue``, else a new one; locked
    for this process first (exit 75 when another chat has it open), then read."""
    from deepseek_cli.chat import sessions

    name = name or (sessions.latest(os.environ) if resume_last else None)
    if name is None:
        lock = sessions.claim_new(os.environ)
        return sessions.Session(lock.name), lock
    lock = sessions.claim(os.environ, name)
    return sessions.load(os.environ, name) or sessions.Session(name), lock


def _terminal(
    state: Session, show_thinking: bool, *, provider: Callable[[], str]
) -> tuple[LineSource, Output]:
    """The line editor (history, slash command completion) and the Rich transcript, which
    starts with the turns of a resumed session."""
    from deepseek_cli.catalog.models import EFFORT_LEVELS, load_catalog
    from deepseek_cli.chat.line_editor import SlashCompleter, TerminalLines
    from deepseek_cli.chat.repl import Output
    from deepseek_cli.chat.slash_commands import COMMANDS
    from deepseek_cli.config import paths
    from deepseek_cli.render.transcript import ChatView

    view = ChatView(show_thinking=show_thinking)
    completer = SlashCompleter(
        COMMANDS,
        {
            "model": lambda: sorted(m.id for m in load_catalog().for_provider(provider())),
            "profile": lambda: complete_profiles(""),
            "load": lambda: complete_sessions(""),
            "effort": lambda: list(EFFORT_LEVELS),
        },
    )
    output = Output(
        renderer=lambda s: view.renderer(s.profile.model),
        transcript=lambda t: view.turn(
            t.prompt, t.thinking, t.answer, interrupted=t.status == "interrupted"
        ),
        clear_screen=view.clear,
    )
    source = TerminalLines(paths.data_dir(os.environ) / "history", completer)
    for turn in state.turns:
        output.transcript(turn)
    if state.turns:
        view.note(f"resumed session {state.name} ({len(state.turns)} turns)")
    else:
        view.note(f"session {state.name} · /help for commands · Ctrl-D to quit")
    return source, output


def _piped(*, show_thinking: bool, tools: Callable[[], bool]) -> tuple[LineSource, Output]:
    """Lines from stdin, answers printed plainly (with tools, only the final answers)."""
    from deepseek_cli.chat.line_editor import PipedLines
    from deepseek_cli.chat.repl import Output
    from deepseek_cli.render.plain import PlainRenderer

    output = Output(
        renderer=lambda s: PlainRenderer(show_thinking=show_thinking, hold_answer=tools())
    )
    return PipedLines(sys.stdin.buffer), output
