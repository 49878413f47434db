//! Which EIPs each run kept (issue 13 item 6), derived from its typed records — never from a
//! guess about the cloud:
//! - step 4's rebind records (`Undo::ReassociateEip`) that are `done`: the EIP was unbound from
//!   its instance and kept ("unbind and keep"; for an ordinary IP, converted first). One whose
//!   address step 4 also released (a `release:<id>` record) is not kept.
//! - after a rollback: a converted ordinary IP bound back to its instance stays an EIP (listed,
//!   with no idle charge while bound), and — when the rollback ran without "release the NAT
//!   gateway's new EIPs" — the EIPs step 2's gateway record names as allocated for the gateway
//!   are left unbound.
//!
//! A rehearsal's runs keep nothing real: their candidates are left out (see `kept_list`).
//!
//! An address released or re-bound from the Kept EIPs page (a `done` row of
//! `kept_eip_actions`) is no longer kept. A record that does not decode fails the list.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::jobs::UndoEntry;
use super::records::RecordError;
use super::rollback::RollbackReport;
use crate::store::{self, ReportKind, RunId, RunStatus, Step, Store, UndoState};
use crate::wizard::ids::NatGatewayId;
use crate::wizard::plan::Undo;

/// How a run came to keep an EIP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeptOrigin {
    /// Step 4 unbound it from `instance` and kept it.
    Unbound { instance: String },
    /// Step 4 converted `instance`'s ordinary public IP to an EIP and unbound it.
    Converted { instance: String },
    /// The rollback deleted the run's NAT gateway and kept the EIPs allocated for it.
    NatGateway { nat_id: Option<NatGatewayId> },
    /// The rollback bound a converted ordinary IP back to `instance`: it stays an EIP (bound,
    /// so no idle charge), and cannot become an ordinary IP again.
    BoundBack { instance: String },
}

impl KeptOrigin {
    /// Whether the EIP is bound to nothing (and so charged while idle).
    pub fn idle(&self) -> bool {
        !matches!(self, KeptOrigin::BoundBack { .. })
    }

    pub fn words(&self) -> String {
        match self {
            KeptOrigin::Unbound { instance } => {
                format!("unbound from {instance} by step 4 and kept")
            }
            KeptOrigin::Converted { instance } => format!(
                "ordinary public IP of {instance}, converted to an EIP by step 4 and kept unbound"
            ),
            KeptOrigin::NatGateway { nat_id } => format!(
                "allocated for NAT gateway {}; the rollback deleted the gateway and kept it",
                nat_id
                    .as_ref()
                    .map_or("(id not recorded)", NatGatewayId::as_str)
            ),
            KeptOrigin::BoundBack { instance } => format!(
                "ordinary public IP of {instance}, converted by step 4; the rollback bound it back, \
                 and it stays an EIP"
            ),
        }
    }
}

/// One EIP a run kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptEip {
    pub run: RunId,
    pub account: String,
    pub region: String,
    pub vpc_id: String,
    pub run_status: RunStatus,
    /// `None` only in a record that never learned it (the page then offers no action).
    pub address_id: Option<String>,
    pub ip: String,
    pub origin: KeptOrigin,
    /// When the record says it was kept (its undo record's last change).
    pub since: DateTime<Utc>,
    /// The undo record it is derived from, and its step (whose ledger its calls go to).
    pub record: i64,
    pub step: Step,
}

/// Every kept EIP of `run`, or of every run; oldest first.
pub async fn kept_list(store: &Store, run: Option<RunId>) -> Result<Vec<KeptEip>, RecordError> {
    let mut candidates = store::kept_eips::candidates(store.readers(), run).await?;
    // A rehearsal's EIPs live in its simulated twin: they cost nothing, are gone with the
    // twin, and releasing one reaches nothing real. Not listed, priced or acted on at all, so
    // no total of the estate or of the Kept EIPs page can count one as real.
    candidates.retain(|c| !crate::rehearsal::TwinLabel::is_twin(&c.account));
    let done: BTreeSet<(RunId, String)> = store::kept_eips::list(store.readers(), run)
        .await?
        .into_iter()
        .filter(|a| a.done)
        .map(|a| (a.run, a.address_id))
        .collect();
    let mut reports = BTreeMap::new();
    for c in &candidates {
        if c.record.step == Step::Provision && !reports.contains_key(&c.record.run_id) {
            let id = c.record.run_id;
            let report = match store::results::get_report(store.readers(), id, ReportKind::Rollback)
                .await?
            {
                Some(v) => Some(serde_json::from_value::<RollbackReport>(v).map_err(|e| {
                    RecordError::Corrupt {
                        what: "rollback report".into(),
                        run: id,
                        detail: e.to_string(),
                    }
                })?),
                None => None,
            };
            reports.insert(id, report);
        }
    }
    derive(&candidates, &reports, &done)
}

/// The list from the records (pure, so the rules above are tested without a database).
fn derive(
    candidates: &[store::kept_eips::Candidate],
    reports: &BTreeMap<RunId, Option<RollbackReport>>,
    done: &BTreeSet<(RunId, String)>,
) -> Result<Vec<KeptEip>, RecordError> {
    let decoded: Vec<(&store::kept_eips::Candidate, UndoEntry)> = candidates
        .iter()
        .map(|c| {
            serde_json::from_value::<UndoEntry>(c.record.action.clone())
                .map(|e| (c, e))
                .map_err(|e| RecordError::Corrupt {
                    what: format!("undo record {}", c.record.id),
                    run: c.record.run_id,
                    detail: e.to_string(),
                })
        })
        .collect::<Result<_, _>>()?;
    // Every (run, record key) once: asking the list per candidate was quadratic, seconds for
    // a run that kept a few thousand EIPs.
    let keys: BTreeSet<(RunId, &str)> = decoded
        .iter()
        .map(|(c, e)| (c.record.run_id, e.key.as_str()))
        .collect();
    let keyed = |run: RunId, prefix: &str, rest: &str| {
        keys.contains(&(run, format!("{prefix}:{rest}").as_str()))
    };
    let mut out = Vec::new();
    for (c, entry) in &decoded {
        let run = c.record.run_id;
        let base = |address_id: Option<String>, ip: &str, origin: KeptOrigin| KeptEip {
            run,
            account: c.account.clone(),
            region: c.region.clone(),
            vpc_id: c.vpc_id.clone(),
            run_status: c.status,
            address_id,
            ip: ip.to_owned(),
            origin,
            since: c.record.updated_at,
            record: c.record.id,
            step: c.record.step,
        };
        match &entry.undo {
            Undo::ReassociateEip {
                instance_id,
                address_id,
                ip,
            } if c.record.step == Step::Verify => {
                if address_id
                    .as_deref()
                    .is_some_and(|a| keyed(run, "release", a))
                {
                    continue;
                }
                let converted = keyed(run, "transform", instance_id);
                let instance = instance_id.clone();
                let origin = match c.record.state {
                    UndoState::Done if converted => KeptOrigin::Converted { instance },
                    UndoState::Done => KeptOrigin::Unbound { instance },
                    UndoState::Undone if converted => KeptOrigin::BoundBack { instance },
                    _ => continue,
                };
                out.push(base(address_id.clone(), ip, origin));
            }
            Undo::DeleteNatGateway {
                nat_id,
                allocated_eips,
                ..
            } if c.record.step == Step::Provision => {
                let kept_by_rollback =
                    matches!(c.record.state, UndoState::Undone | UndoState::NotNeeded)
                        && matches!(reports.get(&run), Some(Some(r)) if !r.release_nat_eips);
                if !kept_by_rollback {
                    continue;
                }
                for eip in allocated_eips {
                    let origin = KeptOrigin::NatGateway {
                        nat_id: nat_id.clone(),
                    };
                    out.push(base(Some(eip.address_id.clone()), &eip.ip, origin));
                }
            }
            _ => {}
        }
    }
    out.retain(|k| {
        k.address_id
            .as_ref()
            .is_none_or(|a| !done.contains(&(k.run, a.clone())))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::kept_eips::Candidate;
    use crate::store::undo::UndoRecord;
    use crate::wizard::plan::AllocatedEip;
    use serde_json::json;

    fn cand(run: RunId, id: i64, step: Step, state: UndoState, key: &str, undo: Undo) -> Candidate {
        let entry = UndoEntry {
            key: key.into(),
            undo,
        };
        Candidate {
            record: UndoRecord {
                id,
                run_id: run,
                step,
                action: serde_json::to_value(entry).unwrap(),
                state,
                note: None,
                created_at: Utc::now(),
                updated_at: Utc::now(),
            },
            account: "default".into(),
            region: "ap-guangzhou".into(),
            vpc_id: "vpc-1".into(),
            status: RunStatus::Completed,
        }
    }

    fn rebind(ins: &str, addr: &str, ip: &str) -> Undo {
        Undo::ReassociateEip {
            instance_id: ins.into(),
            address_id: Some(addr.into()),
            ip: ip.into(),
        }
    }

    #[test]
    fn step_4_keeps_what_it_unbound_but_not_what_it_released() {
        let run = RunId::new();
        let c = [
            cand(
                run,
                1,
                Step::Verify,
                UndoState::Done,
                "transform:ins-a",
                Undo::CannotUndo { what: "x".into() },
            ),
            cand(
                run,
                2,
                Step::Verify,
                UndoState::Done,
                "disassociate:ins-a",
                rebind("ins-a", "eip-a", "1.1.1.1"),
            ),
            cand(
                run,
                3,
                Step::Verify,
                UndoState::Done,
                "disassociate:ins-b",
                rebind("ins-b", "eip-b", "2.2.2.2"),
            ),
            cand(
                run,
                4,
                Step::Verify,
                UndoState::Done,
                "disassociate:ins-c",
                rebind("ins-c", "eip-c", "3.3.3.3"),
            ),
            cand(
                run,
                5,
                Step::Verify,
                UndoState::Irreversible,
                "release:eip-c",
                Undo::CannotUndo { what: "x".into() },
            ),
        ];
        let kept = derive(&c, &BTreeMap::new(), &BTreeSet::new()).unwrap();
        let ips: Vec<(&str, &KeptOrigin)> =
            kept.iter().map(|k| (k.ip.as_str(), &k.origin)).collect();
        assert_eq!(
            ips,
            [
                (
                    "1.1.1.1",
                    &KeptOrigin::Converted {
                        instance: "ins-a".into()
                    }
                ),
                (
                    "2.2.2.2",
                    &KeptOrigin::Unbound {
                        instance: "ins-b".into()
                    }
                ),
            ]
        );
        // Released from the page: no longer kept.
        let done = BTreeSet::from([(run, "eip-b".to_owned())]);
        assert_eq!(derive(&c, &BTreeMap::new(), &done).unwrap().len(), 1);
    }

    #[test]
    fn a_rollback_keeps_the_gateways_eips_only_without_the_release() {
        let run = RunId::new();
        let nat = Undo::DeleteNatGateway {
            nat_id: Some("nat-1".into()),
            run_tag: "t".into(),
            allocated_eips: vec![AllocatedEip {
                address_id: "eip-n".into(),
                ip: "9.9.9.9".into(),
            }],
            operator_eips: Some(vec![]),
        };
        let c = [cand(
            run,
            1,
            Step::Provision,
            UndoState::Undone,
            "create_nat",
            nat,
        )];
        let report = |release| RollbackReport {
            release_nat_eips: release,
            ..Default::default()
        };
        let kept = derive(
            &c,
            &BTreeMap::from([(run, Some(report(false)))]),
            &BTreeSet::new(),
        )
        .unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].address_id.as_deref(), Some("eip-n"));
        assert!(
            derive(
                &c,
                &BTreeMap::from([(run, Some(report(true)))]),
                &BTreeSet::new()
            )
            .unwrap()
            .is_empty()
        );
        assert!(
            derive(&c, &BTreeMap::from([(run, None)]), &BTreeSet::new())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_record_that_does_not_decode_fails_the_list() {
        let run = RunId::new();
        let mut c = cand(
            run,
            7,
            Step::Verify,
            UndoState::Done,
            "k",
            rebind("i", "a", "1.1.1.1"),
        );
        c.record.action = json!({"key": "k", "undo": {"kind": "reassociate_eip"}});
        let e = derive(&[c], &BTreeMap::new(), &BTreeSet::new()).unwrap_err();
        assert!(e.to_string().contains("undo record 7"), "{e}");
    }
}
