//! How long to wait between looks at asynchronous cloud work (NAT gateway state, EIP task
//! results, TAT invocations): short at first, doubling up to a cap. Against Tencent Cloud a
//! NAT gateway takes minutes and every look costs a request of a rate-limited action
//! (DescribeTaskResult 20/s, reference §3.5), so a fixed short interval would burn the budget
//! other calls of the same run need; tests and the simulator use a short fixed interval.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Poll {
    /// The first pause (also the pause before the first look at a task just started).
    pub first: Duration,
    /// The pause never grows past this.
    pub max: Duration,
}

impl Default for Poll {
    /// For the real cloud: 250 ms, 500 ms, 1 s, 2 s, 4 s, then every 5 s.
    fn default() -> Poll {
        Poll {
            first: Duration::from_millis(250),
            max: Duration::from_secs(5),
        }
    }
}

impl Poll {
    /// The same pause every time (tests, a simulator with short async steps).
    pub fn fixed(every: Duration) -> Poll {
        Poll {
            first: every,
            max: every,
        }
    }

    /// The pauses to take, in order: `first`, doubling, capped at `max` (forever).
    pub fn delays(&self) -> impl Iterator<Item = Duration> + use<> {
        let max = self.max.max(self.first);
        std::iter::successors(Some(self.first), move |d| Some((*d * 2).min(max)))
    }

    /// A backoff series that sleeps on each `wait`.
    pub fn start(&self) -> Backoff {
        Backoff {
            delays: Box::new(self.delays()),
        }
    }
}

/// One polling loop's pauses.
pub struct Backoff {
    delays: Box<dyn Iterator<Item = Duration> + Send>,
}

impl Backoff {
    pub async fn wait(&mut self) {
        if let Some(d) = self.delays.next() {
            tokio::time::sleep(d).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_pause_doubles_from_a_quarter_second_to_five_seconds_and_stays_there() {
        let ms: Vec<u128> = Poll::default()
            .delays()
            .take(8)
            .map(|d| d.as_millis())
            .collect();
        assert_eq!(ms, [250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
    }

    #[test]
    fn a_fixed_poll_never_changes_its_pause() {
        let p = Poll::fixed(Duration::from_millis(10));
        assert!(p.delays().take(20).all(|d| d == Duration::from_millis(10)));
    }
}
