"""python -m esxpath: the same as the esxpath command."""
from .cli import run

if __name__ == "__main__":
    run()
