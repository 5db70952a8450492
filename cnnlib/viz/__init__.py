"""cnnlib.viz (being written)."""
