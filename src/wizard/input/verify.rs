//! Step 4's input: what happens to retired public IPs, chosen per kind (two rules) plus
//! per-instance exceptions, so the confirm form stays a few fields at any VPC size. The
//! exceptions are edited one by one and stored as they are edited; the confirmed input holds
//! all of them, so the stored input alone says what the step did (retry re-plans from it).
//!
//! Inputs stored before the rules existed (`release_eips`/`return_ordinary` and the
//! `keep`/`irreversible` lists) still decode into the same choices; anything else that does not
//! match one of the two shapes exactly is refused (fail closed).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What happens to the EIP of an instance that passed: unbind it and keep it (reversible:
/// rollback binds it again), or unbind and release it (irreversible).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EipRule {
    #[default]
    UnbindKeep,
    Release,
}

/// What happens to the ordinary public IP of an instance that passed: convert it to an EIP
/// and keep it unbound (rollback binds it back as an EIP), or return it (irreversible).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrdinaryRule {
    #[default]
    ConvertKeep,
    Return,
}

/// One instance's exception to the rule for its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetireException {
    /// It keeps its public IP; nothing happens to it.
    Keep,
    /// The reversible path for its kind (unbind and keep / convert and keep).
    Reversible,
    /// The irreversible path for its kind (release / return).
    Irreversible,
}

impl RetireException {
    pub fn as_str(self) -> &'static str {
        match self {
            RetireException::Keep => "keep",
            RetireException::Reversible => "reversible",
            RetireException::Irreversible => "irreversible",
        }
    }

    /// The stored / submitted word back; anything else is `None` (the caller refuses it).
    pub fn parse(s: &str) -> Option<RetireException> {
        match s {
            "keep" => Some(RetireException::Keep),
            "reversible" => Some(RetireException::Reversible),
            "irreversible" => Some(RetireException::Irreversible),
            _ => None,
        }
    }
}

/// Step 4. Both rules default to the reversible path (DESIGN: reversible by default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StoredVerifyInput")]
pub struct VerifyInput {
    pub eip_rule: EipRule,
    pub ordinary_rule: OrdinaryRule,
    /// The extra confirmation irreversible choices need (DESIGN invariant): the operator
    /// typed the VPC id.
    pub confirm_irreversible: bool,
    /// Instance id → its exception to the rule for its kind.
    pub exceptions: BTreeMap<String, RetireException>,
}

impl VerifyInput {
    /// Whether this instance takes the irreversible path if it is retired (`eip`: it holds
    /// an EIP rather than an ordinary IP). `None`: it keeps its IP.
    pub fn irreversible_for(&self, instance_id: &str, eip: bool) -> Option<bool> {
        match self.exceptions.get(instance_id) {
            Some(RetireException::Keep) => None,
            Some(RetireException::Reversible) => Some(false),
            Some(RetireException::Irreversible) => Some(true),
            None if eip => Some(self.eip_rule == EipRule::Release),
            None => Some(self.ordinary_rule == OrdinaryRule::Return),
        }
    }
}

/// Both stored shapes of [`VerifyInput`]; [`TryFrom`] accepts exactly one of them, whole.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredVerifyInput {
    confirm_irreversible: bool,
    eip_rule: Option<EipRule>,
    ordinary_rule: Option<OrdinaryRule>,
    exceptions: Option<BTreeMap<String, RetireException>>,
    // The shape before rules and exceptions.
    release_eips: Option<bool>,
    return_ordinary: Option<bool>,
    keep: Option<Vec<String>>,
    irreversible: Option<Vec<String>>,
}

impl TryFrom<StoredVerifyInput> for VerifyInput {
    type Error = String;

    fn try_from(mut s: StoredVerifyInput) -> Result<VerifyInput, String> {
        let old = s.release_eips.is_some()
            || s.return_ordinary.is_some()
            || s.keep.is_some()
            || s.irreversible.is_some();
        match (s.eip_rule, s.ordinary_rule, s.exceptions.take()) {
            (Some(eip_rule), Some(ordinary_rule), Some(exceptions)) if !old => Ok(VerifyInput {
                eip_rule,
                ordinary_rule,
                confirm_irreversible: s.confirm_irreversible,
                exceptions,
            }),
            (None, None, None) => from_lists(s),
            _ => Err(
                "a step 4 input needs eip_rule, ordinary_rule and exceptions (or, as stored \
                 before them, release_eips and return_ordinary), not a mix"
                    .into(),
            ),
        }
    }
}

/// The shape before issue 11: two flags and two per-instance lists (keep won over
/// irreversible when an instance was in both, as the planner checked it first).
fn from_lists(s: StoredVerifyInput) -> Result<VerifyInput, String> {
    let (Some(release), Some(ret)) = (s.release_eips, s.return_ordinary) else {
        return Err(
            "a step 4 input stored before rules needs release_eips and return_ordinary".into(),
        );
    };
    let mut exceptions = BTreeMap::new();
    for id in s.irreversible.unwrap_or_default() {
        exceptions.insert(id, RetireException::Irreversible);
    }
    for id in s.keep.unwrap_or_default() {
        exceptions.insert(id, RetireException::Keep);
    }
    Ok(VerifyInput {
        eip_rule: if release {
            EipRule::Release
        } else {
            EipRule::UnbindKeep
        },
        ordinary_rule: if ret {
            OrdinaryRule::Return
        } else {
            OrdinaryRule::ConvertKeep
        },
        confirm_irreversible: s.confirm_irreversible,
        exceptions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wizard::input::StepInput;

    fn decode(json: &str) -> Result<StepInput, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn a_verify_input_round_trips_with_its_rules_and_exceptions() {
        let input = VerifyInput {
            eip_rule: EipRule::Release,
            ordinary_rule: OrdinaryRule::ConvertKeep,
            confirm_irreversible: true,
            exceptions: [
                ("ins-a".to_owned(), RetireException::Keep),
                ("ins-b".to_owned(), RetireException::Reversible),
            ]
            .into(),
        };
        let json = serde_json::to_string(&StepInput::Verify(input.clone())).unwrap();
        assert_eq!(decode(&json).unwrap(), StepInput::Verify(input));
    }

    #[test]
    fn an_input_stored_before_rules_decodes_into_the_same_choices() {
        let old = r#"{"step":"verify","release_eips":true,"return_ordinary":false,
            "confirm_irreversible":true,"keep":["ins-a","ins-c"],"irreversible":["ins-b","ins-c"]}"#;
        let StepInput::Verify(v) = decode(old).unwrap() else {
            panic!("a verify input")
        };
        assert_eq!(
            (v.eip_rule, v.ordinary_rule, v.confirm_irreversible),
            (EipRule::Release, OrdinaryRule::ConvertKeep, true)
        );
        assert_eq!(v.exceptions["ins-a"], RetireException::Keep);
        assert_eq!(v.exceptions["ins-b"], RetireException::Irreversible);
        assert_eq!(v.exceptions["ins-c"], RetireException::Keep, "keep won");
        // The oldest shape had no lists at all.
        let oldest = r#"{"step":"verify","release_eips":false,"return_ordinary":true,"confirm_irreversible":false}"#;
        let StepInput::Verify(v) = decode(oldest).unwrap() else {
            panic!("a verify input")
        };
        assert_eq!(v.ordinary_rule, OrdinaryRule::Return);
        assert!(v.exceptions.is_empty());
    }

    #[test]
    fn a_stored_input_that_matches_neither_shape_is_refused() {
        for bad in [
            // Mixed shapes.
            r#"{"step":"verify","eip_rule":"release","ordinary_rule":"return","exceptions":{},"release_eips":true,"confirm_irreversible":true}"#,
            // Rules without the exceptions.
            r#"{"step":"verify","eip_rule":"release","ordinary_rule":"return","confirm_irreversible":true}"#,
            // An unknown rule, an unknown exception, an unknown field.
            r#"{"step":"verify","eip_rule":"burn","ordinary_rule":"return","exceptions":{},"confirm_irreversible":true}"#,
            r#"{"step":"verify","eip_rule":"release","ordinary_rule":"return","exceptions":{"ins-a":"maybe"},"confirm_irreversible":true}"#,
            r#"{"step":"verify","release_eips":true,"return_ordinary":true,"confirm_irreversible":true,"extra":1}"#,
            // Old flags half there.
            r#"{"step":"verify","release_eips":true,"confirm_irreversible":true}"#,
            r#"{"step":"verify"}"#,
        ] {
            assert!(decode(bad).is_err(), "{bad} must not decode");
        }
    }

    #[test]
    fn exceptions_override_the_rule_for_their_instance_only() {
        let input = VerifyInput {
            eip_rule: EipRule::Release,
            exceptions: [
                ("ins-keep".to_owned(), RetireException::Keep),
                ("ins-soft".to_owned(), RetireException::Reversible),
                ("ins-hard".to_owned(), RetireException::Irreversible),
            ]
            .into(),
            ..VerifyInput::default()
        };
        assert_eq!(input.irreversible_for("ins-other", true), Some(true));
        assert_eq!(input.irreversible_for("ins-other", false), Some(false));
        assert_eq!(input.irreversible_for("ins-keep", true), None);
        assert_eq!(input.irreversible_for("ins-soft", true), Some(false));
        assert_eq!(input.irreversible_for("ins-hard", false), Some(true));
    }
}
