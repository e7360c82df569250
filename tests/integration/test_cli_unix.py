"""The command line as a Unix tool: `-` for standard input, and nothing on
standard output when nothing was decided (issue 12 point 4)."""

from __future__ import annotations

import json
import subprocess
import sys

from .. import helpers

SEED = next(helpers.EXAMPLES.glob("seed-004-*.yaml"))


def _mtus(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mtus_rules", *args], input=stdin, capture_output=True)


def test_evaluate_reads_a_case_from_standard_input():
    piped = _mtus("evaluate", "-", "--format", "json", "--no-what-if", stdin=SEED.read_bytes())
    from_file = _mtus("evaluate", str(SEED), "--format", "json", "--no-what-if")
    assert piped.returncode == 0, piped.stderr
    piped_element, = json.loads(piped.stdout)
    file_element, = json.loads(from_file.stdout)
    assert piped_element["file"] == "-"
    assert piped_element["decision"] == file_element["decision"]


def test_an_invalid_case_on_standard_input_is_named_stdin_with_its_line():
    done = _mtus("evaluate", "-", stdin=b"case_id: x\nrequested_items: [oops\n")
    assert done.returncode == 2
    assert b"<stdin>:" in done.stderr and done.stdout == b""


def test_nothing_on_standard_output_when_no_case_was_decided(tmp_path):
    for fmt in ("text", "json"):
        done = _mtus("evaluate", str(tmp_path / "missing.yaml"), "--format", fmt)
        assert done.returncode == 2
        assert done.stdout == b"", f"{fmt}: {done.stdout!r}"
        assert b"file not found" in done.stderr


def _late(tmp_path, date: str = "2019-03-01"):
    text = SEED.read_text().replace("request_date: 2015-06-10", f"request_date: {date}")
    assert f"request_date: {date}" in text
    path = tmp_path / "late.yaml"
    path.write_text(text)
    return path


def test_a_request_outside_every_pack_is_decided_with_a_warning_naming_date_and_years(tmp_path):
    late = _late(tmp_path)
    for command in ("evaluate", "explain"):
        done = _mtus(command, str(late), str(SEED), "--format", "json")
        assert done.returncode == 0, done.stderr
        warnings = [line for line in done.stderr.decode().splitlines() if "warning" in line]
        assert len(warnings) == 1, done.stderr  # the case in force gets none
        assert str(late) in warnings[0] and "2019-03-01" in warnings[0]
        assert "mtus-2009" in warnings[0] and "2009-07-18 to 2017-11-30" in warnings[0]
        decided = [element["decision" if command == "evaluate" else "trace"] for element in json.loads(done.stdout)]
        assert [d["rule_pack"] is None for d in decided] == [True, False]


def test_no_warning_when_every_case_is_in_force():
    done = _mtus("evaluate", str(SEED), "--no-what-if")
    assert done.returncode == 0 and b"warning" not in done.stderr


def test_the_help_says_what_the_exit_status_is_for_a_date_outside_the_packs():
    done = _mtus("--help")
    assert b"outside every loaded rule pack" in done.stdout


# -- install commands that work from where the user stands (issue 12 point 6) --------------


def _tree(root, pyproject: str | None):
    package = root / "src" / "mtus_rules"
    package.mkdir(parents=True)
    if pyproject is not None:
        (root / "pyproject.toml").write_text(pyproject)
    return package


def test_from_a_checkout_the_install_command_names_the_checkout(tmp_path):
    from mtus_rules._resources import install_command

    package = _tree(tmp_path / "checkout", '[project]\nname = "mtus-rules"\n')
    standing_in_it = install_command("server", package_dir=package, cwd=tmp_path / "checkout")
    elsewhere = install_command("server", package_dir=package, cwd=tmp_path)
    assert standing_in_it.endswith(" -m pip install '.[server]'")
    assert elsewhere.endswith(f" -m pip install '{tmp_path / 'checkout'}[server]'")
    assert standing_in_it.startswith(sys.executable)  # this environment's pip, not whichever is on PATH


def test_from_an_installed_wheel_the_install_command_names_the_distribution(tmp_path):
    from mtus_rules._resources import install_command

    for pyproject in (None, '[project]\nname = "some-other-project"\n'):
        root = tmp_path / ("none" if pyproject is None else "other")
        package = _tree(root, pyproject)
        assert install_command("analysis", package_dir=package, cwd=root).endswith(" -m pip install 'mtus-rules[analysis]'")


def test_serve_without_the_extra_gives_a_command_that_works_from_this_checkout():
    from .. import helpers

    run = helpers.run_python(
        "from mtus_rules.cli import main\nraise SystemExit(main(['serve', '--port', '0']))", without=("fastapi", "uvicorn")
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr
    if (helpers.ROOT / "pyproject.toml").is_file() and "site-packages" not in __import__("mtus_rules").__file__:
        assert "mtus-rules[server]" not in run.stderr, run.stderr  # cannot work from a checkout
        assert run.stderr.strip().endswith("-m pip install '.[server]'"), run.stderr
