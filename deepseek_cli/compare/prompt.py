"""The judge's prompt, alone: ``compare --help`` shows it, and ``deepseek --help`` builds
every command's help, so this must cost nothing to import (the judge itself does not)."""

JUDGE_PROMPT = """\
You are judging two answers to the same question. Decide which answer is better: more
correct first, then more complete and clear. Reply with one word only: A if answer A is
better, B if answer B is better, or tie if they are equally good.

Question:
<<<
{question}
>>>

Answer A:
<<<
{a}
>>>

Answer B:
<<<
{b}
>>>"""
