//! An egress test result in plain words for the operator ("no way out to the internet (curl
//! exit 28, timed out)"), instead of the TAT status and exit code as the cloud reports them.

/// What a few curl exit codes mean (curl's man page, EXIT CODES).
fn curl_exit(code: u32) -> Option<&'static str> {
    Some(match code {
        5 => "could not resolve the proxy",
        6 => "could not resolve the host name",
        7 => "could not connect",
        28 => "timed out",
        35 => "TLS handshake failed",
        52 => "empty reply",
        56 => "connection broken while receiving",
        _ => return None,
    })
}

/// The number after "exit code" in a TAT result detail (`FAILED, exit code 28: …`).
fn exit_code(detail: &str) -> Option<u32> {
    let rest = detail.split("exit code").nth(1)?.trim_start();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// A failed test (it ran, but printed no IP).
pub fn failed(detail: &str) -> String {
    if let Some(printed) = detail.strip_prefix("printed ") {
        return format!("no way out to the internet (the test printed {printed})");
    }
    match exit_code(detail) {
        Some(0) | None if detail.starts_with("TIMEOUT") => {
            "no way out to the internet (the test timed out)".into()
        }
        Some(code) => match curl_exit(code) {
            Some(why) => format!("no way out to the internet (curl exit {code}, {why})"),
            None => format!("no way out to the internet (curl exit {code})"),
        },
        None if detail.is_empty() => "no way out to the internet".into(),
        None => format!("no way out to the internet ({detail})"),
    }
}

/// A test that could not run (agent offline, instance stopped, TAT refused).
pub fn untestable(detail: &str) -> String {
    let why = match detail {
        "TAT agent offline" => "its TAT agent is offline".to_owned(),
        "instance not found" => "the instance was not found".to_owned(),
        d if d.starts_with("instance is ") => {
            format!(
                "the instance is {}",
                d["instance is ".len()..].to_lowercase()
            )
        }
        d if d.starts_with("ResourceUnavailable.") => format!("TAT could not reach it ({d})"),
        "" => "no reason given".to_owned(),
        d => d.to_owned(),
    };
    format!("not tested: {why}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_output_reads_as_words() {
        assert_eq!(
            failed("FAILED, exit code 28"),
            "no way out to the internet (curl exit 28, timed out)"
        );
        assert_eq!(
            failed("FAILED, exit code 99: boom"),
            "no way out to the internet (curl exit 99)"
        );
        assert_eq!(
            failed("printed \"<html>\", not an IP address"),
            "no way out to the internet (the test printed \"<html>\", not an IP address)"
        );
        assert_eq!(
            failed("TIMEOUT, exit code 0"),
            "no way out to the internet (the test timed out)"
        );
        assert_eq!(
            untestable("TAT agent offline"),
            "not tested: its TAT agent is offline"
        );
        assert_eq!(
            untestable("instance is STOPPED"),
            "not tested: the instance is stopped"
        );
    }
}
