#!/usr/bin/python3
"""Print parameter values after a few steps of PyTorch's Adam and SGD, as a
reference for tests/test_optim.c.

Run with the Python that has PyTorch 1.13 (Debian's python3-torch), for
example /usr/bin/python3 tests/reference/optim_reference.py. The values are
printed as C hexadecimal float literals, so they carry every bit.

Each case updates a parameter [4] (initial values 0.5, -1.5, 2.0, 0.0) for
three steps. The gradient at step t (t = 1, 2, 3) of element i is
GRADIENTS[t - 1][i]. PyTorch's CPU kernels fuse some multiply-adds, which
common/optim.c does not, so the C tests allow two units in the last place.
"""
import torch

INITIAL = [0.5, -1.5, 2.0, 0.0]
GRADIENTS = [
    [1.0, -0.25, 3.0, 0.001],
    [-0.5, 0.75, 2.0, -2.0],
    [0.125, -1.0, -4.0, 1e-4],
]


def format_c_float(value):
    """Format a float32 value as a C literal such as 0x1.f5c29p-2f."""
    mantissa, exponent = value.hex().split("p")
    return f"{mantissa.rstrip('0').rstrip('.')}p{exponent}f"


def run(make_optimizer):
    parameter = torch.tensor(INITIAL, dtype=torch.float32, requires_grad=True)
    optimizer = make_optimizer([parameter])
    rows = []
    for gradient in GRADIENTS:
        parameter.grad = torch.tensor(gradient, dtype=torch.float32)
        optimizer.step()
        rows.append([format_c_float(float(value)) for value in parameter.detach()])
    return rows


def print_case(name, make_optimizer):
    print(f"{name}:")
    for step, row in enumerate(run(make_optimizer), start=1):
        print(f"  step {step}: {{{', '.join(row)}}}")


def main():
    print(f"torch {torch.__version__}")
    print_case("adam lr 0.01, defaults otherwise",
               lambda p: torch.optim.Adam(p, lr=0.01))
    print_case("adam lr 0.01, betas 0.8 0.99, eps 1e-3, weight decay 0.1",
               lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-3,
                                          weight_decay=0.1))
    print_case("sgd lr 0.1, momentum 0.9",
               lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9))


if __name__ == "__main__":
    main()
