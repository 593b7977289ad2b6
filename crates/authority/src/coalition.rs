//! The deciding coalition of a vote, exactly, off chain from its vote events: the smallest set of
//! the winning side's voters whose removal flips the outcome.
//!
//! Removing voters of the winning side only lowers the winner's tally (and the total cast), while
//! every other tally stays. Each way the outcome can flip (another option overtakes the winner
//! under the contract's tie rule; the total falls below quorum) therefore needs the removed weight
//! to reach a threshold, so the largest voters first is optimal: the coalition is the shortest
//! prefix of the winning side sorted by weight whose removal changes [`Counting::decide`].
//!
//! With the governor's residual rule (`GovernorResidualQuorum`: for, less its K largest voices,
//! must reach the base quorum and beat against) the same holds: removing any m voices of the for side lowers
//! the residual by at most the sum of the m largest voices outside the K largest, and removing the
//! m largest lowers it by exactly that. The rule counts one voice per identity: the ballots of all
//! accounts linked to one identity at the snapshot are one voice, and all unattested accounts are one
//! pooled voice, so ballots are merged by identity first ([`merge_voices`]). The tests check all of
//! this against a brute force over every subset.
//!
//! [`flip_coalition`] is the other measure of a plurality vote, on the same ballots and tallies:
//! the fewest voters who *switch* to one other option and flip the plurality (the
//! `DisputeGovernor`'s `RulingStats.flipCoalition` without its cap of `TOP_N` = 16 per option).

use alloy::primitives::U256;

/// How a vote is counted, as the contract counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// `DisputeGovernor`: plurality over `options`, ties to the lower index; decided only when the
    /// total cast reaches `quorum` (weight units; `None` when unknown: only plurality flips count).
    Plurality {
        /// Number of options.
        options: usize,
        /// Quorum in weight units, when known.
        quorum: Option<U256>,
    },
    /// `VerinferGovernor` (OpenZeppelin Governor with `GovernorQuadraticCounting`): options 0
    /// against, 1 for, 2 abstain; succeeds when for > against (with `governance_target`: for is at
    /// least two thirds of for + against) and for + abstain reaches `quorum` (with
    /// `governance_target`: twice `quorum`), when known, and, when `residual_k` > 0, for less its
    /// `residual_k` largest ballots reaches `quorum` itself (the base one, never doubled) and
    /// exceeds against (`GovernorResidualQuorum`).
    ForAgainst {
        /// The base quorum (`quorum(snapshot)`: quorumBps of the total voice) in weight units,
        /// when known.
        quorum: Option<U256>,
        /// K of the residual rule; 0 = off.
        residual_k: usize,
        /// A governance-target proposal (`GovernorGuardedTargets`): a 2/3 supermajority and twice
        /// the base quorum for for + abstain.
        governance_target: bool,
    },
}

/// The outcome of a count: the winning option, or `None` when nothing was decided.
pub type Outcome = Option<usize>;

impl Counting {
    /// The outcome of `ballots`: [`Counting::outcome`] of their tallies and, for a proposal under
    /// the residual rule, the rule on the ballots for.
    pub fn decide(&self, ballots: &[Ballot]) -> Outcome {
        let t = tallies(self, ballots);
        let outcome = self.outcome(&t);
        let Self::ForAgainst {
            quorum, residual_k, ..
        } = *self
        else {
            return outcome;
        };
        if outcome != Some(1) || residual_k == 0 {
            return outcome;
        }
        let mut fors: Vec<U256> = ballots
            .iter()
            .filter(|b| b.option == 1)
            .map(|b| b.weight)
            .collect();
        fors.sort_unstable_by(|a, b| b.cmp(a));
        let removed = fors
            .iter()
            .take(residual_k)
            .fold(U256::ZERO, |a, b| a.saturating_add(*b));
        let residual = t[1].saturating_sub(removed);
        let holds = quorum.is_none_or(|q| residual >= q) && residual > t[0];
        Some(usize::from(holds))
    }

    /// The outcome of `tallies` (one per option), without the residual rule (see [`Self::decide`]).
    pub fn outcome(&self, tallies: &[U256]) -> Outcome {
        let total = tallies.iter().fold(U256::ZERO, |a, b| a.saturating_add(*b));
        match *self {
            Self::Plurality { quorum, .. } => {
                if total.is_zero() || quorum.is_some_and(|q| total < q) {
                    return None;
                }
                let mut w = 0;
                for (i, t) in tallies.iter().enumerate().skip(1) {
                    if *t > tallies[w] {
                        w = i;
                    }
                }
                Some(w)
            }
            Self::ForAgainst {
                governance_target, ..
            } => {
                let at = |i: usize| tallies.get(i).copied().unwrap_or_default();
                let (against, for_, abstain) = (at(0), at(1), at(2));
                let quorate = self
                    .required_quorum()
                    .is_none_or(|q| q <= for_.saturating_add(abstain));
                let wins = if governance_target {
                    !for_.is_zero()
                        && for_.saturating_mul(U256::from(3))
                            >= for_.saturating_add(against).saturating_mul(U256::from(2))
                } else {
                    for_ > against
                };
                Some(usize::from(quorate && wins))
            }
        }
    }

    /// The quorum the count needs, when known: a plurality's `quorum` (of the total cast); for a
    /// proposal, the one for + abstain must reach (`Governor._quorumReached` with
    /// `GovernorGuardedTargets._requiredQuorum`): the base `quorum`, twice it for a
    /// `governance_target`. The residual rule holds its residual to the base `quorum` itself.
    pub fn required_quorum(&self) -> Option<U256> {
        match *self {
            Self::Plurality { quorum, .. } => quorum,
            Self::ForAgainst {
                quorum,
                governance_target,
                ..
            } => quorum.map(|q| {
                if governance_target {
                    q.saturating_mul(U256::from(2))
                } else {
                    q
                }
            }),
        }
    }

    fn options(&self) -> usize {
        match *self {
            Self::Plurality { options, .. } => options,
            Self::ForAgainst { .. } => 3,
        }
    }
}

/// One ballot: a voter (by index in the caller's list), its option and weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ballot {
    /// Option chosen.
    pub option: usize,
    /// Weight counted.
    pub weight: U256,
}

/// The tallies of `ballots` under `counting` (ballots for unknown options are ignored).
pub fn tallies(counting: &Counting, ballots: &[Ballot]) -> Vec<U256> {
    let mut t = vec![U256::ZERO; counting.options()];
    for b in ballots {
        if let Some(x) = t.get_mut(b.option) {
            *x = x.saturating_add(b.weight);
        }
    }
    t
}

/// The smallest number of voters whose switch to one other option flips the plurality of `ballots`
/// over `options` options (ties to the lower index, as the `DisputeGovernor`; quorum ignored):
/// `None` when no switch can flip it (a single option, or no weight cast). A voter switching from
/// the winner to the target closes the gap by twice its weight, one switching from a third option
/// by its weight; for a fixed target taking the largest effects first is optimal, and the minimum
/// is taken over targets.
pub fn flip_coalition(ballots: &[Ballot], options: usize) -> Option<usize> {
    let options = ballots
        .iter()
        .map(|b| b.option + 1)
        .fold(options, usize::max);
    let counting = Counting::Plurality {
        options,
        quorum: None,
    };
    let winner = counting.decide(ballots)?;
    let t = tallies(&counting, ballots);
    let mut best: Option<usize> = None;
    for target in (0..t.len()).filter(|r| *r != winner) {
        // the target wins if t_r' > t_w' (target after the winner) or t_r' >= t_w' (before it)
        let mut deficit = (t[winner] - t[target]).saturating_add(U256::from(target > winner));
        let mut effects: Vec<U256> = ballots
            .iter()
            .filter(|b| b.option != target)
            .map(|b| {
                if b.option == winner {
                    b.weight.saturating_mul(U256::from(2))
                } else {
                    b.weight
                }
            })
            .collect();
        effects.sort_unstable_by(|a, b| b.cmp(a));
        let mut k = 0usize;
        for e in effects {
            if deficit.is_zero() || e.is_zero() {
                break;
            }
            k += 1;
            deficit = deficit.saturating_sub(e);
        }
        if deficit.is_zero() && k > 0 && best.is_none_or(|b| k < b) {
            best = Some(k);
        }
    }
    best
}

/// `ballots` as the residual rule counts voices: each `(ballot, identity)` carries the voter's
/// `QuadraticVotes` identity one block before the snapshot (`getPastIdentity(voter, snapshot - 1)`,
/// 0 = unattested). The ballots of one identity and one option are merged into one (the accounts
/// linked to one identity are one voice), in the order of their first ballot; all ballots of
/// identity 0 of one option (the unattested pool) are merged into one, placed after the others.
pub fn merge_voices(ballots: &[(Ballot, U256)]) -> Vec<Ballot> {
    voices(ballots).into_iter().map(|(b, _)| b).collect()
}

/// [`merge_voices`] with, for each voice, the indices (into `ballots`) of the ballots it merges:
/// every ballot of its identity and option for an identity's voice, every unattested ballot of its
/// option for the pool's. A deciding coalition over the voices ([`deciding_coalition`] of their
/// ballots) names accounts through these.
pub fn voices(ballots: &[(Ballot, U256)]) -> Vec<(Ballot, Vec<usize>)> {
    let mut out: Vec<(Ballot, U256, Vec<usize>)> = Vec::new();
    let mut pools: Vec<(Ballot, Vec<usize>)> = Vec::new();
    for (i, (b, id)) in ballots.iter().enumerate() {
        if id.is_zero() {
            match pools.iter_mut().find(|(x, _)| x.option == b.option) {
                Some((x, members)) => {
                    x.weight = x.weight.saturating_add(b.weight);
                    members.push(i);
                }
                None => pools.push((*b, vec![i])),
            }
            continue;
        }
        match out
            .iter_mut()
            .find(|(x, v, _)| v == id && x.option == b.option)
        {
            Some((x, _, members)) => {
                x.weight = x.weight.saturating_add(b.weight);
                members.push(i);
            }
            None => out.push((*b, *id, vec![i])),
        }
    }
    out.into_iter()
        .map(|(b, _, members)| (b, members))
        .chain(pools)
        .collect()
}

/// The deciding coalition of a governor proposal from its ballots `(ballot, identity)` (`identity`:
/// the voter's `QuadraticVotes` identity one block before the snapshot, 0 = unattested): the voices
/// as the governor counts them ([`voices`]: one per identity, the unattested pool one), and of those
/// the deciding coalition ([`deciding_coalition`]), each voice as the indices (into `cast`) of its
/// ballots. Its length is the coalition's size in voices; flattened, it names the accounts.
pub fn proposal_coalition(counting: &Counting, cast: &[(Ballot, U256)]) -> Vec<Vec<usize>> {
    let mut voices = voices(cast);
    let ballots: Vec<Ballot> = voices.iter().map(|(b, _)| *b).collect();
    deciding_coalition(counting, &ballots)
        .into_iter()
        .map(|v| std::mem::take(&mut voices[v].1))
        .collect()
}

/// The deciding coalition of `ballots`: indices (into `ballots`) of the fewest voters of the
/// winning side whose removal changes the outcome ([`Counting::decide`]), largest weight first.
/// Empty when nothing was decided (no outcome, or the outcome is "against" of a proposal: a failed
/// proposal changes nothing), or when removing the whole winning side would not change it.
pub fn deciding_coalition(counting: &Counting, ballots: &[Ballot]) -> Vec<usize> {
    let outcome = counting.decide(ballots);
    let winner = match (counting, outcome) {
        (_, None) | (Counting::ForAgainst { .. }, Some(0)) => return Vec::new(),
        (_, Some(w)) => w,
    };
    let mut side: Vec<usize> = (0..ballots.len())
        .filter(|i| ballots[*i].option == winner && !ballots[*i].weight.is_zero())
        .collect();
    side.sort_by(|a, b| ballots[*b].weight.cmp(&ballots[*a].weight).then(a.cmp(b)));
    // Removing a ballot = zeroing its weight (the residual rule's ranking ignores zeros).
    let mut kept = ballots.to_vec();
    for k in 0..side.len() {
        kept[side[k]].weight = U256::ZERO;
        if counting.decide(&kept) != outcome {
            side.truncate(k + 1);
            return side;
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest subset of the winning side whose removal changes the outcome, by trying all.
    fn brute_force(counting: &Counting, ballots: &[Ballot]) -> Option<usize> {
        let outcome = counting.decide(ballots);
        let winner = outcome?;
        let side: Vec<usize> = (0..ballots.len())
            .filter(|i| ballots[*i].option == winner && !ballots[*i].weight.is_zero())
            .collect();
        let mut best: Option<usize> = None;
        for mask in 1u32..(1 << side.len()) {
            let kept: Vec<Ballot> = (0..ballots.len())
                .filter(|i| {
                    !side
                        .iter()
                        .enumerate()
                        .any(|(j, s)| s == i && mask >> j & 1 == 1)
                })
                .map(|i| ballots[i])
                .collect();
            if counting.decide(&kept) != outcome {
                let n = mask.count_ones() as usize;
                best = Some(best.map_or(n, |b| b.min(n)));
            }
        }
        best
    }

    /// A small deterministic generator (xorshift), so the test needs no RNG crate.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn deciding_coalition_equals_brute_force_on_small_vote_sets() {
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        let mut checked = 0;
        for round in 0..6000 {
            let n = 1 + (next(&mut s) % 9) as usize;
            let counting = match round % 6 {
                0 => Counting::Plurality {
                    options: 2 + (next(&mut s) % 3) as usize,
                    quorum: None,
                },
                1 => Counting::Plurality {
                    options: 2 + (next(&mut s) % 3) as usize,
                    quorum: Some(U256::from(next(&mut s) % 60)),
                },
                2 => Counting::ForAgainst {
                    quorum: next(&mut s)
                        .is_multiple_of(2)
                        .then(|| U256::from(next(&mut s) % 60)),
                    residual_k: 0,
                    governance_target: false,
                },
                3 => Counting::ForAgainst {
                    quorum: Some(U256::from(next(&mut s) % 30)),
                    residual_k: 0,
                    governance_target: true,
                },
                _ => Counting::ForAgainst {
                    quorum: Some(U256::from(next(&mut s) % 30)),
                    residual_k: 1 + (next(&mut s) % 3) as usize,
                    governance_target: next(&mut s).is_multiple_of(2),
                },
            };
            let ballots: Vec<Ballot> = (0..n)
                .map(|_| Ballot {
                    option: (next(&mut s) % counting.options() as u64) as usize,
                    weight: U256::from(1 + next(&mut s) % 20),
                })
                .collect();
            let got = deciding_coalition(&counting, &ballots);
            let outcome = counting.decide(&ballots);
            let expected = match (counting, outcome) {
                (Counting::ForAgainst { .. }, Some(0)) => None,
                _ => brute_force(&counting, &ballots),
            };
            assert_eq!(
                (!got.is_empty()).then_some(got.len()),
                expected,
                "{counting:?} {ballots:?}"
            );
            // and the coalition found does flip the outcome
            if !got.is_empty() {
                let kept: Vec<Ballot> = (0..n)
                    .filter(|i| !got.contains(i))
                    .map(|i| ballots[i])
                    .collect();
                assert_ne!(counting.decide(&kept), outcome);
                checked += 1;
            }
        }
        assert!(
            checked > 2000,
            "only {checked} decided votes were generated"
        );
    }

    #[test]
    fn a_proposals_coalition_equals_brute_force_over_voices_one_per_identity_and_the_pool() {
        let mut s = 0x2545_f491_4f6c_dd1du64;
        let mut checked = 0;
        let mut shared = 0;
        for _ in 0..3000 {
            let n = 1 + (next(&mut s) % 10) as usize;
            let counting = Counting::ForAgainst {
                quorum: Some(U256::from(next(&mut s) % 40)),
                residual_k: (next(&mut s) % 4) as usize,
                governance_target: next(&mut s).is_multiple_of(2),
            };
            let cast: Vec<(Ballot, U256)> = (0..n)
                .map(|_| {
                    // mostly for, so that most proposals pass and have a coalition
                    let b = Ballot {
                        option: [1, 1, 1, 0, 2][(next(&mut s) % 5) as usize],
                        weight: U256::from(1 + next(&mut s) % 20),
                    };
                    // identity 0 (the pool) or one of 5, so that identities link several accounts
                    (b, U256::from(next(&mut s) % 6))
                })
                .collect();
            let voices = merge_voices(&cast);
            let got = proposal_coalition(&counting, &cast);
            let expected = match counting.decide(&voices) {
                Some(1) => brute_force(&counting, &voices),
                _ => None,
            };
            assert_eq!(
                (!got.is_empty()).then_some(got.len()),
                expected,
                "{counting:?} {cast:?}"
            );
            if got.is_empty() {
                continue;
            }
            // removing the accounts it names flips the outcome of the voices that are left
            let named: Vec<usize> = got.iter().flatten().copied().collect();
            let left: Vec<(Ballot, U256)> = (0..n)
                .filter(|i| !named.contains(i))
                .map(|i| cast[i])
                .collect();
            assert_ne!(counting.decide(&merge_voices(&left)), Some(1));
            // a voice names every ballot of its identity (or of the pool) and option
            for voice in &got {
                let (option, id) = (cast[voice[0]].0.option, cast[voice[0]].1);
                let all: Vec<usize> = (0..n)
                    .filter(|i| cast[*i].1 == id && cast[*i].0.option == option)
                    .collect();
                assert_eq!(voice, &all);
                if !id.is_zero() && all.len() > 1 {
                    shared += 1;
                }
            }
            checked += 1;
        }
        assert!(
            checked > 500,
            "only {checked} passed proposals were generated"
        );
        assert!(
            shared > 100,
            "only {shared} deciding voices of several linked accounts"
        );
    }

    #[test]
    fn linked_accounts_of_one_identity_are_one_voice_of_the_residual_rule() {
        // one identity votes 100 for through 20 linked accounts of 5 (the unattested pool delegated
        // to them), three other identities 10 each; quorum 25, K = 2. Keyed by account the K largest
        // are two crowd voices and the residual 110 passes on the identity alone; keyed by identity
        // its 100 and one crowd voice are taken out and the residual 20 < 25 fails.
        let b = |weight: u64| Ballot {
            option: 1,
            weight: U256::from(weight),
        };
        let mut cast: Vec<(Ballot, U256)> = vec![(b(5), U256::from(7)); 20];
        cast.extend((1..=3u64).map(|i| (b(10), U256::from(100 + i))));
        let c = Counting::ForAgainst {
            quorum: Some(U256::from(25)),
            residual_k: 2,
            governance_target: false,
        };
        let per_account: Vec<Ballot> = cast.iter().map(|(x, _)| *x).collect();
        assert_eq!(c.decide(&per_account), Some(1));
        let merged = merge_voices(&cast);
        assert_eq!(merged.len(), 4);
        assert_eq!(merged[0].weight, U256::from(100));
        assert_eq!(c.decide(&merged), Some(0));
        // quorum 20: it passes with the residual of two crowd voices, and the identity's 20 accounts
        // are one voice of its deciding coalition (with the identity gone, 30 - 20 = 10 < 20)
        let c = Counting::ForAgainst {
            quorum: Some(U256::from(20)),
            residual_k: 2,
            governance_target: false,
        };
        let got = proposal_coalition(&c, &cast);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0], (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn one_identitys_ballots_for_different_options_stay_separate_voices() {
        let b = |option: usize, weight: u64| Ballot {
            option,
            weight: U256::from(weight),
        };
        let id = U256::from(3);
        let cast = [(b(1, 4), id), (b(0, 6), id), (b(1, 5), id)];
        assert_eq!(
            voices(&cast),
            vec![(b(1, 9), vec![0, 2]), (b(0, 6), vec![1])]
        );
    }

    /// Every subset of voters, every target: the smallest subset whose switch makes the target win.
    fn flip_brute_force(ballots: &[Ballot], options: usize) -> Option<usize> {
        let c = Counting::Plurality {
            options,
            quorum: None,
        };
        let winner = c.decide(ballots)?;
        let mut best: Option<usize> = None;
        for target in (0..options).filter(|t| *t != winner) {
            for mask in 1u32..(1 << ballots.len()) {
                let switched: Vec<Ballot> = ballots
                    .iter()
                    .enumerate()
                    .map(|(i, b)| Ballot {
                        option: if mask & (1 << i) != 0 {
                            target
                        } else {
                            b.option
                        },
                        weight: b.weight,
                    })
                    .collect();
                if c.decide(&switched) == Some(target) {
                    let k = mask.count_ones() as usize;
                    best = Some(best.map_or(k, |b| b.min(k)));
                }
            }
        }
        best
    }

    #[test]
    fn exact_flip_coalition_equals_brute_force_on_small_vote_sets() {
        let mut s = 0x51_7cc1_b727_220au64;
        for _ in 0..400 {
            let options = 2 + (next(&mut s) % 3) as usize;
            let n = 1 + (next(&mut s) % 10) as usize;
            let ballots: Vec<Ballot> = (0..n)
                .map(|_| Ballot {
                    option: (next(&mut s) % options as u64) as usize,
                    weight: U256::from(1 + next(&mut s) % 20),
                })
                .collect();
            assert_eq!(
                flip_coalition(&ballots, options),
                flip_brute_force(&ballots, options),
                "{ballots:?}"
            );
        }
    }

    #[test]
    fn flip_coalition_is_not_capped_at_sixteen_voters() {
        let one = |option| Ballot {
            option,
            weight: U256::from(1),
        };
        // 40 equal voters for option 1, 10 for option 2: 16 switches close a gap of 30 by 2 each.
        let mut ballots = vec![one(1); 40];
        ballots.extend(vec![one(2); 10]);
        // target 2 wins if t2' > t1': 10 + k > 40 - k -> k = 16; target 0 (wins ties): k >= 40 - k -> 20.
        assert_eq!(flip_coalition(&ballots, 3), Some(16));
        // target 0 (before the winner) wins a tie: k >= 100 - k -> 50.
        assert_eq!(flip_coalition(&vec![one(1); 100], 2), Some(50));
        assert_eq!(flip_coalition(&[], 2), None);
    }

    #[test]
    fn a_tie_goes_to_the_lower_option_so_one_voter_flips_a_tied_higher_winner() {
        // option 2 wins 10 vs 9; removing its single voter of weight 10 hands it to option 1
        let c = Counting::Plurality {
            options: 3,
            quorum: None,
        };
        let b = [
            Ballot {
                option: 1,
                weight: U256::from(9),
            },
            Ballot {
                option: 2,
                weight: U256::from(10),
            },
            Ballot {
                option: 2,
                weight: U256::from(1),
            },
        ];
        assert_eq!(deciding_coalition(&c, &b), vec![1]);
    }

    #[test]
    fn an_unattested_split_is_one_voice_of_the_residual_rule() {
        // the top voice 50 and 30 unattested ballots of 2 (one pooled voice of 60) for, quorum 10:
        // without the pool's merge, removing K = 2 largest (50 and 2) leaves 58 and the pool's accounts
        // look like 30 voters; merged, removing 60 and 50 leaves 0: the rule already fails
        let mut cast: Vec<(Ballot, U256)> = vec![(
            Ballot {
                option: 1,
                weight: U256::from(50),
            },
            U256::from(1),
        )];
        cast.extend(vec![
            (
                Ballot {
                    option: 1,
                    weight: U256::from(2),
                },
                U256::ZERO
            );
            30
        ]);
        let c = Counting::ForAgainst {
            quorum: Some(U256::from(10)),
            residual_k: 2,
            governance_target: false,
        };
        let merged = merge_voices(&cast);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[1].weight, U256::from(60));
        assert_eq!(c.decide(&merged), Some(0));
        let split: Vec<Ballot> = cast.iter().map(|(b, _)| *b).collect();
        assert_eq!(c.decide(&split), Some(1));
        // 6 ballots for of 20 each, K = 2, quorum 30: residual 80; removing the 3 largest outside
        // the K (20 each) drops it to 20 < 30: the coalition is 3
        let six = vec![
            Ballot {
                option: 1,
                weight: U256::from(20)
            };
            6
        ];
        let c = Counting::ForAgainst {
            quorum: Some(U256::from(30)),
            residual_k: 2,
            governance_target: false,
        };
        assert_eq!(deciding_coalition(&c, &six).len(), 3);
    }

    #[test]
    fn a_governance_target_holds_its_residual_to_the_base_quorum_and_its_for_side_to_twice_it() {
        let for_ = |w: u64| Ballot {
            option: 1,
            weight: U256::from(w),
        };
        let c = Counting::ForAgainst {
            quorum: Some(U256::from(30)),
            residual_k: 1,
            governance_target: true,
        };
        // for 100 + 40 = 140 >= 60; residual 40 >= 30 (but < 60): passes
        assert_eq!(c.decide(&[for_(100), for_(40)]), Some(1));
        // residual 29 < 30: fails, though the for side is far above twice the quorum
        assert_eq!(c.decide(&[for_(100), for_(29)]), Some(0));
        // for 20 + 15 + 15 = 50 < 60 with residual 30 >= 30: the full for side still needs twice the
        // base quorum; 10 more for (60) passes
        assert_eq!(c.decide(&[for_(20), for_(15), for_(15)]), Some(0));
        assert_eq!(c.decide(&[for_(20), for_(15), for_(15), for_(10)]), Some(1));
        // removing the 100 makes the 40 the K largest and the residual 0: one voice decides
        assert_eq!(deciding_coalition(&c, &[for_(100), for_(40)]), vec![0]);
    }

    #[test]
    fn a_proposal_is_quorate_exactly_at_its_required_quorum_twice_the_base_for_a_governance_target()
    {
        for governance_target in [false, true] {
            let c = Counting::ForAgainst {
                quorum: Some(U256::from(30)),
                residual_k: 0,
                governance_target,
            };
            let required = c.required_quorum().unwrap();
            assert_eq!(
                required,
                U256::from(if governance_target { 60 } else { 30 })
            );
            // for alone (no against): quorum is the only bar
            let at = |w: U256| [U256::ZERO, w, U256::ZERO];
            assert_eq!(c.outcome(&at(required)), Some(1));
            assert_eq!(c.outcome(&at(required - U256::from(1))), Some(0));
        }
        let unknown = Counting::ForAgainst {
            quorum: None,
            residual_k: 3,
            governance_target: true,
        };
        assert_eq!(unknown.required_quorum(), None);
    }

    #[test]
    fn the_pooled_voice_names_every_unattested_ballot_of_its_option() {
        let b = |option: usize, weight: u64| Ballot {
            option,
            weight: U256::from(weight),
        };
        let cast = [
            (b(1, 5), U256::ZERO),
            (b(1, 9), U256::from(1)),
            (b(0, 4), U256::ZERO),
            (b(1, 7), U256::ZERO),
            (b(0, 3), U256::from(2)),
        ];
        let v = voices(&cast);
        assert_eq!(
            v,
            vec![
                (b(1, 9), vec![1]),
                (b(0, 3), vec![4]),
                (b(1, 12), vec![0, 3]),
                (b(0, 4), vec![2]),
            ]
        );
        assert_eq!(
            merge_voices(&cast),
            v.iter().map(|(x, _)| *x).collect::<Vec<_>>()
        );
    }

    #[test]
    fn losing_quorum_is_a_flip() {
        // option 1 wins alone, but the total 30 is just at quorum 25: removing 6 breaks quorum
        let c = Counting::Plurality {
            options: 2,
            quorum: Some(U256::from(25)),
        };
        let b = [
            Ballot {
                option: 1,
                weight: U256::from(6),
            },
            Ballot {
                option: 1,
                weight: U256::from(24),
            },
        ];
        assert_eq!(deciding_coalition(&c, &b), vec![1]);
    }
}
