"""Markdown never states what one machine had or ran: a sentence that names an instruction set, a CPU model, a core
count, or a kernel or algorithm that oneDNN reports, as what "the committed run", "this machine", "here" or "we" had or
ran, is false on the next machine, so a code cell prints it from the measurements instead. Explanations for every
machine ("on a CPU with AVX-512, oneDNN picks ...") and sentences that point to the printed finding ("the cell prints
whether this CPU has AMX") pass."""

import json
import re

import pytest

from repository import SERIES_AND_KEYS

# What differs between machines: instruction sets, CPU models, core counts, oneDNN's kernels (`jit:avx2`) and algorithms.
HARDWARE = re.compile("|".join([
    r"\bAVX[-_ ]?(?:2|512|NE)\w*", r"\bavx512\w*", r"\bAMX\b", r"\bSSE\d\w*", r"\bVNNI\b", r"\bDL ?Boost\b",
    r"\bNEON\b", r"\bSVE2?\b", r"\bnative bf16\b", r"\bbf16 (?:instructions|kernels?)\b",
    r"\b(?:jit|brg|gemm|ref|acl)\w*:\w+", r"\bbrgconv\b", r"\bbrg_matmul\b",
    r"\b(?:EPYC|Xeon|Ryzen|Core i\d|Sapphire Rapids|Ice Lake|Cascade Lake|Skylake|Graviton\d*)\b", r"\b\d+[- ]cores?\b",
    r"\bconvolution_\w+", r"\b(?:Winograd|im2col)\b", r"\b(?:computes?|computed|runs?|ran) (?:\w+ ){0,3}directly\b",
]), re.I)
# Words that make a sentence about one particular run or machine.
THIS_RUN = re.compile("|".join([
    r"\b(?:committed|recorded) (?:run|outputs?)\b",
    r"\b(?:this|our) (?:run|machine|computer|cpu|processor|chip|laptop|server|hardware)\b",
    r"\bthe (?:machine|cpu|computer|processor) (?:that|which) (?:recorded|ran|produced)\b",
    r"\bwe (?:measured|found|saw|ran|got|observed|recorded|timed|used)\b", r"\bin our case\b",
    r"\bhere\b(?! (?:is|are)\b)",
    r"\b(?:ran|had)\b",  # a report of one run, in the past tense
]), re.I)
# A clause that makes the statement a condition or hands it to a printed output is true on every machine.
OPEN = re.compile(r"\b(?:if|where|when|whenever|unless|whether)\b|\b(?:prints?|printed|lists|says|states|tells|reports)\b"
                  r"(?! that\b)", re.I)
SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
CLAUSE = re.compile(r"[,;()\[\]—–]|:\s")  # not the colon inside a kernel name (`jit:avx2`)


def machine_claims(markdown: str) -> list[str]:
    """The sentences of `markdown` that name hardware as what one run or machine had, outside a condition."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    claims = []
    for sentence in filter(None, (s.strip() for s in SENTENCE.split(text))):
        asserted = any(THIS_RUN.search(clause) and not OPEN.search(clause) for clause in CLAUSE.split(sentence))
        if asserted and HARDWARE.search(sentence):
            claims.append(sentence)
    return claims


def notebook_claims(notebook: dict) -> list[str]:
    """'cell i: sentence' for every machine claim in the notebook's markdown cells (code cells print theirs)."""
    return [f"cell {i}: {claim}" for i, cell in enumerate(notebook["cells"]) if cell["cell_type"] == "markdown"
            for claim in machine_claims("".join(cell["source"]))]


@pytest.mark.parametrize("path", SERIES_AND_KEYS, ids=lambda p: p.stem)
def test_no_markdown_states_what_one_machine_had_or_ran(path):
    claims = notebook_claims(json.loads(path.read_text(encoding="utf-8")))
    assert not claims, (f"{path.name}: markdown states what one machine had or ran; print it from the measurements "
                        "in a code cell, or phrase it for every machine:\n" + "\n".join(claims))


RUN_CLAIMS = [
    "In the committed run, on a CPU with AVX2 only (an AMD EPYC), it ran only the two fp32 ones, as `jit:avx2` and "
    "`jit_1x1:avx2`.",
    "This machine has AVX-512 with bf16, so the convolution uses `jit_bf16:avx512_core_bf16`.",
    "Here oneDNN picks `brgconv:avx512_core_amx` for every convolution.",
    "Our run used AMX tiles for the products.",
    "We measured on a Xeon with AVX-512 BF16.",
    "The committed outputs come from an AVX2 laptop.",
    "oneDNN ran both convolutions as `jit:avx512_core`.",
    "The CPU that recorded the outputs has no native bf16, so bf16 is not timed.",
    "On this CPU, oneDNN uses `jit:avx2` kernels; the table above lists them.",
    "The table also shows which matrix products oneDNN ran: the bf16 one, as `brg_matmul:avx512_core_bf16`.",
    "The committed outputs come from a small 2-core CPU.",
    "On the CPU that recorded the committed outputs, oneDNN computed these convolutions directly.",
    "Here the convolutions ran as `convolution_direct`, not Winograd.",
]
GENERAL = [
    "On a CPU with AVX-512 and bf16, oneDNN picks `jit_bf16:avx512_core_bf16` for a bf16 convolution.",
    "A GPU runs the same products with cuBLAS, and oneDNN is not involved.",
    "The cell above prints whether this CPU has AVX-512 BF16 or AMX.",
    "Where this machine has native bf16 instructions, the cell times bf16 too.",
    "`jit:avx2` is oneDNN's direct-convolution kernel for AVX2, and `jit_1x1:` marks one for 1×1 convolutions.",
    "PyTorch hands bf16 convolutions to oneDNN only on CPUs with AVX-512 (the cell prints whether yours is one).",
    "Whether this run's convolutions used `jit:avx2` or an AVX-512 kernel is printed above.",
    "If your CPU has AMX, expect `brgconv` kernels.",
    "Here is what a kernel name such as `jit:avx512_core` means: the kernel family, then the instruction set.",
    "Recent Intel Xeons with AMX or AVX-512 BF16 can gain, and the cell above prints by how much there.",
    "In 2012, the network ran on two GTX 580 GPUs for five to six days.",
    "`convolution_direct` means oneDNN computes the convolution directly, without im2col or Winograd's algorithm.",
    "Exercise 6 prints which algorithm oneDNN reports on this machine: `convolution_direct` or Winograd's.",
    "A speed-up short of 2 on a 2-core CPU has several causes.",
]


@pytest.mark.parametrize("sentence", RUN_CLAIMS)
def test_a_sentence_about_one_machine_is_caught(sentence):
    assert machine_claims(f"Some context first. {sentence} More prose after.") == [sentence]


@pytest.mark.parametrize("sentence", GENERAL)
def test_a_sentence_for_every_machine_passes(sentence):
    assert machine_claims(sentence) == []


def test_only_markdown_cells_are_read_and_each_claim_names_its_cell():
    cells = [{"cell_type": "markdown", "source": ["# Title\n", "\n", GENERAL[0]]},
             {"cell_type": "code", "source": [f"print({RUN_CLAIMS[1]!r})"]},
             {"cell_type": "markdown", "source": [f"Intro. {RUN_CLAIMS[0]}"]}]
    assert notebook_claims({"cells": cells}) == [f"cell 2: {RUN_CLAIMS[0]}"]
