from inkmath.cli import main

raise SystemExit(main())
