"""Answers written into generated files: quoted so that every reader takes them as the text they are."""

from __future__ import annotations

import json


def quoted(value: object) -> str:
    """A double-quoted string that is valid in YAML, TOML and Python alike, on one line: every
    character that is not printable (controls, DEL, line separators) is a \\u or \\U escape."""
    return "".join(
        char
        if char.isprintable() or char == " "
        else f"\\u{ord(char):04x}"
        if ord(char) <= 0xFFFF
        else f"\\U{ord(char):08x}"
        for char in json.dumps(str(value), ensure_ascii=False)
    )


def dockerfile_quoted(value: object) -> str:
    """A double-quoted Dockerfile word, taken literally: no variable expansion, one line."""
    text = " ".join(str(value).split())
    for special in ("\\", '"', "$"):
        text = text.replace(special, "\\" + special)
    return f'"{text}"'
