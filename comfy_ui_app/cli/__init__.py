"""The command line, ``python -m comfy_ui_app COMMAND``: ``main`` parses and dispatches to
``generate``, ``fields``/``convert`` (in ``main``) and ``history``; ``common`` holds the exit codes
and errors they share. An edge layer: it may use every layer below (see ARCHITECTURE.md)."""
