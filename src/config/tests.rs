use std::io::Write;

use secrecy::ExposeSecret;

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn toml_file(content: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    f.write_all(content.as_bytes()).unwrap();
    f
}

#[test]
fn defaults_apply_when_no_layer_sets_anything() {
    let config = Config::load_from(None, env(&[]), &Overrides::default()).unwrap();
    assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(
        config.server.database,
        crate::store::Database::Sqlite(PathBuf::from("./natpilot.db"))
    );
    assert_eq!(config.server.metrics_listen, None);
    assert_eq!(config.server.log_format, LogFormat::Readable);
    assert_eq!(config.tencent.language, "en-US");
    assert!(config.tencent.secret_key.is_none());
}

#[test]
fn env_overrides_file_and_flags_override_env() {
    let file = toml_file(
        "[server]\nlisten = \"0.0.0.0:9000\"\ndatabase = \"/tmp/a.db\"\n\
         [tencent]\nregion = \"ap-beijing\"\n",
    );
    let vars = env(&[
        ("NATPILOT_SERVER__LISTEN", "0.0.0.0:9100"),
        ("NATPILOT_TENCENT__REGION", "ap-shanghai"),
        ("NATPILOT_TENCENT__SECRET_KEY", "file-secret"),
        ("UNRELATED", "x"),
    ]);
    let mut flags = Overrides::default();
    flags.set("tencent.region", Some("ap-singapore"));
    let config = Config::load_from(Some(file.path()), vars, &flags).unwrap();
    assert_eq!(config.server.listen.to_string(), "0.0.0.0:9100");
    assert_eq!(
        config.server.database,
        crate::store::Database::Sqlite(PathBuf::from("/tmp/a.db"))
    );
    assert_eq!(config.tencent.region.as_deref(), Some("ap-singapore"));
    assert_eq!(
        config.tencent.secret_key.unwrap().expose_secret(),
        "file-secret"
    );
}

#[test]
fn a_bad_value_in_the_file_names_the_key_and_the_file() {
    let file = toml_file("[server]\nlisten = \"not-an-address\"\n");
    let err = Config::load_from(Some(file.path()), env(&[]), &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("server.listen"), "{err}");
    // figment names the file relative to the working directory when it can (a checkout
    // under the temp directory sees `../.tmpXXXX.toml`), so the file's name is what is checked.
    let name = file.path().file_name().unwrap().to_string_lossy();
    assert!(err.contains(&*name), "{err}");
}

#[test]
fn an_unknown_key_in_the_file_is_rejected_by_name() {
    let file = toml_file("[tencent]\nsecretid = \"AKID\"\n");
    let err = Config::load_from(Some(file.path()), env(&[]), &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("secretid"), "{err}");
}

#[test]
fn a_bad_endpoint_in_the_environment_names_the_variable() {
    let vars = env(&[("NATPILOT_TENCENT__ENDPOINT", "127.0.0.1:9000")]);
    let err = Config::load_from(None, vars, &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("NATPILOT_TENCENT__ENDPOINT"), "{err}");
    assert!(err.contains("http://"), "{err}");
}

#[test]
fn a_missing_config_file_given_explicitly_is_an_error() {
    let err = Config::load_from(
        Some(Path::new("/nonexistent/natpilot.toml")),
        env(&[]),
        &Overrides::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("/nonexistent/natpilot.toml"), "{err}");
}

#[test]
fn debug_of_a_config_never_shows_the_secret_key_or_token() {
    let vars = env(&[
        ("NATPILOT_TENCENT__SECRET_KEY", "sk-very-secret"),
        ("NATPILOT_TENCENT__TOKEN", "sts-very-secret"),
    ]);
    let config = Config::load_from(None, vars, &Overrides::default()).unwrap();
    let shown = format!("{config:?}");
    assert!(!shown.contains("very-secret"), "{shown}");
}

#[test]
fn the_example_config_file_loads() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("natpilot.example.toml");
    Config::load_from(Some(&example), env(&[]), &Overrides::default()).unwrap();
}

#[test]
fn engine_pacing_defaults_and_overrides() {
    let config = Config::load_from(None, env(&[]), &Overrides::default()).unwrap();
    let poll = config.engine.poll();
    assert_eq!(
        (poll.first.as_millis(), poll.max.as_secs()),
        (250, 5),
        "the defaults are the documented ones"
    );
    assert_eq!(config.engine.retire_concurrency, 64);

    let file = toml_file("[engine]\npoll_first_ms = 500\npoll_max_secs = 30\n");
    let vars = env(&[("NATPILOT_ENGINE__RETIRE_CONCURRENCY", "8")]);
    let config = Config::load_from(Some(file.path()), vars, &Overrides::default()).unwrap();
    let poll = config.engine.poll();
    assert_eq!((poll.first.as_millis(), poll.max.as_secs()), (500, 30));
    assert_eq!(config.engine.retire_concurrency, 8);
}

#[test]
fn engine_pacing_out_of_range_names_the_key_and_the_allowed_values() {
    let file = toml_file("[engine]\nretire_concurrency = 0\n");
    let err = Config::load_from(Some(file.path()), env(&[]), &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("engine.retire_concurrency"), "{err}");
    assert!(err.contains("use 1 to 1000"), "{err}");
    let vars = env(&[("NATPILOT_ENGINE__POLL_FIRST_MS", "1")]);
    let err = Config::load_from(None, vars, &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("NATPILOT_ENGINE__POLL_FIRST_MS"), "{err}");
    assert!(err.contains("10 to 60000 milliseconds"), "{err}");
}

#[test]
fn the_run_lease_defaults_to_15_seconds_renewed_every_5_and_is_range_checked() {
    let config = Config::load_from(None, env(&[]), &Overrides::default()).unwrap();
    let lease = config.engine.lease();
    assert_eq!((lease.ttl.as_secs(), lease.renew_every.as_secs()), (15, 5));

    let file = toml_file("[engine]\nlease_secs = 6\n");
    let config = Config::load_from(Some(file.path()), env(&[]), &Overrides::default()).unwrap();
    let lease = config.engine.lease();
    assert_eq!((lease.ttl.as_secs(), lease.renew_every.as_secs()), (6, 2));

    let vars = env(&[("NATPILOT_ENGINE__LEASE_SECS", "1")]);
    let err = Config::load_from(None, vars, &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("NATPILOT_ENGINE__LEASE_SECS"), "{err}");
    assert!(err.contains("use 3 to 600 seconds"), "{err}");
}

#[test]
fn webhooks_load_from_the_file_and_their_secret_stays_out_of_debug() {
    let file = toml_file(
        r#"
[[webhooks]]
name = "ops-chat"
url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=TOKEN"
format = "wecom"
events = ["step.failed"]

[[webhooks]]
name = "audit-sink"
url = "https://hooks.example.com/natpilot"
secret = "whsec-file-secret"
"#,
    );
    let config = Config::load_from(Some(file.path()), env(&[]), &Overrides::default()).unwrap();
    let hooks = crate::notify::Webhook::from_configs(&config.webhooks).unwrap();
    assert_eq!(
        hooks.iter().map(|h| h.name.as_str()).collect::<Vec<_>>(),
        ["ops-chat", "audit-sink"]
    );
    assert!(!format!("{config:?}{hooks:?}").contains("whsec-file-secret"));
    let bad =
        toml_file("[[webhooks]]\nname = \"x\"\nurl = \"https://h.example/\"\nformat = \"teams\"\n");
    let config = Config::load_from(Some(bad.path()), env(&[]), &Overrides::default()).unwrap();
    let err = crate::notify::Webhook::from_configs(&config.webhooks).unwrap_err();
    assert!(err.starts_with("webhooks[0] \"x\": format"), "{err}");
}

#[test]
fn a_postgres_url_is_the_database_and_is_never_echoed() {
    let file = toml_file("[server]\ndatabase = \"postgres://np:hunter2@db.internal/natpilot\"\n");
    let config = Config::load_from(Some(file.path()), env(&[]), &Overrides::default()).unwrap();
    assert!(config.server.database.is_postgres());
    assert_eq!(
        config.server.database.to_string(),
        "postgres://np@db.internal:5432/natpilot"
    );
    // The whole configuration as a log line would print it: no password.
    assert!(!format!("{config:?}").contains("hunter2"));
    // From the environment, which is where a password belongs.
    let vars = env(&[(
        "NATPILOT_SERVER__DATABASE",
        "postgresql://x:hunter2@h:6000/d",
    )]);
    let config = Config::load_from(None, vars, &Overrides::default()).unwrap();
    assert_eq!(config.server.database.to_string(), "postgres://x@h:6000/d");
}

#[test]
fn a_database_url_natpilot_cannot_use_is_refused_without_echoing_it() {
    for (value, says) in [
        ("sqlite:///var/lib/natpilot.db", "without `sqlite://`"),
        (
            "mysql://u:hunter2@db.internal/natpilot",
            "not a database natpilot can use",
        ),
        ("postgres://u:hunter2@db.internal", "names no database"),
    ] {
        let file = toml_file(&format!("[server]\ndatabase = \"{value}\"\n"));
        let err = Config::load_from(Some(file.path()), env(&[]), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("database"), "{err}");
        assert!(err.contains(says), "{value}: {err}");
        // The URL's password (or anything after the scheme) never reaches the message.
        assert!(!err.contains("hunter2"), "{err}");
        assert!(!err.contains("db.internal"), "{err}");
    }
    let file = toml_file("[server]\ndatabase = \" \"\n");
    let err = Config::load_from(Some(file.path()), env(&[]), &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("empty"), "{err}");
}
