import sys

from losscli.cli import main

sys.exit(main())
