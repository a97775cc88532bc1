"""The words of the app's Gradio API (``/gradio_api/info``, ``Client.view_api()``, the "Use via API" page).

``ENDPOINTS``: what each public endpoint does, what its parameters mean where the handler's own
names need words, and, for endpoints whose outputs have no label on the page, the names of what
they return in order. ``FIELDS``: the well-known workflow fields (``Field.name``). ``PARAMS`` and
``RETURNS``: names several endpoints share. English only: the API speaks to programs and their authors.
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Endpoint", "ENDPOINTS", "FIELDS", "PARAMS", "RETURNS", "ERROR_SLOT"]


@dataclass(frozen=True)
class Endpoint:
    summary: str
    params: dict[str, str] = field(default_factory=dict)
    returns: tuple[tuple[str, str], ...] = ()   # by position; outputs past the end are named from the page


ERROR_SLOT = "Why the value given for `{name}` was refused (Markdown), empty when it was fine."

FIELDS = {
    "prompt": "What the picture should show.",
    "negative": "What the picture should not show.",
    "checkpoint": "The model that paints the picture: a file name from the server's checkpoints (see /server_status).",
    "seed": "The seed; the same seed with the same settings gives the same picture. -1: a random one.",
    "steps": "Sampling steps: more is slower, often with more detail.",
    "cfg": "How strictly to follow the prompt (classifier-free guidance).",
    "sampler": "The sampler's name, one of the server's (e.g. euler).",
    "scheduler": "The scheduler's name, one of the server's (e.g. normal, karras).",
    "width": "Picture width in pixels.",
    "height": "Picture height in pixels.",
    "batch_size": "Pictures per job.",
    "denoise": "How much of the picture is painted anew (1: all of it).",
    "filename_prefix": "The start of the saved files' names on the server.",
    "grow_mask": "Pixels ComfyUI grows the mask by to soften the seam.",
    "lora": "A LoRA file name from the server's, or \"(none)\".",
    "lora_strength": "How strongly the LoRA acts.",
}

PARAMS = {
    "browser_id": "Who the caller is when the app has no login: the signed id a browser keeps (leave it out "
                  "or None: an anonymous caller, who sees only its own jobs).",
    "random_seed": "True: a new random seed for each job (the seed given is ignored).",
    "batch_count": "Jobs one after another, each with its own seed.",
    "image": "The picture to change, with the part to paint over painted in (an ImageEditor value: "
             "background plus a layer whose painted pixels are the mask).",
    "invert_mask": "True: keep the painted part and change the rest.",
    "mask_grow": "Pixels the painted mask grows by before it is sent.",
    "mask_blur": "Pixels of blur at the mask's edge.",
    "selected": "A job's id from the listing (the Job list's value), or None.",
    "choice": "A job's id from the listing (the Job list's value).",
    "which": "Which ComfyUI server the details are for: 1 for the first, 2 for the second…",
    "name": "A node class name from the server's /object_info (e.g. KSampler).",
    "page": "The listing's page, 0 for the newest.",
}

RETURNS = {
    "progress": "The progress line (Markdown): queue position, step, or how it ended.",
    "preview": "The latest preview picture while the job runs.",
    "images": "The finished pictures: a list of {image: file path, caption} (the file is downloaded).",
    "message": "A plain sentence about the run: empty when all went well, else what went wrong.",
    "seed": "The seed the job used.",
    "mask_sent_to_comfyui": "The mask as sent to ComfyUI (white: painted anew).",
}

_LISTING = (("summary", "What the listing shows (Markdown)."), ("jobs", "The jobs: one row each."))
_QUEUE = (("message", "What the action did, in a sentence."), *_LISTING,
          ("job", "The Job list: every job's id and label, and the one selected."))
_QUEUE_PARAMS = {"selected": "The job to act on: its id from the Job list (None for Refresh, Interrupt, Clear)."}
_HISTORY_LIST = (("page", "The page number shown: 1 is the newest."),
                 ("page_label", "Which page this is, of how many, and how many jobs match (Markdown)."),
                 ("tiles", "The page's jobs as tiles, newest first: a thumbnail of each job's first picture "
                           "(or a drawn tile saying its kind and status) with a caption."),
                 ("job", "The Job list: the page's jobs' ids, and the job opened (None: the grid)."),
                 ("other_jobs", "Admins only: prompts run on the servers from elsewhere."),
                 ("filter_message", "Why a filter was refused (Markdown), empty when every filter was fine."))
_HISTORY_PARAMS = {"choice": "The job to act on: its id from the Job list (history_load's job list)."}
_HISTORY_PAGE = {
    "number": "The page to show, 1 for the newest (Newer and Older step from it).",
    "text": "Only jobs whose prompt or negative prompt contains this text, in any case (empty: all).",
    "starred": "True: only the jobs starred as favourites.",
    "tab_kind": "Only the jobs of one tab: all, txt2img, inpaint, custom or other.",
    "when": "Only the jobs of the last day, week or month: all, day, week or month.",
    "since": "Only the jobs made on or after this date (YYYY-MM-DD), or empty.",
    "until": "Only the jobs made on or before this date (YYYY-MM-DD), or empty.",
}
_HISTORY_DONE = (("message", "What happened, in a sentence."),
                 ("job", "The Job list's value afterwards: the job still opened, None after a delete."))
_BANNER = (("banner", "The server's state (Markdown): empty while ComfyUI answers, else what is wrong."),)

ENDPOINTS = {
    "generate": Endpoint("Text to image: run the txt2img workflow with these values and stream its progress; "
                         "the last update holds the pictures. Every parameter may be left out: the page's value."),
    "interrupt": Endpoint("Stop this caller's text-to-image job (and its stream).",
                          {"browser_id": PARAMS["browser_id"]}),
    "retry": Endpoint("Run this caller's last failed text-to-image job again and stream it."),
    "reuse_seed": Endpoint("The seed of this session's last run, with random seed off.",
                           returns=(("seed", "The last run's seed."),
                                    ("random_seed", "False: the seed is used as it is."))),
    "inpaint": Endpoint("Inpainting: paint anew the painted part of a picture and stream the progress; "
                        "the last update holds the pictures."),
    "inpaint_retry": Endpoint("Run this caller's last failed inpainting job again and stream it."),
    "inpaint_interrupt": Endpoint("Stop this caller's inpainting job (and its stream)."),
    "queue_load": Endpoint("The queue as this caller may see it.", returns=_QUEUE[1:]),
    "queue_refresh": Endpoint("The queue again, fresh from the servers.", _QUEUE_PARAMS, _QUEUE),
    "queue_cancel": Endpoint("Take a waiting job of this caller's out of the queue.", _QUEUE_PARAMS, _QUEUE),
    "queue_front": Endpoint("Admins: move a waiting job to the front of the queue.", _QUEUE_PARAMS, _QUEUE),
    "queue_interrupt": Endpoint("Stop the running job (this caller's, or any for an admin).", _QUEUE_PARAMS, _QUEUE),
    "queue_clear": Endpoint("Admins: take every waiting job out of the queue.", _QUEUE_PARAMS, _QUEUE),
    "history_load": Endpoint("The first page of this caller's history grid.", returns=_HISTORY_LIST),
    "history_newer": Endpoint("The history's newer page.", _HISTORY_PAGE, _HISTORY_LIST),
    "history_older": Endpoint("The history's older page.", _HISTORY_PAGE, _HISTORY_LIST),
    "history_refresh": Endpoint("The history's page again.", _HISTORY_PAGE, _HISTORY_LIST),
    "history_page": Endpoint("One page of the history grid, filtered.", _HISTORY_PAGE, _HISTORY_LIST),
    "history_open": Endpoint("One job of this caller's: its outputs and parameters.", _HISTORY_PARAMS,
                             (("detail", "The job's facts (Markdown)."), ("outputs", "The job's pictures, full size."),
                              ("parameters", "The values the job ran with."))),
    "history_load_parameters": Endpoint("A job's values, as the form's Load parameters takes them.",
                                        _HISTORY_PARAMS, (("message", "What happened, in a sentence."),)),
    "history_rerun": Endpoint("Run a job of this caller's again as a new job.", _HISTORY_PARAMS, _HISTORY_DONE),
    "history_delete": Endpoint("Delete a job of this caller's from the history (and its files).", _HISTORY_PARAMS,
                               _HISTORY_DONE),
    "history_clear": Endpoint("Delete every finished job of this caller's from the history, except the starred.",
                              _HISTORY_PARAMS, _HISTORY_DONE),
    "history_star": Endpoint("Star a job of this caller's: a favourite, kept by Clear.", _HISTORY_PARAMS,
                             _HISTORY_DONE),
    "history_unstar": Endpoint("Take the star off a job of this caller's.", _HISTORY_PARAMS, _HISTORY_DONE),
    "system_refresh": Endpoint("A ComfyUI server's facts: memory, models, embeddings, extensions, node classes.",
                               returns=(("stats", "Versions, devices and memory (Markdown)."),
                                        ("free_memory", "Free memory over time."),
                                        ("models", "The model folders and their files."),
                                        ("embeddings", "The embeddings, one a line."),
                                        ("extensions", "The front-end extensions, one a line."),
                                        ("node", "The node class list."),
                                        ("timer", "The page's memory sampling timer (its settings)."))),
    "system_servers": Endpoint("Every ComfyUI server of the app: address, state and load.",
                               returns=(("servers", "One row per server."),)),
    "system_numbers": Endpoint("Jobs in the last hour: how many, how long they waited and ran.",
                               returns=(("numbers", "One row per figure."),)),
    "system_node": Endpoint("One node class's definition from the server's /object_info.",
                            returns=(("definition", "The node's inputs and outputs as the server describes them."),)),
    "system_free_memory": Endpoint("Admins: ask the server to free memory.",
                                   returns=(("message", "What happened, in a sentence."),)),
    "system_unload_models": Endpoint("Admins: ask the server to unload its models.",
                                     returns=(("message", "What happened, in a sentence."),)),
    "server_status": Endpoint("Whether ComfyUI answers, and the server's current lists for the forms' choices.",
                              returns=_BANNER),
}
