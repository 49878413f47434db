//! The EIPs this run moved onto its NAT gateway to keep an instance's egress IP (issue 12),
//! from its typed records: step 3's confirmed plan (what it set out to move) and its undo
//! records (what it started moving). They sit on the gateway next to the EIPs natpilot
//! allocated for it, so "the gateway's EIPs the operator did not bring" includes them: every
//! decision about which EIPs to release consults this set and never releases one of them.

use std::collections::BTreeMap;

use super::ctx::{Ctx, JobError};
use super::records;
use crate::store::{RunId, Step, Store};
use crate::wizard::cloud::CloudError;
use crate::wizard::ids::NatGatewayId;
use crate::wizard::plan::{AllocatedEip, Change, Undo};

/// One kept EIP as the records know it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Kept {
    /// The instance it was taken from (`None` when only an undo record that names no instance
    /// mentions it).
    owner: Option<String>,
    /// Whether an undo record unbinds it from the gateway.
    unbind_recorded: bool,
}

/// Kept IP → what the records say of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeptEips(BTreeMap<String, Kept>);

impl KeptEips {
    pub fn contains(&self, ip: &str) -> bool {
        self.0.contains_key(ip)
    }

    fn owner(&self, ip: &str) -> String {
        match self.0.get(ip).and_then(|k| k.owner.as_ref()) {
            Some(i) => i.clone(),
            None => "the instance it was taken from".into(),
        }
    }

    /// Before a rollback undoes anything: a kept EIP that no undo record unbinds from the
    /// gateway must not be on it (the record is written before the bind, so one that is on it
    /// had its record removed). Rollback would otherwise try to bind it back while the gateway
    /// holds it, or delete the gateway with it and count it among the gateway's own.
    pub async fn precheck(&self, ctx: &Ctx) -> Result<(), JobError> {
        let unrecorded: Vec<&String> = self
            .0
            .iter()
            .filter(|(_, k)| !k.unbind_recorded)
            .map(|(ip, _)| ip)
            .collect();
        if unrecorded.is_empty() {
            return Ok(());
        }
        let Some(first) = records::nat_gateway(&ctx.store, ctx.id()).await? else {
            return Ok(());
        };
        // Every gateway of the run: the first, and any further one (issue 12).
        let tag = ctx.id().tag_value();
        let mut gateways = vec![first];
        for n in ctx.cloud.nat_gateways(&ctx.run.vpc_id).await?.items {
            if crate::wizard::steps::gateways::is_runs(&n, &tag) && !gateways.contains(&n.id) {
                gateways.push(n.id);
            }
        }
        for ip in unrecorded {
            let seen = ctx.cloud.eips_with_ip(ip).await?;
            for nat_id in &gateways {
                let on_nat: Vec<String> = seen
                    .iter()
                    .filter(|a| a.instance_id.as_deref() == Some(nat_id.as_str()))
                    .map(|a| a.ip.clone())
                    .collect();
                self.check_gateway(nat_id, &on_nat)?;
            }
        }
        Ok(())
    }

    /// Refuses a release list that names a kept EIP: the record that lists what natpilot
    /// allocated for the gateway was filled in wrongly, and releasing from it would destroy
    /// an IP that a partner allowlists.
    pub fn check_release(&self, release: &[AllocatedEip]) -> Result<(), JobError> {
        match release.iter().find(|a| self.contains(&a.ip)) {
            None => Ok(()),
            Some(a) => Err(CloudError::state(
                "ReleaseAddresses",
                "natpilot.KeptEipInRelease",
                format!(
                    "the run's record of the EIPs natpilot allocated for its NAT gateway names {} ({}), \
                     which was moved onto the gateway to keep the egress IP of {}; natpilot releases \
                     nothing from that record. Roll back without \"release the NAT gateway's new \
                     EIPs\" and release the gateway's own EIPs in the console",
                    a.ip,
                    a.address_id,
                    self.owner(&a.ip)
                ),
            )
            .into()),
        }
    }

    /// Refuses to delete a gateway that still holds a kept EIP: by now rollback has bound every
    /// kept EIP back to its instance (step 3's undo records, newest first), so one still here
    /// means its undo record is missing, and deleting the gateway would leave it unbound (or,
    /// with the release, take it for the gateway's own).
    pub fn check_gateway(&self, nat_id: &NatGatewayId, on_nat: &[String]) -> Result<(), JobError> {
        match on_nat.iter().find(|ip| self.contains(ip)) {
            None => Ok(()),
            Some(ip) => {
                let owner = self.owner(ip);
                Err(CloudError::state(
                    "DeleteNatGateway",
                    "natpilot.KeptEipOnGateway",
                    format!(
                        "EIP {ip} was moved onto NAT gateway {nat_id} to keep the egress IP of {owner} \
                         and is still on it, but the run has no undo record that binds it back; \
                         natpilot deletes nothing and releases nothing. Unbind {ip} from {nat_id} \
                         and bind it to {owner} in the console, then roll back again"
                    ),
                )
                .into())
            }
        }
    }
}

/// The kept EIPs of `run`. A plan or undo record that does not decode is an error (the
/// caller would otherwise read "nothing kept" and release a kept IP).
pub async fn kept_eips(store: &Store, run: RunId) -> Result<KeptEips, JobError> {
    let mut out = BTreeMap::new();
    if let Some(plan) = records::plan(store, run, Step::Route).await? {
        for c in plan.changes() {
            if let Change::AssociateNatEip {
                ip, from_instance, ..
            } = c
            {
                out.entry(ip.clone()).or_insert_with(Kept::default).owner =
                    Some(from_instance.clone());
            }
        }
    }
    let undo = records::undo_records(store, run).await?;
    let taken_from: BTreeMap<&str, &str> = undo
        .iter()
        .filter(|u| u.record.step == Step::Route)
        .filter_map(|u| match &u.entry.undo {
            Undo::ReassociateEip {
                instance_id, ip, ..
            } => Some((ip.as_str(), instance_id.as_str())),
            _ => None,
        })
        .collect();
    for u in &undo {
        if let Undo::DisassociateNatEip { ip, .. } = &u.entry.undo {
            let kept = out.entry(ip.clone()).or_insert_with(Kept::default);
            kept.unbind_recorded = true;
            if kept.owner.is_none() {
                kept.owner = taken_from.get(ip.as_str()).map(|i| (*i).to_owned());
            }
        }
    }
    Ok(KeptEips(out))
}
