//! Progress events coalesced per batch: a worker finishing hundreds of jobs a second must
//! not send hundreds of events a second to every dashboard watching. Each process sends at
//! most one event per batch per [`EVERY`]; the last change always gets one, at most that
//! long after it. An event carries only the batch's id (listeners read the batch afresh),
//! so one event stands for every change before it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const EVERY: Duration = Duration::from_millis(100);

/// What to do with a change to a batch.
#[derive(Debug, PartialEq, Eq)]
pub enum Publish {
    Now,
    /// No event went out in the last [`EVERY`]: send one after this wait.
    After(Duration),
    /// An event is already due and covers this change.
    Covered,
}

#[derive(Debug)]
struct Batch {
    last_sent: Instant,
    due: bool,
}

#[derive(Debug, Default)]
pub struct Progress {
    batches: Mutex<HashMap<String, Batch>>,
}

impl Progress {
    /// A change to `batch_id` at `now`.
    pub fn changed(&self, batch_id: &str, now: Instant) -> Publish {
        let mut batches = self.batches.lock().unwrap_or_else(|p| p.into_inner());
        if batches.len() > 256 {
            batches.retain(|_, b| b.due || now.duration_since(b.last_sent) < EVERY * 10);
        }
        match batches.get_mut(batch_id) {
            None => {
                batches.insert(
                    batch_id.to_string(),
                    Batch {
                        last_sent: now,
                        due: false,
                    },
                );
                Publish::Now
            }
            Some(b) if b.due => Publish::Covered,
            Some(b) if now.duration_since(b.last_sent) >= EVERY => {
                b.last_sent = now;
                Publish::Now
            }
            Some(b) => {
                b.due = true;
                Publish::After(EVERY - now.duration_since(b.last_sent))
            }
        }
    }

    /// Every batch whose event is still to go out, marked as sent at `now`: a process that
    /// stops sends them before it goes, since the tasks waiting to send them stop with it.
    pub fn take_due(&self, now: Instant) -> Vec<String> {
        let mut batches = self.batches.lock().unwrap_or_else(|p| p.into_inner());
        batches
            .iter_mut()
            .filter(|(_, b)| b.due)
            .map(|(batch_id, b)| {
                b.due = false;
                b.last_sent = now;
                batch_id.clone()
            })
            .collect()
    }

    /// The event that was due for `batch_id` goes out at `now`.
    pub fn sending(&self, batch_id: &str, now: Instant) {
        let mut batches = self.batches.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = batches.get_mut(batch_id) {
            b.due = false;
            b.last_sent = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_event_per_batch_per_interval_and_the_last_change_always_gets_one() {
        let progress = Progress::default();
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        assert_eq!(progress.changed("a", t0), Publish::Now);
        assert_eq!(progress.changed("b", t0), Publish::Now, "batches are apart");
        assert_eq!(progress.changed("a", t0 + ms(30)), Publish::After(ms(70)));
        assert_eq!(progress.changed("a", t0 + ms(60)), Publish::Covered);
        progress.sending("a", t0 + ms(100));
        assert_eq!(progress.changed("a", t0 + ms(120)), Publish::After(ms(80)));
        progress.sending("a", t0 + ms(200));
        assert_eq!(progress.changed("a", t0 + ms(350)), Publish::Now);
    }

    #[test]
    fn a_stop_takes_the_events_still_due_once() {
        let progress = Progress::default();
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        progress.changed("a", t0);
        progress.changed("b", t0);
        assert_eq!(progress.changed("a", t0 + ms(10)), Publish::After(ms(90)));
        assert_eq!(progress.take_due(t0 + ms(20)), vec!["a".to_string()]);
        assert!(progress.take_due(t0 + ms(30)).is_empty(), "taken once");
        assert_eq!(
            progress.changed("a", t0 + ms(40)),
            Publish::After(ms(80)),
            "the taken event counts as sent"
        );
    }
}
