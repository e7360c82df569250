"""The example what-if notebook runs end to end on the bundled cases."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from mtus_rules import Engine, compare

from ..helpers import EXAMPLES, ROOT

NOTEBOOK = EXAMPLES / "what-if.ipynb"
HISTORY = EXAMPLES / "history" / "generated-cases.jsonl"


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> nbformat.NotebookNode:
    # Pin the kernel to this interpreter: a "python3" kernel registered elsewhere
    # on the machine (a system Jupyter) would run another Python without mtus-rules.
    kernels = tmp_path_factory.mktemp("jupyter")
    spec = kernels / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (mtus-rules tests)",
        "language": "python",
    }))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(kernels))
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        # Errors stop the run and fail the test with the cell and its traceback.
        NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}}).execute()
    return notebook


def _outputs(notebook: nbformat.NotebookNode) -> list[list[dict]]:
    return [cell.outputs for cell in notebook.cells if cell.cell_type == "code"]


def _text(outputs: list[dict]) -> str:
    """What a cell printed and returned, as text (a print may arrive in several chunks)."""
    return "".join(o.get("text") or o.get("data", {}).get("text/plain", "") for o in outputs)


def test_the_notebook_is_committed_without_outputs():
    # Outputs are made by running it; committed ones would go stale and bloat diffs.
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)


def test_every_cell_runs_and_the_numbers_match_the_library(executed):
    cases = [json.loads(line) for line in HISTORY.read_text(encoding="utf-8").splitlines()]
    engine = Engine()
    massage = compare(engine, engine.with_overrides({"mtus.cpmtg.massage.limit": 4}), cases)
    reading = compare(engine, engine.with_overrides(disabled=["mtus.cpmtg.massage.ongoing_care"]), cases)
    outputs = [o for cell in _outputs(executed) for o in cell]
    assert not [o for o in outputs if o["output_type"] == "error"]
    texts = [_text(cell) for cell in _outputs(executed)]
    items = sum(len(c["requested_items"]) for c in cases)
    assert any(t.startswith(f"{len(cases)} cases, {items} requested items, 0 rows not decided\n") for t in texts)
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    # The decision and both comparisons display as the library's HTML, with the library's counts.
    assert any('class="mtus-decision"' in h and "Case seed-001" in h for h in html)
    assert any(f"{massage.items} items compared; {len(massage.flips)} flip{'s' if len(massage.flips) != 1 else ''};" in h for h in html)
    assert any(f"{reading.items} items compared; {len(reading.flips)} flip{'s' if len(reading.flips) != 1 else ''};" in h for h in html)
    # The explain cell traces the case of the first flip.
    first = massage.flips[0]
    headline = f"Item {first.item + 1} of case {first.case_id}: overturned -> upheld, caused by mtus.cpmtg.massage.limit\n"
    assert any(t.startswith(headline) and f"\nCase {first.case_id};" in t for t in texts)


def test_the_notebook_draws_both_charts(executed):
    images = [o["data"]["image/png"] for cell in _outputs(executed) for o in cell if "image/png" in o.get("data", {})]
    assert len(images) == 2
    for image in images:
        assert base64.b64decode(image).startswith(b"\x89PNG\r\n\x1a\n")


def test_the_bundled_history_is_what_the_generator_makes():
    # The notebook's cases are generated, and must stay reproducible from the documented command.
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from generate import generate_dicts
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    lines = [json.dumps(d, ensure_ascii=False, separators=(",", ":")) for d in generate_dicts(1000)]
    assert HISTORY.read_text(encoding="utf-8") == "\n".join(lines) + "\n"
    assert Path(NOTEBOOK).read_text(encoding="utf-8").count("generated") >= 2  # the notebook says they are not real
