//! Public IPs: EIPs and ordinary (WanIP) addresses, and the EIP actions with their async
//! tasks (reference §4.14–4.21).

use super::TencentCloud;
use crate::tencent::models::{Filter, U64Num, vpc};
use crate::wizard::cloud::CloudError;
use crate::wizard::observed::{Address, AddressKind, UnmovableEip};

impl TencentCloud {
    /// All EIPs of the region (bound anywhere or not), plus the ordinary public IPs of
    /// `instance_ids` — DescribeAddresses shows those only with `address-type=WanIP` (§4.14).
    pub(super) async fn list_addresses(
        &self,
        instance_ids: &[String],
    ) -> Result<Vec<Address>, CloudError> {
        Ok(self.list_addresses_full(instance_ids).await?.0)
    }

    /// [`Self::list_addresses`], and the EIPs a NAT gateway would refuse (issue 12).
    pub(super) async fn list_addresses_full(
        &self,
        instance_ids: &[String],
    ) -> Result<(Vec<Address>, Vec<UnmovableEip>), CloudError> {
        let raw = self
            .fetch_all::<vpc::DescribeAddresses>(&vpc::DescribeAddressesRequest::default())
            .await?;
        let unmovable = raw.iter().filter_map(super::snat::unmovable).collect();
        let mut out: Vec<Address> = raw.into_iter().map(map_address).collect();
        out.extend(self.ordinary_ips(instance_ids).await?);
        Ok((out, unmovable))
    }

    /// The ordinary public IPs of `instance_ids`, in as few DescribeAddresses calls (20/s) as
    /// we can tell: asking by instance id costs one call per 100 ids (≤100 values per filter,
    /// §4.14); listing every WanIP of the region costs one call per 100 IPs. The first
    /// region-wide page says how many there are, so the cheaper way is known after one call.
    async fn ordinary_ips(&self, instance_ids: &[String]) -> Result<Vec<Address>, CloudError> {
        const PAGE: usize = 100;
        let wan = || Filter::one("address-type", "WanIP");
        let by_id = |chunk: &[String]| vpc::DescribeAddressesRequest {
            filters: Some(vec![
                wan(),
                Filter::new("instance-id", chunk.iter().cloned()),
            ]),
            limit: Some(PAGE as i64),
            ..Default::default()
        };
        if instance_ids.len() <= PAGE {
            if instance_ids.is_empty() {
                return Ok(vec![]);
            }
            return Ok(self.page(&by_id(instance_ids)).await?.0);
        }
        let region_page = |offset: usize| vpc::DescribeAddressesRequest {
            filters: Some(vec![wan()]),
            offset: Some(offset as i64),
            limit: Some(PAGE as i64),
            ..Default::default()
        };
        let (mut found, total) = self.page(&region_page(0)).await?;
        let pages_left = total.saturating_sub(found.len()).div_ceil(PAGE);
        if pages_left > instance_ids.len().div_ceil(PAGE) {
            found.clear();
            for chunk in instance_ids.chunks(PAGE) {
                let req = by_id(chunk);
                found.extend(
                    self.fetch_all::<vpc::DescribeAddresses>(&req)
                        .await?
                        .into_iter()
                        .map(map_address),
                );
            }
            return Ok(found);
        }
        while found.len() < total {
            let (more, _) = self.page(&region_page(found.len())).await?;
            if more.is_empty() {
                break;
            }
            found.extend(more);
        }
        let wanted: std::collections::HashSet<&str> =
            instance_ids.iter().map(String::as_str).collect();
        found.retain(|a| a.instance_id.as_deref().is_some_and(|i| wanted.contains(i)));
        Ok(found)
    }

    /// EIPs (any kind but WanIP, §4.14) whose IP is `ip`.
    pub(super) async fn list_eips_with_ip(&self, ip: &str) -> Result<Vec<Address>, CloudError> {
        let req = vpc::DescribeAddressesRequest {
            filters: Some(vec![Filter::one("address-ip", ip)]),
            ..Default::default()
        };
        Ok(self
            .fetch_all::<vpc::DescribeAddresses>(&req)
            .await?
            .into_iter()
            .map(map_address)
            .collect())
    }

    /// One DescribeAddresses page and the total the answer reports.
    async fn page(
        &self,
        req: &vpc::DescribeAddressesRequest,
    ) -> Result<(Vec<Address>, usize), CloudError> {
        let r = self.call::<vpc::DescribeAddresses>(req).await?;
        let total = usize::try_from(r.total_count).unwrap_or(0);
        Ok((r.address_set.into_iter().map(map_address).collect(), total))
    }

    pub(super) async fn do_disassociate(&self, address_id: &str) -> Result<(), CloudError> {
        let req = vpc::DisassociateAddressRequest {
            address_id: address_id.to_owned(),
            reallocate_normal_public_ip: Some(false),
        };
        let done = async {
            let r = self.call::<vpc::DisassociateAddress>(&req).await?;
            self.wait_task("DisassociateAddress", r.task_id.get()).await
        };
        let result = done.await;
        self.settle(
            result,
            |a| a.is_some_and(|a| a.instance_id.is_none()),
            address_id,
        )
        .await
    }

    pub(super) async fn do_associate(
        &self,
        address_id: &str,
        instance_id: &str,
    ) -> Result<(), CloudError> {
        let req = vpc::AssociateAddressRequest {
            address_id: address_id.to_owned(),
            instance_id: Some(instance_id.to_owned()),
            ..Default::default()
        };
        let result = async {
            let r = self.call::<vpc::AssociateAddress>(&req).await?;
            self.wait_task("AssociateAddress", r.task_id.get()).await
        }
        .await;
        self.settle(
            result,
            |a| a.is_some_and(|a| a.instance_id.as_deref() == Some(instance_id)),
            address_id,
        )
        .await
    }

    pub(super) async fn do_release(&self, address_id: &str) -> Result<(), CloudError> {
        let req = vpc::ReleaseAddressesRequest {
            address_ids: vec![address_id.to_owned()],
        };
        let result = async {
            let r = self.call::<vpc::ReleaseAddresses>(&req).await?;
            self.wait_task("ReleaseAddresses", r.task_id.get()).await
        }
        .await;
        self.settle(result, |a| a.is_none(), address_id).await
    }

    pub(super) async fn do_transform(&self, instance_id: &str) -> Result<String, CloudError> {
        let req = vpc::TransformAddressRequest {
            instance_id: instance_id.to_owned(),
        };
        let result = async {
            let r = self.call::<vpc::TransformAddress>(&req).await?;
            self.wait_task("TransformAddress", r.task_id.get()).await?;
            Ok(r.address_id)
        }
        .await;
        match result {
            Ok(id) => Ok(id),
            Err(e) => {
                // A replayed TransformAddress whose first attempt went through fails; the
                // instance then already holds an EIP, which is the outcome we wanted. One call
                // by instance id (not the whole region's EIPs: many retirements run at once).
                let req = vpc::DescribeAddressesRequest {
                    filters: Some(vec![Filter::one("instance-id", instance_id)]),
                    ..Default::default()
                };
                let mine = self.fetch_all::<vpc::DescribeAddresses>(&req).await?;
                let eip = mine.into_iter().map(map_address).find(|a| {
                    a.kind == AddressKind::Eip && a.instance_id.as_deref() == Some(instance_id)
                });
                eip.map(|a| a.id).ok_or(e)
            }
        }
    }

    pub(super) async fn do_return(&self, ip: &str) -> Result<(), CloudError> {
        let req = vpc::ReturnNormalAddressesRequest {
            address_ips: vec![ip.to_owned()],
        };
        match self.call::<vpc::ReturnNormalAddresses>(&req).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// After a failed EIP action, looks at the address: if it is already in the state the
    /// action wanted (a replay after a dropped answer, reference §3.4), the action succeeded.
    async fn settle(
        &self,
        result: Result<(), CloudError>,
        wanted: impl Fn(Option<&Address>) -> bool,
        address_id: &str,
    ) -> Result<(), CloudError> {
        let Err(e) = result else { return Ok(()) };
        let req = vpc::DescribeAddressesRequest {
            address_ids: Some(vec![address_id.to_owned()]),
            ..Default::default()
        };
        let now = self.fetch_all::<vpc::DescribeAddresses>(&req).await?;
        let addr = now.into_iter().map(map_address).next();
        if wanted(addr.as_ref()) {
            Ok(())
        } else {
            Err(e)
        }
    }

    /// Polls DescribeTaskResult until the EIP task ends (reference §4.21). A task is never done
    /// the moment it starts, so the first look waits too: every look spends a request of the
    /// 20/s DescribeTaskResult budget that all concurrent retirements share.
    async fn wait_task(&self, action: &str, task_id: u64) -> Result<(), CloudError> {
        let mut backoff = self.poll.start();
        loop {
            backoff.wait().await;
            let req = vpc::DescribeTaskResultRequest {
                task_id: Some(U64Num(task_id)),
                deal_name: None,
            };
            let r = self.call::<vpc::DescribeTaskResult>(&req).await?;
            match r.result.as_str() {
                "SUCCESS" => return Ok(()),
                "FAILED" => {
                    return Err(CloudError::state(
                        action,
                        "FailedOperation.TaskFailed",
                        format!("{action} task {task_id} failed"),
                    ));
                }
                _ => {}
            }
        }
    }
}

fn map_address(a: vpc::Address) -> Address {
    // One official example spells it `WanIp` (reference §4.14).
    let kind = if a.address_type.eq_ignore_ascii_case("WanIP") {
        AddressKind::Ordinary
    } else {
        AddressKind::Eip
    };
    Address {
        id: a.address_id,
        ip: a.address_ip,
        kind,
        status: a.address_status,
        instance_id: (!a.instance_id.is_empty()).then_some(a.instance_id),
    }
}
