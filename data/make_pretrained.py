"""Copy the EMA weights of trained runs into data/pretrained/ (weights + config only: what the tours load).

  flowmaps_train mfm --data gmm3 --out runs/mfm_gmm3 --steps 20000 --hidden 256 --depth 4 --ckpt-every 1000   # ~25 min, 1 CPU core
  flowmaps_train mfm --data digits --out runs/mfm_digits --steps 6000 --base 32 --batch-size 128 --lr 1e-3 --ckpt-every 500
  python data/make_pretrained.py runs/mfm_gmm3:mfm_gmm3 runs/mfm_digits:mfm_digits
  flowmaps_train mdfm --data runs/shakespeare_train.txt --seq-len 32 --out runs/mdfm_shakes --diag-steps 6000 --steps 1500 \
      --batch-size 64 --d 128 --layers 4 --heads 4 --ckpt-every 500           # ~60 min, 1 CPU thread (see data/README.md)
  python data/make_pretrained.py runs/mdfm_shakes:mdfm_shakespeare runs/mdfm_shakes/diag:mdfm_shakespeare_diag
"""
import shutil, sys
from pathlib import Path
from flowmaps_nb.train import load, read_config, save_checkpoint

root = Path(__file__).resolve().parent / 'pretrained'
for spec in sys.argv[1:]:
    src, name = spec.split(':')
    ck, cfg = read_config(src)
    model = load(src, ema=True)
    dest = root / name
    if dest.exists(): shutil.rmtree(dest)
    path = save_checkpoint(dest, model, cfg['step'], train={'source': str(src), 'train': cfg.get('train', {})})
    print(f"{src} (step {cfg['step']}) -> {path}")
