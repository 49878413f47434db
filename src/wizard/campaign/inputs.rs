//! A campaign's shared inputs: the NAT gateway spec of step 2 and the retire rules of step 4,
//! parsed at the edge like a step's form, stored as JSON and read back strictly.
//! Protections (step 1) and retire exceptions (step 4) stay per run: they are about single
//! servers of one VPC, so the campaign takes each run's own.

use serde::{Deserialize, Serialize};

use crate::wizard::input::{
    EipChoice, EipRule, FieldErrors, OrdinaryRule, ProvisionForm, ProvisionInput, VerifyInput,
};

/// What every run of a campaign is confirmed with (besides its own protections/exceptions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignInputs {
    /// Step 2: always a new gateway with new EIPs (see [`CampaignInputs::parse`]).
    pub provision: ProvisionInput,
    pub eip_rule: EipRule,
    pub ordinary_rule: OrdinaryRule,
}

/// The campaign form's input fields, as strings.
#[derive(Debug, Clone, Default)]
pub struct InputsForm {
    pub nat: ProvisionForm,
    /// `unbind` (default) or `release`.
    pub eip_rule: String,
    /// `convert` (default) or `return`.
    pub ordinary_rule: String,
}

impl CampaignInputs {
    /// Parses the form, one message per bad field. Adopting a gateway or binding existing
    /// EIPs names things of one VPC and one region, so a campaign only creates new ones.
    pub fn parse(form: &InputsForm) -> Result<CampaignInputs, FieldErrors> {
        let nat = ProvisionForm {
            adopt_nat_id: None,
            existing_eips: Vec::new(),
            ..form.nat.clone()
        };
        let provision = ProvisionInput::parse(&nat);
        let mut errs = provision.as_ref().err().cloned().unwrap_or_default();
        let eip_rule = match form.eip_rule.trim() {
            "" | "unbind" => Some(EipRule::UnbindKeep),
            "release" => Some(EipRule::Release),
            _ => None,
        };
        if eip_rule.is_none() {
            errs.0.insert(
                "eip_rule".into(),
                "choose “unbind and keep” or “release”".into(),
            );
        }
        let ordinary_rule = match form.ordinary_rule.trim() {
            "" | "convert" => Some(OrdinaryRule::ConvertKeep),
            "return" => Some(OrdinaryRule::Return),
            _ => None,
        };
        if ordinary_rule.is_none() {
            errs.0.insert(
                "ordinary_rule".into(),
                "choose “convert and keep” or “return”".into(),
            );
        }
        match (provision, eip_rule, ordinary_rule) {
            (Ok(provision), Some(eip_rule), Some(ordinary_rule)) if errs.0.is_empty() => {
                Ok(CampaignInputs {
                    provision,
                    eip_rule,
                    ordinary_rule,
                })
            }
            _ => Err(errs),
        }
    }

    /// The stored JSON back; anything else than this exact shape is an error (fail closed).
    pub fn decode(v: &serde_json::Value) -> Result<CampaignInputs, String> {
        let inputs: CampaignInputs = serde_json::from_value(v.clone()).map_err(|e| {
            format!("the campaign's stored inputs do not decode ({e}); start a new campaign")
        })?;
        match &inputs.provision {
            ProvisionInput::Create(n) if matches!(n.eips, EipChoice::New(_)) => Ok(inputs),
            _ => Err(
                "the campaign's stored NAT gateway spec is not a new gateway with new \
                      EIPs; start a new campaign"
                    .into(),
            ),
        }
    }

    /// Whether step 4 would take the irreversible path for some kind of address: the
    /// campaign then stops each run at step 4 for a person to type its VPC id on its page.
    pub fn irreversible(&self) -> bool {
        self.eip_rule == EipRule::Release || self.ordinary_rule == OrdinaryRule::Return
    }

    /// Step 4's input for one run: the shared rules, the run's own exceptions, and never the
    /// typed confirmation of irreversible changes (only a person gives that, per VPC).
    pub fn verify(
        &self,
        exceptions: std::collections::BTreeMap<String, crate::wizard::input::RetireException>,
    ) -> VerifyInput {
        VerifyInput {
            eip_rule: self.eip_rule,
            ordinary_rule: self.ordinary_rule,
            confirm_irreversible: false,
            exceptions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> InputsForm {
        InputsForm {
            nat: ProvisionForm {
                name: "egress".into(),
                bandwidth_mbps: "100".into(),
                max_connections: "1000000".into(),
                new_eips: "1".into(),
                adopt_nat_id: Some("nat-12345678".into()),
                existing_eips: vec!["1.2.3.4".into()],
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn a_campaign_always_creates_a_new_gateway_with_new_eips_and_reversible_rules_by_default() {
        let i = CampaignInputs::parse(&form()).unwrap();
        let ProvisionInput::Create(n) = &i.provision else {
            panic!("a campaign never adopts")
        };
        assert_eq!(n.eips, EipChoice::New(1));
        assert!(!i.irreversible());
        let back = CampaignInputs::decode(&serde_json::to_value(&i).unwrap()).unwrap();
        assert_eq!(back, i);
    }

    #[test]
    fn bad_fields_each_get_a_message_and_a_stored_adopt_is_refused() {
        let mut f = form();
        f.nat.bandwidth_mbps = "7".into();
        f.eip_rule = "burn".into();
        let errs = CampaignInputs::parse(&f).unwrap_err();
        assert!(errs.0.contains_key("bandwidth_mbps") && errs.0.contains_key("eip_rule"));
        let adopt = serde_json::json!({
            "provision": {"Adopt": {"nat_id": "nat-12345678"}},
            "eip_rule": "unbind_keep", "ordinary_rule": "convert_keep"
        });
        assert!(CampaignInputs::decode(&adopt).is_err());
        let unknown = serde_json::json!({"provision": null, "colour": 1});
        assert!(CampaignInputs::decode(&unknown).is_err());
    }
}
