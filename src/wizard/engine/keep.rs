//! Issue 12 in the engine: the keep-egress marks of step 1 (edited one at a time, audited),
//! applying a move's changes reconcile-first (bind an EIP to the NAT gateway, an SNAT rule
//! found again by its description), undoing them, and the kept IPs with their rule ids for the
//! final report. The planning itself is pure: `steps::keep`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use super::changes::{Applied, called, done};
use super::ctx::Ctx;
use super::errors::EngineError;
use super::rollback::Outcome;
use super::{Actor, Engine, jobs, records};
use crate::store::exposure_counts::SharedIp;
use crate::store::{self, EgressPhase, RunId, Step, keep_egress::MarkKind};
use crate::wizard::cloud::CloudError;
use crate::wizard::ids::NatGatewayId;
use crate::wizard::input::FieldErrors;
use crate::wizard::observed::AddressKind;
use crate::wizard::plan::{Change, Undo};
use crate::wizard::protection::Rule;
use crate::wizard::steps::keep::{self as plan_keep, KeepMarks, SharedEgress};

/// Binds the EIP to the gateway unless it already is (a replay after a crash).
pub(super) async fn associate_nat_eip(
    ctx: &Ctx,
    nat_id: &NatGatewayId,
    ip: &str,
) -> Result<Applied, CloudError> {
    let seen = ctx.cloud.eips_with_ip(ip).await?;
    let Some(a) = seen
        .iter()
        .find(|a| a.kind == AddressKind::Eip && a.ip == ip)
    else {
        return Err(CloudError::state(
            "AssociateNatGatewayAddress",
            "natpilot.AddressMissing",
            format!("EIP {ip} was not found; it cannot be bound to NAT gateway {nat_id}"),
        ));
    };
    match a.instance_id.as_deref() {
        Some(owner) if owner == nat_id.as_str() => Ok(done(None)),
        Some(owner) => Err(CloudError::state(
            "AssociateNatGatewayAddress",
            "natpilot.AddressBusy",
            format!(
                "EIP {ip} is bound to {owner}, not unbound as this step left it; plan the step again"
            ),
        )),
        None => {
            ctx.cloud.associate_nat_address(nat_id, ip).await?;
            Ok(called(None))
        }
    }
}

/// Creates the rule unless one with its description exists, then finds it (Create answers no
/// id, addendum 2 §2.2) so the undo record names the rule by id.
pub(super) async fn create_snat_rule(ctx: &Ctx, change: &Change) -> Result<Applied, CloudError> {
    let Change::CreateSnatRule {
        nat_id,
        description,
        ..
    } = change
    else {
        unreachable!("create_snat_rule() is called for SNAT rule changes only");
    };
    let undo = |id: String| Undo::DeleteSnatRule {
        nat_id: nat_id.clone(),
        snat_id: Some(id),
        description: description.clone(),
    };
    if let Some(id) = find_rule(ctx, nat_id, description).await? {
        return Ok(done(Some(undo(id))));
    }
    ctx.cloud.create_snat_rule(change).await?;
    let id = find_rule(ctx, nat_id, description).await?.ok_or_else(|| {
        CloudError::state(
            "DescribeNatGatewaySourceIpTranslationNatRules",
            "natpilot.SnatRuleMissing",
            format!(
                "the SNAT rule “{description}” was created but NAT gateway {nat_id} does not list it; retry the step"
            ),
        )
    })?;
    Ok(called(Some(undo(id))))
}

async fn find_rule(
    ctx: &Ctx,
    nat_id: &NatGatewayId,
    description: &str,
) -> Result<Option<String>, CloudError> {
    Ok(ctx
        .cloud
        .snat_rules(nat_id)
        .await?
        .into_iter()
        .find(|r| r.description == description)
        .map(|r| r.id))
}

/// Rollback: unbind the EIP from the gateway, if it is still there.
pub(super) async fn undo_nat_eip(
    ctx: &Ctx,
    nat_id: &NatGatewayId,
    ip: &str,
) -> Result<Outcome, CloudError> {
    let seen = ctx.cloud.eips_with_ip(ip).await?;
    let on_nat = seen
        .iter()
        .any(|a| a.ip == ip && a.instance_id.as_deref() == Some(nat_id.as_str()));
    if !on_nat {
        return Ok(Outcome::NotNeeded);
    }
    ctx.cloud.disassociate_nat_address(nat_id, ip).await?;
    Ok(Outcome::Undone(format!(
        "unbound EIP {ip} from NAT gateway {nat_id}"
    )))
}

/// Rollback: delete the rule (by its recorded id, or found by description when the create's
/// result was never recorded).
pub(super) async fn undo_snat_rule(
    ctx: &Ctx,
    nat_id: &NatGatewayId,
    snat_id: Option<&str>,
    description: &str,
) -> Result<Outcome, CloudError> {
    let rules = match ctx.cloud.snat_rules(nat_id).await {
        Ok(r) => r,
        // The gateway is gone, and its rules with it.
        Err(e) if e.is_not_found() => return Ok(Outcome::NotNeeded),
        Err(e) => return Err(e),
    };
    let found = rules
        .iter()
        .find(|r| Some(r.id.as_str()) == snat_id || r.description == description);
    let Some(rule) = found else {
        return Ok(Outcome::NotNeeded);
    };
    ctx.cloud.delete_snat_rule(nat_id, &rule.id).await?;
    Ok(Outcome::Undone(format!(
        "deleted SNAT rule {} ({} {})",
        rule.id, rule.resource_type, rule.resource_id
    )))
}

/// One kept egress IP as the final report lists it.
#[derive(Debug, Clone, Serialize)]
pub struct KeptEgress {
    pub ip: String,
    /// The instance the IP was taken from.
    pub from_instance: String,
    /// `eip` or `ordinary` (converted to an EIP first).
    pub was: &'static str,
    /// The rules that send traffic through it: (rule id, resource type, resource id).
    pub snat_rules: Vec<(String, String, String)>,
    /// What the egress test after step 3 printed for the instance.
    pub egress_after: Option<String>,
}

/// The kept IPs of the run with their SNAT rule ids, from step 3's plan and undo records.
pub(super) async fn kept_report(ctx: &Ctx) -> Result<Vec<KeptEgress>, super::ctx::JobError> {
    let Some(plan) = records::plan(&ctx.store, ctx.id(), Step::Route).await? else {
        return Ok(vec![]);
    };
    let ids: BTreeMap<String, Option<String>> = records::undo_records(&ctx.store, ctx.id())
        .await?
        .into_iter()
        .filter_map(|u| match u.entry.undo {
            Undo::DeleteSnatRule {
                snat_id,
                description,
                ..
            } => Some((description, snat_id)),
            _ => None,
        })
        .collect();
    let after = jobs::load_egress(&ctx.store, ctx.id(), EgressPhase::After).await?;
    let transformed: Vec<&str> = plan
        .changes()
        .filter_map(|c| match c {
            Change::TransformAddress { ip, .. } => Some(ip.as_str()),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for c in plan.changes() {
        let Change::AssociateNatEip {
            ip, from_instance, ..
        } = c
        else {
            continue;
        };
        let snat_rules = plan
            .changes()
            .filter_map(|r| match r {
                Change::CreateSnatRule {
                    resource_type,
                    resource_id,
                    public_ips,
                    description,
                    keeps_for: Some(_),
                    ..
                } if public_ips.first() == Some(ip) => Some((
                    ids.get(description).cloned().flatten().unwrap_or_default(),
                    resource_type.clone(),
                    resource_id.clone(),
                )),
                _ => None,
            })
            .collect();
        let egress_after = match after.get(from_instance) {
            Some(crate::wizard::steps::assess::Egress::Ip { ip }) => Some(ip.trim().to_owned()),
            _ => None,
        };
        out.push(KeptEgress {
            ip: ip.clone(),
            from_instance: from_instance.clone(),
            was: if transformed.contains(&ip.as_str()) {
                "ordinary"
            } else {
                "eip"
            },
            snat_rules,
            egress_after,
        });
    }
    Ok(out)
}

/// Step 1's view of the marks: what is marked, and the shared egress IPs of the baseline.
#[derive(Debug, Clone, Default)]
pub struct KeepView {
    pub marks: KeepMarks,
    pub shared: Vec<SharedEgress>,
}

/// What step 1's page shows of the marks: [`KeepView`] with the shared IPs counted, as stored
/// with the exposure summary (no read of every row per view).
#[derive(Debug, Clone, Default)]
pub struct KeepSummary {
    pub marks: KeepMarks,
    pub shared: Vec<SharedIp>,
}

impl Engine {
    /// [`Engine::keep_egress_view`] for a page: the shared IPs as counted when the rows were
    /// stored (worked out from the rows for a summary stored before they were counted).
    pub async fn keep_egress_summary(&self, run: RunId) -> Result<KeepSummary, EngineError> {
        let marks = super::observe::keep_marks(self.store(), run).await?;
        super::protection::ensure_rows(self.store(), run).await?;
        let stored =
            store::exposure_counts::stored_keep_shared(self.store().readers(), run).await?;
        let shared = match stored {
            Some(shared) => shared,
            None => {
                let rows = store::exposure::egress_ips(self.store().readers(), run).await?;
                plan_keep::shared_from_rows(&rows)
                    .iter()
                    .map(SharedIp::from)
                    .collect()
            }
        };
        Ok(KeepSummary { marks, shared })
    }

    /// The run's keep-egress marks and shared egress IPs (from step 1's stored exposure rows:
    /// each instance's own public IP and the IP its baseline egress test printed; no cloud
    /// call, and no decoding of the stored inventory on every view).
    pub async fn keep_egress_view(&self, run: RunId) -> Result<KeepView, EngineError> {
        let marks = super::observe::keep_marks(self.store(), run).await?;
        // A run assessed before the rows existed gets them from its stored report first.
        super::protection::ensure_rows(self.store(), run).await?;
        let rows = store::exposure::egress_ips(self.store().readers(), run).await?;
        let shared = plan_keep::shared_from_rows(&rows);
        Ok(KeepView { marks, shared })
    }

    /// Marks (or unmarks) what must keep its egress IP: an instance id, a rule, or a shared
    /// IP. Only while step 1 waits; audited with the change it records.
    pub async fn set_keep_egress(
        &self,
        run: RunId,
        kind: MarkKind,
        value: &str,
        keep: bool,
        actor: impl Into<Actor<'_>>,
    ) -> Result<(), EngineError> {
        let actor = actor.into();
        let r = self.run(run).await?;
        if r.status != store::RunStatus::Active || r.current_step != Step::Assess {
            return Err(EngineError::wrong(
                r.status,
                r.current_step,
                "what keeps its egress IP can change only while step 1 waits for you",
            ));
        }
        let value = value.trim();
        let refuse = |msg: String| {
            let mut errs = FieldErrors::default();
            errs.0.insert("keep_value".into(), msg);
            EngineError::from(errs)
        };
        let problem = match kind {
            MarkKind::Instance if keep => {
                let known =
                    store::exposure::has_instance(self.store().readers(), run, value).await?;
                (!known).then(|| {
                    format!(
                        "{value:?} is not an instance of {}; pick one from the table",
                        r.vpc_id
                    )
                })
            }
            MarkKind::Rule => match serde_json::from_str::<Rule>(value) {
                Err(_) => Some("that rule is not one natpilot understands".to_owned()),
                Ok(Rule::Dns) => Some(
                    "keep egress IPs by tag, subnet or name pattern (DNS names say nothing \
                     about who calls out)"
                        .to_owned(),
                ),
                Ok(_) => None,
            },
            MarkKind::SharedIp if keep => {
                let view = self.keep_egress_summary(run).await?;
                (!view.shared.iter().any(|s| s.ip == value)).then(|| {
                    format!("{value} is not an egress IP that several instances share today")
                })
            }
            _ => None,
        };
        if let Some(problem) = problem {
            return Err(refuse(problem));
        }
        let mut tx = self.store().begin_write().await?;
        let changed = if keep {
            store::keep_egress::add(&mut *tx, run, kind, value, actor.user).await?
        } else {
            store::keep_egress::remove(&mut *tx, run, kind, value).await?
        };
        if changed {
            super::keep_rows::refresh(&mut tx, run).await?;
            let what = match kind {
                MarkKind::Instance => format!("instance {value}"),
                MarkKind::Rule => serde_json::from_str::<Rule>(value)
                    .map(|r| r.every_instance())
                    .unwrap_or_else(|_| value.to_owned()),
                MarkKind::SharedIp => format!("shared egress IP {value}"),
            };
            let msg = if keep {
                format!("{} chose to keep the egress IP of {what}", actor.user)
            } else {
                format!("{} no longer keeps the egress IP of {what}", actor.user)
            };
            self.append_event(&mut tx, run, Step::Assess, &msg).await?;
            let details = json!({"kind": kind.as_str(), "value": value, "keep": keep});
            actor
                .audit(&mut *tx, "run.keep_egress", run, &details)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
