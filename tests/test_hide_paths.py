"""A public page cuts file-system paths from what it says (texts/server_names.hide_paths), live and recorded."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from comfy_ui_app.errors import JobFailed
from comfy_ui_app.texts.messages import describe, describe_recorded
from comfy_ui_app.texts.server_names import ServerNames, hide_paths

LONG = "p" * 300
HIDE_CASES = {
    "ComfyUI's Errno 36": (f"[Errno 36] File name too long: '/home/u/ComfyUI/output/{LONG}_00001_.png'",
                           f"[Errno 36] File name too long: '…/{'p' * 40}…'"),
    "a file that is not there": ("No such file or directory: '/srv/models/checkpoints/x.ckpt', then",
                                 "No such file or directory: '…/x.ckpt', then"),
    "a path that climbs": ("Invalid image file: ../../etc/passwd", "Invalid image file: …/passwd"),
    "a home folder": ("~/secret/x.safetensors", "…/x.safetensors"),
    "Windows": ("C:\\Users\\bob\\ComfyUI\\input\\x.png not found", "…/x.png not found"),
    "a folder": ("path /a/b/, next", "path …/, next"),
    "a route is no path": ("ComfyUI answered 500 for /prompt", "ComfyUI answered 500 for /prompt"),
    "a URL is the server names' job": ("see http://gpu-1:8188/view?filename=a/b.png", "see http://gpu-1:8188/view?filename=a/b.png"),
    "an annotated name stays": ("image: 'x.png [output]' not in ['a.png', 'sub/b.png']",
                                "image: 'x.png [output]' not in ['a.png', 'sub/b.png']"),
    "words with slashes stay": ("ratio 1/2 and/or 3", "ratio 1/2 and/or 3"),
}


@pytest.mark.parametrize("text, expected", HIDE_CASES.values(), ids=HIDE_CASES.keys())
def test_hide_paths(text, expected):
    assert hide_paths(text) == expected


FAILED = JobFailed("p1", node_id="9", node_type="SaveImage",
                   exception_message=f"[Errno 36] File name too long: '/home/u/ComfyUI/output/{LONG}'",
                   exception_type="OSError")


def test_a_public_page_says_no_path_a_private_one_and_the_cli_do():
    public = describe(FAILED, names=ServerNames.of([], hide_paths=True))
    assert "/home/u" not in public and public.endswith("File name too long: '…/" + "p" * 40 + "…'")
    assert "/home/u/ComfyUI/output" in describe(FAILED, names=ServerNames.of([]))   # a private page
    assert "/home/u/ComfyUI/output" in describe(FAILED)                             # the command line


def test_a_recorded_error_is_cut_too():
    record = SimpleNamespace(error=describe(FAILED), error_code=None, error_data=None)   # an old, text-only row
    assert "/home/u" not in describe_recorded(record, names=ServerNames(hide_paths=True))
    assert "/home/u" in describe_recorded(record, names=ServerNames())
