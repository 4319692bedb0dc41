"""Helpers for the AlexNet teaching series (Dive into Deep Learning §7.1). Importing has no side effects.

One module per concern; each names the notebook that introduces it:

- versions     the d2l version and the Python/torch floors the code needs (00)
- paths        the data and results folders: two settings, documented defaults (00)
- data         Fashion-MNIST found offline, verified by MD5, loaded as uint8 tensors (00)
- devices      CUDA, MPS or CPU, placing a model and its data there, running out of memory (00, 05)
- profiles     the ci/cpu/gpu run profiles: every setting and accuracy floor that differs (00)
- environment  what this machine offers, for the set-up check (00)
- features     hand-crafted features: Sobel, Gabor, a vectorised HOG (01)
- baselines    timed scikit-learn pipelines on those features (01)
- hardware     matmul and training throughput, published peaks, the power arithmetic (02)
- timing       synchronised timers: median of calls, examples/s end to end (02, 04)
- shapes       the output-size formula, layer by layer (03)
- windows      where a convolution's window goes along one axis, what one output value sums (03)
- drawings     figures of those windows and of one convolution step (03)
- models       the book's AlexNet (which knows, and checks, its input size), the 2012 network, LeNet, a small CNN (03)
- costs        parameters, multiply-adds and memory, layer by layer (03)
- tables       display tables, and the README's generated sections (03)
- widgets      interactive figures: a sentence instead of the widget's repr where no kernel runs, drawn in place (03, 06)
- batches      model-ready batches made on the device: resize, standardise, augment (04)
- precision    bf16, fp16 or fp32 from the hardware, with the reason; the forward pass in it (05)
- training     the loop: one step, one epoch, evaluation, `train` with resumption (05)
- budget       a run planned to a time budget from a few timed steps (05)
- checkpoints  checkpoints and run records: resumable, atomic, with the generators' states;
               the out-of-memory error that keeps them (05)
- runs         the seeded AlexNet of a profile, train-and-save, loading what notebook 05 saved (05, 06)
- snapshots    a layer's filters kept at chosen steps of a run, saved with it (06)
- metrics      confusion matrix and most-confused pairs (05)
- plots        matplotlib figures: images, training curves, confusion matrices, runs (01, 04, 05, 07)
- inspection   filters, feature maps, top-activating images, filter similarity (06)
- ablations    one-factor experiments on AlexNet's ingredients (07)
- verdicts     the one verdict rule: Welch's 95% interval over seeds, variants that did not learn (07); single runs on a test set (01)
"""

from d2lhelpers.costs import count_parameters, layer_costs, training_memory_bytes
from d2lhelpers.data import CLASS_NAMES, FashionMNISTError, load_fashion_mnist, prepare_fashion_mnist
from d2lhelpers.devices import best_device
from d2lhelpers.models import alexnet, lenet
from d2lhelpers.profiles import PROFILES, choose_profile
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
