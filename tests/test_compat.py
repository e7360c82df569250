"""The import paths of the flat layout keep working for one release, with a
DeprecationWarning naming the new path (mtus_rules._compat), for the three
ways a user imports a module; and names renamed on the way keep their old
name, with a warning."""

from __future__ import annotations

import importlib
import sys
import warnings

import pytest

import mtus_rules
from mtus_rules._compat import MOVED, RENAMED


def _forget(old: str) -> None:
    """As if this interpreter had never imported the old path."""
    sys.modules.pop(f"mtus_rules.{old}", None)
    if old in vars(mtus_rules):
        delattr(mtus_rules, old)


@pytest.fixture(params=sorted(MOVED))
def old(request):
    _forget(request.param)
    yield request.param
    _forget(request.param)


def _new(old: str) -> str:
    return f"mtus_rules.{MOVED[old][0]}"


def test_import_module_warns_and_gives_the_new_module(old):
    with pytest.warns(DeprecationWarning, match=f"mtus_rules.{old} is deprecated.*import from {_new(old)} instead") as caught:
        module = importlib.import_module(f"mtus_rules.{old}")
    assert caught[0].filename == __file__
    new = importlib.import_module(_new(old))
    public = [name for name in dir(new) if not name.startswith("_")]
    assert public and all(getattr(module, name) is getattr(new, name) for name in public)


def test_import_statement_warns_at_the_users_line(old):
    with pytest.warns(DeprecationWarning, match=f"import from {_new(old)} instead") as caught:
        exec(f"import mtus_rules.{old}", {})
    # The warning names the importing code, not the import machinery.
    assert caught[0].filename == "<string>"


def test_from_import_of_a_name_warns_and_gives_the_same_object():
    _forget("batch")
    with pytest.warns(DeprecationWarning, match="mtus_rules.batch is deprecated.*mtus_rules.integration.batch"):
        from mtus_rules.batch import BatchResult
    assert BatchResult is mtus_rules.BatchResult
    _forget("batch")


def test_a_module_whose_names_went_to_two_places_still_answers_for_all():
    _forget("whatif")
    with pytest.warns(DeprecationWarning):
        from mtus_rules.whatif import compare, override_pack
    from mtus_rules.integration.compare import compare as new_compare
    from mtus_rules.packs.overrides import override_pack as new_override_pack

    assert (compare, override_pack) == (new_compare, new_override_pack)
    _forget("whatif")


@pytest.mark.parametrize(("old", "name"), sorted(RENAMED))
def test_a_renamed_name_answers_under_its_old_name_with_a_warning(old, name):
    _forget(old)
    with pytest.warns(DeprecationWarning):
        module = importlib.import_module(f"mtus_rules.{old}")
    with pytest.warns(DeprecationWarning, match=f"{name} is deprecated; use {RENAMED[(old, name)]}"):
        found = getattr(module, name)
    holders = [importlib.import_module(f"mtus_rules.{path}") for path in MOVED[old]]
    assert found is next(getattr(m, RENAMED[(old, name)]) for m in holders if hasattr(m, RENAMED[(old, name)]))
    _forget(old)


def test_an_unknown_name_on_an_old_path_is_an_attribute_error():
    _forget("decision")
    with pytest.warns(DeprecationWarning):
        module = importlib.import_module("mtus_rules.decision")
    with pytest.raises(AttributeError, match="now mtus_rules.explanation.decision"):
        module.no_such_name  # noqa: B018
    _forget("decision")


def test_treatments_for_is_treatment_for_with_a_warning():
    from mtus_rules.case import codes

    with pytest.warns(DeprecationWarning, match="use treatment_for"):
        old = codes.treatments_for("97124")
    with pytest.warns(DeprecationWarning, match="use treatment_for"):
        old_method = codes.bundled_code_tables().treatments_for("97124")
    assert old == old_method == codes.treatment_for("97124")


def test_importing_the_package_warns_of_nothing():
    """Nothing inside the package uses an old path (the suite also runs with -W error::DeprecationWarning)."""
    code = "import warnings; warnings.simplefilter('error'); import mtus_rules, mtus_rules.cli, mtus_rules.testing"
    import subprocess

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        importlib.reload(importlib.import_module("mtus_rules.integration"))


def test_the_old_case_modules_other_names_answer_from_the_case_package_with_a_warning():
    """mtus_rules.case was a module and is now the subpackage: its exports are
    the subpackage's, and the old module's other names still answer."""
    from mtus_rules.case import model

    with pytest.warns(DeprecationWarning, match="import it from mtus_rules.case.model"):
        from mtus_rules.case import CaseFacts, IsoDate
    assert (CaseFacts, IsoDate) == (model.CaseFacts, model.IsoDate)
    with pytest.raises(ImportError):
        from mtus_rules.case import no_such_name  # noqa: F401
