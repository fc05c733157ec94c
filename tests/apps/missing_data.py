"""runlock() of a data path given on the command line (missing: nothing is written)."""

import sys

from naga import runlock


def main():
    runlock({"save_dir": "out"}, data=[sys.argv[1]])


main()
