import sys

from hopscope_cli.main import main

sys.exit(main())
