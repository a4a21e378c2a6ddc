#!/usr/bin/env python3
"""Writes the example traces of scenarios/traces/ (deterministic: fixed seeds).

    python3 scenarios/traces/generate.py

- orders.csv: a record trace (RFC 3339 times, partition keys, sizes): 30 s of
  an order service at about 300 records/s whose customer-42 sends 30 %.
- clicks.jsonl: JSON Lines with epoch-millisecond times and explicit hash
  keys only (keys hashed beforehand, so no raw key leaves the team).
- hot-shard.csv: an aggregate trace: records and bytes per second per shard
  of a 4-shard stream, as a hot-shard analysis would export, with shard 1
  hot for two minutes.
- incoming-records.json: what `aws cloudwatch get-metric-data` prints for
  IncomingRecords (Sum, 60 s) over three hours of a morning ramp, newest
  first as the CLI returns it.
"""

import datetime
import hashlib
import json
import math
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
START = datetime.datetime(2025, 3, 1, 9, 0, 0, tzinfo=datetime.timezone.utc)


def rfc3339(t):
    return (START + datetime.timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def orders():
    rng = random.Random(42)
    t, lines = 0.0, ["timestamp,partition_key,size,status"]
    while True:
        t += rng.expovariate(300.0)
        if t >= 30.0:
            break
        if rng.random() < 0.3:
            key = "customer-42"
        else:
            key = "customer-%d" % rng.randint(1000, 99999)
        size = int(min(900_000, rng.lognormvariate(math.log(1200), 0.5)))
        lines.append("%s,%s,%d,%s" % (rfc3339(t), key, size, rng.choice(["new", "paid"])))
    return lines


def clicks():
    rng = random.Random(7)
    t, lines = 0.0, []
    while True:
        t += rng.expovariate(100.0)
        if t >= 30.0:
            break
        user = "user-%d" % int(rng.paretovariate(1.2))
        h = int.from_bytes(hashlib.md5(user.encode()).digest(), "big")
        ms = int(START.timestamp() * 1000 + t * 1000)
        lines.append(json.dumps({"ts": ms, "explicit_hash_key": str(h), "bytes": rng.randint(200, 800)}))
    return lines


def hot_shard():
    rng = random.Random(3)
    lines = ["timestamp,shard_id,records,bytes"]
    for s in range(600):
        for shard in range(4):
            base = 600
            if shard == 1 and 240 <= s < 360:
                base = 1400
            n = max(0, int(rng.gauss(base, base ** 0.5)))
            lines.append("%d,shardId-%012d,%d,%d" % (int(START.timestamp()) + s, shard, n, n * 500))
    return lines


def incoming_records():
    rng = random.Random(11)
    stamps, values = [], []
    for m in range(180):
        rate = 1500 + 2500 / (1 + math.exp(-(m - 90) / 12.0))
        stamps.append((START + datetime.timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%S+00:00"))
        values.append(float(round(rate * 60 * rng.uniform(0.95, 1.05))))
    # The same query's IncomingBytes: records of about 1,150 bytes (data
    # plus key), from its own generator so the records stay as they were.
    sizes = random.Random(12)
    nbytes = [float(round(v * sizes.uniform(1120, 1180))) for v in values]
    return {
        "MetricDataResults": [
            {
                "Id": "records",
                "Label": "IncomingRecords",
                "Timestamps": stamps[::-1],
                "Values": values[::-1],
                "StatusCode": "Complete",
            },
            {
                "Id": "bytes",
                "Label": "IncomingBytes",
                "Timestamps": stamps[::-1],
                "Values": nbytes[::-1],
                "StatusCode": "Complete",
            },
        ],
        "Messages": [],
    }


def write(name, lines):
    with open(os.path.join(HERE, name), "w") as f:
        f.write("\n".join(lines) + "\n")


write("orders.csv", orders())
write("clicks.jsonl", clicks())
write("hot-shard.csv", hot_shard())
with open(os.path.join(HERE, "incoming-records.json"), "w") as f:
    json.dump(incoming_records(), f, indent=2)
    f.write("\n")
