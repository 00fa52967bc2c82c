"""The student's side of autograding: run the student's code on inputs the grader sends.

In ``nbgrader autograde`` the test cells do not run in the student's kernel: the grader
runs them, and each call of a student's function arrives here as one message (a user
expression). We run the call in the kernel's namespace and return the answer as plain
data (:mod:`reglab.wire`). Nothing here knows what the right answer is.

The grader sends this module's source with :mod:`reglab.wire` (:func:`source`), so it
does not depend on what the student's kernel would import as ``reglab``. Whatever the
student's code does to it only changes the answers that code gives.
"""

import builtins
from typing import Any

from reglab import wire  # in the kernel: the sent copy of wire (see source())

_OBJECTS: dict[int, Any] = {}  # objects the grader holds a reference to, by number


def _refer(value: Any) -> wire.Ref:
    key = id(value)
    _OBJECTS[key] = value
    kind = "class" if isinstance(value, type) else "callable" if callable(value) else "object"
    return wire.Ref(key, kind, type(value).__name__ if kind != "class" else value.__name__)


def _resolve(ref: wire.Ref) -> Any:
    if ref.ref not in _OBJECTS:
        raise wire.WireError("a reference to an object this kernel does not hold")
    return _OBJECTS[ref.ref]


def _raised(exc: BaseException) -> dict:
    names = [k.__name__ for k in type(exc).__mro__
             if getattr(builtins, k.__name__, None) is k]
    return {"type": type(exc).__name__, "builtins": names, "message": str(exc)[:4000]}


def _after(args: list, kwargs: dict) -> list:
    """The arguments a call may have changed in place (arrays, generators, dicts, lists),
    as sent back."""
    changed = [[i, v] for i, v in enumerate(args)] + [[k, v] for k, v in kwargs.items()]
    return [[key, wire.encode(v, _refer)] for key, v in changed
            if isinstance(v, wire.np.ndarray | wire.np.random.Generator | dict | list)]


def _answer(namespace: dict, request: dict) -> tuple[Any, list | None]:
    """The value a request asks for, and the arguments a call changed (None otherwise)."""
    op = request.get("op")
    if op == "bind":
        return {name: namespace[name] for name in request["names"] if name in namespace}, None
    if op == "define":
        scope = dict(namespace)
        exec(compile(request["source"], f"<test helper {request['name']}>", "exec"), scope)
        return scope[request["name"]], None
    target = wire.decode(request["target"], _resolve)
    if op == "getattr":
        return getattr(target, request["name"]), None
    if op == "call":
        args = wire.decode(request["args"], _resolve)
        kwargs = wire.decode(request["kwargs"], _resolve)
        return target(*args, **kwargs), _after(args, kwargs)
    raise wire.WireError(f"unknown request {op!r}")


def serve(namespace: dict, text: str) -> str:
    """Answer one request of the grader (the value of the grader's user expression)."""
    request = wire.loads(text)
    try:
        value, after = _answer(namespace, request)
        reply = {"id": request.get("id"), "ok": wire.encode(value, _refer), "after": after}
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - the grader judges what was raised
        reply = {"id": request.get("id"), "raised": _raised(exc)}
    return wire.dumps(reply)


def source() -> str:
    """This module and :mod:`reglab.wire` as one source, for the grader to send."""
    from pathlib import Path

    here = Path(__file__).parent
    own = Path(__file__).read_text().replace(
        "from reglab import wire  # in the kernel: the sent copy of wire (see source())\n",
        "wire = __import__('types').SimpleNamespace(**globals())\n")
    return (here / "wire.py").read_text() + "\n" + own
