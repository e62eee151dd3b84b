"""PyTorch side of bench/train.ts: online TBPTT training throughput, k1 = k2 = 32.

The loop is PyTorch's usual "detach every k steps": for each window of 32 events, run nn.LSTM over
the window from the detached carried state, Linear(H, 1) head, MSE, backward, Adam step.
CPU, one thread, float32. Events/s = events per second of the best ~100 ms slice.

Usage: python3 bench/trainTorch.py '{"quick": true, "sizes": [32, 128]}'
Prints one JSON line: {"32": events_per_s, "128": events_per_s}.
"""
import json
import sys
import time

import torch

torch.set_num_threads(1)
args = json.loads(sys.argv[1])
quick = args.get("quick", False)
I, K = 40, 32
out = {}
for H in args["sizes"]:
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(I, H, batch_first=True)
    head = torch.nn.Linear(H, 1)
    opt = torch.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=1e-3)
    xs = torch.randn(1, 64 * K, I)
    ts = torch.randn(1, 64 * K, 1)
    state = (torch.zeros(1, 1, H), torch.zeros(1, 1, H))

    def window(w, state):
        s = (w % 64) * K
        x, t = xs[:, s:s + K], ts[:, s:s + K]
        opt.zero_grad()
        y, (h, c) = lstm(x, (state[0].detach(), state[1].detach()))
        loss = torch.nn.functional.mse_loss(head(y), t)
        loss.backward()
        opt.step()
        return (h, c)

    for w in range(20):
        state = window(w, state)
    best, w = 0.0, 0
    end = time.perf_counter() + (1.0 if quick else 3.0)
    while time.perf_counter() < end:
        n, t0 = 0, time.perf_counter()
        while n == 0 or time.perf_counter() - t0 < 0.1:
            state = window(w, state)
            w += 1
            n += K
        best = max(best, n / (time.perf_counter() - t0))
    out[str(H)] = best
print(json.dumps(out))
