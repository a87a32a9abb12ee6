"""Calls answered before argparse loads (`engine.cli.main` asks first): scripts and slash
commands make them often, and argparse with the Engine costs them more than the answer.

`plain_call` recognises the exact words such a call may have; anything else (an abbreviation,
`--`, a flag it does not know, a repeated option) goes through the parser, which then behaves
as it always does, errors included. `status` answers `status --json` from the supervisor's
snapshot (`engine.run.snapshot_read`); a cached `analyze --json` is `analyze_cmd.fast`.
"""

from __future__ import annotations


def plain_call(argv: list[str], verb: str, options: tuple[str, ...]) -> dict[str, str] | None:
    """The values of `options` in exactly `VERB --json` plus each of them at most once (as
    `--opt V` or `--opt=V`, V not empty and not starting with `-`), in any order; None for
    any other words."""
    if argv[:1] != [verb]:
        return None
    words, found, flagged = argv[1:], {}, False
    while words:
        word, words = words[0], words[1:]
        if word == "--json" and not flagged:
            flagged = True
            continue
        name, eq, value = word.partition("=")
        if name not in options or name in found:
            return None
        if not eq:
            if not words:
                return None
            value, words = words[0], words[1:]
        if not value or value.startswith("-"):
            return None
        found[name] = value
    return found if flagged else None


def status(argv: list[str]) -> int | None:
    """`status --json [--repo P] [--run ID]` printed from the run's snapshot, or None: the
    normal path answers (`engine.run.snapshot_read.status_json` says when)."""
    found = plain_call(argv, "status", ("--repo", "--run"))
    if found is None:
        return None
    from engine.run.snapshot_read import status_json  # noqa: PLC0415 - only for this call

    text = status_json(found.get("--repo", "."), found.get("--run"))
    if text is None:
        return None
    print(text)
    return 0
