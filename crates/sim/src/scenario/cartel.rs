//! The attacker's operator cartel: a chosen share of total stake, spread over as many operators as
//! the attacker likes (`[attack] cartel_stake_share`, `cartel_operators`).
//!
//! After the population is built, the attacker registers `cartel_operators` further operators, each
//! a member of the cartel with its own identity, whose self-stake together brings the cartel's
//! stake (theirs plus any `operators.cartel` operators') to `cartel_stake_share` of total stake.
//! They behave like every cartel operator: they return the cartel's wrong output
//! (`operators.cartel_wrong_rate`) and always vote for it. Splitting the same stake over more
//! operators buys the cartel more quadratic voice and more, smaller, assignments.

use alloy::primitives::keccak256;
use alloy::signers::local::PrivateKeySigner;

use super::{
    agent,
    world::{Op, World},
    Behaviour,
};
use crate::SimError;

/// The least self-stake of an operator the contracts accept, tokens.
const MIN_OPERATOR_STAKE: f64 = 1000.0;

/// Self-stake to add so that `(cartel + x) / (total + x) = share`: `x = (share·total − cartel) /
/// (1 − share)`, at least 0 (the cartel already holds the share).
pub(crate) fn stake_to_add(share: f64, total: f64, cartel: f64) -> f64 {
    if share >= 1.0 {
        return f64::INFINITY;
    }
    ((share * total - cartel) / (1.0 - share)).max(0.0)
}

impl World {
    /// The active stake of the cartel's operators and of all operators, tokens.
    pub(crate) fn cartel_stake(&mut self) -> Result<(f64, f64), SimError> {
        let op_stakes = self.operator_stakes()?;
        let cartel = self
            .ops
            .iter()
            .zip(&op_stakes)
            .filter(|(o, _)| o.behaviour == Behaviour::Cartel)
            .map(|(_, s)| *s)
            .sum();
        Ok((cartel, op_stakes.iter().sum()))
    }

    /// Registers `operators` cartel operators that bring the cartel to `share` of total stake
    /// (each at least the minimum operator stake); returns the stake added, in tokens.
    pub(crate) fn add_stake_cartel(
        &mut self,
        share: f64,
        operators: usize,
    ) -> Result<f64, SimError> {
        let m = self.measure()?;
        let total: f64 = m.stake.iter().sum();
        let (cartel, _) = self.cartel_stake()?;
        let add = stake_to_add(share, total, cartel);
        if add <= 0.0 || operators == 0 {
            return Ok(0.0);
        }
        let each = (add / operators as f64).max(MIN_OPERATOR_STAKE);
        for i in 0..operators {
            let owner = agent("cartel-operator", i);
            let key = PrivateKeySigner::from_bytes(&keccak256(
                [
                    b"verinfer sim cartel signer".as_slice(),
                    &(i as u64).to_be_bytes(),
                ]
                .concat(),
            ))
            .map_err(|e| SimError::Evm {
                label: "signer key".into(),
                message: e.to_string(),
            })?;
            self.register_operator(owner, &key, each)?;
            let person = self.people;
            self.people += 1;
            self.cartel_person.push(true);
            self.ops.push(Op {
                owner,
                key,
                behaviour: Behaviour::Cartel,
                entity: person,
                slashes: 0,
                slashed_this_epoch: false,
            });
        }
        Ok(each * operators as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::stake_to_add;

    #[test]
    fn added_stake_brings_the_cartel_to_its_share() {
        for (share, total, cartel) in [(0.45, 1000.0, 0.0), (0.3, 5e6, 1e5), (0.9, 10.0, 1.0)] {
            let x = stake_to_add(share, total, cartel);
            assert!(((cartel + x) / (total + x) - share).abs() < 1e-12);
        }
        assert_eq!(stake_to_add(0.1, 1000.0, 500.0), 0.0);
    }
}
