"""`python -m sandbox ...`: the standalone sandbox server."""

import sys

from sandbox.standalone import main

sys.exit(main(sys.argv[1:]))
