#!/usr/bin/python3
"""Writes PyTorch references for the diffusion machinery into tests/golden/diffusion/.

Run with Debian's python3 (python3-torch, numpy):  /usr/bin/python3 tests/golden/make_diffusion.py

Everything is float64 and written from the published formulas (not from a
diffusion library): the noise schedules, the training pairs of the four
objectives, one update of each sampler, and three-step loops of the
deterministic samplers whose model outputs are supplied as arrays (call k of
the model returns out<k>, whatever its input).

Files (N = 1000 training timesteps unless noted):
  schedule_<kind>_betas, schedule_<kind>_alphas_cumprod   kind: linear, scaled_linear, cosine (also N = 7: *_n7)
  objective_x0, objective_noise, objective_timesteps, objective_flow_times and
  objective_<name>_x_t / objective_<name>_target         name: epsilon, v, x0 (linear schedule), flow (flow times)
  step_x, step_out, step_out2, step_noise                the inputs every single-step case reads
  step_<case>                                            the x after one update (cases below)
  loop_x, loop_out0..2, loop_ddim, loop_dpmpp            timesteps 900, 600, 300, then clean; epsilon outputs
  loop_flow_out0..2, loop_euler                          flow times 1, 0.6, 0.25, then 0; flow outputs
"""

import math
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "diffusion")
torch.set_default_dtype(torch.float64)


def save(name, tensor):
    np.save(os.path.join(OUT, name + ".npy"), np.asarray(tensor.detach().numpy() if torch.is_tensor(tensor) else tensor,
                                                           dtype=np.float64))


# ----- schedules (Ho et al. 2020; Rombach et al. 2022; Nichol & Dhariwal 2021) ------

def linear_betas(n, start=1e-4, end=0.02):
    return torch.linspace(start, end, n, dtype=torch.float64)


def scaled_linear_betas(n, start=0.00085, end=0.012):
    return torch.linspace(start ** 0.5, end ** 0.5, n, dtype=torch.float64) ** 2


def cosine_betas(n, s=0.008, max_beta=0.999):
    def f(t):
        return math.cos((t / n + s) / (1 + s) * math.pi / 2) ** 2
    return torch.tensor([min(1 - f(i + 1) / f(i), max_beta) for i in range(n)], dtype=torch.float64)


def alphas_cumprod(betas):
    return torch.cumprod(1.0 - betas, dim=0)


# ----- objectives (x_t = alpha x0 + sigma eps) ----------------------------------------

def broadcast(values, like):
    return values.reshape([-1] + [1] * (like.dim() - 1))


# ----- sampler updates ---------------------------------------------------------------

def x0_eps_from_epsilon(x, out, abar):
    return (x - math.sqrt(1 - abar) * out) / math.sqrt(abar), out


def x0_eps_from_v(x, v, abar):
    a, s = math.sqrt(abar), math.sqrt(1 - abar)
    return a * x - s * v, a * v + s * x


def x0_eps_from_x0(x, out, abar):
    return out, (x - math.sqrt(abar) * out) / math.sqrt(1 - abar)


def ddpm_step(x, x0, abar_t, abar_s, z):
    """Ho et al. 2020 eq. 6-7, with alpha_t replaced by abar_t/abar_s between skipped timesteps."""
    beta = 1 - abar_t / abar_s
    mean = (math.sqrt(abar_s) * beta / (1 - abar_t)) * x0 + (math.sqrt(abar_t / abar_s) * (1 - abar_s) / (1 - abar_t)) * x
    var = (1 - abar_s) / (1 - abar_t) * beta
    return mean + math.sqrt(var) * z if abar_s < 1 else mean


def ddim_step(x0, eps, abar_t, abar_s, eta, z):
    """Song et al. 2021 eq. 12 with sigma_t(eta) of eq. 16."""
    sigma = eta * math.sqrt((1 - abar_s) / (1 - abar_t)) * math.sqrt(1 - abar_t / abar_s)
    x = math.sqrt(abar_s) * x0 + math.sqrt(1 - abar_s - sigma ** 2) * eps
    return x + sigma * z if sigma > 0 else x


def lam(abar):
    return 0.5 * math.log(abar) - 0.5 * math.log(1 - abar)


def dpmpp_first(x, m0, abar_t, abar_s):
    """Lu et al. 2022 (DPM-Solver++), first-order update."""
    if abar_s == 1.0:
        return m0
    h = lam(abar_s) - lam(abar_t)
    return math.sqrt((1 - abar_s) / (1 - abar_t)) * x - math.sqrt(abar_s) * (math.exp(-h) - 1) * m0


def dpmpp_second(x, m1, m0, abar_prev, abar_t, abar_s):
    """Lu et al. 2022 algorithm 2 (multistep second order): m1 at t, m0 at the previous point."""
    h = lam(abar_s) - lam(abar_t)
    r = (lam(abar_t) - lam(abar_prev)) / h
    d = (1 + 1 / (2 * r)) * m1 - (1 / (2 * r)) * m0
    return math.sqrt((1 - abar_s) / (1 - abar_t)) * x - math.sqrt(abar_s) * (math.exp(-h) - 1) * d


def main():
    os.makedirs(OUT, exist_ok=True)
    gen = torch.Generator().manual_seed(2024)

    def randn(*shape):
        return torch.randn(shape, generator=gen, dtype=torch.float64)

    for n, suffix in [(1000, ""), (7, "_n7")]:
        for kind, betas in [("linear", linear_betas(n)), ("scaled_linear", scaled_linear_betas(n)),
                            ("cosine", cosine_betas(n))]:
            save(f"schedule_{kind}_betas{suffix}", betas)
            save(f"schedule_{kind}_alphas_cumprod{suffix}", alphas_cumprod(betas))

    abar = alphas_cumprod(linear_betas(1000))

    # Training pairs with one timestep (or flow time) per batch element.
    x0, noise = randn(3, 2, 4), randn(3, 2, 4)
    timesteps = torch.tensor([0.0, 417.0, 999.0])
    a = broadcast(abar[timesteps.long()].sqrt(), x0)
    s = broadcast((1 - abar[timesteps.long()]).sqrt(), x0)
    flow_t = torch.tensor([0.05, 0.5, 0.93])
    ft = broadcast(flow_t, x0)
    save("objective_x0", x0)
    save("objective_noise", noise)
    save("objective_timesteps", timesteps)
    save("objective_flow_times", flow_t)
    x_t = a * x0 + s * noise
    for name, target in [("epsilon", noise), ("v", a * noise - s * x0), ("x0", x0)]:
        save(f"objective_{name}_x_t", x_t)
        save(f"objective_{name}_target", target)
    save("objective_flow_x_t", (1 - ft) * x0 + ft * noise)
    save("objective_flow_target", noise - x0)

    # Single updates, all from the same x, outputs and noise.
    x, out, out2, z = randn(2, 3, 4, 5), randn(2, 3, 4, 5), randn(2, 3, 4, 5), randn(2, 3, 4, 5)
    save("step_x", x)
    save("step_out", out)
    save("step_out2", out2)
    save("step_noise", z)
    ab = lambda t: float(abar[t]) if t >= 0 else 1.0  # noqa: E731  t = -1 is the clean end

    x0p, _ = x0_eps_from_epsilon(x, out, ab(600))
    save("step_ddpm_eps_600_400", ddpm_step(x, x0p, ab(600), ab(400), z))
    x0p, _ = x0_eps_from_x0(x, out, ab(500))
    save("step_ddpm_x0_500_499", ddpm_step(x, x0p, ab(500), ab(499), z))
    x0p, epsp = x0_eps_from_v(x, out, ab(600))
    save("step_ddim_v_eta0_600_400", ddim_step(x0p, epsp, ab(600), ab(400), 0.0, z))
    x0p, epsp = x0_eps_from_epsilon(x, out, ab(800))
    save("step_ddim_eps_eta05_800_300", ddim_step(x0p, epsp, ab(800), ab(300), 0.5, z))
    # DPM-Solver++(2M): a first-order step 900 -> 600 from `out`, then a
    # second-order step 600 -> 300 from `out2` evaluated at its result.
    m0, _ = x0_eps_from_epsilon(x, out, ab(900))
    x1 = dpmpp_first(x, m0, ab(900), ab(600))
    m1, _ = x0_eps_from_epsilon(x1, out2, ab(600))
    save("step_dpmpp_first_900_600", x1)
    save("step_dpmpp_second_600_300", dpmpp_second(x1, m1, m0, ab(900), ab(600), ab(300)))
    # Euler on the flow ODE, t = 0.7 -> 0.4, velocity `out`.
    save("step_euler_07_04", x + (0.4 - 0.7) * out)

    # Three-step loops with supplied outputs.
    x = randn(2, 2, 3, 3)
    outs = [randn(2, 2, 3, 3) for _ in range(3)]
    save("loop_x", x)
    for k, o in enumerate(outs):
        save(f"loop_out{k}", o)
    grid = [900, 600, 300, -1]
    xd = x
    for k in range(3):
        x0p, epsp = x0_eps_from_epsilon(xd, outs[k], ab(grid[k]))
        xd = ddim_step(x0p, epsp, ab(grid[k]), ab(grid[k + 1]), 0.0, None) if grid[k + 1] >= 0 else x0p
    save("loop_ddim", xd)
    xp, previous = x, None
    for k in range(3):
        m, _ = x0_eps_from_epsilon(xp, outs[k], ab(grid[k]))
        if grid[k + 1] < 0:
            xp = m
        elif previous is None:
            xp = dpmpp_first(xp, m, ab(grid[k]), ab(grid[k + 1]))
        else:
            xp = dpmpp_second(xp, m, previous, ab(grid[k - 1]), ab(grid[k]), ab(grid[k + 1]))
        previous = m
    save("loop_dpmpp", xp)

    flow_outs = [randn(2, 2, 3, 3) for _ in range(3)]
    times = [1.0, 0.6, 0.25, 0.0]
    xe = x
    for k in range(3):
        save(f"loop_flow_out{k}", flow_outs[k])
        xe = xe + (times[k + 1] - times[k]) * flow_outs[k]
    save("loop_euler", xe)


if __name__ == "__main__":
    main()
