"""Our MAVLink dialect under the names pymavlink's tools look for.

`mavutil.set_dialect("prospector")` (and so `mavlink_connection(...,
dialect="prospector")`, `mavlogdump.py --dialect prospector`, `mavproxy.py
--dialect prospector`) imports `pymavlink.dialects.v10.prospector`, or
`...v20.prospector` when MAVLINK20 is set.  Installing the project puts
`prospector_dialect.pth` in site-packages; Python runs its one line at start-up,
which calls `install()` here: a finder at the front of `sys.meta_path` that
answers those two names with the module mavgen generated from our XML
(flightsw/icd/generated/prospector.py, installed beside this file).  It is a
MAVLink 2 module and parses MAVLink 1 frames too, so both names get it.

Nothing is written into pymavlink's own folders, so reinstalling or upgrading
pymavlink keeps the dialect, and the dialect is always the installed project's.
(`make` still copies the module there too, tools/install_dialect.py: an editable
install may come without the .pth.)  This runs at every interpreter start-up:
it imports nothing beyond the standard library's import machinery and never
raises.
"""

from __future__ import annotations

import os
import sys

DIALECT_NAME = "prospector"
MODULE_NAMES = frozenset(f"pymavlink.dialects.{v}.{DIALECT_NAME}" for v in ("v10", "v20"))
GENERATED_MODULE = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "flightsw", "icd", "generated", "prospector.py")


class ProspectorDialectFinder:
    """Finds `pymavlink.dialects.v10/v20.prospector` in our generated module."""

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname not in MODULE_NAMES or not os.path.isfile(GENERATED_MODULE):
            return None
        from importlib.util import spec_from_file_location  # only when the dialect is asked for

        return spec_from_file_location(fullname, GENERATED_MODULE)


def install() -> None:
    """Put the finder first on sys.meta_path, once."""
    try:
        if not any(f is ProspectorDialectFinder for f in sys.meta_path):
            sys.meta_path.insert(0, ProspectorDialectFinder)
    except Exception:  # a start-up hook must never stop Python from starting
        pass
