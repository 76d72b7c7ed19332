"""API key lookup: ``api_key_cmd``, else the environment variable, else a key in a private file.

Every key found is registered with the redactor before it is returned, so no later message,
record or traceback can show it. A key in a config file that group or others can read is
refused (exit 78), and ``api_key_cmd``'s output is never echoed.

A key's form is checked before any request: one line of printable ASCII. A ``pass show``
entry with more lines, a key pasted with a stray character, or one with a non-ASCII letter
would otherwise go into the ``Authorization`` header, where the HTTP library rejects it with
an error quoting the header (the key's tail and the lines after it), is retried as a network
error and ends as "provider unavailable". The error names where the key came from and what
is wrong with it, and shows none of it.
"""

from __future__ import annotations

import os
import select
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from deepseek_cli.config.files import ConfigFile
from deepseek_cli.config.profiles import Profile
from deepseek_cli.errors import ConfigError
from deepseek_cli.redaction import register_secret
from deepseek_cli.safefile import size_text

# What api_key_cmd may print: a key is a few hundred bytes; a command printing more than
# this is not printing a key (``cat /dev/zero``, the wrong command).
MAX_KEY_COMMAND_OUTPUT = 64 * 1024
MAX_KEY_LENGTH = 4096
KEY_COMMAND_TIMEOUT = 30.0


@dataclass(frozen=True)
class ApiKey:
    value: str = field(repr=False)
    source: str


def _missing_key_hint(profile: Profile) -> str:
    if profile.provider == "dashscope":
        return (
            f"set {profile.api_key_env} to a key from the {profile.region_name} region "
            "(DashScope keys only work in the region that issued them)"
        )
    return f"set {profile.api_key_env} or api_key_cmd in the profile"


def resolve_api_key(profile: Profile, env: Mapping[str, str], config: ConfigFile) -> ApiKey | None:
    """Find the key: ``api_key_cmd``, else the env var, else ``api_key`` in a private file.

    Returns ``None`` only for OpenAI-compatible profiles, where a local server needs no key.
    """
    key: ApiKey | None = None
    if profile.api_key_cmd:
        key = ApiKey(_run_key_command(profile), "api_key_cmd")
    elif profile.api_key_env and env.get(profile.api_key_env):
        key = ApiKey(env[profile.api_key_env], f"env {profile.api_key_env}")
    elif profile.file_api_key:
        if not config.private:
            raise ConfigError(
                f"{config.path} holds an API key but is readable by group or others",
                f"run: chmod 600 {config.path}",
            )
        key = ApiKey(profile.file_api_key, f"config file {config.path}")
    if key is not None:
        where = (
            f"api_key_cmd of profile '{profile.name}'"
            if key.source == "api_key_cmd"
            else key.source
        )
        return ApiKey(checked_key(key.value, where), key.source)
    if profile.provider == "openai":
        return None
    raise ConfigError(f"no API key for profile '{profile.name}'", _missing_key_hint(profile))


def checked_key(value: str, where: str) -> str:
    """``value`` without surrounding whitespace, registered with the redactor, when it has a
    key's form; else exit 78 naming ``where`` it came from and what is wrong, never the key."""
    key = value.strip()
    for piece in key.splitlines():
        register_secret(piece.strip())
    register_secret(key)
    problem = None
    if not key:
        problem = "is empty"
    elif "\n" in key or "\r" in key:
        lines = len(key.splitlines())
        problem = f"has {lines} lines; a key is one line"
    elif not key.isascii():
        problem = "contains a non-ASCII character"
    elif not key.isprintable() or any(c.isspace() for c in key):
        problem = "contains a space or a control character"
    elif len(key) > MAX_KEY_LENGTH:
        problem = f"is longer than {MAX_KEY_LENGTH} characters"
    if problem is None:
        return key
    hint = "set it to the key alone"
    if where.startswith("api_key_cmd"):
        hint = "make the command print only the key, e.g. `pass show NAME | head -n 1`"
    shown = "" if not key else " (not shown)"
    raise ConfigError(f"the API key from {where} {problem}{shown}", hint)


def _run_key_command(profile: Profile) -> str:
    """What ``api_key_cmd`` printed, read with a bound and a deadline; its output is never
    echoed (it may be a key)."""
    assert profile.api_key_cmd is not None
    where = f"profile '{profile.name}': api_key_cmd"
    proc = subprocess.Popen(
        profile.api_key_cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert proc.stdout is not None
    out = bytearray()
    deadline = time.monotonic() + KEY_COMMAND_TIMEOUT
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConfigError(f"{where} timed out after {KEY_COMMAND_TIMEOUT:g} s")
            if not select.select([proc.stdout], [], [], left)[0]:
                continue
            data = os.read(proc.stdout.fileno(), 65536)
            if not data:
                break
            out += data
            if len(out) > MAX_KEY_COMMAND_OUTPUT:
                raise ConfigError(
                    f"{where} printed more than {size_text(MAX_KEY_COMMAND_OUTPUT)}; "
                    "that is not a key"
                )
        code = proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
    except subprocess.TimeoutExpired:
        raise ConfigError(f"{where} timed out after {KEY_COMMAND_TIMEOUT:g} s") from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    value = out.decode("utf-8", "replace").strip()
    if code != 0 or not value:
        raise ConfigError(
            f"{where} failed (exit {code}, {'no output' if not value else 'output ignored'})"
        )
    return value
