//! Notifications to the team's chat and systems (issue 14, item 3). A run's notable moments
//! (a step failed, the run completed or was rolled back) are stored as typed events in the
//! same transaction as the change they announce (`event`); a background deliverer fans them
//! out to the configured webhooks (`config`) and sends each in the webhook's format
//! (`format`: signed generic JSON, WeCom, DingTalk, Feishu/Lark, Slack) from a durable outbox
//! with retries and dead letters (`deliver`). A failing webhook never blocks a run: the run
//! only writes a row.

pub mod config;
pub mod deliver;
pub mod event;
pub mod format;

pub use config::{DeliveryOptions, Webhook, WebhookConfig, WebhookFormat};
pub use event::{EventKind, Notification};
