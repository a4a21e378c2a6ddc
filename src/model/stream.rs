//! The stream service: what Kinesis does with one PutRecord(s) entry, with
//! no knowledge of events or producers. It routes the record by its hash key
//! (KDS-REFERENCE.md §1), admits it against the shard's write limits and, in
//! on-demand mode, the stream's capacity (§4a, §5.3), numbers it (§3) and
//! bills it (§6). An engine writes through it (the record engine today); the control plane
//! ([`super::control`]) reshapes its shards and sets its on-demand capacity.

use crate::kds::{
    EpochNanos, HashKey, Limiter, Quota, ShardId, ShardMap, Throttle, WriteLimit, prices,
};
use crate::metrics::Metrics;
use crate::scenario::StreamSpec;
use crate::sim::SimTime;
use crate::units::NANOS_PER_SEC;

/// The stream-level write capacity of an on-demand stream.
#[derive(Debug)]
pub(crate) struct OnDemandCapacity {
    /// Records/s and bytes/s for the whole stream, one second deep.
    pub(crate) limiter: Limiter,
    /// Offered bytes per shard in the current minute, for the service's
    /// own splits.
    pub(crate) minute_bytes: Vec<u64>,
}

/// The stream's data plane: shards, their limiters, the capacity mode.
#[derive(Debug)]
pub(crate) struct StreamService {
    map: ShardMap,
    limiters: Vec<Limiter>,
    on_demand: Option<OnDemandCapacity>,
    start: EpochNanos,
    write_limit: WriteLimit,
    max_record: u64,
    payload_unit: u64,
}

impl StreamService {
    /// A stream created with `shards` shards at `start`, as `spec` describes.
    /// `shards` was validated (1 to the service's maximum).
    pub(crate) fn create(spec: &StreamSpec, shards: u32, start: EpochNanos) -> StreamService {
        let map = ShardMap::create(shards, start).expect("validated shard count");
        let mut service = StreamService {
            map,
            limiters: Vec::new(),
            on_demand: None,
            start,
            write_limit: spec.write_limit,
            max_record: spec.max_record_bytes,
            payload_unit: spec.prices.payload_unit_bytes,
        };
        service.grow();
        service
    }

    /// The shards, open and closed, with their lineage.
    #[inline]
    pub(crate) fn map(&self) -> &ShardMap {
        &self.map
    }

    /// The shards at the end of a run.
    pub(crate) fn into_map(self) -> ShardMap {
        self.map
    }

    /// The shard map, for the control plane's splits and merges.
    pub(crate) fn map_mut(&mut self) -> &mut ShardMap {
        &mut self.map
    }

    /// Gives shards that resharding created a limiter (full: a fresh shard
    /// has no history).
    pub(crate) fn grow(&mut self) {
        let n = self.map.shards().len();
        while self.limiters.len() < n {
            self.limiters.push(Limiter::new(
                self.write_limit,
                Quota::WriteRecordsPerShardPerSec.value(),
                Quota::WriteBytesPerShardPerSec.value(),
                self.max_record,
            ));
        }
        if let Some(od) = self.on_demand.as_mut() {
            od.minute_bytes.resize(n, 0);
        }
    }

    /// Simulated time as the service's clock.
    #[inline]
    pub(crate) fn epoch(&self, now: SimTime) -> EpochNanos {
        EpochNanos(self.start.0 + now)
    }

    /// Whether the stream is in on-demand mode.
    #[inline]
    pub(crate) fn is_on_demand(&self) -> bool {
        self.on_demand.is_some()
    }

    /// The on-demand capacity, if the stream is on-demand.
    pub(crate) fn on_demand_mut(&mut self) -> Option<&mut OnDemandCapacity> {
        self.on_demand.as_mut()
    }

    /// Switches the capacity mode. On-demand starts at `records`/s and
    /// `bytes`/s; provisioned keeps the shards and their limits.
    pub(crate) fn set_on_demand(&mut self, capacity: Option<(u64, u64)>) {
        self.on_demand = capacity.map(|(records, bytes)| OnDemandCapacity {
            limiter: Limiter::new(
                WriteLimit::TokenBucket {
                    burst: NANOS_PER_SEC,
                },
                records,
                bytes,
                self.max_record,
            ),
            minute_bytes: vec![0; self.map.shards().len()],
        });
    }

    /// Bytes of one PUT payload unit (25 KiB unless a price file says else).
    pub(crate) fn payload_unit(&self) -> u64 {
        self.payload_unit
    }

    /// One attempt to write one Kinesis record of `bytes` (data plus
    /// partition key) with hash key `hash` at `now`: the shard it routes to,
    /// and whether it was accepted. Counted in `metrics` (offered, accepted
    /// or throttled, and billed); an accepted record gets its sequence number.
    #[inline]
    pub(crate) fn put(
        &mut self,
        now: SimTime,
        hash: u128,
        bytes: u64,
        metrics: &mut Metrics,
    ) -> (ShardId, Result<(), Throttle>) {
        let shard = self.map.shard_for_hash_key(HashKey(hash));
        let i = shard.index() as usize;
        let outcome = match self.on_demand.as_mut() {
            None => self.limiters[i].admit(now, bytes),
            Some(od) => {
                // Both the stream-level capacity and the shard must pass.
                od.minute_bytes[i] += bytes;
                let stream = od.limiter.check(now, bytes);
                let shard = self.limiters[i].check(now, bytes);
                match (stream, shard) {
                    (Ok(()), Ok(())) => {
                        od.limiter.take(bytes);
                        self.limiters[i].take(bytes);
                        Ok(())
                    }
                    (a, b) => {
                        let (a, b) = (a.err(), b.err());
                        Err(Throttle {
                            by_records: a.is_some_and(|t| t.by_records)
                                || b.is_some_and(|t| t.by_records),
                            by_bytes: a.is_some_and(|t| t.by_bytes)
                                || b.is_some_and(|t| t.by_bytes),
                        })
                    }
                }
            }
        };
        metrics.attempt(i, bytes, outcome);
        if outcome.is_ok() {
            // The service numbers the record; the run only needs it to exist.
            let _ = self.map.next_sequence_number(shard, self.epoch(now));
            let billing = &mut metrics.billing[usize::from(self.on_demand.is_some())];
            if self.on_demand.is_some() {
                billing.billed_in_bytes += prices::billed_in_bytes(bytes);
            } else {
                billing.payload_units += prices::payload_units(bytes, self.payload_unit);
            }
        }
        (shard, outcome)
    }
}
