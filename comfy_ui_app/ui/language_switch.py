"""The page's language switch: relabel every built component, no registration needed.

How it works
------------
``build_app`` builds all tabs with plain English labels, then calls
``install_language_switch(demo, lang, picker)``. That walks ``demo.blocks`` once, at
build time, and remembers each component's *static* English text:

* ``label``, ``info`` and ``placeholder`` of every component, tab and accordion;
* the text of every ``gr.Button`` (its ``value``);
* the text of ``gr.Markdown`` blocks (see below).

Changing the "Language" dropdown returns ``gr.update(...)`` with just those props,
translated with ``comfy_ui_app.texts.i18n.tr``, and stores the code in the ``lang`` state
that every tab got as ``ctx.lang``: handlers translate the text they produce with
``tr(..., lang)``. Nothing else listens to the language, except that ``@gr.render``
forms should list ``ctx.lang`` among their inputs, so they re-render in the new
language (they are not walked: they are built per page, not at build time).

Choices: a ``gr.Dropdown`` / ``gr.Radio`` with ``elem_classes=["i18n-choices"]`` has
static ``(label, value)`` choices; the switch translates the labels and keeps the values
(the size presets). Handlers must not replace those choices. Other dropdowns' choices
(server lists, job pickers) are left alone.

Markdown: a Markdown that no event writes to is static and always translated. One
that some handler writes to (a progress line) is sent along with the switch and
translated only while it still shows its build-time text (in any language), so a
switch never overwrites what a handler put there. ``elem_classes=["i18n"]`` marks a
Markdown as static text even if handlers write to it (the completeness test then
insists on a translation); ``elem_classes=["no-i18n"]`` keeps any block out of it
(file names, model names).

The first language comes from the browser (``navigator.languages``) unless this
browser chose one before: the choice is kept in a ``gr.BrowserState``.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import gradio as gr

from comfy_ui_app.texts.i18n import CATALOGS, DEFAULT_LANGUAGE, LANGUAGES, pick_language, tr

__all__ = ["I18N_CLASS", "NO_I18N_CLASS", "I18N_CHOICES_CLASS", "Target", "collect", "relabel", "language_picker",
           "install_language_switch", "initial_language", "missing_translations"]

I18N_CLASS = "i18n"          # Markdown that is static text even if a handler writes to it
NO_I18N_CLASS = "no-i18n"    # never translate this block (names, paths, user text)
I18N_CHOICES_CLASS = "i18n-choices"  # a dropdown whose (label, value) choices are static text
STORAGE_KEY = "comfy_ui_app.language"
# Not a secret: the stored value is only a language code, checked on the way in. Fixed
# so that the choice survives a server restart (a random one would not decrypt).
STORAGE_SECRET = "comfy-ui-app-language-choice"
STATIC_PROPS = ("label", "info", "placeholder")
BROWSER_LANGUAGES_JS = ("(saved, _) => [saved, navigator.languages && navigator.languages.length"
                        " ? navigator.languages.join(',') : (navigator.language || '')]")
_SKIP_TYPES = (gr.State, gr.BrowserState, gr.Timer)


def _translatable(text) -> bool:
    return isinstance(text, str) and any(ch.isalpha() for ch in text)


def _norm(text) -> str:
    return inspect.cleandoc(text).strip() if isinstance(text, str) else ""


@dataclass
class Target:
    """One block and the English text the switch translates on it."""

    block: object
    props: dict[str, str] = field(default_factory=dict)  # prop -> English ("value" for buttons)
    text: str | None = None     # Markdown source text
    dynamic: bool = False       # a handler writes this Markdown: translate only if unchanged
    required: bool = True       # the completeness test wants a translation for ``text``
    choices: list | None = None  # (English label, value) pairs of an ``i18n-choices`` dropdown

    def strings(self) -> list[str]:
        """English strings that must be in every catalog."""
        out = list(self.props.values())
        if self.text is not None and self.required:
            out.append(self.text)
        out.extend(label for label, _ in self.choices or () if _translatable(label))
        return out

    def update(self, lang: str, current=None):
        """``gr.update`` in ``lang``; ``current`` is a dynamic Markdown's shown value."""
        props = {name: tr(text, lang) for name, text in self.props.items()}
        if self.choices is not None:
            props["choices"] = [(tr(label, lang), value) for label, value in self.choices]
        if self.text is not None:
            if not self.dynamic or _norm(current) in {_norm(tr(self.text, code)) for code in LANGUAGES}:
                props["value"] = tr(self.text, lang)
        return gr.update(**props) if props else gr.skip()


def _classes(block) -> list[str]:
    classes = getattr(block, "elem_classes", None) or []
    return [classes] if isinstance(classes, str) else list(classes)


def collect(demo: gr.Blocks, *, exclude=()) -> list[Target]:
    """The translatable static text of every block built so far, in build order."""
    written = {id(out) for fn in demo.fns.values() if not getattr(fn.fn, "i18n_switch", False)
               for out in fn.outputs}
    skip = {id(b) for b in exclude}
    targets = []
    for block_id in sorted(demo.blocks):
        block = demo.blocks[block_id]
        classes = _classes(block)
        if isinstance(block, _SKIP_TYPES) or id(block) in skip or NO_I18N_CLASS in classes:
            continue
        target = Target(block)
        for name in STATIC_PROPS:
            if _translatable(getattr(block, name, None)):
                target.props[name] = getattr(block, name)
        if isinstance(block, gr.Button) and _translatable(block.value):
            target.props["value"] = block.value
        if I18N_CHOICES_CLASS in classes and getattr(block, "choices", None):
            target.choices = [(str(label), value) for label, value in block.choices]
        if isinstance(block, gr.Markdown) and _translatable(block.value):
            target.text = _norm(block.value)
            target.dynamic = id(block) in written
            target.required = I18N_CLASS in classes or not target.dynamic
        if target.props or target.text is not None or target.choices:
            targets.append(target)
    return targets


def relabel(targets: list[Target], lang: str, shown: dict | None = None) -> list:
    """One update per target (``shown``: block -> value, for dynamic Markdown)."""
    shown = shown or {}
    return [t.update(lang, shown.get(t.block)) for t in targets]


def missing_translations(targets: list[Target], lang: str = "zh-CN") -> list[str]:
    """English strings on the page that ``lang``'s catalog lacks (sorted, no repeats)."""
    catalog = CATALOGS[lang]
    return sorted({s for t in targets for s in t.strings() if s not in catalog})


def initial_language(saved, browser_languages) -> str:
    """The language a page starts in: this browser's earlier choice, else its languages."""
    if saved in LANGUAGES:
        return saved
    return pick_language(browser_languages)


def language_picker() -> gr.Dropdown:
    """The "Language" dropdown (place it in the page header)."""
    return gr.Dropdown(choices=[(name, code) for code, name in LANGUAGES.items()],
                       value=DEFAULT_LANGUAGE, label="Language", elem_id="language-picker",
                       scale=0, min_width=150, interactive=True)


def install_language_switch(demo: gr.Blocks, lang, picker: gr.Dropdown):
    """Wire ``picker`` to relabel everything built so far; returns the switch event.

    Call after all tabs are built, inside ``with demo:``. ``lang`` is the
    ``gr.State`` handed to tabs as ``ctx.lang``. Chain ``.then(...)`` on the result
    for dynamic text that must be redone at once (the status banner).
    """
    saved = gr.BrowserState("", storage_key=STORAGE_KEY, secret=STORAGE_SECRET)
    detected = gr.Textbox(visible=False, elem_classes=[NO_I18N_CLASS])  # carries navigator.languages
    targets = collect(demo)
    dynamic = [t.block for t in targets if t.dynamic]

    def on_language(data: dict):
        code = data[picker] if data[picker] in LANGUAGES else DEFAULT_LANGUAGE
        return [code, *relabel(targets, code, data)]

    on_language.i18n_switch = True  # collect() ignores this event: it writes every target

    def remember(code):
        return code if code in LANGUAGES else gr.skip()

    demo.load(initial_language, inputs=[saved, detected], outputs=[picker], js=BROWSER_LANGUAGES_JS,
              api_visibility="private", show_progress="hidden", queue=False)
    picker.input(remember, inputs=[picker], outputs=[saved], api_visibility="private",
                 show_progress="hidden", queue=False)
    return picker.change(on_language, inputs={picker, *dynamic},
                         outputs=[lang, *[t.block for t in targets]], api_visibility="private",
                         show_progress="hidden", concurrency_limit=None)
