"""GPU check: one command, one table, under 10 minutes on one GPU.

  python tests/benchmarks/gpu_check.py                          # on a machine with a GPU (--device cuda)
  python tests/benchmarks/gpu_check.py --device cpu --tiny      # smoke test of this script (runs in the test suite)

What it measures (discrete flow maps on a DiT, the kit's heaviest path):
  1. CPU vs device: each loss (diag, psd, lsd, esd) and its gradient norm on the same batch with the same random
     draws (recorded on the CPU run and replayed on the device), float32 with TF32 off; relative difference.
  2. One training step per loss on the device (Trainer.train_step with bf16 autocast, TF32 and fused Adam on CUDA):
     ms/step, ratio to the diagonal loss, peak memory, FLOPs per step (torch.utils.flop_counter) and the achieved
     TFLOP/s against the chip's bf16 dense peak (--peak-tflops; 989 for an H100/H200 SXM).
  3. Sampling: sequences/s of the DFM at 1 and 4 NFE, Euler on the diagonal at 64 NFE and an AR transformer of the
     same width and depth with a KV cache (flowmaps_nb.bench.throughput).
Record the printed table in tests/benchmarks/RESULTS.md §5 when it has been run on a GPU.
"""
import argparse, math, sys, time
import torch
from flowmaps_nb.bench import seconds_per_call, throughput, _sync
from flowmaps_nb.core import FlowMapsError, get_device
from flowmaps_nb.discrete import DiscreteFlowMap, dfm_loss
from flowmaps_nb.train import Trainer

LOSSES = ('diag', 'psd', 'lsd', 'esd')


class Replay:
    "Record every torch.rand/randn/randint draw (on the CPU run), then hand the same values back (on the device run)."
    NAMES = ('rand', 'randn', 'randint')
    def __init__(self): self.draws, self.i, self.mode = [], 0, 'record'
    def _wrap(self, f):
        def draw(*args, **kw):
            if self.mode == 'record':
                x = f(*args, **kw); self.draws.append(x.detach().cpu()); return x
            x = self.draws[self.i]; self.i += 1
            return x.to(kw.get('device') or 'cpu')
        return draw
    def __enter__(self):
        self.orig = {n: getattr(torch, n) for n in self.NAMES}
        for n, f in self.orig.items(): setattr(torch, n, self._wrap(f))
        return self
    def __exit__(self, *exc):
        for n, f in self.orig.items(): setattr(torch, n, f)


def loss_and_gradnorm(model, tokens, kind):
    "Total loss and gradient norm of one DFM loss (fp32)."
    model.zero_grad(set_to_none=True)
    terms, _ = dfm_loss(model, tokens, None, kind=kind)
    total = sum(terms.values()); total.backward()
    g = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in model.parameters() if p.grad is not None))
    return float(total.detach()), float(g)


def cpu_vs_device(dev, L, K, d, layers, heads, batch):
    "Relative differences of each loss and gradient norm between the CPU and `dev` on the same batch and draws."
    torch.manual_seed(0)
    model = DiscreteFlowMap.for_data(L, K, d=d, layers=layers, heads=heads)
    for p in model.parameters(): torch.nn.init.normal_(p, std=0.05)        # away from the zero-initialised start
    tokens = torch.randint(K, (batch, L), generator=torch.Generator().manual_seed(1))
    tf32 = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    rows = []
    try:
        for kind in LOSSES:
            with Replay() as rp:
                l_cpu, g_cpu = loss_and_gradnorm(model, tokens, kind)
                rp.mode = 'replay'
                l_dev, g_dev = loss_and_gradnorm(model.to(dev), tokens.to(dev), kind)
                model.to('cpu')
            if rp.i != len(rp.draws): raise FlowMapsError(f"{kind}: the device run drew {rp.i} of the {len(rp.draws)} recorded random tensors")
            rows.append(dict(part='1 CPU vs device', item=kind, diff=max(abs(l_dev - l_cpu) / abs(l_cpu), abs(g_dev - g_cpu) / abs(g_cpu)),
                             note=f'loss {l_cpu:.5f} vs {l_dev:.5f}'))
    finally: torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = tf32
    return rows


def step_flops(tr):
    "FLOPs of one training step counted by torch's flop counter (None if it cannot count this step)."
    from torch.utils.flop_counter import FlopCounterMode
    try:
        with FlopCounterMode(display=False) as fc: tr.train_step()
        return fc.get_total_flops()
    except Exception as e:
        print(f"(flop counter failed: {type(e).__name__}: {str(e)[:120]})", file=sys.stderr); return None


def train_steps(dev, L, K, d, layers, heads, batch, amp, min_time, peak):
    "ms per training step, peak memory, FLOPs and TFLOP/s of each loss on `dev`."
    data = torch.randint(K, (max(batch, 256), L), generator=torch.Generator().manual_seed(0))
    rows, base = [], None
    cuda = dev.type == 'cuda'
    for kind in LOSSES:
        torch.manual_seed(0)
        tr = Trainer(DiscreteFlowMap.for_data(L, K, d=d, layers=layers, heads=heads), data, loss=kind, batch_size=batch, device=dev,
                     progress=False, grad_surgery=True, amp=amp, tf32=cuda, fused=cuda)
        flops = step_flops(tr)
        sec = seconds_per_call(tr.train_step, dev, min_time)
        if cuda: torch.cuda.reset_peak_memory_stats(dev); tr.train_step(); _sync(dev); mem = torch.cuda.max_memory_allocated(dev) / 2**20
        else: mem = None
        base = base or sec
        tfl = flops / sec / 1e12 if flops else None
        rows.append(dict(part='2 train step', item=kind, ms=sec * 1e3, ratio=sec / base, mem=mem, tflops=tfl,
                         pct=100 * tfl / peak if tfl is not None else None, note=f'{flops / 1e9:.4g} GFLOP/step' if flops else 'flops not counted'))
        del tr
    return rows


def sampling(dev, seq_lens, K, d, layers, heads, batch, min_time):
    rows = throughput(seq_lens, K, d, layers, heads, batch, dev, min_time)
    ar = {r['L']: r['seq_per_s'] for r in rows if r['sampler'].startswith('AR')}
    return [dict(part='3 sampling', item=f"L={r['L']}: {r['sampler']}", seqs=r['seq_per_s'], ratio=r['seq_per_s'] / ar[r['L']]) for r in rows]


def table(rows):
    f = lambda v, fmt: '—' if v is None else format(v, fmt)
    lines = ['| part | item | ms | ×ref | seq/s | peak MB | TFLOP/s | % bf16 peak | rel. diff CPU vs device | note |', '|' + '---|' * 10]
    for r in rows:
        lines.append(f"| {r['part']} | {r['item']} | {f(r.get('ms'), '.1f')} | {f(r.get('ratio'), '.2f')} | {f(r.get('seqs'), '.3g')} | "
                     f"{f(r.get('mem'), '.0f')} | {f(r.get('tflops'), '.3g')} | {f(r.get('pct'), '.2g')} | {f(r.get('diff'), '.1e')} | {r.get('note', '')} |")
    return '\n'.join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default='cuda')
    p.add_argument('--tiny', action='store_true', help='tiny sizes (a smoke test of the script, numbers meaningless)')
    p.add_argument('--amp', default='auto', choices=['auto', 'bf16', 'none'], help='training-step precision (auto: bf16 on CUDA, fp32 on CPU)')
    p.add_argument('--peak-tflops', type=float, default=989., help="the chip's dense bf16 peak (H100/H200 SXM: 989)")
    p.add_argument('--tol', type=float, default=1e-3, help='largest relative CPU-vs-device difference that passes')
    a = p.parse_args(argv)
    dev = get_device(a.device)
    amp = ('bf16' if dev.type == 'cuda' else None) if a.amp == 'auto' else (None if a.amp == 'none' else 'bf16')
    if a.tiny: cmp_, step, samp, mt = dict(L=16, K=11, d=32, layers=1, heads=2, batch=4), dict(L=16, K=11, d=32, layers=1, heads=2, batch=8), dict(seq_lens=(16,), K=11, d=32, layers=1, heads=2, batch=4), 0.05
    else: cmp_, step, samp, mt = (dict(L=64, K=64, d=256, layers=4, heads=4, batch=16), dict(L=128, K=64, d=768, layers=12, heads=12, batch=128),
                                  dict(seq_lens=(128, 256, 1024), K=64, d=768, layers=12, heads=12, batch=64), 2.0)
    name = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else f'cpu, {torch.get_num_threads()} thread(s)'
    t0 = time.time()
    rows = cpu_vs_device(dev, **cmp_)
    rows += train_steps(dev, **step, amp=amp, min_time=mt, peak=a.peak_tflops)
    rows += sampling(dev, **samp, min_time=mt)
    print(f"gpu_check on {name}, torch {torch.__version__}; train step: DiT d={step['d']}, {step['layers']} layers, L={step['L']}, batch {step['batch']}, "
          f"amp {amp or 'fp32'}; sampling: DiT / AR d={samp['d']}, {samp['layers']} layers, batch {samp['batch']}; bf16 peak {a.peak_tflops:g} TFLOP/s\n")
    print(table(rows))
    worst = max(r['diff'] for r in rows if 'diff' in r)
    ok = worst <= a.tol
    print(f"\nCPU vs device: largest relative difference {worst:.1e} ({'pass' if ok else 'FAIL'}, tolerance {a.tol:g}); {time.time() - t0:.0f}s")
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
