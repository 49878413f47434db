//! Which plan warnings a campaign may confirm past without a person: only those that restate
//! what the campaign's own inputs chose. Everything else — a protected server whose egress
//! flips, another NAT gateway already in the VPC, a shared egress IP not kept, a failed
//! gateway to delete first — stops the run for a person. Warnings are words, so this matches
//! their wording; when a wording changes, the campaign stops for a person (fails closed).

use crate::store::Step;

/// Whether `warning` (of a plan for `step`) needs a person to read it before confirming.
pub fn needs_a_person(step: Step, warning: &str) -> bool {
    let restates_the_inputs = match step {
        // Reconcile: the gateway this run created on an earlier attempt is reused.
        Step::Provision => warning.contains("was already created by this run; it will be reused"),
        // The reversible retire rule keeps EIPs unbound, which Tencent bills while idle.
        Step::Verify => warning.contains("will be kept unbound (so rollback can bind them back)"),
        Step::Assess | Step::Route => false,
    };
    !restates_the_inputs
}

/// The warnings of `step`'s plan that need a person.
pub fn for_a_person(step: Step, warnings: &[String]) -> Vec<&str> {
    warnings
        .iter()
        .map(String::as_str)
        .filter(|w| needs_a_person(step, w))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_warnings_that_restate_the_inputs_pass_and_unknown_ones_stop_the_run() {
        let idle = "2 EIP(s) will be kept unbound (so rollback can bind them back); Tencent \
                    Cloud charges for idle EIPs, so release them in the console once you no \
                    longer need them";
        assert!(!needs_a_person(Step::Verify, idle));
        assert!(needs_a_person(Step::Route, idle));
        let other_nat = "the VPC already has NAT gateway(s) nat-1; you can adopt one instead of creating another";
        assert!(needs_a_person(Step::Provision, other_nat));
        assert!(needs_a_person(Step::Assess, "anything new"));
        let reused = "NAT gateway nat-1 was already created by this run; it will be reused, not created again";
        assert_eq!(
            for_a_person(Step::Provision, &[reused.into(), other_nat.into()]),
            [other_nat]
        );
    }
}
