#!/usr/bin/python3
"""Time one training step of the benchmark models in PyTorch.

The reference half of `make bench`: build/bench/bench runs this script as a
subprocess and reads what it prints. Needs PyTorch 1.13 (Debian's
python3-torch) with an optimised BLAS behind it (libopenblas0-pthread);
nothing else in the project uses Python.

The two models compute the same functions as the C models that
bench/bench_models.c builds, with the same parameter shapes:

transformer  next-word prediction with the stage 08 model: word and learned
             position embeddings, pre-norm blocks (layer norm, causal
             multi-head attention with residual, layer norm, GELU MLP with
             residual), a final layer norm and a linear map to the
             vocabulary. Head h outputs A_h x_q + sum_k a_qk B_h x_k, where
             A_h is the head's own map of the query word ("self") and B_h its
             value map, and a_qk is the softmax over keys k <= q of the
             scaled scores (W_Q x_q . W_K x_k) / sqrt(head width).
cnn          next-word prediction with stage 01's layers: an embedding,
             convolutions of window 3 with two zeros on the left (causal),
             each followed by ReLU, and a linear map to the vocabulary.

The heads are computed together, as PyTorch code usually does: one matrix
[H*Dh, D] holds every head's query (or key, value, self) map, and the
scores are one batched product. The C code loops over the heads.

Output, one "key value..." line each:
    parameters            trainable values of the model
    step_seconds          wall time of each timed step, in order (only with --repetitions > 0)
    step_seconds_median   their median
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    """One pre-norm transformer block. x [B, n, D] -> [B, n, D]."""

    def __init__(self, width, heads, mlp_width):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(width)
        self.query = nn.Linear(width, width, bias=False)
        self.key = nn.Linear(width, width, bias=False)
        self.value = nn.Linear(width, width, bias=False)
        self.self_map = nn.Linear(width, width, bias=False)
        self.output = nn.Linear(width, width, bias=False)
        self.norm2 = nn.LayerNorm(width)
        self.hidden = nn.Linear(width, mlp_width)
        self.out = nn.Linear(mlp_width, width)

    def split_heads(self, x):
        """[B, n, H*Dh] -> [B, H, n, Dh]."""
        batch, length, width = x.shape
        return x.view(batch, length, self.heads, width // self.heads).transpose(1, 2)

    def attention(self, x):
        batch, length, width = x.shape
        query = self.split_heads(self.query(x))
        key = self.split_heads(self.key(x))
        value = self.split_heads(self.value(x))
        scores = query @ key.transpose(-1, -2) / math.sqrt(width // self.heads)
        later = torch.ones(length, length, dtype=torch.bool).triu(diagonal=1)
        weights = torch.softmax(scores.masked_fill(later, float("-inf")), dim=-1)
        mixed = (weights @ value).transpose(1, 2).reshape(batch, length, width)
        return self.output(self.self_map(x) + mixed)

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.out(F.gelu(self.hidden(self.norm2(x))))


class Transformer(nn.Module):
    """The causal next-word model. ids [B, n] -> logits [B*n, V]."""

    def __init__(self, vocab, positions, width, heads, mlp_width, layers):
        super().__init__()
        self.words = nn.Embedding(vocab, width)
        self.positions = nn.Embedding(positions, width)
        self.blocks = nn.ModuleList(Block(width, heads, mlp_width) for _ in range(layers))
        self.final_norm = nn.LayerNorm(width)
        self.next_word = nn.Linear(width, vocab)

    def forward(self, ids):
        length = ids.shape[1]
        x = self.words(ids) + self.positions.weight[:length]
        for block in self.blocks:
            x = block(x)
        logits = self.next_word(self.final_norm(x))
        return logits.reshape(-1, logits.shape[-1])


class CausalCnn(nn.Module):
    """The causal CNN next-word model. ids [B, n] -> logits [B*n, V]."""

    def __init__(self, vocab, width, layers, window=3):
        super().__init__()
        self.window = window
        self.embedding = nn.Embedding(vocab, width)
        self.convs = nn.ModuleList(nn.Conv1d(width, width, window) for _ in range(layers))
        self.output = nn.Linear(width, vocab)

    def forward(self, ids):
        x = self.embedding(ids).transpose(1, 2)                # [B, D, n]
        for conv in self.convs:
            x = torch.relu(conv(F.pad(x, (self.window - 1, 0))))
        logits = self.output(x.transpose(1, 2))                # [B, n, V]
        return logits.reshape(-1, logits.shape[-1])


def build_model(args):
    if args.model == "transformer":
        return Transformer(args.vocab, args.length, args.width, args.heads, args.mlp_width,
                           args.layers)
    return CausalCnn(args.vocab, args.width, args.layers)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=["transformer", "cnn"], required=True)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--repetitions", type=int, default=20,
                        help="timed steps; 0 runs only the warm-up steps (for peak memory)")
    parser.add_argument("--batch", type=int, default=32, help="sentences per step")
    parser.add_argument("--length", type=int, default=32, help="words per sentence")
    parser.add_argument("--vocab", type=int, default=1000, help="vocabulary size")
    parser.add_argument("--width", type=int, default=64, help="model width D")
    parser.add_argument("--heads", type=int, default=4, help="attention heads (transformer)")
    parser.add_argument("--mlp-width", type=int, default=256, help="MLP width (transformer)")
    parser.add_argument("--layers", type=int, default=2, help="blocks or convolution layers")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    model = build_model(args)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    words = torch.randint(0, args.vocab, (args.batch, args.length + 1))
    ids = words[:, :-1].contiguous()
    targets = words[:, 1:].reshape(-1).contiguous()
    print("parameters", sum(p.numel() for p in model.parameters()))

    def step():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(ids), targets)
        loss.backward()
        optimizer.step()

    for _ in range(args.warmup):
        step()
    seconds = []
    for _ in range(args.repetitions):
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    if seconds:
        print("step_seconds", " ".join(f"{value:.9f}" for value in seconds))
        print("step_seconds_median", statistics.median(seconds))


if __name__ == "__main__":
    main()
