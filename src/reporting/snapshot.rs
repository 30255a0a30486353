//! The paging snapshot: the rows of the reports this isolate computed in the last
//! minute, keyed by everything but the page.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::domain::reporting::Row;

/// How long the pages after a report's first come from its snapshot.
const KEPT_MS: i64 = 60_000;
const MAX_KEPT: usize = 8;

type Snapshots = HashMap<String, (i64, Rc<Vec<Row>>)>;

thread_local! {
    static SNAPSHOTS: RefCell<Snapshots> = RefCell::new(HashMap::new());
}

pub fn get(key: &str, now: i64) -> Option<Rc<Vec<Row>>> {
    SNAPSHOTS.with_borrow(|s| {
        s.get(key)
            .filter(|(at, _)| now - at < KEPT_MS)
            .map(|(_, rows)| rows.clone())
    })
}

pub fn put(key: String, now: i64, rows: Rc<Vec<Row>>) {
    SNAPSHOTS.with_borrow_mut(|s| {
        s.retain(|_, (at, _)| now - *at < KEPT_MS);
        if s.len() >= MAX_KEPT {
            s.clear();
        }
        s.insert(key, (now, rows));
    });
}
