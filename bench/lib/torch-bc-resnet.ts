/**
 * BC-ResNet written in PyTorch (torch.nn), layer for layer the structure of kws-kit's
 * `bcResNet()`: 5×5 stem with frequency stride 2, BC-ResBlocks (3-tap frequency depthwise conv
 * with SubSpectralNorm over 5 sub-bands, frequency mean, dilated 3-tap temporal depthwise conv,
 * BatchNorm, SiLU, 1×1 conv, channel dropout, broadcast residual), 5×5 depthwise classifier
 * conv, frequency mean, 1×1 conv, time mean, 1×1 conv to the classes. Shared by the benches that
 * compare against PyTorch (bench/bc-resnet-inference.ts, bench/train-step.ts,
 * bench/train-parallel.ts).
 */
import { execFileSync } from 'node:child_process';

/**
 * Python source defining `BcResNet(width=1, classes=12)`, a `torch.nn.Module` taking
 * `[batch, 1, mels (40), frames]` and returning logits `[batch, classes]`; imports `json`, `sys`,
 * `time`, `torch`, `torch.nn as nn` and `torch.nn.functional as F`.
 */
export const TORCH_BC_RESNET = `
import json, sys, time, torch, torch.nn as nn, torch.nn.functional as F
class SubSpectralNorm(nn.Module):
    def __init__(self, channels, bands):
        super().__init__()
        self.bands = bands
        self.bn = nn.BatchNorm2d(channels * bands)
    def forward(self, x):
        b, c, f, t = x.shape
        return self.bn(x.reshape(b, c * self.bands, f // self.bands, t)).reshape(b, c, f, t)
class BcResBlock(nn.Module):
    def __init__(self, cin, cout, stride, dilation):
        super().__init__()
        self.transition = cin != cout
        self.identity = cin == cout and stride == 1
        if self.transition:
            self.pw_in = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())
        self.freq = nn.Conv2d(cout, cout, (3, 1), stride=(stride, 1), padding=(1, 0), groups=cout, bias=False)
        self.ssn = SubSpectralNorm(cout, 5)
        self.time = nn.Conv2d(cout, cout, (1, 3), padding=(0, dilation), dilation=(1, dilation), groups=cout, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.pw = nn.Conv2d(cout, cout, 1, bias=False)
        self.drop = nn.Dropout2d(0.1)
    def forward(self, x):
        h = self.pw_in(x) if self.transition else x
        f2 = self.ssn(self.freq(h))
        f1 = self.drop(self.pw(F.silu(self.bn(self.time(f2.mean(2, keepdim=True))))))
        y = f2 + f1
        if self.identity:
            y = y + x
        return F.relu(y)
class BcResNet(nn.Module):
    def __init__(self, width=1, classes=12):
        super().__init__()
        c = [round(width * v) for v in (16, 8, 12, 16, 20, 32)]
        self.stem = nn.Sequential(nn.Conv2d(1, c[0], 5, stride=(2, 1), padding=2, bias=False), nn.BatchNorm2d(c[0]), nn.ReLU())
        blocks, cin = [], c[0]
        for s, (n, stride, d) in enumerate([(2, 1, 1), (2, 2, 2), (4, 2, 4), (4, 1, 8)]):
            for b in range(n):
                blocks.append(BcResBlock(cin, c[s + 1], stride if b == 0 else 1, d))
                cin = c[s + 1]
        self.blocks = nn.Sequential(*blocks)
        self.dw = nn.Conv2d(cin, cin, 5, padding=(0, 2), groups=cin, bias=False)
        self.pw = nn.Sequential(nn.Conv2d(cin, c[5], 1, bias=False), nn.BatchNorm2d(c[5]), nn.ReLU())
        self.fc = nn.Conv2d(c[5], classes, 1)
    def forward(self, x):
        x = self.blocks(self.stem(x))
        x = self.pw(self.dw(x).mean(2, keepdim=True)).mean(3, keepdim=True)
        return self.fc(x).flatten(1)
`;

// BC-ResNet-1 training steps (SGD) at 2 threads: prints "batch ms" per batch size.
const TRAIN_STEPS = `${TORCH_BC_RESNET}
torch.set_num_threads(2); torch.manual_seed(0)
m = BcResNet(); opt = torch.optim.SGD(m.parameters(), 0.01); m.train()
for b in map(int, sys.argv[1:]):
    x = torch.randn(b, 1, 40, 101); y = torch.randint(0, 12, (b,))
    ts = []
    for r in range(16):
        t0 = time.perf_counter(); opt.zero_grad(); F.cross_entropy(m(x), y).backward(); opt.step()
        ts.append(time.perf_counter() - t0)
    print(b, sorted(ts[1:])[7] * 1000)
`;

/**
 * Milliseconds of one PyTorch 1.13 training step of BC-ResNet-1 (12 classes, `[b, 1, 40, 101]`,
 * SGD, 2 threads; the median of 15 after one warm-up step) per batch size, with Debian's
 * `/usr/bin/python3`. Empty, with the reason on stderr, when torch is not installed or fails.
 */
export function torchTrainStepMs(batches: readonly number[]): { batch: number; ms: number }[] {
  try {
    const out = execFileSync('/usr/bin/python3', ['-c', TRAIN_STEPS, ...batches.map(String)], {
      encoding: 'utf8',
      timeout: 600_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return out
      .trim()
      .split('\n')
      .map((line) => {
        const [batch, ms] = line.split(' ').map(Number) as [number, number];
        return { batch, ms };
      });
  } catch (e) {
    console.error(`PyTorch training steps not measured: ${(e as Error).message.split('\n')[0]}`);
    return [];
  }
}
