"""The schema extensions' hooks of one stage, run as Strawberry runs them, made cheaper.

Strawberry builds, for every stage of every operation (operation, parsing,
validation, execution, each streamed result), a context manager that asks
every extension whether it has the hook (`inspect`), wraps each one it has
with `contextlib.contextmanager` (which copies the function's metadata) and
enters them on an `AsyncExitStack`. A status-page subscribe or a read by key
pays that four or five times. Here the inspection and wrapping are done once
per extension class; per operation only the hooks themselves are entered, on
a plain `ExitStack`, in the same order, seeing the same exceptions (they are
still `contextmanager`s), and never swallowing one, as Strawberry's never do.
Only for hooks that are plain generator functions, as all of this service's
are; anything else is left to Strawberry.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, cast

from strawberry.extensions import SchemaExtension

Hook = Callable[..., contextlib.AbstractContextManager[None]]

STAGES = ("on_operation", "on_parse", "on_validate", "on_execute", "on_stream_result")


def _override(extension_type: type[Any], stage: str) -> Callable[..., Any] | None:
    """The class's own hook for `stage`; None when it keeps SchemaExtension's."""
    function: Callable[..., Any] = getattr(extension_type, stage)
    return None if function is getattr(SchemaExtension, stage) else function


@cache
def stage_hook(extension_type: type[Any], stage: str) -> Hook | None:
    """The class's hook for `stage` as a context manager factory taking the extension
    (and, for `on_stream_result`, the result); None when the class does not override it."""
    function = _override(extension_type, stage)
    return contextlib.contextmanager(function) if function is not None else None


def lean(extensions: list[SchemaExtension]) -> bool:
    """Whether every hook of these extensions is a plain generator function (so this
    module can run them); if not, Strawberry's own context managers must."""
    return _lean(tuple(cast(type, type(e)) for e in extensions))


@cache
def _lean(extension_types: tuple[type[Any], ...]) -> bool:
    hooks = (_override(t, stage) for t in extension_types for stage in STAGES)
    return all(h is None or inspect.isgeneratorfunction(h) for h in hooks)


class StageHooks:
    """One stage's hooks, entered in the extensions' order and left in reverse; usable
    with `with` and `async with`, as Strawberry's stage context managers are.

    Between the two only the entered context managers are kept, not an ExitStack
    (with its deque and callbacks): a subscription's `on_operation` stage stays
    entered for the subscription's life. The exit is an ExitStack's, made then."""

    __slots__ = ("_args", "_entered", "_hooks")

    def __init__(self, hooks: list[tuple[Hook, SchemaExtension]], *args: Any) -> None:
        self._hooks = hooks
        self._args = args
        self._entered: tuple[contextlib.AbstractContextManager[None], ...] = ()

    def __enter__(self) -> None:
        if not self._hooks:
            return
        entered: list[contextlib.AbstractContextManager[None]] = []
        try:
            for hook, extension in self._hooks:
                manager = hook(extension, *self._args)
                manager.__enter__()
                entered.append(manager)
        except BaseException as exc:
            # The hooks entered before are exited (Strawberry's would stay suspended
            # until collected); the failure goes on either way.
            _leave(entered, type(exc), exc, exc.__traceback__)
            raise
        self._entered = tuple(entered)

    def __exit__(self, *exc: Any) -> None:
        # None, as Strawberry's stage managers return: a hook cannot swallow the
        # exception of the stage it wraps.
        entered, self._entered = self._entered, ()
        _leave(entered, *exc)

    async def __aenter__(self) -> None:
        self.__enter__()

    async def __aexit__(self, *exc: Any) -> None:
        self.__exit__(*exc)


def _leave(entered: Sequence[contextlib.AbstractContextManager[None]], *exc: Any) -> None:
    """Exit `entered` in reverse, as an ExitStack does, ignoring whether one swallowed."""
    stack = contextlib.ExitStack()
    for manager in entered:
        stack.push(manager)
    stack.__exit__(*exc)


def hooks_of(extensions: list[SchemaExtension], stage: str) -> list[tuple[Hook, SchemaExtension]]:
    """The extensions' hooks for `stage`, in order."""
    found = []
    for extension in extensions:
        # cast: mypy takes a class for unhashable when its instances define __eq__.
        hook = stage_hook(cast(type, type(extension)), stage)
        if hook is not None:
            found.append((hook, extension))
    return found
