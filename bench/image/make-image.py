#!/usr/bin/env python3
"""Writes the benchmark image's layer trees: LAYERS directories of about MB_PER_LAYER MB each,
half incompressible bytes and half text-like data (so gzip has real work, as with real images),
deterministic from the seed. usage: make-image.py OUT_DIR LAYERS MB_PER_LAYER"""
import os
import random
import sys

out, layers, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(20261129)
words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
         for _ in range(4000)]
for layer in range(layers):
    root = os.path.join(out, f"layer{layer}", "data", f"l{layer}")
    os.makedirs(root, exist_ok=True)
    remaining = mb << 20
    index = 0
    while remaining > 0:
        size = min(remaining, rng.choice([4 << 10, 64 << 10, 512 << 10, 2 << 20]))
        sub = os.path.join(root, f"d{index % 37}")
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, f"f{index}"), "wb") as f:
            if index % 2:
                f.write(rng.randbytes(size))
            else:
                text = b" ".join(rng.choice(words) for _ in range(size // 5 + 1))
                f.write(text[:size])
        remaining -= size
        index += 1
