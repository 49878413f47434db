//! `natpilot doctor`: which credentials are used (never the secret), then one read-only call
//! per service, each reported as OK or with code, message, RequestId and a hint. The report is
//! a value, so tests run it in-process against a stub server.

use std::fmt;

use crate::config::Config;
use crate::tencent::models::{cvm, dnspod, tat, vpc};
use crate::tencent::{
    Action, Client, ClientSettings, CredentialChain, CredentialError, Service, TencentError,
};

/// The outcome of one read-only call.
#[derive(Debug)]
pub struct Check {
    pub service: Service,
    pub action: &'static str,
    /// The RequestId on success.
    pub result: Result<String, TencentError>,
}

#[derive(Debug)]
pub enum Report {
    /// No credentials, or a broken credential source: nothing was called.
    NoCredentials(CredentialError),
    /// Credentials found but the client could not be set up (e.g. no region).
    Unusable {
        credentials: String,
        problem: String,
    },
    Ran {
        credentials: String,
        region: String,
        endpoint: String,
        checks: Vec<Check>,
    },
}

impl Report {
    /// True only if every check passed.
    pub fn ok(&self) -> bool {
        match self {
            Report::Ran { checks, .. } => checks.iter().all(|c| c.result.is_ok()),
            _ => false,
        }
    }
}

/// Resolves credentials the way `serve` would (configuration, environment, HOME) and checks.
pub async fn run(config: &Config) -> Report {
    run_with_chain(config, CredentialChain::from_config(&config.tencent)).await
}

/// Like [`run`] with an explicit chain (tests inject environment and home).
pub async fn run_with_chain(config: &Config, chain: CredentialChain) -> Report {
    let resolved = match chain.resolve().await {
        Ok(resolved) => resolved,
        Err(e) => return Report::NoCredentials(e),
    };
    let credentials = describe_credentials(&resolved.provider).await;
    let Some(region) = config.tencent.region.clone().or(resolved.region) else {
        return Report::Unusable {
            credentials,
            problem: "no region: pass --region (e.g. --region ap-guangzhou), set \
                      TENCENTCLOUD_REGION, or set tencent.region in natpilot.toml"
                .into(),
        };
    };
    let client = match ClientSettings::from_config(&config.tencent, resolved.provider)
        .and_then(Client::new)
    {
        Ok(client) => client,
        Err(e) => {
            return Report::Unusable {
                credentials,
                problem: e.to_string(),
            };
        }
    };
    let endpoint = match &config.tencent.endpoint {
        Some(url) => url.clone(),
        None if config.tencent.international => "<service>.intl.tencentcloudapi.com".into(),
        None if config.tencent.region_pinned => "<service>.<region>.tencentcloudapi.com".into(),
        None => "<service>.tencentcloudapi.com".into(),
    };
    let checks = check_all(&client, &region).await;
    Report::Ran {
        credentials,
        region,
        endpoint,
        checks,
    }
}

async fn describe_credentials(provider: &crate::tencent::CredentialsProvider) -> String {
    match provider.get().await {
        Ok(creds) => format!("{} — {creds}", provider.source()),
        Err(e) => format!("{} — not usable: {e}", provider.source()),
    }
}

/// One read-only call per service, in a fixed order.
pub async fn check_all(client: &Client, region: &str) -> Vec<Check> {
    vec![
        check::<vpc::DescribeVpcs>(client, region, &Default::default()).await,
        check::<cvm::DescribeInstances>(
            client,
            region,
            &cvm::DescribeInstancesRequest {
                limit: Some(1),
                ..Default::default()
            },
        )
        .await,
        check::<vpc::DescribeAddressQuota>(client, region, &Default::default()).await,
        check::<tat::DescribeAutomationAgentStatus>(
            client,
            region,
            &tat::DescribeAutomationAgentStatusRequest {
                limit: Some(1),
                ..Default::default()
            },
        )
        .await,
        check::<dnspod::DescribeDomainList>(
            client,
            region,
            &dnspod::DescribeDomainListRequest {
                limit: Some(1),
                ..Default::default()
            },
        )
        .await,
    ]
}

async fn check<A: Action>(client: &Client, region: &str, request: &A::Request) -> Check {
    let result = client
        .call_with_request_id::<A>(region, request)
        .await
        .map(|reply| reply.request_id);
    Check {
        service: A::SERVICE,
        action: A::NAME,
        result,
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Report::NoCredentials(e) if e.nothing_configured() => {
                writeln!(f, "credentials: NOT FOUND\n{e}")
            }
            Report::NoCredentials(e) => writeln!(f, "credentials: UNUSABLE\n{e}"),
            Report::Unusable {
                credentials,
                problem,
            } => writeln!(f, "credentials: {credentials}\nproblem: {problem}"),
            Report::Ran {
                credentials,
                region,
                endpoint,
                checks,
            } => {
                writeln!(f, "credentials: {credentials}")?;
                writeln!(f, "region:      {region}")?;
                writeln!(f, "endpoint:    {endpoint}")?;
                for c in checks {
                    write_check(f, c)?;
                }
                let failed = checks.iter().filter(|c| c.result.is_err()).count();
                match failed {
                    0 => writeln!(f, "all {} checks passed", checks.len()),
                    n => writeln!(f, "{n} of {} checks failed", checks.len()),
                }
            }
        }
    }
}

fn write_check(f: &mut fmt::Formatter<'_>, c: &Check) -> fmt::Result {
    let name = format!("{} {}", c.service, c.action);
    match &c.result {
        Ok(request_id) => writeln!(f, "  OK      {name:<40} RequestId {request_id}"),
        Err(e) => {
            let code = e.code().unwrap_or("-");
            writeln!(f, "  FAILED  {name:<40} {code}")?;
            // The error's Display already carries message, RequestId and hint.
            for line in e.to_string().lines() {
                writeln!(f, "          {line}")?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests;
