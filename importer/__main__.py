"""python -m importer"""

from .cli import main

main()
