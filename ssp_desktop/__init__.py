"""ssp-desktop: the offline app for a Community Safety Partnership's plan and board packs."""

__version__ = "0.1.0"
__licence__ = "MIT"  # the full text is LICENSE, beside this package in a source tree
