"""Helpers for the AlexNet teaching series: data, models, shapes, costs, profiles.

Each module names the notebook that introduced it. Importing the package has no side effects.
"""

from d2lhelpers.costs import count_parameters, layer_costs, training_memory_bytes
from d2lhelpers.data import CLASS_NAMES, FashionMNISTError, load_fashion_mnist, prepare_fashion_mnist
from d2lhelpers.models import alexnet, lenet
from d2lhelpers.profiles import PROFILES, best_device, choose_profile
from d2lhelpers.shapes import conv_output_size, smallest_valid_input, spatial_sizes

__all__ = [
    "CLASS_NAMES",
    "PROFILES",
    "FashionMNISTError",
    "alexnet",
    "best_device",
    "choose_profile",
    "conv_output_size",
    "count_parameters",
    "layer_costs",
    "lenet",
    "load_fashion_mnist",
    "prepare_fashion_mnist",
    "smallest_valid_input",
    "spatial_sizes",
    "training_memory_bytes",
]
