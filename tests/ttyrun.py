"""Run the CLI with stdout on a pseudo-terminal, to see what a person at a terminal sees."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios


def run_in_terminal(cli, *args: str, columns: int = 160) -> str:
    """Run the CLI with stdout on a pseudo-terminal; returns what the terminal received."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {**cli.env, "TERM": "xterm-256color", "COLUMNS": str(columns)}
    proc = subprocess.Popen(
        cli.command(*args),
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cli.home,
    )
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 20)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    proc.wait(20)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    text = b"".join(chunks).decode("utf-8", "replace")
    cli.outputs.append(text)
    return text
