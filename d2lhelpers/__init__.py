"""Helpers for the AlexNet teaching series (Dive into Deep Learning §7.1), one module per concern with the notebooks
that introduce it; importing has no side effects.

- data         the data and results folders; Fashion-MNIST found offline, verified by MD5, loaded as uint8 tensors (00)
- devices      CUDA, MPS or CPU: a model and its data placed there, timers, the CPU's bf16, precision (00, 02, 04, 05)
- hardware     what this machine offers: the set-up check (00); its throughput, power (02)
- profiles     the ci/cpu/gpu run profiles: every setting and accuracy floor that differs (00)
- features     hand-crafted features (Sobel, Gabor, HOG), timed pipelines, the small CNN's recipe (01)
- shapes       the output-size formula, layer by layer; where a window goes, what one output value sums (03)
- drawings     figures of those windows and of one convolution step (03)
- models       the book's AlexNet, the 2012 network, LeNet, a small CNN; their parameters, multiply-adds, memory (03)
- widgets      interactive figures: a sentence in place of the widget where no kernel runs, drawn in place (03, 06)
- batches      model-ready batches made on the device: resize, standardise, augment (04)
- training     the loop: one step, one epoch, evaluation, `train` with resumption (05)
- checkpoints  what a run saves: resumable checkpoints, its one record format, conv1's filters kept during it (05, 06)
- runs         a profile's AlexNet: seeded start, planned to a time budget, trained and saved, loaded again (05, 06)
- plots        figures and tables: images, training curves, the confusion matrix, runs, thousands (01, 03-05, 07)
- inspection   filters, feature maps, top-activating images, filter similarity (06)
- ablations    one-factor experiments on AlexNet's ingredients (07)
- verdicts     the one verdict rule: Welch's 95% interval over seeds (07); single runs on a test set (01)
"""

from d2lhelpers.data import CLASS_NAMES, FashionMNISTError, load_fashion_mnist, prepare_fashion_mnist
from d2lhelpers.devices import best_device
from d2lhelpers.models import alexnet, count_parameters, layer_costs, lenet, training_memory_bytes
from d2lhelpers.profiles import PROFILES, choose_profile
from d2lhelpers.shapes import conv_output_size, smallest_valid_input, spatial_sizes
