//! Captured events packed into queue messages: each message carries as many events as fit
//! in [`MESSAGE_BYTES`], one compact JSON object a line, and each `sendBatch` as many
//! messages as Queues takes in one call.
//!
//! A busy isolate gathers dozens of events in its outbox's 20 ms; one message each would
//! spend a queue operation, a message of the queue's 5,000 a second and the local
//! runtime's per-message work on every click. Packed, the queue carries tens of clicks a
//! message (docs/scaling.md). The consumer reads a message's lines; a message of one line
//! (what the outbox sent before packing) reads the same.

use std::ops::Range;

/// The most bytes the outbox packs into one message: below Queues' 64 KB billing unit
/// (a message is billed per 64 KB it carries) and half its 128 KB message limit.
pub const MESSAGE_BYTES: usize = 60_000;

/// The most messages one `sendBatch` may carry.
pub const SEND_MESSAGES: usize = 100;

/// The most bytes of messages one `sendBatch` carries: below Queues' 256 KB a call.
pub const SEND_BYTES: usize = 250_000;

/// Packs `events` (one-line bodies) into message bodies of at most [`MESSAGE_BYTES`]
/// each, in order, one event a line. An event longer than that goes alone.
pub fn pack(events: &[String]) -> Vec<String> {
    greedy(events, 1, usize::MAX, MESSAGE_BYTES)
        .into_iter()
        .map(|range| events[range].join("\n"))
        .collect()
}

/// The `sendBatch` calls that carry `messages`, in order: ranges of at most
/// [`SEND_MESSAGES`] messages and [`SEND_BYTES`] bytes (a longer message goes alone).
pub fn sends(messages: &[String]) -> Vec<Range<usize>> {
    greedy(messages, 0, SEND_MESSAGES, SEND_BYTES)
}

/// The events of a message body: its non-empty lines.
pub fn events(body: &str) -> impl Iterator<Item = &str> {
    body.split('\n').filter(|line| !line.trim().is_empty())
}

/// Consecutive ranges of `items`, each as long as fits in `max_count` items and
/// `max_bytes` (their lengths plus `separator` between two), and never empty.
fn greedy(
    items: &[String],
    separator: usize,
    max_count: usize,
    max_bytes: usize,
) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, item) in items.iter().enumerate() {
        let added = if i == start {
            item.len()
        } else {
            separator + item.len()
        };
        if i > start && (i - start == max_count || bytes + added > max_bytes) {
            ranges.push(start..i);
            start = i;
            bytes = item.len();
        } else {
            bytes += added;
        }
    }
    if start < items.len() {
        ranges.push(start..items.len());
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: usize, len: usize) -> String {
        let head = format!("{{\"id\":\"{n}\",\"pad\":\"");
        let pad = len - head.len() - 2;
        format!("{head}{}\"}}", "x".repeat(pad))
    }

    #[test]
    fn events_pack_one_a_line_and_read_back_in_order() {
        let events_in: Vec<String> = (0..250).map(|n| event(n, 500)).collect();
        let messages = pack(&events_in);
        // 500-byte events and a newline between two: 119 fit in 60,000 bytes.
        assert_eq!(messages.len(), 3);
        assert!(messages.iter().all(|m| m.len() <= MESSAGE_BYTES));
        assert_eq!(messages[0].lines().count(), 119);
        let read: Vec<&str> = messages.iter().flat_map(|m| events(m)).collect();
        assert_eq!(
            read,
            events_in.iter().map(String::as_str).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_message_is_filled_exactly_to_its_limit() {
        // Two events and their newline make exactly MESSAGE_BYTES; a third starts a message.
        let half = (MESSAGE_BYTES - 1) / 2;
        let events_in = vec![
            event(1, half),
            event(2, MESSAGE_BYTES - 1 - half),
            event(3, 100),
        ];
        let messages = pack(&events_in);
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].len(), MESSAGE_BYTES);
        assert_eq!(messages[1], events_in[2]);
    }

    #[test]
    fn an_event_longer_than_a_message_goes_alone() {
        let events_in = vec![event(1, 100), event(2, MESSAGE_BYTES + 10), event(3, 100)];
        let messages = pack(&events_in);
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[1], events_in[1]);
    }

    #[test]
    fn nothing_gathered_packs_into_nothing() {
        assert!(pack(&[]).is_empty());
        assert!(sends(&[]).is_empty());
    }

    #[test]
    fn sends_respect_the_count_and_the_bytes_of_a_call() {
        // Small messages: 100 a call.
        let small: Vec<String> = (0..250).map(|n| event(n, 100)).collect();
        assert_eq!(sends(&small), vec![0..100, 100..200, 200..250]);
        // Full messages: four make 240,000 bytes, a fifth would pass 250,000.
        let full: Vec<String> = (0..9).map(|n| event(n, MESSAGE_BYTES)).collect();
        assert_eq!(sends(&full), vec![0..4, 4..8, 8..9]);
        // A message over the call's limit still goes, alone.
        let huge = vec![event(1, 100), event(2, SEND_BYTES + 1), event(3, 100)];
        assert_eq!(sends(&huge), vec![0..1, 1..2, 2..3]);
    }

    #[test]
    fn a_message_of_one_event_reads_as_before_packing() {
        let one = event(7, 300);
        assert_eq!(events(&one).collect::<Vec<_>>(), vec![one.as_str()]);
        assert_eq!(events("a\n\n \nb\n").collect::<Vec<_>>(), vec!["a", "b"]);
    }
}
