//! Test-only stand-in for Tencent Cloud on 127.0.0.1:0: records every request (and whether its
//! TC3 signature verifies against the Host header as received) and answers from a script.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::sign::{SigningInput, parse_authorization, sign, signatures_equal};

/// One request as the stub saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub action: String,
    pub host: String,
    pub region: Option<String>,
    pub token: Option<String>,
    pub language: Option<String>,
    pub secret_id: Option<String>,
    pub body: Value,
    pub signature_ok: bool,
}

pub enum Answer {
    /// Success: the `Response` content; the stub adds a `RequestId`.
    Ok(Value),
    /// API error envelope with this code.
    Error(&'static str),
    /// Any status and raw body.
    Raw(u16, String),
    /// Never answer (the client must time out).
    Hang,
}

type Script = dyn Fn(&Seen, usize) -> Answer + Send + Sync;

#[derive(Clone)]
struct StubState {
    secret_key: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Script>,
}

pub struct Stub {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Stub {
    /// Starts the stub; `script(request, index)` decides each answer (`index` counts from 0).
    pub async fn start(
        secret_key: &str,
        script: impl Fn(&Seen, usize) -> Answer + Send + Sync + 'static,
    ) -> Stub {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let state = StubState {
            secret_key: secret_key.to_owned(),
            seen: seen.clone(),
            script: Arc::new(script),
        };
        let app = axum::Router::new()
            .route("/", axum::routing::post(handle))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Stub { url, seen }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn handle(State(state): State<StubState>, headers: HeaderMap, body: Bytes) -> Response {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let seen = Seen {
        action: get("x-tc-action").unwrap_or_default(),
        host: get("host").unwrap_or_default(),
        region: get("x-tc-region"),
        token: get("x-tc-token"),
        language: get("x-tc-language"),
        secret_id: get("authorization")
            .as_deref()
            .and_then(parse_authorization)
            .map(|a| a.secret_id),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        signature_ok: verify(&state.secret_key, &headers, &body),
    };
    let index = {
        let mut all = state.seen.lock().unwrap();
        all.push(seen.clone());
        all.len() - 1
    };
    let request_id = format!("stub-{index}");
    let envelope = |content: Value| {
        let mut content = content;
        content["RequestId"] = json!(request_id);
        json!({ "Response": content }).to_string()
    };
    let (status, text) = match (state.script)(&seen, index) {
        Answer::Ok(content) => (200, envelope(content)),
        Answer::Error(code) => (
            200,
            envelope(json!({"Error": {"Code": code, "Message": format!("stub says {code}")}})),
        ),
        Answer::Raw(status, text) => (status, text),
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            (200, String::new())
        }
    };
    let status = StatusCode::from_u16(status).unwrap();
    (status, [(header::CONTENT_TYPE, "application/json")], text).into_response()
}

/// Reference §1.8: recompute from the headers as received, Host verbatim.
fn verify(secret_key: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(auth) = get("authorization").and_then(parse_authorization) else {
        return false;
    };
    let Some(timestamp) = get("x-tc-timestamp").and_then(|t| t.parse().ok()) else {
        return false;
    };
    let signed: Vec<(&str, &str)> = auth
        .signed_headers
        .iter()
        .map(|h| (h.as_str(), get(h).unwrap_or("")))
        .collect();
    let expected = sign(&SigningInput {
        secret_id: &auth.secret_id,
        secret_key,
        service: &auth.service,
        headers: &signed,
        method: "POST",
        canonical_query: "",
        body,
        timestamp,
        unsigned_payload: false,
    });
    signatures_equal(&expected.signature, &auth.signature)
}
