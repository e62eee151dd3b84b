"""PyTorch side of bench/kernel.ts: LSTMCell/GRUCell step timings on CPU, float32.

Usage: python3 bench/kernelTorch.py '{"quick": true, "latency": [["lstm", 32]], "throughput": [["lstm", 1024, 128]]}'
Prints one JSON line: {"latency": {"lstm:32": p50_us}, "throughput": {"lstm:1024x128": events_per_s},
"blas": {"library": "openblas" | "netlib" | ..., "path": ..., "core": ..., "threads": ...}}.
Latency runs on one thread; throughput is the best of 1 and 2 threads.

Serve mode (bench/batchOneRounds.ts): python3 bench/kernelTorch.py --serve prints the "blas" object
as one JSON line, then answers each stdin line {"cell": "lstm", "H": 128, "n": 2000} with
{"p50": us} (batch-1 steps of one kept cell and state, one thread), so a Node benchmark can
interleave PyTorch rounds with its own.
"""
import ctypes
import json
import os
import sys
import time

import torch


def blas_in_use():
    """The BLAS library this process loaded (after a matmul made torch load it) and OpenBLAS's core."""
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))
    paths = set()
    with open('/proc/self/maps') as maps:
        for line in maps:
            name = line.split()[-1] if '/' in line else ''
            base = os.path.basename(name)
            if 'blas' in base or 'mkl' in base:
                paths.add(os.path.realpath(name))
    info = {'library': 'unknown', 'path': ', '.join(sorted(paths)) or '-', 'core': None, 'threads': None}
    for p in sorted(paths):
        try:
            lib = ctypes.CDLL(p)
            corename = lib.openblas_get_corename
        except (OSError, AttributeError):
            continue
        corename.restype = ctypes.c_char_p
        info.update(library='openblas', path=p, core=corename().decode(), threads=lib.openblas_get_num_threads())
        return info
    if any('mkl' in p for p in paths):
        info['library'] = 'mkl'
    elif any('/blas/' in p or 'libblas.so' in p for p in paths):
        info['library'] = 'netlib'
    return info


BLAS = blas_in_use()
torch.set_num_threads(1)
I = 40


def cell_of(kind, H):
    return (torch.nn.LSTMCell if kind == "lstm" else torch.nn.GRUCell)(I, H)


def step(cell, kind, x, state):
    return cell(x, state)


def latency_p50(cell, kind, H, state, xs, n):
    """p50 µs of n batch-1 steps (h read back as numpy), and the state after them."""
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        state = step(cell, kind, xs[i & 63], state)
        h = state[0] if kind == "lstm" else state
        h.numpy()
        times.append((time.perf_counter() - t0) * 1e6)
    times.sort()
    return times[len(times) // 2], state


def zero_state(kind, B, H):
    return (torch.zeros(B, H), torch.zeros(B, H)) if kind == "lstm" else torch.zeros(B, H)


def serve():
    print(json.dumps(BLAS), flush=True)
    kept = {}
    with torch.no_grad():
        for line in sys.stdin:
            req = json.loads(line)
            kind, H = req["cell"], req["H"]
            if (kind, H) not in kept:
                cell = cell_of(kind, H)
                xs = [torch.randn(1, I) for _ in range(64)]
                state = zero_state(kind, 1, H)
                for i in range(200):
                    state = step(cell, kind, xs[i & 63], state)
                kept[(kind, H)] = [cell, xs, state]
            cell, xs, state = kept[(kind, H)]
            p50, kept[(kind, H)][2] = latency_p50(cell, kind, H, state, xs, req["n"])
            print(json.dumps({"p50": p50}), flush=True)


if len(sys.argv) > 1 and sys.argv[1] == "--serve":
    serve()
    sys.exit(0)
args = json.loads(sys.argv[1])
quick = args.get("quick", False)


out = {"latency": {}, "throughput": {}, "blas": BLAS}
with torch.no_grad():
    for kind, H in args["latency"]:
        cell = cell_of(kind, H)
        state = zero_state(kind, 1, H)
        xs = [torch.randn(1, I) for _ in range(64)]
        n = 300 if H >= 512 and quick else (1000 if quick else 5000)
        for i in range(200):
            state = step(cell, kind, xs[i & 63], state)
        out["latency"][f"{kind}:{H}"], state = latency_p50(cell, kind, H, state, xs, n)
    for (kind, B, H), threads in [(case, t) for t in (1, 2) for case in args["throughput"]]:
        torch.set_num_threads(threads)
        cell = cell_of(kind, H)
        state = zero_state(kind, B, H)
        x = torch.randn(B, I)
        state = step(cell, kind, x, state)
        secs = 0.6 if quick else 2.0
        best = 0.0
        end = time.perf_counter() + secs
        while True:  # best ~100 ms slice, as bench/kernel.ts does
            steps = 0
            t0 = time.perf_counter()
            while steps < 1 or time.perf_counter() - t0 < 0.1:
                state = step(cell, kind, x, state)
                steps += 1
            best = max(best, steps * B / (time.perf_counter() - t0))
            if time.perf_counter() >= end:
                break
        key = f"{kind}:{B}x{H}"
        out["throughput"][key] = max(best, out["throughput"].get(key, 0.0))
print(json.dumps(out))
