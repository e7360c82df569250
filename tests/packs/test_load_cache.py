"""A pack loaded again is the same object only while its files are byte for byte
the same, in the same folder as named; an edit, a copy elsewhere or an overlay is
read again, so nothing stale or misnamed is ever given back."""

from __future__ import annotations

import shutil

from mtus_rules import load_pack
from mtus_rules.packs import bundled_pack_dirs

from ..helpers import EXAMPLES

BUNDLED = bundled_pack_dirs()[0]


def test_an_unchanged_pack_is_given_again(tmp_path):
    folder = shutil.copytree(BUNDLED, tmp_path / "pack")
    assert load_pack(folder) is load_pack(folder)


def test_an_edited_file_is_read_again(tmp_path):
    folder = shutil.copytree(BUNDLED, tmp_path / "pack")
    before = load_pack(folder)
    massage = folder / "massage.yaml"
    massage.write_text(massage.read_text().replace("limit: {visits: 6,", "limit: {visits: 8,"))
    after = load_pack(folder)
    assert after is not before and after.content_hash != before.content_hash
    assert after.rule("mtus.cpmtg.massage.limit").limit.visits == 8


def test_a_copy_in_another_folder_names_its_own_files(tmp_path):
    first = load_pack(shutil.copytree(BUNDLED, tmp_path / "a"))
    second = load_pack(shutil.copytree(BUNDLED, tmp_path / "b"))
    assert first.content_hash == second.content_hash
    assert second.folder == str(tmp_path / "b")
    assert all(path.startswith(str(tmp_path / "b")) for path in second.files.values())


def test_an_overlay_is_read_again_so_a_changed_base_is_seen(tmp_path):
    base = shutil.copytree(BUNDLED, tmp_path / "base")
    overlay = shutil.copytree(EXAMPLES / "overlay", tmp_path / "overlay")
    header = overlay / "pack.yaml"
    header.write_text(header.read_text().replace("  pack: mtus-2009\n  version: 0.2.0\n", "  path: ../base\n"))
    before = load_pack(overlay)
    target = base / "manipulation.yaml"
    target.write_text(target.read_text() + "\n# an edit of the base\n")
    after = load_pack(overlay)
    assert after is not before and after.layers[0].content_hash != before.layers[0].content_hash
