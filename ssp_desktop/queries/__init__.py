"""Read models: what the lists, scorecard, outline, history, "My quarter" and the board pack
show, read from a session. Nothing here writes to the store."""
