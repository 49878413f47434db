//! The Tencent Cloud API client: signing, endpoints, typed actions, errors, retries, rate
//! limiting, credentials and call observation. It knows nothing about wizards or databases.

pub mod action;
pub mod service;
pub mod sign;

pub use action::{Action, Replay};
pub use service::Service;
