"""Bridge a blocking ``Job.updates()`` into an async handler Gradio can cancel.

A private thread per job (not a pool) iterates the updates, so many waiting users
never starve each other, and a cancelled handler is never stuck in a blocking call.
"""
from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

END = object()   # marks the end of the stream in a batch


@dataclass
class Failure:
    exc: BaseException


async def feed(job, timeout, wait_preview):
    """Feed ``job.updates()`` from a private thread; yield lists of updates.

    A thread per job (not a pool) so that many waiting users never starve each
    other, and so that a cancelled handler is not stuck inside a blocking call.
    ``wait_preview()`` returns how long we may wait before a held preview is due.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    def put(item) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # event loop gone (server shutting down)
            pass

    def pump() -> None:
        try:
            for update in job.updates(timeout=timeout):
                put(update)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put(Failure(exc))
        finally:
            put(END)

    threading.Thread(target=pump, daemon=True, name=f"job-{job.prompt_id}").start()
    while True:
        wait = wait_preview()
        try:
            first = await (queue.get() if wait is None else asyncio.wait_for(queue.get(), wait))
        except asyncio.TimeoutError:
            yield []
            continue
        batch = [first]
        while not queue.empty():
            batch.append(queue.get_nowait())
        yield batch
        if any(item is END for item in batch):
            return


def interrupt_quietly(job) -> None:
    def run() -> None:
        try:
            job.interrupt()
        except Exception:  # noqa: BLE001 - the user already moved on
            pass

    threading.Thread(target=run, daemon=True, name=f"interrupt-{job.prompt_id}").start()
