"""Describe one problem of an import: where it is (row, column), the value, and why, in English and Italian."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Problem:
    row: int  # spreadsheet row (header = 1); 0 for the whole file
    column: str | None
    value: str | None
    en: str
    it: str
    severity: str = "Violation"  # or "Warning"
    shape: str | None = field(default=None, compare=False)

    def as_json(self) -> dict:
        return {"row": self.row, "column": self.column, "value": self.value, "severity": self.severity,
                "message": {"en": self.en, "it": self.it}, **({"shape": self.shape} if self.shape else {})}
