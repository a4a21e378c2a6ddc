#!/usr/bin/env python3
"""An example external autoscaling policy for shardcast (`kind = "exec"`).

shardcast starts this program once per run and, at each evaluation, writes
one JSON line on its stdin:

    {"evaluation": 3, "time_s": 180.0, "open_shards": 4, "updating": false,
     "minutes": [{"start_s": 60, "IncomingRecords": 180000,
                  "IncomingBytes": 184320000, "open_shards": 4, ...}, ...]}

`minutes` are the most recent published minutes (CloudWatch names), oldest
first. With `enhanced_monitoring = true` in the scenario's [stream], each
minute also has `shards`: the shard-level metrics (`ShardId`,
`IncomingRecords`, ...); this example does not use them. The program answers with one JSON line on stdout:

    {"target_shards": 6}      ask for UpdateShardCount to 6 shards
    {"target_shards": null}   do nothing

This one keeps write utilisation (the larger of bytes and records against
capacity) of the latest minute near TARGET, like target tracking: it scales
out at most every 5 minutes and in at most every 15, waits while the stream is UPDATING, and stays within the service's
limits (at most double, at least half). Keep it deterministic: no clocks,
no randomness; the time to use is the observation's `time_s`.
"""

import json
import math
import sys

TARGET = 0.7
MIB = 1024 * 1024
MIN_SHARDS, MAX_SHARDS = 1, 64
OUT_COOLDOWN_S, IN_COOLDOWN_S = 300, 900

last_action_s = None


def decide(obs):
    global last_action_s
    if obs["updating"] or not obs["minutes"]:
        return None
    since = math.inf if last_action_s is None else obs["time_s"] - last_action_s
    last = obs["minutes"][-1]
    shards = obs["open_shards"]
    capacity = max(last["open_shards"], 1) * 60
    utilisation = max(
        last["IncomingBytes"] / (capacity * MIB),
        last["IncomingRecords"] / (capacity * 1000),
    )
    # The minute's load needs this many shards at the target; count from the
    # shards the minute had, not the current count (which may have changed).
    wanted = max(1, math.ceil(max(last["open_shards"], 1) * utilisation / TARGET))
    out = utilisation > TARGET and since >= OUT_COOLDOWN_S
    scale_in = utilisation < 0.9 * TARGET and since >= IN_COOLDOWN_S
    if out or scale_in:
        wanted = min(max(wanted, math.ceil(shards / 2)), 2 * shards)
        wanted = min(max(wanted, MIN_SHARDS), MAX_SHARDS)
        if wanted != shards:
            last_action_s = obs["time_s"]
            return wanted
    return None


def main():
    for line in sys.stdin:
        obs = json.loads(line)
        print(json.dumps({"target_shards": decide(obs)}), flush=True)


if __name__ == "__main__":
    main()
