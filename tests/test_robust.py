"""Robustness of training runs: SIGKILL at random moments, then --resume, ends exactly where an uninterrupted run ends."""
import json, os, random, signal, subprocess, time
from pathlib import Path
import numpy as np
from conftest import BIN

ARGS = ['flow', '--data', 'moons', '--n-data', '2000', '--hidden', '16', '--depth', '1', '--batch-size', '32', '--loss', 'esd',
        '--seed', '1', '--ckpt-every', '5', '--log-every', '5', '--no-progress']
STEPS = 200
ENV = {**os.environ, 'OMP_NUM_THREADS': '1'}


def _cmd(out, resume):
    return [str(BIN / 'flowmaps_train'), *ARGS, '--steps', str(STEPS), '--out', str(out), *(['--resume'] if resume else [])]


def _step(out):
    from flowmaps_nb.train import latest_checkpoint
    ck = latest_checkpoint(out)
    return -1 if ck is None else int(ck.name.split('-')[1])


def _log(out):
    return [{k: v for k, v in json.loads(l).items() if k != 'time'} for l in (Path(out) / 'log.jsonl').read_text().splitlines()]


def test_sigkill_at_random_moments_then_resume_matches(tmp_path):
    import flowmaps_nb
    from safetensors.numpy import load_file
    rng, out, kills = random.Random(0), tmp_path / 'killed', []
    for attempt in range(3):
        before = _step(out)
        p = subprocess.Popen(_cmd(out, attempt > 0), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
        deadline = time.time() + 60
        while time.time() < deadline and _step(out) <= before and p.poll() is None: time.sleep(0.02)
        time.sleep(rng.uniform(0, 0.3))                         # somewhere in training or in a checkpoint write
        if p.poll() is not None: break                          # finished before the kill: nothing left to interrupt
        p.send_signal(signal.SIGKILL); p.wait()
        kills.append(_step(out))
        assert kills[-1] > before, p.stderr.read()[-2000:]
        x = flowmaps_nb.load(out).sample(8, nfe=2)                  # the newest checkpoint always loads
        assert x.shape == (8, 2) and np.isfinite(x.numpy()).all()
    print("killed after checkpoints", kills)
    assert len(kills) >= 2 and kills[-1] < STEPS, kills
    r = subprocess.run(_cmd(out, True), capture_output=True, text=True, env=ENV, timeout=120)
    assert r.returncode == 0 and f'at step {kills[-1]}' in r.stderr, r.stderr
    r = subprocess.run(_cmd(tmp_path / 'straight', False), capture_output=True, text=True, env=ENV, timeout=120)
    assert r.returncode == 0, r.stderr
    a, b = (load_file(d / f'ckpt-{STEPS:07d}' / 'model.safetensors') for d in (out, tmp_path / 'straight'))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert _log(out) == _log(tmp_path / 'straight')             # the loss curve, row by row
    assert not list(out.glob('.tmp*'))
