//! Test-only fault injection. The variable `FAULT_INJECTION` holds a comma list of
//! faults; it is set only by the test command's second runtime, never in production:
//!
//! - `fail_first_delivery`: the click consumer fails every batch holding a message it
//!   has not seen before, halfway: after writing the messages seen before and half of the
//!   new ones; the redelivery must add exactly the rest: nothing lost, nothing twice;
//! - `rollup_crash_once`: the first rollup run with at least five dirty days fails inside
//!   the transaction of its second day (after the delete and the rebuild), like a run
//!   killed midway;
//! - `fail_storage_once`: the first write of a conversion whose order id starts with
//!   `fail-once-` fails in D1 (its transaction is refused after the insert), like a
//!   database that fails mid-request; the sender's retry must record it exactly once;
//! - `archive_fails_midway`: every archive write of a program whose name starts with
//!   `archive-fails-` stores half the object in R2 and then fails, like a write cut off;
//!   nothing of the day may leave D1;
//! - `slow_shard_read`: a rollup that reads another event shard's facts holding a program
//!   whose name starts with `slow-rollup-` waits 8 s before writing the day, the first
//!   time for each such program in the isolate, like a run in another isolate that read
//!   before a click was stored and writes after a later run: the later read must win.
//! - `panic_route`: `GET /__fault/panic` panics, as a bug would: that request fails, and
//!   the next one must be served by a fresh instance of the module (the panic recovery
//!   src/entry.mjs relies on; tests/e2e/panic.test.mjs starts its own runtime for it).
//!
//! The list is read once per isolate (`configure`, at every entry point).

use std::cell::{Cell, RefCell};
use std::collections::HashSet;

use worker::{D1Database, Env};

use crate::storage::{programs, StorageError};

const VAR: &str = "FAULT_INJECTION";
pub const FAIL_FIRST_DELIVERY: &str = "fail_first_delivery";
pub const ROLLUP_CRASH_ONCE: &str = "rollup_crash_once";
pub const FAIL_STORAGE_ONCE: &str = "fail_storage_once";
pub const ARCHIVE_FAILS_MIDWAY: &str = "archive_fails_midway";
/// The program-name prefix `archive_fails_midway` applies to.
pub const ARCHIVE_FAILS_PREFIX: &str = "archive-fails-";
pub const SLOW_SHARD_READ: &str = "slow_shard_read";
/// The program-name prefix `slow_shard_read` applies to.
pub const SLOW_SHARD_READ_PREFIX: &str = "slow-rollup-";
const SLOW_SHARD_READ_MS: u64 = 8_000;
pub const PANIC_ROUTE: &str = "panic_route";
/// The order-id prefix `fail_storage_once` applies to.
const FAIL_ONCE_PREFIX: &str = "fail-once-";

thread_local! {
    static ON: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
    static ROLLUP_CRASHED: Cell<bool> = const { Cell::new(false) };
    static FAILED_WRITES: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
    static SLOWED: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
}

/// Reads `FAULT_INJECTION`, once per isolate.
pub fn configure(env: &Env) {
    if ON.with_borrow(Option::is_some) {
        return;
    }
    let faults = env
        .var(VAR)
        .map(|v| {
            v.to_string()
                .split(',')
                .map(|f| f.trim().to_owned())
                .collect()
        })
        .unwrap_or_default();
    ON.set(Some(faults));
}

/// Whether fault `name` is switched on.
pub fn on(name: &str) -> bool {
    ON.with_borrow(|faults| faults.as_ref().is_some_and(|f| f.iter().any(|x| x == name)))
}

/// Whether this rollup run, with `dirty_days` to roll up, should crash (once per isolate).
pub fn rollup_crash(dirty_days: usize) -> bool {
    if dirty_days < 5 || ROLLUP_CRASHED.get() || !on(ROLLUP_CRASH_ONCE) {
        return false;
    }
    ROLLUP_CRASHED.set(true);
    true
}

/// Whether the write of the conversion with `order_key` should fail (the first time).
pub fn fail_write(order_key: Option<&str>) -> bool {
    let Some(key) = order_key.filter(|k| k.starts_with(FAIL_ONCE_PREFIX)) else {
        return false;
    };
    on(FAIL_STORAGE_ONCE) && FAILED_WRITES.with_borrow_mut(|failed| failed.insert(key.to_owned()))
}

/// Waits after a rollup read another shard's `facts` (JSON lines), if `slow_shard_read`
/// slows one of their programs now (named in the main database `db`).
pub async fn pause_after_shard_read(db: &D1Database, facts: &[String]) -> Result<(), StorageError> {
    if !on(SLOW_SHARD_READ) || facts.is_empty() {
        return Ok(());
    }
    let slow = programs::ids_named(db, SLOW_SHARD_READ_PREFIX).await?;
    let hit = slow.into_iter().find(|id| {
        let field = format!("\"program_id\":\"{id}\"");
        facts.iter().any(|line| line.contains(&field))
            && SLOWED.with_borrow_mut(|seen| seen.insert(id.clone()))
    });
    if let Some(id) = hit {
        worker::console_log!("fault injection: pausing a rollup after reading {id}'s facts");
        worker::Delay::from(std::time::Duration::from_millis(SLOW_SHARD_READ_MS)).await;
    }
    Ok(())
}
