"""Refuse JSON nested deeper than the JSON-LD parser can read without overflowing its stack."""

from __future__ import annotations

import re
from itertools import accumulate

from .errors import DataSyntaxError

# The engine's JSON-LD parser recurses into objects: a few thousand levels crash the server.
# Real JSON-LD documents are a few dozen levels deep at most.
MAX_JSON_NESTING = 128

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(data: bytes) -> int:
    """Return how deeply the arrays and objects of a JSON text nest (brackets inside strings ignored)."""
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def check_json_nesting(data: bytes, what: str = "the JSON-LD data") -> None:
    """Raise DataSyntaxError when the JSON nests deeper than MAX_JSON_NESTING."""
    depth = json_depth(data)
    if depth > MAX_JSON_NESTING:
        raise DataSyntaxError(f"{what} nests objects and arrays {depth} levels deep; the limit is {MAX_JSON_NESTING}")
