"""Generated documents match the code they are generated from."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("tool", ["gen_command_docs.py", "gen_architecture.py",
                                  "gen_fault_docs.py"])
def test_generated_doc_is_current(tool):
    done = subprocess.run([sys.executable, str(ROOT / "tools" / tool), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
