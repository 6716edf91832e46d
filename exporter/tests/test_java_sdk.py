"""The exported tiny bundles checked by the Java SDK (tests/java/check_tiny_bundle.sh): reference-case parity,
stored self-tests, load errors. Takes a few minutes (one JVM per check), so it runs only when asked:
INSTAFLOW_EXPORTER_JAVA=1 (Java 17 and Maven needed)."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import support


@unittest.skipUnless(os.environ.get("INSTAFLOW_EXPORTER_JAVA") == "1", "set INSTAFLOW_EXPORTER_JAVA=1 to run")
class JavaSdkChecks(unittest.TestCase):
    def test_check_tiny_bundle_script_passes(self):
        support.shared_dir()
        if not (shutil.which("java") and shutil.which("mvn")):
            self.skipTest("java and mvn are needed")
        work = tempfile.mkdtemp(prefix="instaflow-export-java-")
        try:
            env = dict(os.environ, PYTHON=sys.executable)
            result = subprocess.run(["bash", os.path.join(support.EXPORTER_DIR, "tests", "java", "check_tiny_bundle.sh"),
                                     work], env=env, capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, result.stdout[-4000:] + result.stderr[-2000:])
            self.assertIn("check_tiny_bundle: all passed", result.stdout)
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
