"""Entry point of the packaged app: the same ``main`` as the ``ssp-desktop`` command."""

import sys

from ssp_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
