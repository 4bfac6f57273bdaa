"""Data-parallel training with torchrun on CPU (gloo): ranks stay identical and match one process with the same shards.

Run as a pytest file it launches `torchrun --nproc_per_node 2` on itself (the `__main__` part below is the worker)
and on the `flowmaps_train` console script. The reference for "same global batch" is one process with `accum=2`:
the trainer's random stream depends on (seed, batch size, shards = processes × accum), not on how the shards are
spread over processes (see nbs/07_train.ipynb), so the two must agree to float rounding.
"""
import os, shutil, subprocess, sys
from pathlib import Path
import pytest
import torch

HERE = Path(__file__).resolve()
BIN = Path(sys.executable).parent
STEPS = 6


def setups():
    "name -> (model builder, data, trainer options): a JVP loss on an MLP and PCGrad on a DiT."
    from flowmaps_nb.flowmap import FlowMap
    from flowmaps_nb.discrete import DiscreteFlowMap
    g = torch.Generator().manual_seed(0)
    return {
        'flow_esd': (lambda: FlowMap.for_data((2,), hidden=16, depth=1, time_dim=8), torch.randn(256, 2, generator=g),
                     dict(loss='esd', batch_size=8, lr=1e-2)),
        'dfm_psd': (lambda: DiscreteFlowMap.for_data(6, 4, d=16, layers=1, heads=2, time_dim=8), torch.randint(4, (64, 6), generator=g),
                    dict(loss='psd', batch_size=4, lr=1e-2, grad_surgery=True)),
    }


def train(name, out=None, **kw):
    "A fresh trainer for setup `name` (same init on every rank), fitted to STEPS."
    from flowmaps_nb.train import Trainer
    build, data, opts = setups()[name]
    torch.manual_seed(0)
    tr = Trainer(build(), data, progress=False, seed=5, log_every=1, ckpt_every=3, out=out, **opts, **kw)
    tr.fit(STEPS)
    return tr


def torchrun(*args, timeout=240):
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', *map(str, args)],
                       capture_output=True, text=True, timeout=timeout, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


@pytest.fixture(scope='module')
def ddp_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('ddp')
    torchrun(HERE, out)
    return out


@pytest.mark.parametrize('name', ['flow_esd', 'dfm_psd'])
def test_ranks_agree_and_match_one_process(ddp_run, name):
    from safetensors.torch import load_file
    r0, r1 = (load_file(ddp_run / f'{name}-rank{r}.safetensors') for r in (0, 1))
    for k in r0: assert torch.equal(r0[k], r1[k]), k                     # (a) ranks identical
    single = train(name, accum=2).model.state_dict()                       # (b) one process, same shards
    plain = train(name).model.state_dict()                                 # one shard: another noise stream
    for k in r0: torch.testing.assert_close(r0[k], single[k], rtol=1e-5, atol=1e-5)
    assert max((r0[k] - plain[k]).abs().max() for k in r0) > 1e-4          # the comparison can tell runs apart


def test_resume_on_one_process(ddp_run, tmp_path):
    "Step-3 checkpoint of the 2-process run, resumed by one process (accum 2 chosen from the checkpoint), ends where the 2 processes ended."
    from safetensors.torch import load_file
    from flowmaps_nb.train import Trainer
    shutil.copytree(ddp_run / 'flow_esd' / 'ckpt-0000003', tmp_path / 'ckpt-0000003')
    (tmp_path / 'latest').write_text('ckpt-0000003')
    tr = Trainer.resume(tmp_path, setups()['flow_esd'][1], progress=False)
    assert (tr.step, tr.accum, tr.world) == (3, 2, 1)
    tr.fit(STEPS)
    ref = load_file(ddp_run / 'flow_esd-rank0.safetensors')
    for k, v in tr.model.state_dict().items(): torch.testing.assert_close(v, ref[k], rtol=1e-5, atol=1e-5)
    logged = [l for l in (ddp_run / 'flow_esd' / 'log.jsonl').read_text().splitlines()]
    assert len(logged) == STEPS                                            # rank 0 alone logs, once per step


def test_cli_under_torchrun(tmp_path):
    "`torchrun ... $(which flowmaps_train) flow ...` works and equals `flowmaps_train ... --accum 2` in one process."
    from safetensors.torch import load_file
    args = ['flow', '--data', 'moons', '--n-data', '500', '--hidden', '16', '--depth', '1', '--batch-size', '16',
            '--steps', '4', '--loss', 'lsd', '--no-progress', '--seed', '2']
    r = torchrun(BIN / 'flowmaps_train', *args, '--out', tmp_path / 'two')
    assert r.stdout.count('trained flow/lsd for 4 steps') == 1, r.stdout       # rank 0 alone reports
    one = subprocess.run([str(BIN / 'flowmaps_train'), *args, '--accum', '2', '--out', str(tmp_path / 'one')],
                         capture_output=True, text=True, env={**os.environ, 'OMP_NUM_THREADS': '1'}, timeout=120)
    assert one.returncode == 0, one.stderr
    a, b = (load_file(tmp_path / d / 'ckpt-0000004' / 'model.safetensors') for d in ('two', 'one'))
    for k in a: torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-5)


if __name__ == '__main__':          # the torchrun worker
    from safetensors.torch import save_file
    out = Path(sys.argv[1])
    for name in setups():
        tr = train(name, out=out / name if name == 'flow_esd' else None)
        assert tr.world == 2 and tr.shards == 2
        save_file({k: v.contiguous() for k, v in tr.model.state_dict().items()}, out / f'{name}-rank{tr.rank}.safetensors')
    torch.distributed.destroy_process_group()
