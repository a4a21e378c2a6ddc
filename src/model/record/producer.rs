//! The write path of the record engine: a producer makes a user record,
//! aggregates it (KPL), batches it (PutRecords) and sends it through the
//! stream service; a throttled record is retried after a backoff, or fails.

use super::{Engine, Event, NO_SLOT, OpenAggregate, Record};
use crate::kds::{AGGREGATE_FIXED_BYTES, AGGREGATE_PER_RECORD_BYTES, HashKey};
use crate::model::{SimError, backoff};
use crate::scenario::Api;
use crate::sim::{EventQueue, SimTime};

impl Engine<'_> {
    /// Asks for producer `producer`'s next arrival after `now`; a trace's
    /// malformed line is the run's error.
    pub(super) fn schedule_arrival(
        &mut self,
        producer: u32,
        now: SimTime,
        queue: &mut EventQueue<Event>,
    ) -> Result<(), SimError> {
        let p = &mut self.producers[producer as usize];
        if let Some(trace) = p.trace.as_mut() {
            match trace.next(self.scenario.duration, &mut p.arrivals, &mut p.keys) {
                Ok(Some(r)) => {
                    p.trace_next = Some(r);
                    queue.push(r.at.max(now), Event::Arrival { producer });
                }
                Ok(None) => {}
                // A malformed line ends the run.
                Err(e) => return Err(SimError::Trace(e)),
            }
            return Ok(());
        }
        let group = &self.scenario.producers[p.group as usize];
        let (bounds, end) = self.rate_bounds[p.group as usize];
        if let Some(t) = group.arrivals.next(
            &self.rates[p.group as usize],
            &bounds,
            p.share,
            now,
            end,
            &mut p.arrivals,
        ) {
            queue.push(t, Event::Arrival { producer });
        }
        Ok(())
    }

    /// A user record is made: its key and size, then the client's checks.
    pub(super) fn arrival(&mut self, producer: u32, now: SimTime, queue: &mut EventQueue<Event>) {
        let p = &mut self.producers[producer as usize];
        let g = p.group as usize;
        let group = &self.scenario.producers[g];
        let (key, size) = match p.trace_next.take() {
            Some(r) => (
                crate::workload::KeyPick {
                    index: r.key,
                    hash: r.hash,
                    key_bytes: r.key_bytes,
                },
                r.size.unwrap_or_else(|| group.size.sample(&mut p.sizes)),
            ),
            None => (
                group.keys.pick(&mut p.keys),
                group.size.sample(&mut p.sizes),
            ),
        };
        let bytes = size.saturating_add(u64::from(key.key_bytes));
        self.metrics.producer_second.produced += 1;
        if bytes > self.max_record {
            self.metrics.producer_second.rejected_too_large += 1;
            return;
        }
        // What can reach the stream (not records refused as too large).
        self.keys[g].offered_bytes += bytes;
        self.keys[g].offered_records += 1;
        if p.outstanding >= group.buffer_limit {
            self.metrics.producer_second.dropped_buffer_full += 1;
            return;
        }
        p.outstanding += 1;
        if key.index == u32::MAX {
            let shard = self.service.map().shard_for_hash_key(HashKey(key.hash));
            self.metrics.shard_totals[shard.index() as usize].random_keys += 1;
        } else {
            let k = &mut self.keys[g];
            let i = key.index as usize;
            if i >= k.records.len() {
                // A trace's keys are learnt as they come.
                k.records.resize(i + 1, 0);
                k.bytes.resize(i + 1, 0);
            }
            k.records[i] += 1;
            k.bytes[i] += bytes;
        }
        let record = Record {
            hash: key.hash,
            born: now,
            // At most 10 MiB: fits.
            bytes: bytes as u32,
            attempts: 0,
            users: 1,
            births: NO_SLOT,
        };
        if group.aggregation.is_some() {
            self.aggregate(producer, record, now, queue);
        } else {
            self.submit(producer, record, now, queue);
        }
    }

    /// Adds a user record to its predicted shard's aggregate, completing the
    /// aggregate first if the record would not fit.
    fn aggregate(
        &mut self,
        producer: u32,
        record: Record,
        now: SimTime,
        queue: &mut EventQueue<Event>,
    ) {
        let p = &self.producers[producer as usize];
        let agg = self.scenario.producers[p.group as usize]
            .aggregation
            .expect("only aggregating groups aggregate");
        let shard = self
            .service
            .map()
            .shard_for_hash_key(HashKey(record.hash))
            .index() as usize;
        let cost = u64::from(record.bytes) + AGGREGATE_PER_RECORD_BYTES;
        let key = shard as u32;
        if p.aggregates
            .get(&key)
            .is_some_and(|open| open.bytes + cost > agg.max_size)
        {
            self.complete_aggregate(producer, shard, now, queue);
        }
        if !self.producers[producer as usize]
            .aggregates
            .contains_key(&key)
        {
            let slot = match self.free_births.pop() {
                Some(slot) => slot,
                None => {
                    self.births.push(Vec::new());
                    self.births.len() as u32 - 1
                }
            };
            let p = &mut self.producers[producer as usize];
            p.aggregate_generation = p.aggregate_generation.wrapping_add(1);
            let generation = p.aggregate_generation;
            p.aggregates.insert(
                key,
                OpenAggregate {
                    births: slot,
                    hash: record.hash,
                    bytes: AGGREGATE_FIXED_BYTES,
                    first_bytes: record.bytes,
                    count: 0,
                    generation,
                },
            );
            queue.push(
                now + agg.max_buffered_time,
                Event::AggregateDue {
                    producer,
                    shard: key,
                    generation,
                },
            );
        }
        let a = self.producers[producer as usize]
            .aggregates
            .get_mut(&key)
            .expect("opened above");
        self.births[a.births as usize].push(record.born);
        a.bytes += cost;
        a.count += 1;
        if a.bytes >= agg.max_size {
            self.complete_aggregate(producer, shard, now, queue);
        }
    }

    /// Turns an open aggregate into a Kinesis record and hands it to the
    /// client. A lone user record is sent as itself, as the KPL does.
    pub(super) fn complete_aggregate(
        &mut self,
        producer: u32,
        shard: usize,
        now: SimTime,
        queue: &mut EventQueue<Event>,
    ) {
        let Some(a) = self.producers[producer as usize]
            .aggregates
            .remove(&(shard as u32))
        else {
            return;
        };
        let (slot, count) = (a.births, a.count);
        let born = self.births[slot as usize][0];
        let record = if count == 1 {
            self.release_births(slot);
            Record {
                hash: a.hash,
                born,
                bytes: a.first_bytes,
                attempts: 0,
                users: 1,
                births: NO_SLOT,
            }
        } else {
            self.metrics.producer_second.aggregates += 1;
            Record {
                hash: a.hash,
                born,
                // At most max_size, itself at most the 10 MiB record maximum.
                bytes: a.bytes as u32,
                attempts: 0,
                users: count,
                births: slot,
            }
        };
        self.submit(producer, record, now, queue);
    }

    fn release_births(&mut self, slot: u32) {
        self.births[slot as usize].clear();
        self.free_births.push(slot);
    }

    /// Hands a record to the client: sent at once (PutRecord) or batched.
    pub(super) fn submit(
        &mut self,
        producer: u32,
        record: Record,
        now: SimTime,
        queue: &mut EventQueue<Event>,
    ) {
        let p = &mut self.producers[producer as usize];
        let group = &self.scenario.producers[p.group as usize];
        match group.api {
            Api::PutRecord => {
                self.metrics.producer_second.put_record_calls += 1;
                self.send(producer, record, now, false, queue);
            }
            Api::PutRecords {
                max_records,
                max_bytes,
                linger,
            } => {
                if p.batch_bytes + u64::from(record.bytes) > max_bytes {
                    self.flush(producer, now, queue);
                }
                let p = &mut self.producers[producer as usize];
                if p.batch.is_empty() && linger > 0 {
                    queue.push(
                        now + linger,
                        Event::Linger {
                            producer,
                            generation: p.generation,
                        },
                    );
                }
                p.batch.push(record);
                p.batch_bytes += u64::from(record.bytes);
                if p.batch.len() as u32 >= max_records || linger == 0 {
                    self.flush(producer, now, queue);
                }
            }
        }
    }

    /// Sends the batch as one PutRecords call.
    pub(super) fn flush(&mut self, producer: u32, now: SimTime, queue: &mut EventQueue<Event>) {
        let p = &mut self.producers[producer as usize];
        p.generation = p.generation.wrapping_add(1);
        if p.batch.is_empty() {
            return;
        }
        let mut batch = std::mem::take(&mut p.batch);
        p.batch_bytes = 0;
        self.metrics.producer_second.put_records_calls += 1;
        for &record in &batch {
            self.send(producer, record, now, true, queue);
        }
        // Hand the allocation back: no allocation per batch in steady state.
        batch.clear();
        self.producers[producer as usize].batch = batch;
    }

    /// One attempt of one record at the shard its hash key routes to.
    fn send(
        &mut self,
        producer: u32,
        mut record: Record,
        now: SimTime,
        in_batch: bool,
        queue: &mut EventQueue<Event>,
    ) {
        record.attempts += 1;
        let bytes = u64::from(record.bytes);
        let (shard, outcome) = self.service.put(now, record.hash, bytes, &mut self.metrics);
        let users = u64::from(record.users);
        let p = &mut self.producers[producer as usize];
        let group = &self.scenario.producers[p.group as usize];
        let answered = now + group.request_latency;
        if in_batch {
            self.metrics.producer_second.put_records_total += 1;
        }
        match outcome {
            Ok(()) => {
                self.readers.append(shard.index() as usize, now, bytes);
                if in_batch {
                    self.metrics.producer_second.put_records_successful += 1;
                }
                p.outstanding -= users;
                self.metrics.producer_second.accepted += users;
                if record.births == NO_SLOT {
                    self.metrics.latency(answered - record.born);
                } else {
                    for &born in &self.births[record.births as usize] {
                        self.metrics.latency(answered - born);
                    }
                    self.release_births(record.births);
                }
            }
            Err(_) => {
                if in_batch {
                    self.metrics.producer_second.put_records_throttled += 1;
                }
                let retry = &group.retry;
                if record.attempts >= retry.max_attempts {
                    self.metrics.producer_second.failed_after_retries += users;
                    p.outstanding -= users;
                    self.release_aggregate(record);
                    return;
                }
                let at = answered + backoff(retry, record.attempts, &mut p.retries);
                if retry.ttl.is_some_and(|ttl| at - record.born >= ttl) {
                    self.metrics.producer_second.expired += users;
                    p.outstanding -= users;
                    self.release_aggregate(record);
                } else {
                    self.metrics.producer_second.retries += 1;
                    let slot = match self.free_slots.pop() {
                        Some(slot) => {
                            self.parked[slot as usize] = record;
                            slot
                        }
                        None => {
                            self.parked.push(record);
                            self.parked.len() as u32 - 1
                        }
                    };
                    queue.push(at, Event::Retry { producer, slot });
                }
            }
        }
    }

    fn release_aggregate(&mut self, record: Record) {
        if record.births != NO_SLOT {
            self.release_births(record.births);
        }
    }
}
