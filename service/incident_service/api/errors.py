"""Errors the client sees: a code on every error, unexpected ones masked with a request id.

* Pre-execution errors (parse, validation, the limits) get an
  `extensions.code` so clients can branch without parsing messages.
* Field suggestions ("Did you mean ...?") are stripped when disabled: they
  would otherwise reveal the schema that disabled introspection hides.
* Unexpected exceptions are logged with their traceback and the request
  id; the client receives only "Unexpected error." and that id.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.extensions import MaskErrors
from strawberry.schema.exceptions import InvalidOperationTypeError

from incident_service.domain.errors import DomainError
from incident_service.observability import requestid

log = logging.getLogger("incident_service.errors")

_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")

# (message fragment, code), first match wins.
_CODES: tuple[tuple[str, str], ...] = (
    ("Document contains more than", "TOO_MANY_TOKENS"),
    ("Syntax Error", "GRAPHQL_PARSE_FAILED"),
    ("exceeds maximum operation depth", "QUERY_TOO_DEEP"),
    ("aliases found. Allowed", "TOO_MANY_ALIASES"),
    ("introspection has been disabled", "INTROSPECTION_DISABLED"),
    ("Variable '$", "BAD_USER_INPUT"),
)


def code_for(error: GraphQLError) -> str | None:
    """The code of an error raised before execution; None for execution errors."""
    if error.path is not None:
        return None
    original = error.original_error
    # A variable Strawberry could not coerce (a bad DateTime) carries that error; any
    # other original error was raised by the service itself.
    if original is not None and not isinstance(original, StrawberryInputCoercionError):
        return None
    for fragment, code in _CODES:
        if fragment in error.message:
            return code
    return "GRAPHQL_VALIDATION_FAILED"


_DEPTH = re.compile(r"exceeds maximum operation depth of (\d+)")


def clear_message(code: str, message: str) -> str:
    """Strawberry names the operation ('anonymous' when unnamed), which reads like a role."""
    if code == "QUERY_TOO_DEEP" and (m := _DEPTH.search(message)):
        return f"The query is too deep: the maximum depth is {m.group(1)}"
    return message


def strip_suggestions(message: str) -> str:
    return _SUGGESTION.sub("", message)


#: The legacy graphql-ws protocol runs subscriptions only (Strawberry's handler).
NOT_A_SUBSCRIPTION = (
    "Only subscriptions can be sent over the graphql-ws protocol: send queries and mutations "
    "over graphql-transport-ws or HTTP"
)


def code_errors(errors: list[GraphQLError] | None, suggestions: bool) -> None:
    """Give every pre-execution error its code and a clear message, in place."""
    for err in errors or []:
        if not suggestions:
            err.message = strip_suggestions(err.message)
        if err.extensions and "code" in err.extensions:
            continue
        if isinstance(err.original_error, InvalidOperationTypeError):
            err.message = NOT_A_SUBSCRIPTION
            err.extensions = {**(err.extensions or {}), "code": "OPERATION_NOT_SUPPORTED"}
            continue
        code = code_for(err)
        if code is not None:
            err.message = clear_message(code, err.message)
            err.extensions = {**(err.extensions or {}), "code": code}


def should_mask(error: GraphQLError) -> bool:
    """Mask only the unexpected: our own typed errors and GraphQL's are safe to show."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError | InvalidOperationTypeError):
        return False
    if isinstance(original, DomainError):
        return False
    return not (error.extensions and "code" in error.extensions)


def code_domain_errors(errors: list[GraphQLError] | None) -> None:
    """Give errors raised as DomainErrors their code and their own message, in place."""
    for err in errors or []:
        if isinstance(err.original_error, DomainError):
            err.message = err.original_error.message
            err.extensions = {**(err.extensions or {}), "code": err.original_error.code.value}


def error_policy(suggestions: bool) -> type[ErrorPolicy]:
    """The extension, with field suggestions kept or stripped."""

    class Configured(ErrorPolicy):
        keep_suggestions = suggestions

    return Configured


class ErrorPolicy(MaskErrors):
    """Every error the client sees, shaped once: coded, masked when unexpected, logged.

    One extension, not one per rule: every extension hook is a context manager
    made for each operation, and a subscription holds its `on_operation` open
    for its whole life, so each extra extension costs every one of thousands
    of status-page sockets. The three rules touch disjoint errors (a
    DomainError's, an unexpected exception's, a pre-execution error's), so
    their order does not matter.
    """

    keep_suggestions = False

    def __init__(self) -> None:
        super().__init__(should_mask_error=should_mask, error_message="Unexpected error.")

    def on_operation(self) -> Iterator[None]:
        self._stream_result_processed = False
        yield
        result = self.execution_context.result
        if not self._stream_result_processed:
            # Masks the operation's result (MaskErrors); a streamed one was
            # shaped result by result already.
            code_domain_errors(getattr(result, "errors", None))
            self._process_result(result)
        code_errors(getattr(result, "errors", None), self.keep_suggestions)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        # Websocket operations: their results, refusals included, never reach
        # on_operation's result, and errors of a stream never pass on_execute.
        self._stream_result_processed = True
        code_domain_errors(getattr(result, "errors", None))
        self._process_stream_result(result)
        code_errors(getattr(result, "errors", None), self.keep_suggestions)
        yield

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        """Log what is hidden, with its traceback; the client gets the request id."""
        rid = requestid.current() or requestid.new()
        original = error.original_error
        log.error(
            "unexpected error at %s (request %s): %r",
            ".".join(str(p) for p in error.path or []) or "-",
            rid,
            original,
            exc_info=(type(original), original, original.__traceback__) if original else None,
            extra={"request_id": rid},
        )
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": rid}
        return masked


def log_client_errors(errors: list[GraphQLError]) -> None:
    """One INFO line for a request's client errors, without a traceback.

    The unexpected ones are left to ErrorPolicy, which logs each at ERROR with
    its traceback and request id; a client error is the client's to fix, and a
    document of a thousand bad directives must not write a thousand tracebacks.
    """
    expected = [e for e in errors if not should_mask(e)]
    if not expected or not log.isEnabledFor(logging.INFO):
        return
    first = expected[0]
    # Logged before ErrorPolicy has coded the errors (it does so as the operation ends).
    original = first.original_error
    code = (
        (first.extensions or {}).get("code")
        or (original.code.value if isinstance(original, DomainError) else None)
        or code_for(first)
        or "-"
    )
    log.info(
        "%d client error(s) (request %s), first %s: %s",
        len(expected),
        requestid.current() or "-",
        code,
        first.message[:200],
    )
