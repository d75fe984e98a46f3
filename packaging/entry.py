"""The bundle's entry point: the same `ghostpilot` console script (ui.cli:main) that pip installs."""

import sys

from ui.cli import main

if __name__ == "__main__":
    sys.exit(main())
