"""The one JSON-pointer module: `*` fans out, MISSING is not None, runtime expressions read exchanges."""

from __future__ import annotations

import pickle

import pytest

from conformance import pointers
from conformance.pointers import MISSING


def test_pointers_fan_out_over_arrays_and_keep_missing_apart_from_null():
    body = {"callbacks": [{"s": "A"}, {"s": "B"}], "x": {"y": 1, "n": None}, "a/b": {"~": 2}}
    assert pointers.resolve_all(body, "/callbacks/*/s") == ["A", "B"]
    assert pointers.resolve_all(body, "") == [body] == pointers.resolve_all(body, "#/")
    assert pointers.resolve(body, "/x/y") == 1
    assert pointers.resolve(body, "/x/n") is None and pointers.resolve(body, "/x/z") is MISSING
    assert pointers.resolve(body, "/a~1b/~0") == 2
    pointers.set_value(body, "/x/z/w", 2)
    assert body["x"]["z"] == {"w": 2}
    assert pointers.join(pointers.split("/a~1b/~0")) == "/a~1b/~0"
    assert pointers.concrete_paths(body, "/callbacks/*/s") == [["callbacks", 0, "s"], ["callbacks", 1, "s"]]
    with pytest.raises(ValueError):
        pointers.set_value(body, "", 1)


def test_runtime_expressions_read_one_exchange():
    request = {"headers": {"Request-Id": "r1"}, "query": {"q": "1"}, "path": {"id": "p"}, "body": {"a": [1, 2]}}
    assert pointers.evaluate("$request.header.request-id", request=request) == ["r1"]
    assert pointers.evaluate("$request.body#/a/*", request=request) == [1, 2]
    assert pointers.evaluate_one("$response.body#/x", request=request, response={"x": 0}) == 0
    assert pointers.evaluate("$request.query.missing", request=request) == []
    assert pointers.expression_source("$request.path.id") == ("path", "id")
    with pytest.raises(ValueError):
        pointers.evaluate("not-an-expression", request=request)


def test_missing_survives_pickling_as_itself():
    assert pickle.loads(pickle.dumps(MISSING)) is MISSING
