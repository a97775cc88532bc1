"""The "Templates" tab: "what do you want to make?", answered with ComfyUI's own template library.

The server serves its library (``/templates/index.json``, each template's workflow and thumbnail);
this tab shows it by category as cards (thumbnail, title, media type; below: each one's description
and whether this server has the models it needs, "needs model X" when not). Picking a card fetches
its workflow, converts it and opens it as the "Custom workflow" tab's form (``custom_tab.opening``,
that tab's own way of opening a workflow). Below the cards, the workflows saved in ComfyUI's editor
(``/userdata``, ``workflows``) open the same way: listed for everyone on a private app, for admins
only on a public one (a visitor's call for the list or for one of them is refused in plain words).

Opening is the Custom workflow tab's business, so its rule holds here too: a visitor who may not run
a workflow of their own (``--custom-workflows``) is told why and nothing opens. Every thumbnail is
the app's file (``ui._library``); the browser never gets a ComfyUI address. Events are private
(the page's own), each checked by its handler: a raw call sends any value it likes.
"""
from __future__ import annotations

import gradio as gr

from comfy_ui_app.errors import LibraryRefused
from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.ui import custom_tab as custom
from comfy_ui_app.ui._library import TemplateLibrary
from comfy_ui_app.ui.context import TabHandles, caller_ids
from comfy_ui_app.ui.runner import user_inputs

__all__ = ["build_tab", "wire_opening", "may_see_saved", "MEDIA_WORDS"]

#: What a card says of its media type (the index's ``mediaType``); another type is shown as it came.
MEDIA_WORDS = {"image": "picture", "video": "video", "audio": "audio", "3d": "3D model"}


def may_see_saved(ctx, request, browser_id) -> bool:
    """Whether the caller may list and open the workflows saved in ComfyUI: anyone on a private app,
    admins only on a public one."""
    return not ctx.jobs.policy.public or any(ctx.jobs.is_admin(u) for u in caller_ids(request, browser_id))


def _availability(missing: list[str] | None, lang: str) -> str:
    if missing is None:
        return tr("models not known", lang)
    if missing:
        return tr("needs model {names}", lang, names=", ".join(missing))
    return tr("✓ models on this server", lang)


def _media(card, lang: str) -> str:
    return tr(MEDIA_WORDS[card.media], lang) if card.media in MEDIA_WORDS else card.media


def _problem(exc, ctx, lang: str) -> str:
    return tr("The templates cannot be shown: {reason}", lang, reason=describe(exc, lang=lang, names=ctx.names))


def _any_title(payload) -> str | None:
    """The category radio's reading of what a caller sent: any text (an unknown title shows the first
    category), anything else None; Gradio's own would end a raw call in its error for a title it did
    not offer in this session."""
    return payload if isinstance(payload, str) else None


def build_tab(ctx) -> TabHandles:
    """Create the "Templates" tab; :func:`wire_opening` connects its picks to the Custom workflow tab."""
    with gr.Tab("Templates", id="templates", elem_id="templates-tab") as tab:
        gr.Markdown("### What do you want to make?")
        category = gr.Radio([], value=None, label="Category", elem_id="templates-category")
        category.preprocess = _any_title   # not Gradio's check against the choices: show() takes any title
        gallery = gr.Gallery(label="Templates", columns=4, height="auto", allow_preview=False, interactive=False,
                             object_fit="cover", elem_id="templates-gallery")
        message = gr.Markdown("", elem_id="templates-message")
        details = gr.Markdown("", elem_id="templates-details")
        shown = gr.State([])   # the names of the cards shown, in order (what a pick's index means)
        with gr.Accordion("Your workflows saved in ComfyUI", open=True):
            saved = gr.Dropdown([], value=None, label="Saved workflow", allow_custom_value=True,  # checked by open_saved
                                elem_id="templates-saved")
            saved_message = gr.Markdown("", elem_id="templates-saved-message")
    library = TemplateLibrary(ctx, gallery.GRADIO_CACHE)

    def show(title, lang):
        """(category radio, gallery, message, details, shown names) for the category titled ``title``
        (the first when it is not one)."""
        try:
            categories = library.categories()
        except Exception as exc:  # noqa: BLE001 - server down, no library, a bad answer: one plain line
            return gr.skip(), gr.Gallery(value=[]), _problem(exc, ctx, lang), "", []
        if not categories:
            return gr.Radio(choices=[]), gr.Gallery(value=[]), tr("This ComfyUI server lists no templates.", lang), "", []
        chosen = next((c for c in categories if c.title == title), categories[0])
        cards = library.cards(chosen)
        items = [(thumb, f"{card.title} · {_media(card, lang)} · {_availability(missing, lang)}")
                 for card, thumb, missing in cards]
        lines = [f"- **{card.title}** ({_media(card, lang)}): {card.description} — {_availability(missing, lang)}"
                 for card, _, missing in cards]
        return (gr.Radio(choices=[c.title for c in categories], value=chosen.title), gr.Gallery(value=items), "",
                "\n".join(lines), [card.name for card, _, _ in cards])

    def list_saved(request: gr.Request, lang, browser_id=None):
        """(saved dropdown, saved message): the saved workflows, or why none are listed."""
        if not may_see_saved(ctx, request, browser_id):
            refusal = describe(LibraryRefused("saved_admins", field="saved"), lang=lang)
            return gr.Dropdown(choices=[], value=None, visible=False), refusal
        try:
            names = library.saved()
        except Exception as exc:  # noqa: BLE001 - server down or a bad answer: one plain line
            return gr.Dropdown(choices=[], value=None), describe(exc, lang=lang, names=ctx.names)
        note = "" if names else tr("No workflows are saved in ComfyUI yet (in its editor: Workflow > Save).", lang)
        return gr.Dropdown(choices=names, value=None, visible=True), note

    common = dict(api_visibility="private", concurrency_limit=None, show_progress="hidden")
    tab.select(show, inputs=[category, ctx.lang], outputs=[category, gallery, message, details, shown], **common)
    category.input(show, inputs=[category, ctx.lang], outputs=[category, gallery, message, details, shown], **common)
    tab.select(list_saved, inputs=[ctx.lang, *user_inputs(ctx)], outputs=[saved, saved_message], **common)
    return TabHandles(tab=tab, parts={"category": category, "gallery": gallery, "message": message,
                                      "details": details, "shown": shown, "saved": saved,
                                      "saved_message": saved_message, "library": library})


def wire_opening(ctx, templates: TabHandles, cw: TabHandles, tabs) -> None:
    """A picked card or saved workflow opens as the Custom workflow tab's form (and that tab is shown);
    what cannot be opened is said under the cards (or the saved list) and the page stays."""
    library: TemplateLibrary = templates.parts["library"]
    parts = templates.parts
    outputs = [cw.parts["workflow"], cw.parts["load_message"], tabs]

    def refused_to_run(request, browser_id, lang) -> str | None:
        return custom.access_note(ctx.jobs, caller_ids(request, browser_id), lang)

    def open_in_custom(name: str, read, lang):
        loaded, text = custom.opening(ctx, name, read, lang)
        if isinstance(loaded, dict) and "prompt" in loaded:   # else gr.skip(): not opened
            return loaded, text, gr.Tabs(selected="custom"), ""
        return gr.skip(), gr.skip(), gr.skip(), text

    def open_template(request: gr.Request, evt: gr.EventData, names, lang, browser_id=None):
        """A pick in the gallery. Its event data is read here, not by ``gr.SelectData`` (which a call
        without ``value`` crashes with Gradio's generic error): an index that is no card is said plainly."""
        if note := refused_to_run(request, browser_id, lang):
            return gr.skip(), gr.skip(), gr.skip(), note
        data = getattr(evt, "_data", None)
        index = data.get("index") if isinstance(data, dict) else None
        index = index if isinstance(index, int) and not isinstance(index, bool) else -1
        name = names[index] if isinstance(names, list) and 0 <= index < len(names) else None

        def read():
            card = library.card(name)
            return custom.workflow_from_text(card.name + ".json", library.template_text(card),
                                             ctx.catalog.object_info_or_none(), ctx.jobs.policy.max_nodes)
        return open_in_custom(f"{name}.json", read, lang)

    def open_saved(request: gr.Request, name, lang, browser_id=None):
        if not name:
            return gr.skip(), gr.skip(), gr.skip(), ""
        if not may_see_saved(ctx, request, browser_id):
            return gr.skip(), gr.skip(), gr.skip(), describe(LibraryRefused("saved_admins", field="saved"), lang=lang)
        if note := refused_to_run(request, browser_id, lang):
            return gr.skip(), gr.skip(), gr.skip(), note
        return open_in_custom(str(name), lambda: custom.workflow_from_text(
            str(name), library.saved_text(name), ctx.catalog.object_info_or_none(), ctx.jobs.policy.max_nodes), lang)

    common = dict(api_visibility="private", concurrency_limit=None, show_progress="hidden")
    parts["gallery"].select(open_template, inputs=[parts["shown"], ctx.lang, *user_inputs(ctx)],
                            outputs=[*outputs, parts["message"]], **common)
    parts["saved"].input(open_saved, inputs=[parts["saved"], ctx.lang, *user_inputs(ctx)],
                         outputs=[*outputs, parts["saved_message"]], **common)
