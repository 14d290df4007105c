"""The torch side of msanalysis: losses as nn.Modules, the paper's networks, data, training."""
