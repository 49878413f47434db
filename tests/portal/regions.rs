//! Issue 10, defect 8: a region is a region name or nothing. `x@127.0.0.1:PORT/#` on the
//! new-run page is refused with a message, the field keeps what was typed, and no request
//! reaches any host but the configured endpoint, even with region-pinned hosts.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use natpilot::{
    store::{self, users::Role},
    tencent::{
        Client, ClientSettings, CredentialSource, Credentials, CredentialsProvider, Endpoint,
        models::vpc::{DescribeVpcs, DescribeVpcsRequest},
    },
};
use reqwest::StatusCode;

use crate::harness::TestApp;

/// A listener that counts every connection made to it (and drops it at once).
async fn bystander() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(conn);
        }
    });
    (port, hits)
}

fn encode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[tokio::test]
async fn the_new_run_page_refuses_a_region_that_names_a_host() {
    let (port, hits) = bystander().await;
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let evil = format!("x@127.0.0.1:{port}/#");

    let listed = olga
        .get(&format!("/runs/new?region={}", encode(&evil)))
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    let error = listed.text("#new-run-error");
    assert!(error.contains("is not a Tencent Cloud region"), "{error}");
    assert!(
        error.contains("ap-guangzhou"),
        "says what a region looks like: {error}"
    );
    assert_eq!(listed.attr("#region", "value"), Some(evil.clone()));
    assert_eq!(listed.count("#vpcs input[name=vpc_id]"), 0);

    let started = olga
        .post("/runs", &[("region", &evil), ("vpc_id", "vpc-tut0rial")])
        .await;
    assert_eq!(
        started.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        started.body
    );
    assert!(
        started
            .text("#new-run-error")
            .contains("is not a Tencent Cloud region")
    );
    assert_eq!(started.attr("#region", "value"), Some(evil.clone()));
    let runs = store::runs::list(app.store().readers(), &Default::default(), None, 10)
        .await
        .unwrap();
    assert!(runs.runs.is_empty(), "no run was started");
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn the_client_refuses_such_a_region_before_anything_is_sent() {
    let (port, hits) = bystander().await;
    let credentials = CredentialsProvider::fixed(
        Credentials::new("AKIDexample", "secret"),
        CredentialSource::Explicit,
    );
    let client = Client::new(ClientSettings::new(Endpoint::RegionPinned, credentials)).unwrap();
    let evil = format!("x@127.0.0.1:{port}/#");
    let err = client
        .call::<DescribeVpcs>(&evil, &DescribeVpcsRequest::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("is not a Tencent Cloud region"),
        "{err}"
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a request reached another host"
    );
}
