"""Train the shipped digit classifiers (reward models for steering) and write data/classifier_<name>/.

Usage: python data/make_classifier.py {digits,mnist,all} [--threads T]

`digits` trains on sklearn's 1,797 8x8 digits, `mnist` on the 10,000 shipped MNIST digits (data/mnist.npz).
Each run holds out 10% as a validation set (seeded permutation, seed 0), trains
`flowmaps_nb.classifier.DigitClassifier` with `train_classifier` (fixed seed, noise/blur augmentation), saves it
with `save_classifier` (model.safetensors + config.json), reloads it and prints the validation accuracy.
"""
import argparse, os, sys, time
from pathlib import Path
import torch
from flowmaps_nb.classifier import train_classifier, save_classifier, load_classifier, split_indices, accuracy
from flowmaps_nb.data import load_digits_tensor, load_mnist

HERE = Path(__file__).resolve().parent
# fixed recipes: every number that decides the weights is here
RECIPES = {
    'digits': dict(load=lambda: load_digits_tensor(labels=True),
                   train=dict(steps=1000, batch_size=128, lr=2e-3, seed=0, val_frac=0.1, noise_aug=True, channels=(16, 32, 64))),
    'mnist': dict(load=load_mnist,
                  train=dict(steps=2500, batch_size=128, lr=2e-3, seed=0, val_frac=0.1, noise_aug=True, channels=(16, 32, 64))),
}


def make(name: str, threads: int, command: str):
    r = RECIPES[name]
    images, labels = r['load']()
    print(f"{name}: {len(images)} images {tuple(images.shape[1:])}, {r['train']['steps']} steps on {threads} thread(s)", flush=True)
    t0 = time.time()
    model, metrics = train_classifier(images, labels, device='cpu', **r['train'])
    metrics['threads'] = threads
    out = save_classifier(model, HERE / f'classifier_{name}', metrics, command=command)
    clf = load_classifier(out)                                   # the saved files reproduce the model
    _, va = split_indices(len(images), metrics['val_frac'], metrics['seed'])
    assert accuracy(clf, images[va], labels[va]) == metrics['val_accuracy']
    n_params = sum(p.numel() for p in clf.parameters())
    size = (out / 'model.safetensors').stat().st_size
    print(f"{name}: val accuracy {metrics['val_accuracy']:.4f} ({metrics['n_val']} held out), train accuracy "
          f"{metrics['train_accuracy']:.4f}; trained in {metrics['train_seconds']:.1f}s ({time.time() - t0:.1f}s in all); "
          f"{n_params:,} params, model.safetensors {size:,} bytes -> {out}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('which', choices=[*RECIPES, 'all'])
    ap.add_argument('--threads', type=int, default=int(os.environ.get('OMP_NUM_THREADS') or 1))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    omp = os.environ.get('OMP_NUM_THREADS')
    command = (f'OMP_NUM_THREADS={omp} ' if omp else '') + 'python data/make_classifier.py ' + ' '.join(sys.argv[1:])
    for name in (list(RECIPES) if a.which == 'all' else [a.which]): make(name, a.threads, command)


if __name__ == '__main__':
    main()
