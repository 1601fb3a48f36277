from cielo.cli import main

raise SystemExit(main())
