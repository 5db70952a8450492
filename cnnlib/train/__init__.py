"""cnnlib.train (being written)."""
