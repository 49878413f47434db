//! The signals that ask `natpilot serve` to shut down gracefully: SIGTERM (service managers,
//! `docker stop`, `kill`) and Ctrl-C (SIGINT).

/// Completes when the process is asked to stop; logs which signal it was.
pub(super) async fn shutdown_requested() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            // Without a handler Ctrl-C still ends the process (abruptly); wait for SIGTERM.
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    let which = tokio::select! {
        () = ctrl_c => "Ctrl-C",
        () = terminate => "SIGTERM",
    };
    tracing::info!(
        signal = which,
        "shutting down: no new requests; running jobs stop at their next recorded change"
    );
    println!(
        "natpilot: {which}: shutting down (running jobs stop at their next recorded change and resume at the next start)"
    );
}
