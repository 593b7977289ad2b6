//! Phase 7, disputes: one dispute decided by a quadratic vote. Two assigned operators collude on a
//! wrong output (quorum 2 of 3), the deployer (linked to an identity first, as every challenger must
//! be) challenges with the honest output, three fresh delegators of operator 0 vote for it, the ruling
//! comes after the voting period and applies after the timelock delay, and the colluders'
//! `WrongResult` slashes execute after the Slasher's veto window.

use alloy::primitives::{keccak256, Address, B256, U256};
use alloy::providers::ext::AnvilApi;
use alloy::signers::local::PrivateKeySigner;
use verinfer_bindings::types::FaultKind;
use verinfer_bindings::units::{tokens, tokens_f64};
use verinfer_bindings::{
    DisputeGovernor, IdentityRegistry, InferenceRegistry, QuadraticVotes, Slasher, Staking,
    VerinferToken,
};
use verinfer_client::client::{events, first_event};
use verinfer_client::Client;
use verinfer_keeper::attest::{domain, Attestation};

use crate::config::Progress;
use crate::deploy::Deployment;
use crate::error::DevnetError;
use crate::fixture::Devnet;
use crate::operators::{Operator, HOT_KEY_WEI};

/// Delegators voting in the dispute.
pub const VOTERS: usize = 3;
/// Tokens each voter delegates to operator 0.
pub const VOTER_STAKE_TOKENS: u64 = 5_000;

/// What the dispute is about: a request to a model, the honest output and the colluders' wrong one.
#[derive(Debug, Clone, PartialEq)]
pub struct DisputeCase {
    /// The model.
    pub model_id: B256,
    /// The request's input.
    pub input: Vec<u8>,
    /// Hash of the honest output (the challenger's claim).
    pub right: B256,
    /// Hash of the colluders' output.
    pub wrong: B256,
    /// In words, for the report.
    pub what: String,
}

/// How the dispute went.
#[derive(Debug, Clone, PartialEq)]
pub struct Dispute {
    /// What was disputed.
    pub case: DisputeCase,
    /// The disputed request.
    pub request: U256,
    /// The two operators that answered the wrong output.
    pub colluders: [Address; 2],
    /// The operator that answered honestly.
    pub honest: Address,
    /// The challenger (the deployer).
    pub challenger: Address,
    /// The identity the challenger was linked to.
    pub identity: U256,
    /// The dispute's id.
    pub dispute: U256,
    /// Options on the ballot.
    pub options: usize,
    /// Share of the total voice the voters cast, percent.
    pub voice_cast_pct: f64,
    /// The governor's quorum, basis points.
    pub quorum_bps: u16,
    /// Whether the vote reached quorum and decided (always true for a returned `Dispute`).
    pub decided: bool,
    /// The voting period, seconds.
    pub voting_period: u64,
    /// Seconds warped to reach the ruling's execution time.
    pub timelock_wait: u64,
    /// The winning option.
    pub winner: u8,
    /// The executed `WrongResult` slashes.
    pub slash_ids: Vec<U256>,
    /// Seconds warped to pass the veto window.
    pub veto_wait: u64,
    /// Tokens (wei) the slashes took.
    pub slashed: U256,
}

impl Dispute {
    /// The report's paragraph on the dispute.
    pub fn summary(&self) -> String {
        format!(
            "{}. request {}: operators {} and {} colluded on a wrong output (quorum 2 of 3), {} answered honestly; \
             challenged by {} (linked to identity {}, as every challenger must be) -> dispute {} with {} options; \
             3 delegators (5,000 tokens each, delegated to op0 before the dispute, so op0's stake after includes them) voted for the honest output \
             with {:.1}% of total voice (quorum {} bps, reached: decided); ruled after the {} s voting period, applied after the timelock delay \
             ({} s), winner = option {}; WrongResult slashes {:?} executed after the {} s veto window: \
             {:.2} tokens taken from the colluders",
            self.case.what,
            self.request,
            self.colluders[0],
            self.colluders[1],
            self.honest,
            self.challenger,
            self.identity,
            self.dispute,
            self.options,
            self.voice_cast_pct,
            self.quorum_bps,
            self.voting_period,
            self.timelock_wait,
            self.winner,
            self.slash_ids,
            self.veto_wait,
            tokens_f64(self.slashed),
        )
    }
}

/// Links `account` to a fresh identity: `admin` (admin of the IdentityRegistry, as the deployer of a
/// local deployment is) approves itself as an issuer, creates the identity and offers the link, which
/// `account` accepts. Returns the identity id.
pub async fn link_identity(admin: &Client, account: &Client) -> Result<U256, DevnetError> {
    let identity = admin.contract("IdentityRegistry")?;
    let ir = IdentityRegistry::new(identity, admin.provider());
    let issuer = admin.sender();
    let role = ir
        .ISSUER_ROLE()
        .call()
        .await
        .map_err(DevnetError::view("ISSUER_ROLE"))?;
    if !ir
        .hasRole(role, issuer)
        .call()
        .await
        .map_err(DevnetError::view("hasRole"))?
    {
        admin
            .send(
                "approveIssuer",
                identity,
                &IdentityRegistry::approveIssuerCall { issuer },
            )
            .await?;
    }
    let created = admin
        .send(
            "createIdentity",
            identity,
            &IdentityRegistry::createIdentityCall {},
        )
        .await?;
    let id =
        first_event::<IdentityRegistry::IdentityCreated>("createIdentity", &created)?.identityId;
    admin
        .send(
            "offerLink",
            identity,
            &IdentityRegistry::offerLinkCall {
                account: account.sender(),
                identityId: id,
            },
        )
        .await?;
    account
        .send(
            "acceptLink",
            identity,
            &IdentityRegistry::acceptLinkCall { identityId: id },
        )
        .await?;
    Ok(id)
}

fn to_u64(what: &'static str, v: U256) -> Result<u64, DevnetError> {
    u64::try_from(v).map_err(|_| DevnetError::OutOfRange {
        what,
        value: v.to_string(),
    })
}

/// `WrongResult` slashes executed after the Slasher's veto window.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutedSlashes {
    /// The slashes, in the order of the operators given.
    pub ids: Vec<U256>,
    /// Tokens (wei) they took.
    pub slashed: U256,
    /// Seconds warped to pass the veto window.
    pub veto_wait: u64,
}

impl Devnet {
    /// The operators assigned to `request`; fails unless there are at least three (two colluders and
    /// an honest one).
    pub async fn assigned_three(
        &self,
        d: &Deployment,
        request: U256,
    ) -> Result<Vec<Address>, DevnetError> {
        let reg = InferenceRegistry::new(d.contract("InferenceRegistry")?, self.provider());
        let assigned = reg
            .assignedOperators(request)
            .call()
            .await
            .map_err(DevnetError::view("assignedOperators"))?;
        if assigned.len() < 3 {
            return Err(DevnetError::TooFewAssigned {
                got: assigned.len(),
                want: 3,
            });
        }
        Ok(assigned)
    }

    /// Executes the `WrongResult` slashes a ruling requested of `operators` over `request`: warps past
    /// the first one's veto window, then the deployer executes each. Fails if one was not requested.
    pub async fn execute_wrong_result_slashes(
        &self,
        d: &Deployment,
        request: U256,
        operators: &[Address],
    ) -> Result<ExecutedSlashes, DevnetError> {
        let slasher = d.contract("Slasher")?;
        let sl = Slasher::new(slasher, self.provider());
        let mut ids = Vec::with_capacity(operators.len());
        for op in operators {
            let id = sl
                .slashIdOf(*op, FaultKind::WrongResult.into(), B256::from(request))
                .call()
                .await
                .map_err(DevnetError::view("slashIdOf"))?;
            if id.is_zero() {
                return Err(DevnetError::NoSlashRequested(*op));
            }
            ids.push(id);
        }
        let Some(first) = ids.first() else {
            return Ok(ExecutedSlashes {
                ids,
                slashed: U256::ZERO,
                veto_wait: 0,
            });
        };
        let executable_at = sl
            .slashRequest(*first)
            .call()
            .await
            .map_err(DevnetError::view("slashRequest"))?
            .executableAt;
        let veto_wait = to_u64("slash executableAt", U256::from(executable_at))?
            .saturating_sub(self.chain_time().await?)
            + 1;
        self.warp(veto_wait).await?;
        let mut slashed = U256::ZERO;
        for id in &ids {
            let receipt = d
                .deployer
                .send(
                    "executeSlash",
                    slasher,
                    &Slasher::executeSlashCall { slashId: *id },
                )
                .await?;
            slashed += events::<Slasher::SlashExecuted>(&receipt)
                .iter()
                .map(|e| e.amount)
                .sum::<U256>();
        }
        Ok(ExecutedSlashes {
            ids,
            slashed,
            veto_wait,
        })
    }
}

impl Devnet {
    /// The dispute's subject: a model whose disputes the registry sends to the vote (disputes over
    /// integer MLPs such as the digits classifier go to the on-chain referee instead, docs/referee.md).
    /// With the LLM registered: a prompt, where the honest output is the text the model generates and
    /// the colluders' is the text it generates under another instruction (a wrong system prompt).
    /// Otherwise an opaque model registered here, served by every operator, with two placeholder
    /// outputs.
    pub async fn dispute_case(
        &self,
        d: &Deployment,
        operators: &[Operator],
    ) -> Result<DisputeCase, DevnetError> {
        let Some(llm) = &d.llm else {
            let weights = keccak256(b"devnet opaque model weights");
            let spec = keccak256(b"verinfer-opaque/v1;devnet placeholder, not re-executable");
            let model_id = self.register_model(d, weights, spec).await?;
            let staking = Staking::new(d.contract("Staking")?, self.provider());
            for o in operators {
                // Jailed operators (the equivocator by now) cannot opt in; the rest can.
                let active = staking
                    .isActiveOperator(o.address())
                    .call()
                    .await
                    .map_err(DevnetError::view("isActiveOperator"))?;
                if active {
                    o.owner.serve_model(model_id).await?;
                }
            }
            return Ok(DisputeCase {
                model_id,
                input: b"devnet dispute input".to_vec(),
                right: keccak256(b"honest output"),
                wrong: keccak256(b"colluded wrong output"),
                what: "opaque model (not re-executable on chain) with placeholder outputs".into(),
            });
        };
        use verinfer_keeper::backend::InferenceBackend;
        let prompt = crate::llm::PROMPTS.lines().next().unwrap_or("hello");
        let model = llm.server.backend(llm.model_id, &llm.spec);
        let right = model.infer(prompt.as_bytes()).await?;
        let wrong = model
            .infer(format!("Answer as a pirate would. {prompt}").as_bytes())
            .await?;
        Ok(DisputeCase {
            model_id: llm.model_id,
            input: prompt.as_bytes().to_vec(),
            right: keccak256(&right),
            wrong: keccak256(&wrong),
            what: format!(
                "LLM prompt {prompt:?}: honest text {:?}, colluders' text (another system prompt) {:?}",
                String::from_utf8_lossy(&right),
                String::from_utf8_lossy(&wrong)
            ),
        })
    }

    /// Runs the dispute and returns how it went; fails if the vote misses quorum or a colluder is not
    /// slashed.
    pub async fn quadratic_dispute(
        &self,
        d: &Deployment,
        operators: &[Operator],
    ) -> Result<Dispute, DevnetError> {
        let case = self.dispute_case(d, operators).await?;
        self.say(Progress::Phase(
            "dispute: two assigned operators collude on a wrong output; delegators vote it down"
                .into(),
        ));
        let deployer = &d.deployer;
        let p = self.provider();
        let token = d.contract("VerinferToken")?;
        let registry = d.contract("InferenceRegistry")?;
        let disputes = d.contract("DisputeGovernor")?;
        let op0 = operators
            .first()
            .ok_or(DevnetError::TooFewAssigned { got: 0, want: 3 })?;

        // Three delegators stake behind the largest operator; their stake is their (unattested) voice.
        let mut voters = Vec::with_capacity(VOTERS);
        for _ in 0..VOTERS {
            let v = self
                .client(PrivateKeySigner::random(), &d.manifest_path)
                .await?;
            p.anvil_set_balance(v.sender(), U256::from(HOT_KEY_WEI))
                .await
                .map_err(DevnetError::rpc("anvil_setBalance of a voter"))?;
            let amount = tokens(VOTER_STAKE_TOKENS);
            deployer
                .send(
                    "fund-voter",
                    token,
                    &VerinferToken::transferCall {
                        to: v.sender(),
                        value: amount,
                    },
                )
                .await?;
            v.delegate(op0.address(), amount).await?;
            voters.push(v);
        }

        // The request; every assigned operator answers (the first two collude on a wrong output).
        let input = case.input.as_slice();
        let request = deployer
            .submit_request(case.model_id, input, tokens(1), 300)
            .await?
            .id;
        let assigned = self.assigned_three(d, request).await?;
        let (wrong, right) = (case.wrong, case.right);
        let eip712 = domain(d.chain_id(), registry);
        for (i, op) in assigned.iter().enumerate() {
            let signer = operators
                .iter()
                .find(|o| o.address() == *op)
                .ok_or(DevnetError::UnknownOperator(*op))?;
            let att = Attestation {
                operator: *op,
                requestId: request,
                modelId: case.model_id,
                inputHash: keccak256(input),
                outputHash: if i < 2 { wrong } else { right },
            };
            let sig = signer.hot.sign_attestation(&att, &eip712)?;
            deployer
                .send(
                    "submitAttestation",
                    registry,
                    &InferenceRegistry::submitAttestationCall {
                        att: att.into(),
                        signature: sig.to_vec().into(),
                    },
                )
                .await?;
        }

        // Challenge (bond from the deployer), claiming the honest output. The DisputeGovernor takes a
        // challenge only from an account linked to an identity at the block before it, so the deployer
        // (admin of the local deployment) first approves itself as an identity issuer and links itself.
        let identity = link_identity(deployer, deployer).await?;
        deployer.approve(registry, U256::MAX).await?;
        deployer
            .send(
                "challenge",
                registry,
                &InferenceRegistry::challengeCall {
                    requestId: request,
                    claimedOutput: right,
                },
            )
            .await?;
        let (_, view) = deployer.request_view(request).await?;
        let dispute = view.disputeId;
        let dg = DisputeGovernor::new(disputes, p);
        let options = dg
            .options(dispute)
            .call()
            .await
            .map_err(DevnetError::view("dispute options"))?;
        let option = options
            .iter()
            .position(|o| *o == right)
            .ok_or(DevnetError::NoHonestOption(dispute))?;
        let option = u8::try_from(option).map_err(|_| DevnetError::OutOfRange {
            what: "dispute option",
            value: option.to_string(),
        })?;
        let total_voice = dg
            .dispute(dispute)
            .call()
            .await
            .map_err(DevnetError::view("dispute"))?
            .totalVoice;
        let qv = QuadraticVotes::new(d.contract("QuadraticVotes")?, p);
        let mut cast = U256::ZERO;
        for v in &voters {
            cast += qv
                .getVotes(v.sender())
                .call()
                .await
                .map_err(DevnetError::view("getVotes"))?;
            v.send(
                "castVote",
                disputes,
                &DisputeGovernor::castVoteCall {
                    disputeId: dispute,
                    option,
                },
            )
            .await?;
        }

        // Ruling once the voting period (seconds) is over; applied after the timelock delay.
        let voting_period = u64::from(
            dg.votingPeriod()
                .call()
                .await
                .map_err(DevnetError::view("votingPeriod"))?,
        );
        self.warp(voting_period + 1).await?;
        deployer
            .send(
                "resolve",
                disputes,
                &DisputeGovernor::resolveCall { disputeId: dispute },
            )
            .await?;
        let ruled = dg
            .dispute(dispute)
            .call()
            .await
            .map_err(DevnetError::view("dispute"))?;
        if !ruled.decided {
            return Err(DevnetError::NotDecided {
                dispute,
                cast: U256::from(ruled.totalCast),
                total: U256::from(ruled.totalVoice),
            });
        }
        let timelock_wait = to_u64("executableAt", U256::from(ruled.executableAt))?
            .saturating_sub(self.chain_time().await?)
            + 1;
        self.warp(timelock_wait).await?;
        deployer
            .send(
                "execute",
                disputes,
                &DisputeGovernor::executeCall { disputeId: dispute },
            )
            .await?;

        // WrongResult slashes of the colluders: executable once the veto window is over.
        let ExecutedSlashes {
            ids: slash_ids,
            slashed,
            veto_wait,
        } = self
            .execute_wrong_result_slashes(d, request, &assigned[..2])
            .await?;
        let voice_cast_pct = if total_voice == 0 {
            0.0
        } else {
            let bps = cast * U256::from(10_000u32) / U256::from(total_voice);
            f64::from(u32::try_from(bps).map_err(|_| DevnetError::OutOfRange {
                what: "voice share",
                value: bps.to_string(),
            })?) / 100.0
        };
        let out = Dispute {
            case,
            request,
            colluders: [assigned[0], assigned[1]],
            honest: assigned[2],
            challenger: deployer.sender(),
            identity,
            dispute,
            options: options.len(),
            voice_cast_pct,
            quorum_bps: dg
                .quorumBps()
                .call()
                .await
                .map_err(DevnetError::view("quorumBps"))?,
            decided: ruled.decided,
            voting_period,
            timelock_wait,
            winner: ruled.winner,
            slash_ids,
            veto_wait,
            slashed,
        };
        self.say(Progress::Detail(out.summary()));
        Ok(out)
    }
}
