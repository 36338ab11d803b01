"""Contact of the sampler head with cohesionless regolith, and the sampler itself.

Regolith: no cohesion (FACTS.md: near zero), so the surface only pushes: a
normal force k * depth + c * (sink rate) while the head is below the surface,
never a pull; Coulomb friction mu * F_n opposes sliding.  With the defaults a
head arriving at 10 cm/s is still sinking at ~3 cm/s after 6 s and has gone
~36 cm deep (closed loop 37-40 cm; OSIRIS-REx's went ~50 cm).  The force acts
at the head, 3.35 m from the centre of mass, so any lateral component or tilt
torques the spacecraft.

Sampler: gas fired while in contact mobilises regolith into the head; the
mass collected grows as capacity * (1 - exp(-t_gas_contact / tau)), scaled by
the bulk density (500-700 kg/m^3) and the fraction of particles small enough
to collect (<= 2 cm), both drawn per run.
"""

import math

from flightsw.icd import mavlink


class RegolithContact:
    def __init__(self, site, stiffness_npm: float, damping_nspm: float, friction: float):
        self.site = site
        self.k = stiffness_npm
        self.c = damping_nspm
        self.mu = friction

    def head_force_bf(self, head_bf, head_vel_bf) -> tuple[tuple, float, float]:
        """(force on the head, body-fixed, N; penetration depth, m; normal force, N)."""
        site = self.site
        n = site.normal_bf
        depth = site.surface_height_m(head_bf) - site.plane_height_m(head_bf)
        if depth <= 0.0:
            return (0.0, 0.0, 0.0), depth, 0.0
        vn = head_vel_bf[0] * n[0] + head_vel_bf[1] * n[1] + head_vel_bf[2] * n[2]
        f_n = max(0.0, self.k * depth - self.c * vn)  # pushes only: no cohesion
        vt = (head_vel_bf[0] - vn * n[0], head_vel_bf[1] - vn * n[1], head_vel_bf[2] - vn * n[2])
        speed_t = math.sqrt(vt[0] ** 2 + vt[1] ** 2 + vt[2] ** 2)
        # Friction saturates smoothly below 1 mm/s to avoid chattering at rest.
        f_t = self.mu * f_n / max(speed_t, 1e-3)
        force = (f_n * n[0] - f_t * vt[0], f_n * n[1] - f_t * vt[1], f_n * n[2] - f_t * vt[2])
        return force, depth, f_n


class SamplerModel:
    def __init__(self, capacity_kg: float, density_kgm3: float, fine_fraction: float,
                 tau_s: float = 1.0, bottles: int = 3):
        self.capacity_kg = capacity_kg
        self.density_kgm3 = density_kgm3
        self.fine_fraction = fine_fraction
        self.tau_s = tau_s
        self.deployed = False
        self.bottles_left = bottles
        self.gas_active = False
        self.collected_kg = 0.0

    def command(self, action: int) -> None:
        if action == mavlink.PROBE_SAMPLER_DEPLOY:
            self.deployed = True
        elif action == mavlink.PROBE_SAMPLER_STOW:
            self.deployed = False
            self.gas_active = False
        elif action == mavlink.PROBE_SAMPLER_FIRE_GAS and self.deployed and self.bottles_left:
            self.bottles_left -= 1
            self.gas_active = True

    def step(self, dt_s: float, in_contact: bool) -> None:
        if not (self.gas_active and in_contact):
            return
        full = self.capacity_kg * self.fine_fraction * self.density_kgm3 / 600.0
        # First-order fill toward what this surface can give.
        self.collected_kg += (full - self.collected_kg) * (1.0 - math.exp(-dt_s / self.tau_s))
