"""``python -m comfy_ui_app ...`` -> the command line (see cli/main.py)."""
import sys

from comfy_ui_app.cli.main import main

sys.exit(main())
