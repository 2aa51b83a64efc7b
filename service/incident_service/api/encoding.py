"""JSON out, for every GraphQL answer over HTTP and websockets.

orjson encodes an answer several times faster than the standard library; what
it refuses (an integer past 64 bits inside a JSON scalar, a key that is not a
string) goes to the standard library, which writes the same compact JSON.
Always text: a websocket message must go as a text frame.
"""

from __future__ import annotations

import json

import orjson


def dumps(value: object) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        # ASCII: a lone surrogate (which orjson refuses) is escaped, not left to fail
        # when the text is sent.
        return json.dumps(value, separators=(",", ":"))
