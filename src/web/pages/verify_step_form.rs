//! Step 4's form at the edge: the two rules and the typed VPC id become a [`VerifyInput`]
//! (with the exceptions recorded so far), and back into form fields for the table's links.

use std::collections::BTreeMap;

use crate::{
    store::runs::Run,
    wizard::{
        input::{EipRule, FieldErrors, OrdinaryRule, RetireException, StepInput, VerifyInput},
        plan::Conflict,
    },
};

use super::{verify_step::VerifyQuery, wizard::Fields};

/// The rule fields a table view carries (`eip=release` → `eip_rule=release`).
pub fn rule_fields(q: &VerifyQuery) -> Fields {
    vec![
        ("eip_rule".to_owned(), q.eip.clone()),
        ("ordinary_rule".to_owned(), q.ordinary.clone()),
        ("confirm_vpc".to_owned(), q.vpc.clone()),
    ]
}

/// The step 4 input a page shows (its rules, for the table's links and exception buttons),
/// and the table view; other steps' inputs leave the default.
pub fn shown_input(
    input: Option<&StepInput>,
    mut query: VerifyQuery,
    vpc_id: &str,
) -> (VerifyInput, VerifyQuery) {
    let input = match input {
        Some(StepInput::Verify(v)) => v.clone(),
        _ => VerifyInput::default(),
    };
    query.eip = match input.eip_rule {
        EipRule::UnbindKeep => String::new(),
        EipRule::Release => "release".into(),
    };
    query.ordinary = match input.ordinary_rule {
        OrdinaryRule::ConvertKeep => String::new(),
        OrdinaryRule::Return => "return".into(),
    };
    // The typed VPC id travels only when it was right: the run's own id, never what was sent.
    query.vpc = if input.confirm_irreversible {
        vpc_id.to_owned()
    } else {
        String::new()
    };
    (input, query)
}

/// The form's rules (empty: the reversible default) and the typed VPC id; one message per
/// field that is not one of the choices offered.
pub fn parse(
    eip: &str,
    ordinary: &str,
    typed_vpc: &str,
    run: &Run,
    exceptions: BTreeMap<String, RetireException>,
) -> Result<VerifyInput, FieldErrors> {
    let mut errs = FieldErrors::default();
    let eip_rule = match eip.trim() {
        "" | "unbind" => EipRule::UnbindKeep,
        "release" => EipRule::Release,
        _ => {
            errs.0.insert(
                "eip_rule".into(),
                "choose “unbind and keep” or “release” for the EIPs".into(),
            );
            EipRule::UnbindKeep
        }
    };
    let ordinary_rule = match ordinary.trim() {
        "" | "convert" => OrdinaryRule::ConvertKeep,
        "return" => OrdinaryRule::Return,
        _ => {
            errs.0.insert(
                "ordinary_rule".into(),
                "choose “convert to an EIP and keep” or “return” for the ordinary IPs".into(),
            );
            OrdinaryRule::ConvertKeep
        }
    };
    if !errs.0.is_empty() {
        return Err(errs);
    }
    let typed = typed_vpc.trim();
    Ok(VerifyInput {
        eip_rule,
        ordinary_rule,
        confirm_irreversible: !typed.is_empty() && typed == run.vpc_id,
        exceptions,
    })
}

/// Why a confirm was refused, in words: the blockers' messages (never their internal keys).
pub fn refusal(conflicts: &[Conflict]) -> Vec<String> {
    let mut out = vec!["This plan cannot be applied yet:".to_owned()];
    out.extend(conflicts.iter().map(|c| c.message.clone()));
    out
}
