"""The board pack and its PDF charts (DESIGN.md section 5). Never imports Qt.

The exporter arrives with the board-pack issue; the package exists now so the layering
contracts in pyproject.toml cover it from day one.
"""
