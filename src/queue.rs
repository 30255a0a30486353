//! The clicks queue consumer: each queue batch becomes one D1 batch. The user agent is
//! classified here, off the redirect's path.

use std::cell::RefCell;
use std::collections::HashSet;

use worker::{Env, Message, MessageBatch, MessageExt};

use crate::domain::click::CapturedEvent;
use crate::domain::user_agent::classify;
use crate::faults;
use crate::storage::{tracking, DB_BINDING};

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
    let mut events = Vec::with_capacity(messages.len());
    for message in &messages {
        match serde_json::from_str::<CapturedEvent>(message.body()) {
            Ok(event) => {
                let agent = classify(&event.user_agent);
                events.push((event, agent));
            }
            // A message that cannot be read now never will be: log it and let it go.
            Err(error) => {
                worker::console_error!(
                    "dropping unreadable queue message {}: {error}",
                    message.id()
                );
                message.ack();
            }
        }
    }
    let crash = faults::enabled(env, faults::FAIL_FIRST_DELIVERY) && first_delivery(&messages);
    if crash {
        // Test-only: die halfway, after writing the first half of the batch.
        events.truncate(events.len() / 2);
    }
    let written = match env.d1(DB_BINDING) {
        Ok(db) => tracking::write(&db, &events, worker::Date::now().as_millis() as i64)
            .await
            .map(drop),
        Err(error) => Err(error),
    };
    match written {
        Ok(()) if crash => {
            worker::console_log!("fault injection: failing the first delivery of this batch");
            batch.retry_all();
        }
        Ok(()) => batch.ack_all(),
        Err(error) => {
            worker::console_error!(
                "writing {} events failed, retrying the batch: {error}",
                events.len()
            );
            batch.retry_all();
        }
    }
}

// Messages this isolate has seen (fault `fail_first_delivery`).
thread_local! {
    static SEEN: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
}

/// Whether any message of the batch arrives for the first time (and remembers them all).
fn first_delivery(messages: &[Message<String>]) -> bool {
    SEEN.with_borrow_mut(|seen| {
        let mut first = false;
        for message in messages {
            first |= seen.insert(message.id());
        }
        first
    })
}
