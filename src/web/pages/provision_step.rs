//! What the Provision step page shows before it asks anything: the account's EIP quota, the
//! NAT gateways already in the VPC (each adoptable with one choice), the unbound EIPs that
//! could be given to the new gateway (as checkboxes), Tencent's 3-per-VPC limit, and the name
//! proposed for a new gateway — from one read-only observation of the VPC.

use crate::wizard::{
    observed::{Inventory, NatGateway},
    steps::provision::{self, NATS_PER_VPC, Preflight},
};

/// Unbound EIPs listed as choices; more than this are counted, not listed (a gateway holds at
/// most 10 EIPs anyway).
pub const EIP_CHOICES: usize = 50;

pub struct NatLine {
    pub id: String,
    pub name: String,
    /// The state in words ("available", "being created", …).
    pub state: String,
    pub eips: String,
    pub zone: String,
    /// Created by this run in an earlier attempt (it is reused, not adopted).
    pub ours: bool,
    /// Why it cannot be adopted, when it cannot.
    pub not_adoptable: Option<String>,
}

pub struct EipLine {
    pub id: String,
    pub ip: String,
}

#[derive(Default)]
pub struct ProvisionView {
    pub quota_limit: u32,
    pub quota_used: u32,
    pub quota_free: u32,
    pub nats: Vec<NatLine>,
    /// Gateways of the VPC not created by this run, and Tencent's limit.
    pub others: usize,
    pub limit: usize,
    pub at_limit: bool,
    pub unbound: Vec<EipLine>,
    pub unbound_total: usize,
    pub default_name: String,
}

impl ProvisionView {
    pub fn adoptable(&self) -> usize {
        self.nats
            .iter()
            .filter(|n| !n.ours && n.not_adoptable.is_none())
            .count()
    }
}

fn state_words(n: &NatGateway) -> String {
    use crate::wizard::ids::NatState::*;
    match &n.state {
        Pending => "being created".into(),
        Available => "available".into(),
        Updating => "being updated".into(),
        PendFailure => "failed to create".into(),
        Deleting => "being deleted".into(),
        DeleteFailure => "failed to delete".into(),
        Other(s) => s.to_lowercase(),
    }
}

pub fn view(inv: &Inventory, run_tag: &str) -> ProvisionView {
    let pre = Preflight::of(inv, run_tag);
    let line = |n: &NatGateway, ours: bool| NatLine {
        id: n.id.to_string(),
        name: n.name.clone(),
        state: state_words(n),
        eips: if n.eips.is_empty() {
            "none".into()
        } else {
            n.eip_ips().collect::<Vec<_>>().join(", ")
        },
        zone: n.zone.clone(),
        ours,
        not_adoptable: provision::not_adoptable(n),
    };
    let mut nats: Vec<NatLine> = pre.others.iter().map(|n| line(n, false)).collect();
    nats.extend(pre.ours.iter().map(|n| line(n, true)));
    ProvisionView {
        quota_limit: pre.quota.limit,
        quota_used: pre.quota.used,
        quota_free: pre.quota.free(),
        others: pre.others.len(),
        limit: NATS_PER_VPC,
        at_limit: pre.at_limit(),
        nats,
        unbound_total: pre.unbound.len(),
        unbound: pre
            .unbound
            .iter()
            .take(EIP_CHOICES)
            .map(|a| EipLine {
                id: a.id.clone(),
                ip: a.ip.clone(),
            })
            .collect(),
        default_name: provision::default_name(&inv.vpc_id),
    }
}
