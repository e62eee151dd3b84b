#!/usr/bin/env python3
"""Generates seqstream's own PyTorch reference fixtures (test/fixtures/pytorch/).

Every file is computed by real PyTorch in float64 from float32-exact inputs drawn with a fixed
seed, in the schema described in test/fixtures/pytorch/README.md. Re-running the script writes the
same numbers (only the `generator` block's versions/platform follow the machine).

    python3 tools/make_fixtures.py                 # (re)write test/fixtures/pytorch/
    python3 tools/make_fixtures.py --check         # regenerate in memory, compare with the files
    python3 tools/make_fixtures.py --reproduce DIR # rebuild fixture files found in DIR from their
                                                   # seed/config and compare (schema self-check)

Needs PyTorch (Debian/Ubuntu: `apt-get install python3-torch`). Random draws, in this order after
`torch.manual_seed(seed)`: module init (PyTorch default U(-1/sqrt(H), 1/sqrt(H))), head init
(nn.Linear default), `x = randn(B,T,I)`, `target = randn(B,T,O)` (TBPTT only),
`h0 = randn(L,B,H)`, `c0 = randn(L,B,H)` (LSTM only).
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import export_torch as E  # noqa: E402  (shares the forward-fixture code with the exporter)

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None

SCRIPT = 'tools/make_fixtures.py'
DEFAULT_OUT = os.path.join(os.path.dirname(HERE), 'test', 'fixtures', 'pytorch')


def new_module(cell, I, H, L=1):
    """A float32 batch-first module drawn from the global generator (PyTorch default init)."""
    if cell == 'lstm':
        return torch.nn.LSTM(I, H, num_layers=L, batch_first=True)
    if cell == 'gru':
        return torch.nn.GRU(I, H, num_layers=L, batch_first=True)
    return torch.nn.RNN(I, H, num_layers=L, batch_first=True, nonlinearity=cell.split('_')[1])


def draw(cell, seed, I, H, L, B, T, head_out=None, target=False, zero_state=False):
    """Seeds, then draws module, head, x, target, h0, c0 in that order (see module docstring)."""
    torch.manual_seed(seed)
    rnn = new_module(cell, I, H, L)
    head = torch.nn.Linear(H, head_out) if head_out else None
    x = torch.randn(B, T, I)
    tgt = torch.randn(B, T, head_out) if target else None
    if zero_state:
        h0 = torch.zeros(L, B, H)
        c0 = torch.zeros(L, B, H) if cell == 'lstm' else None
    else:
        h0 = torch.randn(L, B, H)
        c0 = torch.randn(L, B, H) if cell == 'lstm' else None
    return E.float32_parameters(rnn, head), x, tgt, h0, c0


# ---------------------------------------------------------------------------------------------
# Forward, stream chunks
# ---------------------------------------------------------------------------------------------

def forward_case(case, cell, seed, I, H, L, B, T, *, head_out=None, head_activation='identity',
                 zero_state=False, x_scale=1.0, description):
    params, x, _, h0, c0 = draw(cell, seed, I, H, L, B, T, head_out=head_out, zero_state=zero_state)
    # A power-of-two scale keeps x float32-exact.
    x = x * x_scale
    return E.forward_fixture(cell, params, x, h0, c0, head_activation, case=case,
                             description=description, script=SCRIPT, seed=seed)


def chunks_case(case, cell, seed, I, H, B, chunk_lengths, description):
    T = sum(chunk_lengths)
    params, x, _, h0, c0 = draw(cell, seed, I, H, 1, B, T)
    fx = E.forward_fixture(cell, params, x, h0, c0, case=case, description=description,
                           script=SCRIPT, seed=seed)
    rnn, _ = E.make_modules(cell, params, torch.float64)
    lstm = cell == 'lstm'
    h, c = h0.double(), (c0.double() if lstm else None)
    chunks, outs = [], []
    start = 0
    with torch.no_grad():
        for n in chunk_lengths:
            xc = x[:, start:start + n].double()
            out, h, c = E._run(rnn, xc, h, c)
            entry = {'start': start, 'length': n, 'x': xc, 'output': out, 'h_n': h}
            if lstm:
                entry['c_n'] = c
            chunks.append(entry)
            outs.append(out)
            start += n
    cat = torch.cat(outs, dim=1)
    full_out = torch.tensor(fx['output'], dtype=torch.float64)
    full_h = torch.tensor(fx['h_n'], dtype=torch.float64)
    d_out = float((cat - full_out).abs().max())
    d_h = float((h - full_h).abs().max())
    concat = {'max_abs_diff_output': d_out, 'max_abs_diff_h_n': d_h}
    worst = max(d_out, d_h)
    if lstm:
        d_c = float((c - torch.tensor(fx['c_n'], dtype=torch.float64)).abs().max())
        concat['max_abs_diff_c_n'] = d_c
        worst = max(worst, d_c)
    concat['equal_within_1e-12'] = worst <= 1e-12
    concat['bitwise_equal_output'] = bool(torch.equal(cat, full_out))
    fx['chunk_lengths'] = list(chunk_lengths)
    fx['chunks'] = E.to_json_value(chunks)
    fx['concat_equals_full'] = concat
    return fx


# ---------------------------------------------------------------------------------------------
# Truncated BPTT
# ---------------------------------------------------------------------------------------------

def tbptt_case(case, cell, seed, I, H, B, T, O, k1, k2, *, optimizer=None, clip=None, description):
    """Online truncated BPTT(k1, k2) with an nn.Linear(H, O) head and MSE, exactly as the schema says.

    The model runs online (no gradient) with the current parameters, keeping the state before
    each step. After event t with (t+1) % k1 == 0 the window [max(0, t+1-k2), t+1) is re-run from
    the saved (detached) state with the current parameters; the loss is the mean squared error over
    the last k1 steps' targets; gradients flow through the whole window; then clip_grad_norm_ (if
    `clip`) and one optimizer step (if `optimizer`). The online state is what is carried on.
    """
    assert 1 <= k1 <= k2
    lstm = cell == 'lstm'
    params32, x32, tgt32, h0_32, c0_32 = draw(cell, seed, I, H, 1, B, T, head_out=O, target=True)
    rnn, head = E.make_modules(cell, params32, torch.float64)
    named = list(rnn.named_parameters()) + [('head.' + n, p) for n, p in head.named_parameters()]
    plist = [p for _, p in named]
    opt = None
    if optimizer is not None:
        if optimizer['type'] == 'SGD':
            opt = torch.optim.SGD(plist, lr=optimizer['lr'], momentum=optimizer['momentum'],
                                  dampening=optimizer['dampening'], weight_decay=optimizer['weight_decay'],
                                  nesterov=optimizer['nesterov'])
        elif optimizer['type'] == 'Adam':
            opt = torch.optim.Adam(plist, lr=optimizer['lr'], betas=tuple(optimizer['betas']),
                                   eps=optimizer['eps'], weight_decay=optimizer['weight_decay'],
                                   amsgrad=optimizer['amsgrad'])
        else:
            raise ValueError(optimizer['type'])
    x, target = x32.double(), tgt32.double()
    h, c = h0_32.double(), (c0_32.double() if lstm else None)
    saved = []
    windows = []

    def snapshot():
        return {n: p.detach().clone() for n, p in named}

    for t in range(T):
        saved.append((h, c))
        with torch.no_grad():
            _, h, c = E._run(rnn, x[:, t:t + 1], h, c)
        if (t + 1) % k1:
            continue
        start = max(0, t + 1 - k2)
        loss_start = t + 1 - k1
        for p in plist:
            p.grad = None
        h_start = saved[start][0].detach().clone().requires_grad_(True)
        c_start = saved[start][1].detach().clone().requires_grad_(True) if lstm else None
        xw = x[:, start:t + 1].clone().requires_grad_(True)
        out, _, _ = E._run(rnn, xw, h_start, c_start)
        y = head(out)
        loss = F.mse_loss(y[:, loss_start - start:], target[:, loss_start:t + 1])
        loss.backward()
        grads = {n: p.grad.detach().clone() for n, p in named}
        # The same total norm torch.nn.utils.clip_grad_norm_ computes.
        grad_norm = float(torch.norm(torch.stack([torch.norm(g, 2.0) for g in grads.values()]), 2.0))
        w = {
            'index': len(windows), 'start': start, 'length': t + 1 - start,
            'loss_start': loss_start, 'loss_length': k1,
            'h_start': h_start.detach(),
            'output': out.detach(), 'y': y.detach(), 'target': target[:, start:t + 1],
            'loss': float(loss), 'h_end': h,
            'grads': grads, 'grad_norm': grad_norm,
        }
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(plist, clip)
            w['grads_after_clip'] = {n: p.grad.detach().clone() for n, p in named}
        w['grad_x'] = xw.grad.detach()
        w['grad_h_start'] = h_start.grad.detach()
        if lstm:
            w['c_start'] = c_start.detach()
            w['c_end'] = c
            w['grad_c_start'] = c_start.grad.detach()
        if opt is not None:
            w['params_before_step'] = snapshot()
            opt.step()
            w['params_after_step'] = snapshot()
        windows.append(w)

    config = E.config_block(cell, I, H, 1, B, T)
    config.update({'head_out_features': O, 'tbptt_k1': k1, 'tbptt_k2': k2, 'num_windows': len(windows),
                   'loss': 'mse_mean', 'optimizer': optimizer, 'clip_grad_norm': clip})
    fx = {
        'schema_version': E.SCHEMA_VERSION, 'case': case, 'description': description,
        'generator': E.generator_block(SCRIPT, seed), 'config': config, 'params': params32,
        'x': x32, 'target': tgt32, 'h0': h0_32,
    }
    if lstm:
        fx['c0'] = c0_32
    fx['windows'] = windows
    return E.to_json_value(fx)


def sgd(lr, momentum=0.0):
    return {'type': 'SGD', 'lr': lr, 'momentum': momentum, 'weight_decay': 0.0, 'dampening': 0.0, 'nesterov': False}


def adam(lr, betas=(0.9, 0.999), eps=1e-8):
    return {'type': 'Adam', 'lr': lr, 'betas': list(betas), 'eps': eps, 'weight_decay': 0.0, 'amsgrad': False}


# ---------------------------------------------------------------------------------------------
# The project's cases
# ---------------------------------------------------------------------------------------------

def dims(cell, I, H, B, T, L=1):
    return f"(I={I},H={H},B={B},T={T}{',L=%d' % L if L > 1 else ''})"


def cases():
    """name -> zero-argument builder. Seeds 5000+ (forward), 6000+ (head), 7000+ (TBPTT)."""
    out = {}
    label = {'rnn_tanh': 'RNN_TANH', 'rnn_relu': 'RNN_RELU', 'lstm': 'LSTM', 'gru': 'GRU'}
    fwd_seed = {'rnn_tanh': 5000, 'rnn_relu': 5001, 'lstm': 5002, 'gru': 5003}
    for cell in ('rnn_tanh', 'rnn_relu', 'lstm', 'gru'):
        name = f'{cell}_l1_forward'
        out[name] = (lambda cell=cell, name=name: forward_case(
            name, cell, fwd_seed[cell], 5, 7, 1, 3, 11,
            description=f"Single-layer {label[cell]} {dims(cell, 5, 7, 3, 11)}, non-zero initial state; per-step outputs and final state."))
    for cell, seed in (('lstm', 5010), ('gru', 5011), ('rnn_tanh', 5012)):
        name = f'{cell}_l2_forward'
        out[name] = (lambda cell=cell, name=name, seed=seed: forward_case(
            name, cell, seed, 4, 6, 2, 2, 9,
            description=f"Two-layer {label[cell]} {dims(cell, 4, 6, 2, 9, 2)}, non-zero initial state of both layers; "
                        "per-step outputs, every layer's output sequence (layer_outputs) and final states."))
    out['lstm_saturation_t200'] = lambda: forward_case(
        'lstm_saturation_t200', 'lstm', 5020, 3, 6, 1, 2, 200, zero_state=True, x_scale=4.0,
        description="Single-layer LSTM (I=3,H=6,B=2,T=200) from a zero initial state over a long sequence; "
                    "x = 4*randn (exact in float32) pushes gates toward saturation (|pre-activation| up to about 7) while errors could accumulate over 200 steps.")
    for cell in ('lstm', 'gru', 'rnn_tanh'):
        name = f'{cell}_stream_chunks'
        out[name] = (lambda cell=cell, name=name: chunks_case(
            name, cell, fwd_seed[cell], 5, 7, 3, [1, 4, 2, 4],
            description=f"Same {label[cell]}/data as {cell}_l1_forward, sequence fed as chunks [1,4,2,4] carrying state; "
                        "concatenated chunk outputs equal the full-sequence outputs."))
    out['lstm_head_sigmoid_forward'] = lambda: forward_case(
        'lstm_head_sigmoid_forward', 'lstm', 6000, 4, 6, 1, 2, 7, head_out=2, head_activation='sigmoid',
        description="Single-layer LSTM (I=4,H=6,B=2,T=7) + Linear(6,2) head with sigmoid at every step; y = sigmoid(output @ head.weight^T + head.bias).")
    out['gru_head_softmax_forward'] = lambda: forward_case(
        'gru_head_softmax_forward', 'gru', 6001, 4, 6, 2, 2, 7, head_out=3, head_activation='softmax',
        description="Two-layer GRU (I=4,H=6,B=2,T=7,L=2) + Linear(6,3) head with softmax over the last axis at every step.")
    out['lstm_head_safetensors'] = lambda: safetensors_case()

    # TBPTT, k1 = k2 = 4 as in the shipped schema: _grads (no step) and _sgd share a seed.
    tb_seed = {'lstm': 7000, 'gru': 7001, 'rnn_tanh': 7002}
    for cell in ('lstm', 'gru', 'rnn_tanh'):
        base = f"{label[cell]} (I=3,H=5,B=2,T=12) + Linear(5,2) head on every step, MSE loss; truncated BPTT k1=k2=4 (3 windows, state detached at window boundaries)"
        out[f'{cell}_tbptt_grads'] = (lambda cell=cell, base=base: tbptt_case(
            f'{cell}_tbptt_grads', cell, tb_seed[cell], 3, 5, 2, 12, 2, 4, 4,
            description=base + ", per-window gradients; no parameter update."))
        out[f'{cell}_tbptt_sgd'] = (lambda cell=cell: tbptt_case(
            f'{cell}_tbptt_sgd', cell, tb_seed[cell], 3, 5, 2, 12, 2, 4, 4, optimizer=sgd(0.1),
            description=f"Same as {cell}_tbptt_grads but torch.optim.SGD(lr=0.1) steps after each window; records parameters before/after every step."))
    # k1 < k2 (overlapping windows), other optimizers, clipping.
    out['lstm_tbptt_k1_2_k2_5_grads'] = lambda: tbptt_case(
        'lstm_tbptt_k1_2_k2_5_grads', 'lstm', 7010, 3, 4, 2, 12, 2, 2, 5,
        description="LSTM (I=3,H=4,B=2,T=12) + Linear(4,2), MSE; TBPTT k1=2, k2=5: after every 2nd event the last min(5, t+1) steps are re-run from the saved state, loss over the last 2 steps only; gradients only (no update).")
    out['gru_tbptt_k1_3_k2_6_sgd_momentum'] = lambda: tbptt_case(
        'gru_tbptt_k1_3_k2_6_sgd_momentum', 'gru', 7011, 3, 4, 2, 13, 2, 3, 6, optimizer=sgd(0.1, momentum=0.9),
        description="GRU (I=3,H=4,B=2,T=13) + Linear(4,2), MSE; TBPTT k1=3, k2=6 (the last event causes no update); SGD(lr=0.1, momentum=0.9).")
    out['lstm_tbptt_k1_3_k2_6_adam'] = lambda: tbptt_case(
        'lstm_tbptt_k1_3_k2_6_adam', 'lstm', 7012, 3, 4, 2, 12, 2, 3, 6, optimizer=adam(0.05),
        description="LSTM (I=3,H=4,B=2,T=12) + Linear(4,2), MSE; TBPTT k1=3, k2=6; Adam(lr=0.05, betas=(0.9,0.999), eps=1e-8).")
    out['rnn_tanh_tbptt_k1_2_k2_5_adam_clip'] = lambda: tbptt_case(
        'rnn_tanh_tbptt_k1_2_k2_5_adam_clip', 'rnn_tanh', 7013, 3, 4, 2, 12, 2, 2, 5,
        optimizer=adam(0.02, betas=(0.8, 0.99), eps=1e-6), clip=1.0,
        description="RNN_TANH (I=3,H=4,B=2,T=12) + Linear(4,2), MSE; TBPTT k1=2, k2=5; clip_grad_norm_(max_norm=1.0) then Adam(lr=0.02, betas=(0.8,0.99), eps=1e-6).")
    out['lstm_tbptt_sgd_clip'] = lambda: tbptt_case(
        'lstm_tbptt_sgd_clip', 'lstm', 7014, 3, 5, 2, 12, 2, 4, 4, optimizer=sgd(0.5), clip=0.45,
        description="LSTM (I=3,H=5,B=2,T=12) + Linear(5,2), MSE; TBPTT k1=k2=4; clip_grad_norm_(max_norm=0.45) then SGD(lr=0.5): some windows are clipped, some not.")
    out['gru_tbptt_k1_2_k2_5_sgd_momentum_clip'] = lambda: tbptt_case(
        'gru_tbptt_k1_2_k2_5_sgd_momentum_clip', 'gru', 7015, 3, 4, 2, 11, 2, 2, 5,
        optimizer=sgd(0.2, momentum=0.5), clip=1.0,
        description="GRU (I=3,H=4,B=2,T=11) + Linear(4,2), MSE; TBPTT k1=2, k2=5 (the last event causes no update); clip_grad_norm_(max_norm=1.0) then SGD(lr=0.2, momentum=0.5).")
    return out


SAFETENSORS_NAME = 'lstm_head_safetensors.safetensors'


def safetensors_case():
    """Two-layer LSTM + identity head; the JSON's params are exactly the .safetensors weights."""
    fx = forward_case('lstm_head_safetensors', 'lstm', 6002, 4, 5, 2, 2, 6, head_out=3,
                      description="Two-layer LSTM (I=4,H=5,B=2,T=6,L=2) + Linear(5,3) identity head; the same weights "
                                  f"are in {SAFETENSORS_NAME} (F32): load that file, run x from h0/c0 and compare with output and y.")
    fx['safetensors'] = SAFETENSORS_NAME
    return fx


def safetensors_weights(fx):
    return {k: torch.tensor(v, dtype=torch.float32) for k, v in fx['params'].items()}


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------

def compare(a, b, path='', tol=0.0, out=None):
    """Lists differences between two fixture values (structure exactly, numbers within tol)."""
    out = [] if out is None else out
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            out.append(f"{path}: keys {sorted(set(a) ^ set(b))} only on one side")
        for k in a:
            if k in b:
                compare(a[k], b[k], f'{path}.{k}', tol, out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f'{path}: length {len(a)} vs {len(b)}')
        else:
            for i, (x, y) in enumerate(zip(a, b)):
                compare(x, y, f'{path}[{i}]', tol, out)
    elif isinstance(a, bool) or isinstance(b, bool) or isinstance(a, str) or a is None or b is None:
        if a != b:
            out.append(f'{path}: {a!r} vs {b!r}')
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if abs(a - b) > tol:
            out.append(f'{path}: {a!r} vs {b!r}')
    elif a != b:
        out.append(f'{path}: {a!r} vs {b!r}')
    return out


def without_generator(fx):
    fx = dict(fx)
    fx.pop('generator', None)
    return fx


def portable_part(fx):
    """What must regenerate the same on any machine: drops `generator` and the float32 error stats
    (the latter depend on the BLAS/CPU that ran torch's float32 path)."""
    fx = without_generator(fx)
    fx.pop('torch_float32_vs_float64', None)
    return fx


def reproduce(directory):
    """Rebuilds each fixture in `directory` from its seed and config with this script's recipe."""
    failed = 0
    for fname in sorted(os.listdir(directory)):
        if not fname.endswith('.json'):
            continue
        with open(os.path.join(directory, fname)) as f:
            ref = json.load(f)
        cfg, seed = ref['config'], ref['generator']['seed']
        cell, I, H, L, B, T = (cfg[k] for k in ('cell', 'input_size', 'hidden_size', 'num_layers', 'batch_size', 'seq_len'))
        case = ref['case']
        if 'windows' in ref:
            fx = tbptt_case(case, cell, seed, I, H, B, T, cfg['head_out_features'], cfg['tbptt_k1'], cfg['tbptt_k2'],
                            optimizer=cfg.get('optimizer'), clip=cfg.get('clip_grad_norm'), description=ref['description'])
        elif 'chunks' in ref:
            fx = chunks_case(case, cell, seed, I, H, B, ref['chunk_lengths'], ref['description'])
        else:
            zero = not any(v != 0 for row in ref['h0'] for r in row for v in r)
            fx = forward_case(case, cell, seed, I, H, L, B, T, head_out=cfg.get('head_out_features'),
                              head_activation=cfg.get('head_activation', 'identity'), zero_state=zero,
                              description=ref['description'])
            if ref.get('x') != fx['x']:
                print(f'{fname}: skipped (x is not randn from the seed: recipe unknown)')
                continue
            if 'safetensors' in ref:
                fx['safetensors'] = ref['safetensors']
        # Fields this script adds that older files may lack (k1 = k2 windows need no loss_start).
        extra = []
        for w_new, w_ref in zip(fx.get('windows', []), ref.get('windows', [])):
            for k in ('loss_start', 'loss_length', 'grad_norm'):
                if k not in w_ref and k in w_new:
                    extra.append(k)
                    del w_new[k]
        if 'windows' in ref and 'clip_grad_norm' not in cfg and fx['config'].get('clip_grad_norm') is None:
            fx['config'].pop('clip_grad_norm')
            extra.append('config.clip_grad_norm')
        exact = compare(without_generator(fx), without_generator(ref))
        close = compare(without_generator(fx), without_generator(ref), tol=1e-12)
        status = 'identical' if not exact else ('equal within 1e-12' if not close else 'DIFFERENT')
        note = f" (this script also writes {', '.join(sorted(set(extra)))})" if extra else ''
        print(f'{fname}: {status}{note}')
        for line in close[:10]:
            print('   ', line)
        failed += bool(close)
    return failed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', default=DEFAULT_OUT, help='output folder (default test/fixtures/pytorch)')
    parser.add_argument('--check', action='store_true', help='compare regenerated fixtures with the files in --out (numbers within '
                        '1e-12, float32 error stats and generator block ignored); write nothing')
    parser.add_argument('--reproduce', metavar='DIR', help='rebuild the fixtures in DIR from their seeds and compare')
    parser.add_argument('--only', nargs='*', help='only these cases')
    args = parser.parse_args(argv)
    if torch is None:
        print("make_fixtures.py needs PyTorch: 'import torch' failed (Debian/Ubuntu: apt-get install python3-torch)", file=sys.stderr)
        return 2
    if args.reproduce:
        return 1 if reproduce(args.reproduce) else 0
    os.makedirs(args.out, exist_ok=True)
    bad = 0
    total = 0
    for name, build in cases().items():
        if args.only and name not in args.only:
            continue
        fx = build()
        path = os.path.join(args.out, name + '.json')
        text = E.dumps(fx)
        if args.check:
            if not os.path.exists(path):
                print(f'{name}: MISSING')
                bad += 1
                continue
            with open(path) as f:
                # float64 results may move by an ulp on another BLAS: 1e-12 is far below any tolerance.
                diffs = compare(portable_part(fx), portable_part(json.load(f)), tol=1e-12)
            print(f"{name}: {'ok' if not diffs else 'DIFFERENT'}")
            for line in diffs[:5]:
                print('   ', line)
            bad += bool(diffs)
            if 'safetensors' in fx:
                st = E.read_safetensors(os.path.join(args.out, fx['safetensors']))
                diffs = compare({k: v.tolist() for k, v in st.items()}, fx['params'])
                print(f"{fx['safetensors']}: {'ok' if not diffs else 'DIFFERENT'}")
                bad += bool(diffs)
            continue
        with open(path, 'w') as f:
            f.write(text)
        total += len(text)
        line = f'wrote {path} ({len(text) / 1024:.1f} KiB)'
        if 'safetensors' in fx:
            st_path = os.path.join(args.out, fx['safetensors'])
            E.write_safetensors(st_path, safetensors_weights(fx))
            total += os.path.getsize(st_path)
            line += f' and {fx["safetensors"]}'
        if 'windows' in fx:
            norms = [w['grad_norm'] for w in fx['windows']]
            clip = fx['config']['clip_grad_norm']
            line += f"; grad_norm {min(norms):.3g}..{max(norms):.3g}"
            if clip is not None:
                line += f", {sum(n > clip for n in norms)}/{len(norms)} windows clipped"
        print(line)
    if args.check:
        return 1 if bad else 0
    print(f'total {total / 1024:.1f} KiB')
    return 0


if __name__ == '__main__':
    sys.exit(main())
