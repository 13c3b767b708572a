"""Files shipped with the package (fonts), found with :mod:`importlib.resources` so they
work from a source checkout, an installed wheel and a frozen app alike."""
