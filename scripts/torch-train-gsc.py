"""PyTorch side-by-side reference: the CRNN of gsc-dev's REFERENCE.md, trained on a Speech Commands
folder with the reference recipe, to measure how much its best validation accuracy moves with the
seed. Not part of the test suite; needs Debian's python3-torch and python3-torchaudio.

    /usr/bin/python3 scripts/torch-train-gsc.py [dataDir] [--seed 0] [--epochs 60] [--threads 2] [--out results.json]

Data: every clip of the v2-12 label set (10 words, `_silence_/` as _silence_, the other words as
_unknown_), validation = validation_list.txt, training = the rest. Front end: torchaudio
MelSpectrogram(16000, n_fft=480, win_length=480, hop_length=160, n_mels=40), then ln(x + 1e-6).
Recipe (REFERENCE.md): batch 100, Adam lr 3e-3 with weight decay 1e-4, linear warm-up over 5
epochs then cosine (per step), time shift +-100 ms with zero fill, background noise mixed with
probability 0.8 at gain U(0, 0.1); best epoch by validation accuracy.
"""
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn as nn
import torchaudio

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench", "lib"))
from torch_crnn import Crnn  # noqa: E402  (the reference model, shared with bench/crnn-inference.ts)

WORDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
LABELS = WORDS + ["_silence_", "_unknown_"]
SAMPLES = 16000


def arg(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


positional = [a for i, a in enumerate(sys.argv[1:], 1) if not a.startswith("--") and not sys.argv[i - 1].startswith("--")]
data_dir = positional[0] if positional else "/tmp/gsc-dev-wav-datahelper"
seed = int(arg("--seed", "0"))
epochs = int(arg("--epochs", "60"))
out_path = arg("--out", None)
torch.set_num_threads(int(arg("--threads", "2")))
torch.manual_seed(seed)
random.seed(seed)


def load(path):
    wave, rate = torchaudio.load(path)
    assert rate == SAMPLES
    wave = wave[0, :SAMPLES]
    return torch.nn.functional.pad(wave, (0, SAMPLES - wave.numel()))


validation = set(open(os.path.join(data_dir, "validation_list.txt")).read().split())
train_x, train_y, val_x, val_y = [], [], [], []
for folder in sorted(os.listdir(data_dir)):
    full = os.path.join(data_dir, folder)
    if not os.path.isdir(full) or folder == "_background_noise_":
        continue
    label = LABELS.index(folder) if folder in LABELS else LABELS.index("_unknown_")
    for name in sorted(os.listdir(full)):
        if not name.endswith(".wav"):
            continue
        rel = f"{folder}/{name}"
        (val_x if rel in validation else train_x).append(load(os.path.join(full, name)))
        (val_y if rel in validation else train_y).append(label)
noise_dir = os.path.join(data_dir, "_background_noise_")
noises = [torchaudio.load(os.path.join(noise_dir, n))[0][0] for n in sorted(os.listdir(noise_dir)) if n.endswith(".wav")]
train_x, val_x = torch.stack(train_x), torch.stack(val_x)
train_y, val_y = torch.tensor(train_y), torch.tensor(val_y)

mel = torchaudio.transforms.MelSpectrogram(16000, n_fft=480, win_length=480, hop_length=160, n_mels=40)


def features(waves):
    return torch.log(mel(waves) + 1e-6).unsqueeze(1)  # [b, 1, 40 mels, 101 frames]


def augment(waves):
    out = torch.zeros_like(waves)
    for i in range(waves.shape[0]):
        shift = random.randint(-1600, 1600)
        if shift >= 0:
            out[i, shift:] = waves[i, : SAMPLES - shift]
        else:
            out[i, :shift] = waves[i, -shift:]
        if random.random() < 0.8:
            noise = random.choice(noises)
            start = random.randint(0, noise.numel() - SAMPLES)
            out[i] += random.uniform(0, 0.1) * noise[start : start + SAMPLES]
    return out


model = Crnn()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
batch = 100
steps_per_epoch = math.ceil(len(train_y) / batch)
total, warmup = epochs * steps_per_epoch, 5 * steps_per_epoch


def rate(step):
    if step < warmup:
        return 3e-3 * (step + 1) / warmup
    return 3e-3 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


with torch.no_grad():
    val_features = features(val_x)
history, best, step, started = [], 0.0, 0, time.time()
for epoch in range(1, epochs + 1):
    model.train()
    order = torch.randperm(len(train_y))
    for k in range(0, len(order), batch):
        idx = order[k : k + batch]
        for group in optimizer.param_groups:
            group["lr"] = rate(step)
        with torch.no_grad():
            x = features(augment(train_x[idx]))
        loss = nn.functional.cross_entropy(model(x), train_y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step += 1
    model.eval()
    with torch.no_grad():
        accuracy = (model(val_features).argmax(1) == val_y).float().mean().item()
    best = max(best, accuracy)
    history.append({"epoch": epoch, "validationAccuracy": accuracy})
    print(json.dumps({"epoch": epoch, "validationAccuracy": accuracy, "seconds": round(time.time() - started, 1)}), flush=True)

result = {
    "model": "crnn (PyTorch reference definition)",
    "seed": seed,
    "epochs": epochs,
    "train": len(train_y),
    "validation": len(val_y),
    "parameters": sum(p.numel() for p in model.parameters()),
    "bestValidationAccuracy": best,
    "bestEpoch": max(history, key=lambda h: h["validationAccuracy"])["epoch"],
    "trainingSeconds": round(time.time() - started),
    "torch": torch.__version__,
    "history": history,
}
print(json.dumps({k: v for k, v in result.items() if k != "history"}))
if out_path:
    with open(out_path, "w") as f:
        json.dump(result, f, indent=2)
