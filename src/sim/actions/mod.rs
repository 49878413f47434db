//! The simulated actions, one module per product area, each a plain function
//! `fn(&mut World, Request) -> Result<Response, SimError>` over the shared model types.
//! `registry()` is the one list of what the simulator serves.

mod common;
mod cvm;
mod dnspod;
mod route_rules;
mod tat;
mod views;
mod vpc_address;
mod vpc_eni;
mod vpc_nat;
mod vpc_network;
mod vpc_public_ip;
mod vpc_routes;
mod vpc_snat;
mod vpc_task;

use crate::sim::dispatch::Registry;
use crate::tencent::models::{cvm as c, dnspod as d, tat as t, vpc as v};

pub fn registry() -> Registry {
    let mut r = Registry::default();
    r.add::<v::DescribeVpcs>(vpc_network::describe_vpcs)
        .add::<v::DescribeSubnets>(vpc_network::describe_subnets)
        .add::<v::DescribeRouteTables>(vpc_network::describe_route_tables)
        .add::<v::CreateRoutes>(vpc_routes::create_routes)
        .add::<v::DeleteRoutes>(vpc_routes::delete_routes)
        .add::<v::ReplaceRoutes>(vpc_routes::replace_routes)
        .add::<v::EnableRoutes>(vpc_routes::enable_routes)
        .add::<v::DisableRoutes>(vpc_routes::disable_routes)
        .add::<v::CreateNatGateway>(vpc_nat::create_nat_gateway)
        .add::<v::DescribeNatGateways>(vpc_nat::describe_nat_gateways)
        .add::<v::DeleteNatGateway>(vpc_nat::delete_nat_gateway)
        .add::<v::AssociateNatGatewayAddress>(vpc_nat::associate_nat_gateway_address)
        .add::<v::DisassociateNatGatewayAddress>(vpc_nat::disassociate_nat_gateway_address)
        .add::<v::CreateNatGatewaySourceIpTranslationNatRule>(vpc_snat::create_snat_rules)
        .add::<v::DescribeNatGatewaySourceIpTranslationNatRules>(vpc_snat::describe_snat_rules)
        .add::<v::ModifyNatGatewaySourceIpTranslationNatRule>(vpc_snat::modify_snat_rule)
        .add::<v::DeleteNatGatewaySourceIpTranslationNatRule>(vpc_snat::delete_snat_rules)
        .add::<v::DescribeNetworkInterfaces>(vpc_eni::describe_network_interfaces)
        .add::<v::AllocateAddresses>(vpc_address::allocate_addresses)
        .add::<v::DescribeAddresses>(vpc_address::describe_addresses)
        .add::<v::AssociateAddress>(vpc_address::associate_address)
        .add::<v::DisassociateAddress>(vpc_address::disassociate_address)
        .add::<v::ReleaseAddresses>(vpc_address::release_addresses)
        .add::<v::TransformAddress>(vpc_public_ip::transform_address)
        .add::<v::ReturnNormalAddresses>(vpc_public_ip::return_normal_addresses)
        .add::<v::DescribeTaskResult>(vpc_task::describe_task_result)
        .add::<v::DescribeVpcTaskResult>(vpc_task::describe_vpc_task_result)
        .add::<v::DescribeAddressQuota>(vpc_task::describe_address_quota)
        .add_encoded::<c::DescribeInstances>(cvm::describe_instances)
        .add::<t::DescribeAutomationAgentStatus>(tat::describe_automation_agent_status)
        .add::<t::RunCommand>(tat::run_command)
        .add::<t::DescribeInvocations>(tat::describe_invocations)
        .add::<t::DescribeInvocationTasks>(tat::describe_invocation_tasks)
        .add::<d::DescribeDomainList>(dnspod::describe_domain_list)
        .add::<d::DescribeRecordList>(dnspod::describe_record_list)
        .add::<d::DescribeRecordFilterList>(dnspod::describe_record_filter_list)
        .add_account_action::<crate::tencent::models::sts::AssumeRole>()
        .add_account_action::<crate::tencent::models::sts::GetCallerIdentity>()
        .add_account_action::<crate::tencent::models::regions::DescribeRegions>();
    r
}

#[cfg(test)]
mod tests {
    use crate::tencent::Service;

    #[test]
    fn the_registry_serves_every_action_of_the_client() {
        let registry = super::registry();
        assert!(registry.get(Service::Vpc, "DescribeVpcs").is_some());
        assert!(registry.get(Service::Cvm, "DescribeInstances").is_some());
        assert!(registry.get(Service::Vpc, "DescribeInstances").is_none());
    }
}
