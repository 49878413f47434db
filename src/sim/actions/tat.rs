//! TAT: DescribeAutomationAgentStatus, RunCommand, DescribeInvocations,
//! DescribeInvocationTasks (reference §4.25–§4.28). Commands run only on `RUNNING` instances
//! with an online agent; they go `PENDING` → `RUNNING` → `SUCCESS`/`FAILED` one async step
//! apart, and their output comes from the simulated shell (`world/shell.rs`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::common::{Filters, exclusive, page, paging};
use crate::sim::error::{SimError, SimResult};
use crate::sim::world::transitions::iso_now;
use crate::sim::world::{self, AgentState, TimerKind, World};
use crate::tencent::models::tat::*;

const BAD_FILTER: &str = "InvalidParameterValue.InvalidFilter";

pub fn describe_automation_agent_status(
    w: &mut World,
    req: DescribeAutomationAgentStatusRequest,
) -> SimResult<DescribeAutomationAgentStatusResponse> {
    exclusive(
        req.instance_ids.as_ref(),
        req.filters.as_ref(),
        "InvalidParameter.ConflictParameter",
    )?;
    let f = Filters::new(
        req.filters.as_ref(),
        &["agent-status", "environment", "instance-id"],
        BAD_FILTER,
    )?;
    let (offset, limit) = paging(req.offset, req.limit, 20, 100)?;
    let ids = req.instance_ids.as_ref().filter(|i| !i.is_empty());
    let instances: Box<dyn Iterator<Item = &world::Instance>> = match ids {
        Some(ids) => Box::new(ids.iter().filter_map(|id| w.instance(id))),
        None => Box::new(w.instances().iter()),
    };
    let all: Vec<AutomationAgentInfo> = instances
        .filter(|i| i.agent != AgentState::None)
        .map(|i| AutomationAgentInfo {
            instance_id: i.id.clone(),
            version: "1.1.8".into(),
            last_heartbeat_time: iso_now(),
            agent_status: if i.agent == AgentState::Online && i.state == "RUNNING" {
                "Online"
            } else {
                "Offline"
            }
            .into(),
            environment: "Linux".into(),
            support_features: vec!["RunUser".into(), "OutputCOS".into()],
        })
        .filter(|a| {
            f.allows("instance-id", &a.instance_id) && f.allows_ci("agent-status", &a.agent_status)
        })
        .filter(|a| f.allows_ci("environment", &a.environment))
        .collect();
    Ok(DescribeAutomationAgentStatusResponse {
        total_count: all.len() as u64,
        automation_agent_set: page(&all, offset, limit),
    })
}

fn check_runnable(w: &World, id: &str) -> SimResult<()> {
    let i = w.instance(id).ok_or_else(|| {
        SimError::new(
            "ResourceNotFound.InstanceNotFound",
            format!("The instance {id} does not exist."),
        )
    })?;
    if i.state != "RUNNING" {
        return Err(SimError::new(
            "ResourceUnavailable.InstanceStateNotRunning",
            format!("Instance {id} is {}, not RUNNING.", i.state),
        ));
    }
    match i.agent {
        AgentState::Online => Ok(()),
        AgentState::Offline => Err(SimError::new(
            "ResourceUnavailable.AgentStatusNotOnline",
            format!(
                "The TAT agent of {id} is offline; restart it on the instance (/usr/local/qcloud/tat_agent/)."
            ),
        )),
        AgentState::None => Err(SimError::new(
            "ResourceUnavailable.AgentNotInstalled",
            format!("The TAT agent is not installed on {id}."),
        )),
    }
}

pub fn run_command(w: &mut World, req: RunCommandRequest) -> SimResult<RunCommandResponse> {
    if req.content.len() > 64 * 1024 {
        return Err(SimError::new(
            "InvalidParameterValue.TooLong",
            "`Content` is longer than 64 KB.",
        ));
    }
    if STANDARD.decode(&req.content).is_err() {
        return Err(SimError::new(
            "InvalidParameterValue.InvalidContent",
            "`Content` is not valid Base64.",
        ));
    }
    if req.instance_ids.is_empty() || req.instance_ids.len() > 200 {
        return Err(SimError::new(
            "InvalidParameterValue.LimitExceeded",
            "`InstanceIds` takes 1 to 200 instances.",
        ));
    }
    let command_type = req.command_type.clone().unwrap_or_else(|| "SHELL".into());
    if command_type != "SHELL" {
        return Err(SimError::new(
            "InvalidParameterValue.AgentUnsupportedCommandType",
            format!("The Linux agents here only run SHELL, not {command_type}."),
        ));
    }
    let timeout = req.timeout.unwrap_or(60);
    if !(1..=86400).contains(&timeout) {
        return Err(SimError::new(
            "InvalidParameterValue.Range",
            "`Timeout` must be 1–86400 seconds.",
        ));
    }
    for id in &req.instance_ids {
        super::common::check_id(id, "ins", "InvalidParameterValue.InvalidInstanceId")?;
        check_runnable(w, id)?;
    }
    let invocation_id = w.new_id("inv");
    let command_id = w.new_id("cmd");
    let now = iso_now();
    let tasks = req
        .instance_ids
        .iter()
        .map(|instance_id| world::InvocationTask {
            id: w.new_id("invt"),
            instance_id: instance_id.clone(),
            status: "PENDING".into(),
            exit_code: None,
            output: String::new(),
            error_info: String::new(),
            start_time: None,
            end_time: None,
        })
        .collect();
    let invocation = world::Invocation {
        id: invocation_id.clone(),
        command_id: command_id.clone(),
        command_name: req.command_name.clone().unwrap_or_default(),
        description: req.description.clone().unwrap_or_default(),
        content: req.content.clone(),
        command_type,
        timeout,
        working_directory: req
            .working_directory
            .clone()
            .unwrap_or_else(|| "/root".into()),
        username: req.username.clone().unwrap_or_else(|| "root".into()),
        status: "PENDING".into(),
        created_time: now.clone(),
        updated_time: now,
        tasks,
    };
    w.invocations.insert(invocation_id.clone(), invocation);
    w.schedule(TimerKind::TatStart(invocation_id.clone()));
    Ok(RunCommandResponse {
        command_id,
        invocation_id,
    })
}

fn invocation_view(i: &world::Invocation) -> Invocation {
    Invocation {
        invocation_id: i.id.clone(),
        command_id: i.command_id.clone(),
        command_name: i.command_name.clone(),
        invocation_status: i.status.clone(),
        invocation_task_basic_info_set: i
            .tasks
            .iter()
            .map(|t| InvocationTaskBasicInfo {
                invocation_task_id: t.id.clone(),
                task_status: t.status.clone(),
                instance_id: t.instance_id.clone(),
            })
            .collect(),
        description: i.description.clone(),
        start_time: i
            .tasks
            .first()
            .and_then(|t| t.start_time.clone())
            .unwrap_or_default(),
        end_time: i
            .tasks
            .iter()
            .all(|t| t.end_time.is_some())
            .then(|| i.updated_time.clone()),
        created_time: i.created_time.clone(),
        updated_time: i.updated_time.clone(),
        instance_kind: "CVM".into(),
        username: i.username.clone(),
        invocation_source: "USER".into(),
        command_content: i.content.clone(),
        command_type: i.command_type.clone(),
        timeout: i.timeout,
        working_directory: i.working_directory.clone(),
        ..Default::default()
    }
}

pub fn describe_invocations(
    w: &mut World,
    req: DescribeInvocationsRequest,
) -> SimResult<DescribeInvocationsResponse> {
    exclusive(
        req.invocation_ids.as_ref(),
        req.filters.as_ref(),
        "InvalidParameter.ConflictParameter",
    )?;
    let f = Filters::new(
        req.filters.as_ref(),
        &[
            "invocation-id",
            "command-id",
            "command-created-by",
            "instance-kind",
        ],
        BAD_FILTER,
    )?;
    let (offset, limit) = paging(req.offset, req.limit, 20, 100)?;
    let all: Vec<Invocation> = w
        .invocations
        .values()
        .filter(|i| {
            req.invocation_ids
                .as_ref()
                .is_none_or(|ids| ids.is_empty() || ids.contains(&i.id))
        })
        .filter(|i| f.allows("invocation-id", &i.id) && f.allows("command-id", &i.command_id))
        .filter(|_| {
            f.allows_ci("command-created-by", "USER") && f.allows_ci("instance-kind", "CVM")
        })
        .map(invocation_view)
        .collect();
    Ok(DescribeInvocationsResponse {
        total_count: all.len() as u64,
        invocation_set: page(&all, offset, limit),
    })
}

pub fn describe_invocation_tasks(
    w: &mut World,
    req: DescribeInvocationTasksRequest,
) -> SimResult<DescribeInvocationTasksResponse> {
    exclusive(
        req.invocation_task_ids.as_ref(),
        req.filters.as_ref(),
        "InvalidParameter.ConflictParameter",
    )?;
    let f = Filters::new(
        req.filters.as_ref(),
        &[
            "invocation-task-id",
            "invocation-id",
            "instance-id",
            "command-id",
        ],
        BAD_FILTER,
    )?;
    let (offset, limit) = paging(req.offset, req.limit, 20, 100)?;
    // Output is hidden unless the caller asks (`HideOutput` defaults to true, §4.28).
    let hide = req.hide_output.unwrap_or(true);
    let ids = req.invocation_task_ids.as_ref().filter(|i| !i.is_empty());
    let all: Vec<InvocationTask> = w
        .invocations
        .values()
        .filter(|i| f.allows("invocation-id", &i.id) && f.allows("command-id", &i.command_id))
        .flat_map(|i| i.tasks.iter().map(move |t| (i, t)))
        .filter(|(_, t)| ids.is_none_or(|ids| ids.contains(&t.id)))
        .filter(|(_, t)| {
            f.allows("invocation-task-id", &t.id) && f.allows("instance-id", &t.instance_id)
        })
        .map(|(i, t)| task_view(i, t, hide))
        .collect();
    Ok(DescribeInvocationTasksResponse {
        total_count: all.len() as u64,
        invocation_task_set: page(&all, offset, limit),
    })
}

fn task_view(i: &world::Invocation, t: &world::InvocationTask, hide: bool) -> InvocationTask {
    InvocationTask {
        invocation_id: i.id.clone(),
        invocation_task_id: t.id.clone(),
        command_id: i.command_id.clone(),
        task_status: t.status.clone(),
        instance_id: t.instance_id.clone(),
        task_result: TaskResult {
            exit_code: t.exit_code.unwrap_or(0),
            output: if hide {
                String::new()
            } else {
                t.output.clone()
            },
            exec_start_time: t.start_time.clone(),
            exec_end_time: t.end_time.clone(),
            ..Default::default()
        },
        start_time: t.start_time.clone(),
        end_time: t.end_time.clone(),
        created_time: i.created_time.clone(),
        updated_time: i.updated_time.clone(),
        command_document: CommandDocument {
            content: i.content.clone(),
            command_type: i.command_type.clone(),
            timeout: i.timeout,
            working_directory: i.working_directory.clone(),
            username: i.username.clone(),
            ..Default::default()
        },
        error_info: t.error_info.clone(),
        invocation_source: "USER".into(),
        command_name: i.command_name.clone(),
    }
}
