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


#: The distribution's name, as an index knows it.
DISTRIBUTION = "mtus-rules"


def source_checkout(package_dir: Path | None = None) -> Path | None:
    """The root of the source checkout this package is imported from (a
    `pyproject.toml` naming this distribution two levels up, the src layout),
    or None when it is imported from an installed wheel."""
    here = (package_dir or Path(__file__).resolve().parent).resolve()
    root = here.parents[1] if len(here.parents) > 1 else here
    project = root / "pyproject.toml"
    try:
        text = project.read_text(encoding="utf-8")
    except OSError:
        return None
    return root if f'name = "{DISTRIBUTION}"' in text else None


def install_command(extra: str, *, package_dir: Path | None = None, cwd: Path | None = None) -> str:
    """A pip command that installs an optional extra where this package is.

    `pip install 'mtus-rules[extra]'` works only for a wheel or an index; a
    user running from a checkout needs the checkout's path with the extra
    ('.[extra]' when standing in it). The command names this interpreter's pip,
    so it installs into the environment that asked for the extra."""
    import shlex
    import sys

    root = source_checkout(package_dir)
    if root is None:
        target = f"{DISTRIBUTION}[{extra}]"
    else:
        here = (cwd or Path.cwd()).resolve()
        target = f"{'.' if here == root else root}[{extra}]"
    return f"{shlex.quote(sys.executable)} -m pip install {shlex.quote(target)}"
