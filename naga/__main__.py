"""``python -m naga`` is the ``naga`` command."""

from naga.commands.main import main

raise SystemExit(main())
