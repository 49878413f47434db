//! Step 1's protection, stored: the exposure report written as one row per instance (so a
//! page reads one page of it), the run's protection rules edited one at a time (audited), and
//! each row's protected/reason kept in step with the rules and single-host decisions by the
//! same [`Protection::decide`] that confirming step 1 uses.

use std::collections::BTreeMap;

use serde_json::json;

use super::Engine;
use super::actor::Actor;
use super::errors::EngineError;
use super::records::{self, RecordError};
use crate::store::{self, RunId, RunStatus, Step, Store, exposure::FactsRow};
use crate::wizard::input::{AssessInput, FieldErrors};
use crate::wizard::protection::{Decision, Facts, Protection, Rule};
use crate::wizard::steps::assess::ExposureReport;

pub(super) use super::exposure_rows::write_rows;

type Tx = crate::store::WriteTx;

/// Sets each stored rule's match count from the report (no row is read back).
pub(super) async fn count_matches(
    tx: &mut Tx,
    run: RunId,
    report: &ExposureReport,
) -> Result<(), RecordError> {
    for (id, rule, _, _) in rules(&mut **tx, run).await? {
        let n = report
            .rows
            .iter()
            .filter(|r| {
                rule.matches(&Facts {
                    name: &r.name,
                    subnet_id: &r.subnet_id,
                    tags: &r.tags,
                    has_dns: !r.dns_names.is_empty(),
                })
            })
            .count();
        store::protection_rules::set_rule_matches(&mut **tx, id, n as i64).await?;
    }
    Ok(())
}

/// Seeds the default rules of a freshly assessed run (kept if the job runs again).
pub(super) async fn seed_rules(tx: &mut Tx, run: RunId) -> Result<(), RecordError> {
    for rule in crate::wizard::protection::default_rules() {
        let json = serde_json::to_string(&rule).unwrap_or_default();
        store::protection_rules::add_rule(&mut **tx, run, &json, "natpilot").await?;
    }
    Ok(())
}

/// Makes the stored rules exactly `rules` (confirming step 1 records what it confirmed).
pub(super) async fn replace_rules(
    tx: &mut Tx,
    run: RunId,
    rules: &[Rule],
    user: &str,
) -> Result<(), RecordError> {
    let wanted: Vec<String> = rules
        .iter()
        .map(|r| serde_json::to_string(r).unwrap_or_default())
        .collect();
    for r in store::protection_rules::list_rules(&mut **tx, run).await? {
        if !wanted.contains(&r.rule) {
            store::protection_rules::remove_rule(&mut **tx, run, r.id).await?;
        }
    }
    for json in &wanted {
        store::protection_rules::add_rule(&mut **tx, run, json, user).await?;
    }
    Ok(())
}

fn corrupt(run: RunId, what: &str, e: impl std::fmt::Display) -> RecordError {
    RecordError::Corrupt {
        what: what.to_owned(),
        run,
        detail: e.to_string(),
    }
}

/// The run's rules with their ids and match counts, each decoded strictly.
pub(super) async fn rules(
    conn: impl sqlx::AnyExecutor<'_>,
    run: RunId,
) -> Result<Vec<(i64, Rule, i64, String)>, RecordError> {
    store::protection_rules::list_rules(conn, run)
        .await?
        .into_iter()
        .map(|r| {
            let rule: Rule = serde_json::from_str(&r.rule)
                .map_err(|e| corrupt(run, &format!("protection rule {}", r.id), e))?;
            Ok((r.id, rule, r.matches, r.created_by))
        })
        .collect()
}

/// The protection as the operator has it now: the stored rules and single-host decisions.
pub(super) async fn stored_input(
    conn: &mut sqlx::AnyConnection,
    run: RunId,
) -> Result<(AssessInput, BTreeMap<String, String>), RecordError> {
    let rules = rules(&mut *conn, run).await?;
    let hosts = store::results::list_protected(&mut *conn, run).await?;
    let deciders = hosts
        .iter()
        .map(|h| (h.instance_id.clone(), h.decided_by.clone()))
        .collect();
    let input = AssessInput {
        rules: rules.into_iter().map(|(_, r, _, _)| r).collect(),
        protect: hosts
            .iter()
            .filter(|h| h.protected && h.reason == "operator")
            .map(|h| h.instance_id.clone())
            .collect(),
        unprotect: hosts
            .iter()
            .filter(|h| !h.protected)
            .map(|h| h.instance_id.clone())
            .collect(),
    };
    Ok((input, deciders))
}

fn reason_text(d: &Decision, by: Option<&String>) -> String {
    let by = by.map_or("an operator", String::as_str);
    match d {
        Decision::Rule(r) => r.describe(),
        Decision::Operator => format!("chosen by {by}"),
        Decision::Exception => format!("not protected, decided by {by}"),
        Decision::Open => String::new(),
    }
}

fn tags_of(run: RunId, f: &FactsRow) -> Result<Vec<(String, String)>, RecordError> {
    serde_json::from_str(&f.tags)
        .map_err(|e| corrupt(run, &format!("exposure row of {}", f.instance_id), e))
}

/// Recomputes the stored protection of every row (or of `only`), and the rules' counts.
pub(super) async fn refresh(
    tx: &mut Tx,
    run: RunId,
    only: Option<&str>,
) -> Result<(), RecordError> {
    let (input, deciders) = stored_input(tx, run).await?;
    let facts = store::exposure::facts(&mut **tx, run, only).await?;
    let protection = Protection::new(&input.rules, &input.protect, &input.unprotect);
    let mut counts = vec![0_i64; input.rules.len()];
    for f in &facts {
        let tags = tags_of(run, f)?;
        let facts = Facts {
            name: &f.name,
            subnet_id: &f.subnet_id,
            tags: &tags,
            has_dns: f.has_dns,
        };
        for (n, rule) in counts.iter_mut().zip(&input.rules) {
            *n += i64::from(rule.matches(&facts));
        }
        let d = protection.decide(&f.instance_id, &facts);
        let reason = reason_text(&d, deciders.get(&f.instance_id));
        if (f.protected, f.reason_kind.as_str(), f.reason.as_str())
            != (d.protected(), d.reason_kind(), reason.as_str())
        {
            store::exposure::set_protection(
                &mut **tx,
                run,
                &f.instance_id,
                d.protected(),
                d.reason_kind(),
                &reason,
            )
            .await?;
        }
    }
    if only.is_none() {
        for ((id, _, _, _), n) in rules(&mut **tx, run).await?.iter().zip(counts) {
            store::protection_rules::set_rule_matches(&mut **tx, *id, n).await?;
        }
    }
    Ok(())
}

/// Makes sure the run's rows exist: a run assessed before they existed gets them from its
/// stored report (once). `false` while the assessment has not been stored.
pub(super) async fn ensure_rows(store: &Store, run: RunId) -> Result<bool, RecordError> {
    if !store::exposure::has_report(store.readers(), run).await? {
        return Ok(false);
    }
    if store::exposure::has_rows(store.readers(), run).await? {
        if !store::exposure_counts::has_summary(store.readers(), run).await? {
            // Rows without a summary (the job stopped between them): count them once.
            let mut tx = store.begin_write().await?;
            store::exposure_counts::store_summary(&mut tx, run).await?;
            tx.commit().await?;
        }
        return Ok(true);
    }
    let Some(report) = records::exposure(store, run).await? else {
        return Ok(false);
    };
    write_rows(store, run, &report).await?;
    let mut tx = store.begin_write().await?;
    refresh(&mut tx, run, None).await?;
    store::exposure_counts::store_summary(&mut tx, run).await?;
    tx.commit().await?;
    Ok(true)
}

impl Engine {
    /// Whether step 1's rows can be read (the assessment is stored); writes them for a run
    /// assessed before they existed.
    pub async fn exposure_ready(&self, run: RunId) -> Result<bool, EngineError> {
        if !ensure_rows(self.store(), run).await? {
            return Ok(false);
        }
        super::keep_rows::ensure(self.store(), run).await?;
        Ok(true)
    }

    /// The run's protection rules: (id, rule, how many instances it matches, who added it).
    pub async fn protection_rules(
        &self,
        run: RunId,
    ) -> Result<Vec<(i64, Rule, i64, String)>, EngineError> {
        Ok(rules(self.store().readers(), run).await?)
    }

    /// Step 1's input as the operator has edited it: the stored rules and single hosts.
    pub async fn stored_assess_input(&self, run: RunId) -> Result<AssessInput, EngineError> {
        let mut conn = self.store().readers().acquire().await?;
        Ok(stored_input(&mut conn, run).await?.0)
    }

    /// Rules change only while step 1 waits for the operator: later steps act on the
    /// protected set confirmed with it.
    async fn editable(&self, run: RunId) -> Result<(), EngineError> {
        let r = self.run(run).await?;
        if r.status != RunStatus::Active || r.current_step != Step::Assess {
            return Err(EngineError::wrong(
                r.status,
                r.current_step,
                "protection rules can change only while step 1 waits for you",
            ));
        }
        if !ensure_rows(self.store(), run).await? {
            return Err(EngineError::wrong(
                r.status,
                r.current_step,
                "the assessment has not finished yet; wait for it",
            ));
        }
        Ok(())
    }

    /// Adds a protection rule (a subnet rule must name a subnet with instances), audited.
    pub async fn add_protection_rule(
        &self,
        run: RunId,
        rule: Rule,
        actor: impl Into<Actor<'_>>,
    ) -> Result<(), EngineError> {
        let actor = actor.into();
        self.editable(run).await?;
        if let Rule::Subnet { subnet_id } = &rule
            && !store::exposure::has_subnet(self.store().readers(), run, subnet_id).await?
        {
            let mut errs = FieldErrors::default();
            errs.0.insert(
                "rule_value".into(),
                format!("no instance of this VPC is in {subnet_id}; pick a subnet from the table"),
            );
            return Err(errs.into());
        }
        let json = serde_json::to_string(&rule).unwrap_or_default();
        let mut tx = self.store().begin_write().await?;
        if store::protection_rules::add_rule(&mut *tx, run, &json, actor.user).await? {
            refresh(&mut tx, run, None).await?;
            let msg = format!("{} protected {}", actor.user, rule.every_instance());
            self.append_event(&mut tx, run, Step::Assess, &msg).await?;
            let details = json!({ "rule": rule });
            actor
                .audit(&mut *tx, "run.protection_rule_add", run, &details)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes one of the run's protection rules, audited.
    pub async fn remove_protection_rule(
        &self,
        run: RunId,
        rule_id: i64,
        actor: impl Into<Actor<'_>>,
    ) -> Result<(), EngineError> {
        let actor = actor.into();
        self.editable(run).await?;
        let mut tx = self.store().begin_write().await?;
        let Some(json) = store::protection_rules::remove_rule(&mut *tx, run, rule_id).await? else {
            let mut errs = FieldErrors::default();
            errs.0.insert(
                "rule_id".into(),
                "this rule is not one of the run's; reload the page".into(),
            );
            return Err(errs.into());
        };
        let rule: Rule = serde_json::from_str(&json)
            .map_err(|e| corrupt(run, &format!("protection rule {rule_id}"), e))?;
        refresh(&mut tx, run, None).await?;
        let msg = format!(
            "{} removed the rule: protect {}",
            actor.user,
            rule.every_instance()
        );
        self.append_event(&mut tx, run, Step::Assess, &msg).await?;
        let details = json!({ "rule": rule });
        actor
            .audit(&mut *tx, "run.protection_rule_remove", run, &details)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
