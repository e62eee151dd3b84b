"""Writes test/fixtures/embedding_gru.json: a tiny PyTorch Embedding -> GRU -> Linear model,
its state_dict and the outputs for one id sequence, to check seqstream's Embedding parity.

Usage: /usr/bin/python3 tools/embedding_fixture.py [out.json]   (Debian python3-torch; PyTorch 1.13 was used)
"""
import json
import sys

import torch
from torch import nn


class TextModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(12, 5, padding_idx=0)
        self.gru = nn.GRU(5, 6, batch_first=True)
        self.fc = nn.Linear(6, 3)

    def forward(self, ids):
        e = self.embedding(ids)
        h, _ = self.gru(e)
        return e, h, self.fc(h)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "test/fixtures/embedding_gru.json"
    torch.manual_seed(1234)
    model = TextModel().eval()
    ids = [3, 0, 7, 11, 2, 2, 9]
    with torch.no_grad():
        e, h, y = model(torch.tensor([ids]))
    fixture = {
        "torch_version": torch.__version__,
        "padding_idx": 0,
        "ids": ids,
        "state_dict": {k: v.tolist() for k, v in model.state_dict().items()},
        "embedded": e[0].tolist(),
        "hidden": h[0].tolist(),
        "y": y[0].tolist(),
    }
    with open(out, "w") as f:
        json.dump(fixture, f)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
