"""The Claude planner: asks the Messages API for the split through one forced tool call.

Imported only by `engine.claude.planners`, and only when chosen, because `import anthropic` takes
about a second and `plan --planner offline` or `table` should not pay it.

One request drafts the plan; if two subtasks share a file, one more request names the
overlaps (the previous answer goes back as the assistant's tool call, the overlaps as
its tool result); overlaps that survive are merged. The SDK retries 429 and 5xx with
backoff (`planner_max_retries`) within `planner_timeout_s` per request. Any failure after
that is one line: under `auto` the offline planner drafts instead and the plan says why
(`fallback_reason`); under `claude` it is an ApiError. The key is read by the SDK from
ANTHROPIC_API_KEY and never enters a message, note, event or error we produce.
"""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anthropic

from engine.claude import prompt
from engine.claude.answer import (
    IncompleteAnswer,
    ReadAnswer,
    UnusableAnswer,
    read_answer,
    tidy,
    unknown_files,
)
from engine.core.config import ParallelConfig
from engine.core.errors import ApiError
from engine.core.models import Conventions, PlannerUsage, Subtask
from engine.planning.offline import OfflinePlanner
from engine.planning.overhead import parallel_minutes
from engine.planning.port import Draft, PlanRequest
from engine.planning.validation import find_overlaps, tracked_dirs

if TYPE_CHECKING:
    from anthropic.types import Message, MessageParam

MAX_TOKENS = 8192
"""Room for ten subtasks with file lists; small enough for a non-streaming call."""
_MAX_DETAIL = 160


class PlannerFailure(Exception):
    """Claude gave no usable plan: a one-line problem and the fix to suggest."""

    def __init__(self, problem: str, hint: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.hint = hint


@dataclass(slots=True)
class _Tally:
    """Tokens and request ids summed over every answered request."""

    input_tokens: int = 0
    output_tokens: int = 0
    request_ids: list[str] = field(default_factory=list)

    def add(self, reply: Message) -> None:
        self.input_tokens += reply.usage.input_tokens
        self.output_tokens += reply.usage.output_tokens
        self.request_ids.append(reply._request_id or reply.id)

    def usage(self) -> PlannerUsage | None:
        if not self.request_ids:
            return None
        return PlannerUsage(input_tokens=self.input_tokens, output_tokens=self.output_tokens,
                            request_ids=tuple(self.request_ids), requests=len(self.request_ids))


@dataclass(frozen=True, slots=True)
class _Tree:
    files: frozenset[str]
    dirs: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Trouble:
    ask: str
    """The repair request's text, for the model."""
    said: str
    """The same in a few words, for the plan's notes."""


class ClaudePlanner:
    name = "claude"

    def __init__(self, config: ParallelConfig, *, model: str | None = None,
                 fallback: bool = True) -> None:
        self.config = config
        self.model = model or config.planner_model
        self.fallback = fallback
        """True under `auto`: a failure becomes an offline plan that says why."""

    async def draft(self, request: PlanRequest) -> Draft:
        tally = _Tally()
        try:
            return await self._ask(request, tally)
        except PlannerFailure as failure:
            if not self.fallback:
                raise ApiError(failure.problem, hint=failure.hint) from None
            offline = await OfflinePlanner().draft(request)
            return Draft(subtasks=offline.subtasks, planner=offline.planner, notes=offline.notes,
                         usage=tally.usage(), fallback_reason=failure.problem)

    async def _ask(self, request: PlanRequest, tally: _Tally) -> Draft:
        key = os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN")
        if not key:
            raise PlannerFailure("ANTHROPIC_API_KEY is not set",
                                 "export ANTHROPIC_API_KEY, or use --planner offline")
        client = anthropic.AsyncAnthropic(timeout=self.config.planner_timeout_s,
                                          max_retries=self.config.planner_max_retries)
        minutes = round(parallel_minutes(request.estimate.sequential_minutes, request.splits,
                                         request.config), 1)
        tree = _Tree(files=frozenset(request.files), dirs=frozenset(tracked_dirs(request.files)))
        briefing = await asyncio.to_thread(prompt.rank_candidates, request)
        messages: list[MessageParam] = [{"role": "user", "content": prompt.user_prompt(request, briefing)}]
        async with client:
            reply = await self._call(client, messages, tally, key)
            first, trouble = self._check(reply, request, minutes, tree)
            if first is not None and trouble is None:
                return self._draft(first.subtasks, first.notes, tally, first.conventions)
            messages += [{"role": "assistant", "content": _as_params(reply)},
                         {"role": "user", "content": [{
                             "type": "tool_result", "tool_use_id": _tool_block(reply).id,
                             "is_error": True, "content": trouble.ask if trouble else ""}]}]
            second = await self._repair(client, messages, tally, key, request, minutes, first)
        notes = [*(first.notes if first else ()), f"asked Claude again: {trouble.said if trouble else ''}",
                 *second.notes]
        found = second.conventions or (first.conventions if first else None)
        return self._tidy(second.subtasks, notes, tree, tally, found)

    def _check(self, reply: Message, request: PlanRequest, minutes: float,
               tree: _Tree) -> tuple[ReadAnswer | None, _Trouble | None]:
        """The answer and what a repair request must fix: missing parts, shared or unknown files."""
        try:
            answer = self._read(reply, request, minutes, incomplete_ok=True)
        except IncompleteAnswer as exc:
            return None, _Trouble(ask=prompt.repair_prompt(incomplete=str(exc)), said=str(exc))
        overlaps = find_overlaps(answer.subtasks, tree.dirs)
        unknown = unknown_files(answer.subtasks, tree.files, tree.dirs)
        if not overlaps and not unknown:
            return answer, None
        said = []
        if overlaps:
            said.append(f"{len(overlaps)} file(s) were shared ({', '.join(o.file for o in overlaps)})")
        if unknown:
            missing = [p for paths in unknown.values() for p in paths]
            said.append(f"{len(missing)} file(s) to modify do not exist ({', '.join(missing)})")
        return answer, _Trouble(ask=prompt.repair_prompt(overlaps, unknown), said="; ".join(said))

    def _tidy(self, subtasks: tuple[Subtask, ...], notes: list[str], tree: _Tree,
              tally: _Tally, conventions: Conventions | None) -> Draft:
        """After the one repair round: drop files that still do not exist, merge what still overlaps."""
        return self._draft(*tidy(subtasks, notes, tree.files, tree.dirs), tally, conventions)

    async def _repair(self, client: anthropic.AsyncAnthropic, messages: list[MessageParam],
                      tally: _Tally, key: str, request: PlanRequest, minutes: float,
                      first: ReadAnswer | None) -> ReadAnswer:
        """The second answer; if it fails or is unusable, keep the first (its overlaps get merged),
        or fail when the first was incomplete too."""
        try:
            reply = await self._call(client, messages, tally, key)
            return self._read(reply, request, minutes)
        except PlannerFailure as failure:
            if first is None:
                raise
            return ReadAnswer(subtasks=first.subtasks, conventions=first.conventions,
                              notes=(*first.notes, f"kept the first answer: {failure.problem}"))

    async def _call(self, client: anthropic.AsyncAnthropic, messages: list[MessageParam],
                    tally: _Tally, key: str) -> Message:
        try:
            reply = await client.messages.create(
                model=self.model, max_tokens=MAX_TOKENS, system=prompt.SYSTEM,
                messages=messages, tools=[prompt.tool_schema()], tool_choice=prompt.tool_choice())
        except anthropic.AnthropicError as exc:
            raise _scrubbed(_failure(exc, self, key), key) from None
        except (ValueError, TypeError, AttributeError) as exc:  # a proxy or portal answering 200
            raise PlannerFailure(f"the Anthropic API answered with something that is not a message "
                                 f"({type(exc).__name__})",
                                 "check ANTHROPIC_BASE_URL, or use --planner offline") from None
        if not isinstance(reply, anthropic.types.Message) or reply.usage is None \
                or not isinstance(reply.content, list):
            raise PlannerFailure(f"the Anthropic API answered with a {type(reply).__name__} that is "
                                 "not a message", "check ANTHROPIC_BASE_URL, or use --planner offline")
        tally.add(reply)
        return reply

    def _read(self, reply: Message, request: PlanRequest, minutes: float, *,
              incomplete_ok: bool = False) -> ReadAnswer:
        """The parsed answer; IncompleteAnswer passes through when a repair round can follow."""
        try:
            block = _tool_block(reply)
            return read_answer(block.input, task=request.task, default_minutes=minutes)
        except IncompleteAnswer as exc:
            if incomplete_ok:
                raise
            raise PlannerFailure(f"Claude's answer was unusable after one repair request: {exc}"
                                 f"{_cut(reply)}", "try again, or use --planner offline") from None
        except UnusableAnswer as exc:
            raise PlannerFailure(f"Claude's answer was unusable: {exc}{_cut(reply)}",
                                 "try again, or use --planner offline") from None

    def _draft(self, subtasks: tuple[Subtask, ...], notes: tuple[str, ...], tally: _Tally,
               conventions: Conventions | None = None) -> Draft:
        return Draft(subtasks=subtasks, planner=self.name, notes=notes, usage=tally.usage(),
                     conventions=conventions)


def _cut(reply: Message) -> str:
    return " (cut off at max_tokens)" if reply.stop_reason == "max_tokens" else ""


def _tool_block(reply: Message) -> Any:
    """The `emit_plan` call in the answer, or UnusableAnswer."""
    for block in reply.content:
        if block.type == "tool_use" and block.name == prompt.TOOL_NAME:
            return block
    raise UnusableAnswer(f"no {prompt.TOOL_NAME} tool call in the answer")


def _as_params(reply: Message) -> list[Any]:
    """The answer's blocks as request params, to send it back as the assistant's turn."""
    out: list[Any] = []
    for block in reply.content:
        if block.type == "tool_use":
            out.append({"type": "tool_use", "id": block.id, "name": block.name, "input": block.input})
        elif block.type == "text":
            out.append({"type": "text", "text": block.text})
    return out


def _failure(exc: anthropic.AnthropicError, planner: ClaudePlanner, key: str) -> PlannerFailure:
    """One line per kind of failure, with the fix; never the key, even if echoed back."""
    retries = planner.config.planner_max_retries
    after = f" after {retries} retr{'y' if retries == 1 else 'ies'}" if retries else ""
    if isinstance(exc, anthropic.APITimeoutError):
        return PlannerFailure(
            f"no answer from the Anthropic API within {planner.config.planner_timeout_s:g}s{after}",
            "raise planner_timeout_s, or use --planner offline")
    if isinstance(exc, anthropic.APIConnectionError):
        return PlannerFailure(f"cannot reach the Anthropic API{after}",
                              "check the network (or ANTHROPIC_BASE_URL), or use --planner offline")
    if not isinstance(exc, anthropic.APIStatusError):
        return PlannerFailure(_scrub(f"the Anthropic client failed: {exc}", key),
                              "use --planner offline")
    what = f"{exc.status_code} {exc.type or 'error'}"
    detail = _scrub(str(exc.api_message or ""), key)[:_MAX_DETAIL]
    request_id = f", request {exc.request_id}" if exc.request_id else ""
    tail = f"{request_id}){': ' + detail if detail else ''}"
    if isinstance(exc, anthropic.AuthenticationError | anthropic.PermissionDeniedError):
        return PlannerFailure(f"the Anthropic API refused the key ({what}{tail}",
                              "check ANTHROPIC_API_KEY, or use --planner offline")
    if isinstance(exc, anthropic.NotFoundError):
        return PlannerFailure(f"model {planner.model!r} was not found ({what}{tail}",
                              "set planner_model or pass --model with a model your key can use")
    if isinstance(exc, anthropic.RateLimitError | anthropic.InternalServerError):
        return PlannerFailure(f"the Anthropic API kept failing ({what}{tail}{after}",
                              "wait and try again, raise planner_max_retries, or use --planner offline")
    return PlannerFailure(f"the Anthropic API rejected the request ({what}{tail}",
                          "use --planner offline, and report this if it persists")


_KEY_LIKE = re.compile(r"sk-ant-[A-Za-z0-9_\-]+")


def _scrub(text: str, key: str) -> str:
    """Remove the key (and anything shaped like one, or a long part of it) and fold newlines,
    so the line is safe to print and one line long."""
    if key:
        text = text.replace(key, "[key]")
        if len(key) >= 16:  # an echo may be cut short: mask any 12-char run of the key
            for i in range(len(key) - 11):
                text = text.replace(key[i:i + 12], "[key]")
    return " ".join(_KEY_LIKE.sub("[key]", text).split())


def _scrubbed(failure: PlannerFailure, key: str) -> PlannerFailure:
    """The whole composed line is scrubbed: type, request id and message all came from the wire."""
    return PlannerFailure(_scrub(failure.problem, key), failure.hint)
