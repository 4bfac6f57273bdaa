"""Every shipped config parses into flowmaps_train options and builds its model (the big one on the meta device)."""
import json
from pathlib import Path
import pytest
import torch
from flowmaps_nb.cli import train_parser, expand_config, _run, _train
from flowmaps_nb.data import text_sequences
from flowmaps_nb.discrete import DiscreteFlowMap
from flowmaps_nb.flowmap import FlowMap

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted((ROOT / 'configs').glob('*.json'))


def dit_params(d, layers, K, time_dim=64):
    "Parameters of the DiT counted by hand: per block qkv, proj, MLP (ratio 4) and adaLN (6d); input, output, final adaLN, time MLP on (s, t − s) features."
    block = (3 * d * d + 3 * d) + (d * d + d) + (4 * d * d + 4 * d) + (4 * d * d + d) + (6 * d * d + 6 * d)
    return layers * block + (K * d + d) + (2 * d * d + 2 * d) + (d * K + K) + (2 * time_dim * d + d) + (d * d + d)


def test_configs_are_shipped():
    assert {c.name for c in CONFIGS} >= {'shakespeare_cpu.json', 'shakespeare_gpu.json', 'lm1b_dit170m.json', 'gmm_flow.json'}


@pytest.mark.parametrize('cfg', CONFIGS, ids=lambda p: p.name)
def test_config_parses_and_builds(cfg):
    p = train_parser()
    a = p.parse_args(expand_config(['--config', str(cfg), '--out', 'unused'], p))
    raw = json.loads(cfg.read_text())
    assert a.kind == raw['kind']
    for k, v in raw.items():
        if not k.startswith('_') and k != 'kind': assert getattr(a, k.replace('-', '_')) == v, k
    if a.kind == 'dfm':
        K = len(text_sequences(ROOT / a.data, a.seq_len)[1]) if (ROOT / a.data).exists() else 100   # the corpus' characters
        assert a.batch_size % 8 == 0                                       # splits over 8 processes
        with torch.device('meta'):
            m = DiscreteFlowMap.for_data(a.seq_len, K, net=a.net, d=a.d, layers=a.layers, heads=a.heads, lam=a.lam)
        n = sum(q.numel() for q in m.parameters())
        assert n == dit_params(a.d, a.layers, K)
        if 'lm1b' in cfg.name: assert 160e6 < n < 180e6 and a.seq_len == 128, n
    else:
        with torch.device('meta'): m = FlowMap.for_data((2,), hidden=a.hidden, depth=a.depth)
        assert sum(q.numel() for q in m.parameters()) > 0


def test_toy_config_runs_with_overrides(tmp_path, capsys):
    "The Shakespeare config trains as shipped, shrunk from the command line (command-line options win)."
    argv = ['--config', str(ROOT / 'configs' / 'shakespeare_cpu.json'), '--out', str(tmp_path / 'run'), '--diag-steps', '2', '--steps', '2',
            '--seq-len', '16', '--d', '16', '--layers', '1', '--batch-size', '4', '--no-progress', '--data', str(ROOT / 'data' / 'shakespeare.txt')]
    assert _run(_train, [*argv, '--accum', '2', '--amp', 'bf16', '--grad-checkpoint']) == 0
    assert 'trained dfm/psd for 2 steps' in capsys.readouterr().out
    from flowmaps_nb.train import read_config
    for stage in ('run/diag', 'run'):                                      # both stages got the scale options
        args = read_config(tmp_path / stage)[1]['train']
        assert (args['shards'], args['amp'], args['grad_checkpoint']) == (2, 'bf16', True), args
    assert _run(_train, ['dfm', '--out', str(tmp_path / 'run'), '--steps', '3', '--resume', '--no-progress']) == 0
    assert 'trained dfm/psd for 3 steps' in capsys.readouterr().out
    assert read_config(tmp_path / 'run')[1]['train']['shards'] == 2     # resumed with the recorded shards (accum 2)
