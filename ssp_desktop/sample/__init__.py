"""The built-in sample plan (Safer Stockport Partnership), written through the services."""
