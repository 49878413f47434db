//! `--tls-cert`/`--tls-key`: the portal serves HTTPS itself, with HSTS and `Secure` cookies.

use natpilot::{
    app::{self, AppConfig},
    config::SecurityConfig,
    sim::SimConfig,
    tencent::Client,
    web::{
        settings::{CloudLabel, WebSettings},
        tls::TlsFiles,
    },
};

#[tokio::test]
async fn the_portal_serves_https_with_hsts_and_secure_cookies() {
    let dir = tempfile::tempdir().unwrap();
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();

    let sim = natpilot::sim::spawn(SimConfig::for_tests()).await.unwrap();
    let h = sim.handle();
    let settings = WebSettings::from_config(
        &SecurityConfig::default(),
        CloudLabel::Simulated {
            region: "ap-guangzhou".into(),
        },
        true,
    );
    let running = app::spawn(AppConfig {
        client: Client::for_endpoint(&sim.endpoint(), h.secret_id(), h.secret_key()).unwrap(),
        listener: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        metrics_listener: None,
        store: natpilot::store::test_store::open(dir.path()).await.unwrap(),
        settings,
        tls: Some(TlsFiles { cert, key }),
        engine: Default::default(),
    })
    .await
    .unwrap();
    assert!(running.url("/").starts_with("https://"));

    let trusted = reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap();
    let https = reqwest::Client::builder()
        .add_root_certificate(trusted)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let health = https.get(running.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let hsts = health.headers()["strict-transport-security"]
        .to_str()
        .unwrap();
    assert!(hsts.contains("max-age="), "{hsts}");

    let login = https.get(running.url("/login")).send().await.unwrap();
    let cookie = login.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");

    // Plain HTTP to the TLS port gets no page.
    let plain = running.url("/healthz").replacen("https://", "http://", 1);
    let answer = reqwest::Client::new().get(plain).send().await;
    assert!(answer.is_err() || !answer.unwrap().status().is_success());
}
