#!/usr/bin/env python3
"""Writes test/fixtures/training/batched_masked_grads.json: PyTorch float64 gradients of the
batched, masked (variable-length), class-weighted losses that seqstream's offline trainer
(`src/training/train.ts`) minimises, for full and truncated BPTT.

    python3 tools/make_train_fixture.py            # (re)write the fixture
    python3 tools/make_train_fixture.py --check    # regenerate in memory, compare with the file

Each case: after `torch.manual_seed(seed)` draw the float32 module and head (PyTorch default
init), then x = randn(B, T, I) and the targets; sequence b has `lengths[b]` steps (the padding
past it is zero and masked). Everything is widened to float64. The loss is the weighted mean
`sum(w * loss_row) / sum(w)` over scored rows (times the output count for mse/bce, elementwise
means), w the class weight of the row's target. Truncated cases carry the state between chunks
detached and report each chunk's gradients with the weights held fixed.
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), 'test', 'fixtures', 'training', 'batched_masked_grads.json')

CASES = [
    dict(case='gru_l2_tagging_ce_weighted', cell='gru', seed=11, I=3, H=4, L=2, O=3, head='softmax', loss='cross_entropy',
         lengths=[5, 3, 4], task='tagging', class_weights=[1.0, 2.0, 0.5], chunk=None, unlabelled=[[0, 2], [2, 1]]),
    dict(case='lstm_classification_bce_weighted', cell='lstm', seed=12, I=2, H=5, L=1, O=1, head='sigmoid', loss='binary_cross_entropy',
         lengths=[4, 6, 2], task='classification', class_weights=[1.0, 3.0], chunk=None, unlabelled=[]),
    dict(case='rnn_tanh_tagging_mse_tbptt2', cell='rnn_tanh', seed=13, I=2, H=3, L=1, O=2, head='identity', loss='mse',
         lengths=[5, 3], task='tagging', class_weights=None, chunk=2, unlabelled=[[1, 0]]),
    dict(case='gru_tagging_bce_tbptt3_unweighted', cell='gru', seed=14, I=2, H=3, L=1, O=1, head='sigmoid', loss='binary_cross_entropy',
         lengths=[7, 4, 6], task='tagging', class_weights=None, chunk=3, unlabelled=[]),
]


def module(c):
    if c['cell'] == 'lstm':
        return torch.nn.LSTM(c['I'], c['H'], num_layers=c['L'], batch_first=True)
    if c['cell'] == 'gru':
        return torch.nn.GRU(c['I'], c['H'], num_layers=c['L'], batch_first=True)
    return torch.nn.RNN(c['I'], c['H'], num_layers=c['L'], batch_first=True, nonlinearity='tanh')


def build(c):
    torch.manual_seed(c['seed'])
    rnn = module(c)
    head = torch.nn.Linear(c['H'], c['O'])
    B, T, O = len(c['lengths']), max(c['lengths']), c['O']
    x = torch.randn(B, T, c['I'])
    mask = torch.zeros(B, T)
    for b, n in enumerate(c['lengths']):
        x[b, n:] = 0
        if c['task'] == 'tagging':
            mask[b, :n] = 1
        else:
            mask[b, n - 1] = 1
    for b, t in c['unlabelled']:
        mask[b, t] = 0
    if c['loss'] == 'cross_entropy':
        cls = torch.randint(0, O, (B, T))
        target = F.one_hot(cls, O).float()
    elif c['loss'] == 'binary_cross_entropy':
        target = torch.randint(0, 2, (B, T, O)).float()
    else:
        target = torch.randn(B, T, O)
    target = target * mask.unsqueeze(-1)
    return rnn, head, x, target, mask


def row_weights(c, target, mask):
    cw = c['class_weights']
    if cw is None:
        return mask.double()
    t = target.double()
    if c['O'] == 1:
        w = t[..., 0] * cw[1] + (1 - t[..., 0]) * cw[0]
    else:
        w = (t * torch.tensor(cw, dtype=torch.double)).sum(-1)
    return w * mask.double()


def loss_of(c, rnn_out, head, target, w):
    z = head(rnn_out)
    sel = w > 0
    zs, ts, ws = z[sel], target.double()[sel], w[sel]
    if c['loss'] == 'cross_entropy':
        rows = -(ts * F.log_softmax(zs, -1)).sum(-1)
        return (ws * rows).sum() / ws.sum()
    if c['loss'] == 'binary_cross_entropy':
        el = F.binary_cross_entropy_with_logits(zs, ts, reduction='none')
    else:
        y = torch.sigmoid(zs) if c['head'] == 'sigmoid' else zs
        el = (y - ts) ** 2
    return (ws.unsqueeze(-1) * el).sum() / (ws.sum() * c['O'])


def run_case(c):
    rnn, head, x, target, mask = build(c)
    params = {k: v.detach().clone() for k, v in rnn.state_dict().items()}
    params['head.weight'] = head.weight.detach().clone()
    params['head.bias'] = head.bias.detach().clone()
    rnn = rnn.double()
    head = head.double()
    w = row_weights(c, target, mask)
    B, T = x.shape[0], x.shape[1]
    chunk = c['chunk'] or T
    xs = x.double()
    h = None
    chunks = []
    names = [n for n, _ in rnn.named_parameters()] + ['head.weight', 'head.bias']
    tensors = list(rnn.parameters()) + [head.weight, head.bias]
    for start in range(0, T, chunk):
        end = min(T, start + chunk)
        for p in tensors:
            p.grad = None
        out, h_new = rnn(xs[:, start:end], h)
        wc = w[:, start:end]
        if (wc > 0).any():
            loss = loss_of(c, out, head, target[:, start:end], wc)
            loss.backward()
            grads = {n: p.grad.tolist() for n, p in zip(names, tensors)}
            chunks.append(dict(start=start, length=end - start, loss=loss.item(), rows=int((wc > 0).sum()), grads=grads))
        else:
            chunks.append(dict(start=start, length=end - start, loss=None, rows=0, grads=None))
        h = tuple(t.detach() for t in h_new) if isinstance(h_new, tuple) else h_new.detach()
    sequences = []
    for b, n in enumerate(c['lengths']):
        seq = dict(x=x[b, :n].tolist())
        if c['task'] == 'tagging':
            ft = []
            for t in range(n):
                if mask[b, t] == 0:
                    ft.append(None)
                elif c['loss'] == 'cross_entropy':
                    ft.append(int(target[b, t].argmax()))
                else:
                    ft.append(target[b, t].tolist())
            seq['frameTargets'] = ft
        else:
            seq['target'] = target[b, n - 1].tolist()
        sequences.append(seq)
    return dict(case=c['case'], config=dict(cell=c['cell'], inputSize=c['I'], hiddenSize=c['H'], numLayers=c['L'],
                                         head=dict(outputSize=c['O'], activation=c['head'])),
                loss=c['loss'], class_weights=c['class_weights'], bptt=c['chunk'] or 'full',
                params={k: v.tolist() for k, v in params.items()}, sequences=sequences, chunks=chunks)


def generate():
    return dict(format='seqstream-train-fixture', version=1, generator=dict(script='tools/make_train_fixture.py', torch=torch.__version__),
                cases=[run_case(c) for c in CASES])


def close(a, b, tol=1e-12):
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(close(p, q, tol) for p, q in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(close(a[k], b[k], tol) for k in a)
    if isinstance(a, float) and isinstance(b, (int, float)):
        return abs(a - b) <= tol * max(1.0, abs(a))
    return a == b


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--check', action='store_true')
    args = ap.parse_args()
    fx = generate()
    if args.check:
        with open(OUT) as f:
            old = json.load(f)
        old.pop('generator', None)
        fx.pop('generator', None)
        ok = close(fx, old)
        print('SAME' if ok else 'DIFFERENT')
        sys.exit(0 if ok else 1)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(fx, f)
        f.write('\n')
    print('wrote', OUT)


if __name__ == '__main__':
    main()
