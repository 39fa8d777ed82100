"""Cost and accuracy of the keyword front ends on the emulated Cortex-M4F (QEMU mps2-an386).

Front ends (``recipes/kws/mcu_frontend.py`` streams a 1 s clip through each, one 160-sample
hop per call, as an always-on device would):
  float   custom_ops/core/ke_logmel.c: float32 FFT, librosa-matched (the reference)
  q15     custom_ops/core/ke_logmel_q.c: block floating point, packed int16 radix-4 FFT,
          Q15 mel weights, integer log (Q10 output); bit-exact with the host build.
          Its firmware also counts the DS-CNN baseline's MFCC step once (10-coefficient
          DCT-II of one frame, custom_ops/core/ke_dct_q.c): printed per frame

Printed per front end: instructions and estimated cycles per 10 ms frame (mean of the
calls that produce a frame), instructions per second of audio (100 frames), init, state
RAM, firmware flash, and the error against librosa (``features.log_mel``) on the test
signals: a speech-like sweep at 0/-20/-40 dB and white noise (mean, 99th percentile and
max of |features - librosa| in natural-log units). For q15 also: board == host bit for bit.

  python -m benchmarks.frontend_bench            # ~1 min
"""

import argparse
import json

import numpy as np


def speech_like_clip(seed=0, gain=1.0):
    """1 s: a gliding harmonic tone in noise (as tests/recipes/test_logmel_q.py), int16."""
    rng = np.random.default_rng(seed)
    t = np.arange(16000) / 16000
    f0 = 120 + 80 * t
    voiced = sum(np.sin(2 * np.pi * h * np.cumsum(f0) / 16000) / h for h in range(1, 8))
    audio = 0.4 * np.exp(-((t - 0.5) / 0.15) ** 2) * voiced + 0.01 * rng.standard_normal(16000)
    return np.round(np.clip(audio * gain, -1, 1) * 32767).astype(np.int16)


def signals():
    rng = np.random.default_rng(1)
    return {"speech 0 dB": speech_like_clip(), "speech -20 dB": speech_like_clip(gain=0.1),
            "speech -40 dB": speech_like_clip(gain=0.01),
            "white noise": np.round(rng.standard_normal(16000) * 3000).astype(np.int16)}


def errors(frontend):
    """|features - librosa| statistics per test signal (host build of the same C code)."""
    from recipes.kws import features
    from recipes.kws.logmel_c import CLogMel
    from recipes.kws.logmel_q import FRAC_BITS, CLogMelQ

    fe = CLogMelQ() if frontend == "q15" else CLogMel()
    out = {}
    for name, clip in signals().items():
        got = fe.clip(clip).astype(np.float32)
        if frontend == "q15":
            got /= 2 ** FRAC_BITS
        err = np.abs(got - features.log_mel(clip / 32768.0))
        out[name] = {"mean": float(err.mean()), "p99": float(np.percentile(err, 99)),
                     "max": float(err.max())}
    return out


def measure(frontend):
    from recipes.kws import mcu_frontend

    clip = speech_like_clip()
    board = mcu_frontend.run_on_board(clip, frontend=frontend)
    row = {"frontend": frontend,
           "instructions_per_frame": board.instructions_per_frame,
           "est_cycles_per_frame": board.est_cycles_per_frame,
           "instructions_per_second": 100 * board.instructions_per_frame,
           "init_instructions": board.init_instructions,
           "state_bytes": board.state_bytes, "flash_bytes": board.flash_bytes,
           "error_vs_librosa": errors(frontend)}
    if frontend == "q15":
        from recipes.kws.logmel_q import CLogMelQ

        row["dct_instructions_per_frame"] = board.dct_instructions
        row["dct_est_cycles_per_frame"] = board.dct_est_cycles
        row["board_equals_host"] = bool(np.array_equal(board.features, CLogMelQ().clip(clip)))
    return row


def main(argv=None):
    from recipes.kws import mcu_frontend

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", help="also write the rows to this file")
    args = p.parse_args(argv)
    ok, why = mcu_frontend.available("q15")
    if not ok:
        raise SystemExit(f"needs the Cortex-M4 toolchain and QEMU: {why}")
    rows = [measure(f) for f in ("float", "q15")]
    print(f"{'front end':<10}{'instr/frame':>13}{'cycles/frame':>14}{'M instr/s':>11}"
          f"{'state B':>9}{'flash B':>9}  error vs librosa (mean / p99 / max, ln units)")
    for r in rows:
        err = "; ".join(f"{k} {v['mean']:.3f}/{v['p99']:.2f}/{v['max']:.2f}"
                        for k, v in r["error_vs_librosa"].items())
        cycles = r["est_cycles_per_frame"]
        print(f"{r['frontend']:<10}{r['instructions_per_frame']:>13.0f}"
              f"{cycles if cycles is None else round(cycles):>14}"
              f"{r['instructions_per_second'] / 1e6:>11.2f}{r['state_bytes']:>9}"
              f"{r['flash_bytes']:>9}  {err}")
    q15 = rows[1]
    print(f"q15: board == host bit for bit: {q15['board_equals_host']}; "
          f"{rows[0]['instructions_per_frame'] / q15['instructions_per_frame']:.1f}x fewer "
          "instructions per frame than float")
    print(f"q15 + MFCC (DS-CNN): the 10 x 40 DCT costs {q15['dct_instructions_per_frame']} "
          f"instructions ({q15['dct_est_cycles_per_frame']:.0f} est. cycles) per frame")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
