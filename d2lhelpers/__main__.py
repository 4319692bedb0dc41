"""`python -m d2lhelpers`: prepare Fashion-MNIST (find, verify, copy) and say where it came from."""

import argparse

from d2lhelpers.data import FashionMNISTError, prepare_fashion_mnist

parser = argparse.ArgumentParser(prog="python -m d2lhelpers", description="Find, verify and copy Fashion-MNIST.")
parser.add_argument("--offline", action="store_true", help="fail instead of downloading")
args = parser.parse_args()
try:
    raw, source = prepare_fashion_mnist(allow_download=not args.offline)
except FashionMNISTError as error:
    raise SystemExit(f"error: {error}") from None
origin = "already verified" if source == raw else f"verified and copied from {source}"
print(f"Fashion-MNIST ready in {raw} ({origin})")
