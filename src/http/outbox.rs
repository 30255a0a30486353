//! The isolate's click outbox: captured events wait here a few milliseconds and go to the
//! queue together, packed into as few messages as fit them (`domain::tracking::packing`),
//! in one `sendBatch`, instead of one queue call and one message per click.
//!
//! The first event into an empty outbox hands the runtime (`waitUntil`) the flusher: a
//! task that sleeps [`GATHER_MS`], then sends everything gathered meanwhile by any request
//! of this isolate. Each event is therefore sent by a task the runtime keeps alive until it
//! finishes, and a queue error is logged with the number of events it concerned. The
//! other events of the batch cost their requests no task, no promise and no `waitUntil`.

use std::cell::RefCell;
use std::time::Duration;

use worker::{Context, Delay, Env};

use crate::domain::tracking::packing;

pub const CLICKS_QUEUE: &str = "CLICKS";

/// How long the first event of a batch waits for company.
const GATHER_MS: u64 = 20;

thread_local! {
    static OUTBOX: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Adds an encoded event to the outbox without waiting: the caller that finds it empty
/// hands the runtime (`waitUntil`) the task that gathers and sends it.
pub fn push_now(env: &Env, ctx: &Context, body: String) {
    if add(body) {
        let env = env.clone();
        ctx.wait_until(async move { gather_and_flush(&env).await });
    }
}

/// Adds an encoded event to the outbox from a task the runtime already waits for; the
/// caller that finds it empty gathers and sends.
pub async fn push(env: &Env, body: String) {
    if add(body) {
        gather_and_flush(env).await;
    }
}

/// Whether `body` is the first event of a new batch.
fn add(body: String) -> bool {
    OUTBOX.with_borrow_mut(|outbox| {
        outbox.push(body);
        outbox.len() == 1
    })
}

async fn gather_and_flush(env: &Env) {
    Delay::from(Duration::from_millis(GATHER_MS)).await;
    flush(env).await;
}

async fn flush(env: &Env) {
    let events = OUTBOX.with_borrow_mut(std::mem::take);
    let queue = match env.queue(CLICKS_QUEUE) {
        Ok(queue) => queue,
        Err(error) => {
            worker::console_error!(
                "clicks queue binding missing, {} events not sent: {error}",
                events.len()
            );
            return;
        }
    };
    let messages = packing::pack(&events);
    for range in packing::sends(&messages) {
        let messages = &messages[range];
        if let Err(error) = super::edge_io::send_texts_batch(&queue, messages).await {
            let events: usize = messages.iter().map(|m| packing::events(m).count()).sum();
            worker::console_error!(
                "sending {events} events in {} messages to the queue failed: {error:?}",
                messages.len()
            );
        }
    }
}
