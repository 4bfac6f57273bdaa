"""End-to-end tests of the console scripts: train, sample, resume, interruption and bad input."""
import os, signal, subprocess, sys, time
from pathlib import Path
import numpy as np
import pytest
from conftest import BIN, run_cli

TINY = ['--hidden', '16', '--depth', '1', '--no-progress', '--batch-size', '64']


def test_train_sample_roundtrip(tmp_path):
    r = run_cli('flowmaps_train', 'flow', '--data', 'gmm', '--out', tmp_path / 'run', '--steps', '30', '--loss', 'psd', *TINY)
    assert r.returncode == 0, r.stderr
    assert 'trained flow/psd for 30 steps' in r.stdout
    for method, nfe in [('flowmap', 1), ('flowmap', 4), ('euler', 3), ('heun', 4)]:
        out = tmp_path / f'{method}{nfe}.npy'
        r = run_cli('flowmaps_sample', tmp_path / 'run', '--n', 50, '--nfe', nfe, '--method', method, '--out', out)
        assert r.returncode == 0, r.stderr
        x = np.load(out)
        assert x.shape == (50, 2) and np.isfinite(x).all()


def test_npy_data_and_images(tmp_path):
    "A user .npy of images trains the U-Net; samples come back in the data's shape."
    imgs = np.random.default_rng(0).normal(size=(64, 1, 8, 8)).astype(np.float32)
    np.save(tmp_path / 'imgs.npy', imgs)
    r = run_cli('flowmaps_train', 'flow', '--data', tmp_path / 'imgs.npy', '--out', tmp_path / 'run', '--steps', '3',
                '--base', '8', '--batch-size', '8', '--no-progress')
    assert r.returncode == 0, r.stderr
    r = run_cli('flowmaps_sample', tmp_path / 'run', '--n', 5, '--nfe', 2, '--out', tmp_path / 's.npy')
    assert r.returncode == 0, r.stderr
    assert np.load(tmp_path / 's.npy').shape == (5, 1, 8, 8)


@pytest.mark.parametrize('make, args, message', [
    (None, ['--data', '{tmp}/missing.npy'], 'data file not found'),
    (lambda p: np.save(p / 'flat.npy', np.arange(10.)), ['--data', '{tmp}/flat.npy'], 'expected an array [N, ...]'),
    (lambda p: np.save(p / 'nan.npy', np.array([[0., np.nan]] * 4)), ['--data', '{tmp}/nan.npy'], 'NaN'),
    (lambda p: np.save(p / 'odd.npy', np.zeros((4, 1, 7, 7), np.float32)), ['--data', '{tmp}/odd.npy'], 'even height and width'),
    (lambda p: (p / 'x.csv').write_text('1,2'), ['--data', '{tmp}/x.csv'], 'expected a .npy array file'),
    (None, ['--data', 'cifar10'], 'unknown dataset'),
    (None, ['--data', 'gmm', '--steps', '0'], '--steps must be positive'),
    (None, [], '--data is required'),
])
def test_train_bad_input(tmp_path, make, args, message):
    if make: make(tmp_path)
    args = [a.replace('{tmp}', str(tmp_path)) for a in args]
    r = run_cli('flowmaps_train', 'flow', '--out', tmp_path / 'run', *args, *TINY)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert message in r.stderr, r.stderr
    assert 'Traceback' not in r.stderr, r.stderr
    assert not (tmp_path / 'run' / 'latest').exists()


def test_missing_cuda_is_a_clear_error(tmp_path):
    if __import__('torch').cuda.is_available(): pytest.skip('a GPU is present')
    r = run_cli('flowmaps_train', 'flow', '--data', 'gmm', '--out', tmp_path / 'r', '--device', 'cuda', *TINY)
    assert r.returncode == 2 and 'CUDA is not available' in r.stderr and 'Traceback' not in r.stderr


def test_unknown_loss_is_rejected(tmp_path):
    r = run_cli('flowmaps_train', 'flow', '--data', 'gmm', '--out', tmp_path / 'r', '--loss', 'l2')
    assert r.returncode == 2 and "invalid choice: 'l2'" in r.stderr and 'Traceback' not in r.stderr


@pytest.mark.parametrize('setup, args, message', [
    (None, ['{tmp}/nope', '--out', '{tmp}/x.npy'], 'checkpoint folder not found'),
    (lambda p: (p / 'empty').mkdir(), ['{tmp}/empty', '--out', '{tmp}/x.npy'], 'no checkpoint found'),
    (lambda p: ((p / 'bad').mkdir(), (p / 'bad' / 'config.json').write_text('{oops')), ['{tmp}/bad', '--out', '{tmp}/x.npy'], 'not valid JSON'),
])
def test_sample_bad_input(tmp_path, setup, args, message):
    if setup: setup(tmp_path)
    r = run_cli('flowmaps_sample', *[a.replace('{tmp}', str(tmp_path)) for a in args])
    assert r.returncode == 2 and message in r.stderr and 'Traceback' not in r.stderr, r.stderr


def test_resume_is_exact(tmp_path):
    "20 steps + --resume to 40 gives bit-identical weights to 40 straight steps."
    common = ['--data', 'moons', '--loss', 'esd', '--ckpt-every', '20', '--seed', '3', *TINY]
    assert run_cli('flowmaps_train', 'flow', '--out', tmp_path / 'a', '--steps', '40', *common).returncode == 0
    assert run_cli('flowmaps_train', 'flow', '--out', tmp_path / 'b', '--steps', '20', *common).returncode == 0
    r = run_cli('flowmaps_train', 'flow', '--out', tmp_path / 'b', '--steps', '40', '--resume', '--no-progress')
    assert r.returncode == 0, r.stderr
    assert 'at step 20' in r.stderr
    from safetensors.numpy import load_file
    wa = load_file(tmp_path / 'a' / 'ckpt-0000040' / 'model.safetensors')
    wb = load_file(tmp_path / 'b' / 'ckpt-0000040' / 'model.safetensors')
    assert wa.keys() == wb.keys() and all(np.array_equal(wa[k], wb[k]) for k in wa)
    # without --resume an existing run is never overwritten
    r = run_cli('flowmaps_train', 'flow', '--data', 'moons', '--out', tmp_path / 'b', '--steps', '5', *TINY)
    assert r.returncode == 2 and 'already holds a checkpoint' in r.stderr


def test_kill_keeps_last_checkpoint_and_resume_finishes(tmp_path):
    "SIGKILL mid-run: the newest complete checkpoint loads, and --resume reaches the requested total."
    out = tmp_path / 'run'
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    p = subprocess.Popen([str(BIN / 'flowmaps_train'), 'flow', '--data', 'gmm', '--out', str(out), '--steps', '100000',
                          '--ckpt-every', '25', *TINY], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob('ckpt-*'))) < 2: time.sleep(0.2)
    p.send_signal(signal.SIGKILL); p.wait()
    import flowmaps_nb
    from flowmaps_nb.train import latest_checkpoint
    ck = latest_checkpoint(out)
    assert ck is not None
    step = int(ck.name.split('-')[1])
    assert step >= 25 and step % 25 == 0
    x = flowmaps_nb.load(out).sample(8, nfe=2)
    assert x.shape == (8, 2)
    r = run_cli('flowmaps_train', 'flow', '--out', out, '--steps', step + 10, '--resume', '--no-progress')
    assert r.returncode == 0, r.stderr
    assert latest_checkpoint(out).name == f'ckpt-{step + 10:07d}'
    assert not list(out.glob('.tmp*'))
