//! The outbox deliverer: a background task that fans new notifications out into one delivery
//! per subscribed webhook, then sends due deliveries. At-least-once: a delivery is claimed
//! (its next attempt pushed past the request timeout) before it is sent, so a second process
//! on the same database does not send it at the same time, and a process that dies mid-send
//! leaves it to be sent again after the claim runs out. Failures retry with exponential
//! backoff; after `max_attempts` the delivery is dead, shown on `/admin/webhooks` with its
//! last error, and an admin can send it again. Errors never carry the URL (it holds the
//! webhook's token).

use std::sync::Arc;

use chrono::{Duration as ChronoDuration, Utc};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::config::{DeliveryOptions, Webhook};
use super::event::{EventKind, Notification};
use super::format;
use crate::store::{self, Store, notifications::Delivery};

#[derive(Clone)]
pub struct Deliverer {
    store: Store,
    hooks: Arc<Vec<Webhook>>,
    opts: DeliveryOptions,
    http: reqwest::Client,
}

/// What one pass did (for tests and the log).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pass {
    pub queued: usize,
    pub delivered: usize,
    pub failed: usize,
}

impl Deliverer {
    pub fn new(store: Store, hooks: Vec<Webhook>, opts: DeliveryOptions) -> Deliverer {
        let http = reqwest::Client::builder()
            .timeout(opts.timeout)
            // A webhook that redirects is misconfigured; following it could leak the body.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the HTTP client builds");
        Deliverer {
            store,
            hooks: Arc::new(hooks),
            opts,
            http,
        }
    }

    /// Runs passes every `opts.poll` until `stop` turns true. No task without webhooks.
    pub fn spawn(self, mut stop: watch::Receiver<bool>) -> Option<JoinHandle<()>> {
        if self.hooks.is_empty() {
            return None;
        }
        Some(tokio::spawn(async move {
            loop {
                if let Err(e) = self.pass().await {
                    tracing::warn!(error = %e, "webhook outbox pass failed; trying again");
                }
                tokio::select! {
                    () = tokio::time::sleep(self.opts.poll) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
            }
        }))
    }

    pub async fn pass(&self) -> sqlx::Result<Pass> {
        let mut pass = Pass {
            queued: self.fan_out().await?,
            ..Pass::default()
        };
        for d in store::notifications::due(self.store.readers(), 50).await? {
            if !self.claim(&d).await? {
                continue;
            }
            if self.send(&d).await? {
                pass.delivered += 1;
            } else {
                pass.failed += 1;
            }
        }
        Ok(pass)
    }

    async fn fan_out(&self) -> sqlx::Result<usize> {
        let mut queued = 0;
        for hook in self.hooks.iter() {
            let mut tx = self.store.begin_write().await?;
            for n in store::notifications::take_after_cursor(&mut tx, &hook.name, 500).await? {
                // An unknown kind is queued too: its delivery dead-letters with the reason,
                // instead of the notification silently going nowhere.
                let wanted = EventKind::parse(&n.kind).is_none_or(|k| hook.events.contains(&k));
                if wanted {
                    store::notifications::enqueue(&mut *tx, n.id, &hook.name).await?;
                    queued += 1;
                }
            }
            tx.commit().await?;
        }
        Ok(queued)
    }

    async fn claim(&self, d: &Delivery) -> sqlx::Result<bool> {
        let until = Utc::now() + self.opts.timeout * 2;
        store::notifications::claim(self.store.writer(), d, until).await
    }

    /// One attempt; true when delivered.
    async fn send(&self, d: &Delivery) -> sqlx::Result<bool> {
        let w = self.store.writer();
        let Some(hook) = self.hooks.iter().find(|h| h.name == d.webhook) else {
            let why = "the webhook is no longer configured";
            store::notifications::failed(w, d.id, None, why, None).await?;
            return Ok(false);
        };
        let n = match Notification::decode(&d.kind, &d.payload) {
            Ok(n) => n,
            Err(why) => {
                store::notifications::failed(w, d.id, None, &why, None).await?;
                return Ok(false);
            }
        };
        let out = format::render(hook, &n, d.id, Utc::now().timestamp());
        let mut req = self.http.post(out.url).body(out.body);
        for (k, v) in out.headers {
            req = req.header(k, v);
        }
        let (status, error) = match req.send().await {
            Ok(resp) if resp.status().is_success() => {
                store::notifications::delivered(w, d.id, resp.status().as_u16()).await?;
                tracing::info!(webhook = %hook.name, delivery = d.id, event = %d.kind, "webhook delivered");
                return Ok(true);
            }
            Ok(resp) => (
                Some(resp.status().as_u16()),
                format!("the receiver answered HTTP {}", resp.status()),
            ),
            Err(e) => (None, format!("not delivered: {}", e.without_url())),
        };
        let attempts = u32::try_from(d.attempts)
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        let retry_at = (attempts < self.opts.max_attempts).then(|| {
            Utc::now()
                + ChronoDuration::from_std(self.opts.backoff_after(attempts))
                    .unwrap_or(ChronoDuration::minutes(10))
        });
        store::notifications::failed(w, d.id, status, &error, retry_at).await?;
        tracing::warn!(webhook = %hook.name, delivery = d.id, attempts, %error, "webhook delivery failed");
        Ok(false)
    }
}
