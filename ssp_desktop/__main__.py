"""``python -m ssp_desktop``: the same as the ``ssp-desktop`` command."""

from ssp_desktop.cli import main

raise SystemExit(main())
