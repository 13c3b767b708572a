"""ssp-desktop: the offline app for a Community Safety Partnership's plan and board packs."""

__version__ = "0.1.0"
