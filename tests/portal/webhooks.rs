//! Issue 14, item 3: notifications through the webhook outbox, against a real HTTP receiver on
//! loopback: the generic JSON format's signature verified by the receiver, retries after the
//! receiver fails, dead letters an admin sends again, and delivery by the next process after a
//! restart. A failing webhook never holds up the run.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::{Router, extract::State, http::HeaderMap, http::StatusCode, routing::post};
use hmac::{Hmac, KeyInit, Mac};
use natpilot::{
    app::{self, AppConfig, RunningApp},
    notify::{DeliveryOptions, Webhook, WebhookConfig},
    sim::RunningSim,
    store::{Store, users::Role},
    tencent::Client,
    web::settings::WebSettings,
};
use secrecy::SecretString;
use sha2::Sha256;

use crate::common::until;
use crate::harness::{Browser, TestApp};
use crate::wizard::start as start_run;

pub(crate) const SECRET: &str = "whsec-test-0123456789";

/// A webhook receiver: records every request; answers 503 while `failing` is above zero
/// (counting down), or always when it is negative.
#[derive(Default)]
pub(crate) struct Receiver {
    pub(crate) got: Mutex<Vec<(HeaderMap, String)>>,
    failing: Mutex<i64>,
}

impl Receiver {
    pub(crate) async fn start(failing: i64) -> (Arc<Receiver>, String) {
        let r = Arc::new(Receiver {
            failing: Mutex::new(failing),
            ..Receiver::default()
        });
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(r.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (r, url)
    }

    pub(crate) fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }

    fn set_failing(&self, n: i64) {
        *self.failing.lock().unwrap() = n;
    }
}

async fn receive(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: String) -> StatusCode {
    r.got.lock().unwrap().push((headers, body));
    let mut failing = r.failing.lock().unwrap();
    if *failing != 0 {
        if *failing > 0 {
            *failing -= 1;
        }
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    StatusCode::NO_CONTENT
}

pub(crate) fn settings(url: &str, max_attempts: u32) -> WebSettings {
    let hooks = Webhook::from_configs(&[WebhookConfig {
        name: "ops".into(),
        url: url.into(),
        format: None,
        events: None,
        secret: Some(SecretString::from(SECRET)),
    }])
    .unwrap();
    WebSettings {
        webhooks: hooks,
        webhook_delivery: DeliveryOptions {
            poll: Duration::from_millis(30),
            backoff: Duration::from_millis(30),
            max_backoff: Duration::from_millis(200),
            max_attempts,
            timeout: Duration::from_secs(5),
        },
        ..WebSettings::default()
    }
}

/// What a receiver does: recompute the signature over the raw body with the shared secret.
pub(crate) fn signature_is_valid(headers: &HeaderMap, body: &str) -> bool {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{}.{body}", header("x-natpilot-timestamp")).as_bytes());
    let expected = format!("v1={}", hex::encode(mac.finalize().into_bytes()));
    header("x-natpilot-signature") == expected
}

async fn rolled_back_run(app: &TestApp, olga: &mut Browser) -> String {
    let id = start_run(app, olga).await;
    olga.post(&format!("/runs/{id}/rollback"), &[]).await;
    app.settle(&id).await;
    id
}

#[tokio::test]
async fn a_rolled_back_run_is_announced_once_with_a_signature_the_receiver_verifies() {
    let (receiver, url) = Receiver::start(0).await;
    let app = TestApp::start_with(settings(&url, 3)).await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = rolled_back_run(&app, &mut olga).await;
    until("the webhook delivery", || async { receiver.count() >= 1 }).await;
    let (headers, body) = receiver.got.lock().unwrap()[0].clone();
    assert!(signature_is_valid(&headers, &body), "{headers:?}");
    assert_eq!(headers["x-natpilot-event"], "run.rolled_back");
    let n: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(n["run_id"], id.as_str());
    assert_eq!(n["vpc_id"], "vpc-tut0rial");
    assert_eq!(n["path"], format!("/runs/{id}"));
    // A tampered body no longer matches.
    assert!(!signature_is_valid(
        &headers,
        &body.replace("rolled", "rolleD")
    ));
    let mut admin = app.signed_in("root", Role::Admin).await;
    let page = admin.get("/admin/webhooks").await;
    assert_eq!(
        page.texts("#deliveries-table tbody tr[data-state=delivered]")
            .len(),
        1
    );
    // The page never shows the webhook's full URL.
    assert!(
        !page.body.contains("/hook"),
        "{}",
        page.text("#webhooks-table")
    );
}

#[tokio::test]
async fn a_failing_receiver_gets_retries_then_a_dead_letter_that_an_admin_sends_again() {
    // Fails twice, then accepts: delivered on the third attempt.
    let (receiver, url) = Receiver::start(2).await;
    let app = TestApp::start_with(settings(&url, 3)).await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    rolled_back_run(&app, &mut olga).await;
    until("three attempts", || async { receiver.count() >= 3 }).await;
    let store = app.store().clone();
    let delivered = || async {
        let d = natpilot::store::notifications::recent(store.readers(), 10)
            .await
            .unwrap();
        d.len() == 1 && d[0].state == "delivered" && d[0].attempts == 3
    };
    until("delivered after two failures", delivered).await;

    // Always failing: dead after three attempts, then sent again from the admin page.
    receiver.set_failing(-1);
    rolled_back_run(&app, &mut olga).await;
    let dead = || async {
        natpilot::store::notifications::recent(store.readers(), 10)
            .await
            .unwrap()
            .iter()
            .any(|d| d.state == "dead" && d.attempts == 3)
    };
    until("a dead delivery", dead).await;
    let mut admin = app.signed_in("root", Role::Admin).await;
    let page = admin.get("/admin/webhooks").await;
    let row = "#deliveries-table tbody tr[data-state=dead]";
    assert!(page.text(row).contains("HTTP 503"), "{}", page.text(row));
    let id = page.attr(row, "data-delivery-id").unwrap();
    receiver.set_failing(0);
    let done = admin
        .post(&format!("/admin/webhooks/deliveries/{id}/retry"), &[])
        .await;
    assert_eq!(
        done.location().as_deref(),
        Some("/admin/webhooks?done=retry")
    );
    let again = || async {
        natpilot::store::notifications::recent(store.readers(), 10)
            .await
            .unwrap()
            .iter()
            .all(|d| d.state == "delivered")
    };
    until("the dead letter delivered", again).await;
    assert_eq!(app.audited("webhook.retry").await.len(), 1);
    // Only a dead delivery can be sent again.
    let twice = admin
        .post(&format!("/admin/webhooks/deliveries/{id}/retry"), &[])
        .await;
    assert_eq!(twice.status, reqwest::StatusCode::CONFLICT);
}

async fn process(
    db: &natpilot::store::Database,
    sim: &RunningSim,
    settings: WebSettings,
) -> RunningApp {
    let store = Store::connect(db).await.unwrap();
    let h = sim.handle();
    let client = Client::for_endpoint(&sim.endpoint(), h.secret_id(), h.secret_key()).unwrap();
    app::spawn(AppConfig {
        client,
        listener: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        metrics_listener: None,
        store,
        settings,
        tls: None,
        engine: Default::default(),
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_delivery_left_pending_by_a_stopped_portal_is_sent_by_the_next_one() {
    let (receiver, url) = Receiver::start(-1).await;
    let app = TestApp::start_with(settings(&url, 50)).await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    rolled_back_run(&app, &mut olga).await;
    until("a failed attempt", || async { receiver.count() >= 1 }).await;
    let (first, sim, database, _dir) = app.into_parts();
    first.shutdown().await;
    let seen = receiver.count();
    receiver.set_failing(0);
    let second = process(&database, &sim, settings(&url, 50)).await;
    let store = second.state.store.clone();
    let delivered = || async {
        natpilot::store::notifications::recent(store.readers(), 10)
            .await
            .unwrap()
            .iter()
            .all(|d| d.state == "delivered")
    };
    until("delivered by the next process", delivered).await;
    assert!(receiver.count() > seen);
    let (headers, body) = receiver.got.lock().unwrap().last().unwrap().clone();
    assert!(signature_is_valid(&headers, &body));
}
