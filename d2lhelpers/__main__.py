"""`python -m d2lhelpers`: prepare Fashion-MNIST (find, verify, copy) and say where it came from."""

from d2lhelpers.data import main

main()
