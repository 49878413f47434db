//! The simulated shell behind TAT RunCommand: it understands exactly one thing, fetching the
//! caller's IP from an IP-echo service with `curl` or `wget` (reference §5.3), and answers
//! as those tools do: the egress IP and a newline, exit 0; no path out → curl exit 28
//! (timeout) / wget exit 4 (network failure), no output. Anything else fails with a message
//! that says what the simulator can run.

use super::World;
use super::egress::ECHO_SERVICES;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellOutcome {
    pub exit_code: i64,
    pub output: Vec<u8>,
}

/// Hosts (and paths) of echo services, e.g. `ipinfo.io/ip`; a bare `/` is always fine.
fn echo_destination(token: &str) -> Option<&'static str> {
    let token = token.trim_matches(|c| c == '"' || c == '\'');
    let rest = token
        .strip_prefix("https://")
        .or_else(|| token.strip_prefix("http://"))
        .unwrap_or(token);
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (_, ip) = ECHO_SERVICES.iter().find(|(h, _)| *h == host)?;
    let path_ok = matches!(path, "" | "ip") || (host == "ifconfig.me" && path == "ip");
    path_ok.then_some(*ip)
}

impl World {
    /// Runs `script` (already Base64-decoded) on the instance.
    pub fn run_shell(&self, instance_id: &str, script: &str) -> ShellOutcome {
        let line = script.trim();
        let tokens: Vec<&str> = line
            .split_whitespace()
            .filter(|t| !t.starts_with("2>") && *t != ">/dev/null")
            .collect();
        let tool = tokens
            .first()
            .map(|t| t.rsplit('/').next().unwrap_or(t))
            .unwrap_or("");
        let has_control = line.contains(['|', ';', '&', '`', '$', '\n']);
        let destination = match (tool, has_control) {
            ("curl" | "wget", false) => tokens[1..].iter().find_map(|t| echo_destination(t)),
            _ => None,
        };
        let Some(destination) = destination else {
            return unsupported(line);
        };
        match self.egress_ip(instance_id, destination) {
            Some(ip) => ShellOutcome {
                exit_code: 0,
                output: format!("{ip}\n").into_bytes(),
            },
            None => ShellOutcome {
                exit_code: if tool == "wget" { 4 } else { 28 },
                output: Vec::new(),
            },
        }
    }
}

fn unsupported(line: &str) -> ShellOutcome {
    let hosts: Vec<&str> = ECHO_SERVICES.iter().map(|(h, _)| *h).collect();
    ShellOutcome {
        exit_code: 127,
        output: format!(
            "natpilot sim: cannot run `{line}`: the simulated shell only runs a single `curl` or \
             `wget` against an IP-echo service ({}), e.g. `curl -s --max-time 10 ifconfig.co`\n",
            hosts.join(", ")
        )
        .into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::echo_destination;

    #[test]
    fn echo_destinations_accept_bare_hosts_urls_and_the_ip_path() {
        assert!(echo_destination("ifconfig.co").is_some());
        assert!(echo_destination("https://api.ipify.org").is_some());
        assert!(echo_destination("'ipinfo.io/ip'").is_some());
        assert!(echo_destination("example.com").is_none());
        assert!(echo_destination("ifconfig.co/json").is_none());
    }
}
