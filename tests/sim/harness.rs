//! Starting a simulator with a client pointed at it, and raw signed requests.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use natpilot::sim::{RunningSim, SimConfig, spawn};
use natpilot::tencent::models::Filter;
use natpilot::tencent::models::tat::*;
use natpilot::tencent::sign::{self, SigningInput};
use natpilot::tencent::{
    Client, ClientSettings, CredentialSource, Credentials, CredentialsProvider, Endpoint,
    RetryPolicy, TencentError,
};

pub const REGION: &str = "ap-guangzhou";

pub struct Env {
    pub sim: RunningSim,
    pub client: Client,
}

/// A simulator with `config` and a client that neither retries nor rate-limits itself, so
/// tests see exactly what the simulator answers.
pub async fn start(config: SimConfig) -> Env {
    let sim = spawn(config).await.expect("simulator starts");
    let mut settings = ClientSettings::new(
        Endpoint::override_url(&sim.endpoint()).unwrap(),
        CredentialsProvider::fixed(
            Credentials::new(sim.secret_id(), sim.secret_key()),
            CredentialSource::Explicit,
        ),
    );
    settings.retry = RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::default()
    };
    settings.rate_limit = false;
    settings.request_timeout = Duration::from_secs(10);
    let client = Client::new(settings).unwrap();
    Env { sim, client }
}

pub async fn tutorial() -> Env {
    start(SimConfig::for_tests()).await
}

pub fn code(error: &TencentError) -> String {
    error.code().unwrap_or("<no code>").to_string()
}

impl Env {
    /// Completes every asynchronous step that is due within one async delay.
    pub fn step(&self) {
        self.sim.advance(Duration::from_secs(2));
    }

    /// Runs `script` with TAT on `instance` and returns `(status, exit code, decoded output)`
    /// once the task is terminal.
    pub async fn run(&self, instance: &str, script: &str) -> (String, i64, String) {
        let req = RunCommandRequest {
            content: STANDARD.encode(script),
            instance_ids: vec![instance.into()],
            ..Default::default()
        };
        let started = self.client.call::<RunCommand>(REGION, &req).await.unwrap();
        self.step();
        self.step();
        let tasks = self
            .client
            .call::<DescribeInvocationTasks>(
                REGION,
                &DescribeInvocationTasksRequest {
                    filters: Some(vec![Filter::one("invocation-id", &started.invocation_id)]),
                    hide_output: Some(false),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let task = &tasks.invocation_task_set[0];
        let output = String::from_utf8(STANDARD.decode(&task.task_result.output).unwrap()).unwrap();
        (task.task_status.clone(), task.task_result.exit_code, output)
    }

    /// What `curl -s ifconfig.co` prints on the instance (without the newline), or `None`.
    pub async fn egress(&self, instance: &str) -> Option<String> {
        let (status, exit, output) = self
            .run(instance, "curl -s --max-time 10 ifconfig.co")
            .await;
        match exit {
            0 => {
                assert_eq!(status, "SUCCESS");
                Some(output.trim_end_matches('\n').to_string())
            }
            _ => {
                assert_eq!((status.as_str(), exit, output.as_str()), ("FAILED", 28, ""));
                None
            }
        }
    }
}

/// One raw signed request; returns `(HTTP status, Content-Type, JSON body)`.
pub struct Raw<'a> {
    pub service: &'a str,
    pub version: &'a str,
    pub action: &'a str,
    pub body: &'a str,
    pub host: Option<String>,
    pub secret_id: String,
    pub secret_key: String,
    pub timestamp: i64,
    pub region: Option<&'a str>,
    pub authorization: Option<String>,
}

impl<'a> Raw<'a> {
    pub fn new(sim: &RunningSim, action: &'a str, body: &'a str) -> Raw<'a> {
        Raw {
            service: "vpc",
            version: "2017-03-12",
            action,
            body,
            host: None,
            secret_id: sim.secret_id().into(),
            secret_key: sim.secret_key().into(),
            timestamp: chrono::Utc::now().timestamp(),
            region: Some(REGION),
            authorization: None,
        }
    }

    pub async fn send(&self, sim: &RunningSim) -> (u16, String, serde_json::Value) {
        let host = self.host.clone().unwrap_or_else(|| sim.addr().to_string());
        let signature = sign::sign(&SigningInput {
            secret_id: &self.secret_id,
            secret_key: &self.secret_key,
            service: self.service,
            headers: &[("content-type", "application/json"), ("host", &host)],
            method: "POST",
            canonical_query: "",
            body: self.body.as_bytes(),
            timestamp: self.timestamp,
            unsigned_payload: false,
        });
        let mut request = reqwest::Client::new()
            .post(sim.endpoint())
            .header("Host", host.clone())
            .header("Content-Type", "application/json")
            .header("X-TC-Action", self.action)
            .header("X-TC-Version", self.version)
            .header("X-TC-Timestamp", self.timestamp.to_string())
            .header(
                "Authorization",
                self.authorization
                    .clone()
                    .unwrap_or(signature.authorization),
            )
            .body(self.body.to_string());
        if let Some(region) = self.region {
            request = request.header("X-TC-Region", region);
        }
        let response = request.send().await.expect("simulator answers");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = response.json().await.expect("JSON body");
        (status, content_type, body)
    }
}

/// `Response.Error.Code` of a raw answer, or `""`.
pub fn error_code(body: &serde_json::Value) -> String {
    body["Response"]["Error"]["Code"]
        .as_str()
        .unwrap_or("")
        .to_string()
}
