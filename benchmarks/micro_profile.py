"""Step profile of KE_EGRU on the emulated Cortex-M4 for benchmarks/micro_bench.py (issue 17,
item 1): where one int8 step's instructions and estimated cycles go.  Differences of four
runs of the same weights (instruction counts are exact and repeatable, so differences are
exact too)."""
import numpy as np


def step_profile(bench, units, steps, sparsity, activity, rep, x):
    """Where one KE_EGRU step's instructions go (item 1 of issue 17), from four runs of the
    same weights: no event and every input at its zero point (``steps`` and 2 ``steps`` steps
    per invoke: per-invoke overhead; fixed per-step cost = gate loop, bias copies, the skipped
    input rows), then the dense inputs (+ input product), then ``activity`` events
    (+ recurrent product over the active list and the outputs of the units that fire).
    With a block-4 input matrix TFLite Micro gathers the input product (ke_sparse.h); a step
    whose inputs all sit at the zero point prepares the gather and then takes the row
    products, so the fixed cost holds that preparation and the input product is the
    difference."""
    from keras_events.micro import qemu
    from keras_events.micro.host_interpreter import Interpreter, mac_count

    def run(model, xq):
        res, _ = qemu.run_model(model, xq, arena_size=bench.ARENA, print_outputs=False, timeout=900)
        interp = Interpreter(model, arena_size=bench.ARENA)
        before = mac_count()
        interp.run(xq)
        return res.instructions[0], res.classes[0]["est_cycles"], mac_count() - before

    # steps and 2 steps per invoke (a 1-step model would be a streaming one: another path)
    silent = {t: bench.egru_tflite(units, t, 0.0, sparsity, np.tile(rep, (1, t // steps, 1)))
              for t in (steps, 2 * steps)}
    xq = bench.quantized_input(silent[steps], x[:, :steps], builtin_only=False)
    zp = Interpreter(silent[steps], arena_size=bench.ARENA).get_input_details()[0]["quantization"][1]
    idle = run(silent[steps], np.full_like(xq, zp))
    idle2 = run(silent[2 * steps], np.full((1, 2 * steps, xq.shape[2]), zp, np.int8))
    inputs = run(silent[steps], xq)
    active = bench.egru_tflite(units, steps, activity, sparsity, rep)
    events = run(active, bench.quantized_input(active, x[:, :steps]))
    fixed = [(idle2[i] - idle[i]) / steps for i in (0, 1)]
    out = {"units": units, "weight_sparsity": sparsity, "activity": activity,
           "per_invoke_instructions": idle[0] - steps * fixed[0],
           "fixed_per_step_instructions": fixed[0], "fixed_per_step_est_cycles": fixed[1],
           "input_product_instructions": (inputs[0] - idle[0]) / steps,
           "input_product_est_cycles": (inputs[1] - idle[1]) / steps,
           "input_product_macs": inputs[2] / steps,
           "recurrent_and_fire_instructions": (events[0] - inputs[0]) / steps,
           "recurrent_and_fire_est_cycles": (events[1] - inputs[1]) / steps,
           "recurrent_macs": (events[2] - inputs[2]) / steps}
    out["products_instructions_per_mac"] = (
        (out["input_product_instructions"] + out["recurrent_and_fire_instructions"])
        / max(out["input_product_macs"] + out["recurrent_macs"], 1))
    return out


def profile_lines(p):
    ipm = p["products_instructions_per_mac"]
    return [f"step profile, hidden {p['units']}, {p['weight_sparsity']:.0%} pruning, "
            f"{p['activity']:.0%} events (instructions / est. cycles per step):",
            f"  per-invoke overhead (TFLM + op): {p['per_invoke_instructions']:,.0f} instr per invoke",
            f"  fixed per step (gate loop of all units, bias copies, skipped zero inputs): "
            f"{p['fixed_per_step_instructions']:,.0f} / {p['fixed_per_step_est_cycles']:,.0f}",
            f"  input product: {p['input_product_instructions']:,.0f} / "
            f"{p['input_product_est_cycles']:,.0f} for {p['input_product_macs']:,.0f} MACs "
            f"({p['input_product_instructions'] / max(p['input_product_macs'], 1):.2f} instr/MAC)",
            f"  recurrent product over the active list + outputs of firing units: "
            f"{p['recurrent_and_fire_instructions']:,.0f} / {p['recurrent_and_fire_est_cycles']:,.0f} "
            f"for {p['recurrent_macs']:,.0f} MACs "
            f"({p['recurrent_and_fire_instructions'] / max(p['recurrent_macs'], 1):.2f} instr/MAC)",
            f"  products (input + recurrent + firing): {ipm:.2f} instr per effective MAC "
            f"(goal <= 3: {'met' if ipm <= 3 else f'NOT met, {ipm / 3:.2f}x over'})"]
