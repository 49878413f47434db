//! Tracing set-up: readable lines by default, JSON with `--log-format json`; verbosity from
//! `RUST_LOG` (default `info`). Tests stay silent unless `TEST_LOG` is set.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

const DEFAULT_FILTER: &str = "info";

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER))
}

/// Installs the global subscriber. Logs go to stderr so command output on stdout stays clean.
pub fn init(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(std::io::stderr);
    // `try_init`: a second call (e.g. a test harness) keeps the first subscriber.
    let _ = match format {
        LogFormat::Readable => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// For tests: logs only when `TEST_LOG` is set, through the test writer so cargo captures them.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_test_writer()
            .try_init();
    }
}
