"""Named, documented parameters and returns for the app's public Gradio endpoints.

Gradio 6.31 names an endpoint's parameters after its handler's signature
(``utils.get_positional_input_parameters``: ``inspect.signature``, which honours
``__signature__``) and calls the rest ``param_<index>``: a handler that takes ``*values`` (one per
field of a workflow's form) showed ``/generate`` as ``param_3`` … ``param_18``. :func:`api_handler`
wraps such a handler in a function of the same kind (plain, coroutine, generator, async generator)
whose signature names every input (a form field by its workflow ``Field.name``) with ``None`` as
default, so that ``Client.predict(prompt=..., api_name="/generate")`` fills everything else from the
page's values; a ``gr.Request`` parameter stays first, where Gradio fills it in. Gradio calls it
positionally, exactly as before: a raw call with a JSON list works unchanged.

Gradio puts no per-parameter text into ``/info``: :func:`document` (called by
``ui._blocks.Blocks.get_api_info``) adds it: each parameter's description (the wrapper's docstring
``Args:``, else ``ui._api_docs``' words for that endpoint or that name, else its field's label and
range), each return's name and description, and the endpoint's description. The hidden per-page
events (``api_visibility="private"``) are not in ``/info`` at all, as before.
"""
from __future__ import annotations

import inspect
import keyword
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional, Sequence

import gradio as gr
from gradio import utils as gr_utils

from comfy_ui_app.ui import _api_docs as docs

__all__ = ["Param", "api_handler", "input_params", "output_docs", "identifier", "document", "RESERVED"]

RESERVED = frozenset({"api_name", "fn_index", "result_callbacks", "request"})


@dataclass(frozen=True)
class Param:
    """One input of an endpoint: its keyword for ``Client.predict`` and what it means."""

    name: str
    description: str = ""


def identifier(text: str, taken: Iterable[str] = ()) -> str:
    """``text`` as a Python identifier that is not a keyword, not one Gradio reserves and not in ``taken``."""
    name = re.sub(r"\W+", "_", str(text or "").strip()).strip("_").lower() or "value"
    if name[0].isdigit():
        name = f"field_{name}"
    if keyword.iskeyword(name) or name in RESERVED:
        name += "_"
    taken, base, n = set(taken), name, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    return name


def _number_range(component) -> str:
    low, high = getattr(component, "minimum", None), getattr(component, "maximum", None)
    if isinstance(component, gr.Slider) and low is not None and high is not None:
        return f"A number from {low:g} to {high:g}."
    return ""


def component_description(component, fallback: str = "") -> str:
    """What a field's control says on the page: its label, its hint and its range."""
    label = getattr(component, "label", None) or fallback
    parts = [label or "", getattr(component, "info", None) or "", _number_range(component)]
    return " ".join(_sentence(p) for p in parts if p and p.strip())


def _sentence(text: str) -> str:
    text = " ".join(str(text).split())
    return text if text.endswith((".", "!", "?", ")")) else f"{text}."


def _field_names(forms: Iterable) -> dict[int, tuple[str, str]]:
    """``{component id: (field name, field label)}`` for every item of ``forms`` (``ui.form.Form``)."""
    return {item.component._id: (item.field.name, item.field.label) for form in forms for item in form.items}


def input_params(inputs: Sequence, *, forms: Iterable = (), names: dict | None = None) -> list[Param]:
    """One :class:`Param` per input component, in order: ``names`` (``{component: name}``) first, then a form
    field's name, ``browser_id`` for the browser's id, else the control's label; all unique identifiers."""
    fields, given = _field_names(forms), {c._id: n for c, n in (names or {}).items()}
    taken: set[str] = set()
    out = []
    for component in inputs:
        field, label = fields.get(component._id, (None, None))
        if component._id in given:
            raw = given[component._id]
        elif field:
            raw = field
        elif isinstance(component, gr.BrowserState):
            raw = "browser_id"
        elif isinstance(component, gr.State):
            raw = "state"
        else:
            raw = getattr(component, "label", None) or "value"
        name = identifier(raw, taken)
        taken.add(name)
        known = docs.PARAMS.get(name, "") or (docs.FIELDS.get(field, "") if field else "")
        text = f"{known} {_number_range(component)}".strip() if known else component_description(component, label)
        out.append(Param(name, text))
    return out


def output_docs(outputs: Sequence, params: Sequence[Param], inputs: Sequence, *, forms: Iterable = (),
                pairs: Iterable = (), names: dict | None = None) -> list[tuple[str, str]]:
    """``(name, description)`` per output component, in order: ``names`` (``{component: (name, text)}``), a
    field's error slot (``pairs``: ``(input, its error slot)``; a form's items are paired already) as
    ``<input name>_error``, else from its label or ``elem_id``."""
    given = {c._id: v for c, v in (names or {}).items()}
    by_input = {c._id: p.name for c, p in zip(inputs, params)}
    slots = {item.error._id: item.component._id for form in forms for item in form.items}
    slots.update({error._id: component._id for component, error in pairs})
    out = []
    for component in outputs:
        if component._id in given:
            out.append(given[component._id])
        elif component._id in slots and slots[component._id] in by_input:
            name = by_input[slots[component._id]]
            out.append((f"{name}_error", docs.ERROR_SLOT.format(name=name)))
        else:
            out.append(fallback_return(component))
    return out


def fallback_return(component) -> tuple[str, str]:
    """A return's name and description from what the page shows: its label, else its ``elem_id``."""
    label = getattr(component, "label", None)
    raw = label or (getattr(component, "elem_id", None) or "value").split("-", 1)[-1]
    name = identifier(raw)
    return name, docs.RETURNS.get(name) or (f"The page's \u201c{label}\u201d." if label else f"The page's {raw}.")


def _docstring(summary: str, params: Sequence[Param]) -> str:
    lines = [summary.strip() or "An endpoint of the page.", "", "Args:"]
    lines += [f"    {p.name}: {' '.join(p.description.split())}" for p in params]
    return "\n".join(lines)


def _wrap(fn: Callable) -> Callable:
    """A function of the same kind as ``fn`` that passes everything through."""
    if inspect.isasyncgenfunction(fn):
        async def wrapper(*args, **kwargs):
            async for item in fn(*args, **kwargs):
                yield item
    elif inspect.isgeneratorfunction(fn):
        def wrapper(*args, **kwargs):
            yield from fn(*args, **kwargs)
    elif inspect.iscoroutinefunction(fn):
        async def wrapper(*args, **kwargs):
            return await fn(*args, **kwargs)
    else:
        def wrapper(*args, **kwargs):
            return fn(*args, **kwargs)
    return wrapper


def _wants_request(fn: Callable) -> bool:
    params = list(inspect.signature(fn).parameters.values())
    hints = gr_utils.get_type_hints(fn)
    return bool(params) and hints.get(params[0].name) in (gr.Request, Optional[gr.Request])


def api_handler(fn: Callable, inputs: Sequence, outputs: Sequence, *, summary: str = "", forms: Iterable = (),
                names: dict | None = None, pairs: Iterable = (), returns: dict | None = None) -> Callable:
    """``fn`` (``(request: gr.Request, *inputs)`` or ``(*inputs)``, one positional value per input) as Gradio
    should show it: each of the event's ``inputs`` named (:func:`input_params`: ``forms``' fields, ``names``),
    each with ``None`` as default; its ``outputs`` named and described (:func:`output_docs`: ``returns``
    ``{component: (name, description)}``, ``pairs``); ``summary`` what the endpoint does."""
    forms = list(forms)
    params = input_params(inputs, forms=forms, names=names)
    wrapper = _wrap(fn)
    signature = [inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None) for p in params]
    annotations: dict[str, Any] = {}
    if _wants_request(fn):
        signature.insert(0, inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                              annotation=gr.Request))
        annotations["request"] = gr.Request
    wrapper.__signature__ = inspect.Signature(signature)
    wrapper.__annotations__ = annotations
    wrapper.__name__ = wrapper.__qualname__ = getattr(fn, "__name__", "handler")
    wrapper.__doc__ = _docstring(summary, params)
    wrapper.__api_returns__ = tuple(output_docs(outputs, params, inputs, forms=forms, pairs=pairs, names=returns))
    return wrapper


def _named_outputs(blocks) -> dict[int, tuple[str, str]]:
    """``{component id: (name, description)}`` from every wrapped handler's outputs: Retry and Interrupt
    show the same components as Generate, under the same names."""
    known: dict[int, tuple[str, str]] = {}
    for block_fn in blocks.fns.values():
        for component, doc in zip(block_fn.outputs, getattr(block_fn.fn, "__api_returns__", ()) or ()):
            known.setdefault(component._id, doc)
    return known


def _param_text(api_name: str, parameter: dict, described: dict[str, str]) -> str:
    name = parameter.get("parameter_name") or ""
    endpoint = docs.ENDPOINTS.get(api_name)
    return (described.get(name) or (endpoint.params.get(name, "") if endpoint else "") or docs.PARAMS.get(name, "")
            or f"The page's \u201c{parameter.get('label') or name}\u201d.")


def _return_docs(block_fn, blocks, known) -> list[tuple[str, str]]:
    """``(name, description)`` for each output Gradio lists: the endpoint's own words in ``_api_docs`` first
    (by position), then a wrapped handler's name for that component, else its label."""
    listed = [o for o in block_fn.outputs if not blocks.blocks[o._id].skip_api]
    endpoint = docs.ENDPOINTS.get(block_fn.api_name)
    own = list(endpoint.returns) if endpoint else []
    return [own[i] if i < len(own) else known.get(o._id) or fallback_return(o) for i, o in enumerate(listed)]


def _document_endpoint(block_fn, info: dict, blocks, known) -> None:
    _, described, _ = gr_utils.get_function_description(block_fn.fn)
    endpoint = docs.ENDPOINTS.get(block_fn.api_name)
    if endpoint and block_fn.api_description is None:
        info["description"] = endpoint.summary
    for parameter in info.get("parameters", []):
        if parameter.get("component") == "Browserstate" and not parameter.get("parameter_has_default"):
            parameter.update(parameter_has_default=True, parameter_default=None)   # None: an anonymous caller
        text = _param_text(block_fn.api_name, parameter, described)
        kind = parameter["python_type"].get("description") or ""   # the component's own (a file's shape)
        parameter["python_type"]["description"] = f"{text} ({kind})" if kind and kind not in text else text
    returned = _return_docs(block_fn, blocks, known)
    if len(returned) == len(info.get("returns", [])):
        for item, (name, text) in zip(info["returns"], returned):
            item["label"] = name
            kind = item["python_type"].get("description") or ""
            item["python_type"]["description"] = f"{text} ({kind})" if kind and kind not in text else text


def document(info: dict, blocks) -> dict:
    """``info`` (``Blocks.get_api_info``'s answer) with descriptions for every public endpoint of ``blocks``."""
    by_name = {f"/{fn.api_name}": fn for fn in blocks.fns.values() if fn.fn and fn.api_name}
    known = _named_outputs(blocks)
    for path, endpoint_info in info.get("named_endpoints", {}).items():
        block_fn = by_name.get(path)
        if block_fn is not None:
            _document_endpoint(block_fn, endpoint_info, blocks, known)
    return info
