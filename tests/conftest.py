import os, subprocess, sys
from pathlib import Path
import pytest

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args, timeout=300, check=None):
    "Run a console script of the kit; returns the CompletedProcess (text)."
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    return subprocess.run([str(BIN / args[0]), *map(str, args[1:])], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture
def cli():
    return run_cli
