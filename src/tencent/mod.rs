//! The Tencent Cloud API client: signing, endpoints, typed actions, errors, retries, rate
//! limiting, credentials and call observation. It knows nothing about wizards or databases.

pub mod action;
pub mod models;
pub mod paging;
pub mod service;
pub mod sign;

pub use action::{Action, Replay};
pub use paging::PagedAction;
pub use service::Service;
