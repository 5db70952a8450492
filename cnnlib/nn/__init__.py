"""cnnlib.nn (being written)."""
