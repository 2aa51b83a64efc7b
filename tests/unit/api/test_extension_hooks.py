"""Stage hooks run as Strawberry runs them: in order, left in reverse, seeing exceptions."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from strawberry.extensions import SchemaExtension

from incident_service.api.extension_hooks import StageHooks, hooks_of, lean

Log = list[str]


def _recording(name: str, log: Log) -> SchemaExtension:
    class Recording(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            log.append(f"{name} enter")
            try:
                yield
            except ValueError as exc:
                log.append(f"{name} saw {exc}")
                raise
            log.append(f"{name} exit")

        def on_stream_result(self, result: Any) -> Iterator[None]:
            log.append(f"{name} result {result}")
            yield

    return Recording()


def test_hooks_enter_in_order_and_exit_in_reverse() -> None:
    log: Log = []
    extensions = [_recording("a", log), _recording("b", log)]
    with StageHooks(hooks_of(extensions, "on_operation")):
        log.append("body")
    assert log == ["a enter", "b enter", "body", "b exit", "a exit"]


def test_an_exception_reaches_every_hook_and_propagates() -> None:
    log: Log = []
    extensions = [_recording("a", log), _recording("b", log)]

    async def run() -> None:
        async with StageHooks(hooks_of(extensions, "on_operation")):
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        asyncio.run(run())
    assert log == ["a enter", "b enter", "b saw boom", "a saw boom"]


def test_a_stream_result_is_handed_to_each_hook() -> None:
    log: Log = []
    extensions = [_recording("a", log), _recording("b", log)]
    with StageHooks(hooks_of(extensions, "on_stream_result"), 42):
        pass
    assert log == ["a result 42", "b result 42"]


def test_a_stage_without_hooks_does_nothing() -> None:
    log: Log = []
    hooks = hooks_of([_recording("a", log)], "on_parse")
    assert hooks == []
    with StageHooks(hooks):
        log.append("body")
    assert log == ["body"]


def test_extensions_with_other_hooks_are_left_to_strawberry() -> None:
    class Plain(SchemaExtension):
        def on_operation(self) -> None:  # type: ignore[override]
            pass

    assert lean([_recording("a", [])])
    assert not lean([_recording("a", []), Plain()])


def _swallowing(log: Log) -> SchemaExtension:
    class Swallowing(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            try:
                yield
            except ValueError:
                log.append("swallowed")

    return Swallowing()


def test_a_hook_cannot_swallow_the_exception_of_its_stage() -> None:
    log: Log = []
    with (
        pytest.raises(ValueError, match="boom"),
        StageHooks(hooks_of([_swallowing(log)], "on_operation")),
    ):
        raise ValueError("boom")
    assert log == ["swallowed"]


def test_a_hook_that_fails_to_enter_fails_the_stage_and_earlier_hooks_are_exited() -> None:
    log: Log = []

    class Failing(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            raise ValueError("cannot start")
            yield  # pragma: no cover

    hooks = StageHooks(
        hooks_of([_recording("a", log), _swallowing(log), Failing()], "on_operation")
    )
    with pytest.raises(ValueError, match="cannot start"):
        hooks.__enter__()
    # Exited as an ExitStack exits them (the swallowing hook hides it from "a"), but the
    # failure itself still ends the stage.
    assert log == ["a enter", "swallowed", "a exit"]
