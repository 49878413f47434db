//! Operator input per step, parsed at the edge ("parse, don't validate"): the web layer turns
//! form fields into these types with `parse`, and gets one message per bad field back.
//! Allowed values follow reference §4.9 (CreateNatGateway).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ids::NatGatewayId;

/// Field name → what was wrong and how to fix it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("invalid input: {}", .0.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("; "))]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    fn add(&mut self, field: &str, msg: impl Into<String>) {
        self.0.insert(field.to_owned(), msg.into());
    }

    fn into_result<T>(self, ok: impl FnOnce() -> T) -> Result<T, FieldErrors> {
        if self.0.is_empty() {
            Ok(ok())
        } else {
            Err(self)
        }
    }
}

/// Step 1: the protection rules and the single-host exceptions on top of them. Inputs stored
/// before rules existed carry only `protect`/`unprotect`; they meant "the suggestions (DNS
/// names, the protection tag) plus these", which is exactly the default rules, so that is what
/// a missing `rules` decodes to. Any other unknown field is an error (fail closed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessInput {
    /// Protect every instance one of these rules matches.
    #[serde(default = "crate::wizard::protection::default_rules")]
    pub rules: Vec<crate::wizard::protection::Rule>,
    /// Instances to protect in addition to the rules.
    pub protect: Vec<String>,
    /// Instances a rule matches that the operator decided not to protect (exceptions).
    pub unprotect: Vec<String>,
}

impl Default for AssessInput {
    /// The default rules, no exceptions: what a run starts with.
    fn default() -> Self {
        AssessInput {
            rules: crate::wizard::protection::default_rules(),
            protect: Vec::new(),
            unprotect: Vec::new(),
        }
    }
}

pub const BANDWIDTHS_MBPS: [u32; 8] = [20, 50, 100, 200, 500, 1000, 2000, 5000];
pub const MAX_CONNECTIONS: [u32; 3] = [1_000_000, 3_000_000, 10_000_000];
pub const MAX_NAME_CHARS: usize = 60;
pub const MAX_NEW_EIPS: u32 = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EipChoice {
    /// Allocate this many new EIPs (1–10, the per-gateway limit).
    New(u32),
    /// Bind these existing unbound EIPs (IP strings, as CreateNatGateway wants them).
    Existing(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewNat {
    pub name: String,
    pub bandwidth_mbps: u32,
    pub max_connections: u32,
    pub eips: EipChoice,
    pub zone: Option<String>,
}

/// Step 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProvisionInput {
    Create(NewNat),
    /// Use a NAT gateway that already exists in the VPC; it is never deleted by rollback.
    Adopt {
        nat_id: NatGatewayId,
    },
}

/// Raw step-2 form fields, as strings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProvisionForm {
    pub adopt_nat_id: Option<String>,
    pub name: String,
    pub bandwidth_mbps: String,
    pub max_connections: String,
    /// Number of new EIPs; ignored when `existing_eips` is non-empty.
    pub new_eips: String,
    pub existing_eips: Vec<String>,
    pub zone: String,
}

impl ProvisionInput {
    pub fn parse(form: &ProvisionForm) -> Result<ProvisionInput, FieldErrors> {
        if let Some(id) = form
            .adopt_nat_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let mut errs = FieldErrors::default();
            return match NatGatewayId::parse(id) {
                Ok(nat_id) => Ok(ProvisionInput::Adopt { nat_id }),
                Err(_) => {
                    errs.add("adopt_nat_id", "a NAT gateway id looks like nat-xxxxxxxx");
                    Err(errs)
                }
            };
        }
        let mut errs = FieldErrors::default();
        let name = form.name.trim().to_owned();
        if name.is_empty() {
            errs.add("name", "give the NAT gateway a name");
        } else if name.chars().count() > MAX_NAME_CHARS {
            errs.add(
                "name",
                format!("at most {MAX_NAME_CHARS} characters (Tencent's limit)"),
            );
        }
        let bandwidth = one_of(
            &mut errs,
            "bandwidth_mbps",
            &form.bandwidth_mbps,
            &BANDWIDTHS_MBPS,
        );
        let conns = one_of(
            &mut errs,
            "max_connections",
            &form.max_connections,
            &MAX_CONNECTIONS,
        );
        let eips = parse_eips(&mut errs, form);
        let zone = form.zone.trim();
        if !zone.is_empty() && !looks_like_zone(zone) {
            errs.add(
                "zone",
                "a zone looks like ap-guangzhou-3; leave empty to let Tencent choose",
            );
        }
        errs.into_result(|| {
            ProvisionInput::Create(NewNat {
                name,
                bandwidth_mbps: bandwidth.unwrap_or_default(),
                max_connections: conns.unwrap_or_default(),
                eips: eips.unwrap_or(EipChoice::New(1)),
                zone: (!zone.is_empty()).then(|| zone.to_owned()),
            })
        })
    }
}

fn one_of(errs: &mut FieldErrors, field: &str, raw: &str, allowed: &[u32]) -> Option<u32> {
    match raw.trim().parse::<u32>() {
        Ok(v) if allowed.contains(&v) => Some(v),
        _ => {
            let list: Vec<String> = allowed.iter().map(u32::to_string).collect();
            errs.add(field, format!("choose one of {}", list.join(", ")));
            None
        }
    }
}

fn parse_eips(errs: &mut FieldErrors, form: &ProvisionForm) -> Option<EipChoice> {
    let existing: Vec<String> = form
        .existing_eips
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if !existing.is_empty() {
        if existing.len() > MAX_NEW_EIPS as usize {
            errs.add("existing_eips", "a NAT gateway holds at most 10 EIPs");
        } else if let Some(bad) = existing
            .iter()
            .find(|ip| ip.parse::<std::net::Ipv4Addr>().is_err())
        {
            errs.add("existing_eips", format!("{bad} is not an IPv4 address"));
        }
        return Some(EipChoice::Existing(existing));
    }
    match form.new_eips.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_NEW_EIPS).contains(&n) => Some(EipChoice::New(n)),
        _ => {
            errs.add(
                "new_eips",
                "choose 1 to 10 new EIPs, or pick existing unbound EIPs",
            );
            None
        }
    }
}

fn looks_like_zone(z: &str) -> bool {
    let mut parts = z.rsplitn(2, '-');
    let n = parts.next().unwrap_or("");
    let region = parts.next().unwrap_or("");
    !n.is_empty()
        && n.chars().all(|c| c.is_ascii_digit())
        && region.starts_with(|c: char| c.is_ascii_lowercase())
        && region.chars().all(|c| c.is_ascii_lowercase() || c == '-')
}

/// Step 3.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteInput {
    /// The operator agreed to replace existing USER `0.0.0.0/0` routes (old ones kept for undo).
    pub replace_existing_default: bool,
}

mod verify;
pub use verify::{EipRule, OrdinaryRule, RetireException, VerifyInput};

/// Any step's input, as stored in `run_steps.input`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum StepInput {
    Assess(AssessInput),
    Provision(ProvisionInput),
    Route(RouteInput),
    Verify(VerifyInput),
}

impl StepInput {
    pub fn step(&self) -> crate::store::Step {
        use crate::store::Step;
        match self {
            StepInput::Assess(_) => Step::Assess,
            StepInput::Provision(_) => Step::Provision,
            StepInput::Route(_) => Step::Route,
            StepInput::Verify(_) => Step::Verify,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> ProvisionForm {
        ProvisionForm {
            name: "egress".into(),
            bandwidth_mbps: "100".into(),
            max_connections: "1000000".into(),
            new_eips: "1".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_form_becomes_a_create_input() {
        let p = ProvisionInput::parse(&ProvisionForm {
            zone: "ap-guangzhou-3".into(),
            ..form()
        })
        .unwrap();
        let ProvisionInput::Create(n) = p else {
            panic!("expected create")
        };
        assert_eq!(
            (n.bandwidth_mbps, n.eips, n.zone.as_deref()),
            (100, EipChoice::New(1), Some("ap-guangzhou-3"))
        );
    }

    #[test]
    fn each_bad_field_gets_its_own_message() {
        let bad = ProvisionForm {
            name: "x".repeat(61),
            bandwidth_mbps: "30".into(),
            max_connections: "5".into(),
            new_eips: "11".into(),
            zone: "Guangzhou 3".into(),
            ..Default::default()
        };
        let errs = ProvisionInput::parse(&bad).unwrap_err();
        let fields: Vec<&str> = errs.0.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "bandwidth_mbps",
                "max_connections",
                "name",
                "new_eips",
                "zone"
            ]
        );
        assert!(errs.0["bandwidth_mbps"].contains("20, 50, 100"));
    }

    #[test]
    fn sixty_character_names_are_allowed_and_zero_eips_are_not() {
        assert!(
            ProvisionInput::parse(&ProvisionForm {
                name: "n".repeat(60),
                ..form()
            })
            .is_ok()
        );
        let errs = ProvisionInput::parse(&ProvisionForm {
            new_eips: "0".into(),
            ..form()
        })
        .unwrap_err();
        assert!(errs.0.contains_key("new_eips"));
    }

    #[test]
    fn existing_eips_must_be_ip_addresses() {
        let f = ProvisionForm {
            existing_eips: vec!["1.2.3.4".into(), "eip-123".into()],
            ..form()
        };
        assert!(ProvisionInput::parse(&f).unwrap_err().0["existing_eips"].contains("eip-123"));
        let f = ProvisionForm {
            existing_eips: vec!["1.2.3.4".into()],
            ..form()
        };
        let ProvisionInput::Create(n) = ProvisionInput::parse(&f).unwrap() else {
            panic!()
        };
        assert_eq!(n.eips, EipChoice::Existing(vec!["1.2.3.4".into()]));
    }

    #[test]
    fn an_assess_input_stored_before_rules_decodes_to_the_default_rules() {
        let old: StepInput =
            serde_json::from_str(r#"{"step":"assess","protect":["ins-a"],"unprotect":[]}"#)
                .unwrap();
        let StepInput::Assess(a) = old else { panic!() };
        assert_eq!(a.rules, crate::wizard::protection::default_rules());
        assert_eq!(a.protect, ["ins-a"]);
        let bad = r#"{"step":"assess","protect":[],"unprotect":[],"rules":[{"by":"colour"}]}"#;
        assert!(serde_json::from_str::<StepInput>(bad).is_err());
        let unknown = r#"{"step":"assess","protect":[],"unprotect":[],"keep":[]}"#;
        assert!(serde_json::from_str::<StepInput>(unknown).is_err());
    }

    #[test]
    fn adopting_needs_a_nat_gateway_id() {
        let f = ProvisionForm {
            adopt_nat_id: Some("nat-abc".into()),
            ..Default::default()
        };
        assert_eq!(
            ProvisionInput::parse(&f).unwrap(),
            ProvisionInput::Adopt {
                nat_id: NatGatewayId::parse("nat-abc").unwrap()
            }
        );
        let f = ProvisionForm {
            adopt_nat_id: Some("vpc-abc".into()),
            ..Default::default()
        };
        assert!(ProvisionInput::parse(&f).is_err());
    }
}
