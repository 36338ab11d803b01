"""The documentation: generated pages match their sources, and the site builds without a
warning (`mkdocs build --strict`, as `make docs` does), offline."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MKDOCS_MISSING = ("mkdocs is not installed: `make` installs the docs extra "
                  "(pip install -e '.[test,docs]')")


def require_mkdocs() -> None:
    if importlib.util.find_spec("mkdocs") is None:
        pytest.fail(MKDOCS_MISSING)


@pytest.fixture(scope="module")
def mkdocs_hooks():
    """tools/mkdocs_hooks.py (tools/ is not a package; the hook imports mkdocs)."""
    require_mkdocs()
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import mkdocs_hooks
    finally:
        sys.path.pop(0)
    return mkdocs_hooks


@pytest.mark.parametrize("tool", ["gen_command_docs.py", "gen_architecture.py",
                                  "gen_fault_docs.py", "gen_icd_docs.py",
                                  "gen_scenario_docs.py"])
def test_generated_doc_is_current(tool):
    done = subprocess.run([sys.executable, str(ROOT / "tools" / tool), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    require_mkdocs()
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "--site-dir", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    # --strict turns warnings into a failed build; say which, should one slip through.
    assert "WARNING" not in done.stderr, done.stderr[-3000:]
    return out


@pytest.mark.slow
def test_the_site_has_the_guide_the_references_and_the_api(site):
    def page(path: str) -> str:
        return (site / path / "index.html").read_text(encoding="utf-8")

    assert "prospector hil --emulate" in page("guide/hil")
    assert "The links" in page("guide/hil")  # hil/README.md's own sections come along
    assert "mavlogdump.py" in page("guide/replay")
    assert 'href="../../sweeps/"' in page("guide/sil")  # README's docs/ link, rewritten
    assert "PROBE_MODE_HOVER" in page("icd") and "53010" in page("icd")
    assert "scenario.duration_s" in page("scenario_reference")
    assert "tag.hazards[].mapped" in page("scenario_reference")
    # The API pages are rendered from the docstrings, submodules included.
    assert 'id="flightsw.core.scheduler"' in page("api/flightsw")
    # ... from this checkout's source: a stale copy elsewhere on sys.path (an editable
    # install of another checkout) once shadowed the hil package here.
    assert 'id="hil.firmware_build.package_path"' in page("api/hil")
    assert 'id="sim.scenario_schema"' in page("api/sim")
    assert 'href="install/"' in (site / "index.html").read_text(encoding="utf-8")
    assert (site / "search" / "search_index.json").is_file()


def test_every_readme_section_lands_on_a_guide_page(mkdocs_hooks):
    pages = mkdocs_hooks.guide_files((ROOT / "README.md").read_text(encoding="utf-8"),
                                     "# hil/ README\n\n## The links\n")
    text = "\n".join(pages.values())
    _, sections = mkdocs_hooks.readme_sections((ROOT / "README.md").read_text(encoding="utf-8"))
    for title, body in sections.items():
        first_line = next(line for line in body.splitlines() if line.strip())
        assert mkdocs_hooks.relative_to_guide(first_line) in text, title


def test_a_readme_section_on_no_page_stops_the_build(mkdocs_hooks):
    from mkdocs.exceptions import PluginError

    readme = (ROOT / "README.md").read_text(encoding="utf-8") + "\n## Brand new topic\n\nText.\n"
    with pytest.raises(PluginError, match="Brand new topic"):
        mkdocs_hooks.guide_files(readme, "# hil\n")


def test_headings_inside_code_fences_are_not_sections(mkdocs_hooks):
    preamble, sections = mkdocs_hooks.readme_sections(
        "# Title\n\nIntro.\n\n## A\n\n```sh\n## not a heading\n```\n\n## B\n\nb\n")
    assert list(sections) == ["A", "B"] and "## not a heading" in sections["A"]
    assert mkdocs_hooks.demote_headings("# t\n```\n# c\n```\n## s") == "## t\n```\n# c\n```\n### s"
