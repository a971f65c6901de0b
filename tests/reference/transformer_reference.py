#!/usr/bin/python3
"""Write reference results of the stage 08 transformer and of a causal CNN
language model, computed with PyTorch, for tests/test_stage08_reference.c.

Run with the Python that has PyTorch 1.13 (Debian's python3-torch), from the
repository root:

    /usr/bin/python3 tests/reference/transformer_reference.py

It rewrites the files in tests/reference/data/. The C test reads them and
needs no Python.

Who makes the weights: this script. It draws every parameter from a seeded
torch.Generator, writes the weights, the word ids and the targets to
*_weights.txt, builds the same models with PyTorch's own ops (F.embedding,
F.layer_norm, F.conv1d, F.gelu, torch.softmax, F.cross_entropy,
torch.optim.Adam), and writes what they compute to the other files. The C
test loads the weights by parameter name into its own models, so the check
does not depend on how the C code initialises weights, only on the
parameter names and the model's arithmetic.

File format: lines starting with '#' are comments. Every other line is one
tensor:

    NAME NDIM DIM0 ... DIM(NDIM-1) VALUE0 VALUE1 ...

with the values in row-major order, written with 9 significant digits so
that each float32 value reads back exactly.

What each results file holds, for one batch of 2 sentences of 5 words:
    logits            the model's output before softmax
    loss              the mean cross-entropy
    grad.NAME         the gradient of the loss for parameter NAME (zeros for
                      a parameter the model does not use, such as the
                      classifier head in next-word prediction)
    adam_losses       the loss before each of 10 Adam steps (lr 1e-2, other
                      settings PyTorch's defaults) on the same batch
"""
import math
import os

import torch
import torch.nn.functional as F

SEED = 8
DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")

VOCAB = 11          # V
POSITIONS = 8       # P
WIDTH = 8           # D
HEADS = 2           # H, so each head is 4 wide
MLP_WIDTH = 16
LAYERS = 2          # L, for the transformer and the CNN
CLASSES = 3         # C, outputs of the classifier head
BATCH = 2
LENGTH = 5          # words per sentence
CNN_KERNEL = 3
NORM_EPS = 1e-5     # layer norm epsilon, PyTorch's default
ADAM_STEPS = 10
ADAM_LR = 1e-2

# Every ReLU input of the CNN stays at least this far from 0, so that float
# rounding cannot put the C and PyTorch results on different sides of the kink.
RELU_MARGIN = 1e-3


def format_tensor(name, tensor):
    """Format one tensor as a line of the file format above."""
    values = tensor.detach().reshape(-1).tolist()
    if tensor.dtype.is_floating_point:
        text = " ".join(f"{value:.9g}" for value in values)
    else:
        text = " ".join(str(int(value)) for value in values)
    dims = " ".join(str(d) for d in tensor.shape)
    return f"{name} {tensor.dim()} {dims} {text}\n"


def write_file(filename, comment, tensors):
    """Write (name, tensor) pairs to DATA_DIR/filename, after a comment line."""
    path = os.path.join(DATA_DIR, filename)
    with open(path, "w", encoding="ascii") as out:
        out.write(f"# {comment}\n# written by tests/reference/transformer_reference.py, "
                  f"torch {torch.__version__}\n")
        for name, tensor in tensors:
            out.write(format_tensor(name, tensor))
    print(f"wrote {path}")


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------

def uniform(generator, shape, bound):
    return (torch.rand(shape, generator=generator) * 2.0 - 1.0) * bound


def normal(generator, shape, std):
    return torch.randn(shape, generator=generator) * std


def transformer_parameters(generator):
    """Return the transformer's parameters as an ordered list of (name, tensor).

    The names are the C model's names (transformer_params). Layer norm gains
    and biases get small random offsets instead of PyTorch's 1 and 0, so that
    their gradients are checked on values that are not special.
    """
    head = WIDTH // HEADS
    params = [
        ("word_embedding", normal(generator, (VOCAB, WIDTH), 1.0)),
        ("position_embedding", normal(generator, (POSITIONS, WIDTH), 1.0)),
    ]
    for layer in range(1, LAYERS + 1):
        block = f"block{layer}"
        params += [
            (f"{block}.norm1.gain", 1.0 + normal(generator, (WIDTH,), 0.1)),
            (f"{block}.norm1.bias", normal(generator, (WIDTH,), 0.1)),
        ]
        for h in range(HEADS):
            prefix = f"{block}.attention.head{h}"
            params += [
                (f"{prefix}.self", uniform(generator, (head, WIDTH), 1.0 / math.sqrt(WIDTH))),
                (f"{prefix}.value", uniform(generator, (head, WIDTH), 1.0 / math.sqrt(WIDTH))),
                # Wider queries and keys give weights far from uniform.
                (f"{prefix}.query", uniform(generator, (head, WIDTH), 2.0 / math.sqrt(WIDTH))),
                (f"{prefix}.key", uniform(generator, (head, WIDTH), 2.0 / math.sqrt(WIDTH))),
            ]
        params += [
            (f"{block}.attention.output",
             uniform(generator, (WIDTH, WIDTH), 1.0 / math.sqrt(WIDTH))),
            (f"{block}.norm2.gain", 1.0 + normal(generator, (WIDTH,), 0.1)),
            (f"{block}.norm2.bias", normal(generator, (WIDTH,), 0.1)),
            (f"{block}.mlp.hidden_weight",
             uniform(generator, (MLP_WIDTH, WIDTH), 1.0 / math.sqrt(WIDTH))),
            (f"{block}.mlp.hidden_bias", uniform(generator, (MLP_WIDTH,), 1.0 / math.sqrt(WIDTH))),
            (f"{block}.mlp.out_weight",
             uniform(generator, (WIDTH, MLP_WIDTH), 1.0 / math.sqrt(MLP_WIDTH))),
            (f"{block}.mlp.out_bias", uniform(generator, (WIDTH,), 1.0 / math.sqrt(MLP_WIDTH))),
        ]
    params += [
        ("final_norm.gain", 1.0 + normal(generator, (WIDTH,), 0.1)),
        ("final_norm.bias", normal(generator, (WIDTH,), 0.1)),
        ("classifier.weight", uniform(generator, (CLASSES, WIDTH), 1.0 / math.sqrt(WIDTH))),
        ("classifier.bias", uniform(generator, (CLASSES,), 1.0 / math.sqrt(WIDTH))),
        ("next_word.weight", uniform(generator, (VOCAB, WIDTH), 1.0 / math.sqrt(WIDTH))),
        ("next_word.bias", uniform(generator, (VOCAB,), 1.0 / math.sqrt(WIDTH))),
    ]
    return params


def cnn_parameters(generator):
    """Return the causal CNN's parameters as (name, tensor), with the C model's names.

    A convolution weight is stored as C stores it, [Dout, k*Din], where
    column j*Din + c multiplies channel c of the j-th word of the window,
    the earliest word first.
    """
    params = [("embedding", normal(generator, (VOCAB, WIDTH), 1.0))]
    for layer in range(1, LAYERS + 1):
        fan_in = CNN_KERNEL * WIDTH
        params += [
            (f"conv{layer}.weight", normal(generator, (WIDTH, fan_in), math.sqrt(2.0 / fan_in))),
            (f"conv{layer}.bias", normal(generator, (WIDTH,), 0.1)),
        ]
    params += [
        ("output.weight", uniform(generator, (VOCAB, WIDTH), 1.0 / math.sqrt(WIDTH))),
        ("output.bias", uniform(generator, (VOCAB,), 1.0 / math.sqrt(WIDTH))),
    ]
    return params


# ---------------------------------------------------------------------------
# The models
# ---------------------------------------------------------------------------

def attention(x, p, prefix, causal):
    """Stage 07 multi-head attention with the stage 08 additions.

    Head h computes y_q = A x_q + sum_k a_qk B x_k, with
    a = softmax over k of (W_Q x_q . W_K x_k) / sqrt(head width), keys after
    the query masked out when causal. The heads' outputs are concatenated
    and multiplied by W_O. Shapes: x [B, n, D], out [B, n, D].
    """
    n = x.shape[1]
    outputs = []
    for h in range(HEADS):
        head = f"{prefix}.head{h}"
        query = F.linear(x, p[f"{head}.query"])
        key = F.linear(x, p[f"{head}.key"])
        scores = query @ key.transpose(1, 2) / math.sqrt(query.shape[-1])
        if causal:
            later = torch.ones(n, n, dtype=torch.bool).triu(diagonal=1)
            scores = scores.masked_fill(later, float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        outputs.append(F.linear(x, p[f"{head}.self"]) + weights @ F.linear(x, p[f"{head}.value"]))
    return F.linear(torch.cat(outputs, dim=-1), p[f"{prefix}.output"])


def transformer_features(p, ids, causal):
    """Embeddings, L pre-norm blocks and the final layer norm. ids [B, n] -> [B, n, D]."""
    n = ids.shape[1]
    x = F.embedding(ids, p["word_embedding"]) + p["position_embedding"][:n]
    for layer in range(1, LAYERS + 1):
        block = f"block{layer}"
        h = F.layer_norm(x, (WIDTH,), p[f"{block}.norm1.gain"], p[f"{block}.norm1.bias"], NORM_EPS)
        x = x + attention(h, p, f"{block}.attention", causal)
        h = F.layer_norm(x, (WIDTH,), p[f"{block}.norm2.gain"], p[f"{block}.norm2.bias"], NORM_EPS)
        hidden = F.linear(h, p[f"{block}.mlp.hidden_weight"], p[f"{block}.mlp.hidden_bias"])
        hidden = F.gelu(hidden)
        x = x + F.linear(hidden, p[f"{block}.mlp.out_weight"], p[f"{block}.mlp.out_bias"])
    return F.layer_norm(x, (WIDTH,), p["final_norm.gain"], p["final_norm.bias"], NORM_EPS)


def transformer_next_word(p, ids):
    """Causal transformer, then a linear map to the vocabulary. -> logits [B*n, V]."""
    features = transformer_features(p, ids, causal=True)
    return F.linear(features, p["next_word.weight"], p["next_word.bias"]).reshape(-1, VOCAB)


def transformer_classify(p, ids):
    """Transformer without mask, mean over positions, then a linear map. -> logits [B, C]."""
    features = transformer_features(p, ids, causal=False)
    return F.linear(features.mean(dim=1), p["classifier.weight"], p["classifier.bias"])


def cnn_next_word(p, ids, relu_inputs=None):
    """Causal CNN of stage 01 and a linear map to the vocabulary. -> logits [B*n, V].

    Each layer is relu(conv1d) with k - 1 zeros on the left, so output t
    reads words t-2, t-1 and t. relu_inputs, when given, collects every
    layer's input to the ReLU.
    """
    x = F.embedding(ids, p["embedding"]).transpose(1, 2)          # [B, D, n]
    for layer in range(1, LAYERS + 1):
        weight = p[f"conv{layer}.weight"].reshape(WIDTH, CNN_KERNEL, WIDTH).permute(0, 2, 1)
        pre = F.conv1d(F.pad(x, (CNN_KERNEL - 1, 0)), weight, p[f"conv{layer}.bias"])
        if relu_inputs is not None:
            relu_inputs.append(pre.detach())
        x = torch.relu(pre)
    features = x.transpose(1, 2)                                  # [B, n, D]
    return F.linear(features, p["output.weight"], p["output.bias"]).reshape(-1, VOCAB)


# ---------------------------------------------------------------------------
# One batch, its gradients and 10 Adam steps
# ---------------------------------------------------------------------------

def run(named_params, forward, ids, targets):
    """Return the (name, tensor) results of one model on one batch.

    Works on copies, so the caller's parameters keep their values.
    """
    p = {name: value.clone().requires_grad_(True) for name, value in named_params}
    logits = forward(p, ids)
    loss = F.cross_entropy(logits, targets)
    loss.backward()
    results = [("logits", logits), ("loss", loss.reshape(1))]
    for name, value in named_params:
        grad = p[name].grad
        results.append((f"grad.{name}", grad if grad is not None else torch.zeros_like(value)))

    p = {name: value.clone().requires_grad_(True) for name, value in named_params}
    optimizer = torch.optim.Adam(list(p.values()), lr=ADAM_LR)
    losses = []
    for _ in range(ADAM_STEPS):
        optimizer.zero_grad()
        loss = F.cross_entropy(forward(p, ids), targets)
        loss.backward()
        losses.append(loss.item())
        optimizer.step()
    results.append(("adam_losses", torch.tensor(losses, dtype=torch.float32)))
    return results


def make_batch(generator):
    """Draw word ids [B, n], next-word targets [B*n] and class labels [B].

    Word 0 is placed in the first sentence, so that the first row of every
    embedding table is used and a change to its first value shows.
    """
    words = torch.randint(0, VOCAB, (BATCH, LENGTH + 1), generator=generator)
    words[0, 1] = 0
    ids = words[:, :LENGTH].contiguous()
    targets = words[:, 1:].reshape(-1).contiguous()
    labels = torch.randint(0, CLASSES, (BATCH,), generator=generator)
    return ids, targets, labels


def check_relu_margin(named_params, ids):
    """Stop when a ReLU input of the CNN lies within RELU_MARGIN of 0 (see above)."""
    relu_inputs = []
    with torch.no_grad():
        cnn_next_word(dict(named_params), ids, relu_inputs)
    smallest = min(float(pre.abs().min()) for pre in relu_inputs)
    if smallest < RELU_MARGIN:
        raise SystemExit(f"a CNN ReLU input is {smallest:g} from 0; choose another SEED")


def main():
    torch.set_num_threads(1)
    os.makedirs(DATA_DIR, exist_ok=True)
    generator = torch.Generator().manual_seed(SEED)
    ids, targets, labels = make_batch(generator)
    transformer = transformer_parameters(generator)
    cnn = cnn_parameters(generator)
    check_relu_margin(cnn, ids)

    sizes = torch.tensor([VOCAB, POSITIONS, WIDTH, HEADS, MLP_WIDTH, LAYERS, CLASSES])
    batch = [("ids", ids), ("targets", targets), ("labels", labels)]
    write_file("transformer_weights.txt",
               "config: V, P, D, H, MLP width, L, C; then the batch and the weights",
               [("config", sizes)] + batch + transformer)
    write_file("transformer_next_word.txt", "causal transformer, next-word prediction",
               run(transformer, transformer_next_word, ids, targets))
    write_file("transformer_classify.txt", "transformer without mask, classification",
               run(transformer, transformer_classify, ids, labels))

    cnn_sizes = torch.tensor([VOCAB, WIDTH, LAYERS])
    write_file("cnn_weights.txt", "config: V, D, L; then the batch and the weights",
               [("config", cnn_sizes)] + batch + cnn)
    write_file("cnn_next_word.txt", "causal CNN, next-word prediction",
               run(cnn, cnn_next_word, ids, targets))


if __name__ == "__main__":
    main()
