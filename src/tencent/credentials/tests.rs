//! The credential chain with an injected environment and home directory.

use std::path::Path;

use secrecy::ExposeSecret;

use super::*;

struct Home(tempfile::TempDir);

impl Home {
    fn new() -> Home {
        Home(tempfile::tempdir().unwrap())
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
    fn write(&self, rel: &str, content: &str) -> &Home {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
        self
    }
    fn tccli(&self, profile: &str, id: &str, key: &str) -> &Home {
        self.write(
            &format!(".tccli/{profile}.credential"),
            &format!(r#"{{"secretId": "{id}", "secretKey": "{key}"}}"#),
        )
    }
    fn chain(&self, env: &[(&str, &str)]) -> CredentialChain {
        CredentialChain {
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            home: Some(self.path().to_owned()),
            ..CredentialChain::default()
        }
    }
}

async fn resolve(chain: &CredentialChain) -> (Credentials, CredentialSource, Option<String>) {
    let resolved = chain.resolve().await.unwrap();
    let creds = resolved.provider.get().await.unwrap();
    (creds, resolved.provider.source().clone(), resolved.region)
}

const ENV_KEYS: [(&str, &str); 2] = [
    ("TENCENTCLOUD_SECRET_ID", "AKIDfromenv0000"),
    ("TENCENTCLOUD_SECRET_KEY", "env-secret"),
];

#[tokio::test]
async fn environment_wins_over_the_default_tccli_profile() {
    let home = Home::new();
    home.tccli("default", "AKIDfromprofile", "profile-secret");
    let (creds, source, _) = resolve(&home.chain(&ENV_KEYS)).await;
    assert_eq!(creds.secret_id, "AKIDfromenv0000");
    assert_eq!(source, CredentialSource::Environment);
}

#[tokio::test]
async fn explicit_configuration_wins_over_everything() {
    let home = Home::new();
    home.tccli("default", "AKIDfromprofile", "profile-secret");
    let mut chain = home.chain(&ENV_KEYS);
    chain.explicit_secret_id = Some("AKIDfromconfig".into());
    chain.explicit_secret_key = Some("config-secret".into());
    let (creds, source, _) = resolve(&chain).await;
    assert_eq!(creds.secret_id, "AKIDfromconfig");
    assert_eq!(source, CredentialSource::Config);
}

#[tokio::test]
async fn env_token_and_region_are_picked_up_from_any_documented_name() {
    let home = Home::new();
    for var in [
        "TENCENTCLOUD_TOKEN",
        "TENCENTCLOUD_SECURITY_TOKEN",
        "TENCENTCLOUD_SESSION_TOKEN",
    ] {
        let mut env = ENV_KEYS.to_vec();
        env.push((var, "sts-token"));
        env.push(("TENCENTCLOUD_REGION", "ap-shanghai"));
        let (creds, _, region) = resolve(&home.chain(&env)).await;
        assert_eq!(creds.token.unwrap().expose_secret(), "sts-token", "{var}");
        assert_eq!(region.as_deref(), Some("ap-shanghai"));
    }
}

#[tokio::test]
async fn tccli_profile_is_selected_by_flag_then_tccli_profile_variable_then_default() {
    let home = Home::new();
    home.tccli("default", "AKIDdefault", "k1")
        .tccli("prod", "AKIDprod", "k2")
        .tccli("staging", "AKIDstaging", "k3")
        .write(
            ".tccli/prod.configure",
            r#"{"_sys_param": {"region": "ap-beijing"}}"#,
        );

    let (creds, source, region) = resolve(&home.chain(&[])).await;
    assert_eq!(creds.secret_id, "AKIDdefault");
    assert!(
        matches!(source, CredentialSource::TccliProfile { ref profile, .. } if profile == "default")
    );
    assert_eq!(region, None);

    let (creds, _, _) = resolve(&home.chain(&[("TCCLI_PROFILE", "staging")])).await;
    assert_eq!(creds.secret_id, "AKIDstaging");

    let mut chain = home.chain(&[("TCCLI_PROFILE", "staging")]);
    chain.profile = Some("prod".into());
    let (creds, _, region) = resolve(&chain).await;
    assert_eq!(creds.secret_id, "AKIDprod");
    assert_eq!(region.as_deref(), Some("ap-beijing"));
}

#[tokio::test]
async fn a_profile_chosen_by_flag_wins_over_the_environment_like_tccli() {
    let home = Home::new();
    home.tccli("prod", "AKIDprod", "k2");
    let mut chain = home.chain(&ENV_KEYS);
    chain.profile = Some("prod".into());
    let (creds, _, _) = resolve(&chain).await;
    assert_eq!(creds.secret_id, "AKIDprod");
}

#[tokio::test]
async fn a_missing_profile_chosen_by_flag_is_an_error_naming_the_file() {
    let home = Home::new();
    let mut chain = home.chain(&ENV_KEYS);
    chain.profile = Some("nope".into());
    let err = chain.resolve().await.unwrap_err().to_string();
    assert!(err.contains("nope.credential"), "{err}");
}

#[tokio::test]
async fn a_malformed_profile_file_names_the_file_the_key_and_the_expectation() {
    let home = Home::new();
    home.write(
        ".tccli/default.credential",
        r#"{"secretId": 42, "secretKey": "k"}"#,
    );
    let err = home.chain(&[]).resolve().await.unwrap_err().to_string();
    assert!(err.contains("default.credential"), "{err}");
    assert!(err.contains("secretId"), "{err}");
    assert!(
        err.contains("a number") && err.contains("expected a string"),
        "{err}"
    );

    home.write(".tccli/default.credential", "{not json");
    let err = home.chain(&[]).resolve().await.unwrap_err().to_string();
    assert!(err.contains("not valid JSON"), "{err}");

    home.write(".tccli/default.credential", r#"{"secretId": "AKID"}"#);
    let err = home.chain(&[]).resolve().await.unwrap_err().to_string();
    assert!(
        err.contains("secretKey") && err.contains("missing"),
        "{err}"
    );
}

#[tokio::test]
async fn a_malformed_configure_file_names_the_region_key() {
    let home = Home::new();
    home.tccli("default", "AKIDdefault", "k1").write(
        ".tccli/default.configure",
        r#"{"_sys_param": {"region": 7}}"#,
    );
    let err = home.chain(&[]).resolve().await.unwrap_err().to_string();
    assert!(
        err.contains("_sys_param.region") && err.contains("default.configure"),
        "{err}"
    );
}

#[tokio::test]
async fn half_a_key_pair_in_the_environment_is_an_error_not_a_fallthrough() {
    let home = Home::new();
    home.tccli("default", "AKIDdefault", "k1");
    let err = home
        .chain(&[("TENCENTCLOUD_SECRET_ID", "AKIDx")])
        .resolve()
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("TENCENTCLOUD_SECRET_KEY"), "{err}");
}

#[tokio::test]
async fn the_shared_ini_file_is_used_after_the_tccli_profile() {
    let home = Home::new();
    home.write(
        ".tencentcloud/credentials",
        "[default]\nsecret_id = AKIDini\nsecret_key = ini-secret\n",
    );
    let (creds, source, _) = resolve(&home.chain(&[])).await;
    assert_eq!(creds.secret_id, "AKIDini");
    assert!(matches!(
        source,
        CredentialSource::SharedCredentialsFile { .. }
    ));

    home.write(
        ".tencentcloud/credentials",
        "[default]\nsecret_id = AKIDini\n",
    );
    let err = home.chain(&[]).resolve().await.unwrap_err().to_string();
    assert!(err.contains("[default] secret_key"), "{err}");
}

#[tokio::test]
async fn with_no_source_at_all_the_error_lists_every_source_tried_and_how_to_configure() {
    let home = Home::new();
    let err = home.chain(&[]).resolve().await.unwrap_err();
    let CredentialError::NotFound { tried } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(tried.len(), 5, "{tried:?}");
    let text = err.to_string();
    for needle in [
        "configuration",
        "TENCENTCLOUD_SECRET_ID",
        "tccli profile `default`",
        ".tencentcloud/credentials",
        "CVM role",
        "tccli configure set",
    ] {
        assert!(text.contains(needle), "missing {needle}: {text}");
    }
}

/// A metadata service whose credentials expire `lifetime_secs` after each fetch; counts fetches.
async fn metadata_stub(lifetime_secs: i64) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use axum::routing::get;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = fetches.clone();
    let app = axum::Router::new()
        .route(
            "/latest/meta-data/cam/security-credentials/",
            get(|| async { "natpilot-role" }),
        )
        .route(
            "/latest/meta-data/cam/security-credentials/natpilot-role",
            get(move || async move {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                let expires = chrono::Utc::now().timestamp() + lifetime_secs;
                axum::Json(serde_json::json!({
                    "TmpSecretId": format!("AKIDtmp{n}"), "TmpSecretKey": "tmp-secret",
                    "Token": "tmp-token", "ExpiredTime": expires, "Expiration": "", "Code": "Success"
                }))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, fetches)
}

#[tokio::test]
async fn the_cvm_role_is_used_when_nothing_else_is_configured() {
    let (url, _) = metadata_stub(3600).await;
    let home = Home::new();
    let mut chain = home.chain(&[]);
    chain.metadata_url = Some(url);
    let (creds, source, _) = resolve(&chain).await;
    assert_eq!(creds.secret_id, "AKIDtmp0");
    assert_eq!(creds.token.unwrap().expose_secret(), "tmp-token");
    assert_eq!(
        source,
        CredentialSource::CvmRole {
            role: "natpilot-role".into()
        }
    );
}

#[tokio::test]
async fn cvm_role_credentials_are_cached_and_refreshed_within_five_minutes_of_expiry() {
    use std::sync::atomic::Ordering;
    let (url, fetches) = metadata_stub(3600).await;
    let role = CvmRole::discover(&url).await.unwrap().unwrap();
    role.current().await.unwrap();
    role.current().await.unwrap();
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        1,
        "long-lived keys are reused"
    );

    let (url, fetches) = metadata_stub(200).await;
    let role = CvmRole::discover(&url).await.unwrap().unwrap();
    let first = role.current().await.unwrap();
    let second = role.current().await.unwrap();
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        2,
        "keys expiring in < 300 s are renewed"
    );
    assert_ne!(first.secret_id, second.secret_id);
}

#[test]
fn debug_and_display_of_credentials_never_show_the_secret_key_or_token() {
    let creds = Credentials::new("AKIDabcdefghijklmnop1234", "very-secret-key")
        .with_token("very-secret-token");
    let provider = CredentialsProvider::fixed(creds.clone(), CredentialSource::Environment);
    let shown = format!("{creds:?} {creds} {provider:?} {}", provider.source());
    assert!(!shown.contains("very-secret"), "{shown}");
    assert!(
        !shown.contains("abcdefghijklmnop"),
        "SecretId should be masked: {shown}"
    );
    assert!(shown.contains("AKID…1234"), "{shown}");
}

#[tokio::test]
async fn a_profile_or_file_named_in_the_environment_must_exist_and_only_nothing_at_all_means_not_found()
 {
    let home = Home::new();
    let missing_profile = home
        .chain(&[("TCCLI_PROFILE", "prod")])
        .resolve()
        .await
        .unwrap_err();
    assert!(!missing_profile.nothing_configured(), "{missing_profile}");
    assert!(missing_profile.to_string().contains("prod.credential"));

    let file = home.path().join("nope.ini");
    let missing_file = home
        .chain(&[("TENCENTCLOUD_CREDENTIALS_FILE", file.to_str().unwrap())])
        .resolve()
        .await
        .unwrap_err();
    assert!(!missing_file.nothing_configured(), "{missing_file}");
    assert!(missing_file.to_string().contains("nope.ini"));

    let token_only = home
        .chain(&[("TENCENTCLOUD_SECURITY_TOKEN", "t")])
        .resolve()
        .await
        .unwrap_err();
    assert!(!token_only.nothing_configured(), "{token_only}");

    let mut flag = home.chain(&[]);
    flag.profile = Some("nope".into());
    assert!(!flag.resolve().await.unwrap_err().nothing_configured());

    assert!(
        home.chain(&[])
            .resolve()
            .await
            .unwrap_err()
            .nothing_configured()
    );
}
