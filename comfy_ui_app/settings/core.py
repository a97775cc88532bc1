"""How a setting is declared, read and checked: the same way for every flag and variable.

A :class:`Setting` names a value once: its flag(s), its environment variable, its
:class:`Kind` (what text it accepts and what it becomes), its default and its help.
A :class:`SettingsParser` adds declared settings as arguments and, in ``parse_args``,
reads each one in the same order: the flag if given, else the environment variable if
set (an empty one counts as unset), else the default. A value its kind refuses stops
the program with ONE line that names the flag or variable it came from (exit status 2),
and only then: ``--help`` never reads the environment's values, so it always works.
"""
from __future__ import annotations

import argparse
import math
import os
import shlex
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

EXIT_BAD_SETTING = 2   # argparse's status for a command line it cannot use

_KEY = "_setting:"     # namespace defaults that carry each declared Setting until parse_args reads it


@dataclass(frozen=True)
class Kind:
    """What a setting accepts: ``what`` words it for the error line, ``parse`` turns the text
    into the value and raises ValueError for anything else."""

    what: str
    parse: Callable[[str], Any]


def _number(cast, minimum, *, above: bool = False, maximum=math.inf, what: str) -> Kind:
    def parse(text: str):
        value = cast(text.strip())
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(text)
        if value < minimum or (above and value == minimum) or value > maximum:
            raise ValueError(text)
        return value
    return Kind(what, parse)


def _switch(text: str) -> bool:
    word = text.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


def server_urls(text: str) -> list[str]:
    """``"http://a:8188, http://b:8188"`` -> both, in order, without blanks, trailing ``/`` or repeats."""
    urls: list[str] = []
    for part in (p.strip().rstrip("/") for p in text.split(",")):
        if part and part not in urls:
            urls.append(part)
    if not urls:
        raise ValueError(text)
    return urls


def _logins(text: str) -> list[tuple[str, str]]:
    pairs = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        user, sep, password = item.partition(":")
        if not sep or not user or not password:
            raise ValueError(item)
        pairs.append((user, password))
    return pairs


def _shell_words(text: str) -> str:
    shlex.split(text)   # ValueError on an unclosed quote
    return text


def _cap(kind: Kind) -> Kind:
    """A cap of a public demo: ``kind``, or empty for no cap (None)."""
    return Kind(kind.what + " (empty for none)", lambda text: kind.parse(text) if text.strip() else None)


def _pixels(text: str) -> int:
    from comfy_ui_app.jobs.limits import parse_pixels

    return parse_pixels(text)


TEXT = Kind("text", str)
SWITCH = Kind("1 or 0 (or true/false, yes/no, on/off)", _switch)
PRESENT = Kind("any text", lambda text: True)   # set at all -> on (OAUTH_CLIENT_ID)
SERVERS = Kind("one ComfyUI address or several separated by commas", server_urls)
LOGINS = Kind("user:password[,user:password...]", _logins)
SHELL_WORDS = Kind("options as a shell would split them (a quote left open?)", _shell_words)
PORT = _number(int, 0, maximum=65535, what="a port number")
COUNT = _number(int, 1, what="a whole number of at least 1")
COUNT_OR_ZERO = _number(int, 0, what="a whole number, 0 or more")
MINUTES = _number(float, 0, what="a number of minutes (0 for none)")
SECONDS = _number(float, 0, above=True, what="a number of seconds above 0")
MEGABYTES = _number(float, 0, above=True, what="a number of megabytes above 0")
CAP_COUNT = _cap(_number(int, 0, above=True, what="a whole number above 0"))
CAP_MEGABYTES = _cap(MEGABYTES)
CAP_PIXELS = _cap(Kind("a number of pixels (1048576) or a size (1024x1024)", _pixels))
OPTIONAL_COUNT = CAP_COUNT   # empty: the default (a number the program picks)
MEGABYTES_OR_ZERO = _number(float, 0, what="a number of megabytes, 0 or more")
NAMES = Kind("names separated by commas", lambda text: [n.strip() for n in text.split(",") if n.strip()] or None)


def CHOICE(words: Sequence[str]) -> Kind:
    """One of ``words`` (any case)."""
    def parse(text: str) -> str:
        word = text.strip().lower()
        if word not in words:
            raise ValueError(text)
        return word
    return Kind("one of " + ", ".join(words), parse)


@dataclass(frozen=True)
class Setting:
    """One value the program reads. ``flags``: ``("--port",)``, a positional ``("workflow",)``,
    or none for a variable only. ``default``: the value, or a function of the environment.
    ``action``: "value" (takes text), "switch" (``--x`` / ``--no-x``), "flag" (``--x`` alone),
    "repeat" (may be given several times: a list of texts)."""

    name: str
    flags: tuple[str, ...] = ()
    env: str | None = None
    kind: Kind = TEXT
    default: Any = None
    help: str = ""
    metavar: str | None = None
    action: str = "value"
    required: bool = False

    @property
    def flag(self) -> str | None:
        """The flag an error line names: the long one."""
        return self.flags[-1] if self.flags else None

    def default_for(self, env: Mapping[str, str]) -> Any:
        value = self.default(env) if callable(self.default) else self.default
        return list(value) if isinstance(value, list) else value   # a fresh list for each parse


class SettingsParser(argparse.ArgumentParser):
    """An ArgumentParser whose ``parse_args`` also reads the declared settings' variables from
    ``env`` (``os.environ`` when None) and checks every value with its kind. The answer has one
    attribute per setting, and ``given``: the names set by a flag or a variable (not by default)."""

    def __init__(self, *args, env: Mapping[str, str] | None = None, show_defaults: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.env = env
        self.show_defaults = show_defaults

    def declare(self, settings: Sequence[Setting], group=None) -> None:
        """Add ``settings`` as arguments (to ``group``, an argument group of this parser, if given)."""
        target = group if group is not None else self
        for setting in settings:
            if setting.flags:
                target.add_argument(*setting.flags, **self._options(setting))
            self.set_defaults(**{_KEY + setting.name: setting})

    def _options(self, setting: Setting) -> dict:
        text = setting.help
        shown = setting.default_for(self._environment())
        if self.show_defaults and shown not in (None, "", False, []):
            shown = ",".join(shown) if isinstance(shown, list) else shown
            text += f" (default: {str(shown).replace('%', '%%')})"
        options: dict[str, Any] = {"help": text}
        if setting.flags[0].startswith("-"):
            options.update(dest=setting.name, default=None, required=setting.required)
        if setting.metavar:
            options["metavar"] = setting.metavar
        if setting.action == "switch":
            options["action"] = argparse.BooleanOptionalAction
        elif setting.action == "flag":
            options.update(action="store_const", const=True)
        elif setting.action == "repeat":
            options["action"] = "append"
        return options

    def _environment(self) -> Mapping[str, str]:
        return os.environ if self.env is None else self.env

    def parse_args(self, args=None, namespace=None):
        parsed = super().parse_args(args, namespace)
        env, values, given = self._environment(), vars(parsed), set()
        for key in [k for k in values if k.startswith(_KEY)]:
            setting = values.pop(key)
            raw, source = values.get(setting.name), setting.flag
            if raw is None and setting.env and (env.get(setting.env) or "").strip():
                raw, source = env[setting.env], setting.env
            if raw is None:
                values[setting.name] = setting.default_for(env)
                continue
            given.add(setting.name)
            if isinstance(raw, str):
                values[setting.name] = self._check(setting, raw, source)
        parsed.given = frozenset(given)
        return parsed

    def _check(self, setting: Setting, raw: str, source: str) -> Any:
        try:
            return setting.kind.parse(raw)
        except ValueError:
            where = f" (the variable of {setting.flag})" if source == setting.env and setting.flag else ""
            self.exit(EXIT_BAD_SETTING, f"{self.prog}: error: {source} must be {setting.kind.what}, "
                                        f"got {raw!r}{where}\n")
