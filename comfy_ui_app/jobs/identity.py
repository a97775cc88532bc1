"""Who a visitor without a login is: browser ids the app issues and can verify, and log tags.

Without ``--auth`` (and without "Sign in with Hugging Face") a visitor is known by an id kept
in their browser. The browser sends it back with every call, so a caller can send any string:
the id must prove the app made it. :class:`BrowserIds` issues ``<random>.<mac>``, where
``random`` is 128 random bits (32 hex digits) and ``mac`` the first 128 bits of
HMAC-SHA256(key, random), the key never leaving the server (``app.py`` keeps it in the data
folder as ``identity-key``). :meth:`BrowserIds.verify` accepts only such an id; a forged,
tampered, malformed or over-long one (``policy.MAX_ID_CHARS``) is no one, and the page then
issues a fresh one: a stranger's guess never becomes someone else.

:func:`owner_tag` is what a log line says instead of an owner id: a browser or session id is a
credential (whoever holds it sees and stops that user's jobs), so only a short, non-reversible
tag of it is written (``browser:1a2b3c4d``); login names (``user:alice``, ``hf:bob``,
``cli:carol``) are not secrets and are written as they are.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from comfy_ui_app.jobs.policy import MAX_ID_CHARS

__all__ = ["BrowserIds", "owner_tag", "SECRET_KINDS"]

_RANDOM_HEX = 32   # 128 bits
_MAC_HEX = 32      # HMAC-SHA256 cut to 128 bits
_SHAPE = re.compile(rf"[0-9a-f]{{{_RANDOM_HEX}}}\.[0-9a-f]{{{_MAC_HEX}}}")
SECRET_KINDS = ("browser", "session")   # owner ids whose value is a credential
_TAG_HEX = 8


class BrowserIds:
    """Issues and verifies browser ids signed with ``key`` (bytes or text; never shown to anyone)."""

    def __init__(self, key: bytes | str) -> None:
        key = key.encode() if isinstance(key, str) else bytes(key)
        if not key:
            raise ValueError("a browser id key must not be empty")
        self._key = key

    def __repr__(self) -> str:   # never the key
        return "BrowserIds(<key>)"

    def _mac(self, random_part: str) -> str:
        return hmac.new(self._key, b"browser-id:" + random_part.encode(), hashlib.sha256).hexdigest()[:_MAC_HEX]

    def sign(self, random_part: str) -> str:
        """The id for ``random_part`` (32 lower-case hex digits): what :meth:`issue` returns."""
        if not re.fullmatch(rf"[0-9a-f]{{{_RANDOM_HEX}}}", random_part):
            raise ValueError("the random part of a browser id is 32 lower-case hex digits")
        return f"{random_part}.{self._mac(random_part)}"

    def issue(self) -> str:
        """A fresh id: nobody else holds it, and only this key's holder could have made it."""
        return self.sign(secrets.token_hex(_RANDOM_HEX // 2))

    def verify(self, value: object) -> str | None:
        """``value`` when it is an id this key issued, else None (whatever was sent)."""
        if not isinstance(value, str) or len(value) > MAX_ID_CHARS or not _SHAPE.fullmatch(value):
            return None
        random_part, mac = value.split(".")
        return value if hmac.compare_digest(mac, self._mac(random_part)) else None


def owner_tag(owner: object) -> str:
    """What a log says for the owner id ``owner``: ``browser:`` / ``session:`` ids as a short
    tag (the first 8 hex digits of the SHA-256 of the whole id), other ids unchanged."""
    text = str(owner)
    kind, sep, _ = text.partition(":")
    if sep and kind in SECRET_KINDS:
        return f"{kind}:{hashlib.sha256(text.encode()).hexdigest()[:_TAG_HEX]}"
    return text
