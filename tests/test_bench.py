"""flowmaps_bench subcommands and the GPU check script at tiny sizes (numbers meaningless; the plumbing must work)."""
import importlib.util, os, subprocess
from conftest import BIN, ROOT
from flowmaps_nb.bench import _bench
from flowmaps_nb.cli import _run

TINY = ['--d', '16', '--layers', '1', '--heads', '2', '--min-time', '0', '--device', 'cpu']


def test_throughput_console_script():
    r = subprocess.run([str(BIN / 'flowmaps_bench'), 'throughput', '--seq-len', '8', '16', '--batch', '2', *TINY],
                       capture_output=True, text=True, timeout=120, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert sum(l.startswith('| ') for l in lines) == 5 and 'L=16 seq/s' in r.stdout
    assert any(l.startswith('one-step DFM / AR = ') and '(L=8)' in l and '(L=16)' in l for l in lines)
    r = subprocess.run([str(BIN / 'flowmaps_bench'), 'throughput', '--seq-len', '-1'], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and '--seq-len must be positive' in r.stderr and 'Traceback' not in r.stderr


def test_losses_and_steering(capsys):
    assert _run(_bench, ['losses', '--seq-len', '8', '--tokens', '16', '--vocab', '5', *TINY]) == 0
    out = capsys.readouterr().out
    assert all(f'| {k} |' in out for k in ('diag', 'psd', 'lsd', 'esd')) and 'activations MB' in out
    assert _run(_bench, ['steering', '--n', '4', '--steps', '2', '--n-mc', '1', '2', '--bon', '2', '--device', 'cpu']) == 0
    out = capsys.readouterr().out
    assert '| mfm-g | 2 |' in out and '| best-of-n | 2 |' in out


def test_gpu_check_smoke_on_cpu(capsys):
    spec = importlib.util.spec_from_file_location('gpu_check', ROOT / 'tests' / 'benchmarks' / 'gpu_check.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    assert mod.main(['--device', 'cpu', '--tiny']) == 0
    out = capsys.readouterr().out
    assert 'CPU vs device: largest relative difference' in out and '| 2 train step | esd |' in out and 'GFLOP/step' in out
