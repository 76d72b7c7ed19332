"""``/compare MODEL...`` in chat: the last prompt again, with the same history, on other models,
and every answer side by side with the one the chat got.

Kept apart from ``slash_commands`` (which registers it) because it is the one command that
sends requests outside the conversation: each model named is asked once, quietly, and its
call is a ledger row like any turn's (it was paid for), but none of it enters the session,
which goes on with the model in use. One model failing (unknown profile, an API error) is one
line in its place, and the others are still shown; Ctrl-C stops the comparison.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Collection

from deepseek_cli.catalog.pricing import Cost
from deepseek_cli.chat.repl import ExitRepl, Repl
from deepseek_cli.chat.sessions import Session, Turn
from deepseek_cli.chat.turn import cut_by_max_tokens, plan_and_warn, run_turn
from deepseek_cli.compare.variants import parse_variant
from deepseek_cli.config import settings as settings_module
from deepseek_cli.config.profiles import profile_names
from deepseek_cli.config.settings import RequestFlags
from deepseek_cli.conversation import build_messages
from deepseek_cli.errors import CliError, error_line
from deepseek_cli.events import Message, Usage
from deepseek_cli.render import side_by_side
from deepseek_cli.render import stderr as say
from deepseek_cli.render.plain import SilentRenderer
from deepseek_cli.render.side_by_side import ComparedAnswer
from deepseek_cli.render.usage_line import token_segments, usage_segments

USAGE = "usage: /compare MODEL... (each [PROFILE:]MODEL[@no-think...], e.g. deepseek:deepseek-chat)"


def compare(repl: Repl, args: str) -> None:
    try:
        names = shlex.split(args)
    except ValueError:  # an unclosed quote
        names = []
    if not names or not all(names):
        say.warning(USAGE)
        return
    if not repl.session.turns:
        say.notice("nothing to compare yet")
        return
    if repl.tools is not None and repl.tools.tools:
        # Tool calls would need approvals per model; the comparison is of the answers alone.
        say.notice("the compared models are asked without tools")
    last = repl.session.turns[-1]
    # The history the last prompt was sent with: every turn before it, as the chat sent it.
    history = Session(repl.session.name, turns=repl.session.turns[:-1]).history()
    answers = [_original(last)]
    try:
        for name in names:
            answers.append(_ask(repl, name, last.prompt, history))
    except KeyboardInterrupt:
        say.notice("comparison stopped; the calls made are in the ledger")
        return
    if not side_by_side.show(answers, terminal=repl.interactive):
        raise ExitRepl  # nobody reads the answers any more, as after a turn


def flags_for(flags: RequestFlags, name: str, profiles: Collection[str]) -> RequestFlags:
    """The chat's options with the variant ``name``, read as ``deepseek compare`` reads one
    (``[PROFILE:]MODEL[@think|@no-think|@effort=L|@budget=N]``; a prefix is a profile only
    when one has that name). ``ds:`` means that profile's default model."""
    if name.endswith(":") and name[:-1] in profiles:
        return dataclasses.replace(flags, profile=name[:-1], model=None)
    return parse_variant(name, profiles).flags(flags)


def _original(turn: Turn) -> ComparedAnswer:
    recorded = turn.usage
    usage = (
        Usage(
            input_tokens=recorded.get("input_tokens") or 0,
            cached_tokens=recorded.get("cached_tokens") or 0,
            output_tokens=recorded.get("output_tokens") or 0,
            reasoning_tokens=recorded.get("reasoning_tokens"),
            total_tokens=recorded.get("total_tokens") or 0,
        )
        if recorded
        else None
    )
    cost = turn.cost
    money = Cost(cost["amount"], cost["currency"], cost.get("cache_saved") or 0.0) if cost else None
    mark = ", interrupted" if turn.status == "interrupted" else ""
    # Sessions from before turns recorded their profile have only the model.
    name = f"{turn.profile}:{turn.model}" if turn.profile else turn.model
    return ComparedAnswer(
        f"{name} (this chat{mark})",
        turn.answer,
        tuple(token_segments(usage, money)),
    )


def _ask(repl: Repl, name: str, prompt: str, history: tuple[Message, ...]) -> ComparedAnswer:
    title = name
    try:
        profiles = profile_names(repl.settings.config.data)
        settings = settings_module.load(flags_for(repl.flags, name, profiles), repl.env)
        title = f"{settings.profile.name}:{settings.profile.model}"
        request = settings.chat_request(
            build_messages(prompt, system=settings.system, history=history)
        )
        plan = plan_and_warn(settings, request)
        if repl.interactive:
            say.dim(f"asking {title}…")
        outcome = run_turn(settings, request, plan, SilentRenderer(), command="chat", prompt=prompt)
        if (no_answer := cut_by_max_tokens(plan, outcome.reply)) is not None:
            raise no_answer
    except CliError as exc:
        # A script's exit code says a comparison failed, as it does for a failed turn.
        repl.last_failure = exc.exit_code
        return ComparedAnswer(title, error=error_line(exc))
    segments = usage_segments(outcome.reply, outcome.cost)
    return ComparedAnswer(title, outcome.reply.answer, tuple(segments))
