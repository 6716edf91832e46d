"""Exports diffusers snapshots of InstaFlow / 2-Rectified Flow (and SwiftBrush) to instaflow-java bundles.

Run it as ``python -m instaflow_export SNAPSHOT_DIR OUT_DIR --preset instaflow|rectified-flow|swiftbrush``;
see ``exporter/README.md``.
"""

__version__ = "0.1.0"
