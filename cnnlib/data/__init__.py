"""cnnlib.data (being written)."""
