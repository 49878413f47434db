//! Four-eyes approvals (issue 14, item 2). When the policy holds a confirmation back, the
//! engine files a request bound to the exact plan — the input, the plan and its digest, and a
//! digest of the observation it was made from — instead of applying. Another person with the
//! role the request needs (never the requester) approves or rejects it. Approving observes the
//! cloud again, plans again with the stored input, and applies only when the digest is
//! unchanged; otherwise the request is void and says what changed. Every decision is audited,
//! in the run's timeline and announced (`approval.requested`, `approval.decided`) in the
//! transaction that records it.

use chrono::{DateTime, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::actor::Actor;
use super::errors::EngineError;
use super::{Engine, Job, jobs::to_json, records};
use crate::notify::{self, Notification};
use crate::store::{
    self, RunId, RunStatus, Step,
    approvals::{ApprovalRow, ApprovalState, NewApproval},
    users::Role,
};
use crate::wizard::input::StepInput;
use crate::wizard::observed::Inventory;
use crate::wizard::plan::{Change, Plan};

/// What confirming a step did.
#[derive(Debug, Clone)]
pub enum Confirmation {
    /// The plan is being applied in the background (step 1: recorded, the run moved on).
    Applying(Plan),
    /// The policy holds it for a second person: request `id` waits for someone with `needs`.
    /// Nothing was applied.
    ApprovalRequested { id: i64, plan: Plan, needs: Role },
}

impl Confirmation {
    pub fn plan(&self) -> &Plan {
        match self {
            Confirmation::Applying(p) | Confirmation::ApprovalRequested { plan: p, .. } => p,
        }
    }
}

/// What approving did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The plan was unchanged and is being applied.
    Applying,
    /// The plan (or the run) changed since the request: nothing applied; why, in words.
    Void(String),
}

/// Why a request cannot be made or decided, each saying what to do instead.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error(
        "step {step} already waits for approval (request {id}); it cannot be confirmed again \
         until that request is approved, rejected or expires"
    )]
    Pending { id: i64, step: i64 },
    #[error("there is no approval request {0}")]
    NotFound(i64),
    #[error("you asked for this approval; another person must decide it (four eyes)")]
    OwnRequest,
    #[error("request {id} needs {needed}'s approval{why}; you are {role}")]
    NeedsRole {
        id: i64,
        needed: &'static str,
        why: &'static str,
        role: Role,
    },
    #[error("request {id} is already {state}; nothing was changed")]
    Decided { id: i64, state: &'static str },
    #[error(
        "request {id} expired at {at}; it can no longer be approved. Preview the step again and \
         confirm it to ask anew"
    )]
    Expired { id: i64, at: DateTime<Utc> },
    #[error("say why you reject it: the comment is required")]
    CommentRequired,
    #[error(
        "only {requester}, who asked for request {id}, can withdraw it; others approve or \
         reject it"
    )]
    NotRequester { id: i64, requester: String },
}

/// How a request closes without a decision: the state it takes and the audit action.
struct Closing {
    state: ApprovalState,
    action: &'static str,
}

/// A confirmation the policy holds: the input, the plan made with it, the observation it was
/// made from, and the role that must approve it.
pub(super) struct Held<'a> {
    pub input: &'a StepInput,
    pub plan: &'a Plan,
    pub inventory: Option<&'a Inventory>,
    pub needs: Role,
}

/// Hex SHA-256 of the observation a plan was made from ("" for step 1, which has none).
fn observed_digest(inventory: Option<&Inventory>) -> String {
    inventory.map_or_else(String::new, |i| {
        let bytes = serde_json::to_vec(i).expect("inventories serialise");
        hex::encode(Sha256::digest(&bytes))
    })
}

/// One change in words, for "what changed" (the engine cannot use the pages' phrasing).
fn change_words(c: &Change) -> String {
    match c {
        Change::CreateNatGateway {
            name,
            new_eips,
            existing_eips,
            ..
        } => format!(
            "create NAT gateway {name} with {new_eips} new and {} existing EIP(s)",
            existing_eips.len()
        ),
        Change::AdoptNatGateway { nat_id } => format!("adopt NAT gateway {nat_id}"),
        Change::DeleteFailedNatGateway { nat_id } => format!("delete failed gateway {nat_id}"),
        Change::CreateRoute {
            route_table_id,
            nat_id,
            ..
        } => format!("route 0.0.0.0/0 of {route_table_id} to {nat_id}"),
        Change::ReplaceRoute {
            route_table_id,
            nat_id,
            ..
        } => format!("replace the default route of {route_table_id} with {nat_id}"),
        Change::DisassociateEip {
            instance_id, ip, ..
        } => format!("unbind EIP {ip} from {instance_id}"),
        Change::ReleaseEip {
            instance_id, ip, ..
        } => format!("release EIP {ip} of {instance_id}"),
        Change::TransformAddress { instance_id, ip } => {
            format!("convert {ip} of {instance_id} to an EIP")
        }
        Change::ReturnNormalAddress { instance_id, ip } => {
            format!("return public IP {ip} of {instance_id}")
        }
        Change::AssociateNatEip {
            nat_id,
            ip,
            from_instance,
        } => format!("move EIP {ip} of {from_instance} onto NAT gateway {nat_id}"),
        Change::CreateSnatRule {
            nat_id,
            resource_id,
            public_ips,
            ..
        } => format!(
            "SNAT rule on {nat_id}: {resource_id} leaves through {}",
            public_ips.join(", ")
        ),
    }
}

/// What differs between the plan a request was made with and the plan made now, in words.
pub(super) fn what_changed(old: &Plan, new: &Plan) -> String {
    let mut said = Vec::new();
    if new.is_blocked() {
        let why: Vec<_> = new.conflicts.iter().map(|c| c.message.as_str()).collect();
        said.push(format!("the plan is now blocked: {}", why.join("; ")));
    }
    let (was, now): (Vec<_>, Vec<_>) = (old.changes().collect(), new.changes().collect());
    let gone: Vec<_> = was.iter().filter(|c| !now.contains(c)).collect();
    let added: Vec<_> = now.iter().filter(|c| !was.contains(c)).collect();
    if !gone.is_empty() {
        let w: Vec<_> = gone.iter().map(|c| change_words(c)).collect();
        said.push(format!("no longer planned: {}", w.join("; ")));
    }
    if !added.is_empty() {
        let w: Vec<_> = added.iter().map(|c| change_words(c)).collect();
        said.push(format!("newly planned: {}", w.join("; ")));
    }
    let flips = |p: &Plan| {
        p.flip_tables
            .iter()
            .map(|t| (t.route_table_id.clone(), t.instances, t.members.clone()))
            .collect::<Vec<_>>()
    };
    if flips(old) != flips(new) {
        let tables: Vec<_> = new
            .flip_tables
            .iter()
            .filter(|t| {
                !old.flip_tables
                    .iter()
                    .any(|o| o.route_table_id == t.route_table_id && o.members == t.members)
            })
            .map(|t| format!("{} ({} instance(s))", t.route_table_id, t.instances))
            .collect();
        said.push(if tables.is_empty() {
            "the instances whose egress flips changed".to_owned()
        } else {
            format!("whose egress flips changed in {}", tables.join(", "))
        });
    }
    if said.is_empty() {
        // Same changes, different undo records or order: still not the plan that was approved.
        said.push("the changes' order or undo records differ".to_owned());
    }
    format!("the cloud changed since the request: {}", said.join("; "))
}

impl Engine {
    /// The policy in force.
    pub fn approval_policy(&self) -> &crate::approvals::ApprovalPolicy {
        &self.inner.options.approvals
    }

    /// Refuses a confirmation while a request waits for the step; a request past its expiry
    /// is marked expired (and no longer blocks).
    pub(super) async fn refuse_if_pending(
        &self,
        run: RunId,
        step: Step,
    ) -> Result<(), EngineError> {
        let Some(p) = store::approvals::pending_for(self.store().readers(), run, step).await?
        else {
            return Ok(());
        };
        if p.is_expired_at(Utc::now()) {
            self.expire(&p).await?;
            return Ok(());
        }
        Err(ApprovalError::Pending {
            id: p.id,
            step: step.number(),
        }
        .into())
    }

    /// When a request filed at `now` expires, by the policy.
    pub(super) fn expiry_from(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + chrono::Duration::from_std(self.approval_policy().expiry)
            .unwrap_or(chrono::Duration::days(1))
    }

    /// Opens the write transaction that files `new` and inserts it; the caller adds its audit
    /// entry, event and notification and commits. Fails closed with the waiting request's id
    /// when one already waits at the step (the unique index over pending requests).
    pub(super) async fn file_request(
        &self,
        new: &NewApproval<'_>,
    ) -> Result<(crate::store::WriteTx, i64), EngineError> {
        let mut tx = self.store().begin_write().await?;
        match store::approvals::insert(&mut *tx, new).await {
            Ok(id) => Ok((tx, id)),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                drop(tx);
                let db = self.store().readers();
                let id = store::approvals::pending_for(db, new.run, new.step)
                    .await?
                    .map_or(0, |p| p.id);
                Err(ApprovalError::Pending {
                    id,
                    step: new.step.number(),
                }
                .into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Files the request for `plan` (made with `input` from `inventory`), in one transaction
    /// with its audit entry, timeline event and notification. Fails closed when another
    /// request for the step got in first (the unique index over pending requests).
    pub(super) async fn request_approval(
        &self,
        run: RunId,
        held: Held<'_>,
        actor: Actor<'_>,
        audit: &serde_json::Value,
    ) -> Result<i64, EngineError> {
        let Held {
            input,
            plan,
            inventory,
            needs,
        } = held;
        let r = self.run(run).await?;
        let step = input.step();
        let now = Utc::now();
        let (input_json, plan_json) = (to_json(input), to_json(plan));
        let digest = plan.digest().0;
        let observed = observed_digest(inventory);
        let observed_at = self.observed_at(&r, step).unwrap_or(now);
        let new = NewApproval {
            kind: store::approvals::ApprovalKind::Step,
            run,
            step,
            input: &input_json,
            plan: &plan_json,
            plan_digest: &digest,
            observed_digest: &observed,
            observed_at,
            irreversible: plan.has_irreversible(),
            needs_role: needs,
            requested_by: actor.user,
            requested_at: now,
            expires_at: self.expiry_from(now),
        };
        let (mut tx, id) = self.file_request(&new).await?;
        let mut details = audit.clone();
        details["approval"] = json!(id);
        details["needs"] = json!(needs.as_str());
        actor
            .audit(&mut *tx, "approval.request", run, &details)
            .await?;
        let msg = format!(
            "{} asked for approval of {} (request {id}, {} change(s)); waiting for approval by \
             another {}",
            actor.user,
            step.title(),
            plan.items.len(),
            needs.as_str()
        );
        self.append_event(&mut tx, run, step, &msg).await?;
        let note = Notification::approval_requested(
            &r,
            step,
            id,
            actor.user,
            needs.as_str(),
            plan.items.len(),
        );
        notify::event::record(&mut tx, &note).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A request by id.
    pub async fn approval(&self, id: i64) -> Result<ApprovalRow, EngineError> {
        Ok(store::approvals::get(self.store().readers(), id)
            .await?
            .ok_or(ApprovalError::NotFound(id))?)
    }

    /// The plan a request was made with, decoded strictly.
    pub fn approval_plan(&self, a: &ApprovalRow) -> Result<Plan, EngineError> {
        let what = format!("plan of approval request {}", a.id);
        Ok(records::decode(a.run_id, what, a.plan.clone())?)
    }

    /// Checks that `actor` with `role` may decide `a` now; an expired request is marked so.
    async fn decidable(
        &self,
        a: &ApprovalRow,
        actor: &Actor<'_>,
        role: Role,
    ) -> Result<(), EngineError> {
        if a.state != ApprovalState::Pending {
            return Err(ApprovalError::Decided {
                id: a.id,
                state: a.state.words(),
            }
            .into());
        }
        if actor.user == a.requested_by {
            return Err(ApprovalError::OwnRequest.into());
        }
        if role < a.needs_role {
            return Err(ApprovalError::NeedsRole {
                id: a.id,
                needed: if a.needs_role == Role::Admin {
                    "an admin"
                } else {
                    "an operator"
                },
                why: if a.irreversible {
                    " (its plan releases addresses, which cannot be undone)"
                } else {
                    ""
                },
                role,
            }
            .into());
        }
        if a.is_expired_at(Utc::now()) {
            self.expire(a).await?;
            return Err(ApprovalError::Expired {
                id: a.id,
                at: a.expires_at,
            }
            .into());
        }
        Ok(())
    }

    /// Approves request `id` as `actor` (whose role is `role`): re-observes, re-plans with the
    /// stored input, and applies only an unchanged plan. A changed plan voids the request
    /// (nothing applied, the step waits to be previewed again) and says what changed.
    /// Refusals (own request, role, expired, already decided) are audited.
    pub async fn approve(
        &self,
        id: i64,
        actor: impl Into<Actor<'_>>,
        role: Role,
        comment: &str,
    ) -> Result<Decision, EngineError> {
        let actor = actor.into();
        let a = self.approval(id).await?;
        let result = self.approve_inner(&a, actor, role, comment.trim()).await;
        self.audit_refusal(&a, actor, "approval.approve_refused", &result)
            .await?;
        result
    }

    async fn approve_inner(
        &self,
        a: &ApprovalRow,
        actor: Actor<'_>,
        role: Role,
        comment: &str,
    ) -> Result<Decision, EngineError> {
        self.decidable(a, &actor, role).await?;
        if a.kind == store::approvals::ApprovalKind::Rollback {
            return self.approve_rollback(a, actor, comment).await;
        }
        let what = format!("input of approval request {}", a.id);
        let input: StepInput = records::decode(a.run_id, what, a.input.clone())?;
        let requested = self.approval_plan(a)?;
        let r = self.run(a.run_id).await?;
        if r.status != RunStatus::Active || r.current_step != a.step {
            let why = format!(
                "the run is now {} at step {}, no longer waiting at step {}",
                r.status,
                r.current_step.number(),
                a.step.number()
            );
            self.void(a, actor, &why).await?;
            return Ok(Decision::Void(why));
        }
        let (plan, inventory) = self.plan_observed(a.run_id, &input).await?;
        if plan.is_blocked() || plan.digest().0 != a.plan_digest {
            let why = what_changed(&requested, &plan);
            self.void(a, actor, &why).await?;
            return Ok(Decision::Void(why));
        }
        let observed_now = observed_digest(inventory.as_deref());
        let step = a.step;
        let mut tx = self.store().begin_write().await?;
        let comment = (!comment.is_empty()).then_some(comment);
        if !store::approvals::decide(
            &mut *tx,
            a.id,
            ApprovalState::Approved,
            Some(actor.user),
            comment,
            None,
        )
        .await?
        {
            drop(tx);
            return Err(self.already_decided(a.id).await);
        }
        // The plan recorded as confirmed is the one made now, whose digest is the approved one.
        store::steps::confirm(
            &mut *tx,
            a.run_id,
            step,
            &to_json(&input),
            &to_json(&plan),
            &a.requested_by,
        )
        .await?;
        let details = json!({
            "approval": a.id,
            "step": step.number(),
            "plan_digest": a.plan_digest,
            "requested_by": a.requested_by,
            "comment": comment,
            "observed_digest": {"requested": a.observed_digest, "approved": observed_now},
        });
        actor
            .audit(&mut *tx, "approval.approve", a.run_id, &details)
            .await?;
        let note = Notification::approval_decided(
            &r,
            step,
            a.id,
            "approved",
            actor.user,
            comment.unwrap_or(""),
        );
        notify::event::record(&mut tx, &note).await?;
        let msg = format!(
            "{} approved {}'s {} (request {}): {} change(s)",
            actor.user,
            a.requested_by,
            step.title(),
            a.id,
            plan.items.len()
        );
        self.start_applying(
            tx,
            a.run_id,
            RunStatus::Active,
            step,
            &msg,
            Job::Apply(step),
        )
        .await?;
        Ok(Decision::Applying)
    }

    /// Rejects request `id` with a comment (required): nothing applied, the step waits to be
    /// previewed and confirmed again.
    pub async fn reject(
        &self,
        id: i64,
        actor: impl Into<Actor<'_>>,
        role: Role,
        comment: &str,
    ) -> Result<(), EngineError> {
        let actor = actor.into();
        let a = self.approval(id).await?;
        let result = self.reject_inner(&a, actor, role, comment.trim()).await;
        self.audit_refusal(&a, actor, "approval.reject_refused", &result)
            .await?;
        result
    }

    async fn reject_inner(
        &self,
        a: &ApprovalRow,
        actor: Actor<'_>,
        role: Role,
        comment: &str,
    ) -> Result<(), EngineError> {
        if comment.is_empty() {
            return Err(ApprovalError::CommentRequired.into());
        }
        self.decidable(a, &actor, role).await?;
        let r = self.run(a.run_id).await?;
        let mut tx = self.store().begin_write().await?;
        if !store::approvals::decide(
            &mut *tx,
            a.id,
            ApprovalState::Rejected,
            Some(actor.user),
            Some(comment),
            None,
        )
        .await?
        {
            drop(tx);
            return Err(self.already_decided(a.id).await);
        }
        let details = json!({"approval": a.id, "step": a.step.number(), "comment": comment});
        actor
            .audit(&mut *tx, "approval.reject", a.run_id, &details)
            .await?;
        let msg = format!(
            "{} rejected {}'s {} (request {}): {comment}",
            actor.user,
            a.requested_by,
            a.subject(),
            a.id
        );
        self.append_event(&mut tx, a.run_id, a.step, &msg).await?;
        let note =
            Notification::approval_decided(&r, a.step, a.id, "rejected", actor.user, comment);
        notify::event::record(&mut tx, &note).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The requester takes back a pending request (a mistake, a plan they no longer want, a
    /// reviewer who is away): nothing is applied and the step waits to be previewed and
    /// confirmed again. Recorded as a void request that says it was withdrawn, audited as
    /// `approval.withdraw`. Refusals are audited too.
    pub async fn withdraw(&self, id: i64, actor: impl Into<Actor<'_>>) -> Result<(), EngineError> {
        let actor = actor.into();
        let a = self.approval(id).await?;
        let result = self.withdraw_inner(&a, actor).await;
        self.audit_refusal(&a, actor, "approval.withdraw_refused", &result)
            .await?;
        result
    }

    async fn withdraw_inner(&self, a: &ApprovalRow, actor: Actor<'_>) -> Result<(), EngineError> {
        if a.state != ApprovalState::Pending {
            return Err(ApprovalError::Decided {
                id: a.id,
                state: a.state.words(),
            }
            .into());
        }
        if actor.user != a.requested_by {
            return Err(ApprovalError::NotRequester {
                id: a.id,
                requester: a.requested_by.clone(),
            }
            .into());
        }
        let why = format!("withdrawn by {}", actor.user);
        let r = self.run(a.run_id).await?;
        let mut tx = self.store().begin_write().await?;
        let closing = Closing {
            state: ApprovalState::Void,
            action: "approval.withdraw",
        };
        if !self
            .close_in(&mut tx, a, &r, closing, Some(actor), &why)
            .await?
        {
            drop(tx);
            return Err(self.already_decided(a.id).await);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Voids a pending request: never applied; `why` says what changed.
    pub(super) async fn void(
        &self,
        a: &ApprovalRow,
        actor: Actor<'_>,
        why: &str,
    ) -> Result<(), EngineError> {
        self.close(a, ApprovalState::Void, Some(actor), why).await
    }

    /// Marks a pending request past its expiry as expired.
    async fn expire(&self, a: &ApprovalRow) -> Result<(), EngineError> {
        let why = format!(
            "not decided before {}",
            a.expires_at.format("%Y-%m-%d %H:%M UTC")
        );
        self.close(a, ApprovalState::Expired, None, &why).await
    }

    /// Void or expired, with the timeline event, audit entry and notification. A request
    /// someone else closed meanwhile is left as they left it.
    async fn close(
        &self,
        a: &ApprovalRow,
        state: ApprovalState,
        actor: Option<Actor<'_>>,
        why: &str,
    ) -> Result<(), EngineError> {
        let r = self.run(a.run_id).await?;
        let mut tx = self.store().begin_write().await?;
        let closing = Closing {
            state,
            action: match state {
                ApprovalState::Expired => "approval.expired",
                _ => "approval.void",
            },
        };
        if self.close_in(&mut tx, a, &r, closing, actor, why).await? {
            tx.commit().await?;
        }
        Ok(())
    }

    /// [`Engine::close`] in the caller's transaction; false when it was no longer pending.
    async fn close_in(
        &self,
        tx: &mut crate::store::WriteTx,
        a: &ApprovalRow,
        r: &store::runs::Run,
        closing: Closing,
        actor: Option<Actor<'_>>,
        why: &str,
    ) -> Result<bool, EngineError> {
        let Closing { state, action } = closing;
        let by = actor.map(|x| x.user);
        if !store::approvals::decide(&mut **tx, a.id, state, by, None, Some(why)).await? {
            return Ok(false);
        }
        let system = Actor {
            user: "natpilot",
            ip: None,
        };
        let details = json!({"approval": a.id, "step": a.step.number(), "why": why});
        actor
            .unwrap_or(system)
            .audit(&mut **tx, action, a.run_id, &details)
            .await?;
        let msg = format!(
            "request {} for {} is {}: {why}",
            a.id,
            a.subject(),
            state.words()
        );
        self.append_event(tx, a.run_id, a.step, &msg).await?;
        let note = Notification::approval_decided(
            r,
            a.step,
            a.id,
            state.as_str(),
            by.unwrap_or("natpilot"),
            why,
        );
        notify::event::record(tx, &note).await?;
        Ok(true)
    }

    /// In the transaction that rolls back or abandons run `r`: voids the request its current
    /// step waits for, if any, so no list keeps offering a decision that can no longer apply.
    pub(super) async fn void_pending_in(
        &self,
        tx: &mut crate::store::WriteTx,
        r: &store::runs::Run,
        actor: Actor<'_>,
        why: &str,
    ) -> Result<(), EngineError> {
        if let Some(a) = store::approvals::pending_for(&mut **tx, r.id, r.current_step).await? {
            let closing = Closing {
                state: ApprovalState::Void,
                action: "approval.void",
            };
            self.close_in(tx, &a, r, closing, Some(actor), why).await?;
        }
        Ok(())
    }

    pub(super) async fn already_decided(&self, id: i64) -> EngineError {
        match self.approval(id).await {
            Ok(now) => ApprovalError::Decided {
                id,
                state: now.state.words(),
            }
            .into(),
            Err(e) => e,
        }
    }

    /// Audits a refused decision (who tried what and why); database failures are not decisions.
    async fn audit_refusal<T>(
        &self,
        a: &ApprovalRow,
        actor: Actor<'_>,
        action: &str,
        result: &Result<T, EngineError>,
    ) -> Result<(), EngineError> {
        if let Err(e) = result
            && !matches!(e, EngineError::Db(_))
        {
            let details =
                json!({"approval": a.id, "step": a.step.number(), "refused": e.to_string()});
            actor
                .audit(self.store().writer(), action, a.run_id, &details)
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wizard::ids::NatGatewayId;
    use crate::wizard::plan::Undo;

    fn route(table: &str) -> (Change, Undo) {
        let nat = NatGatewayId::parse("nat-0000abcd").unwrap();
        (
            Change::CreateRoute {
                route_table_id: table.into(),
                nat_id: nat.clone(),
                description: "natpilot".into(),
            },
            Undo::DeleteRoute {
                route_table_id: table.into(),
                nat_id: nat,
            },
        )
    }

    #[test]
    fn what_changed_names_the_changes_that_came_and_went() {
        let mut old = Plan::default();
        let (c, u) = route("rtb-aaaa");
        old.push(c, u);
        let mut new = Plan::default();
        let (c, u) = route("rtb-bbbb");
        new.push(c, u);
        let said = what_changed(&old, &new);
        assert!(
            said.contains("no longer planned: route 0.0.0.0/0 of rtb-aaaa"),
            "{said}"
        );
        assert!(
            said.contains("newly planned: route 0.0.0.0/0 of rtb-bbbb"),
            "{said}"
        );
        new.conflict("nat", "the NAT gateway is gone", false);
        assert!(what_changed(&old, &new).contains("now blocked: the NAT gateway is gone"));
    }
}
