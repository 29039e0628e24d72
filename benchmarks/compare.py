#!/usr/bin/python3
"""Runs one benchmark suite of vgt and of PyTorch case by case, alternating
the two sides so that whatever else the machine does falls on both alike,
and prints the side-by-side table. A suite is a vgt program and a PyTorch
script with the same cases, flags and JSON records:

    ops     vgt_bench_ops     ops_torch.py      matmul and convolutions
    blocks  vgt_bench_blocks  blocks_torch.py   the temporal blocks
    unet    vgt_bench_unet    unet_torch.py     a training step of each UNet preset

    /usr/bin/python3 benchmarks/compare.py [--suite ops|blocks|unet] --vgt-bin PATH
        [--case NAME]... [--reps N] [--min-time SECONDS] [--warmup N]
        [--threads N] [--rounds R] [--log-dir DIR] [--no-mkldnn]
        [--reference-forward]

benchmarks/run-ops, run-blocks and run-unet build the vgt program and call
this script; see benchmarks/README.md for how to read the output.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PEAK_CASE = "gemm_2048"  # both sides of every suite have it

# What differs between suites: the PyTorch script, the report's title and
# notes, the heading of the description column, and the log file names
# (<log>.md, <log>.json).
SUITES = {
    "ops": {
        "torch_script": "ops_torch.py",
        "title": "matmul and convolution, forward and forward+backward",
        "described_as": "shapes",
        "log": "ops_bench",
        "notes": [],
    },
    "blocks": {
        "torch_script": "blocks_torch.py",
        "title": "temporal blocks, forward and forward+backward",
        "described_as": "block, input [B, T, C, H, W]",
        "log": "blocks_bench",
        "notes": [
            "- blocks: built with their own initialisation, then every weight redrawn uniform in "
            "[-0.1, 0.1) (mixers start as the identity, with zero output projections); input "
            "uniform in [-1, 1); fwd+bwd computes the gradient of the input and of every weight; "
            "FLOPs are the block's analytic forward count (convolutions, linears, attention products; "
            "point-wise work not counted)",
        ],
    },
    "unet": {
        "torch_script": "unet_torch.py",
        "title": "a training step of each UNet preset (fwd: forward and loss; fwd+bwd: the whole step)",
        "described_as": "model, input",
        "log": "unet_bench",
        "notes": [
            "- UNets: the text-to-video quality bar's (benchmarks/quality/t2v.json), every weight redrawn "
            "uniform in [-0.1, 0.1); fwd is the forward and the MSE loss without the tape; fwd+bwd is "
            "forward, loss, backward into every weight and one AdamW step (lr 1e-4, weight decay 0.01); "
            "FLOPs are the forward's convolutions, linears and attention products (point-wise work not "
            "counted), and fwd+bwd GFLOP/s counts 3x them (the optimiser step is not counted)",
            "- PyTorch UNets: the twin of tests/golden/make_video_unet.py, with its Conv3D and Conv2Plus1D "
            "stages run as one Conv3d call each (checked against the twin's own output); torch.optim.AdamW",
        ],
    },
}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--suite", choices=list(SUITES), default="ops", help="which benchmark (default: ops)")
    p.add_argument("--vgt-bin", required=True, help="the suite's vgt program (vgt_bench_ops, vgt_bench_blocks, vgt_bench_unet)")
    p.add_argument("--vgt-flags", default="", help="compiler flags the vgt program was built with (for the report)")
    p.add_argument("--torch-python", default=os.environ.get("VGT_TORCH_PYTHON", "/usr/bin/python3"),
                   help="a Python with torch (default: Debian's /usr/bin/python3)")
    p.add_argument("--case", action="append", default=[], help="case to compare (repeatable; default all)")
    p.add_argument("--reps", type=int, default=7, help="at least this many timed repetitions per case and side")
    p.add_argument("--min-time", type=float, default=1.0, help="repeat until the timed reps add up to this many seconds")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=2,
                   help="run every case this many times per side, alternating which side goes first; "
                        "the statistics pool all rounds")
    p.add_argument("--log-dir", default=os.environ.get("VGT_LOG_DIR") or None,
                   help="also write <suite>_bench.md and <suite>_bench.json here (default: $VGT_LOG_DIR)")
    p.add_argument("--no-mkldnn", action="store_true", help="PyTorch convolutions without oneDNN")
    p.add_argument("--reference-forward", action="store_true",
                   help="blocks: time the PyTorch reference modules' own forwards (see blocks_torch.py)")
    args = p.parse_args(argv)
    if args.rounds < 1:
        p.error("expected --rounds >= 1")
    if args.reference_forward and args.suite != "blocks":
        p.error("--reference-forward applies to --suite blocks only")
    return args


def run_lines(cmd):
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        sys.exit(f"compare: {' '.join(cmd)} failed with exit status {done.returncode}")
    return [line for line in done.stdout.splitlines() if line.strip()]


def side_programs(args):
    """The command that starts each side, before any flag."""
    torch_cmd = [args.torch_python, os.path.join(HERE, SUITES[args.suite]["torch_script"])]
    if args.no_mkldnn:
        torch_cmd.append("--no-mkldnn")
    if args.reference_forward:
        torch_cmd.append("--reference-forward")
    return {"vgt": [args.vgt_bin], "torch": torch_cmd}


def check_same_cases(programs):
    names = {side: run_lines(cmd + ["--list"]) for side, cmd in programs.items()}
    if names["vgt"] != names["torch"]:
        sys.exit(f"compare: the two sides define different cases: vgt {names['vgt']}, torch {names['torch']}")
    if PEAK_CASE not in names["vgt"]:
        sys.exit(f"compare: expected the peak case {PEAK_CASE} on both sides, found only {names['vgt']}")
    return names["vgt"]


def pooled(records, key):
    samples = [s for r in records if r[key] for s in r[key]["samples_ms"]]
    if not samples:
        return None
    return {"median_ms": statistics.median(samples), "min_ms": min(samples), "max_ms": max(samples),
            "reps": len(samples)}


def gflops(flops, stats):
    return flops / (stats["median_ms"] * 1e6) if stats and flops else None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_average():
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def described(record):
    """The case's description, with its weight count and forward GFLOPs where it has weights."""
    if "params" not in record:
        return record["description"]
    return f"{record['description']}; {record['params']} weights, {record['flops'] / 1e9:.3g} GFLOP"


def fmt_ms(stats):
    return f"{stats['median_ms']:.2f}" if stats else "-"


def fmt_range(stats):
    return f"{stats['median_ms']:.2f} ({stats['min_ms']:.2f}–{stats['max_ms']:.2f})" if stats else "-"


def fmt_ratio(a, b):
    return f"{a['median_ms'] / b['median_ms']:.2f}" if a and b else "-"


def fmt_rate(value):
    return f"{value:.1f}" if value is not None else "-"


def fmt_memory(records):
    """The most resident memory a case added to its process (peak minus before the case), over its runs."""
    grown = [r["peak_rss_mib"] - r["rss_before_mib"] for r in records if "peak_rss_mib" in r]
    return f"{max(grown):.0f}" if grown else "-"


def fmt_percent(value, peak):
    return f"{100 * value / peak:.0f}%" if value is not None else "-"


def main(argv):
    args = parse_args(argv)
    suite = SUITES[args.suite]
    programs = side_programs(args)
    names = check_same_cases(programs)
    timing = ["--reps", str(args.reps), "--min-time", str(args.min_time), "--warmup", str(args.warmup),
              "--threads", str(args.threads)]
    unknown = [c for c in args.case if c not in names]
    if unknown:
        sys.exit(f"compare: unknown case(s) {', '.join(unknown)}; the cases are: {', '.join(names)}")
    cases = [PEAK_CASE] + [c for c in (args.case or names) if c != PEAK_CASE]

    load_before = load_average()
    started = datetime.datetime.now().astimezone()
    records = []  # every JSON record of every run, in run order
    total = args.rounds * len(cases) * 2
    for rnd in range(args.rounds):
        order = ["vgt", "torch"] if rnd % 2 == 0 else ["torch", "vgt"]
        for name in cases:
            for side in order:
                sys.stderr.write(f"[{len(records) + 1}/{total}] {side} {name}\n")
                lines = run_lines(programs[side] + timing + ["--case", name, "--json"])
                record = json.loads(lines[-1])
                record["round"] = rnd
                records.append(record)
    load_after = load_average()

    by = {(side, name): [r for r in records if r["framework"] == side and r["case"] == name]
          for side in ("vgt", "torch") for name in cases}
    for name in cases:
        v, t = by[("vgt", name)][0], by[("torch", name)][0]
        if v["flops"] != t["flops"] or v["description"] != t["description"]:
            sys.exit(f"compare: case {name} differs between the sides: vgt '{v['description']}' "
                     f"({v['flops']} FLOPs), torch '{t['description']}' ({t['flops']} FLOPs)")
        if v.get("params") != t.get("params"):
            sys.exit(f"compare: case {name} has {v.get('params')} weights on the vgt side and "
                     f"{t.get('params')} on the torch side")

    summary = {}
    for (side, name), recs in by.items():
        flops = recs[0]["flops"]
        fwd, fwd_bwd = pooled(recs, "fwd"), pooled(recs, "fwd_bwd")
        summary[(side, name)] = {"flops": flops, "fwd": fwd, "fwd_bwd": fwd_bwd,
                                 "fwd_gflops": gflops(flops, fwd), "fwd_bwd_gflops": gflops(3 * flops, fwd_bwd)}
    peak_vgt = summary[("vgt", PEAK_CASE)]["fwd_gflops"]
    peak_torch = summary[("torch", PEAK_CASE)]["fwd_gflops"]
    peak = max(peak_vgt, peak_torch)

    vgt0, torch0 = by[("vgt", PEAK_CASE)][0], by[("torch", PEAK_CASE)][0]
    out = []
    out.append(f"# vgt vs PyTorch: {suite['title']}")
    out.append("")
    out.append(f"- date: {started.isoformat(timespec='seconds')}")
    out.append(f"- machine: {cpu_model()}, {os.cpu_count()} CPUs; load average before {load_before}, "
               f"after {load_after}")
    out.append(f"- threads: {args.threads} on both sides; float32; warm-up {args.warmup}, then at least "
               f"{args.reps} reps and at least {args.min_time:g} s per case and side; {args.rounds} round(s), "
               f"alternating vgt and PyTorch case by case")
    out.append(f"- vgt: {vgt0['compiler']} {args.vgt_flags or '(flags not given)'}; Eigen SIMD: {vgt0['simd']}")
    out.append(f"- PyTorch {torch0['torch']}: convolutions through "
               f"{'oneDNN' if torch0['mkldnn'] else 'its own im2col + BLAS (oneDNN off)'}, matmul through BLAS; "
               f"OMP_WAIT_POLICY={torch0.get('omp_wait_policy') or '(default)'}")
    out.append(f"- GEMM peak (float32 2048x2048x2048, {args.threads} threads, median): "
               f"vgt/Eigen {peak_vgt:.1f} GFLOP/s, PyTorch/BLAS {peak_torch:.1f} GFLOP/s -> "
               f"peak = {peak:.1f} GFLOP/s")
    busy = load_before.split()[0]
    if busy != "n/a" and float(busy) > 0.5 * (os.cpu_count() or 1):
        out.append(f"- WARNING: the machine was busy before the run (1-minute load {busy} on {os.cpu_count()} CPUs); "
                   f"timings are unreliable, and stolen cores hurt the two sides unevenly")
    out.extend(suite["notes"])
    routes = {}
    for name in cases:
        route = by[("torch", name)][0].get("torch_forward")
        if route:
            routes.setdefault(route, []).append(name)
    if routes:
        how = {"reference": "through the module's own forward",
               "batched": "through a batched forward over the module's parameters, checked against the module's "
                          "own output",
               "float32_rope": "through the module's own forward with RoPE's rotation in float32 (the reference's "
                               "angles are float64), checked against the module's own output"}
        out.append("- PyTorch blocks: the reference modules of tests/reference/, timed " +
                   "; ".join(f"{how.get(route, route)}: {', '.join(names)}" for route, names in routes.items()))
    out.append("")
    out.append("## Details: median ms (min–max), GFLOP/s from the median (fwd+bwd counts 3x the forward FLOPs)")
    out.append("")
    out.append(f"| case | {suite['described_as']} | side | fwd ms | fwd GFLOP/s | fwd+bwd ms | fwd+bwd GFLOP/s | reps (fwd, fwd+bwd) |")
    out.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in cases:
        for side in ("vgt", "torch"):
            s = summary[(side, name)]
            reps = f"{s['fwd']['reps']}, {s['fwd_bwd']['reps'] if s['fwd_bwd'] else '-'}"
            out.append(f"| {name} | {described(by[(side, name)][0])} | {side} | {fmt_range(s['fwd'])} | "
                       f"{fmt_rate(s['fwd_gflops'])} | {fmt_range(s['fwd_bwd'])} | {fmt_rate(s['fwd_bwd_gflops'])} "
                       f"| {reps} |")
    out.append("")
    out.append(f"## Summary: median ms; ratio = vgt / PyTorch (< 1: vgt is faster); "
               f"peak = {peak:.1f} GFLOP/s; GFLOP/s and % of peak as fwd / fwd+bwd; peak MiB = the most "
               f"resident memory a case's process gained over what it held before building the case")
    out.append("")
    out.append("| case | vgt ms (fwd) | torch ms (fwd) | ratio | vgt ms (fwd+bwd) | torch ms (fwd+bwd) | ratio "
               "| vgt GFLOP/s | % of peak | peak MiB (vgt / torch) |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in cases:
        v, t = summary[("vgt", name)], summary[("torch", name)]
        rates = f"{fmt_rate(v['fwd_gflops'])} / {fmt_rate(v['fwd_bwd_gflops'])}"
        percents = f"{fmt_percent(v['fwd_gflops'], peak)} / {fmt_percent(v['fwd_bwd_gflops'], peak)}"
        out.append(f"| {name} | {fmt_ms(v['fwd'])} | {fmt_ms(t['fwd'])} | {fmt_ratio(v['fwd'], t['fwd'])} | "
                   f"{fmt_ms(v['fwd_bwd'])} | {fmt_ms(t['fwd_bwd'])} | {fmt_ratio(v['fwd_bwd'], t['fwd_bwd'])} | "
                   f"{rates} | {percents} | {fmt_memory(by[('vgt', name)])} / {fmt_memory(by[('torch', name)])} |")
    report = "\n".join(out) + "\n"
    sys.stdout.write(report)

    if args.log_dir:
        os.makedirs(args.log_dir, exist_ok=True)
        with open(os.path.join(args.log_dir, suite["log"] + ".md"), "w") as f:
            f.write(report)
        meta = {"suite": args.suite, "date": started.isoformat(timespec="seconds"), "cpu": cpu_model(), "cpus": os.cpu_count(),
                "load_before": load_before, "load_after": load_after, "threads": args.threads,
                "reps": args.reps, "min_time_s": args.min_time, "warmup": args.warmup, "rounds": args.rounds,
                "vgt_flags": args.vgt_flags, "peak_gflops": {"vgt": peak_vgt, "torch": peak_torch, "peak": peak}}
        with open(os.path.join(args.log_dir, suite["log"] + ".json"), "w") as f:
            json.dump({"meta": meta, "records": records}, f, indent=1)
            f.write("\n")
        sys.stderr.write(f"compare: wrote {suite['log']}.md and {suite['log']}.json to {args.log_dir}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
