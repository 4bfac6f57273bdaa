"""Discrete flow maps at our scale: the paper's Table 3 shape on (a) a synthetic Markov chain with exact metrics and
(b) Shakespeare characters with generative perplexity and entropy. Prints markdown tables; results go to RESULTS.md.

  python tests/benchmarks/bench_dfm.py chain --out outputs/bench_dfm_chain     # ~15 min on 1 CPU thread
  python tests/benchmarks/bench_dfm.py text  --out outputs/bench_dfm_text      # ~60 min on 1 CPU thread
  python tests/benchmarks/bench_dfm.py ar    --out outputs/bench_dfm_ar        # seconds: data and AR reference rows
  (GPU: add --device cuda and e.g. --diag-steps 50000 --distill-steps 20000 --d 384 --layers 8 --batch-size 256)

Rows: the diagonal model sampled with Euler on b_t = (ψ_tt − x)/(1 − t); the same diagonal distilled with PSD, ESD
and LSD (two-stage training, diagonal kept, gradient surgery); the Euclidean flow map (same network and schedule,
L2 diagonal + L2 semigroup). Columns: NFE.
"""
import argparse, json, math, sys, time
from pathlib import Path
import torch
from flowmaps_nb.discrete import DiscreteFlowMap
from flowmaps_nb.train import Trainer


def two_stage(data, L, K, loss, args, vocab=None, diag_state=None, log=print):
    "Train the diagonal (or reuse `diag_state`), then distil with `loss`; returns (diag trainer or None, final model)."
    param = 'euclidean' if loss == 'euclidean' else 'simplex'
    net_kw = dict(d=args.d, layers=args.layers, heads=args.heads) if args.net == 'dit' else dict(hidden=args.d, depth=args.layers)
    if args.max_freq is not None: net_kw['max_freq'] = args.max_freq
    torch.manual_seed(args.seed)
    model = DiscreteFlowMap.for_data(L, K, net=args.net, param=param, vocab=vocab, **net_kw)
    common = dict(batch_size=args.batch_size, device=args.device, progress=False, log_every=100)
    t0 = time.time()
    if diag_state is None:
        tr1 = Trainer(model, data, loss='diag', lr=args.lr, seed=args.seed, **common)
        tr1.fit(args.diag_steps)
        log(f"  diag ({param}) {args.diag_steps} steps in {time.time() - t0:.0f}s: {tr1.history[-1]}")
        diag_state = (tr1.model.state_dict(), tr1.ema)
    else: tr1 = None
    if loss == 'diag': return tr1, diag_state
    model.load_state_dict(diag_state[0])
    tr = Trainer(model, data, loss=loss, lr=args.lr, seed=args.seed + 1, grad_surgery=not args.no_surgery, **common)
    tr.ema = {k: v.clone() for k, v in diag_state[1].items()}
    t0 = time.time(); tr.fit(args.distill_steps)
    clamp = sum(r.get('clamp', 0) for r in tr.history) / len(tr.history)
    log(f"  {loss} {args.distill_steps} steps in {time.time() - t0:.0f}s: last {tr.history[-1]}; mean clamp rate {clamp:.4f}")
    return tr, diag_state


def ema_model(state, like):
    m = DiscreteFlowMap.from_config(like.config()); m.load_state_dict(state); return m.eval().to(like.device)


def table(rows, nfes, fmt):
    out = ['| model | ' + ' | '.join(f'NFE {k}' for k in nfes) + ' |', '|---|' + '---|' * len(nfes)]
    for name, cells in rows.items(): out.append(f'| {name} | ' + ' | '.join(fmt(cells[k]) if k in cells else '' for k in nfes) + ' |')
    return '\n'.join(out)


def run_chain(args):
    from flowmaps_nb.evaluate import MarkovChain, independent_positions_tv
    chain = MarkovChain.random(K=5, L=6, n_next=2, seed=0)
    data = chain.sample(100000, torch.Generator().manual_seed(0))
    n = args.n_eval
    floor = chain.noise_floor(n, seed=1)
    print(f"chain {chain}; {n} samples per cell; exact-sampling TV noise floor {floor:.4f}; "
          f"independent-positions TV {independent_positions_tv(chain):.4f}; chain entropy {chain.entropy():.4f} nats/token", flush=True)
    cells = {}
    def judge(name, model, method):
        row = {}
        for k in args.nfes:
            x = model.sample(n, nfe=k, method=method, generator=torch.Generator(model.device).manual_seed(7)).cpu()
            row[k] = (chain.tv_distance(x), chain.nll(x), chain.invalid_fraction(x))
        cells[name] = row; print(f"  {name}: " + ', '.join(f'{k}: TV {v[0]:.3f}' for k, v in row.items()), flush=True)
    tr1, diag = two_stage(data, 6, 5, 'diag', args)
    judge('diagonal (Euler)', ema_model(diag[1], tr1.model), 'euler')
    for loss in args.losses:
        tr, _ = two_stage(data, 6, 5, loss, args, diag_state=None if loss == 'euclidean' else diag)
        judge(f'+{loss.upper()}' if loss != 'euclidean' else 'Euclidean flow map (L2 PSD)', tr.ema_model(), 'flowmap')
    md = [f"Synthetic chain (K=5, L=6, 2 successors/state), {n} samples per cell. Exact-sampling TV noise floor "
          f"{floor:.4f}; a sampler that ignores correlations between positions: TV {independent_positions_tv(chain):.4f}.",
          '', 'TV distance to the exact sequence distribution:', '', table(cells, args.nfes, lambda v: f'{v[0]:.3f}'),
          '', 'Exact NLL per token over the possible samples (nats; the chain\'s entropy rate is ' + f'{chain.entropy():.3f}) / fraction of impossible sequences:', '',
          table(cells, args.nfes, lambda v: (f'{v[1]:.2f}' if math.isfinite(v[1]) else 'inf') + f' / {v[2]:.3f}')]
    return '\n'.join(md), cells


def run_text(args):
    from flowmaps_nb.evaluate import load_corpus, split_corpus, Vocab, load_judge, gen_perplexity, unigram_entropy, random_windows
    from flowmaps_nb.data import text_sequences
    judge_model, jvocab = load_judge()
    train_text, held = split_corpus(load_corpus())
    tmp = Path(args.out) / 'train_split.txt'; tmp.parent.mkdir(parents=True, exist_ok=True); tmp.write_text(train_text)
    data, vocab = text_sequences(tmp, args.seq_len, stride=args.seq_len // 2, vocab=jvocab.chars)
    n = args.n_eval
    real = random_windows(held, args.seq_len, n, seed=0)
    cells = {'held-out data': {0: (gen_perplexity(judge_model, real, jvocab), unigram_entropy(real))}}
    print(f"{len(data)} training windows of {args.seq_len} chars; held-out data: ppl {cells['held-out data'][0][0]:.2f}, entropy {cells['held-out data'][0][1]:.3f}", flush=True)
    def judge(name, model, method):
        row = {}
        for k in args.nfes:
            texts = model.decode(model.sample(n, nfe=k, method=method, generator=torch.Generator(model.device).manual_seed(7)).cpu())
            row[k] = (gen_perplexity(judge_model, texts, jvocab), unigram_entropy(texts))
        cells[name] = row; print(f"  {name}: " + ', '.join(f'{k}: {v[0]:.1f}/{v[1]:.2f}' for k, v in row.items()) + f"\n    e.g. {texts[0]!r}", flush=True)
    tr1, diag = two_stage(data, args.seq_len, len(vocab), 'diag', args, vocab=vocab)
    judge('diagonal (Euler)', ema_model(diag[1], tr1.model), 'euler')
    for loss in args.losses:
        tr, _ = two_stage(data, args.seq_len, len(vocab), loss, args, vocab=vocab, diag_state=None if loss == 'euclidean' else diag)
        judge(f'+{loss.upper()}' if loss != 'euclidean' else 'Euclidean flow map (L2 PSD)', tr.ema_model(), 'flowmap')
    data_row = cells.pop('held-out data')[0]
    md = [f"Shakespeare characters, L={args.seq_len}, {n} samples per cell; judge: the kit's AR character transformer "
          f"(data/judge_char). Held-out data: gen. perplexity {data_row[0]:.2f}, unigram entropy {data_row[1]:.3f}.", '',
          'Generative perplexity / unigram entropy (nats):', '', table(cells, args.nfes, lambda v: f'{v[0]:.1f} / {v[1]:.2f}')]
    return '\n'.join(md), cells


def run_ar(args):
    "Reference rows for the text table: held-out data and samples of the AR judge itself (L chars from BOS)."
    from flowmaps_nb.evaluate import load_corpus, split_corpus, load_judge, gen_perplexity, unigram_entropy, random_windows
    judge, jvocab = load_judge()
    _, held = split_corpus(load_corpus())
    real = random_windows(held, args.seq_len, args.n_eval, seed=0)
    ar = jvocab.decode_batch(judge.sample(args.n_eval, args.seq_len, generator=torch.Generator().manual_seed(7)))
    rows = {'held-out data': (gen_perplexity(judge, real, jvocab), unigram_entropy(real)),
            'AR judge samples (temperature 1)': (gen_perplexity(judge, ar, jvocab), unigram_entropy(ar))}
    md = [f'Reference rows, L={args.seq_len}, {args.n_eval} texts each (gen. perplexity / unigram entropy):', '',
          '| row | perplexity / entropy |', '|---|---|'] + [f'| {k} | {v[0]:.2f} / {v[1]:.3f} |' for k, v in rows.items()]
    md += ['', f'AR sample: {ar[0]!r}']
    return '\n'.join(md), rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument('part', choices=['chain', 'text', 'ar'])
    p.add_argument('--out', required=True)
    p.add_argument('--losses', default='psd,esd,lsd,euclidean')
    p.add_argument('--diag-steps', type=int); p.add_argument('--distill-steps', type=int)
    p.add_argument('--net'); p.add_argument('--d', type=int); p.add_argument('--layers', type=int); p.add_argument('--heads', type=int, default=4)
    p.add_argument('--batch-size', type=int); p.add_argument('--lr', type=float)
    p.add_argument('--max-freq', type=float, help='top frequency of the time features (network default: 30)')
    p.add_argument('--seq-len', type=int, default=64)
    p.add_argument('--n-eval', type=int)
    p.add_argument('--nfes', default='1,2,4,8,16,64')
    p.add_argument('--device', default='cpu'); p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=1); p.add_argument('--no-surgery', action='store_true')
    a = p.parse_args()
    defaults = {'chain': dict(diag_steps=8000, distill_steps=4000, net='seqmlp', d=256, layers=4, batch_size=256, lr=1e-3, n_eval=20000),
                'text': dict(diag_steps=2500, distill_steps=400, net='dit', d=128, layers=4, batch_size=64, lr=5e-4, n_eval=256),
                'ar': dict(n_eval=256)}[a.part]
    for k, v in defaults.items():
        if getattr(a, k) is None: setattr(a, k, v)
    a.losses = [l for l in a.losses.split(',') if l]; a.nfes = [int(k) for k in a.nfes.split(',')]
    torch.set_num_threads(a.threads)
    t0 = time.time()
    md, cells = {'chain': run_chain, 'text': run_text, 'ar': run_ar}[a.part](a)
    cmd = 'python tests/benchmarks/bench_dfm.py ' + ' '.join(sys.argv[1:])
    md = f"Command: `{cmd}` ({time.time() - t0:.0f}s, {a.device}, {a.threads} thread(s)); settings {json.dumps({k: v for k, v in vars(a).items() if k not in ('out',)})}\n\n{md}\n"
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True); (out / 'results.md').write_text(md)
    print('\n' + md)


if __name__ == '__main__':
    main()
