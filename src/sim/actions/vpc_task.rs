//! Task results and quotas: DescribeTaskResult, DescribeVpcTaskResult, DescribeAddressQuota
//! (reference §4.21–§4.23).

use crate::sim::error::{SimError, SimResult};
use crate::sim::world::World;
use crate::tencent::models::U64Num;
use crate::tencent::models::vpc::*;

pub fn describe_task_result(
    w: &mut World,
    req: DescribeTaskResultRequest,
) -> SimResult<DescribeTaskResultResponse> {
    let Some(id) = req.task_id else {
        return Err(if req.deal_name.is_some() {
            SimError::new(
                "InvalidParameter",
                "Billing orders (`DealName`) are not simulated; pass `TaskId`.",
            )
        } else {
            SimError::missing("TaskId")
        });
    };
    let task = w.tasks.get(&id.0).ok_or_else(|| {
        SimError::new(
            "InvalidParameter",
            format!("The task {} does not exist.", id.0),
        )
    })?;
    Ok(DescribeTaskResultResponse {
        task_id: U64Num(task.id),
        result: task.result.clone(),
    })
}

/// VPC-level async calls complete synchronously here, so any id answers `SUCCESS`.
pub fn describe_vpc_task_result(
    _w: &mut World,
    req: DescribeVpcTaskResultRequest,
) -> SimResult<DescribeVpcTaskResultResponse> {
    if req.task_id.trim().is_empty() {
        return Err(SimError::missing("TaskId"));
    }
    Ok(DescribeVpcTaskResultResponse {
        status: "SUCCESS".into(),
        output: "success".into(),
        result: vec![],
    })
}

pub fn describe_address_quota(
    w: &mut World,
    _req: DescribeAddressQuotaRequest,
) -> SimResult<DescribeAddressQuotaResponse> {
    let quota = |id: &str, current: u64, limit: u64| Quota {
        quota_id: id.into(),
        quota_current: current as i64,
        quota_limit: limit as i64,
        quota_group: String::new(),
    };
    Ok(DescribeAddressQuotaResponse {
        quota_set: vec![
            quota("TOTAL_EIP_QUOTA", w.eip_count(), w.quotas.eip_total),
            quota(
                "DAILY_EIP_APPLY",
                w.daily_eip_applied,
                w.quotas.eip_daily_apply,
            ),
            quota(
                "DAILY_PUBLIC_IP_ASSIGN",
                w.daily_ip_assigned,
                w.quotas.public_ip_daily_assign,
            ),
            quota("MONTHLY_RECOVER_QUOTA", 0, 3),
        ],
    })
}
