//! Test-only fault injection. The variable `FAULT_INJECTION` holds a comma list of
//! faults; it is set only by the test command's second runtime, never in production:
//!
//! - `fail_first_delivery`: the click consumer fails every batch holding a message it
//!   has not seen before, halfway: after writing the messages seen before and half of the
//!   new ones; the redelivery must add exactly the rest: nothing lost, nothing twice;
//! - `rollup_crash_once`: the first rollup run with at least five dirty days fails inside
//!   the transaction of its second day (after the delete and the rebuild), like a run
//!   killed midway.

use std::cell::Cell;

use worker::Env;

const VAR: &str = "FAULT_INJECTION";
pub const FAIL_FIRST_DELIVERY: &str = "fail_first_delivery";
pub const ROLLUP_CRASH_ONCE: &str = "rollup_crash_once";

thread_local! {
    static ROLLUP_CRASHED: Cell<bool> = const { Cell::new(false) };
}

/// Whether fault `name` is switched on.
pub fn enabled(env: &Env, name: &str) -> bool {
    env.var(VAR)
        .map(|v| v.to_string().split(',').any(|f| f.trim() == name))
        .unwrap_or(false)
}

/// Whether this rollup run, with `dirty_days` to roll up, should crash (once per isolate).
pub fn rollup_crash(env: &Env, dirty_days: usize) -> bool {
    if dirty_days < 5 || ROLLUP_CRASHED.get() || !enabled(env, ROLLUP_CRASH_ONCE) {
        return false;
    }
    ROLLUP_CRASHED.set(true);
    true
}
