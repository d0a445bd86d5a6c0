#!/usr/bin/env python3
"""Same-run peer: time DeepGEMM v1 (Python-JIT, sm_90a) on the problems our bench ran.

Reads the JSON lines of `jitgemm bench --json FILE`, keeps our fp8 measurements
(kind=ours, dtype=fp8) for dense / contiguous (m_indices) / masked layouts, and
times DeepGEMM on exactly those problems (same per-group valid rows).

Usage (repo root, GPU machine):
  PYTHONPATH=.carry/peers/deepgemm python3 bench/peers/deepgemm_peer.py \
      --shapes-from results.jsonl --out deepgemm.jsonl --cache-dir /tmp/dg_cache
  ... --compile-only        JIT-compile every shape (parallel), no timing

Only torch/numpy and the DeepGEMM snapshot are needed (the snapshot itself
imports cuda-python's `cuda.bindings`).
"""
import argparse
import json
import math
import os
import statistics
import sys
import traceback

ALIGN_CONTIG = 128  # DeepGEMM get_m_alignment_for_contiguous_layout() (checked at run time)
LAYOUT_ALIASES = {
    "dense": "dense",
    "contiguous": "contiguous",
    "contiguous_indices": "contiguous",
    "masked": "masked",
}


# ----------------------------------------------------------------------------
# pure-python parts (testable without a GPU)
# ----------------------------------------------------------------------------
def load_problems(path, warn=print):
    """Return deduplicated problem dicts from our bench JSON lines."""
    problems, seen = [], set()
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                warn(f"warning: {path}:{lineno}: not JSON, skipped")
                continue
            if rec.get("type") != "measurement" or rec.get("kind") != "ours":
                continue
            if rec.get("dtype") != "fp8":
                continue
            layout = LAYOUT_ALIASES.get(rec.get("layout"))
            if layout is None:
                continue
            key = (rec.get("suite"), rec.get("shape"), layout)
            if key in seen:
                continue
            groups = int(rec.get("groups", 1) or 1)
            p = {
                "suite": rec.get("suite"), "shape": rec.get("shape"), "layout": layout,
                "groups": groups, "m": int(rec["m"]), "n": int(rec["n"]), "k": int(rec["k"]),
                "max_m": int(rec.get("max_m", 0) or 0),
                "valid_rows": int(rec.get("valid_rows", 0) or 0),
                "expected_m_record": int(rec.get("expected_m", 0) or 0),
            }
            rows = rec.get("group_rows")
            if layout == "dense":
                rows = [p["m"]]
            elif not rows:
                warn(f"warning: {key}: record has no group_rows, skipped")
                continue
            rows = [int(r) for r in rows]
            if len(rows) != groups:
                warn(f"warning: {key}: group_rows has {len(rows)} entries for {groups} groups, skipped")
                continue
            p["group_rows"] = rows
            if not p["valid_rows"]:
                p["valid_rows"] = sum(rows)
            elif p["valid_rows"] != sum(rows):
                warn(f"warning: {key}: valid_rows {p['valid_rows']} != sum(group_rows) {sum(rows)}; using the sum")
                p["valid_rows"] = sum(rows)
            if layout == "masked":
                if p["max_m"] <= 0:
                    p["max_m"] = max(rows)
                if max(rows) > p["max_m"]:
                    warn(f"warning: {key}: group rows exceed max_m, skipped")
                    continue
            seen.add(key)
            problems.append(p)
    return problems


def contiguous_m_indices(group_rows, align=ALIGN_CONTIG):
    """m_indices for DeepGEMM's contiguous layout: every expert's block padded to `align`
    rows; padding rows get -1 (the kernel skips blocks whose index is < 0).
    Returns (indices list, per-group row offsets)."""
    idx, offsets, pos = [], [], 0
    for g, r in enumerate(group_rows):
        padded = (r + align - 1) // align * align
        offsets.append(pos)
        idx.extend([g] * r + [-1] * (padded - r))
        pos += padded
    return idx, offsets


def calc_diff(x, y):
    """1 - 2*sum(x*y)/sum(x*x + y*y) in float64 (torch tensors)."""
    x, y = x.double(), y.double()
    denom = (x * x + y * y).sum()
    if float(denom) == 0.0:
        return 0.0
    return float(1 - 2 * (x * y).sum() / denom)


def flops(p):
    return 2.0 * p["valid_rows"] * p["n"] * p["k"]


# ----------------------------------------------------------------------------
# GPU side
# ----------------------------------------------------------------------------
def quant_rows_1x128(x):
    """x [..., R, K] float32 -> (fp8 e4m3, fp32 scales [..., R, K/128])."""
    import torch
    *lead, r, k = x.shape
    xv = x.view(*lead, r, k // 128, 128)
    amax = xv.abs().amax(dim=-1).clamp(min=1e-4)
    s = amax / 448.0
    q = (xv / s.unsqueeze(-1)).to(torch.float8_e4m3fn).view(*lead, r, k)
    return q, s.float().contiguous()


def quant_blocks_128x128(w):
    """w [G, N, K] float32 -> (fp8 e4m3 [G,N,K], fp32 scales [G, ceil(N/128), K/128])."""
    import torch
    g, n, k = w.shape
    npad = (n + 127) // 128 * 128
    wp = torch.zeros(g, npad, k, device=w.device, dtype=w.dtype)
    wp[:, :n] = w
    wv = wp.view(g, npad // 128, 128, k // 128, 128)
    amax = wv.abs().amax(dim=(2, 4)).clamp(min=1e-4)
    s = amax / 448.0
    q = (wv / s[:, :, None, :, None]).to(torch.float8_e4m3fn).view(g, npad, k)[:, :n].contiguous()
    return q, s.float().contiguous()


def dequant_a(q, s):
    *lead, r, k = q.shape
    return (q.float().view(*lead, r, k // 128, 128) * s.unsqueeze(-1)).view(*lead, r, k)


def dequant_b(q, s):
    import torch
    g, n, k = q.shape
    srep = s.repeat_interleave(128, dim=1)[:, :n].repeat_interleave(128, dim=2)
    return q.float() * srep


class Case:
    """Inputs + one callable for a problem, in DeepGEMM's API layouts."""

    def __init__(self, dg, p, expected_m_mode):
        import torch
        self.p = p
        dev = "cuda"
        G, N, K = p["groups"], p["n"], p["k"]
        assert K % 128 == 0, "DeepGEMM needs K % 128 == 0"
        torch.manual_seed(1234 + N * 7 + K * 13 + G)
        # B is built a few experts at a time (G*N*K fp32 can be tens of GB)
        self.b = torch.empty(G, N, K, device=dev, dtype=torch.float8_e4m3fn)
        self.sb = torch.empty(G, (N + 127) // 128, K // 128, device=dev, dtype=torch.float32)
        step = max(1, (1 << 30) // (N * K * 4))
        for g0 in range(0, G, step):
            g1 = min(G, g0 + step)
            qb, qs = quant_blocks_128x128(torch.randn(g1 - g0, N, K, device=dev))
            self.b[g0:g1], self.sb[g0:g1] = qb, qs
            del qb, qs
        lay = p["layout"]
        rows = p["group_rows"]
        if lay == "dense":
            M = p["m"]
            a = torch.randn(M, K, device=dev)
            self.a, sa = quant_rows_1x128(a)
            del a
            self.sa = dg.get_col_major_tma_aligned_tensor(sa)
            self.out = torch.empty(M, N, device=dev, dtype=torch.bfloat16)
            b0, sb0 = self.b[0], self.sb[0]
            self.fn = lambda: dg.gemm_fp8_fp8_bf16_nt((self.a, self.sa), (b0, sb0), self.out)
            self.config = dg.jit_kernels.gemm.get_best_configs(M, N, K, 1, dg.get_num_sms())
        elif lay == "contiguous":
            align = dg.get_m_alignment_for_contiguous_layout()
            idx, self.offsets = contiguous_m_indices(rows, align)
            M = len(idx)
            self.m_indices = torch.tensor(idx, device=dev, dtype=torch.int32)
            a = torch.randn(M, K, device=dev)
            a[self.m_indices < 0] = 0  # padding rows: never read back
            self.a, sa = quant_rows_1x128(a)
            del a
            self.sa = dg.get_col_major_tma_aligned_tensor(sa)
            self.out = torch.empty(M, N, device=dev, dtype=torch.bfloat16)
            self.fn = lambda: dg.m_grouped_gemm_fp8_fp8_bf16_nt_contiguous(
                (self.a, self.sa), (self.b, self.sb), self.out, self.m_indices)
            self.config = dg.jit_kernels.gemm.get_best_configs(
                M, N, K, 1, dg.get_num_sms(), is_grouped_contiguous=True)
        elif lay == "masked":
            max_m = p["max_m"]
            self.masked_m = torch.tensor(rows, device=dev, dtype=torch.int32)
            a = torch.randn(G, max_m, K, device=dev)
            self.a, sa = quant_rows_1x128(a)
            del a
            self.sa = dg.get_col_major_tma_aligned_tensor(sa)
            self.out = torch.empty(G, max_m, N, device=dev, dtype=torch.bfloat16)
            if expected_m_mode == "mean":
                self.expected_m = max(1, sum(rows) // G)
            elif p.get("expected_m_record"):
                self.expected_m = p["expected_m_record"]
            else:
                self.expected_m = max(1, p["m"])
            self.fn = lambda: dg.m_grouped_gemm_fp8_fp8_bf16_nt_masked(
                (self.a, self.sa), (self.b, self.sb), self.out, self.masked_m, self.expected_m)
            self.config = dg.jit_kernels.gemm.get_best_configs(
                self.expected_m, N, K, G, dg.get_num_sms(), is_grouped_masked=True)
        else:
            raise ValueError(lay)

    def config_dict(self):
        num_sms, bm, bn, stages, (mc, mc_on_a), (smem, swz, pad) = self.config
        d = {"block_m": bm, "block_n": bn, "block_k": 128, "stages": stages,
             "multicast": mc, "multicast_on_a": bool(mc_on_a), "num_sms": num_sms,
             "smem": smem, "swizzle_d": swz, "block_n_padding": pad}
        if self.p["layout"] == "masked":
            d["expected_m"] = self.expected_m
        return d

    def check(self):
        """calc_diff over valid rows against dequantized fp32 reference, on a fresh call whose
        output was poisoned with NaN first (a row it does not write cannot pass)."""
        import torch
        self.out.fill_(float("nan"))
        self.fn()
        torch.cuda.synchronize()
        p, rows = self.p, self.p["group_rows"]
        lay = p["layout"]
        diffs_x, diffs_y = [], []
        for g, r in enumerate(rows):
            if r == 0:
                continue
            bg = dequant_b(self.b[g:g + 1], self.sb[g:g + 1])[0]
            if lay == "dense":
                a_q, a_s, o = self.a, self.sa, self.out
            elif lay == "contiguous":
                o0 = self.offsets[g]
                a_q, a_s, o = self.a[o0:o0 + r], self.sa[o0:o0 + r], self.out[o0:o0 + r]
            else:
                a_q, a_s, o = self.a[g, :r], self.sa[g, :r], self.out[g, :r]
            ref = dequant_a(a_q, a_s.contiguous()) @ bg.t()
            diffs_x.append(o.float().flatten())
            diffs_y.append(ref.flatten())
        x, y = torch.cat(diffs_x), torch.cat(diffs_y)
        bad = bool(torch.isnan(x).any() or torch.isinf(x).any())
        return calc_diff(x, y), bad


def time_case(case, warmup, iters, flush_bytes, spin_us=300):
    """Events right around the one DeepGEMM call. DeepGEMM's Python wrapper (TMA descriptor
    encoding, cuda-python launch) costs tens of us of CPU per call; a GPU spin queued before
    the start event keeps the GPU busy meanwhile, so the events measure the kernel and not
    the host overhead (set spin_us=0 to disable)."""
    import torch
    flush = torch.empty(flush_bytes, dtype=torch.uint8, device="cuda")
    clk_khz = getattr(torch.cuda.get_device_properties(0), "clock_rate", 0) or 1980000  # H100/H200 boost ~1.98 GHz
    spin_cycles = int(spin_us * clk_khz * 1e-3) if spin_us else 0
    for _ in range(warmup):
        case.fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        flush.zero_()  # L2 flush, outside the timed region
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        if spin_cycles:
            torch.cuda._sleep(spin_cycles)
        s.record()
        case.fn()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e) * 1e3)
    return times



def ensure_cuobjdump(work_dir, warn=print):
    """DeepGEMM's runtime runs $CUDA_HOME/bin/cuobjdump to find the kernel name. If the
    toolkit lacks it, extract nvidia-cuda-cuobjdump's wheel from .carry/peers/wheels into
    work_dir/cuda_shim/bin and point CUDA_HOME there (nvcc stays the real one through
    DG_JIT_NVCC_COMPILER)."""
    import glob
    import shutil
    import zipfile
    home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH") or "/usr/local/cuda"
    if os.path.exists(os.path.join(home, "bin", "cuobjdump")):
        return
    nvcc = os.path.join(home, "bin", "nvcc")
    if not os.path.exists(nvcc):
        nvcc = shutil.which("nvcc") or nvcc
    here = os.path.dirname(os.path.abspath(__file__))
    wheels = glob.glob(os.path.join(here, "..", "..", ".carry", "peers", "wheels", "nvidia_cuda_cuobjdump-*.whl"))
    if not wheels:
        warn("warning: no cuobjdump in CUDA_HOME and no nvidia_cuda_cuobjdump wheel; DeepGEMM will fail to load kernels")
        return
    shim = os.path.join(work_dir, "cuda_shim")
    os.makedirs(os.path.join(shim, "bin"), exist_ok=True)
    dst = os.path.join(shim, "bin", "cuobjdump")
    with zipfile.ZipFile(sorted(wheels)[-1]) as z:
        name = [n for n in z.namelist() if n.endswith("/bin/cuobjdump")][0]
        with z.open(name) as src, open(dst, "wb") as out:
            shutil.copyfileobj(src, out)
    os.chmod(dst, 0o755)
    for sub in ("include", "lib64"):
        link = os.path.join(shim, sub)
        if not os.path.exists(link) and os.path.exists(os.path.join(home, sub)):
            os.symlink(os.path.join(home, sub), link)
    os.environ["DG_JIT_NVCC_COMPILER"] = nvcc
    os.environ["CUDA_HOME"] = shim
    warn(f"note: using cuobjdump from {os.path.basename(sorted(wheels)[-1])}, CUDA_HOME={shim}, nvcc={nvcc}")

def base_record(p):
    return {"type": "measurement", "kind": "peer", "impl": "deepgemm", "dtype": "fp8",
            "suite": p["suite"], "shape": p["shape"], "layout": p["layout"],
            "groups": p["groups"], "m": p["m"], "n": p["n"], "k": p["k"],
            "max_m": p["max_m"], "valid_rows": p["valid_rows"]}


def _compile_one(args):
    """Worker (separate process): build inputs and call once, which JIT-compiles."""
    p, expected_m_mode = args
    try:
        import torch
        import deep_gemm as dg
        case = Case(dg, p, expected_m_mode)
        case.fn()
        torch.cuda.synchronize()
        return (p["suite"], p["shape"], p["layout"], "ok", case.config_dict())
    except Exception as exc:  # noqa: BLE001
        return (p["suite"], p["shape"], p["layout"], f"error: {exc!r}", None)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes-from", required=True, help="our bench JSON lines")
    ap.add_argument("--out", help="JSON lines output (peer measurements)")
    ap.add_argument("--cache-dir", default=None, help="DeepGEMM JIT cache dir (DG_JIT_CACHE_DIR / DG_CACHE_DIR)")
    ap.add_argument("--compile-only", action="store_true")
    ap.add_argument("--list", action="store_true",
                    help="print the problems read (one JSON object per line) and stop: no GPU, no torch")
    ap.add_argument("--jobs", type=int, default=min(16, os.cpu_count() or 1))
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--flush-mb", type=int, default=512)
    ap.add_argument("--tol", type=float, default=1e-3)
    ap.add_argument("--spin-us", type=int, default=300,
                    help="GPU spin before each timed call to hide DeepGEMM's host-side launch cost (0: off)")
    ap.add_argument("--expected-m", choices=("record", "mean"), default="record",
                    help="masked expected_m hint: the record's expected_m field (what our kernel was given), "
                         "or the mean valid rows per group (the record's m is max_m for masked)")
    args = ap.parse_args(argv)
    if args.list:
        problems = load_problems(args.shapes_from, warn=lambda s: print(s, file=sys.stderr))
        for p in problems:
            print(json.dumps(p))
        return 0 if problems else 1

    if args.cache_dir:
        os.makedirs(args.cache_dir, exist_ok=True)
        # this snapshot reads DG_JIT_CACHE_DIR; older v1 releases read DG_CACHE_DIR
        os.environ["DG_JIT_CACHE_DIR"] = args.cache_dir
        os.environ["DG_CACHE_DIR"] = args.cache_dir

    ensure_cuobjdump(args.cache_dir or os.path.join(os.path.expanduser("~"), ".deep_gemm"),
                     warn=lambda s: print(s, file=sys.stderr))

    problems = load_problems(args.shapes_from, warn=lambda s: print(s, file=sys.stderr))
    print(f"{len(problems)} problems from {args.shapes_from}", file=sys.stderr)
    if not problems:
        return 1

    if args.compile_only:
        import multiprocessing as mp
        ctx = mp.get_context("spawn")  # CUDA in workers needs spawn
        ok = 0
        with ctx.Pool(max(1, args.jobs)) as pool:
            for suite, shape, layout, status, cfg in pool.imap_unordered(
                    _compile_one, [(p, args.expected_m) for p in problems]):
                ok += status == "ok"
                print(f"{suite:<16} {shape:<24} {layout:<10} {status} {cfg or ''}", flush=True)
        print(f"compiled {ok}/{len(problems)}", file=sys.stderr)
        return 0 if ok == len(problems) else 2

    import torch
    import deep_gemm as dg
    outf = open(args.out, "w") if args.out else None
    failures = 0
    for p in problems:
        rec = base_record(p)
        try:
            case = Case(dg, p, args.expected_m)
            rec["config"] = case.config_dict()
            times = time_case(case, args.warmup, args.iters, args.flush_mb << 20, args.spin_us)
            med = statistics.median(times)
            diff, bad = case.check()
            status = "ok"
            if bad or math.isnan(diff) or diff > args.tol:
                status = "wrong"
            rec.update(us_median=med, us_min=min(times), us_max=max(times),
                       tflops=flops(p) / (med * 1e-6) / 1e12, calc_diff=diff, status=status)
            del case
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            rec.update(us_median=None, us_min=None, us_max=None, tflops=None,
                       calc_diff=None, status=f"error: {exc!r}")
        failures += rec["status"] != "ok"
        cfg = rec.get("config") or {}
        us, tf, df = rec["us_median"], rec["tflops"], rec["calc_diff"]
        us_s = "%9.1f us" % us if us else "        - us"
        tf_s = "%7.1f TFLOP/s" % tf if tf else ""
        df_s = "%.2e" % df if df is not None else "-"
        print("%-16s %-24s %-10s %s %s diff=%s %s bm=%s bn=%s st=%s mc=%s" % (
            p["suite"], p["shape"], p["layout"], us_s, tf_s, df_s, rec["status"],
            cfg.get("block_m"), cfg.get("block_n"), cfg.get("stages"), cfg.get("multicast")), flush=True)
        if outf:
            outf.write(json.dumps(rec) + "\n")
            outf.flush()
        torch.cuda.empty_cache()
    if outf:
        outf.close()
    return 0 if failures == 0 else 3


if __name__ == "__main__":
    sys.exit(main())
