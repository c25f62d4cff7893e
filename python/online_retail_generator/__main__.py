"""``python -m online_retail_generator``: write the default data (see ``generate.main``)."""

from online_retail_generator.generate import main

raise SystemExit(main())
