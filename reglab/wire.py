"""Plain data on the wire between the grader and a student's kernel.

A value crosses as JSON: numbers, strings, None, lists, tuples, dicts with str or int
keys, NumPy arrays of numbers or bools (base64 bytes), NumPy random generators (their
state) and references to objects that stay on the other side. Decoding builds only
these types, so whatever a student's kernel sends is data, never code.
"""

import base64
import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np

DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64"}
MAX_DEPTH = 20
MAX_BYTES = 256 * 2**20  # a reply larger than this is refused


class WireError(ValueError):
    """A value that cannot cross, or a message that is not well formed."""


class Ref:
    """An object that stays on the side that made it, known by a number."""

    def __init__(self, ref: int, kind: str, type_name: str) -> None:
        self.ref, self.kind, self.type_name = ref, kind, type_name


def _array(value: np.ndarray) -> dict:
    if value.dtype.name not in DTYPES:
        raise WireError(f"an array of dtype {value.dtype} cannot be sent")
    data = np.ascontiguousarray(value).tobytes()
    return {"__nd__": base64.b64encode(data).decode(), "dtype": value.dtype.name,
            "shape": list(value.shape)}


def _float(value: float) -> Any:
    return value if math.isfinite(value) else {"__float__": repr(value)}


def _is_tensor(value: Any) -> bool:
    """A TensorFlow (or other backend's) tensor, which crosses as its NumPy array."""
    module = type(value).__module__ or ""
    return module.split(".")[0] in {"tensorflow", "keras", "jax", "torch"} \
        and hasattr(value, "numpy") and hasattr(value, "shape")


_NOT_SCALAR = object()


def _scalar(value: Any) -> Any:
    """None, a bool, a string or a number as JSON-ready data; _NOT_SCALAR for anything else."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return _float(float(value))
    return _NOT_SCALAR


def _plain_dict(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str | int) and not isinstance(k, bool)
                                           for k in value)


def encode(value: Any, refer: Callable[[Any], Ref], depth: int = 0) -> Any:
    """``value`` as JSON-ready data; objects that are not data go through ``refer``."""
    if depth > MAX_DEPTH:
        raise WireError("the value is nested too deeply")
    scalar = _scalar(value)
    if scalar is not _NOT_SCALAR:
        return scalar
    if isinstance(value, np.ndarray):
        return _array(value)
    if isinstance(value, np.random.Generator):
        return {"__rng__": value.bit_generator.state}
    if isinstance(value, list | tuple):
        items = [encode(v, refer, depth + 1) for v in value]
        return items if isinstance(value, list) else {"__tuple__": items}
    if _plain_dict(value):
        return {"__dict__": [[k, encode(v, refer, depth + 1)] for k, v in value.items()]}
    if isinstance(value, Ref):
        return {"__ref__": value.ref, "kind": value.kind, "type": value.type_name}
    if _is_tensor(value):
        return encode(np.asarray(value.numpy()), refer, depth)
    return encode(refer(value), refer, depth)


def _generator(state: Any) -> np.random.Generator:
    if not isinstance(state, dict) or state.get("bit_generator") not in {"PCG64", "PCG64DXSM"}:
        raise WireError("only PCG64 generators can be sent")
    bit = getattr(np.random, state["bit_generator"])()
    bit.state = state
    return np.random.Generator(bit)


def _nd(data: dict, resolve: Callable[[Ref], Any], depth: int) -> np.ndarray:
    if data.get("dtype") not in DTYPES or not isinstance(data.get("shape"), list):
        raise WireError("an array with an unknown dtype or shape")
    raw = base64.b64decode(data["__nd__"], validate=True)
    return np.frombuffer(raw, dtype=data["dtype"]).reshape(data["shape"]).copy()


def _special_float(data: dict, resolve: Callable[[Ref], Any], depth: int) -> float:
    return float(data["__float__"]) if data["__float__"] in {"nan", "inf", "-inf"} else 0.0


def _tuple(data: dict, resolve: Callable[[Ref], Any], depth: int) -> tuple:
    return tuple(decode(v, resolve, depth + 1) for v in data["__tuple__"])


def _dict(data: dict, resolve: Callable[[Ref], Any], depth: int) -> dict:
    pairs = data["__dict__"]
    if not all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str | int)
               for p in pairs):
        raise WireError("a malformed dict")
    return {k: decode(v, resolve, depth + 1) for k, v in pairs}


def _rng(data: dict, resolve: Callable[[Ref], Any], depth: int) -> np.random.Generator:
    return _generator(data["__rng__"])


def _ref(data: dict, resolve: Callable[[Ref], Any], depth: int) -> Any:
    if not isinstance(data["__ref__"], int):
        raise WireError("an unknown kind of value on the wire")
    return resolve(Ref(data["__ref__"], str(data.get("kind")), str(data.get("type"))))


# each tagged kind of value, tried in this order
_TAGGED = {"__nd__": _nd, "__float__": _special_float, "__tuple__": _tuple, "__dict__": _dict,
           "__rng__": _rng, "__ref__": _ref}


def decode(data: Any, resolve: Callable[[Ref], Any], depth: int = 0) -> Any:
    """The value that :func:`encode` wrote; references go through ``resolve``."""
    if depth > MAX_DEPTH:
        raise WireError("the value is nested too deeply")
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [decode(v, resolve, depth + 1) for v in data]
    if not isinstance(data, dict) or len(data) == 0:
        raise WireError(f"unexpected {type(data).__name__} on the wire")
    tag = next((t for t in _TAGGED if t in data), None)
    if tag is None:
        raise WireError("an unknown kind of value on the wire")
    return _TAGGED[tag](data, resolve, depth)


def dumps(message: dict) -> str:
    """One message as a JSON line."""
    return json.dumps(message, separators=(",", ":"), allow_nan=False)


def loads(text: str) -> dict:
    """One message from a JSON line, refusing anything too large or not an object."""
    if len(text) > MAX_BYTES:
        raise WireError(f"a message of {len(text)} characters is over the limit")
    message = json.loads(text)
    if not isinstance(message, dict):
        raise WireError("a message must be a JSON object")
    return message
