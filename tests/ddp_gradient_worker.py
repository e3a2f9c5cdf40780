"""One rank of the gradient check in test_core_distributed.py; torchrun starts two of these."""

import sys

from test_core_distributed import run_rank

if __name__ == "__main__":
    run_rank(sys.argv[1])
