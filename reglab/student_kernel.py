"""The student's kernel as the grader sees it: requests out, plain data back.

:class:`Student` sends each call of a test to the student's kernel as one user
expression (:mod:`reglab.remote` answers it there) and decodes the plain data that comes
back (:mod:`reglab.wire`); an object the student's code made stays in that kernel and is
used through a :class:`Handle`.
"""

import ast
import builtins
import itertools
import json
import textwrap
import time
from typing import Any

import numpy as np

from reglab import remote, wire

SERVER = remote.source()  # what answers the calls in the student's kernel


class StudentCodeError(BaseException):
    """The student's kernel could not answer a call (it stopped or sent junk).

    Not an ``Exception``: a test that expects the student's code to raise (``assert_raises``)
    must not take a time-out or a dead kernel for that error; it ends the test cell."""


class CellTimeoutError(StudentCodeError):
    """The student's code ran past the cell's time limit (named as nbgrader names it)."""


def _exception(raised: dict) -> BaseException:
    """The exception the student's code raised, as the nearest builtin type."""
    kind = next((getattr(builtins, n) for n in raised.get("builtins", [])
                 if isinstance(getattr(builtins, n, None), type)
                 and issubclass(getattr(builtins, n), BaseException)
                 and n not in {"KeyboardInterrupt", "SystemExit", "GeneratorExit"}), Exception)
    message = str(raised.get("message", ""))
    if kind is AssertionError:  # an assertion of the student's own code, not a test's
        kind = Exception
    exc = kind.__new__(kind)
    exc.args = (f"{message} (raised in your code as {raised.get('type', '?')})",)
    return exc


class Handle:
    """An object of the student's kernel, used from the grader by calls and attributes."""

    def __init__(self, student: "Student", ref: wire.Ref) -> None:
        object.__setattr__(self, "_student", student)
        object.__setattr__(self, "_ref", ref)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._student.request("call", target=self, args=list(args), kwargs=kwargs,
                                     writeback=(args, kwargs))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._student.request("getattr", target=self, name=name)

    def __repr__(self) -> str:
        return f"<student's {self._ref.type_name}>"


class Student:
    """The student's kernel, seen from the grader: requests out, plain data back."""

    def __init__(self, executor: Any, index: int) -> None:
        self.executor, self.index = executor, index
        self.limit = executor.timeout
        self.deadline = time.monotonic() + self.limit if self.limit else None
        self.ids = itertools.count()
        self.ignored = 0  # outputs of the kernel that were not the reply to a pending call
        self.calls, self.waited = 0, 0.0  # requests sent, seconds spent waiting for replies

    def _refer(self, value: Any) -> wire.Ref:
        if isinstance(value, Handle):
            return object.__getattribute__(value, "_ref")
        raise wire.WireError(
            f"a {type(value).__name__} made by the test cannot be sent to the student's code; "
            "define it in the test cell with @_g.in_student")

    def _resolve(self, ref: wire.Ref) -> Handle:
        return Handle(self, ref)

    def request(self, op: str, writeback: tuple | None = None, **fields: Any) -> Any:
        """Send one request and return the decoded answer (or raise what the code raised)."""
        ident = next(self.ids)
        message = {"id": ident, "op": op}
        for key, value in fields.items():
            message[key] = value if key in {"names", "name", "source"} else wire.encode(
                value, self._refer)
        reply = self._exchange(ident, wire.dumps(message))
        if "raised" in reply:
            raise _exception(reply["raised"])
        value = wire.decode(reply.get("ok"), self._resolve)
        if writeback is not None:
            self._write_back(writeback, reply.get("after") or [])
        return value

    def _exchange(self, ident: int, text: str) -> dict:
        """Send one request as a user expression and read the reply to it.

        A user expression is evaluated without the shell's input or AST transformers, and
        its value comes back in the execute reply, so nothing the student's code printed,
        displayed or hooked into its cells can pass for an answer.
        """
        expression = (
            "(lambda ns: ns.get('serve') or (exec(compile(" + json.dumps(SERVER) +
            ", '<reglab remote>', 'exec'), ns), ns['serve'])[1])(get_ipython().user_ns"
            ".setdefault('__reglab_remote__', {'__name__': '__reglab_remote__'}))"
            f"(get_ipython().user_ns, {json.dumps(text)})")
        executor = self.executor
        left = None if self.deadline is None else self.deadline - time.monotonic()
        if left is not None and left <= 0:
            raise CellTimeoutError(f"the cell ran past its limit of {self.limit} s")
        self.calls += 1
        start = time.perf_counter()
        try:
            executor.timeout = None if left is None else max(1, int(left))
            msg_id = executor.kc.execute("", silent=True, store_history=False,
                                         user_expressions={"r": expression})
            reply = executor.wait_for_reply(msg_id)
        except Exception as exc:  # noqa: BLE001 - a dead or stuck kernel
            raise StudentCodeError(f"the student's kernel did not answer ({exc})") from None
        finally:
            executor.timeout = self.limit
            self.waited += time.perf_counter() - start
        if reply is None:
            raise CellTimeoutError(f"the student's code ran past the cell's limit of "
                                   f"{self.limit} s (interrupted)")
        content = (reply or {}).get("content", {})
        result = content.get("user_expressions", {}).get("r", {})
        if result.get("status") != "ok":
            why = f"{result.get('ename', 'no reply')}: {result.get('evalue', '')}"
            raise StudentCodeError(f"the student's kernel did not answer the call ({why})")
        try:
            answer = wire.loads(ast.literal_eval(result["data"]["text/plain"]))
        except (KeyError, ValueError, SyntaxError, TypeError, RecursionError, MemoryError,
                wire.WireError):
            answer = {}
        if answer.get("id") != ident:
            self.ignored += 1
            raise StudentCodeError("the student's kernel sent something that is not an answer")
        return answer

    def _write_back(self, sent: tuple, after: list) -> None:
        """Copy into the test's arguments what the student's code did to them in place."""
        args, kwargs = sent
        for key, data in after:
            original = args[key] if isinstance(key, int) and key < len(args) else kwargs.get(key)
            _copy_into(original, wire.decode(data, self._resolve))

    def bind(self, names: list[str]) -> dict:
        """The student's values of ``names`` (functions and objects as handles)."""
        return self.request("bind", names=names) if names else {}

    def define(self, obj: Any) -> Handle:
        """A test helper (function or class) defined again beside the student's code."""
        tree = ast.parse(textwrap.dedent(_source(obj)))
        node = tree.body[0]
        node.decorator_list = []
        return self.request("define", source=ast.unparse(tree), name=node.name)


def _copy_into(original: Any, value: Any) -> Any:
    """Make ``original`` (an array, generator, dict or list the test sent) equal ``value``,
    in place where it can be changed; return what stands for it afterwards."""
    if isinstance(original, np.ndarray) and isinstance(value, np.ndarray) \
            and value.shape == original.shape and original.flags.writeable:
        np.copyto(original, value, casting="unsafe")
        return original
    if isinstance(original, np.random.Generator) and isinstance(value, np.random.Generator):
        original.bit_generator.state = value.bit_generator.state
        return original
    if isinstance(original, dict) and isinstance(value, dict):
        for key in [k for k in original if k not in value]:
            del original[key]
        for key, item in value.items():
            original[key] = _copy_into(original.get(key), item)
        return original
    if isinstance(original, list) and isinstance(value, list):
        original[:] = [_copy_into(o, v) for o, v in zip(original, value, strict=False)] \
            + value[len(original):]
        return original
    return value


def _source(obj: Any) -> str:
    import inspect

    return inspect.getsource(obj)
