#!/usr/bin/env python3
"""Writes seqstream's ONNX import fixtures (test/fixtures/onnx/) with torch.onnx.export.

For each case: a seeded float32 `nn.LSTM`/`nn.GRU`/`nn.RNN` (batch_first) with an optional
`nn.Linear` head (and sigmoid/softmax) is exported to `<case>.onnx` (opset 14, h0/c0 as graph
inputs), and `<case>.json` holds the forward-fixture schema of test/fixtures/pytorch/README.md
(x, h0, c0, output, h_n, c_n, y) computed by the same module in float64, with `onnx` naming the
model file instead of `params`. `refuse_*.onnx` are exports that seqstream must refuse, naming the
node (a bidirectional layer; an op after the head).

    python3 tools/make_onnx_fixtures.py          # (re)write test/fixtures/onnx/
    python3 tools/make_onnx_fixtures.py --check  # regenerate the references in memory, compare

Needs PyTorch (Debian: `apt-get install python3-torch`); works offline.
"""

import argparse
import io
import json
import os
import sys
import warnings

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), 'test', 'fixtures', 'onnx')
OPSET = 14

# case, cell, I, H, L, B, T, head outputs, head activation, seed
CASES = [
    ('lstm_l2_head', 'lstm', 3, 5, 2, 2, 6, 2, 'identity', 11),
    ('gru_l1_head_sigmoid', 'gru', 4, 6, 1, 3, 5, 3, 'sigmoid', 12),
    ('rnn_relu_l2', 'rnn_relu', 3, 4, 2, 2, 7, None, None, 13),
    ('rnn_tanh_l1_head_softmax', 'rnn_tanh', 5, 4, 1, 2, 4, 3, 'softmax', 14),
]


class Wrapped(torch.nn.Module):
    """The recurrent module, then the head and its activation, as a user would ship it."""

    def __init__(self, rnn, head, activation, after=None):
        super().__init__()
        self.rnn = rnn
        self.head = head
        self.activation = activation
        self.after = after

    def forward(self, x, *state):
        y, hn = self.rnn(x, state[0] if len(state) == 1 else tuple(state))
        if self.head is not None:
            y = self.head(y)
            if self.activation == 'sigmoid':
                y = torch.sigmoid(y)
            elif self.activation == 'softmax':
                y = torch.softmax(y, dim=-1)
        if self.after is not None:
            y = self.after(y)
        return y, hn


def module(cell, I, H, L, bidirectional=False):
    if cell == 'lstm':
        return torch.nn.LSTM(I, H, num_layers=L, batch_first=True, bidirectional=bidirectional)
    if cell == 'gru':
        return torch.nn.GRU(I, H, num_layers=L, batch_first=True, bidirectional=bidirectional)
    return torch.nn.RNN(I, H, num_layers=L, batch_first=True, nonlinearity=cell.split('_')[1], bidirectional=bidirectional)


def export(model, args, names):
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.onnx.export(model, args, buf, opset_version=OPSET, input_names=names, do_constant_folding=True)
    return buf.getvalue()


def make_case(name, cell, I, H, L, B, T, O, act, seed):
    torch.manual_seed(seed)
    rnn = module(cell, I, H, L)
    head = torch.nn.Linear(H, O) if O else None
    x = torch.randn(B, T, I)
    h0 = torch.randn(L, B, H)
    c0 = torch.randn(L, B, H) if cell == 'lstm' else None
    net = Wrapped(rnn, head, act).eval()
    state = (h0, c0) if c0 is not None else (h0,)
    onnx_bytes = export(net, (x, *state), ['x', 'h0', 'c0'][: 2 + (c0 is not None)])
    # Reference: the same weights in float64, top h after every step, final states, head output.
    ref = Wrapped(rnn, head, act).double().eval()
    with torch.no_grad():
        output, hn = ref.rnn(x.double(), (h0.double(), c0.double()) if c0 is not None else h0.double())
        y = ref(x.double(), *[s.double() for s in state])[0] if head is not None else None
    fx = {
        'schema_version': 1,
        'case': name,
        'description': f'torch.onnx.export (opset {OPSET}) of nn.{type(rnn).__name__}' + (f' + nn.Linear({H}, {O}) {act}' if O else '') + '; references in float64',
        'generator': {'script': 'tools/make_onnx_fixtures.py', 'torch': torch.__version__, 'seed': seed},
        'onnx': name + '.onnx',
        'config': {'cell': cell, 'input_size': I, 'hidden_size': H, 'num_layers': L, 'batch_size': B, 'seq_len': T, **({'head_activation': act} if O else {})},
        'x': x.double().tolist(),
        'h0': h0.double().tolist(),
        'output': output.tolist(),
        'h_n': (hn[0] if c0 is not None else hn).tolist(),
    }
    if c0 is not None:
        fx['c0'] = c0.double().tolist()
        fx['c_n'] = hn[1].tolist()
    if y is not None:
        fx['y'] = y.tolist()
    return onnx_bytes, fx


def refusals():
    torch.manual_seed(5)
    x = torch.randn(1, 3, 2)
    h0 = torch.zeros(2, 1, 3)
    c0 = torch.zeros(2, 1, 3)
    bi = Wrapped(module('lstm', 2, 3, 1, bidirectional=True), None, None).eval()
    relu = Wrapped(module('gru', 2, 3, 1), torch.nn.Linear(3, 2), 'identity', after=torch.nn.ReLU()).eval()
    return {
        'refuse_bidirectional.onnx': export(bi, (x, h0, c0), ['x', 'h0', 'c0']),
        'refuse_relu_after_head.onnx': export(relu, (x, h0[:1]), ['x', 'h0']),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--check', action='store_true', help='compare regenerated references with the files')
    ap.add_argument('--out', default=OUT)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    bad = 0
    for case in CASES:
        onnx_bytes, fx = make_case(*case)
        path = os.path.join(args.out, case[0] + '.json')
        if args.check:
            with open(path) as f:
                old = json.load(f)
            same = all(old[k] == fx[k] for k in ('x', 'h0', 'output', 'h_n', 'config'))
            print(('same ' if same else 'DIFFERS ') + case[0], file=sys.stderr)
            bad += 0 if same else 1
            continue
        with open(os.path.join(args.out, case[0] + '.onnx'), 'wb') as f:
            f.write(onnx_bytes)
        with open(path, 'w') as f:
            json.dump(fx, f)
            f.write('\n')
    if not args.check:
        for name, data in refusals().items():
            with open(os.path.join(args.out, name), 'wb') as f:
                f.write(data)
        print(f'wrote {len(CASES)} cases and the refusals to {args.out}', file=sys.stderr)
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
