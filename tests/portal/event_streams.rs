//! Issue 10, defect 6: a run's live event stream ends once the session that opened it has
//! ended (sign-out, user disabled, password reset), not only when it opens.

use std::time::Duration;

use natpilot::{
    store::users::Role,
    web::accounts::{self, Actor},
};
use reqwest::{StatusCode, header};
use secrecy::SecretString;

use crate::harness::{Browser, TestApp};
use crate::wizard::start;

/// How long a stream may outlive its session: the stream re-checks every 2 s; the rest is
/// room for a loaded 2-core machine.
const BUDGET: Duration = Duration::from_secs(30);

const SHELL: Actor<'static> = Actor {
    name: "shell:test",
    ip: "",
};

/// Opens `/runs/{id}/events` as `b` and reads until the first fragment has arrived.
async fn open_stream(b: &Browser, id: &str) -> reqwest::Response {
    let mut resp = reqwest::Client::new()
        .get(b.url(&format!("/runs/{id}/events?after=0")))
        .header(header::COOKIE, b.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut seen = String::new();
    // The first message is the run's live fragment as it stands.
    while !seen.contains("id=\"run-status\"") {
        let chunk = tokio::time::timeout(BUDGET, resp.chunk())
            .await
            .expect("no first message within the budget")
            .unwrap()
            .expect("the stream ended before its first message");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    resp
}

/// Waits for the stream to end (the server closes it); false if it is still open after
/// the budget.
async fn ends_within_budget(mut resp: reqwest::Response) -> bool {
    tokio::time::timeout(BUDGET, async move {
        // Keep-alive comments may still arrive; only the end of the body counts.
        while let Ok(Some(_)) = resp.chunk().await {}
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn an_event_stream_ends_after_its_session_ends() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;

    let mut leaving = app.signed_in("vera", Role::Viewer).await;
    let disabled = app.signed_in("dana", Role::Viewer).await;
    let reset = app.signed_in("rita", Role::Viewer).await;
    let streams = [
        open_stream(&leaving, &id).await,
        open_stream(&disabled, &id).await,
        open_stream(&reset, &id).await,
    ];
    let [left, disabled_stream, reset_stream] = streams;

    leaving.get("/").await;
    assert_eq!(
        leaving.post("/logout", &[]).await.status,
        StatusCode::SEE_OTHER
    );
    accounts::set_disabled(app.store(), &SHELL, "dana", true)
        .await
        .unwrap();
    let new_password = SecretString::from("a brand new passphrase here");
    accounts::reset_password(app.store(), &SHELL, "rita", new_password)
        .await
        .unwrap();

    assert!(ends_within_budget(left).await, "stream outlived a sign-out");
    assert!(
        ends_within_budget(disabled_stream).await,
        "stream outlived disabling its user"
    );
    assert!(
        ends_within_budget(reset_stream).await,
        "stream outlived a password reset"
    );
}

#[tokio::test]
async fn an_event_stream_of_a_live_session_stays_open() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    let mut resp = open_stream(&olga, &id).await;
    // Several session checks pass (2 s each) while the stream is still delivering: a live
    // event arrives after them.
    tokio::time::sleep(Duration::from_secs(5)).await;
    olga.get(&format!("/runs/{id}")).await;
    olga.post(&format!("/runs/{id}/rollback"), &[]).await;
    // The rollback's progress (its end, at least: fragments are coalesced) arrives.
    let mut seen = String::new();
    while !seen.contains("data-status=\"rolled_back\"") {
        let chunk = tokio::time::timeout(BUDGET, resp.chunk())
            .await
            .expect("no live event")
            .unwrap()
            .expect("the stream of a live session ended");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    app.settle(&id).await;
}

/// A waiting run's stream renders only when the run's mark (status, last update, newest
/// event) moves; a change made without an engine event here — another process abandoning the
/// run — still reaches the page, then the stream ends.
#[tokio::test]
async fn a_waiting_runs_stream_still_sees_a_change_no_event_announced() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    let mut resp = open_stream(&olga, &id).await;
    let run: natpilot::store::RunId = id.parse().unwrap();
    natpilot::store::runs::set_status(
        app.store().writer(),
        run,
        natpilot::store::RunStatus::Abandoned,
        natpilot::store::Step::Assess,
        None,
        Some("someone-elsewhere"),
    )
    .await
    .unwrap();
    let mut seen = String::new();
    while !seen.contains("data-status=\"abandoned\"") {
        let chunk = tokio::time::timeout(BUDGET, resp.chunk())
            .await
            .expect("the change did not reach the stream")
            .unwrap()
            .expect("the stream ended before showing the change");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        ends_within_budget(resp).await,
        "the stream of a finished run ends"
    );
}
