"""Writes aggregate-keys.csv, the trace of scenarios/validation/aggregate-trace.toml:
five minutes of per-key counts in 5-second rows (epoch seconds). The hot key
"celebrity" sends 1,000 records/s (1,200/s after the scenario's
rate_multiplier of 1.2: over one shard's limit of 1,000); 60 other keys
about 20/s each, varying from row to row. Deterministic: run it again to
get the same file."""

import random

rng = random.Random(14)
START, INTERVAL, ROWS = 1740819600, 5, 60
keys = [f"user-{i}" for i in range(60)]
base = {k: rng.uniform(10, 30) for k in keys}
with open("aggregate-keys.csv", "w") as f:
    f.write("timestamp,partition_key,records\n")
    for r in range(ROWS):
        t = START + r * INTERVAL
        f.write(f"{t},celebrity,{1000 * INTERVAL}\n")
        for k in keys:
            f.write(f"{t},{k},{round(base[k] * INTERVAL * rng.uniform(0.7, 1.3))}\n")
