"""Settings: every flag and environment variable of the web app and the command line,
declared once and read and checked the same way (see :mod:`comfy_ui_app.settings.core`).

``web_app`` lists ``python app.py``'s, ``command_line`` each CLI command's. A bad value
stops the program with one line naming the flag or variable; ``--help`` always works.
"""
from comfy_ui_app.settings.core import Kind, Setting, SettingsParser, server_urls
from comfy_ui_app.settings.web_app import DEFAULT_SERVER

__all__ = ["DEFAULT_SERVER", "Kind", "Setting", "SettingsParser", "server_urls"]
