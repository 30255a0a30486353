//! The clicks queue consumer: each message carries one event or more, one a line
//! (`domain::tracking::packing`); a queue batch's events are written to their shards in
//! D1 batches of at most [`WRITE_EVENTS`]. The user agent is classified here, off the
//! redirect's path.

use std::cell::RefCell;
use std::collections::HashSet;

use worker::{D1Database, Env, Message, MessageBatch, MessageExt};

use crate::domain::tracking::click::CapturedEvent;
use crate::domain::tracking::packing;
use crate::domain::tracking::user_agent::{Classifier, UserAgentInfo};
use crate::faults;
use crate::storage::{shards, tracking, StorageError, DB_BINDING};

/// The most events one D1 batch writes: a queue batch of 100 packed messages can carry
/// thousands, and their clicks go to D1 as one JSON parameter (at most 2 MB in D1), about
/// 500 bytes a click.
const WRITE_EVENTS: usize = 500;

/// Writes the batch, then acknowledges it; on a storage failure retries the whole batch
/// (the event ids make the retry harmless). Never returns an error: a queue handler that
/// fails aborts the Wasm instance.
pub async fn consume(batch: MessageBatch<String>, env: &Env) {
    let messages = match batch.messages() {
        Ok(messages) => messages,
        Err(error) => {
            worker::console_error!("reading the queue batch failed: {error}");
            batch.retry_all();
            return;
        }
    };
    let fault = faults::on(faults::FAIL_FIRST_DELIVERY);
    let mut events = Vec::with_capacity(messages.len());
    // Fault `fail_first_delivery`: which events arrive for the first time.
    let mut fresh = Vec::new();
    for message in &messages {
        let first = fault && first_delivery(message);
        for line in packing::events(message.body()) {
            match serde_json::from_str::<CapturedEvent>(line) {
                Ok(event) => {
                    let agent = AGENTS.with_borrow_mut(|agents| agents.classify(&event.user_agent));
                    events.push((event, agent));
                    if fault {
                        fresh.push(first);
                    }
                }
                // An event that cannot be read now never will be: log it and let it go
                // (its message's other events are written).
                Err(error) => {
                    worker::console_error!(
                        "dropping an unreadable event of queue message {}: {error}",
                        message.id()
                    );
                }
            }
        }
    }
    let new_events = fresh.iter().filter(|f| **f).count();
    let crash = new_events > 0;
    if crash {
        // Test-only: die halfway, after writing the events seen before and half of the
        // new ones; every event is then written by its second delivery at the latest.
        let mut kept_new = 0;
        let mut flags = fresh.iter();
        events.retain(|_| match flags.next() {
            Some(true) if kept_new < new_events / 2 => {
                kept_new += 1;
                true
            }
            Some(true) => false,
            _ => true,
        });
    }
    let count = events.len();
    let written = match env.d1(DB_BINDING) {
        Ok(db) => write_sharded(env, &db, events).await,
        Err(error) => Err(error.into()),
    };
    match written {
        Ok(()) if crash => {
            worker::console_log!("fault injection: failing the first delivery of this batch");
            batch.retry_all();
        }
        Ok(()) => batch.ack_all(),
        Err(error) => {
            worker::console_error!("writing {count} events failed, retrying the batch: {error}");
            batch.retry_all();
        }
    }
}

/// Writes each program's events to its event shard, [`WRITE_EVENTS`] a D1 batch.
async fn write_sharded(
    env: &Env,
    main: &D1Database,
    events: Vec<(CapturedEvent, UserAgentInfo)>,
) -> Result<(), StorageError> {
    let ids: Vec<&str> = events.iter().map(|(e, _)| e.program_id.as_str()).collect();
    let shard_of = shards::shards_of(main, &ids).await?;
    let mut by_shard: Vec<(&str, Vec<(CapturedEvent, UserAgentInfo)>)> = Vec::new();
    for (event, agent) in events {
        let shard = shard_of
            .get(&event.program_id)
            .map_or(DB_BINDING, String::as_str);
        match by_shard.iter_mut().find(|(s, _)| *s == shard) {
            Some((_, group)) => group.push((event, agent)),
            None => by_shard.push((shard, vec![(event, agent)])),
        }
    }
    let now = worker::Date::now().as_millis() as i64;
    for (shard, group) in by_shard {
        let db = shards::events_db(env, shard)?;
        for chunk in group.chunks(WRITE_EVENTS) {
            tracking::write(main, &db, chunk, now).await?;
        }
    }
    Ok(())
}

// The user agents this isolate has classified.
thread_local! {
    static AGENTS: RefCell<Classifier> = RefCell::new(Classifier::new(4096));
}

// Messages this isolate has seen (fault `fail_first_delivery`).
thread_local! {
    static SEEN: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
}

/// Whether this is the message's first delivery to this isolate (and remembers it).
fn first_delivery(message: &Message<String>) -> bool {
    SEEN.with_borrow_mut(|seen| seen.insert(message.id()))
}
