//! Issue 12 over the Tencent client: SNAT rules (addendum 2 §2), binding existing EIPs to a
//! NAT gateway and back (§3.1–3.3, VPC tasks polled by the call's RequestId), and which EIPs a
//! gateway refuses (§3.1: BGP only; traffic-billed or in a bandwidth package).

use super::{TencentCloud, cloud_error};
use crate::tencent::models::{Filter, vpc};
use crate::wizard::cloud::CloudError;
use crate::wizard::ids::NatGatewayId;
use crate::wizard::observed::{NatGateway, SnatRule, UnmovableEip};
use crate::wizard::plan::Change;

/// Billing types a NAT gateway refuses (addendum 2 §3.1, DERIVED from its error codes).
const REFUSED_CHARGE_TYPES: [&str; 2] =
    ["BANDWIDTH_POSTPAID_BY_HOUR", "BANDWIDTH_PREPAID_BY_MONTH"];

/// Why a NAT gateway would refuse this EIP, if it would. Ordinary (WanIP) addresses are not
/// judged here: the TransformAddress that makes them EIPs gives them the account default.
pub(super) fn unmovable(a: &vpc::Address) -> Option<UnmovableEip> {
    if a.address_type.eq_ignore_ascii_case("WanIP") {
        return None;
    }
    let isp = a.internet_service_provider.trim();
    let reason = if !isp.is_empty() && !isp.eq_ignore_ascii_case("BGP") {
        format!("it is a single-line ({isp}) EIP; a NAT gateway takes only BGP EIPs")
    } else {
        let charge = a.internet_charge_type.as_deref().unwrap_or_default();
        if !REFUSED_CHARGE_TYPES.contains(&charge) {
            return None;
        }
        format!(
            "it is billed {charge}; a NAT gateway takes only traffic-billed EIPs (change its \
             billing with ModifyAddressInternetChargeType first)"
        )
    };
    Some(UnmovableEip {
        ip: a.address_ip.clone(),
        reason,
    })
}

fn map_rule(r: vpc::SourceIpTranslationNatRule, nat_id: &NatGatewayId) -> SnatRule {
    SnatRule {
        nat_id: nat_id.clone(),
        id: r.nat_gateway_snat_id,
        resource_type: r.resource_type,
        resource_id: r.resource_id,
        private_ip: r.private_ip_address,
        public_ips: r.public_ip_addresses,
        description: r.description,
    }
}

impl TencentCloud {
    /// The rules of every usable gateway of the inventory (a gateway still being created or
    /// deleted has none worth planning around).
    pub(super) async fn snat_rules_of(
        &self,
        nats: &[NatGateway],
    ) -> Result<Vec<SnatRule>, CloudError> {
        let mut out = Vec::new();
        for n in nats
            .iter()
            .filter(|n| n.state == crate::wizard::ids::NatState::Available)
        {
            out.extend(self.list_snat_rules(&n.id).await?);
        }
        Ok(out)
    }

    pub(super) async fn list_snat_rules(
        &self,
        nat_id: &NatGatewayId,
    ) -> Result<Vec<SnatRule>, CloudError> {
        let req = vpc::DescribeSnatRulesRequest {
            nat_gateway_id: nat_id.to_string(),
            ..Default::default()
        };
        Ok(self
            .fetch_all::<vpc::DescribeNatGatewaySourceIpTranslationNatRules>(&req)
            .await?
            .into_iter()
            .map(|r| map_rule(r, nat_id))
            .collect())
    }

    pub(super) async fn do_create_snat_rule(&self, change: &Change) -> Result<(), CloudError> {
        let Change::CreateSnatRule {
            nat_id,
            resource_type,
            resource_id,
            private_ip,
            public_ips,
            description,
            ..
        } = change
        else {
            return Err(CloudError::state(
                "CreateNatGatewaySourceIpTranslationNatRule",
                "natpilot.Bug",
                "create_snat_rule called with another change",
            ));
        };
        let req = vpc::CreateSnatRulesRequest {
            nat_gateway_id: nat_id.to_string(),
            source_ip_translation_nat_rules: vec![vpc::SnatRuleInput {
                nat_gateway_snat_id: None,
                resource_id: resource_id.clone(),
                resource_type: resource_type.clone(),
                private_ip_address: private_ip.clone(),
                public_ip_addresses: public_ips.clone(),
                description: description.clone(),
            }],
        };
        self.call::<vpc::CreateNatGatewaySourceIpTranslationNatRule>(&req)
            .await
            .map(drop)
    }

    /// Deleting a rule that is already gone is what was wanted.
    pub(super) async fn do_delete_snat_rule(
        &self,
        nat_id: &NatGatewayId,
        snat_id: &str,
    ) -> Result<(), CloudError> {
        let req = vpc::DeleteSnatRulesRequest {
            nat_gateway_id: nat_id.to_string(),
            nat_gateway_snat_ids: vec![snat_id.to_owned()],
        };
        match self
            .call::<vpc::DeleteNatGatewaySourceIpTranslationNatRule>(&req)
            .await
        {
            Err(e) if e.code == "InvalidParameterValue.NatGatewaySnatRuleNotExists" => Ok(()),
            other => other.map(drop),
        }
    }

    pub(super) async fn do_associate_nat_address(
        &self,
        nat_id: &NatGatewayId,
        ip: &str,
    ) -> Result<(), CloudError> {
        let req = vpc::AssociateNatGatewayAddressRequest {
            nat_gateway_id: nat_id.to_string(),
            public_ip_addresses: Some(vec![ip.to_owned()]),
            ..Default::default()
        };
        const ACTION: &str = "AssociateNatGatewayAddress";
        let reply = self
            .client
            .call_with_request_id::<vpc::AssociateNatGatewayAddress>(&self.region, &req)
            .await
            .map_err(|e| cloud_error(ACTION, &e))?;
        self.wait_vpc_task(ACTION, &reply.request_id).await?;
        self.nat_holds(nat_id, ip, true, ACTION).await
    }

    pub(super) async fn do_disassociate_nat_address(
        &self,
        nat_id: &NatGatewayId,
        ip: &str,
    ) -> Result<(), CloudError> {
        let req = vpc::DisassociateNatGatewayAddressRequest {
            nat_gateway_id: nat_id.to_string(),
            public_ip_addresses: vec![ip.to_owned()],
        };
        const ACTION: &str = "DisassociateNatGatewayAddress";
        let reply = self
            .client
            .call_with_request_id::<vpc::DisassociateNatGatewayAddress>(&self.region, &req)
            .await
            .map_err(|e| cloud_error(ACTION, &e))?;
        self.wait_vpc_task(ACTION, &reply.request_id).await?;
        self.nat_holds(nat_id, ip, false, ACTION).await
    }

    /// Polls DescribeVpcTaskResult with the call's RequestId while it is `RUNNING`
    /// (addendum 2 §3.3; `FAILED` is an error, which Terraform does not check).
    async fn wait_vpc_task(&self, action: &str, request_id: &str) -> Result<(), CloudError> {
        let mut backoff = self.poll.start();
        loop {
            let req = vpc::DescribeVpcTaskResultRequest {
                task_id: request_id.to_owned(),
            };
            let r = self.call::<vpc::DescribeVpcTaskResult>(&req).await?;
            match r.status.as_str() {
                "RUNNING" => backoff.wait().await,
                "FAILED" => {
                    return Err(CloudError::state(
                        action,
                        "FailedOperation.TaskFailed",
                        format!("{action} task {request_id} failed: {}", r.output),
                    ));
                }
                _ => return Ok(()),
            }
        }
    }

    /// Confirms the outcome from the address itself (§3.3: bound to the gateway or not).
    async fn nat_holds(
        &self,
        nat_id: &NatGatewayId,
        ip: &str,
        wanted: bool,
        action: &str,
    ) -> Result<(), CloudError> {
        let req = vpc::DescribeAddressesRequest {
            filters: Some(vec![Filter::one("address-ip", ip)]),
            ..Default::default()
        };
        let now = self.fetch_all::<vpc::DescribeAddresses>(&req).await?;
        let held = now
            .iter()
            .any(|a| a.address_ip == ip && a.instance_id == nat_id.as_str());
        if held == wanted {
            return Ok(());
        }
        Err(CloudError::state(
            action,
            "natpilot.NatAddressNotSettled",
            format!(
                "after {action} the EIP {ip} is {} NAT gateway {nat_id}",
                if held {
                    "still bound to"
                } else {
                    "not bound to"
                }
            ),
        ))
    }
}
