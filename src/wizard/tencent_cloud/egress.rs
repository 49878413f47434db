//! The egress test: `curl -s --max-time 10 ifconfig.co` through TAT RunCommand, results
//! from DescribeInvocationTasks (reference §4.26–4.28, §5.3). Stopped instances and offline
//! agents are untestable, not failures, and get no command.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use futures_util::StreamExt as _;

use super::TencentCloud;
use super::inventory::IDS_PER_CALL;
use crate::tencent::models::{Filter, tat};
use crate::wizard::cloud::CloudError;
use crate::wizard::observed::{Instance, InstanceState, Inventory};
use crate::wizard::steps::assess::Egress;

pub const EGRESS_COMMAND: &str = "curl -s --max-time 10 ifconfig.co";
/// RunCommand chunks in flight at once: enough to keep RunCommand and DescribeInvocationTasks
/// (20/s each) busy while each invocation runs.
const CHUNKS_AT_ONCE: usize = 16;
const TERMINAL: [&str; 8] = [
    "SUCCESS",
    "FAILED",
    "TIMEOUT",
    "TASK_TIMEOUT",
    "DELIVER_FAILED",
    "START_FAILED",
    "CANCELLED",
    "TERMINATED",
];

impl TencentCloud {
    pub(super) async fn run_egress_test(
        &self,
        inv: &Inventory,
        ids: &[String],
    ) -> Result<BTreeMap<String, Egress>, CloudError> {
        let (mut results, testable) = triage(inv, ids);
        // Each chunk's RunCommand and its polls run as one future, several chunks at once, so
        // the polls of early invocations overlap the RunCommands of later ones (both 20/s,
        // reference §3.5) instead of all polls waiting for the last RunCommand.
        // (Futures collected first: a closure in the stream loses `Send`, rust#102211.)
        let chunks: Vec<_> = testable
            .chunks(IDS_PER_CALL)
            .map(|chunk| self.test_chunk(chunk.to_vec()))
            .collect();
        let mut tests = futures_util::stream::iter(chunks).buffer_unordered(CHUNKS_AT_ONCE);
        while let Some(chunk) = tests.next().await {
            results.extend(chunk?);
        }
        Ok(results)
    }

    /// RunCommand on up to 100 instances, then their results. Instances TAT refuses to reach
    /// (agent gone offline since the inventory) are untestable.
    async fn test_chunk(&self, chunk: Vec<String>) -> Result<BTreeMap<String, Egress>, CloudError> {
        let req = tat::RunCommandRequest {
            content: base64::engine::general_purpose::STANDARD.encode(EGRESS_COMMAND),
            instance_ids: chunk,
            command_name: Some("natpilot-egress-check".into()),
            command_type: Some("SHELL".into()),
            timeout: Some(30),
            ..Default::default()
        };
        match self.run_command(&req).await {
            Ok(r) => self.await_invocation(&r.invocation_id).await,
            Err(e) if e.code.starts_with("ResourceUnavailable.") => Ok(req
                .instance_ids
                .into_iter()
                .map(|id| {
                    let detail = e.code.clone();
                    (id, Egress::Untestable { detail })
                })
                .collect()),
            Err(e) => Err(e),
        }
    }

    /// RunCommand has no idempotency token; after an ambiguous failure it is sent again,
    /// because a duplicate egress check only costs one more `curl`.
    async fn run_command(
        &self,
        req: &tat::RunCommandRequest,
    ) -> Result<tat::RunCommandResponse, CloudError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.call_raw::<tat::RunCommand>(req).await {
                Ok(r) => return Ok(r),
                Err(e @ crate::tencent::TencentError::MaybeApplied { .. }) if attempts < 5 => {
                    tracing::warn!(error = %e, "RunCommand may not have run; sending it again");
                }
                Err(e) => return Err(super::cloud_error("RunCommand", &e)),
            }
        }
    }

    async fn await_invocation(
        &self,
        invocation_id: &str,
    ) -> Result<BTreeMap<String, Egress>, CloudError> {
        // The first look waits too: a `curl` just sent has not finished, and every look costs
        // a DescribeInvocationTasks request (20/s) that the other chunks need.
        let mut backoff = self.poll.start();
        loop {
            backoff.wait().await;
            let req = tat::DescribeInvocationTasksRequest {
                filters: Some(vec![Filter::one("invocation-id", invocation_id)]),
                hide_output: Some(false),
                ..Default::default()
            };
            let tasks = self.fetch_all::<tat::DescribeInvocationTasks>(&req).await?;
            if !tasks.is_empty()
                && tasks
                    .iter()
                    .all(|t| TERMINAL.contains(&t.task_status.as_str()))
            {
                return Ok(tasks
                    .into_iter()
                    .map(|t| (t.instance_id.clone(), outcome(&t)))
                    .collect());
            }
        }
    }
}

/// Splits `ids` into those to test (in their order) and the untestable ones with why, looking
/// each up in one index of the inventory (a search of its instances per id was quadratic: ~9 %
/// of a 50,000-instance assessment's CPU in `memcmp`).
fn triage(inv: &Inventory, ids: &[String]) -> (BTreeMap<String, Egress>, Vec<String>) {
    // The first of an id, as a search would find it.
    let mut by_id: HashMap<&str, &Instance> = HashMap::new();
    for i in &inv.instances {
        by_id.entry(i.id.as_str()).or_insert(i);
    }
    let mut results = BTreeMap::new();
    let mut testable = Vec::new();
    for id in ids {
        match by_id.get(id.as_str()) {
            Some(i) if i.testable() => testable.push(id.clone()),
            Some(i) => {
                let detail = match &i.state {
                    InstanceState::Running => "TAT agent offline".to_owned(),
                    InstanceState::Stopped => "instance is STOPPED".to_owned(),
                    InstanceState::Other(s) => format!("instance is {s}"),
                };
                results.insert(id.clone(), Egress::Untestable { detail });
            }
            None => {
                results.insert(
                    id.clone(),
                    Egress::Untestable {
                        detail: "instance not found".into(),
                    },
                );
            }
        }
    }
    (results, testable)
}

fn outcome(t: &tat::InvocationTask) -> Egress {
    let output = base64::engine::general_purpose::STANDARD
        .decode(t.task_result.output.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    let ip = output.trim();
    match (t.task_status.as_str(), ip.parse::<std::net::Ipv4Addr>()) {
        ("SUCCESS", Ok(_)) => Egress::Ip { ip: ip.to_owned() },
        ("SUCCESS", Err(_)) => Egress::Failed {
            detail: format!("printed {ip:?}, not an IP address"),
        },
        (status, _) => Egress::Failed {
            detail: format!(
                "{status}, exit code {}{}",
                t.task_result.exit_code,
                if t.error_info.is_empty() {
                    String::new()
                } else {
                    format!(": {}", t.error_info)
                }
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(id: &str, state: InstanceState, agent_online: bool) -> Instance {
        Instance {
            id: id.into(),
            name: format!("{id}-name"),
            subnet_id: "subnet-1".into(),
            state,
            private_ip: Some("10.0.0.5".into()),
            public_ip: None,
            tags: vec![],
            agent_online,
        }
    }

    fn untestable(detail: &str) -> Egress {
        Egress::Untestable {
            detail: detail.into(),
        }
    }

    #[test]
    fn triage_keeps_the_order_to_test_and_says_why_the_others_are_untestable() {
        let inv = Inventory {
            instances: vec![
                inst("ins-b", InstanceState::Running, true),
                inst("ins-offline", InstanceState::Running, false),
                inst("ins-stopped", InstanceState::Stopped, true),
                inst("ins-odd", InstanceState::Other("PENDING".into()), true),
                inst("ins-a", InstanceState::Running, true),
                // A second of an id: the first one decides, as a search finds it.
                inst("ins-a", InstanceState::Stopped, true),
            ],
            ..Inventory::default()
        };
        let ids: Vec<String> = [
            "ins-a",
            "ins-offline",
            "ins-gone",
            "ins-stopped",
            "ins-odd",
            "ins-b",
        ]
        .map(String::from)
        .to_vec();
        let (results, testable) = triage(&inv, &ids);
        assert_eq!(testable, ["ins-a", "ins-b"]);
        let expected: BTreeMap<String, Egress> = [
            ("ins-offline", untestable("TAT agent offline")),
            ("ins-gone", untestable("instance not found")),
            ("ins-stopped", untestable("instance is STOPPED")),
            ("ins-odd", untestable("instance is PENDING")),
        ]
        .into_iter()
        .map(|(id, e)| (id.to_owned(), e))
        .collect();
        assert_eq!(results, expected);
    }
}
