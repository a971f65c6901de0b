#!/usr/bin/env python3
"""Print PCG32 (XSH-RR 64/32) outputs, as an independent check of common/rng.c.

Written from the algorithm's description in M. E. O'Neill, "PCG: A Family of
Simple Fast Space-Efficient Statistically Good Algorithms for Random Number
Generation", Harvey Mudd College, HMC-CS-2014-0905 (2014), with Python's
unbounded integers masked to 64 and 32 bits, so it shares no code with the C
version. Without arguments it prints round 1 of O'Neill's pcg32 check
(seed 42, stream 54: six outputs, 65 coin tosses, 33 dice rolls and a dealt
deck of 52 cards), in the format of test-high/expected/check-pcg32.out from
github.com/imneme/pcg-c, and exits non-zero unless it matches that file.

Usage: pcg32_reference.py [SEED STREAM COUNT]
"""
import sys

MASK64 = (1 << 64) - 1
MASK32 = (1 << 32) - 1
MULTIPLIER = 6364136223846793005


class Pcg32:
    def __init__(self, seed, stream):
        self.increment = ((stream << 1) | 1) & MASK64
        self.state = 0
        self.next()
        self.state = (self.state + seed) & MASK64
        self.next()

    def next(self):
        old = self.state
        self.state = (old * MULTIPLIER + self.increment) & MASK64
        xorshifted = (((old >> 18) ^ old) >> 27) & MASK32
        rotation = old >> 59
        return ((xorshifted >> rotation) | (xorshifted << ((32 - rotation) % 32))) & MASK32

    def below(self, bound):
        """Draw uniformly from 0 .. bound - 1, rejecting outputs below 2^32 mod bound."""
        threshold = (1 << 32) % bound
        while True:
            value = self.next()
            if value >= threshold:
                return value % bound

    def shuffle(self, values):
        """Shuffle in place: for i = n .. 2, swap values[i - 1] with values[below(i)]."""
        for i in range(len(values), 1, -1):
            j = self.below(i)
            values[i - 1], values[j] = values[j], values[i - 1]


# Round 1 of test-high/expected/check-pcg32.out (imneme/pcg-c), which is also
# the first round that pcg32-demo of pcg-c-basic prints. The backslashes join
# the three lines of cards into one, as format_round_1 prints them.
PUBLISHED_ROUND_1 = """\
  32bit: 0xa15c02b7 0x7b47f409 0xba1d3330 0x83d2f293 0xbfa4784b 0xcbed606e
  Coins: HHTTTHTHHHTHTTTHHHHHTTTHHHTHTHTHTTHTTTHHHHHHTTTTHHTTTTTHTTTTTTTHT
  Rolls: 3 4 1 1 2 2 3 2 4 3 2 4 3 3 5 2 3 1 3 1 5 1 4 1 5 6 4 6 6 2 6 3 3
  Cards: Qd Ks 6d 3s 3d 4c 3h Td Kc 5c Jh Kd Jd As 4s 4h Ad Th Ac Jc 7s Qs \
2s 7h Kh 2d 6c Ah 4d Qh 9h 6s 5s 2c 9c Ts 8d 9s 3c 8c Js 5d 2h 6h \
7d 8s 9d 5h 8h Qc 7c Tc
"""


def format_round_1():
    generator = Pcg32(42, 54)
    numbers = " ".join(f"0x{generator.next():08x}" for _ in range(6))
    coins = "".join("H" if generator.below(2) else "T" for _ in range(65))
    rolls = " ".join(str(generator.below(6) + 1) for _ in range(33))
    cards = list(range(52))
    generator.shuffle(cards)
    names = " ".join("A23456789TJQK"[card // 4] + "hcds"[card % 4] for card in cards)
    return f"  32bit: {numbers}\n  Coins: {coins}\n  Rolls: {rolls}\n  Cards: {names}\n"


def main():
    if len(sys.argv) == 4:
        seed, stream, count = (int(argument, 0) for argument in sys.argv[1:])
        generator = Pcg32(seed, stream)
        print(" ".join(f"0x{generator.next():08x}" for _ in range(count)))
        return

    computed = format_round_1()
    print(computed, end="")
    if computed != PUBLISHED_ROUND_1:
        sys.exit("pcg32_reference.py: round 1 differs from check-pcg32.out")


if __name__ == "__main__":
    main()
