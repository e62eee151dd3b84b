#!/usr/bin/env python3
"""Export a PyTorch recurrent module for seqstream.

Writes the module's weights and one reference input/output pair as a *forward fixture* (the JSON
schema described in test/fixtures/pytorch/README.md), and optionally the weights as a
`.safetensors` file. seqstream loads either (`loadStateDict`, `parseSafetensors`) and
`seqstream verify <file>` checks that it computes what PyTorch computed.

Supported: `nn.RNN` (tanh or relu), `nn.LSTM`, `nn.GRU`, any `num_layers`, `batch_first` or not
(the fixture itself is always batch-first), optionally followed by one `nn.Linear` head with an
identity, sigmoid or softmax activation. Rejected with a clear message: bidirectional modules,
LSTM `proj_size > 0`, and `dropout > 0` while the module is in training mode.

The reference is computed in float64 from float32-exact values: weights, input and initial state
are rounded to float32 first (a no-op for an ordinary float32 model), so a float32 implementation
loads them with no rounding and any difference comes from its arithmetic alone.

Library use::

    import sys; sys.path.insert(0, 'tools')
    from export_torch import export
    rnn = torch.nn.LSTM(40, 32, num_layers=2, batch_first=True)
    head = torch.nn.Linear(32, 1)
    export(rnn, head=head, head_activation='sigmoid', path='model.json',
           safetensors_path='model.safetensors')

Command line::

    python3 tools/export_torch.py --demo lstm --out lstm.json --safetensors lstm.safetensors
    python3 tools/export_torch.py --state-dict model.pt --out model.json   # a saved state_dict
    python3 tools/export_torch.py --help

Needs PyTorch (Debian: `apt-get install python3-torch`); numpy is optional.
"""

import argparse
import json
import os
import platform
import struct
import sys

try:
    import torch
except ImportError:  # pragma: no cover - reported by main() / on use
    torch = None

SCHEMA_VERSION = 1
HEAD_ACTIVATIONS = ('identity', 'sigmoid', 'softmax')
CELLS = {
    # cell name: (torch mode, number of gate blocks, gate order)
    'rnn_tanh': ('RNN_TANH', 1, ['h']),
    'rnn_relu': ('RNN_RELU', 1, ['h']),
    'lstm': ('LSTM', 4, ['i', 'f', 'g', 'o']),
    'gru': ('GRU', 3, ['r', 'z', 'n']),
}


class ExportError(ValueError):
    """The module cannot be represented in seqstream's fixture schema (message says why)."""


def _need_torch():
    if torch is None:
        raise ImportError("export_torch needs PyTorch: 'import torch' failed "
                          "(Debian/Ubuntu: apt-get install python3-torch)")


# ---------------------------------------------------------------------------------------------
# Module inspection
# ---------------------------------------------------------------------------------------------

def cell_of(rnn):
    """Returns seqstream's cell name ('rnn_tanh' | 'rnn_relu' | 'lstm' | 'gru') for a module."""
    _need_torch()
    if not isinstance(rnn, torch.nn.RNNBase):
        raise ExportError(f"expected torch.nn.RNN, LSTM or GRU, got {type(rnn).__name__}. "
                          "Cells such as nn.LSTMCell are not exported: wrap the weights in an "
                          "nn.LSTM (same names with _l0) first")
    mode = rnn.mode
    for name, (torch_mode, _, _) in CELLS.items():
        if torch_mode == mode:
            return name
    raise ExportError(f"unsupported recurrent mode {mode!r}")


def check_module(rnn, head=None, head_activation='identity'):
    """Raises ExportError when `rnn` / `head` cannot be exported. Returns the cell name."""
    cell = cell_of(rnn)
    if rnn.bidirectional:
        raise ExportError("bidirectional=True is not supported: a live stream only runs forward "
                          "(seqstream has no reverse direction). Export a unidirectional module")
    if getattr(rnn, 'proj_size', 0):
        raise ExportError(f"LSTM proj_size={rnn.proj_size} is not supported: seqstream's LSTM has "
                          "no projection (h and c have the same size). Use proj_size=0")
    if rnn.dropout > 0 and rnn.training:
        raise ExportError(f"dropout={rnn.dropout} with the module in training mode: the output "
                          "would be random. Call module.eval() first (seqstream never applies "
                          "dropout) or build the module with dropout=0")
    if head is not None:
        if not isinstance(head, torch.nn.Linear):
            raise ExportError(f"head must be a torch.nn.Linear, got {type(head).__name__} "
                              "(pass the activation as head_activation)")
        if head.in_features != rnn.hidden_size:
            raise ExportError(f"head.in_features={head.in_features} does not match the recurrent "
                              f"module's hidden_size={rnn.hidden_size}")
    if head_activation not in HEAD_ACTIVATIONS:
        raise ExportError(f"head_activation must be one of {', '.join(HEAD_ACTIVATIONS)}, "
                          f"got {head_activation!r}")
    if head is None and head_activation != 'identity':
        raise ExportError(f"head_activation={head_activation!r} given without a head")
    return cell


def float32_parameters(rnn, head=None):
    """The module's parameters as float32 CPU tensors, named as seqstream and PyTorch name them.

    Order: per layer `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`, then
    `head.weight`, `head.bias`. A module built with bias=False gets zero biases (the same math).
    """
    _need_torch()
    cell = cell_of(rnn)
    gates = CELLS[cell][1]
    out = {}
    for k in range(rnn.num_layers):
        for kind in ('ih', 'hh'):
            out[f'weight_{kind}_l{k}'] = getattr(rnn, f'weight_{kind}_l{k}').detach().cpu().float().clone()
        for kind in ('ih', 'hh'):
            name = f'bias_{kind}_l{k}'
            if rnn.bias:
                out[name] = getattr(rnn, name).detach().cpu().float().clone()
            else:
                out[name] = torch.zeros(gates * rnn.hidden_size, dtype=torch.float32)
    if head is not None:
        out['head.weight'] = head.weight.detach().cpu().float().clone()
        out['head.bias'] = (head.bias.detach().cpu().float().clone() if head.bias is not None
                            else torch.zeros(head.out_features, dtype=torch.float32))
    return out


def make_modules(cell, params, dtype):
    """Fresh batch-first module (and head, or None) of `dtype` holding `params` (a name->tensor dict).

    Draws no random numbers from the caller's generator.
    """
    _need_torch()
    w = params['weight_ih_l0']
    hidden = params['weight_hh_l0'].shape[1]
    layers = 0
    while f'weight_ih_l{layers}' in params:
        layers += 1
    with torch.random.fork_rng(devices=[]):
        if cell == 'lstm':
            rnn = torch.nn.LSTM(w.shape[1], hidden, num_layers=layers, batch_first=True)
        elif cell == 'gru':
            rnn = torch.nn.GRU(w.shape[1], hidden, num_layers=layers, batch_first=True)
        else:
            rnn = torch.nn.RNN(w.shape[1], hidden, num_layers=layers, batch_first=True,
                               nonlinearity='relu' if cell == 'rnn_relu' else 'tanh')
        head = None
        if 'head.weight' in params:
            hw = params['head.weight']
            head = torch.nn.Linear(hw.shape[1], hw.shape[0])
    rnn = rnn.to(dtype)
    with torch.no_grad():
        for name, p in rnn.named_parameters():
            p.copy_(params[name].to(dtype))
        if head is not None:
            head = head.to(dtype)
            head.weight.copy_(params['head.weight'].to(dtype))
            head.bias.copy_(params['head.bias'].to(dtype))
    rnn.eval()
    return rnn, head


def apply_head(head, activation, out):
    """`y = g(out @ W^T + b)` with g identity, sigmoid or softmax over the last axis."""
    y = head(out)
    if activation == 'sigmoid':
        return torch.sigmoid(y)
    if activation == 'softmax':
        return torch.softmax(y, dim=-1)
    return y


# ---------------------------------------------------------------------------------------------
# Reference computation
# ---------------------------------------------------------------------------------------------

def _run(rnn, x, h0, c0):
    if c0 is not None:
        out, (h, c) = rnn(x, (h0, c0))
        return out, h, c
    out, h = rnn(x, h0)
    return out, h, None


def _error_stats(approx, ref):
    d = (approx.double() - ref).abs()
    mask = ref.abs() > 1e-3
    rel = float((d[mask] / ref.abs()[mask]).max()) if bool(mask.any()) else 0.0
    return {'max_abs': float(d.max()) if d.numel() else 0.0, 'max_rel_where_abs_ref_gt_1e-3': rel}


def forward_reference(cell, params32, x32, h0_32, c0_32=None, head_activation='identity'):
    """Computes every result field of a forward fixture in float64.

    `params32`: name -> float32 tensor (see float32_parameters); `x32` `[B,T,I]` batch-first;
    `h0_32`, `c0_32` `[L,B,H]` (c0 for LSTM only). Returns an ordered dict of fixture fields
    (`output`, `h_n`, `c_n`, `c_all`, `layer_outputs`, `y`, `torch_float32_vs_float64`,
    `gate_preactivation_stats`), each present only where the schema has it.
    """
    _need_torch()
    lstm = cell == 'lstm'
    rnn64, head64 = make_modules(cell, params32, torch.float64)
    rnn32, head32 = make_modules(cell, params32, torch.float32)
    x, h0 = x32.double(), h0_32.double()
    c0 = c0_32.double() if lstm else None
    layers = rnn64.num_layers
    res = {}
    with torch.no_grad():
        out, h_n, c_n = _run(rnn64, x, h0, c0)
        res['output'] = out
        res['h_n'] = h_n
        if lstm:
            res['c_n'] = c_n
        # Event by event for the per-step states: torch returns only the final ones.
        h, c = h0, c0
        hs, cs = [], []
        for t in range(x.shape[1]):
            _, h, c = _run(rnn64, x[:, t:t + 1], h, c)
            hs.append(h)
            cs.append(c)
        if lstm:
            res['c_all'] = torch.stack([ci[-1] for ci in cs], dim=1)
        if layers > 1:
            res['layer_outputs'] = [torch.stack([hi[k] for hi in hs], dim=1) for k in range(layers)]
        if head64 is not None:
            res['y'] = apply_head(head64, head_activation, out)

        out32, h32, c32 = _run(rnn32, x32.float(), h0_32.float(), c0_32.float() if lstm else None)
        err = {'output': _error_stats(out32, out), 'h_n': _error_stats(h32, h_n)}
        if lstm:
            err['c_n'] = _error_stats(c32, c_n)
        if head32 is not None:
            err['y'] = _error_stats(apply_head(head32, head_activation, out32), res['y'])
        res['torch_float32_vs_float64'] = err

        if lstm and layers == 1:
            hidden = h0.shape[2]
            h_prev = torch.cat([h0[0].unsqueeze(1), out[:, :-1]], dim=1)
            pre = (x @ rnn64.weight_ih_l0.T + rnn64.bias_ih_l0
                   + h_prev @ rnn64.weight_hh_l0.T + rnn64.bias_hh_l0)
            stats = {}
            for g, name in enumerate(CELLS['lstm'][2]):
                block = pre[..., g * hidden:(g + 1) * hidden].abs()
                stats[name] = {'max_abs_preactivation': float(block.max()),
                               'frac_abs_preactivation_gt_7': float((block > 7).double().mean())}
            res['gate_preactivation_stats'] = stats
    return res


def to_json_value(v):
    """Tensors -> nested lists of Python floats (float64 values, written by repr); dicts/lists recursed."""
    if torch is not None and isinstance(v, torch.Tensor):
        t = v.detach().cpu().double()
        return t.item() if t.dim() == 0 else t.tolist()
    if isinstance(v, dict):
        return {k: to_json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_json_value(x) for x in v]
    return v


def generator_block(script, seed):
    """The `generator` field: what produced a fixture and with which seed."""
    try:
        import numpy
        numpy_version = numpy.__version__
    except ImportError:
        numpy_version = None
    return {
        'script': script,
        'torch_version': torch.__version__,
        'numpy_version': numpy_version,
        'python': platform.python_version(),
        'platform': platform.platform(),
        'seed': seed,
        'dtype': 'float64',
        'inputs_exactly_float32_representable': True,
    }


def config_block(cell, input_size, hidden_size, num_layers, batch_size, seq_len):
    """The common `config` fields of every fixture."""
    torch_mode, gates, order = CELLS[cell]
    return {
        'cell': cell,
        'torch_mode': torch_mode,
        'input_size': input_size,
        'hidden_size': hidden_size,
        'num_layers': num_layers,
        'batch_size': batch_size,
        'seq_len': seq_len,
        'batch_first': True,
        'bias': True,
        'bidirectional': False,
        'dropout': 0.0,
        'num_gates': gates,
        'gate_order': order,
    }


def forward_fixture(cell, params32, x32, h0_32, c0_32=None, head_activation='identity', *,
                    case, description, script, seed):
    """A complete forward fixture (dict in the schema's key order) for float32 inputs."""
    head_out = params32['head.weight'].shape[0] if 'head.weight' in params32 else None
    B, T, I = x32.shape
    L, _, H = h0_32.shape
    config = config_block(cell, I, H, L, B, T)
    if head_out is not None:
        config['head_out_features'] = head_out
        config['head_activation'] = head_activation
    fx = {
        'schema_version': SCHEMA_VERSION,
        'case': case,
        'description': description,
        'generator': generator_block(script, seed),
        'config': config,
        'params': dict(params32),
        'x': x32,
        'h0': h0_32,
    }
    if cell == 'lstm':
        fx['c0'] = c0_32
    fx.update(forward_reference(cell, params32, x32, h0_32, c0_32, head_activation))
    return to_json_value(fx)


def dumps(fixture):
    """Compact JSON, one line plus a newline, floats by repr (exact float64 round trip)."""
    return json.dumps(fixture, separators=(',', ':'), allow_nan=False) + '\n'


def write_safetensors(path, tensors, metadata=None):
    """Writes name -> tensor as a `.safetensors` file (dtype F32, little-endian), by hand.

    Layout: 8-byte little-endian header length N, N bytes of JSON header (padded with spaces to a
    multiple of 8), then the raw data; each header entry is `{dtype, shape, data_offsets}`.
    """
    header = {}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        flat = t.detach().cpu().float().contiguous().reshape(-1).tolist()
        blob = struct.pack(f'<{len(flat)}f', *flat)
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header['__metadata__'] = dict(metadata or {'format': 'pt'})
    text = json.dumps(header, separators=(',', ':'))
    text += ' ' * ((8 - len(text.encode()) % 8) % 8)
    raw = text.encode()
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(raw)))
        f.write(raw)
        for blob in blobs:
            f.write(blob)


def safetensors_metadata(cell, head=None, head_activation='identity'):
    """What the weights' shapes cannot say, as safetensors `__metadata__` (strings only): the cell
    kind, a plain RNN's nonlinearity, and the head activation. seqstream's `loadSafetensors` (and
    `seqstream --model x.safetensors`) read it back, so a sigmoid head is not loaded as raw logits.
    """
    meta = {'format': 'pt', 'cell': cell}
    if cell in ('rnn_tanh', 'rnn_relu'):
        meta['nonlinearity'] = cell.split('_')[1]
    if head is not None:
        meta['head_activation'] = head_activation
    return meta


def read_safetensors(path):
    """Reads a `.safetensors` file written with F32/F64 tensors back into float64 tensors (for checks)."""
    _need_torch()
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        a, b = e['data_offsets']
        fmt = {'F32': 'f', 'F64': 'd'}[e['dtype']]
        count = (b - a) // struct.calcsize(fmt)
        vals = struct.unpack(f'<{count}{fmt}', data[8 + n + a:8 + n + b])
        out[name] = torch.tensor(vals, dtype=torch.float64).reshape(e['shape'])
    return out


# ---------------------------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------------------------

def export(rnn_module, head=None, head_activation='identity', x=None, path='seqstream_fixture.json',
           safetensors_path=None, *, h0=None, c0=None, batch_size=2, seq_len=8, seed=0,
           case=None, description=None):
    """Writes `rnn_module` (+ optional `head`) and one reference run as a seqstream forward fixture.

    - `rnn_module`: nn.RNN / nn.LSTM / nn.GRU, any num_layers, batch_first or not.
    - `head`: optional nn.Linear(hidden_size, out) applied at every step; `head_activation` one of
      'identity' (default), 'sigmoid', 'softmax' (over the last axis).
    - `x`: input in the module's own layout (`[B,T,I]` if batch_first else `[T,B,I]`), or `[T,I]`
      for one sequence; tensor, numpy array or nested lists. Default: `torch.randn` of
      `[batch_size, seq_len, input_size]` from `seed`. Rounded to float32.
    - `h0`, `c0`: `[L,B,H]` initial states; default random normal from `seed` (c0: LSTM only).
    - `path`: JSON fixture to write; `safetensors_path`: also write the weights there (F32).
    The module itself is not modified and the global random generator is not touched.
    Returns the fixture as a dict.
    """
    _need_torch()
    cell = check_module(rnn_module, head, head_activation)
    params32 = float32_parameters(rnn_module, head)
    rounding = 0.0
    for name, p in list(rnn_module.named_parameters()) + ([('head.' + n, p) for n, p in head.named_parameters()] if head is not None else []):
        rounding = max(rounding, float((p.detach().cpu().double() - p.detach().cpu().float().double()).abs().max()))
    if rounding > 0:
        print(f"export_torch: weights rounded to float32 (max change {rounding:.3g}); the reference "
              "is computed from the rounded weights", file=sys.stderr)
    L, H, I = rnn_module.num_layers, rnn_module.hidden_size, rnn_module.input_size
    gen = torch.Generator().manual_seed(seed)
    if x is None:
        x32 = torch.randn(batch_size, seq_len, I, generator=gen)
    else:
        xt = torch.as_tensor(x).detach().cpu()
        if xt.dim() == 2:
            xt = xt.unsqueeze(0) if rnn_module.batch_first else xt.unsqueeze(1)
        if xt.dim() != 3:
            raise ExportError(f"x must be [B,T,I], [T,B,I] or [T,I], got shape {list(xt.shape)}")
        if not rnn_module.batch_first:
            xt = xt.transpose(0, 1)
        if xt.shape[2] != I:
            raise ExportError(f"x has {xt.shape[2]} features per step, the module expects input_size={I}")
        if xt.shape[0] < 1 or xt.shape[1] < 1:
            raise ExportError(f"x must hold at least one step of one sequence, got shape {list(xt.shape)}")
        x32 = xt.float().contiguous()
    B = x32.shape[0]

    def state(given, name):
        if given is None:
            return torch.randn(L, B, H, generator=gen)
        s = torch.as_tensor(given).detach().cpu().float()
        if list(s.shape) != [L, B, H]:
            raise ExportError(f"{name} must have shape [num_layers, batch, hidden] = {[L, B, H]}, got {list(s.shape)}")
        return s.contiguous()

    h0_32 = state(h0, 'h0')
    c0_32 = state(c0, 'c0') if cell == 'lstm' else None
    if case is None:
        case = os.path.splitext(os.path.basename(path))[0]
    if description is None:
        what = {'rnn_tanh': 'RNN (tanh)', 'rnn_relu': 'RNN (relu)', 'lstm': 'LSTM', 'gru': 'GRU'}[cell]
        description = (f"{what}, {L} layer(s) (I={I},H={H},B={B},T={x32.shape[1]})"
                       + (f" + Linear({H},{head.out_features}) head ({head_activation})" if head is not None else '')
                       + ", exported by export_torch.py; random non-zero initial state.")
    fixture = forward_fixture(cell, params32, x32, h0_32, c0_32, head_activation, case=case,
                              description=description, script='export_torch.py', seed=seed)
    if safetensors_path:
        fixture['safetensors'] = os.path.basename(safetensors_path)
        write_safetensors(safetensors_path, params32, safetensors_metadata(cell, head, head_activation))
    with open(path, 'w') as f:
        f.write(dumps(fixture))
    return fixture


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

def modules_from_state_dict(sd, nonlinearity='tanh', head_activation='identity'):
    """Builds (rnn, head) from a state_dict: names `[prefix.]weight_ih_l0` ..., plus one Linear's
    `[prefix.]weight` / `[prefix.]bias` taken as the head. Infers cell, sizes and depth from shapes."""
    rec, lin = {}, {}
    for key, value in sd.items():
        short = key.rsplit('.', 1)[-1]
        if short.startswith(('weight_ih_l', 'weight_hh_l', 'bias_ih_l', 'bias_hh_l')):
            if short.endswith('_reverse'):
                raise ExportError(f"'{key}' is a bidirectional weight: not supported (a live stream only runs forward)")
            rec[short] = value
        elif short in ('weight', 'bias'):
            lin.setdefault(key.rsplit('.', 1)[0] if '.' in key else '', {})[short] = value
        else:
            raise ExportError(f"unexpected state_dict entry '{key}'")
    if 'weight_ih_l0' not in rec:
        raise ExportError("the state_dict has no 'weight_ih_l0': not a torch.nn.RNN/LSTM/GRU state")
    if len(lin) > 1:
        raise ExportError(f"more than one Linear in the state_dict ({', '.join(lin)}): seqstream models have one head")
    if 'weight_hr_l0' in rec:
        raise ExportError("LSTM proj_size>0 (weight_hr_l0) is not supported")
    rows, I = rec['weight_ih_l0'].shape
    H = rec['weight_hh_l0'].shape[1]
    L = 0
    while f'weight_ih_l{L}' in rec:
        L += 1
    gates = rows // H
    cell = {4: 'lstm', 3: 'gru', 1: 'rnn_relu' if nonlinearity == 'relu' else 'rnn_tanh'}.get(gates)
    if cell is None or rows % H:
        raise ExportError(f"weight_ih_l0 has {rows} rows for hidden size {H}: not 1, 3 or 4 gate blocks")
    params = {k: torch.as_tensor(v).float() for k, v in rec.items()}
    if lin:
        (entry,) = lin.values()
        params['head.weight'] = torch.as_tensor(entry['weight']).float()
        params['head.bias'] = torch.as_tensor(entry.get('bias', torch.zeros(entry['weight'].shape[0]))).float()
    return make_modules(cell, params, torch.float32)


def _demo_modules(args):
    torch.manual_seed(args.seed)
    kind = args.demo
    kw = dict(num_layers=args.layers, batch_first=not args.time_major)
    if kind == 'lstm':
        rnn = torch.nn.LSTM(args.input_size, args.hidden_size, **kw)
    elif kind == 'gru':
        rnn = torch.nn.GRU(args.input_size, args.hidden_size, **kw)
    else:
        rnn = torch.nn.RNN(args.input_size, args.hidden_size, nonlinearity=kind.split('_')[1], **kw)
    head = torch.nn.Linear(args.hidden_size, args.head_out) if args.head_out else None
    return rnn, head


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='export_torch.py',
        description="Export a PyTorch nn.RNN/LSTM/GRU (+ optional nn.Linear head) as a seqstream "
                    "forward fixture: weights plus one float64 reference input/output pair, and "
                    "optionally a .safetensors of the weights. Check it with "
                    "'seqstream verify <out.json>'. From Python, call export(module, head=..., path=...).",
        epilog="examples:\n"
               "  python3 tools/export_torch.py --demo lstm --out lstm.json --safetensors lstm.safetensors\n"
               "  python3 tools/export_torch.py --demo gru --layers 2 --head-out 3 --head-activation softmax --out gru.json\n"
               "  python3 tools/export_torch.py --state-dict model.pt --out model.json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument('--demo', choices=sorted(CELLS), help='export a freshly initialised module of this cell kind')
    src.add_argument('--state-dict', metavar='FILE', help="a torch.save'd state_dict of an RNN/LSTM/GRU (names "
                     "[prefix.]weight_ih_l0 ...) plus at most one Linear (taken as the head)")
    parser.add_argument('--out', required=True, metavar='FILE.json', help='fixture to write')
    parser.add_argument('--safetensors', metavar='FILE', help='also write the weights as .safetensors (F32)')
    parser.add_argument('--input-size', type=int, default=4, help='demo: input size (default 4)')
    parser.add_argument('--hidden-size', type=int, default=6, help='demo: hidden size (default 6)')
    parser.add_argument('--layers', type=int, default=1, help='demo: num_layers (default 1)')
    parser.add_argument('--head-out', type=int, default=0, help='demo: add an nn.Linear head with this many outputs (default: none)')
    parser.add_argument('--head-activation', choices=HEAD_ACTIVATIONS, default='identity', help='head activation (default identity)')
    parser.add_argument('--nonlinearity', choices=('tanh', 'relu'), default='tanh', help='--state-dict with a plain RNN: its nonlinearity (default tanh)')
    parser.add_argument('--time-major', action='store_true', help='demo: build the module with batch_first=False (the fixture stays batch-first)')
    parser.add_argument('--batch-size', type=int, default=2, help='reference input batch (default 2)')
    parser.add_argument('--seq-len', type=int, default=8, help='reference input length (default 8)')
    parser.add_argument('--seed', type=int, default=0, help='seed for the demo weights and the reference input/state (default 0)')
    args = parser.parse_args(argv)
    if torch is None:
        print("export_torch.py needs PyTorch: 'import torch' failed (Debian/Ubuntu: apt-get install python3-torch)", file=sys.stderr)
        return 2
    try:
        if args.demo:
            rnn, head = _demo_modules(args)
        else:
            sd = torch.load(args.state_dict, map_location='cpu')
            if not isinstance(sd, dict):
                raise ExportError(f"{args.state_dict} holds a {type(sd).__name__}, not a state_dict: save module.state_dict()")
            rnn, head = modules_from_state_dict(sd, args.nonlinearity, args.head_activation)
        fx = export(rnn, head=head, head_activation=args.head_activation, path=args.out,
                    safetensors_path=args.safetensors, batch_size=args.batch_size,
                    seq_len=args.seq_len, seed=args.seed)
    except ExportError as e:
        print(f"export_torch.py: {e}", file=sys.stderr)
        return 1
    err = fx['torch_float32_vs_float64']['output']['max_abs']
    print(f"wrote {args.out} ({fx['config']['cell']}, L={fx['config']['num_layers']}, "
          f"I={fx['config']['input_size']}, H={fx['config']['hidden_size']}"
          + (f", head {fx['config']['head_out_features']} {args.head_activation}" if head is not None else '')
          + f"); torch float32 vs float64 max abs {err:.2g}"
          + (f"; weights in {args.safetensors}" if args.safetensors else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
