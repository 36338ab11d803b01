"""MkDocs hook: the user guide's pages, cut at build time from README.md and hil/README.md.

The README stays the one place the user guide is written (it is what GitHub shows and
what reviewers edit); the site shows it as pages by topic.  Every `## ` section of the
README is assigned to exactly one page below: a section that is new or renamed and not
assigned stops the build with one line naming it, so nothing the README says drops out
of the site unnoticed.  Links the README writes from the top of the checkout
(`docs/sweeps.md`) are rewritten to be relative to the guide's folder.

mkdocs.yml names this file under `hooks:`; nothing here touches the network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
HIL_README = ROOT / "hil" / "README.md"
GUIDE_FOLDER = "guide"


@dataclass(frozen=True)
class GuidePage:
    """A page of the user guide: its file name, title and the README sections it holds."""

    file_name: str
    title: str
    readme_sections: tuple[str, ...]
    lead: str = ""


GUIDE_PAGES = (
    GuidePage("sil.md", "Software in the loop: a run",
              ("What a run is", "Touch-and-go", "Prospecting: survey, resource map, site choice",
               "What a run leaves behind"),
              "`prospector run` flies a scenario against the simulator; the scenario keys are "
              "in the [scenario reference](../scenario_reference.md)."),
    GuidePage("faults.md", "Faults and the fault campaign",
              ("Fault protection: surviving what breaks",),
              "The monitors and responses are tabled in "
              "[fault protection](../fault_protection.md)."),
    GuidePage("ground_link.md", "Operating the probe from the ground",
              ("Flying the probe from MAVProxy",),
              "The full account is [the ground link](../ground_link.md); the commands are in "
              "[ground commands](../commands.md) and the messages in the [ICD](../icd.md)."),
    GuidePage("replay.md", "Flight logs and replay",
              ("Flight logs: recorder, readers, replay",)),
    GuidePage("hil.md", "Hardware in the loop", ("Hardware in the loop",)),
    GuidePage("code.md", "Code, conventions and benchmarks",
              ("The shape of the code", "Benchmarks"),
              "The [API reference](../api/flightsw.md) is generated from the docstrings."),
)
# The text before the README's first `## ` heading is the site's home page.
HOME_PAGE = "index.md"


def readme_sections(text: str) -> tuple[str, dict[str, str]]:
    """The README's preamble and its `## ` sections by title (each with its ### parts).

    Fenced code blocks are skipped when looking for headings: a shell comment
    (`# a private signing key`) is not a heading.
    """
    preamble: list[str] = []
    sections: dict[str, list[str]] = {}
    current = preamble
    in_fence = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        if not in_fence and line.startswith("## "):
            title = line[3:].strip()
            sections[title] = current = []
            continue
        current.append(line)
    return "\n".join(preamble), {title: "\n".join(body) for title, body in sections.items()}


def demote_headings(text: str, levels: int = 1) -> str:
    """Headings one level deeper (outside code fences), to sit under a page's own title."""
    out, in_fence = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        if not in_fence and re.match(r"#{1,5} ", line):
            line = "#" * levels + line
        out.append(line)
    return "\n".join(out)


def relative_to_guide(text: str) -> str:
    """Links the README writes from the checkout's top (docs/x.md) as seen from guide/."""
    return text.replace("](docs/", "](../")


def relative_to_home(text: str) -> str:
    """The same links as seen from the home page, which sits at the top of docs/."""
    return text.replace("](docs/", "](")


def guide_page_text(page: GuidePage, sections: dict[str, str], hil_readme: str) -> str:
    parts = [f"# {page.title}", ""]
    if page.lead:
        parts += [page.lead, ""]
    for title in page.readme_sections:
        body = sections[title]
        if len(page.readme_sections) > 1 or title != page.title:
            parts += [f"## {title}", ""]
        parts.append(relative_to_guide(body.strip("\n")))
        parts.append("")
    if page.file_name == "hil.md":
        # hil/README.md goes deeper (protocol, time modes, faults, a real board); its own
        # title becomes a section of this page.
        parts += [demote_headings(hil_readme.strip("\n")), ""]
    return "\n".join(parts)


def home_page_text(preamble: str) -> str:
    """The README's preamble, then a map of the site (the README has its own headings)."""
    guide = [f"- [{page.title}]({GUIDE_FOLDER}/{page.file_name})" for page in GUIDE_PAGES]
    return "\n".join([
        relative_to_home(preamble.strip("\n")), "",
        "## This site", "",
        "The user guide (the README by topic, and the longer accounts):", "",
        *guide,
        "- [Monte Carlo sweeps](sweeps.md), [the ground link in depth](ground_link.md), "
        "[installing](install.md)", "",
        "References generated from the code, so they cannot drift from it: the "
        "[scenario reference](scenario_reference.md) (from the scenario schema), the "
        "[ICD](icd.md) (from the dialect XML), the [ground commands](commands.md), "
        "[fault protection](fault_protection.md), the [architecture](architecture.md) and "
        "the API reference ([flightsw](api/flightsw.md), [sim](api/sim.md), "
        "[hil](api/hil.md), [ground](api/ground.md), [prospector](api/prospector.md)) "
        "from the docstrings.", ""])


def check_every_section_is_placed(sections: dict[str, str]) -> None:
    placed = {title for page in GUIDE_PAGES for title in page.readme_sections}
    unplaced = [title for title in sections if title not in placed]
    missing = sorted(placed - set(sections))
    if unplaced:
        raise PluginError(f"README.md: section '## {unplaced[0]}' is on no page of the user "
                          "guide; add it to GUIDE_PAGES in tools/mkdocs_hooks.py")
    if missing:
        raise PluginError(f"README.md: no section '## {missing[0]}', which tools/mkdocs_hooks.py "
                          "GUIDE_PAGES expects; rename it there too")


def guide_files(readme_text: str, hil_readme_text: str) -> dict[str, str]:
    """Every generated page, by its path inside the docs folder."""
    preamble, sections = readme_sections(readme_text)
    check_every_section_is_placed(sections)
    pages = {HOME_PAGE: home_page_text(preamble)}
    for page in GUIDE_PAGES:
        pages[f"{GUIDE_FOLDER}/{page.file_name}"] = guide_page_text(page, sections,
                                                                     hil_readme_text)
    return pages


def on_files(files: Files, config) -> Files:
    pages = guide_files(README.read_text(encoding="utf-8"),
                        HIL_README.read_text(encoding="utf-8"))
    for path, text in pages.items():
        if files.get_file_from_path(path) is not None:
            raise PluginError(f"docs/{path} exists, but tools/mkdocs_hooks.py generates that "
                              "page from README.md; move its text into the README")
        files.append(File.generated(config, path, content=text))
    return files
