"""One ComfyUI server, as its HTTP and WebSocket API are recorded in ``tests/fixtures`` (layer 1).

``client.ComfyClient`` (one method per route), ``frames`` (WebSocket frame decoders), ``stream``
(the socket, reconnecting), ``jobs.Job`` (one prompt's updates, ``updates``), ``monitor`` (fetching
outputs, asking ``/queue`` and ``/history`` when the socket is quiet) and ``connection.Comfy``, which
puts them together. Imports only ``errors``."""
