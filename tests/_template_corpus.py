"""The template corpus test's figures (tests/test_template_corpus.py), printed by ``conftest.py`` at the end."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Tally:
    total: int = 0
    converted: int = 0
    refused: list = field(default_factory=list)  # "template: why", only nodes the server lacks

    def line(self) -> str:
        return f"template corpus: {self.converted} of {self.total} converted"


TALLY = Tally()
