//! Seeded fault injection: one draw per authenticated request from a generator seeded with
//! `FaultConfig::seed`, so a test that replays the same requests meets the same faults.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::sim::config::{FaultConfig, FaultKind};

#[derive(Debug)]
pub struct Faults {
    pub config: FaultConfig,
    rng: StdRng,
}

impl Faults {
    pub fn new(config: FaultConfig) -> Faults {
        let rng = StdRng::seed_from_u64(config.seed);
        Faults { config, rng }
    }

    /// The fault this request meets, if any.
    pub fn draw(&mut self, action: &str) -> Option<FaultKind> {
        let rate = self
            .config
            .per_action
            .get(action)
            .copied()
            .unwrap_or(self.config.rate);
        if rate <= 0.0 || self.config.kinds.is_empty() {
            return None;
        }
        let roll: f64 = self.rng.random();
        let pick = self.rng.random_range(0..self.config.kinds.len());
        (roll < rate).then(|| self.config.kinds[pick])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(rate: f64, seed: u64) -> FaultConfig {
        FaultConfig {
            rate,
            seed,
            ..FaultConfig::default()
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_faults() {
        let mut a = Faults::new(config(0.5, 7));
        let mut b = Faults::new(config(0.5, 7));
        let first: Vec<_> = (0..50).map(|_| a.draw("DescribeVpcs")).collect();
        let second: Vec<_> = (0..50).map(|_| b.draw("DescribeVpcs")).collect();
        assert_eq!(first, second);
        assert!(first.iter().any(Option::is_some) && first.iter().any(Option::is_none));
    }

    #[test]
    fn a_per_action_rate_overrides_the_global_one() {
        let mut cfg = config(0.0, 1);
        cfg.per_action.insert("CreateNatGateway".into(), 1.0);
        let mut faults = Faults::new(cfg);
        assert_eq!(faults.draw("DescribeVpcs"), None);
        assert!(faults.draw("CreateNatGateway").is_some());
    }
}
