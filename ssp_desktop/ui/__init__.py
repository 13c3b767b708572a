"""The Qt user interface: windows, dialogs, item models. Thin adapters over the domain."""
