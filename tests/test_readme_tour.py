"""The README's tour of the page: one screenshot per tab (and one at phone width), each in the
repository (``scripts/screenshots.py`` takes them anew)."""
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["txt2img", "inpaint", "templates", "custom", "queue", "history", "system", "phone"])
def test_the_readme_tour_shows_each_tab(name):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    shots = set(re.findall(r"\]\((docs/screenshots/[\w-]+\.png)\)", readme))
    assert f"docs/screenshots/{name}.png" in shots
    assert (REPO / "docs" / "screenshots" / f"{name}.png").stat().st_size > 10_000
