"""setuptools hook: ship prospector_dialect.pth at the top of site-packages.

Everything else is in pyproject.toml.  A .pth file must sit directly in
site-packages, which no package-data setting reaches, so build_py writes it
into the build tree's top, from where the wheel installs it (see
prospector_dialect.py for what its one line does).
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PTH_NAME = "prospector_dialect.pth"
# site runs a .pth line that starts with "import"; the rest of the line is Python.
PTH_LINE = "import prospector_dialect; prospector_dialect.install()\n"


class BuildPyWithDialectPth(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / PTH_NAME
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(PTH_LINE, encoding="ascii")

    def get_outputs(self, include_bytecode=True):
        return [*super().get_outputs(include_bytecode), str(Path(self.build_lib) / PTH_NAME)]


setup(cmdclass={"build_py": BuildPyWithDialectPth})
