"""The slash commands of ``deepseek chat`` (``/model``, ``/retry``, ``/save``...): the table the
REPL looks commands up in, and what each one does to the REPL's state.

Kept apart from the loop in ``repl`` so that adding a command touches only this module: each
handler is registered by :func:`command` (or :func:`setting`) with its usage and one-line help,
takes the :class:`~deepseek_cli.chat.repl.Repl` and the text after the name, and ``/help``
lists the commands in the order they are defined here.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

from deepseek_cli.catalog.models import EFFORT_LEVELS
from deepseek_cli.catalog.pricing import Cost, Spend
from deepseek_cli.chat import compare_command, prompt_input, sessions, tool_commands
from deepseek_cli.chat.repl import Command, ExitRepl, Repl
from deepseek_cli.chat.sessions import Session
from deepseek_cli.errors import CliError, error_line
from deepseek_cli.render import stderr as say
from deepseek_cli.render.numbers import cache_share, spend_text, with_savings

Handler = Callable[[Repl, str], None]
Parse = Callable[[str], object]

COMMANDS: dict[str, Command] = {}  # filled by @command below, in the order /help lists them


def command(name: str, args: str, help: str) -> Callable[[Handler], Handler]:
    """Register the decorated handler as ``/name args``, with its one-line help."""

    def register(run: Handler) -> Handler:
        COMMANDS[name] = Command(name, args, help, run)
        return run

    return register


def setting(
    name: str, args: str, help: str, *, field_name: str | None = None
) -> Callable[[Parse], Parse]:
    """Register ``/name`` for the request option ``field_name`` (default: ``name``): without a
    value it shows the option, ``off`` resets it, anything else is read by the decorated
    parser (a ``ValueError`` is the warning shown)."""
    field = field_name or name

    def register(parse: Parse) -> Parse:
        def run(repl: Repl, args: str) -> None:
            if not args:
                say.notice(f"{name}: {repl.settings.option(field) or 'default'}")
                return
            if args.lower() in ("off", "default", "none"):
                value = None
            else:
                try:
                    value = parse(args)
                except ValueError as exc:
                    say.warning(f"/{name}: {exc}")
                    return
            if repl.change(**{field: value}):
                say.notice(f"{name}: {value if value is not None else 'default'}")

        command(name, args, help)(run)
        return parse

    return register


@command("help", "", "list the commands")
def _help(repl: Repl, args: str) -> None:
    width = max(len(f"/{c.name} {c.args}") for c in repl.commands.values())
    for entry in repl.commands.values():
        usage = f"/{entry.name} {entry.args}"
        say.write_line("info", f"{usage:<{width}}  {entry.help}")
    say.write_line(
        "info",
        "Enter sends; Alt-Enter (or Esc Enter) adds a line; Ctrl-R searches "
        "history; Ctrl-C cancels; Ctrl-D quits. Start a line with // to send a '/'.",
    )


@command("exit", "", "leave (Ctrl-D does too)")
def _exit(repl: Repl, args: str) -> None:
    raise ExitRepl


@command("clear", "", "start a new conversation")
def _clear(repl: Repl, args: str) -> None:
    try:
        lock = sessions.claim_new(repl.env)
    except CliError as exc:
        say.warning(error_line(exc))
        return
    repl.switch(lock, Session(lock.name))
    repl.output.clear_screen()
    say.notice(f"new conversation: session {repl.session.name}")


@command("model", "[NAME]", "show or switch the model")
def _model(repl: Repl, args: str) -> None:
    if not args:
        say.notice(f"model: {repl.settings.profile.model}")
        return
    name = _one_name(args, "/model NAME (`deepseek models` lists them)")
    if name is None:
        return
    if repl.change(model=name) and repl.settings.model_info is None:
        say.notice(f"{name} is not in the catalog for {repl.settings.profile.provider}; sent as is")


@command("profile", "[NAME]", "show or switch the profile")
def _profile(repl: Repl, args: str) -> None:
    if not args:
        profile = repl.settings.profile
        say.notice(f"profile: {profile.name} ({profile.provider}, {profile.base_url})")
        return
    name = _one_name(args, "/profile NAME (`deepseek config profiles` lists them)")
    if name is None:
        return
    # A new profile brings its own default model unless one was chosen with -m or /model.
    if repl.change(profile=name, model=None):
        say.notice(f"profile {name}: {repl.settings.profile.model}")


def _one_name(args: str, usage: str) -> str | None:
    """The one name in ``args`` (shell quoting allowed: ``/model 'x'``); else a warning with
    the usage, and ``None``. Model and profile names never hold spaces."""
    try:
        words = shlex.split(args)
    except ValueError:  # an unclosed quote
        words = []
    if len(words) != 1 or not words[0]:
        say.warning(f"usage: {usage}")
        return None
    return words[0]


@command("think", "", "thinking on for the next turns (hybrid models)")
def _think(repl: Repl, args: str) -> None:
    _switch_thinking(repl, on=True)


@command("no_think", "", "thinking off for the next turns (hybrid models)")
def _no_think(repl: Repl, args: str) -> None:
    _switch_thinking(repl, on=False)


def _switch_thinking(repl: Repl, *, on: bool) -> None:
    info = repl.settings.model_info
    if info is not None and info.thinking != "hybrid":
        kind = "always thinks" if info.thinking == "always" else "never thinks"
        say.warning(f"{info.id} {kind}; it cannot switch thinking {'on' if on else 'off'}")
        return
    if repl.change(thinking=on):
        say.notice(f"thinking {'on' if on else 'off'} for the next turns")


@setting("budget", "[N|off]", "thinking budget in tokens", field_name="thinking_budget")
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"expected a whole number of tokens (e.g. 4096) or off, not {text!r}")
    return value


@setting("effort", "[LEVEL|off]", "reasoning effort", field_name="reasoning_effort")
def _effort_value(text: str) -> str:
    if text not in EFFORT_LEVELS:
        raise ValueError(f"expected one of {', '.join(EFFORT_LEVELS)} or off, not {text!r}")
    return text


@command("system", "[TEXT|off]", "show, set or clear the system prompt")
def _system(repl: Repl, args: str) -> None:
    if not args:
        say.notice(f"system: {repl.settings.system or '(none)'}")
        return
    value = None if args.lower() == "off" else args
    if repl.change(system=value):
        say.notice("system prompt cleared" if value is None else "system prompt set")


@setting("temperature", "[X|off]", "sampling temperature")
def _temperature(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 2:  # NaN is not either
        raise ValueError(f"expected a number from 0 to 2 (e.g. 0.7) or off, not {text!r}")
    return value


@command("retry", "", "send the last message again")
def _retry(repl: Repl, args: str) -> None:
    if repl.failed_prompt is not None:
        prompt = repl.failed_prompt
    elif repl.session.turns:
        prompt = repl.session.turns.pop().prompt
        repl.save()
    else:
        say.notice("nothing to retry")
        return
    repl.send(prompt)


@command("undo", "", "drop the last exchange")
def _undo(repl: Repl, args: str) -> None:
    if not repl.session.turns:
        say.notice("nothing to undo")
        return
    turn = repl.session.turns.pop()
    repl.save()
    say.notice(f"removed the last exchange: {turn.prompt.splitlines()[0][:60]}")


@command("edit", "[TEXT]", "compose a message in $EDITOR (starting from TEXT)")
def _edit(repl: Repl, args: str) -> None:
    try:
        text = repl.source.edit(args)
    except CliError as exc:
        say.warning(error_line(exc))
        return
    if text is None:
        say.warning("/edit needs a terminal and $EDITOR (or $VISUAL)")
    elif text.strip():
        repl.send(text.rstrip("\n"))
    else:
        say.notice("empty message; nothing sent")


@command("file", "PATH [MSG]", "attach a text file to the next message")
def _file(repl: Repl, args: str) -> None:
    if not args:
        say.warning("usage: /file PATH [message]")
        return
    try:
        words = shlex.split(args)
    except ValueError as exc:  # "No closing quotation"
        say.warning(f"/file: {str(exc).lower()} in {args!r}; quote a PATH with spaces")
        return
    if not words or not words[0]:
        say.warning("usage: /file PATH [message]")
        return
    try:
        path = Path(words[0]).expanduser()
        repl.attachments.append((path, prompt_input.read_attachment(path)))
    except CliError as exc:
        say.warning(f"/file: {error_line(exc)}")
        return
    if len(words) > 1:
        repl.send(" ".join(words[1:]))
    else:
        say.notice(f"{path.name} will be sent with your next message")


@command("save", "[NAME]", "save the session (under a new name)")
def _save(repl: Repl, args: str) -> None:
    if args and args != repl.session.name:
        try:
            lock = sessions.claim(repl.env, args)
        except CliError as exc:
            say.warning(error_line(exc))
            return
        repl.session.name = args
        repl.switch(lock, repl.session)
    repl.save()
    say.notice(f"saved as session {repl.session.name}")


@command("load", "NAME", "switch to a saved session")
def _load(repl: Repl, args: str) -> None:
    if not args:
        say.warning("usage: /load NAME (see /sessions)")
        return
    if args == repl.session.name:
        say.notice(f"session {args} is the one in use")
        return
    try:
        lock = sessions.claim(repl.env, args)
    except CliError as exc:
        say.warning(error_line(exc))
        return
    try:
        loaded = sessions.load(repl.env, args)
    except CliError as exc:
        lock.release()
        say.warning(error_line(exc))
        return
    if loaded is None:
        lock.release()
        say.warning(f"no session named {args}; /sessions lists them")
        return
    repl.switch(lock, loaded)
    for turn in loaded.turns:
        repl.output.transcript(turn)
    say.notice(f"session {loaded.name}: {len(loaded.turns)} turns")


@command("sessions", "", "list saved sessions")
def _sessions(repl: Repl, args: str) -> None:
    found = sessions.listing(repl.env)
    if not found:
        say.notice("no saved sessions")
    for info in found:
        when = info.updated.astimezone().strftime("%Y-%m-%d %H:%M")
        mark = "*" if info.name == repl.session.name else " "
        say.write_line(
            "plain",
            f"{mark} {info.name:<20} {when}  {info.model:<18} {info.turns:>3} turns  "
            f"{info.first_line[:40]}",
        )


command("tools", "", "list the tools the model may call")(tool_commands.show_tools)
command("tool", "NAME|-NAME", "let the model use an MCP server or SERVER.TOOL; -NAME removes")(
    tool_commands.change_tools
)
command("compare", "MODEL...", "the last prompt again on other models, answers side by side")(
    compare_command.compare
)


@command("usage", "", "tokens and cost of this session")
def _usage(repl: Repl, args: str) -> None:
    totals = {"input_tokens": 0, "cached_tokens": 0, "output_tokens": 0, "reasoning_tokens": 0}
    spend = Spend()
    for turn in repl.session.turns:
        for key in totals:
            totals[key] += (turn.usage or {}).get(key) or 0
        cost = turn.cost
        spend.add(
            Cost(cost["amount"], cost["currency"], cost.get("cache_saved") or 0.0) if cost else None
        )
    share = cache_share(totals["input_tokens"], totals["cached_tokens"])
    money = spend_text(spend, "turn", empty="no cost", unpriced="cost unknown for {count} {nouns}")
    say.write_line(
        "plain",
        f"session {repl.session.name}: {len(repl.session.turns)} "
        f"turn{'' if len(repl.session.turns) == 1 else 's'} · "
        f"{totals['input_tokens']} in · {totals['cached_tokens']} cached ({share}) · "
        f"{totals['output_tokens']} out · {totals['reasoning_tokens']} reasoning · "
        + with_savings(money, spend.saved),
    )
