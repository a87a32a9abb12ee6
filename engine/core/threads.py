"""`map` over a few threads, and two calls at once, for work that waits on git processes.

Not `concurrent.futures`: its import (with `logging`, which it loads) costs a light verb such as
`check` a few ms of a ~60 ms start, and these callers need only an ordered map that re-raises.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
A = TypeVar("A")
B = TypeVar("B")


def thread_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
    """`[fn(x) for x in items]`, `workers` at a time, in order; the first exception is raised
    once every item has been tried (as `ThreadPoolExecutor.map` in a `with` block would)."""
    todo = list(enumerate(items))
    results: dict[int, R] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                if not todo:
                    return
                index, item = todo.pop(0)
            try:
                results[index] = fn(item)
            except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
                errors.append(exc)

    count = len(todo)
    threads = [threading.Thread(target=work) for _ in range(max(1, min(workers, count)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return [results[i] for i in range(count)]


def both(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    """`(first(), second())`, the second on a thread of its own while the first runs here; an
    exception of either is raised once both have ended (the first's, if both raise)."""
    out: list[B] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            out.append(second())
        except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    try:
        result = first()
    finally:
        thread.join()
    if errors:
        raise errors[0]
    return result, out[0]
