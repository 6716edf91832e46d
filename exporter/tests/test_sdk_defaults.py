"""The exporter takes the format name, default limits and part file names from the SDK's resource (no torch needed)."""

import json
import os
import unittest

import support  # puts the exporter on sys.path

from instaflow_export import sdk_defaults


class SdkDefaultsTest(unittest.TestCase):
    def test_read_from_the_sdk_resource_in_this_checkout(self):
        self.assertTrue(os.path.isfile(sdk_defaults.PATH), sdk_defaults.PATH)
        self.assertEqual(os.path.join(support.REPO_DIR, sdk_defaults.RESOURCE), sdk_defaults.PATH)
        with open(sdk_defaults.PATH, encoding="utf-8") as f:
            raw = json.load(f)
        self.assertEqual(sdk_defaults.FORMAT, raw["format"])
        self.assertEqual(sdk_defaults.LIMITS, raw["limits"])
        self.assertEqual(sdk_defaults.PART_FILES, raw["parts"])

    def test_values(self):
        self.assertEqual(sdk_defaults.FORMAT, "instaflow-bundle")
        self.assertEqual(list(sdk_defaults.LIMITS.items()),
                         [("max_size", 2048), ("max_batch", 16), ("max_steps", 1000)])
        self.assertEqual(sdk_defaults.PART_FILES["denoiser"], "denoiser.pt")
        self.assertEqual(sdk_defaults.PART_FILES["tokenizer"], "tokenizer")

    def test_a_missing_resource_is_a_clear_error(self):
        from instaflow_export.errors import ExportError
        with self.assertRaises(ExportError) as caught:
            sdk_defaults._load(os.path.join(support.REPO_DIR, "no-such-defaults.json"))
        self.assertIn("checkout of instaflow-java", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
