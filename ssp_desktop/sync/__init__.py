"""Offline sync through bundle files (DESIGN.md section 4). Never imports Qt.

Bundles, the three-way field merge and bundle crypto arrive with the sync issues; the
package exists now so the layering contracts in pyproject.toml cover it from day one.
"""
