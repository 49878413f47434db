//! What a step will do, shown to the operator before they confirm: the exact changes, the
//! conflicts that block it, warnings, and the undo record each change gets (written before
//! the call is made).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ids::NatGatewayId;
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
        /// 1 for the run's first gateway; one more for each gateway created after an earlier
        /// one failed (its undo record is then a record of its own).
        #[serde(default = "first_attempt")]
        attempt: u32,
        /// Issue 12: 1 for the run's first gateway; 2 or 3 for a further one step 2 plans when
        /// one gateway cannot hold every kept egress IP (absent from the JSON when 1, so plans
        /// with one gateway read as they always did).
        #[serde(default = "first_gateway", skip_serializing_if = "is_first_gateway")]
        gateway: u32,
        /// The route tables a further gateway carries (step 3 routes them to it).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        route_tables: Vec<String>,
    },
    AdoptNatGateway {
        nat_id: NatGatewayId,
    },
    /// Delete a gateway this run created that Tencent Cloud failed to create (`PENDFAILURE`):
    /// it can never carry traffic and must not be adopted.
    DeleteFailedNatGateway {
        nat_id: NatGatewayId,
    },
    CreateRoute {
        route_table_id: String,
        nat_id: NatGatewayId,
        /// Route description naming natpilot and the run.
        description: String,
    },
    /// Replace an existing USER 0.0.0.0/0 route (only with the operator's consent).
    ReplaceRoute {
        route_table_id: String,
        nat_id: NatGatewayId,
        old: Route,
        /// Route description naming natpilot and the run (the old one is kept in `old`).
        description: String,
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
    /// Issue 12: bind an EIP just taken off `from_instance` to the NAT gateway
    /// (AssociateNatGatewayAddress, asynchronous: its VPC task is polled).
    AssociateNatEip {
        nat_id: NatGatewayId,
        ip: String,
        from_instance: String,
    },
    /// Issue 12: an SNAT rule sending `resource_id`'s traffic through `public_ips`. Creating it
    /// answers no id: it is found again by `description`, which carries the run id.
    CreateSnatRule {
        nat_id: NatGatewayId,
        /// `NETWORKINTERFACE` (an instance and its primary private IP) or `SUBNET`.
        resource_type: String,
        resource_id: String,
        private_ip: String,
        public_ips: Vec<String>,
        description: String,
        /// The instance whose egress IP this rule keeps (its changes run as one chain), or
        /// `None` for a rule that pins a subnet to the gateway's own EIPs so that nobody else
        /// leaves through a kept one.
        keeps_for: Option<String>,
    },
}

fn first_attempt() -> u32 {
    1
}

fn first_gateway() -> u32 {
    1
}

fn is_first_gateway(n: &u32) -> bool {
    *n <= 1
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
        nat_id: Option<NatGatewayId>,
        run_tag: String,
        /// EIPs Tencent Cloud allocated for the gateway (never the operator's existing ones),
        /// recorded as soon as the gateway is seen with them. Released on request, and only
        /// these: the record names exactly what an irreversible release may take.
        allocated_eips: Vec<AllocatedEip>,
        /// The operator's own EIPs the gateway was created with: never released. `None` only
        /// in records written before this was recorded; such a record cannot tell allocated
        /// EIPs from the operator's, so rollback refuses to release from it.
        #[serde(default)]
        operator_eips: Option<Vec<String>>,
    },
    DeleteRoute {
        route_table_id: String,
        nat_id: NatGatewayId,
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
    /// Issue 12: unbind the EIP from the NAT gateway (so it can go back to its instance).
    DisassociateNatEip {
        nat_id: NatGatewayId,
        ip: String,
    },
    /// Issue 12: delete the SNAT rule; its id once it was found, else found by description.
    DeleteSnatRule {
        nat_id: NatGatewayId,
        snat_id: Option<String>,
        description: String,
    },
    /// Recorded so rollback can name what it cannot bring back.
    CannotUndo {
        what: String,
    },
    /// The change leaves nothing to take back (deleting a gateway that had failed to create).
    NothingToUndo {
        what: String,
    },
}

/// An EIP that CreateNatGateway allocated (`AddressCount`), by id and IP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocatedEip {
    pub address_id: String,
    pub ip: String,
}

/// One change of a plan together with how to take it back: they are made, stored and read
/// as one value, so a change can never be paired with another change's undo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Planned {
    pub change: Change,
    pub undo: Undo,
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

/// Step 3 preview, per route table: the instances whose egress flips the moment its NAT route
/// exists, as counts — so a plan stays a few hundred bytes however large the VPC; the page
/// lists the instances themselves page by page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableFlips {
    pub route_table_id: String,
    pub instances: u64,
    /// Of those, the ones with their own public IP (EIP or ordinary) today.
    pub with_public_ip: u64,
    pub protected: u64,
    /// Hex SHA-256 over the ids (and protection) of those instances, in id order: the plan's
    /// digest changes when *who* flips changes, not only how many.
    pub members: String,
}

/// Why an instance keeps its public IP after step 4.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    pub instance_id: String,
    pub ip: String,
    pub reason: String,
}

/// Stored as JSON in `run_steps.plan` and read back strictly (`deny_unknown_fields`): a plan
/// that does not decode is an error, never an empty plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// The changes in the order they are applied, each with its undo record.
    pub items: Vec<Planned>,
    pub conflicts: Vec<Conflict>,
    pub warnings: Vec<String>,
    /// Step 3 preview as plans written before [`TableFlips`] recorded it: one row per
    /// instance. Read so those records still decode; new plans leave it empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flips: Vec<EgressFlip>,
    /// Step 3 preview: per route table, whose egress flips immediately.
    #[serde(default)]
    pub flip_tables: Vec<TableFlips>,
    /// Step 4: public IPs left in place and why.
    pub kept: Vec<Kept>,
    /// Step 1: the protection rules and single-host exceptions being confirmed (in the
    /// digest, so confirming protects exactly what was shown). Absent in other steps' plans
    /// and in plans stored before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection: Option<crate::wizard::input::AssessInput>,
    /// Step 1: the keep-egress marks being confirmed (issue 12), in the digest like the
    /// protection choices; step 3 keeps exactly these and refuses when the marks changed
    /// since. Absent in other steps' plans and in plans stored before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_egress: Option<Vec<KeepMark>>,
}

/// One keep-egress mark as step 1 confirmed it (who marked it is the audit log's business: it
/// does not change what the plan does).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeepMark {
    pub kind: crate::store::keep_egress::MarkKind,
    pub value: String,
}

impl Plan {
    pub fn push(&mut self, change: Change, undo: Undo) {
        self.items.push(Planned { change, undo });
    }

    pub fn changes(&self) -> impl Iterator<Item = &Change> {
        self.items.iter().map(|p| &p.change)
    }

    /// Unit tests compare whole lists.
    #[cfg(test)]
    pub fn change_list(&self) -> Vec<Change> {
        self.changes().cloned().collect()
    }

    #[cfg(test)]
    pub fn undo_list(&self) -> Vec<Undo> {
        self.items.iter().map(|p| p.undo.clone()).collect()
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
        self.changes().any(Change::irreversible)
    }

    /// Fingerprint of what confirming this plan would do: its changes, their undo records and
    /// whose egress flips. The page carries the digest of the plan the operator previewed, and
    /// confirm refuses when the plan it recomputes differs, so nothing is applied that was not
    /// shown. Conflicts and warnings are left out: they decide *whether* the plan may run (the
    /// engine checks them again), and typing a confirmation must not force another preview.
    pub fn digest(&self) -> PlanDigest {
        let (items, flips, tables) = (&self.items, &self.flips, &self.flip_tables);
        // Plans without step 1's parts hash as they always did.
        let bytes = match (&self.protection, &self.keep_egress) {
            (None, None) => serde_json::to_vec(&(items, flips, tables)),
            (Some(p), None) => serde_json::to_vec(&(items, flips, tables, p)),
            (p, Some(k)) => serde_json::to_vec(&(items, flips, tables, p, k)),
        }
        .expect("plans always serialise");
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
