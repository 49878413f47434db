//! Issue 14, item 4: API tokens and the JSON API. A whole rollout driven with a token, a
//! viewer token refused on every mutating endpoint, cookies that do not authenticate the API,
//! revoked and expired tokens refused, tokens stored hashed and shown once, the OpenAPI
//! document generated from the code.

use reqwest::StatusCode;
use serde_json::{Value, json};

use natpilot::store::users::Role;

use crate::common::until;
use crate::harness::{Browser, TestApp};

/// Creates a token on `/account/tokens` as `b`; returns it (shown once on that page).
pub(crate) async fn token(b: &mut Browser, name: &str, role: &str, service: bool) -> String {
    b.get("/account/tokens").await;
    let mut fields = vec![("name", name), ("role", role), ("days", "30")];
    if service {
        fields.push(("kind", "service"));
    }
    let page = b.post("/account/tokens", &fields).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let t = page.text("#new-token");
    assert!(t.starts_with("np_"), "{t}");
    t
}

pub(crate) struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    pub(crate) fn new(app: &TestApp, token: &str) -> Api {
        Api {
            base: app.app.url(""),
            token: token.to_owned(),
            http: reqwest::Client::new(),
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")),
        )
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    pub(crate) async fn status_once_settled(&self, id: &str) -> Value {
        let path = format!("/api/v1/runs/{id}");
        until("the run to settle", || async {
            let (_, v) = self.get(&path).await;
            !matches!(v["status"].as_str(), Some("applying" | "rolling_back"))
        })
        .await;
        self.get(&path).await.1
    }
}

#[tokio::test]
async fn a_whole_rollout_is_driven_through_the_api_with_a_personal_token() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let api = Api::new(&app, &token(&mut olga, "pipeline", "operator", false).await);
    let (status, vpcs) = api.get("/api/v1/vpcs?region=ap-guangzhou").await;
    assert_eq!(status, StatusCode::OK, "{vpcs}");
    assert!(
        vpcs.as_array()
            .unwrap()
            .iter()
            .any(|v| v["vpc_id"] == "vpc-tut0rial")
    );
    let (status, run) = api
        .post(
            "/api/v1/runs",
            json!({"region": "ap-guangzhou", "vpc_id": "vpc-tut0rial"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    assert_eq!(run["started_by"], "olga");
    let id = run["id"].as_str().unwrap().to_owned();
    let mut now = api.status_once_settled(&id).await;
    for n in 1..=4 {
        assert_eq!(
            (now["status"].as_str(), now["current_step"].as_i64()),
            (Some("active"), Some(n)),
            "{now}"
        );
        let (_, step) = api.get(&format!("/api/v1/runs/{id}/steps/{n}")).await;
        let input = step["default_input"].clone();
        let (status, plan) = api
            .post(
                &format!("/api/v1/runs/{id}/steps/{n}/plan"),
                json!({"input": input}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{plan}");
        assert_eq!(plan["blocked"], false, "{plan}");
        // A digest that is not the plan's is refused, nothing applied.
        let (status, err) = api
            .post(
                &format!("/api/v1/runs/{id}/steps/{n}/confirm"),
                json!({"input": input, "plan_digest": "not-the-plan"}),
            )
            .await;
        assert_eq!(
            (status, err["code"].as_str()),
            (StatusCode::CONFLICT, Some("plan_changed"))
        );
        let (status, body) = api
            .post(
                &format!("/api/v1/runs/{id}/steps/{n}/confirm"),
                json!({"input": input, "plan_digest": plan["digest"]}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        now = api.status_once_settled(&id).await;
    }
    assert_eq!(now["status"], "completed", "{now}");
    let (_, report) = api.get(&format!("/api/v1/runs/{id}/report")).await;
    assert!(report["api_calls"].as_array().unwrap().len() > 10);
    let (_, history) = api.get("/api/v1/runs?limit=5").await;
    assert_eq!(history["runs"][0]["id"], id.as_str());
    // The engine audited the confirmations under the token's user.
    let confirms = app.audited("run.confirm").await;
    assert_eq!(confirms.len(), 4);
    assert!(confirms.iter().all(|e| e.actor == "olga"));
}

#[tokio::test]
async fn a_viewer_token_is_refused_on_every_mutating_endpoint_and_audited() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let operator = Api::new(&app, &token(&mut olga, "op", "operator", false).await);
    let (_, run) = operator
        .post(
            "/api/v1/runs",
            json!({"region": "ap-guangzhou", "vpc_id": "vpc-tut0rial"}),
        )
        .await;
    let id = run["id"].as_str().unwrap().to_owned();
    operator.status_once_settled(&id).await;
    let mut vera = app.signed_in("vera", Role::Viewer).await;
    let viewer = Api::new(&app, &token(&mut vera, "read-only", "viewer", false).await);
    let input = json!({"input": {"step": "assess", "protect": [], "unprotect": []}});
    for (path, body) in [
        (
            "/api/v1/runs".to_owned(),
            json!({"region": "ap-guangzhou", "vpc_id": "vpc-tut0rial"}),
        ),
        (format!("/api/v1/runs/{id}/steps/1/plan"), input.clone()),
        (
            format!("/api/v1/runs/{id}/steps/1/confirm"),
            json!({"input": input["input"], "plan_digest": "x"}),
        ),
        // Approvals (issue 14, item 2): refused before the request is even looked up.
        ("/api/v1/approvals/1/approve".to_owned(), json!({})),
        (
            "/api/v1/approvals/1/reject".to_owned(),
            json!({"comment": "no"}),
        ),
    ] {
        let (status, err) = viewer.post(&path, body).await;
        assert_eq!(
            (status, err["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "{path}: {err}"
        );
    }
    // Reading is fine.
    assert_eq!(
        viewer.get(&format!("/api/v1/runs/{id}")).await.0,
        StatusCode::OK
    );
    assert_eq!(app.audited("api.refused").await.len(), 5);
    // An operator cannot ask for a token above their role.
    let page = olga
        .post(
            "/account/tokens",
            &[("name", "too-much"), ("role", "admin"), ("days", "30")],
        )
        .await;
    assert!(
        page.text("#token-errors")
            .contains("cannot do more than you")
    );
    assert_eq!(
        page.attr("#token-name", "value").as_deref(),
        Some("too-much")
    );
}

#[tokio::test]
async fn cookies_do_not_authenticate_the_api_and_bad_tokens_say_why() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let t = token(&mut olga, "ci", "operator", false).await;
    // A signed-in browser without a token.
    let page = olga.get("/api/v1/runs").await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    let err: Value = serde_json::from_str(&page.body).unwrap();
    assert_eq!(err["code"], "unauthorized");
    assert!(err["message"].as_str().unwrap().contains("Bearer"));
    // The token does not work on the pages either (they use sessions).
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = no_redirects
        .get(app.app.url("/runs"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "sent to sign in");
    // Unknown, then revoked.
    let (status, _) = Api::new(&app, "np_not-a-token").get("/api/v1/runs").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let api = Api::new(&app, &t);
    assert_eq!(api.get("/api/v1/runs").await.0, StatusCode::OK);
    let listed = olga.get("/account/tokens").await;
    assert!(!listed.body.contains(&t), "a token is shown only once");
    assert!(
        listed.text("#tokens-table").contains("never")
            || listed.text("#tokens-table").contains(':')
    );
    let id = listed
        .attr("#tokens-table tbody tr", "data-token-id")
        .unwrap();
    olga.post(&format!("/account/tokens/{id}/revoke"), &[])
        .await;
    let (status, err) = api.get("/api/v1/runs").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        err["message"].as_str().unwrap().contains("revoked"),
        "{err}"
    );
    // Expired.
    let t2 = token(&mut olga, "short", "viewer", false).await;
    natpilot::store::sql::query("UPDATE api_tokens SET expires_at = 0 WHERE name = 'short'")
        .execute(app.store().writer())
        .await
        .unwrap();
    let (status, err) = Api::new(&app, &t2).get("/api/v1/runs").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        err["message"].as_str().unwrap().contains("expired"),
        "{err}"
    );
    // Only hashes are stored.
    let db = app.db_contents().await;
    for secret in [&t, &t2] {
        assert!(!db.windows(secret.len()).any(|w| w == secret.as_bytes()));
    }
    assert_eq!(app.audited("token.create").await.len(), 2);
    assert_eq!(app.audited("token.revoke").await.len(), 1);
}

#[tokio::test]
async fn a_service_token_acts_as_its_service_name_and_the_openapi_document_describes_the_api() {
    let app = TestApp::start().await;
    let mut root = app.signed_in("root", Role::Admin).await;
    let svc = Api::new(
        &app,
        &token(&mut root, "release-bot", "operator", true).await,
    );
    let (status, run) = svc
        .post(
            "/api/v1/runs",
            json!({"region": "ap-guangzhou", "vpc_id": "vpc-tut0rial"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    assert_eq!(run["started_by"], "svc:release-bot");
    // A second run on the same VPC is refused as busy, in JSON.
    let (status, err) = svc
        .post(
            "/api/v1/runs",
            json!({"region": "ap-guangzhou", "vpc_id": "vpc-tut0rial"}),
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::CONFLICT, Some("vpc_busy")),
        "{err}"
    );
    let (status, doc) = Api::new(&app, "").get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        doc["paths"]["/api/v1/runs/{id}/steps/{n}/confirm"]["post"].is_object(),
        "{doc}"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );
    let mut olga = app.signed_in("olga", Role::Operator).await;
    olga.get("/account/tokens").await;
    let page = olga
        .post(
            "/account/tokens",
            &[
                ("name", "x"),
                ("role", "viewer"),
                ("days", "30"),
                ("kind", "service"),
            ],
        )
        .await;
    assert!(page.text("#token-errors").contains("Only an admin"));
}
