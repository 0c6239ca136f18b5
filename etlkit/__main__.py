from etlkit.cli import main

raise SystemExit(main())
