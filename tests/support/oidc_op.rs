//! The real OpenID provider of the single sign-on tests: the npm package `oidc-provider` (a
//! certified implementation) from `tests/fixtures/oidc`, started on loopback per test. Shared
//! by the portal's SSO tests (`tests/portal/oidc.rs`, plain HTTP) and the real-browser test
//! (`tests/browser.rs`, chromium), which include this file with `#[path]`.

// Each of the two test binaries uses part of it (the browser test never rotates keys).
#![allow(dead_code)]

use std::process::Stdio;

use natpilot::web::auth::oidc::{AuthConfig, AuthSettings};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

/// natpilot's client secret at the provider.
pub const SECRET: &str = "fixture-client-secret-4f1c9e";

/// The provider process; killed when dropped.
pub struct Op {
    _child: tokio::process::Child,
    /// Kept open: the provider may write to its stdout later.
    _stdout: BufReader<tokio::process::ChildStdout>,
    pub issuer: String,
    /// The second origin that `separate_authorization` advertises as the authorization
    /// endpoint's.
    pub authorization_origin: String,
    http: reqwest::Client,
}

impl Op {
    pub async fn start(fixture: Value) -> Op {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/oidc");
        let stderr = if std::env::var_os("TEST_LOG").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        };
        let mut child = tokio::process::Command::new("node")
            .arg("provider.js")
            .current_dir(dir)
            .env("OIDC_FIXTURE", fixture.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (install Node.js and `npm ci` in tests/fixtures/oidc)");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        let mut stdout = BufReader::new(stdout);
        stdout.read_line(&mut line).await.unwrap();
        let started: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the provider printed {line:?} ({e}); did `npm ci` run?"));
        Op {
            _child: child,
            _stdout: stdout,
            issuer: started["issuer"].as_str().unwrap().to_owned(),
            authorization_origin: started["authorization_origin"].as_str().unwrap().to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    async fn post(&self, path: &str, body: Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.issuer))
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT, "{path}");
    }

    /// Registers natpilot's client for the portal at `portal` (`http://127.0.0.1:N`, known
    /// only once it runs) with `secret`.
    pub async fn register(&self, portal: &str, secret: &str) {
        let client = json!({
            "client_id": "natpilot",
            "client_secret": secret,
            "redirect_uris": [format!("{portal}/auth/oidc/callback")],
            "post_logout_redirect_uris": [format!("{portal}/login?signed_out=1")],
        });
        self.post("/test/reconfigure", json!({ "clients": [client] }))
            .await;
    }

    pub async fn set(&self, patch: Value) {
        self.post("/test/reconfigure", patch).await;
    }

    pub async fn rotate_keys(&self) {
        self.post("/test/rotate-keys", json!({})).await;
    }
}

/// The provider's people: login name → subject and claims.
pub fn accounts() -> Value {
    json!({
        "alice": {"sub": "u-1001", "claims": {"groups": ["natpilot-operators", "staff"], "email": "alice@example.com"}},
        "root": {"sub": "u-1002", "claims": {"preferred_username": "admin", "groups": ["natpilot-viewers"]}},
        "bob": {"sub": "u-1003", "claims": {"email": "bob@example.com"}},
        "carol": {"sub": "u-1004", "claims": {"groups": ["sales"]}},
    })
}

/// natpilot's `[auth]` for the provider at `issuer`: groups mapped to roles, a break-glass
/// admin `breakglass`.
pub fn auth_settings(issuer: &str, local_login: bool) -> AuthSettings {
    AuthConfig {
        issuer: Some(issuer.to_owned()),
        client_id: Some("natpilot".into()),
        client_secret: Some(SecretString::from(SECRET)),
        label: "Fixture ID".into(),
        scopes: ["openid", "profile", "email", "groups"]
            .map(String::from)
            .into(),
        roles: [
            ("natpilot-admins", "admin"),
            ("natpilot-operators", "operator"),
            ("natpilot-viewers", "viewer"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .into(),
        local_login,
        break_glass_admin: Some("breakglass".into()),
        ..AuthConfig::default()
    }
    .settings()
    .unwrap()
}
