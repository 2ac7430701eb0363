"""``python -m sourcegrad`` is the ``sourcegrad`` command."""

from .cli import main

raise SystemExit(main())
