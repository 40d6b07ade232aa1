"""python -m esxpath.cli: the same as the esxpath command."""
from .group import run

if __name__ == "__main__":
    run()
