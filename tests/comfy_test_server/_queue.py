"""Prompt queue and history, with ComfyUI's observable semantics.

Sources (``tests/fixtures/comfyui``):

* ``queue_ordering.json``: items are ``(number, prompt_id, prompt, extra_data,
  outputs_to_execute)``; ``queue_pending`` is the raw ``heapq`` list (heap order,
  *not* sorted); the lowest number runs first;
* ``queue_interrupt_free.json``: ``delete`` removes pending items only (then the list
  is re-heapified) and broadcasts ``status`` only when something was removed;
  ``clear`` always broadcasts; deleted prompts never reach history;
* ``history.json``: entries in completion order; ``max_items`` / ``offset`` as in
  ``PromptQueue.get_history``; unknown ids give ``{}``.

All methods run on the server's event loop thread; no locking is needed.
"""
from __future__ import annotations

import copy
import heapq
from typing import Callable

MAXIMUM_HISTORY_SIZE = 10000


class PromptQueue:
    def __init__(self, on_change: Callable[[], None]):
        self.queue: list[tuple] = []
        self.running: dict[int, tuple] = {}
        self.history: dict[str, dict] = {}
        self.flags: dict = {}
        self._task_counter = 0
        self._on_change = on_change

    # -- pending / running -------------------------------------------------------
    def put(self, item: tuple) -> None:
        heapq.heappush(self.queue, item)
        self._on_change()

    def get(self) -> tuple[tuple, int]:
        item = heapq.heappop(self.queue)
        task_id = self._task_counter
        self._task_counter += 1
        self.running[task_id] = copy.deepcopy(item)
        self._on_change()
        return item, task_id

    def tasks_remaining(self) -> int:
        return len(self.queue) + len(self.running)

    def current(self) -> tuple[list, list]:
        """``(queue_running, queue_pending)`` as ``GET /queue`` shows them."""
        return [list(x) for x in self.running.values()], [list(x) for x in self.queue]

    def running_prompt_ids(self) -> list[str]:
        return [item[1] for item in self.running.values()]

    def wipe(self) -> None:
        self.queue = []
        self._on_change()

    def delete(self, prompt_id) -> bool:
        for i, item in enumerate(self.queue):
            if item[1] == prompt_id:
                if len(self.queue) == 1:
                    self.wipe()
                else:
                    self.queue.pop(i)
                    heapq.heapify(self.queue)
                    self._on_change()
                return True
        return False

    # -- completion / history ----------------------------------------------------
    def task_done(self, task_id: int, history_result: dict, status: dict) -> None:
        prompt = self.running.pop(task_id)
        if len(self.history) > MAXIMUM_HISTORY_SIZE:
            self.history.pop(next(iter(self.history)))
        self.history[prompt[1]] = {"prompt": list(prompt), "outputs": {}, "status": copy.deepcopy(status)}
        self.history[prompt[1]].update(history_result)
        self._on_change()

    def get_history(self, prompt_id=None, max_items=None, offset=-1) -> dict:
        if prompt_id is not None:
            if prompt_id in self.history:
                return {prompt_id: copy.deepcopy(self.history[prompt_id])}
            return {}
        out, i = {}, 0
        if offset < 0 and max_items is not None:
            offset = len(self.history) - max_items
        for key in self.history:
            if i >= offset:
                out[key] = self.history[key]
                if max_items is not None and len(out) >= max_items:
                    break
            i += 1
        return out

    def wipe_history(self) -> None:
        self.history = {}

    def delete_history_item(self, prompt_id) -> None:
        self.history.pop(prompt_id, None)

    # -- /free flags -------------------------------------------------------------
    def set_flag(self, name: str, value) -> None:
        self.flags[name] = value

    def take_flags(self) -> dict:
        flags, self.flags = self.flags, {}
        return flags
