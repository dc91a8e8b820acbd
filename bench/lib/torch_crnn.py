"""The reference CRNN of gsc-dev's REFERENCE.md in PyTorch (71,093 parameters): conv 8 x (5 mel x 20
frames) stride (2, 8), GRU 64 x 2 with dropout 0.1, additive attention over time, linear to 12
classes. Input [batch, 1, 40 mels, 101 frames]. Shared by bench/crnn-inference.ts (latency) and
scripts/torch-train-gsc.py (training on gsc-dev)."""
import torch
import torch.nn as nn


class Attention(nn.Module):
    def __init__(self, dim, units):
        super().__init__()
        self.proj = nn.Linear(dim, units)
        self.score = nn.Linear(units, 1)

    def forward(self, h):
        alpha = torch.softmax(self.score(torch.tanh(self.proj(h))).squeeze(-1), dim=1)
        return torch.bmm(alpha.unsqueeze(1), h).squeeze(1)


class Crnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, (5, 20), stride=(2, 8))
        self.gru = nn.GRU(144, 64, 2, batch_first=True, dropout=0.1)
        self.attention = Attention(64, 64)
        self.fc = nn.Linear(64, 12)

    def forward(self, x):
        y = self.conv(x)
        b, c, f, t = y.shape
        h, _ = self.gru(y.permute(0, 3, 1, 2).reshape(b, t, c * f))
        return self.fc(self.attention(h))
