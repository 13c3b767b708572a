"""The domain: records, rules and the store. Never imports Qt (DESIGN.md section 6)."""
