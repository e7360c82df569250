"""Where the data shipped with the library lives.

A base module: the rule-pack loader and the code tables both need the bundled
`rules/` folder, and neither should import the other to find it.
"""

from __future__ import annotations

from pathlib import Path


def bundled_rules_dir() -> Path:
    """The packs and code tables shipped with the library (inside the wheel, or the source tree)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "rules", here.parents[1] / "rules"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the bundled rules folder is missing from this installation")
