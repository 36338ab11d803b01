"""Seeded noise streams, one per sensor, drawn in blocks.

Why blocks: a numpy Generator call costs about a microsecond whatever its
size, so drawing 4096 normals at once and handing them out as Python floats
is ~50x cheaper per sample.  Each sensor gets its own stream spawned from the
scenario seed, so adding a sensor does not change the noise of the others.
"""

import hashlib

import numpy as np

_BLOCK = 4096


class NoiseStream:
    def __init__(self, seed: int, name: str):
        # Stable per-name entropy from the whole name: the stream depends only on
        # (seed, name), and names sharing a prefix still get independent streams.
        digest = hashlib.sha256(name.encode()).digest()
        key = [int.from_bytes(digest[:16], "little"), int(seed)]
        self._rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(key)))
        self._normals: list[float] = []
        self._uniforms: list[float] = []

    def gauss(self, sigma: float = 1.0) -> float:
        if not self._normals:
            self._normals = self._rng.standard_normal(_BLOCK).tolist()
            self._normals.reverse()
        return self._normals.pop() * sigma

    def uniform(self) -> float:
        if not self._uniforms:
            self._uniforms = self._rng.random(_BLOCK).tolist()
            self._uniforms.reverse()
        return self._uniforms.pop()

    def gauss3(self, sigma: float) -> tuple[float, float, float]:
        return (self.gauss(sigma), self.gauss(sigma), self.gauss(sigma))
