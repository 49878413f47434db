//! Four-eyes approvals (issue 14, item 2): the policy that says which confirmations wait for a
//! second person (`[approvals]` in the configuration), checked at start-up. The requests
//! themselves are the engine's (`wizard::engine::approvals`) and the store's
//! (`store::approvals`); the pages are `web::approvals`.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::store::{Step, users::Role};
use crate::wizard::plan::Plan;

/// `[approvals]` as written in `natpilot.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApprovalsConfig {
    /// Steps whose confirmation waits for another person's approval (2, 3 and/or 4; step 1
    /// changes nothing in the cloud). Default: all three.
    #[serde(deserialize_with = "steps")]
    pub steps: Vec<i64>,
    /// Also on the built-in simulator (off by default there, so trying natpilot needs one
    /// person; turn it on to rehearse the team's flow).
    pub simulator: bool,
    /// A plan that releases EIPs or returns ordinary public IPs (irreversible) needs an
    /// admin's approval, even in a step not listed in `steps`.
    pub irreversible_needs_admin: bool,
    /// A request not decided within this many minutes expires (default 1440, a day).
    #[serde(deserialize_with = "expiry_minutes")]
    pub expiry_minutes: u64,
}

impl Default for ApprovalsConfig {
    fn default() -> Self {
        ApprovalsConfig {
            steps: vec![2, 3, 4],
            simulator: false,
            irreversible_needs_admin: true,
            expiry_minutes: 24 * 60,
        }
    }
}

fn steps<'de, D: Deserializer<'de>>(de: D) -> Result<Vec<i64>, D::Error> {
    let steps = Vec::<i64>::deserialize(de)?;
    if let Some(bad) = steps.iter().find(|s| !(2..=4).contains(*s)) {
        return Err(serde::de::Error::custom(format!(
            "step {bad} cannot need approval; list steps 2, 3 and/or 4 (step 1 changes \
             nothing in the cloud), or [] for none"
        )));
    }
    Ok(steps)
}

fn expiry_minutes<'de, D: Deserializer<'de>>(de: D) -> Result<u64, D::Error> {
    let n = u64::deserialize(de)?;
    if !(1..=30 * 24 * 60).contains(&n) {
        return Err(serde::de::Error::custom(format!(
            "{n} is out of range; use 1 to 43200 minutes (30 days)"
        )));
    }
    Ok(n)
}

/// The policy the engine applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalPolicy {
    pub steps: BTreeSet<Step>,
    pub irreversible_needs_admin: bool,
    /// How long a request waits for a decision.
    pub expiry: Duration,
}

impl Default for ApprovalPolicy {
    /// No approvals: what the engine does unless told otherwise (tests, tools).
    fn default() -> Self {
        ApprovalPolicy::off()
    }
}

impl ApprovalPolicy {
    /// Nobody waits for anybody.
    pub fn off() -> ApprovalPolicy {
        ApprovalPolicy {
            steps: BTreeSet::new(),
            irreversible_needs_admin: false,
            expiry: Duration::from_secs(24 * 3600),
        }
    }

    /// Steps 2, 3 and 4 wait for an operator, irreversible plans for an admin.
    pub fn four_eyes(expiry: Duration) -> ApprovalPolicy {
        ApprovalPolicy {
            steps: [Step::Provision, Step::Route, Step::Verify].into(),
            irreversible_needs_admin: true,
            expiry,
        }
    }

    /// The policy of the configuration for this cloud: none on the simulator unless
    /// `simulator = true`.
    pub fn from_config(c: &ApprovalsConfig, simulated: bool) -> ApprovalPolicy {
        if simulated && !c.simulator {
            return ApprovalPolicy::off();
        }
        ApprovalPolicy {
            steps: c
                .steps
                .iter()
                .filter_map(|n| Step::from_number(*n).ok())
                .collect(),
            irreversible_needs_admin: c.irreversible_needs_admin,
            expiry: Duration::from_secs(c.expiry_minutes * 60),
        }
    }

    /// The role that must approve `plan` of `step` before it is applied, or `None` when it
    /// may be applied at once. Step 1 never waits: it changes nothing in the cloud.
    pub fn needs(&self, step: Step, plan: &Plan) -> Option<Role> {
        if step == Step::Assess {
            return None;
        }
        if self.irreversible_needs_admin && plan.has_irreversible() {
            return Some(Role::Admin);
        }
        self.steps.contains(&step).then_some(Role::Operator)
    }

    pub fn is_off(&self) -> bool {
        self.steps.is_empty() && !self.irreversible_needs_admin
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wizard::plan::{Change, Undo};

    fn plan_with(change: Change) -> Plan {
        let mut p = Plan::default();
        p.push(
            change,
            Undo::CannotUndo {
                what: "test".into(),
            },
        );
        p
    }

    #[test]
    fn the_default_policy_holds_steps_2_to_4_on_a_real_cloud_and_none_on_the_simulator() {
        let c = ApprovalsConfig::default();
        let real = ApprovalPolicy::from_config(&c, false);
        let plan = Plan::default();
        assert_eq!(real.needs(Step::Assess, &plan), None);
        for s in [Step::Provision, Step::Route, Step::Verify] {
            assert_eq!(real.needs(s, &plan), Some(Role::Operator));
        }
        let sim = ApprovalPolicy::from_config(&c, true);
        assert!(sim.is_off());
        assert_eq!(sim.needs(Step::Route, &plan), None);
        let on = ApprovalsConfig {
            simulator: true,
            ..ApprovalsConfig::default()
        };
        assert_eq!(
            ApprovalPolicy::from_config(&on, true).needs(Step::Route, &plan),
            Some(Role::Operator)
        );
    }

    #[test]
    fn an_irreversible_plan_needs_an_admin_even_in_a_step_not_listed() {
        let c = ApprovalsConfig {
            steps: vec![2],
            ..ApprovalsConfig::default()
        };
        let p = ApprovalPolicy::from_config(&c, false);
        let release = plan_with(Change::ReleaseEip {
            instance_id: "ins-1".into(),
            address_id: "eip-1".into(),
            ip: "1.2.3.4".into(),
        });
        let unbind = plan_with(Change::DisassociateEip {
            instance_id: "ins-1".into(),
            address_id: "eip-1".into(),
            ip: "1.2.3.4".into(),
        });
        assert_eq!(p.needs(Step::Verify, &release), Some(Role::Admin));
        assert_eq!(p.needs(Step::Verify, &unbind), None);
    }

    #[test]
    fn the_section_loads_in_layers_and_a_bad_value_names_its_key() {
        use crate::config::{Config, Overrides};
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("natpilot.toml");
        std::fs::write(&file, "[approvals]\nsteps = [3]\nexpiry_minutes = 60\n").unwrap();
        let env = [(
            "NATPILOT_APPROVALS__SIMULATOR".to_owned(),
            "true".to_owned(),
        )];
        let c = Config::load_from(Some(&file), env, &Overrides::default()).unwrap();
        let p = ApprovalPolicy::from_config(&c.approvals, true);
        assert_eq!(p.steps, [Step::Route].into());
        assert_eq!(p.expiry, Duration::from_secs(3600));
        std::fs::write(&file, "[approvals]\nsteps = [5]\n").unwrap();
        let err = Config::load_from(Some(&file), [], &Overrides::default()).unwrap_err();
        let err = err.to_string();
        assert!(err.contains("approvals.steps"), "{err}");
        assert!(err.contains("step 5 cannot need approval"), "{err}");
    }

    #[test]
    fn a_bad_approvals_section_names_what_to_fix() {
        let bad: Result<ApprovalsConfig, _> = toml::from_str("steps = [1, 3]");
        assert!(
            bad.unwrap_err()
                .to_string()
                .contains("step 1 cannot need approval")
        );
        let bad: Result<ApprovalsConfig, _> = toml::from_str("expiry_minutes = 0");
        assert!(bad.unwrap_err().to_string().contains("out of range"));
        let bad: Result<ApprovalsConfig, _> = toml::from_str("stepz = [2]");
        assert!(bad.is_err());
    }
}
