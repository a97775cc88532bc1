"""``POST /prompt`` graph validation, reproducing ComfyUI 0.3.64's error bodies.

Every message, ``details`` string and ``extra_info`` shape below is taken from
``tests/fixtures/comfyui/post_prompt_errors.json``; the field notes
(``gradio-comfyui-notes.md`` B2) give the newer ``missing_node_type`` variant used
with ``newer_server=True``.

The structure mirrors the real server on purpose, including its quirks:

* validation recurses from each output node up its links; an exception raised
  while validating an upstream node is reported on *that* node as
  ``exception_during_inner_validation`` (with the *caller's* ``input_name``);
  one raised by the output node itself is ``exception_during_validation``;
* ``dependent_outputs`` is filled from every failed node validated so far;
* inputs are converted in place (``"4"`` -> ``4`` for an INT), so queued prompts
  and history show the converted values;
* ``details`` of ``prompt_outputs_failed_validation`` only lists the output nodes'
  own errors (so it is ``""`` when the error is upstream).

Where ComfyUI iterates a ``set`` (random order per process) this module uses the
prompt's / the node table's order instead.
"""
from __future__ import annotations

import os

from ._nodes import NodeTable

_TB = '  File "<comfyui-root>/execution.py", line {line}, in {func}\n    <source line omitted>\n'
_LINE_PROMPT_NODE = 788   # prompt[o_id]['class_type']
_LINE_RETURN_TYPE = 790   # RETURN_TYPES[val[1]]
_LINE_RECURSE = 808       # validate_inputs(linked node)
_LINE_VALIDATE_PROMPT = 1010
_LINE_OTHER = 760         # anything else inside validate_inputs (not recorded; approximate)


def _tb(*frames):
    return [_TB.format(line=line, func=func) for line, func in frames]


def _full_type_name(exc: BaseException) -> str:
    klass = type(exc)
    if klass.__module__ == "builtins":
        return klass.__qualname__
    return klass.__module__ + "." + klass.__qualname__


class _RaisedAt(Exception):
    """Wraps a lookup failure with the line the real server raises it on."""

    def __init__(self, exc: BaseException, line: int):
        super().__init__(str(exc))
        self.exc, self.line = exc, line


def _input_spec(entry: dict, name: str):
    for category in ("required", "optional"):
        spec = entry["input"].get(category, {})
        if name in spec:
            info = spec[name]
            return info[0], category, (info[1] if len(info) > 1 else {})
    return None, None, None


def _input_names(entry: dict) -> list[str]:
    order = entry.get("input_order") or {}
    names = list(order.get("required", [])) + list(order.get("optional", []))
    for category in ("required", "optional"):
        names += [n for n in entry["input"].get(category, {}) if n not in names]
    return names


def types_compatible(received, expected) -> bool:
    """``validate_node_input``: equal, ``*``, or overlapping comma-separated unions."""
    if not received != expected:
        return True
    if not isinstance(received, str) or not isinstance(expected, str):
        return False
    got = {t.strip() for t in received.split(",")}
    want = {t.strip() for t in expected.split(",")}
    if "*" in got or "*" in want:
        return True
    return not got.isdisjoint(want)


def annotated_filepath(name: str, dirs: dict):
    """``folder_paths.annotated_filepath``: ``"x.png [input]"`` -> ``("x.png", input_dir)``."""
    for kind, cut in (("output", 9), ("input", 8), ("temp", 7)):
        if name.endswith(f"[{kind}]"):
            return name[:-cut], dirs[kind]
    return name, None


class Validator:
    def __init__(self, table: NodeTable, dirs: dict, newer_server: bool = False):
        self.table, self.dirs, self.newer = table, dirs, newer_server

    # -- top level ---------------------------------------------------------------
    def validate_prompt(self, prompt, partial_targets=None):
        """Returns ``(ok, error, outputs_to_execute, node_errors)`` like ComfyUI."""
        outputs = []
        for x in prompt:
            node = prompt[x]
            if "class_type" not in node:
                return False, self._missing_class_error(x, node, None), [], {}
            class_type = node["class_type"]
            if class_type not in self.table:
                return False, self._missing_class_error(x, node, class_type), [], {}
            if self.table.is_output_node(class_type):
                if partial_targets is None or x in partial_targets:
                    outputs.append(x)
        if not outputs:
            return False, _error("prompt_no_outputs", "Prompt has no outputs", ""), [], {}

        good, failed, node_errors, validated = [], [], {}, {}
        for o in outputs:
            try:
                valid, reasons = self._validate_inputs(prompt, o, validated)[:2]
            except _RaisedAt as wrapped:
                valid = False
                reasons = [_error(
                    "exception_during_validation", "Exception when validating node", str(wrapped.exc),
                    exception_type=_full_type_name(wrapped.exc),
                    traceback=_tb((_LINE_VALIDATE_PROMPT, "validate_prompt"),
                                  (wrapped.line, "validate_inputs")))]
                validated[o] = (False, reasons, o)
            if valid is True:
                good.append(o)
                continue
            failed.append((o, reasons))
            for node_id, (ok, node_reasons, _) in validated.items():
                if ok is not True and node_reasons:
                    if node_id not in node_errors:
                        node_errors[node_id] = {"errors": node_reasons, "dependent_outputs": [],
                                                "class_type": prompt[node_id]["class_type"]}
                    node_errors[node_id]["dependent_outputs"].append(o)
        if not good:
            details = "\n".join(f"{r['message']}: {r['details']}" for _, rs in failed for r in rs)
            error = _error("prompt_outputs_failed_validation", "Prompt outputs failed validation", details)
            return False, error, [], node_errors
        return True, None, good, node_errors

    def _missing_class_error(self, x, node, class_type):
        details = f"Node ID '#{x}'"
        if not self.newer:
            if class_type is None:
                return _error("invalid_prompt",
                              "Cannot execute because a node is missing the class_type property.", details)
            return _error("invalid_prompt", f"Cannot execute because node {class_type} does not exist.", details)
        meta = node.get("_meta", {}) if isinstance(node, dict) else {}
        if class_type is None:
            title = meta.get("title")
            message = (f"Node '{title or f'ID #{x}'}' has no class_type. "
                       "The workflow may be corrupted or a custom node is missing.")
        else:
            title = meta.get("title", class_type)
            message = f"Node '{title}' not found. The custom node may not be installed."
        return _error("missing_node_type", message, details,
                      node_id=x, class_type=class_type, node_title=title)

    # -- one node ----------------------------------------------------------------
    def _validate_inputs(self, prompt, unique_id, validated):
        """Like ComfyUI, anything raised here reaches the caller (reported there)."""
        try:
            return self._validate_node(prompt, unique_id, validated)
        except _RaisedAt:
            raise
        except Exception as exc:
            raise _RaisedAt(exc, _LINE_OTHER) from exc

    def _validate_node(self, prompt, unique_id, validated):
        if unique_id in validated:
            return validated[unique_id]
        inputs = prompt[unique_id]["inputs"]
        class_type = prompt[unique_id]["class_type"]
        entry = self.table.info(class_type)
        custom_validated = ("image",) if class_type in ("LoadImage", "LoadImageMask") else ()
        errors, valid = [], True

        for x in _input_names(entry):
            input_type, category, extra = _input_spec(entry, x)
            if x not in inputs:
                if category == "required":
                    errors.append(_error("required_input_missing", "Required input is missing", f"{x}",
                                         input_name=x))
                continue
            val = inputs[x]
            info = [input_type, extra]
            if isinstance(val, list):
                if len(val) != 2:
                    errors.append(_error(
                        "bad_linked_input", "Bad linked input, must be a length-2 list of [node_id, slot_index]",
                        f"{x}", input_name=x, input_config=info, received_value=val))
                    continue
                o_id = val[0]
                try:
                    o_class_type = prompt[o_id]["class_type"]
                except Exception as exc:
                    raise _RaisedAt(exc, _LINE_PROMPT_NODE) from exc
                try:
                    received = self.table.return_types(o_class_type)[val[1]]
                except Exception as exc:
                    raise _RaisedAt(exc, _LINE_RETURN_TYPE) from exc
                if not types_compatible(received, input_type):
                    errors.append(_error(
                        "return_type_mismatch", "Return type mismatch between linked nodes",
                        f"{x}, received_type({received}) mismatch input_type({input_type})",
                        input_name=x, input_config=info, received_type=received, linked_node=val))
                    continue
                try:
                    if self._validate_inputs(prompt, o_id, validated)[0] is False:
                        valid = False
                except _RaisedAt as wrapped:
                    valid = False
                    validated[o_id] = (False, [_error(
                        "exception_during_inner_validation", "Exception when validating inner node",
                        str(wrapped.exc), input_name=x, input_config=info,
                        exception_message=str(wrapped.exc), exception_type=_full_type_name(wrapped.exc),
                        traceback=_tb((_LINE_RECURSE, "validate_inputs"), (wrapped.line, "validate_inputs")),
                        linked_node=val)], o_id)
                continue

            try:
                if isinstance(val, dict) and "__value__" in val:
                    val = inputs[x] = val["__value__"]
                convert = {"INT": int, "FLOAT": float, "STRING": str, "BOOLEAN": bool}.get(
                    input_type if isinstance(input_type, str) else None)
                if convert is not None:
                    val = inputs[x] = convert(val)
            except Exception as exc:
                errors.append(_error(
                    "invalid_input_type", f"Failed to convert an input value to a {input_type} value",
                    f"{x}, {val}, {exc}", input_name=x, input_config=info, received_value=val,
                    exception_message=str(exc)))
                continue
            if x in custom_validated:
                continue
            if "min" in extra and val < extra["min"]:
                errors.append(_error("value_smaller_than_min", f"Value {val} smaller than min of {extra['min']}",
                                     f"{x}", input_name=x, input_config=info, received_value=val))
                continue
            if "max" in extra and val > extra["max"]:
                errors.append(_error("value_bigger_than_max", f"Value {val} bigger than max of {extra['max']}",
                                     f"{x}", input_name=x, input_config=info, received_value=val))
                continue
            if isinstance(input_type, list) and val not in input_type:
                config, listed = info, str(input_type)
                if len(input_type) > 20:
                    config, listed = None, f"(list of length {len(input_type)})"
                errors.append(_error("value_not_in_list", "Value not in list", f"{x}: '{val}' not in {listed}",
                                     input_name=x, input_config=config, received_value=val))
                continue

        for x in custom_validated:  # LoadImage / LoadImageMask VALIDATE_INPUTS
            value = inputs.get(x)
            if isinstance(value, str) and not self._input_file_exists(value):
                errors.append(_error("custom_validation_failed", "Custom validation failed for node",
                                     f"{x} - Invalid image file: {value}", input_name=x))

        result = (False, errors, unique_id) if errors or valid is not True else (True, [], unique_id)
        validated[unique_id] = result
        return result

    def _input_file_exists(self, name: str) -> bool:
        name, base = annotated_filepath(name, self.dirs)
        return os.path.exists(os.path.join(base or self.dirs["input"], name))


def _error(type_: str, message: str, details: str, **extra_info) -> dict:
    return {"type": type_, "message": message, "details": details, "extra_info": extra_info}
