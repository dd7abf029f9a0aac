"""The engine: every full-data computation as a reduction over row blocks of a source."""
