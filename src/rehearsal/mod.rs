//! Rehearsals (issue 13 item 7): the portal copies one real VPC read-only (as `natpilot
//! snapshot` does) into a simulator of its own — the twin, with its own keys and world — and
//! starts the same rollout there, so an operator sees the exact plans, counts and timings
//! before touching the real VPC.
//!
//! A rehearsal run is an ordinary run whose account is the twin's label (see [`TwinLabel`]):
//! the engine connects it through [`Twins`], never through a configured account, so a lost
//! twin fails closed (`natpilot.TwinLost`) instead of reaching anything real. The twins live
//! in memory only: after a restart `Engine::end_lost_rehearsals` ends their runs.
//!
//! The copy is a background job of the engine, started with the run (`Engine::start_rehearsal`):
//! the request that asks for a rehearsal answers at once, and the run page shows the copy.

mod label;
mod twin;

pub use label::TwinLabel;
pub use twin::{SnapshotFailure, Twin, TwinError, make_twin};

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::store::rehearsals::RehearsalOf;
use crate::tencent::Client;

/// What a rehearsal's copy job needs (`Engine::start_rehearsal`): the twin's label, the real
/// VPC, the real account's client (describe calls only), the registry the twin joins once
/// made, and the pace of the twin's asynchronous work.
pub struct TwinCopy {
    pub label: TwinLabel,
    pub of: RehearsalOf,
    pub real: Client,
    pub twins: Twins,
    pub async_delay: Duration,
}

/// A twin under its label.
type Entry = (String, Arc<Twin>);

/// The twins of this process, by twin label, oldest first. Cheap to clone.
#[derive(Clone)]
pub struct Twins {
    all: Arc<Mutex<Vec<Entry>>>,
    max: usize,
}

impl Default for Twins {
    fn default() -> Twins {
        Twins::with_max(MAX_TWINS)
    }
}

/// At most this many twins stay in memory: a twin holds a whole copy of its VPC. Beyond it
/// the oldest twin whose rehearsal has ended is retired (its run's record stays).
pub const MAX_TWINS: usize = 16;

impl Twins {
    /// At most `max` twins in memory at once.
    pub fn with_max(max: usize) -> Twins {
        Twins {
            all: Default::default(),
            max: max.max(1),
        }
    }

    pub fn insert(&self, label: &TwinLabel, twin: Twin) {
        self.lock().push((label.to_string(), Arc::new(twin)));
    }

    /// Forgets the twin (its simulator stops when the last handle is dropped): what every
    /// path that registered a twin for a rehearsal that then did not start must do.
    pub fn remove(&self, label: &TwinLabel) {
        let label = label.to_string();
        self.lock().retain(|(l, _)| *l != label);
    }

    pub fn get(&self, label: &str) -> Option<Arc<Twin>> {
        self.lock()
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, t)| t.clone())
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The twin's client, or why there is none: the reason the operator sees on the run.
    pub fn client(&self, label: &str) -> Result<Client, String> {
        match self.get(label) {
            Some(twin) => Ok(twin.client.clone()),
            None => Err(GONE.to_owned()),
        }
    }

    /// Makes room for one more twin: retires the oldest twins whose rehearsal no longer holds
    /// its (twin) VPC until fewer than [`MAX_TWINS`] remain, counting the rehearsals still
    /// copying their VPC. Refused, naming how many are unfinished, when every twin's rehearsal
    /// is still going. (`MAX_TWINS` by default.)
    pub async fn make_room(&self, store: &crate::store::Store) -> Result<(), String> {
        let twins: Vec<Entry> = self.lock().clone();
        // A rehearsal still copying its VPC has no twin yet, but will: it takes a place too.
        let copying = crate::store::rehearsals::copying(store.readers())
            .await
            .map_err(|e| format!("cannot read the rehearsals: {e}"))?;
        let copying = usize::try_from(copying).unwrap_or(0);
        let mut excess = (twins.len() + copying + 1).saturating_sub(self.max);
        for (label, twin) in twins {
            if excess == 0 {
                break;
            }
            let held = crate::store::runs::active_holder(
                store.readers(),
                &label,
                &twin.region,
                &twin.vpc_id,
            )
            .await
            .map_err(|e| format!("cannot read the run history: {e}"))?;
            if held.is_none() {
                self.lock().retain(|(l, _)| *l != label);
                excess -= 1;
            }
        }
        match excess {
            0 => Ok(()),
            _ => Err(format!(
                "{} rehearsals are unfinished, the most natpilot keeps in memory at once; finish \
                 or abandon one of them (estate page, Rehearsals) and rehearse again",
                self.len() + copying
            )),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.all.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Why a rehearsal cannot go on after a restart (its twin was in the old process's memory).
pub const LOST: &str = "the rehearsal's simulated twin was lost at restart; start a new rehearsal";

/// Why a rehearsal run cannot reach its twin: what a connect without it answers.
const GONE: &str = "the rehearsal's simulated twin is no longer in memory (natpilot restarted, \
     or the twin was retired after its rehearsal ended); start a new rehearsal";

#[cfg(test)]
mod tests;
