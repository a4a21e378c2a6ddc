#!/bin/sh
# Regenerates every example report in reports/ from scenarios/ (about five
# minutes on two cores, two and a half of them the shard engine's day and month). Run from the repository root: sh reports/regenerate.sh
set -eu
cargo build --release --locked
bin=target/release/shardcast
for f in scenarios/*.toml; do
    "$bin" run "$f"
done
# No shard count fixes a hot key: that plan exits 1 (nothing meets), by design.
"$bin" plan scenarios/hot-key.toml -r 3 --max-shards 32 --on-demand || [ $? -eq 1 ]
"$bin" plan scenarios/small-records.toml -r 3 --on-demand
"$bin" plan scenarios/plan-scale.toml --min-shards 512 --max-shards 2048 -r 3
"$bin" sweep scenarios/small-records.toml --set stream.shards=2..6 --set producers.sensors.rate=3000/s,4400/s -r 3
"$bin" compare scenarios/diurnal-target-tracking.toml scenarios/diurnal-step.toml \
    scenarios/diurnal-scaling-utils.toml scenarios/diurnal-on-demand.toml --out reports/diurnal-compare
