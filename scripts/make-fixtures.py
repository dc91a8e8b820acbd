#!/usr/bin/env python3
"""Generate the torchaudio parity fixtures used by test/features/parity.test.ts.

Run with `npm run fixtures` (the system python with torch + torchaudio). Every reference is
computed in float64 so that the fixture is the exact answer up to float64 rounding; the
tests then measure how far the TypeScript front end is from it.

Output (deterministic: the same bytes on every run with the same torch/torchaudio):

  test/fixtures/parity-signals.json      the two input signals (float32, exactly what TS reads)
  test/fixtures/parity-windows.json      analysis windows
  test/fixtures/parity-fbanks.json       mel filterbanks, sparse (nonzero flat indices + values)
  test/fixtures/parity-spectrogram.json  power / magnitude spectrograms
  test/fixtures/parity-mel.json          mel power, ln(mel + 1e-6), dB (top_db 80)
  test/fixtures/parity-mfcc.json         MFCCs

Arrays are stored as {"dtype": "f32"|"f64"|"i32", "shape": [...], "b64": base64 of the
little-endian bytes}. Time-frequency outputs are transposed to frame-major [frames, bins],
the layout of the TypeScript `Spectrogram`.
"""

import base64
import json
import os
import sys

import numpy as np
import torch
import torchaudio
import torchaudio.functional as AF
import torchaudio.transforms as AT

torch.set_default_dtype(torch.float64)
torch.manual_seed(0)

SAMPLE_RATE = 16000
HOP = 160
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures")


def enc(array, dtype):
    """Encode a numpy/torch array as base64 of little-endian bytes with its shape."""
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().numpy()
    np_dtype = {"f32": "<f4", "f64": "<f8", "i32": "<i4"}[dtype]
    a = np.ascontiguousarray(np.asarray(array).astype(np_dtype))
    return {"dtype": dtype, "shape": list(a.shape), "b64": base64.b64encode(a.tobytes()).decode("ascii")}


def meta():
    return {
        "generator": "scripts/make-fixtures.py",
        "torch": torch.__version__,
        "torchaudio": torchaudio.__version__,
        "numpy": np.__version__,
        "python": "%d.%d.%d" % sys.version_info[:3],
        "dtype": "float64 references; signals float32",
    }


def write(name, payload):
    path = os.path.join(OUT_DIR, name)
    text = json.dumps(payload, indent=1, ensure_ascii=True) + "\n"
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write(text)
    print("%-28s %8.1f kB" % (name, len(text) / 1024))
    return len(text)


# --------------------------------------------------------------------------------------------
# Signals. Lengths are deliberately not multiples of the hop so that the last frame and the
# right-hand padding are exercised.


def signal_tones():
    """Sines plus a linear chirp 100 Hz -> 7 kHz, 8123 samples (~0.51 s)."""
    n = 8123
    t = np.arange(n, dtype=np.float64) / SAMPLE_RATE
    dur = n / SAMPLE_RATE
    f0, f1 = 100.0, 7000.0
    x = (
        0.30 * np.sin(2 * np.pi * 440.0 * t)
        + 0.20 * np.sin(2 * np.pi * 1250.0 * t + 0.3)
        + 0.08 * np.sin(2 * np.pi * 3100.0 * t + 1.1)
        + 0.15 * np.sin(2 * np.pi * (f0 * t + 0.5 * (f1 - f0) / dur * t * t))
    )
    return x.astype(np.float32)


def signal_recording():
    """Recording-shaped: exact silence, enveloped noise bursts, quiet gaps, a tone burst.

    7937 samples (~0.50 s), fixed seed. Segments (sample ranges):
      [0, 1200)     exact zeros (leading silence, so reflect padding sees zeros too)
      [1200, 3000)  white noise, raised-cosine envelope, peak 0.3
      [3000, 3900)  very quiet noise (std 1e-5)
      [3900, 5600)  1 kHz + 2.3 kHz tone burst with Hann envelope, peak ~0.4
      [5600, 6400)  exact zeros (a gap longer than the longest window)
      [6400, 7500)  low-passed noise, fast attack, exponential decay
      [7500, 7937)  exact zeros (trailing silence)
    """
    rng = np.random.RandomState(20240611)
    n = 7937
    x = np.zeros(n, dtype=np.float64)

    a, b = 1200, 3000
    m = b - a
    env = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(m) / (m - 1))
    x[a:b] = 0.3 * env * rng.standard_normal(m)

    a, b = 3000, 3900
    x[a:b] = 1e-5 * rng.standard_normal(b - a)

    a, b = 3900, 5600
    m = b - a
    tt = np.arange(m) / SAMPLE_RATE
    env = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(m) / (m - 1))
    x[a:b] = env * (0.3 * np.sin(2 * np.pi * 1000.0 * tt) + 0.1 * np.sin(2 * np.pi * 2300.0 * tt + 0.7))
    x[a:b] += 0.002 * rng.standard_normal(m)

    a, b = 6400, 7500
    m = b - a
    noise = rng.standard_normal(m + 4)
    lp = (noise[:-4] + noise[1:-3] + noise[2:-2] + noise[3:-1] + noise[4:]) / 5.0
    env = np.minimum(np.arange(m) / 40.0, 1.0) * np.exp(-np.arange(m) / 300.0)
    x[a:b] = 0.5 * env * lp

    return x.astype(np.float32)


SIGNALS = {"tones": signal_tones(), "recording": signal_recording()}


def as_torch(sig):
    return torch.from_numpy(sig.astype(np.float64))


# --------------------------------------------------------------------------------------------
# Windows.

WINDOW_FNS = {
    "hann": lambda n: torch.hann_window(n, periodic=True, dtype=torch.float64),
    "hann-symmetric": lambda n: torch.hann_window(n, periodic=False, dtype=torch.float64),
    "hamming": lambda n: torch.hamming_window(n, periodic=True, dtype=torch.float64),
    "hamming-symmetric": lambda n: torch.hamming_window(n, periodic=False, dtype=torch.float64),
    # Kaldi's povey window as in torchaudio.compliance.kaldi: symmetric Hann to the 0.85.
    "povey": lambda n: torch.hann_window(n, periodic=False, dtype=torch.float64).pow(0.85),
    "rectangular": lambda n: torch.ones(n, dtype=torch.float64),
}


def make_windows():
    out = []
    for name, fn in WINDOW_FNS.items():
        for length in (1, 2, 7, 400, 401, 512):
            out.append({"name": name, "length": length, "data": enc(fn(length), "f64")})
    return out


# --------------------------------------------------------------------------------------------
# Grid.

# (nFft, winLength)
WIN_CASES = [(400, 400), (480, 480), (512, 512), (512, 400)]
# (center, padMode)
PAD_CASES = [(True, "reflect"), (True, "constant"), (False, "reflect")]
MEL_SCALES = ["htk", "slaney"]
NORMS = ["slaney", None]
F_MAXES = [7600.0, 8000.0]


def make_fbanks():
    out = []
    cases = []
    for n_fft in sorted({c[0] for c in WIN_CASES}):
        for mel_scale in MEL_SCALES:
            for norm in NORMS:
                for f_max in F_MAXES:
                    cases.append((n_fft, 40, 0.0, f_max, mel_scale, norm))
    cases += [
        (512, 40, 20.0, 7600.0, "htk", None),
        (512, 40, 20.0, 8000.0, "slaney", "slaney"),
        (400, 64, 0.0, 8000.0, "slaney", "slaney"),
        (512, 80, 20.0, 7600.0, "htk", "slaney"),
        (512, 80, 0.0, 8000.0, "htk", None),
    ]
    for n_fft, n_mels, f_min, f_max, mel_scale, norm in cases:
        n_freqs = n_fft // 2 + 1
        fb = AF.melscale_fbanks(n_freqs, f_min, f_max, n_mels, SAMPLE_RATE, norm, mel_scale)
        assert fb.dtype == torch.float64 and tuple(fb.shape) == (n_freqs, n_mels)
        flat = fb.reshape(-1).numpy()
        nz = np.nonzero(flat != 0.0)[0]
        out.append(
            {
                "sampleRate": SAMPLE_RATE,
                "nFft": n_fft,
                "nFreqs": n_freqs,
                "nMels": n_mels,
                "fMin": f_min,
                "fMax": f_max,
                "melScale": mel_scale,
                "norm": norm,
                # [nFreqs, nMels] row-major; everything not listed is exactly zero.
                "shape": [n_freqs, n_mels],
                "nonzeroIndex": enc(nz, "i32"),
                "nonzeroValue": enc(flat[nz], "f64"),
            }
        )
    return out


def frame_major(t):
    """torchaudio (bins, frames) -> (frames, bins)."""
    assert t.dim() == 2
    return t.transpose(0, 1).contiguous()


def make_spectrograms():
    cases = []
    for n_fft, win in WIN_CASES:
        for center, pad_mode in PAD_CASES:
            cases.append(dict(nFft=n_fft, winLength=win, hopLength=HOP, window="hann", center=center, padMode=pad_mode, power=2))
    cases += [
        dict(nFft=512, winLength=400, hopLength=HOP, window="hann", center=True, padMode="reflect", power=1),
        dict(nFft=400, winLength=400, hopLength=HOP, window="hann", center=False, padMode="reflect", power=1),
        dict(nFft=400, winLength=400, hopLength=HOP, window="hamming", center=True, padMode="reflect", power=2),
        dict(nFft=512, winLength=400, hopLength=HOP, window="povey", center=True, padMode="constant", power=2),
        dict(nFft=512, winLength=512, hopLength=128, window="hann", center=True, padMode="reflect", power=2),
    ]
    out = []
    for c in cases:
        tr = AT.Spectrogram(
            n_fft=c["nFft"],
            win_length=c["winLength"],
            hop_length=c["hopLength"],
            window_fn=WINDOW_FNS[c["window"]],
            power=float(c["power"]),
            center=c["center"],
            pad_mode=c["padMode"],
        )
        assert tr.window.dtype == torch.float64
        outputs = {}
        for sig_name, sig in SIGNALS.items():
            spec = tr(as_torch(sig))
            assert spec.dtype == torch.float64
            if sig_name == "recording" and c["center"] and c["padMode"] == "constant":
                # The recording starts and ends in silence longer than nFft/2, so constant and
                # reflect padding must agree exactly; store only the reflect result.
                tr_reflect = AT.Spectrogram(
                    n_fft=c["nFft"], win_length=c["winLength"], hop_length=c["hopLength"],
                    window_fn=WINDOW_FNS[c["window"]], power=float(c["power"]), center=True, pad_mode="reflect",
                )
                assert torch.equal(spec, tr_reflect(as_torch(sig)))
                continue
            outputs[sig_name] = enc(frame_major(spec), "f32")
        out.append({"config": c, "outputs": outputs})
    return out


def mel_kwargs(c):
    return dict(
        n_fft=c["nFft"],
        win_length=c["winLength"],
        hop_length=c["hopLength"],
        f_min=c["fMin"],
        f_max=c["fMax"],
        n_mels=c["nMels"],
        power=2.0,
        center=c["center"],
        pad_mode=c["padMode"],
        norm=c["norm"],
        mel_scale=c["melScale"],
    )


def make_mel():
    cases = []
    for n_fft, win in WIN_CASES:
        for mel_scale in MEL_SCALES:
            for norm in NORMS:
                for center, pad_mode in PAD_CASES:
                    for f_max in F_MAXES:
                        cases.append(
                            dict(
                                sampleRate=SAMPLE_RATE, nFft=n_fft, winLength=win, hopLength=HOP, nMels=40,
                                fMin=0.0, fMax=f_max, center=center, padMode=pad_mode, power=2,
                                melScale=mel_scale, norm=norm,
                            )
                        )
    cases += [
        dict(sampleRate=SAMPLE_RATE, nFft=512, winLength=400, hopLength=HOP, nMels=40, fMin=20.0, fMax=7600.0,
             center=True, padMode="reflect", power=2, melScale="htk", norm=None),
        dict(sampleRate=SAMPLE_RATE, nFft=512, winLength=512, hopLength=HOP, nMels=40, fMin=20.0, fMax=8000.0,
             center=False, padMode="reflect", power=2, melScale="slaney", norm="slaney"),
        dict(sampleRate=SAMPLE_RATE, nFft=400, winLength=400, hopLength=HOP, nMels=64, fMin=0.0, fMax=8000.0,
             center=True, padMode="reflect", power=2, melScale="slaney", norm="slaney"),
        dict(sampleRate=SAMPLE_RATE, nFft=512, winLength=400, hopLength=HOP, nMels=80, fMin=20.0, fMax=7600.0,
             center=True, padMode="constant", power=2, melScale="htk", norm="slaney"),
    ]
    to_db = AT.AmplitudeToDB(stype="power", top_db=80.0)
    out = []
    for i, c in enumerate(cases):
        tr = AT.MelSpectrogram(sample_rate=SAMPLE_RATE, **mel_kwargs(c))
        assert tr.spectrogram.window.dtype == torch.float64 and tr.mel_scale.fb.dtype == torch.float64
        extra = i >= 96
        outputs = {}
        for sig_name, sig in SIGNALS.items():
            kinds = mel_outputs(sig_name, c, extra)
            if not kinds:
                continue
            mel = tr(as_torch(sig))
            assert mel.dtype == torch.float64
            entry = {}
            if "mel" in kinds:
                entry["mel"] = enc(frame_major(mel), "f32")
            if "logMel" in kinds:
                entry["logMel"] = enc(frame_major(torch.log(mel + 1e-6)), "f32")
            if "db" in kinds:
                entry["db"] = enc(frame_major(to_db(mel)), "f32")
            outputs[sig_name] = entry
        out.append({"config": c, "outputs": outputs})
    return out


def mel_outputs(sig_name, c, extra):
    """Which outputs to store for a (signal, config) pair; the size budget is ~6 MB in total.

    - tones: mel power on every config (its edges are non-zero, so it is the signal that tells
      reflect from constant padding); ln and dB on the centre/reflect, fMax 8000 configs and the
      extras.
    - recording: it starts and ends with more than nFft/2 exact zeros, so reflect and constant
      padding give identical results (asserted in make_spectrograms); the constant-pad configs
      are skipped. mel power and dB on all others (dB is where exact-zero frames and the top_db
      clamp matter), ln on those with fMax 8000 and the extras.
    """
    if extra:
        return ("mel", "logMel", "db")
    if sig_name == "tones":
        if c["center"] and c["padMode"] == "reflect" and c["fMax"] == 8000.0:
            return ("mel", "logMel", "db")
        return ("mel",)
    if c["center"] and c["padMode"] == "constant":
        return ()
    if c["fMax"] == 8000.0:
        return ("mel", "logMel", "db")
    return ("mel", "db")


def make_mfcc():
    base = dict(sampleRate=SAMPLE_RATE, nMfcc=40, hopLength=HOP, nMels=40, fMin=0.0, power=2, logMels=False, topDb=80.0)
    cases = [
        dict(base, nFft=400, winLength=400, fMax=8000.0, center=True, padMode="reflect", melScale="htk", norm=None),
        dict(base, nFft=512, winLength=400, fMin=20.0, fMax=7600.0, center=True, padMode="constant", melScale="slaney", norm="slaney"),
        dict(base, nFft=480, winLength=480, fMax=8000.0, center=False, padMode="reflect", melScale="htk", norm="slaney"),
        dict(base, nFft=512, winLength=512, fMax=7600.0, center=True, padMode="reflect", melScale="slaney", norm=None),
        dict(base, nFft=512, winLength=400, nMels=64, fMax=8000.0, center=True, padMode="reflect", melScale="htk", norm=None),
        dict(base, nFft=400, winLength=400, fMax=8000.0, center=True, padMode="reflect", melScale="htk", norm=None, logMels=True),
    ]
    out = []
    for c in cases:
        mk = mel_kwargs(c)
        tr = AT.MFCC(sample_rate=SAMPLE_RATE, n_mfcc=c["nMfcc"], dct_type=2, norm="ortho", log_mels=c["logMels"], melkwargs=mk)
        assert tr.dct_mat.dtype == torch.float64
        outputs = {}
        for sig_name, sig in SIGNALS.items():
            m = tr(as_torch(sig))
            assert m.dtype == torch.float64
            outputs[sig_name] = enc(frame_major(m), "f32")
        if c["logMels"]:
            # torchaudio's MFCC ignores top_db when log_mels is set; record it as not applied.
            c = dict(c, topDb=None)
        out.append({"config": c, "outputs": outputs})
    return out


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    total = 0
    total += write(
        "parity-signals.json",
        {
            "meta": meta(),
            "sampleRate": SAMPLE_RATE,
            "signals": {k: enc(v, "f32") for k, v in SIGNALS.items()},
        },
    )
    total += write("parity-windows.json", {"meta": meta(), "windows": make_windows()})
    total += write("parity-fbanks.json", {"meta": meta(), "fbanks": make_fbanks()})
    total += write("parity-spectrogram.json", {"meta": meta(), "cases": make_spectrograms()})
    total += write("parity-mel.json", {"meta": meta(), "eps": 1e-6, "topDb": 80.0, "amin": 1e-10, "cases": make_mel()})
    total += write("parity-mfcc.json", {"meta": meta(), "cases": make_mfcc()})
    print("%-28s %8.1f kB" % ("total", total / 1024))


if __name__ == "__main__":
    main()
