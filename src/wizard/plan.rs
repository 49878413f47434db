//! What a step will do, shown to the operator before they confirm: the exact changes, the
//! conflicts that block it, warnings, and the undo record each change gets (written before
//! the call is made).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::observed::Route;

/// One mutating cloud call (or, for egress tests, one read-only batch) the step will make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    CreateNatGateway {
        name: String,
        bandwidth_mbps: u32,
        max_connections: u32,
        new_eips: u32,
        existing_eips: Vec<String>,
        zone: Option<String>,
        /// `natpilot:run` tag value; the engine looks for a gateway with it before creating.
        run_tag: String,
    },
    AdoptNatGateway {
        nat_id: String,
    },
    CreateRoute {
        route_table_id: String,
        nat_id: String,
    },
    /// Replace an existing USER 0.0.0.0/0 route (only with the operator's consent).
    ReplaceRoute {
        route_table_id: String,
        nat_id: String,
        old: Route,
    },
    DisassociateEip {
        instance_id: String,
        address_id: String,
        ip: String,
    },
    /// Irreversible.
    ReleaseEip {
        instance_id: String,
        address_id: String,
        ip: String,
    },
    /// Ordinary public IP → EIP (kept bound; the disassociate that follows unbinds it).
    TransformAddress {
        instance_id: String,
        ip: String,
    },
    /// Ordinary public IP unbound and released in one call. Irreversible.
    ReturnNormalAddress {
        instance_id: String,
        ip: String,
    },
}

impl Change {
    pub fn irreversible(&self) -> bool {
        matches!(
            self,
            Change::ReleaseEip { .. } | Change::ReturnNormalAddress { .. }
        )
    }
}

/// How to take one change back. Stored as JSON in `undo_records.action`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Undo {
    /// Delete the gateway this run created (found by its run tag if the id was never
    /// recorded); that also removes its routes and unbinds its EIPs (reference §4.11).
    DeleteNatGateway {
        nat_id: Option<String>,
        run_tag: String,
        /// EIPs allocated for it (not the operator's existing ones), released only on request.
        allocated_eips: Vec<String>,
    },
    DeleteRoute {
        route_table_id: String,
        nat_id: String,
    },
    RestoreRoute {
        route_table_id: String,
        old: Route,
    },
    /// Bind the EIP back to the instance it was taken from.
    ReassociateEip {
        instance_id: String,
        address_id: Option<String>,
        ip: String,
    },
    /// Recorded so rollback can name what it cannot bring back.
    CannotUndo {
        what: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// What the conflict is about (a route table id, `nat`, `quota`, an instance id).
    pub subject: String,
    pub message: String,
    /// True when the operator can resolve it by consenting (e.g. replacing a default route).
    pub needs_consent: bool,
}

/// An instance whose egress flips the moment the NAT route exists (step 3 preview).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EgressFlip {
    pub instance_id: String,
    pub name: String,
    pub route_table_id: String,
    pub current_public_ip: Option<String>,
    pub protected: bool,
}

/// Why an instance keeps its public IP after step 4.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    pub instance_id: String,
    pub ip: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub changes: Vec<Change>,
    /// Undo records paired with `changes` by index (same length).
    pub undo: Vec<Undo>,
    pub conflicts: Vec<Conflict>,
    pub warnings: Vec<String>,
    /// Step 3 preview: every instance whose egress flips immediately.
    pub flips: Vec<EgressFlip>,
    /// Step 4: public IPs left in place and why.
    pub kept: Vec<Kept>,
}

impl Plan {
    pub fn push(&mut self, change: Change, undo: Undo) {
        self.changes.push(change);
        self.undo.push(undo);
    }

    pub fn conflict(&mut self, subject: &str, message: impl Into<String>, needs_consent: bool) {
        self.conflicts.push(Conflict {
            subject: subject.to_owned(),
            message: message.into(),
            needs_consent,
        });
    }

    /// A plan can be confirmed only when nothing blocks it.
    pub fn is_blocked(&self) -> bool {
        !self.conflicts.is_empty()
    }

    pub fn has_irreversible(&self) -> bool {
        self.changes.iter().any(Change::irreversible)
    }

    /// Fingerprint of what confirming this plan would do: its changes, their undo records and
    /// whose egress flips. The page carries the digest of the plan the operator previewed, and
    /// confirm refuses when the plan it recomputes differs, so nothing is applied that was not
    /// shown. Conflicts and warnings are left out: they decide *whether* the plan may run (the
    /// engine checks them again), and typing a confirmation must not force another preview.
    pub fn digest(&self) -> PlanDigest {
        let shown = (&self.changes, &self.undo, &self.flips);
        let bytes = serde_json::to_vec(&shown).expect("plans always serialise");
        PlanDigest(hex::encode(Sha256::digest(&bytes)))
    }
}

/// [`Plan::digest`]: hex SHA-256, as carried by the step form's `plan_digest` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanDigest(pub String);

impl std::fmt::Display for PlanDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
