"""Presets: a tab's settings saved under a name, per user, in the job store's SQLite file.

    presets = PresetStore(job_store)                       # creates its table if missing
    p = presets.save("browser:x", "txt2img", "Portraits", {"steps": 30, "styles": ["Anime"]})
    presets.visible("browser:x", "txt2img")                # own ones, then the shared ones
    presets.get(p.preset_id, "browser:x", "txt2img")       # None unless visible to that user
    presets.delete(p.preset_id, "browser:x", admin=False)

A user sees only their own presets and the shared ones; only an admin shares (``save(shared=True)``),
unshares or deletes a shared preset. The schema (added in place to an existing data folder, whose
jobs stay as they are)::

    presets(id INTEGER PRIMARY KEY, owner TEXT, tab TEXT, name TEXT, shared INTEGER (0/1),
            values_json TEXT, created_at REAL, updated_at REAL, UNIQUE(owner, tab, name, shared))

Saving a name the owner already has (on that tab, shared or not alike) replaces its values.
Caps: a name of at most :data:`MAX_NAME` characters, :data:`MAX_PER_OWNER` presets per user and
:data:`MAX_SHARED` shared ones, values of at most :data:`MAX_VALUES_BYTES` bytes of JSON with
finite numbers; anything else raises ``errors.PresetRefused``.
"""

from __future__ import annotations

import json
import math
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

from comfy_ui_app.errors import PresetRefused
from comfy_ui_app.jobs.store import JobStore

__all__ = ["Preset", "PresetStore", "clean_name", "clean_values", "MAX_NAME", "MAX_PER_OWNER", "MAX_SHARED",
           "MAX_VALUES_BYTES", "MAX_TEXT", "MAX_TAB"]

MAX_NAME = 100
MAX_PER_OWNER = 100      # over every tab
MAX_SHARED = 100
MAX_VALUES_BYTES = 64_000
MAX_TEXT = 20_000        # one text value (a prompt)
MAX_KEYS = 300
MAX_LIST = 50
MAX_TAB = 200            # a tab key ("txt2img", "custom:<workflow>")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS presets (
    id INTEGER PRIMARY KEY, owner TEXT NOT NULL, tab TEXT NOT NULL, name TEXT NOT NULL,
    shared INTEGER NOT NULL DEFAULT 0, values_json TEXT NOT NULL, created_at REAL NOT NULL,
    updated_at REAL NOT NULL, UNIQUE (owner, tab, name, shared));
CREATE INDEX IF NOT EXISTS presets_tab_shared ON presets (tab, shared);
"""
_COLUMNS = "id, owner, tab, name, shared, values_json, updated_at"


@dataclass(frozen=True)
class Preset:
    preset_id: int
    owner: str
    tab: str
    name: str
    shared: bool
    values: dict
    updated_at: float


def clean_name(name: Any) -> str:
    """The name to keep: text, spaces collapsed, control characters dropped, 1..MAX_NAME characters."""
    if not isinstance(name, str):
        raise PresetRefused("name_empty", field="name")
    text = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    text = " ".join(text.split())
    if not text:
        raise PresetRefused("name_empty", field="name")
    if len(text) > MAX_NAME:
        raise PresetRefused("name_too_long", field="name", allowed=MAX_NAME)
    return text


def _check_value(key: str, value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise PresetRefused("not_finite", name=key, field=key)
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise PresetRefused("too_large", name=key, field=key, allowed=MAX_TEXT)
    if isinstance(value, list):
        if len(value) > MAX_LIST:
            raise PresetRefused("bad_value", name=key, field=key)
        for item in value:
            if isinstance(item, (list, dict)):
                raise PresetRefused("bad_value", name=key, field=key)
            _check_value(key, item)
    elif value is not None and not isinstance(value, (str, int, float, bool)):
        raise PresetRefused("bad_value", name=key, field=key)


def clean_values(values: Any) -> tuple[dict, str]:
    """``(values, their JSON)``: a dict of short text keys to text, numbers, booleans, None or short
    lists of those; NaN, 5 MB of text, nested objects or more than MAX_VALUES_BYTES are refused."""
    if not isinstance(values, dict) or len(values) > MAX_KEYS:
        raise PresetRefused("bad_value", name="values")
    for key, value in values.items():
        if not isinstance(key, str) or not key or len(key) > MAX_NAME:
            raise PresetRefused("bad_value", name="values")
        _check_value(key, value)
    text = json.dumps(values, allow_nan=False, ensure_ascii=False)
    if len(text.encode("utf-8")) > MAX_VALUES_BYTES:
        raise PresetRefused("too_large", allowed=MAX_VALUES_BYTES)
    return values, text


def _tab(tab: Any) -> str:
    if not isinstance(tab, str) or not tab or len(tab) > MAX_TAB:
        raise PresetRefused("bad_value", name="tab")
    return tab


def _preset_id(preset_id: Any) -> int | None:
    """A picked preset's id (the dropdown's value: an int or its text); None for anything else."""
    if isinstance(preset_id, bool):
        return None
    if isinstance(preset_id, int):
        return preset_id if 0 < preset_id < 2**62 else None
    if isinstance(preset_id, str) and preset_id.isdigit() and len(preset_id) < 19:
        return int(preset_id) or None
    return None


class PresetStore:
    """The ``presets`` table of a :class:`JobStore`'s database (same connection and lock)."""

    def __init__(self, store: JobStore) -> None:
        self._store = store
        with store.transaction() as db:
            for statement in _SCHEMA.split(";"):  # one by one: executescript would commit on its own
                if statement.strip():
                    db.execute(statement)

    def save(self, owner: str, tab: str, name: Any, values: Any, *, shared: bool = False,
             admin: bool = False) -> Preset:
        """Keep ``values`` under ``name`` (replacing the owner's preset of that name); ``shared``:
        listed for everyone (admins only)."""
        tab, name = _tab(tab), clean_name(name)
        values, text = clean_values(values)
        if shared and not admin:
            raise PresetRefused("admins_only", name=name, field="shared")
        now = time.time()
        with self._store.transaction() as db:
            exists = db.execute("SELECT 1 FROM presets WHERE owner = ? AND tab = ? AND name = ? AND shared = ?",
                                (owner, tab, name, int(shared))).fetchone()
            if not exists:
                where, args, cap = ("shared = 1", (), MAX_SHARED) if shared else \
                    ("owner = ? AND shared = 0", (owner,), MAX_PER_OWNER)
                if db.execute(f"SELECT COUNT(*) FROM presets WHERE {where}", args).fetchone()[0] >= cap:
                    raise PresetRefused("too_many", name=name, field="name", allowed=cap)
            db.execute("INSERT INTO presets (owner, tab, name, shared, values_json, created_at, updated_at)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (owner, tab, name, shared) DO UPDATE SET"
                       " values_json = excluded.values_json, updated_at = excluded.updated_at",
                       (owner, tab, name, int(shared), text, now, now))
            row = db.execute(f"SELECT {_COLUMNS} FROM presets WHERE owner = ? AND tab = ? AND name = ? AND shared = ?",
                             (owner, tab, name, int(shared))).fetchone()
        return _preset(row)

    def visible(self, user: str, tab: str) -> list[Preset]:
        """``user``'s own presets of ``tab`` by name, then the shared ones by name."""
        with self._store.transaction("DEFERRED") as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM presets WHERE tab = ? AND (shared = 1 OR owner = ?)"
                              " ORDER BY shared, name COLLATE NOCASE, id", (_tab(tab), user)).fetchall()
        return [_preset(row) for row in rows]

    def get(self, preset_id: Any, user: str, tab: str) -> Preset | None:
        """The preset if it is of ``tab`` and ``user`` may see it (theirs, or shared); else None."""
        wanted = _preset_id(preset_id)
        if wanted is None:
            return None
        with self._store.transaction("DEFERRED") as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM presets WHERE id = ? AND tab = ? AND (shared = 1 OR owner = ?)",
                             (wanted, _tab(tab), user)).fetchone()
        return None if row is None else _preset(row)

    def delete(self, preset_id: Any, user: str, tab: str, *, admin: bool = False) -> Preset:
        """Delete a preset: one's own, or (an admin) a shared one; returns it. Raises PresetRefused."""
        found = self._visible_or_refuse(preset_id, user, tab, admin)
        with self._store.transaction() as db:
            db.execute("DELETE FROM presets WHERE id = ?", (found.preset_id,))
        return found

    def unshare(self, preset_id: Any, user: str, tab: str, *, admin: bool = False) -> Preset:
        """A shared preset back to its owner alone (admins only; it replaces the owner's own preset of
        that name); returns it as it is now."""
        found = self._visible_or_refuse(preset_id, user, tab, admin)
        if not found.shared:
            return found
        with self._store.transaction() as db:
            db.execute("DELETE FROM presets WHERE owner = ? AND tab = ? AND name = ? AND shared = 0",
                       (found.owner, found.tab, found.name))
            db.execute("UPDATE presets SET shared = 0, updated_at = ? WHERE id = ?", (time.time(), found.preset_id))
        return Preset(found.preset_id, found.owner, found.tab, found.name, False, found.values, found.updated_at)

    def _visible_or_refuse(self, preset_id: Any, user: str, tab: str, admin: bool) -> Preset:
        found = self.get(preset_id, user, tab)
        if found is None:
            raise PresetRefused("not_found", field="preset")
        if found.shared and not admin:
            raise PresetRefused("admins_only", name=found.name, field="preset")
        return found


def _preset(row: tuple) -> Preset:
    preset_id, owner, tab, name, shared, values, updated_at = row
    return Preset(preset_id, owner, tab, name, bool(shared), json.loads(values), updated_at)
