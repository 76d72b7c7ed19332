"""Chat sessions on disk: one private JSON file per session, rewritten atomically each turn.

A session records, per turn, the profile, model, prompt, thinking, answer, usage, cost and how
the turn ended, so ``--session NAME`` and ``-c`` can resume a conversation in a new process
and ``/sessions`` can list them. Sessions are ordered by the time they record (their last
turn's), not by file times, which a ``touch``, a copy or a restore from backup changes.
Files live in ``<data dir>/sessions`` (0700), are 0600 from
their first byte, and are replaced with temp file + rename so a crash never leaves half a
session.

One process at a time has a session open: :func:`claim` takes a lock (``.NAME.lock``, flock)
that the chat holds for as long as it uses that session, and a second ``chat --session NAME``
is refused (exit 75) instead of each process rewriting the file with its own turns and losing
the other's. The kernel drops the lock when the holder exits, even by SIGKILL, so a crashed
chat never blocks the session. A file that is not a session (garbage, not UTF-8, larger than
any session) is refused with a line naming it, never a traceback.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from deepseek_cli.config import paths
from deepseek_cli.errors import LockedError, UsageError, local_io
from deepseek_cli.events import Message, Role, ToolCall
from deepseek_cli.safefile import (
    MiB,
    TooLarge,
    ensure_private_dir,
    flock,
    read_limited,
    write_atomic,
)
from deepseek_cli.timestamps import utc_iso

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

# A session holds every turn's thinking and answer; 64 MiB is hundreds of long turns, far
# more than any model's context takes back. A larger file is not one of ours.
MAX_SESSION_BYTES = 64 * MiB

# "interrupted": Ctrl-C during the answer; the part that arrived is kept.
TurnStatus = Literal["ok", "interrupted"]


class NotASession(ValueError):
    """A file in the sessions folder that does not hold a session."""


@dataclass
class Turn:
    prompt: str
    answer: str
    thinking: str = ""
    profile: str = ""
    model: str = ""
    status: TurnStatus = "ok"
    usage: dict[str, int | None] | None = None
    cost: dict[str, Any] | None = None
    request_id: str | None = None
    ts: str = field(default_factory=utc_iso)
    # With tools: the messages between the prompt and the answer (the assistant turns that
    # called tools, with their thinking, and the tool results), to be sent back as they were.
    steps: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Session:
    name: str
    created: str = field(default_factory=utc_iso)
    turns: list[Turn] = field(default_factory=list)

    def history(self) -> tuple[Message, ...]:
        """The exchanges sent back to the model; thinking stays in the transcript only."""
        messages: list[Message] = []
        for turn in self.turns:
            messages.append(Message("user", turn.prompt))
            messages.extend(message_from_json(step) for step in turn.steps)
            # After tool calls the final answer's thinking goes back too (as a string, even
            # empty: DeepSeek wants the field); otherwise the wire rules drop it.
            reasoning = turn.thinking if turn.steps else turn.thinking or None
            messages.append(Message("assistant", turn.answer, reasoning=reasoning))
        return tuple(messages)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "created": self.created,
            "turns": [asdict(t) for t in self.turns],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Session:
        """The session in ``data``; ``ValueError`` when it does not have a session's shape."""
        raw_turns = data.get("turns", [])
        if not isinstance(data.get("name"), str) or not isinstance(raw_turns, list):
            raise NotASession("no session name or turn list")
        turns = []
        for t in raw_turns:
            if not isinstance(t, dict) or not all(
                isinstance(t.get(k), str) for k in ("prompt", "answer")
            ):
                raise NotASession("a turn without prompt and answer")
            steps = t.get("steps", [])
            if not isinstance(steps, list) or not all(_is_step(step) for step in steps):
                raise NotASession("a turn with malformed tool steps")
            turns.append(Turn(**{k: v for k, v in t.items() if k in Turn.__dataclass_fields__}))
        return cls(name=data["name"], created=str(data.get("created", "")), turns=turns)


def message_json(message: Message) -> dict[str, Any]:
    """A tool step as the session file keeps it."""
    data: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.reasoning is not None:
        data["reasoning"] = message.reasoning
    if message.tool_calls:
        data["tool_calls"] = [
            {"id": c.id, "name": c.name, "arguments": c.arguments} for c in message.tool_calls
        ]
    if message.tool_call_id is not None:
        data["tool_call_id"] = message.tool_call_id
    return data


def message_from_json(data: Mapping[str, Any]) -> Message:
    calls = tuple(
        ToolCall(str(c["id"]), str(c["name"]), str(c["arguments"]))
        for c in data.get("tool_calls", ())
    )
    role: Role = "tool" if data["role"] == "tool" else "assistant"
    reasoning = data.get("reasoning")
    return Message(
        role,
        str(data["content"]),
        reasoning=str(reasoning) if reasoning is not None else None,
        tool_calls=calls,
        tool_call_id=data.get("tool_call_id"),
    )


def _is_step(step: object) -> bool:
    if not isinstance(step, dict) or step.get("role") not in ("assistant", "tool"):
        return False
    if not isinstance(step.get("content"), str):
        return False
    if not all(isinstance(step.get(k), str | None) for k in ("reasoning", "tool_call_id")):
        return False
    calls = step.get("tool_calls", [])
    return isinstance(calls, list) and all(
        isinstance(c, dict) and all(isinstance(c.get(k), str) for k in ("id", "name", "arguments"))
        for c in calls
    )


@dataclass(frozen=True)
class SessionInfo:
    name: str
    updated: datetime
    model: str
    turns: int
    first_line: str


def sessions_dir(env: Mapping[str, str]) -> Path:
    return paths.data_dir(env) / "sessions"


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise UsageError(
            f"bad session name '{name}'", "use letters, digits, '.', '_' or '-' (up to 64)"
        )
    return name


def new_name() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def path_for(env: Mapping[str, str], name: str) -> Path:
    return sessions_dir(env) / f"{check_name(name)}.json"


class SessionLock:
    """The claim on one session: held until :meth:`release` or the process ends."""

    def __init__(self, name: str, fd: int) -> None:
        self.name = name
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock
            self._fd = None


def claim(env: Mapping[str, str], name: str) -> SessionLock:
    """Lock session ``name`` for this process, or exit 75 when another process has it."""
    with local_io(f"cannot lock session {name}"):
        folder = ensure_private_dir(sessions_dir(env))
        fd = os.open(
            folder / f".{check_name(name)}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600
        )
    if not flock(fd, wait=False):
        os.close(fd)
        raise LockedError(
            f"session {name} is open in another deepseek chat",
            "finish that chat first, or use another --session name",
        )
    return SessionLock(name, fd)


def claim_new(env: Mapping[str, str]) -> SessionLock:
    """A lock on a new session's name: two chats started in the same second get two names."""
    base = new_name()
    for n in range(1, 100):
        name = base if n == 1 else f"{base}-{n}"
        if path_for(env, name).exists():
            continue
        try:
            return claim(env, name)
        except LockedError:
            continue
    raise LockedError("no free session name; try again in a second")


def save(env: Mapping[str, str], session: Session) -> None:
    ensure_private_dir(sessions_dir(env))
    data = json.dumps(session.to_json(), ensure_ascii=False, indent=1).encode("utf-8")
    write_atomic(path_for(env, session.name), data)


def _read(path: Path) -> dict[str, Any]:
    """A session file's JSON object; ``ValueError`` (or ``OSError``) when it is not one."""
    try:
        data = json.loads(read_limited(path, MAX_SESSION_BYTES).decode("utf-8"))
    except TooLarge:
        raise NotASession(f"larger than {MAX_SESSION_BYTES // MiB} MiB") from None
    if not isinstance(data, dict):
        raise NotASession("not a JSON object")
    return data


def load(env: Mapping[str, str], name: str) -> Session | None:
    path = path_for(env, name)
    try:
        return Session.from_json(_read(path))
    except FileNotFoundError:
        return None
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise UsageError(
            f"session file {path} is not a session ({exc})", "move it away or use another name"
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot read session file {path}: {exc.strerror}") from None


def listing(env: Mapping[str, str]) -> list[SessionInfo]:
    """Sessions, most recently updated first; unreadable files are skipped."""
    folder = sessions_dir(env)
    if not folder.is_dir():
        return []
    found: list[tuple[datetime, datetime, SessionInfo]] = []
    for path in folder.glob("*.json"):
        try:
            data = _read(path)
            turns = Session.from_json(data).turns
            modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except (OSError, ValueError):
            continue
        # Recorded times have whole seconds: a tie goes to the file written last.
        updated = _recorded_time(data) or modified
        first = (turns[0].prompt if turns else "").strip().split("\n")[0]
        model = str(turns[-1].model) if turns else ""
        found.append((updated, modified, SessionInfo(path.stem, updated, model, len(turns), first)))
    found.sort(key=lambda entry: (entry[0], entry[1]), reverse=True)
    return [info for _, _, info in found]


def _recorded_time(data: Mapping[str, Any]) -> datetime | None:
    """When the session was last updated by its own account: its last turn's ``ts``, else
    ``created``; ``None`` in files from before sessions recorded them."""
    turns = data.get("turns") or []
    last = turns[-1] if isinstance(turns, list) and turns else {}
    for stamp in (last.get("ts") if isinstance(last, dict) else None, data.get("created")):
        if not isinstance(stamp, str):
            continue
        try:
            moment = datetime.fromisoformat(stamp)
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def latest(env: Mapping[str, str]) -> str | None:
    found = listing(env)
    return found[0].name if found else None
