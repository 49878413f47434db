//! `[sim]`: the shape of the portal's embedded simulated cloud (issue 13 item 7), so a team
//! can try natpilot on its own shape of network without running `natpilot sim` beside it.
//! Used only when no Tencent credentials are configured. Checked at start-up: a scenario
//! that does not load stops the portal with the reason, rather than silently falling back to
//! the tutorial.

use std::time::Duration;

use serde::Deserialize;

use super::cli::parse_duration;
use super::config::SimConfig;
use super::scenario::ScenarioSource;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmbeddedSimConfig {
    /// `tutorial` (default), `large`, `conflict`, or a scenario file (.json/.toml), e.g. one
    /// written by `natpilot snapshot`.
    pub scenario: Option<String>,
    /// Instances of the `large` scenario (1–50,000; default 1,000).
    pub instances: Option<usize>,
    /// Length of each asynchronous step, e.g. `2s`, `500ms`, `0s` (default 2s).
    pub async_delay: Option<String>,
    /// Region of the simulated account (default: the scenario's).
    pub region: Option<String>,
}

impl EmbeddedSimConfig {
    /// The embedded simulator's configuration (fresh random keys, as before), or what is
    /// wrong with `[sim]` and how to fix it.
    pub fn to_sim_config(&self) -> anyhow::Result<SimConfig> {
        let name = self.scenario.as_deref().unwrap_or("tutorial").trim();
        anyhow::ensure!(
            !name.is_empty(),
            "[sim] scenario is empty: use tutorial, large, conflict or the path of a scenario file"
        );
        if let Some(n) = self.instances {
            anyhow::ensure!(
                name == "large",
                "[sim] instances = {n} only applies to scenario = \"large\" (scenario is \"{name}\")"
            );
            anyhow::ensure!(
                (1..=super::scenario::large::MAX_INSTANCES).contains(&n),
                "[sim] instances = {n}: the large scenario holds 1 to {} instances",
                super::scenario::large::MAX_INSTANCES
            );
        }
        let async_delay = self.async_delay()?;
        let scenario = ScenarioSource::parse(name, self.instances.unwrap_or(1000));
        // Load it once now so a missing or invalid file is named at start-up.
        scenario
            .load()
            .map_err(|e| anyhow::anyhow!("[sim] scenario = \"{name}\" does not load: {e:#}"))?;
        Ok(SimConfig {
            scenario,
            async_delay,
            region: self.region.clone(),
            ..SimConfig::embedded()
        })
    }

    /// `async_delay` (default 2 s): also the pace of every rehearsal's twin, whichever cloud
    /// the portal manages.
    pub fn async_delay(&self) -> anyhow::Result<Duration> {
        match &self.async_delay {
            Some(text) => {
                parse_duration(text).map_err(|e| anyhow::anyhow!("[sim] async_delay: {e}"))
            }
            None => Ok(Duration::from_secs(2)),
        }
    }

    /// How the start-up notice names the scenario.
    pub fn describe(&self) -> String {
        match (
            self.scenario.as_deref().unwrap_or("tutorial"),
            self.instances,
        ) {
            ("large", n) => format!("large scenario, {} instances", n.unwrap_or(1000)),
            (name @ ("tutorial" | "conflict"), _) => format!("{name} scenario"),
            (file, _) => format!("scenario file {file}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim(
        scenario: Option<&str>,
        instances: Option<usize>,
        delay: Option<&str>,
    ) -> EmbeddedSimConfig {
        EmbeddedSimConfig {
            scenario: scenario.map(str::to_owned),
            instances,
            async_delay: delay.map(str::to_owned),
            region: None,
        }
    }

    #[test]
    fn the_default_is_the_tutorial_with_two_second_steps_and_fresh_keys() {
        let a = sim(None, None, None).to_sim_config().unwrap();
        let b = sim(None, None, None).to_sim_config().unwrap();
        assert!(matches!(a.scenario, ScenarioSource::Tutorial));
        assert_eq!(a.async_delay, Duration::from_secs(2));
        assert_ne!(a.secret_id, b.secret_id, "keys are new at every start");
    }

    #[test]
    fn a_large_scenario_takes_its_size_and_delay() {
        let c = sim(Some("large"), Some(5000), Some("500ms"))
            .to_sim_config()
            .unwrap();
        assert!(matches!(
            c.scenario,
            ScenarioSource::Large { instances: 5000 }
        ));
        assert_eq!(c.async_delay, Duration::from_millis(500));
        assert_eq!(
            sim(Some("large"), Some(5000), None).describe(),
            "large scenario, 5000 instances"
        );
    }

    #[test]
    fn bad_settings_say_what_is_wrong() {
        let err = |s: EmbeddedSimConfig| s.to_sim_config().unwrap_err().to_string();
        assert!(err(sim(Some("large"), Some(60_000), None)).contains("1 to 50000"));
        assert!(err(sim(Some("tutorial"), Some(10), None)).contains("only applies to"));
        assert!(err(sim(None, None, Some("soon"))).contains("[sim] async_delay"));
        let missing = err(sim(Some("/nonexistent/shape.json"), None, None));
        assert!(
            missing.contains("/nonexistent/shape.json") && missing.contains("does not load"),
            "{missing}"
        );
        assert!(err(sim(Some(" "), None, None)).contains("is empty"));
    }
}
