"""IML binary functions: base64, md5, sha1, sha256, sha512, toBinary.

Text is hashed and encoded as UTF-8; a buffer (bytes) is used as it is.
"""

from __future__ import annotations

import base64 as b64
import binascii
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from scenarist_engine.errors import ExpressionError, ExpressionLimitError
from scenarist_engine.iml.context import EvalContext
from scenarist_engine.iml.functions._helpers import builtin, check_text, text_arg
from scenarist_engine.iml.values import type_name

CATEGORY = "text"


def _bytes(value: Any, fn: str) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return text_arg(value, fn).encode("utf-8")


def _encoding(value: Any, fn: str, default: str) -> str:
    if value is None or value == "":
        return default
    return text_arg(value, fn, "encoding").strip().lower()


def _decode_text(text: str, encoding: str, fn: str) -> bytes:
    """Bytes that `text` stands for in the given encoding (Node's Buffer.from rules)."""
    try:
        if encoding in ("utf8", "utf-8", "text"):
            return text.encode("utf-8")
        if encoding == "base64":
            # Node ignores whitespace and missing padding in base64 input.
            compact = "".join(text.split())
            return b64.b64decode(compact + "=" * (-len(compact) % 4))
        if encoding == "hex":
            return bytes.fromhex(text)
        if encoding in ("latin1", "binary", "ascii"):
            return text.encode("latin-1")
    except (ValueError, binascii.Error, UnicodeEncodeError) as exc:
        raise ExpressionError(f"{fn}(): text is not valid {encoding}") from exc
    raise ExpressionError(f"{fn}(): unknown encoding {encoding!r}")


@builtin("base64", min_args=1, max_args=1, signature="base64(text)", category=CATEGORY)
def base64(ctx: EvalContext, value: Any) -> str:
    """Text (or a buffer) encoded as base64."""
    encoded = b64.b64encode(_bytes(value, "base64")).decode("ascii")
    return check_text(ctx, encoded, "base64")


@builtin(
    "toBinary", min_args=1, max_args=2, signature="toBinary(value; [encoding])", category=CATEGORY
)
def to_binary(ctx: EvalContext, value: Any, encoding: Any = None) -> bytes:
    """A buffer from text, read in the given encoding (utf8 by default, base64, hex, latin1)."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    name = _encoding(encoding, "toBinary", "utf8")
    data = _decode_text(text_arg(value, "toBinary"), name, "toBinary")
    if len(data) > ctx.limits.max_text_length:
        raise ExpressionLimitError(
            f"toBinary(): result is longer than {ctx.limits.max_text_length} bytes"
        )
    return data


def _digest_text(digest: bytes, encoding: str, fn: str) -> str:
    if encoding == "hex":
        return digest.hex()
    if encoding == "base64":
        return b64.b64encode(digest).decode("ascii")
    if encoding in ("latin1", "binary"):
        return digest.decode("latin-1")
    raise ExpressionError(f"{fn}(): encoding must be hex, base64 or latin1, got {encoding!r}")


def _key_bytes(key: Any, key_encoding: Any, fn: str) -> bytes:
    if isinstance(key, bytes | bytearray):
        return bytes(key)
    if isinstance(key, list | dict):
        raise ExpressionError(f"{fn}(): key must be text, got {type_name(key)}")
    name = _encoding(key_encoding, fn, "text")
    return _decode_text(text_arg(key, fn, "key"), name, fn)


def _hash(
    name: str,
    algorithm: str,
    value: Any,
    encoding: Any,
    *,
    key: Any = None,
    key_encoding: Any = None,
) -> str:
    data = _bytes(value, name)
    if key is None or key == "":
        # usedforsecurity=False: these are checksums users ask for, not our own security.
        digest = hashlib.new(algorithm, data, usedforsecurity=False).digest()
    else:
        digest = hmac.new(_key_bytes(key, key_encoding, name), data, algorithm).digest()
    return _digest_text(digest, _encoding(encoding, name, "hex"), name)


@builtin("md5", min_args=1, max_args=1, signature="md5(text)", category=CATEGORY)
def md5(ctx: EvalContext, value: Any) -> str:
    """The MD5 hash of text, as hex."""
    return _hash("md5", "md5", value, None)


@builtin(
    "sha1",
    min_args=1,
    max_args=3,
    signature="sha1(text; [encoding]; [key])",
    category=CATEGORY,
)
def sha1(ctx: EvalContext, value: Any, encoding: Any = None, key: Any = None) -> str:
    """The SHA-1 hash of text (an HMAC when a key is given); hex, base64 or latin1."""
    return _hash("sha1", "sha1", value, encoding, key=key)


def _sha2(name: str, algorithm: str) -> Callable[..., str]:
    def impl(
        ctx: EvalContext,
        value: Any,
        encoding: Any = None,
        key: Any = None,
        key_encoding: Any = None,
    ) -> str:
        return _hash(name, algorithm, value, encoding, key=key, key_encoding=key_encoding)

    impl.__doc__ = (
        f"The {algorithm.upper()} hash of text (an HMAC when a key is given); "
        "hex, base64 or latin1. keyEncoding: text, hex, base64 or binary."
    )
    builtin(
        name,
        min_args=1,
        max_args=4,
        signature=f"{name}(text; [encoding]; [key]; [keyEncoding])",
        category=CATEGORY,
    )(impl)
    return impl


sha256 = _sha2("sha256", "sha256")
sha512 = _sha2("sha512", "sha512")
