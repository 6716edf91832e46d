"""Shared helpers of the exporter's tests: the shared tiny fixture, temporary snapshots derived from it, and
exports made once per test class."""

import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import unittest

EXPORTER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_DIR = os.path.dirname(EXPORTER_DIR)
if EXPORTER_DIR not in sys.path:
    sys.path.insert(0, EXPORTER_DIR)


def shared_dir() -> str:
    """``../shared`` beside the checkout, or INSTAFLOW_SHARED_DIR. Absent: fail under CI=true, else skip."""
    path = os.environ.get("INSTAFLOW_SHARED_DIR", os.path.join(os.path.dirname(REPO_DIR), "shared"))
    if not os.path.isdir(os.path.join(path, "fixtures", "tiny-sd15")):
        message = f"the shared fixtures are not at {path} (set INSTAFLOW_SHARED_DIR)"
        if os.environ.get("CI") == "true":
            raise AssertionError(message)
        raise unittest.SkipTest(message)
    return path


def tiny_model() -> str:
    return os.path.join(shared_dir(), "fixtures", "tiny-sd15", "model")


def reference_case(name: str) -> str:
    return os.path.join(shared_dir(), "fixtures", "tiny-sd15", "ref", name)


def read_raw(path: str, dtype: str, shape):
    import numpy as np
    return np.fromfile(path, dtype=dtype).reshape(shape)


def derived_snapshot(root: str, name: str) -> str:
    """A copy of the tiny model made of symlinks to the fixture's files, except for folders a test replaces."""
    target = os.path.join(root, name)
    source = tiny_model()
    os.makedirs(target)
    for entry in os.listdir(source):
        os.symlink(os.path.join(source, entry), os.path.join(target, entry))
    return target


def replace_component(snapshot: str, component: str) -> str:
    """Turns the symlinked component folder into a real folder of symlinked files, so files can be replaced."""
    link = os.path.join(snapshot, component)
    source = os.path.realpath(link)
    os.unlink(link)
    os.makedirs(link)
    for entry in os.listdir(source):
        os.symlink(os.path.join(source, entry), os.path.join(link, entry))
    return link


def write_json(path: str, value):
    if os.path.islink(path):
        os.unlink(path)
    with open(path, "w") as f:
        json.dump(value, f, indent=2)


def run_cli(*args):
    """Runs the exporter's main() in-process; returns (exit code, stdout, stderr)."""
    from instaflow_export.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


class TempDirTestCase(unittest.TestCase):
    """A temporary folder per test class (``cls.tmp``), removed afterwards."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="instaflow-export-test-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def leftovers(self, parent: str):
        """Staging folders a failed export left behind (there must be none)."""
        return [e for e in os.listdir(parent) if ".partial-" in e]
