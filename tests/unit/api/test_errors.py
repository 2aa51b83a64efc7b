"""Error codes of pre-execution errors, and suggestions stripped when off."""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.exceptions import StrawberryInputCoercionError

from incident_service.api.errors import clear_message, code_for, strip_suggestions


def test_error_codes_of_pre_execution_errors() -> None:
    assert code_for(GraphQLError("Syntax Error: Unexpected Name")) == "GRAPHQL_PARSE_FAILED"
    assert (
        code_for(GraphQLError("Syntax Error: Document contains more than 10 tokens."))
        == "TOO_MANY_TOKENS"
    )
    assert code_for(GraphQLError("'q' exceeds maximum operation depth of 3")) == "QUERY_TOO_DEEP"
    assert code_for(GraphQLError("31 aliases found. Allowed: 30")) == "TOO_MANY_ALIASES"
    assert code_for(GraphQLError("Variable '$x' got invalid value 1")) == "BAD_USER_INPUT"
    assert code_for(GraphQLError("Cannot query field 'x'")) == "GRAPHQL_VALIDATION_FAILED"
    assert code_for(GraphQLError("boom", path=["a"])) is None
    assert clear_message("QUERY_TOO_DEEP", "'anonymous' exceeds maximum operation depth of 3") == (
        "The query is too deep: the maximum depth is 3"
    )


def test_suggestions_are_stripped() -> None:
    assert strip_suggestions(
        "Cannot query field 'titel' on type 'Incident'. Did you mean 'title'?"
    ) == ("Cannot query field 'titel' on type 'Incident'.")
    assert (
        strip_suggestions(
            "Value 'HIGHH' does not exist in 'Impact' enum. Did you mean the enum value 'HIGH'?"
        )
        == "Value 'HIGHH' does not exist in 'Impact' enum."
    )


def test_a_variable_that_cannot_be_coerced_is_bad_user_input() -> None:
    original = StrawberryInputCoercionError("Value cannot represent a DateTime")
    error = GraphQLError(
        "Variable '$i' has invalid value at .when: Value cannot represent a DateTime",
        original_error=original,
    )
    assert code_for(error) == "BAD_USER_INPUT"
    assert code_for(GraphQLError("boom", original_error=RuntimeError("x"))) is None
