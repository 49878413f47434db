//! Rehearsals (issue 13 item 7): the portal copies one real VPC read-only (as `natpilot
//! snapshot` does) into a simulator of its own — the twin, with its own keys and world — and
//! starts the same rollout there, so an operator sees the exact plans, counts and timings
//! before touching the real VPC.
//!
//! A rehearsal run is an ordinary run whose account is the twin's label (see [`TwinLabel`]):
//! the engine connects it through [`Twins`], never through a configured account, so a lost
//! twin fails closed (`natpilot.TwinLost`) instead of reaching anything real. The twins live
//! in memory only: after a restart `Engine::end_lost_rehearsals` ends their runs.

mod label;
mod twin;

pub use label::TwinLabel;
pub use twin::{Twin, TwinError, make_twin};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::tencent::Client;

/// The twins of this process, by twin label. Cheap to clone.
#[derive(Clone, Default)]
pub struct Twins(Arc<Mutex<HashMap<String, Arc<Twin>>>>);

impl Twins {
    pub fn insert(&self, label: &TwinLabel, twin: Twin) {
        self.lock().insert(label.to_string(), Arc::new(twin));
    }

    pub fn get(&self, label: &str) -> Option<Arc<Twin>> {
        self.lock().get(label).cloned()
    }

    /// The twin's client, or why there is none: the reason the operator sees on the run.
    pub fn client(&self, label: &str) -> Result<Client, String> {
        match self.get(label) {
            Some(twin) => Ok(twin.client.clone()),
            None => Err(LOST.to_owned()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Twin>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Why a rehearsal cannot go on after a restart (its twin was in the old process's memory).
pub const LOST: &str = "the rehearsal's simulated twin was lost at restart; start a new rehearsal";
