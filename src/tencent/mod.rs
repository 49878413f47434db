//! The Tencent Cloud API client: signing, endpoints, typed actions, errors, retries, rate
//! limiting, credentials, the write-ahead call journal and call observation. It knows nothing
//! about wizards or databases.
//!
//! Entry points: [`Client`] (`call`, `fetch_all`, `with_observer`, `with_journal`), built from
//! [`ClientSettings`] or, for a local simulator, [`Client::for_endpoint`];
//! [`CredentialChain`] finds credentials; [`TencentError`] is every failure.

pub mod action;
pub mod client;
pub mod credentials;
pub mod endpoint;
pub mod envelope;
pub mod error;
pub mod hints;
pub mod journal;
pub mod models;
pub mod observer;
pub mod paging;
pub mod ratelimit;
pub mod region;
pub mod service;
pub mod sign;
#[cfg(test)]
pub(crate) mod stub;

pub use action::{Action, Replay};
pub use client::{Client, ClientSettings, Reply, RetryPolicy};
pub use credentials::{
    CredentialChain, CredentialError, CredentialSource, Credentials, CredentialsProvider, Resolved,
    RoleSpec,
};
pub use endpoint::Endpoint;
pub use error::TencentError;
pub use journal::{Attempt, CallJournal, EntryId, Refusal};
pub use observer::{CallObserver, CallOutcome, CallRecord};
pub use paging::PagedAction;
pub use region::{Region, RegionError};
pub use service::Service;
