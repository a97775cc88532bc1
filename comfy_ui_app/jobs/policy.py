"""What a visitor may send: the app's rules for a page strangers can open (README: Running it in public).

:class:`Policy` is decided once, at start (``app.py`` from its flags; see
:meth:`Policy.for_app`), and read by the job service and the page. A *public* app is one a
stranger can open: on a Hugging Face Space, with ``--share``, or listening beyond this
computer (``--host`` other than loopback). Its defaults are stricter than a private one's;
every value can be set by a flag.

* ``custom_workflows``: who may run a workflow of their own ("Custom workflow" tab, re-runs
  of such jobs): ``everyone``, ``admins`` or ``off`` (default: ``everyone`` on a private app,
  ``admins`` on a public one);
* ``allowed_nodes``: on a public app, the node classes a non-admin's graph may use (None:
  any the server has);
* ``max_prompt_chars`` / ``max_text_chars``: the longest prompt, and the longest other text
  field (a file name prefix, a text input of a workflow);
* ``max_nodes``: nodes of one uploaded workflow;
* ``min_free_mb``: new jobs are refused while the data folder's disk has less free space.

Admins are exempt from ``custom_workflows``, ``allowed_nodes`` and the file-name rules; the
size caps hold for everyone (they protect the app, not a GPU's time).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["Policy", "CUSTOM_WORKFLOWS", "MAX_ID_CHARS"]

CUSTOM_WORKFLOWS = ("everyone", "admins", "off")
MAX_ID_CHARS = 200   # a job id, a browser id, any id a caller sends back: ours are far shorter

# (private, public) defaults: no real user meets the private ones.
_DEFAULTS = {
    "max_prompt_chars": (100_000, 10_000),
    "max_text_chars": (10_000, 1_000),
    "max_nodes": (5_000, 1_000),
    "min_free_mb": (500.0, 500.0),
}


@dataclass(frozen=True)
class Policy:
    """The rules; the defaults are a private app's (tests and the CLI use them)."""

    public: bool = False
    custom_workflows: str = "everyone"
    allowed_nodes: frozenset[str] | None = None
    max_prompt_chars: int = _DEFAULTS["max_prompt_chars"][0]
    max_text_chars: int = _DEFAULTS["max_text_chars"][0]
    max_nodes: int = _DEFAULTS["max_nodes"][0]
    min_free_mb: float = _DEFAULTS["min_free_mb"][0]

    def __post_init__(self) -> None:
        if self.custom_workflows not in CUSTOM_WORKFLOWS:
            raise ValueError(f"custom_workflows must be one of {CUSTOM_WORKFLOWS}, not {self.custom_workflows!r}")

    @classmethod
    def for_app(cls, public: bool, **given) -> "Policy":
        """The rules of a public or private app; ``given`` (None values ignored) override the defaults."""
        values = {name: pair[1 if public else 0] for name, pair in _DEFAULTS.items()}
        values["custom_workflows"] = "admins" if public else "everyone"
        values.update({k: v for k, v in given.items() if v is not None})
        if values.get("allowed_nodes") is not None:
            values["allowed_nodes"] = frozenset(values["allowed_nodes"])
        return cls(public=public, **values)

    def with_(self, **changes) -> "Policy":
        return replace(self, **changes)
