"""Desktop notifications through the terminal: OSC 9 or OSC 777, wrapped for tmux.

Why the terminal and not a notification daemon: the app may run over SSH or in a container,
where only the terminal reaches the person's desktop. OSC 9 (`ESC ] 9 ; text BEL`) is shown
by iTerm2, WezTerm, Ghostty, kitty and Windows Terminal; OSC 777 (`ESC ] 777 ; notify ;
title ; text BEL`) by foot, rxvt-unicode, WezTerm, Ghostty and VTE terminals that carry the
notify patch (the config key `desktop_notify` picks one). A terminal that knows neither
ignores it; the bell still rings. Inside tmux the sequence reaches the outer terminal only
wrapped in a DCS passthrough (`ESC P tmux ; … ESC \\`, every ESC inside doubled) and with
`allow-passthrough` on the app's own pane (facts §9, verified on tmux 3.3a).
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_TEXT = 200


def clean(text: str) -> str:
    """No control character may end the sequence early (or start another)."""
    return _CONTROL.sub(" ", text)[:MAX_TEXT]


def osc(mode: str, title: str, body: str) -> str:
    """The notification escape for `mode` (`osc9` or `osc777`); "" for `off`."""
    if mode == "osc9":
        return f"\x1b]9;{clean(f'{title}: {body}')}\x07"
    if mode == "osc777":
        return f"\x1b]777;notify;{clean(title).replace(';', ',')};{clean(body)}\x07"
    return ""


def for_tmux(sequence: str) -> str:
    """`sequence` as tmux passes it through to the outer terminal."""
    return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"


def sequence(mode: str, title: str, body: str, *, in_tmux: bool) -> str:
    seq = osc(mode, title, body)
    return for_tmux(seq) if seq and in_tmux else seq
