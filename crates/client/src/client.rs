//! [`Client`]: a connection to a deployed suite through alloy's filler stack (gas estimation, nonces
//! read from the node for every transaction, chain id, the sender's wallet), with decoded reverts and
//! receipts polled against a deadline.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{keccak256, Address, Bytes, B256, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::state::{StateOverride, StateOverridesBuilder};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolEvent};
use verinfer_bindings::VerinferToken;
use verinfer_deploy::Manifest;

use verinfer_bindings::decode::{decode_revert, decode_revert_from, DecodedRevert};

use crate::error::ClientError;
use crate::rpc::{http_client, RetryConfig};

/// How transactions are awaited.
#[derive(Debug, Clone, Copy)]
pub struct SendOptions {
    /// Longest wait for a receipt before [`ClientError::ReceiptTimeout`].
    pub receipt_timeout: Duration,
    /// How often the receipt is polled.
    pub poll_interval: Duration,
}

impl Default for SendOptions {
    fn default() -> Self {
        Self {
            receipt_timeout: Duration::from_secs(60),
            poll_interval: Duration::from_millis(200),
        }
    }
}

/// A connection to the suite of one chain, as one sender (or read-only).
#[derive(Debug, Clone)]
pub struct Client {
    provider: DynProvider,
    sender: Option<Address>,
    chain_id: u64,
    manifest: Manifest,
    manifest_path: PathBuf,
    opts: SendOptions,
}

/// Parses an HTTP(S) RPC URL.
pub fn parse_url(url: &str) -> Result<alloy::transports::http::reqwest::Url, ClientError> {
    url.parse().map_err(|_| ClientError::InvalidUrl {
        url: url.to_owned(),
    })
}

impl Client {
    /// Connects to `rpc_url` as `signer`, reading the manifest at `deployment` (default
    /// `deployments/<chainId>.json` under the working directory) and checking it names this chain.
    pub async fn connect(
        rpc_url: &str,
        signer: PrivateKeySigner,
        deployment: Option<&Path>,
    ) -> Result<Self, ClientError> {
        let sender = signer.address();
        let provider = ProviderBuilder::default()
            .with_gas_estimation()
            .with_simple_nonce_management()
            .fetch_chain_id()
            .wallet(EthereumWallet::from(signer))
            .connect_client(http_client(parse_url(rpc_url)?, RetryConfig::default()))
            .erased();
        Self::with_provider(provider, Some(sender), rpc_url, deployment).await
    }

    /// Connects to `rpc_url` without a key: views and log reads only.
    pub async fn read_only(rpc_url: &str, deployment: Option<&Path>) -> Result<Self, ClientError> {
        let provider = ProviderBuilder::default()
            .connect_client(http_client(parse_url(rpc_url)?, RetryConfig::default()))
            .erased();
        Self::with_provider(provider, None, rpc_url, deployment).await
    }

    /// Wraps an existing provider (which must be able to sign for `sender`, if given).
    pub async fn with_provider(
        provider: DynProvider,
        sender: Option<Address>,
        rpc_url: &str,
        deployment: Option<&Path>,
    ) -> Result<Self, ClientError> {
        let chain_id =
            provider
                .get_chain_id()
                .await
                .map_err(|source| ClientError::Unreachable {
                    url: rpc_url.to_owned(),
                    source,
                })?;
        let manifest_path = deployment
            .map(Path::to_path_buf)
            .unwrap_or_else(|| Manifest::default_path(Path::new("."), chain_id));
        let manifest = Manifest::load(&manifest_path)?;
        if manifest.chain_id != chain_id {
            return Err(ClientError::WrongChain {
                path: manifest_path,
                manifest: manifest.chain_id,
                node: chain_id,
            });
        }
        Ok(Self {
            provider,
            sender,
            chain_id,
            manifest,
            manifest_path,
            opts: SendOptions::default(),
        })
    }

    /// With other send options.
    pub fn with_options(mut self, opts: SendOptions) -> Self {
        self.opts = opts;
        self
    }

    /// The provider (fillers and wallet included).
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// The sender; zero for a read-only client.
    pub fn sender(&self) -> Address {
        self.sender.unwrap_or_default()
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The deployment manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Where the manifest was read from.
    pub fn manifest_path(&self) -> &Path {
        &self.manifest_path
    }

    /// The address of the manifest's contract `name` (the error names the manifest field).
    pub fn contract(&self, name: &str) -> Result<Address, ClientError> {
        Ok(self.manifest.address(name, &self.manifest_path)?)
    }

    /// Sends `call` to `to` and waits for its receipt: simulated first with `eth_call` so a revert
    /// is reported decoded before anything is sent; gas, nonce and chain id come from the fillers.
    pub async fn send<C: SolCall>(
        &self,
        what: &str,
        to: Address,
        call: &C,
    ) -> Result<TransactionReceipt, ClientError> {
        self.send_raw(what, to, Bytes::from(call.abi_encode()), U256::ZERO)
            .await
    }

    /// [`send`](Self::send) with a gas limit of the node's estimate plus `margin_percent`: for a call
    /// into a contract that requests inference and then does more work (a consumer's `classify`, `ask`),
    /// whose smallest successful gas limit depends on the block's operator draw, so an exact estimate
    /// made in one block can fall short in the next (the registry's own request functions do not need it:
    /// their gas reserve makes exact estimates hold, docs/attestation.md).
    pub async fn send_with_gas_margin<C: SolCall>(
        &self,
        what: &str,
        to: Address,
        call: &C,
        margin_percent: u64,
    ) -> Result<TransactionReceipt, ClientError> {
        let tx = TransactionRequest::default()
            .with_from(self.sender())
            .with_to(to)
            .with_input(Bytes::from(call.abi_encode()));
        self.simulate(what, tx.clone()).await?;
        let estimate = self
            .provider
            .estimate_gas(tx.clone())
            .await
            .map_err(|e| self.classify(what, Some(to), e))?;
        let gas = estimate.saturating_mul(100 + margin_percent) / 100;
        self.send_checked(what, tx.with_gas_limit(gas)).await
    }

    /// [`send`](Self::send) with raw calldata and a value.
    pub async fn send_raw(
        &self,
        what: &str,
        to: Address,
        data: Bytes,
        value: U256,
    ) -> Result<TransactionReceipt, ClientError> {
        let tx = TransactionRequest::default()
            .with_from(self.sender())
            .with_to(to)
            .with_input(data)
            .with_value(value);
        self.simulate(what, tx.clone()).await?;
        self.send_checked(what, tx).await
    }

    /// Sends `tx` (already simulated) and waits for a successful receipt. A node that refuses the
    /// transaction from a sender that cannot pay for its gas is reported as
    /// [`ClientError::InsufficientFunds`] (the balance is checked when sending fails).
    async fn send_checked(
        &self,
        what: &str,
        tx: TransactionRequest,
    ) -> Result<TransactionReceipt, ClientError> {
        let to = tx.to.and_then(|k| k.to().copied());
        let pending = match self.provider.send_transaction(tx.clone()).await {
            Ok(p) => p,
            Err(e) => {
                if let Some(short) = self.funds_shortfall(what, &tx).await {
                    return Err(short);
                }
                return Err(self.classify(what, to, e));
            }
        };
        let receipt = self.wait_receipt(what, *pending.tx_hash()).await?;
        if !receipt.status() {
            return Err(ClientError::Reverted {
                what: what.to_owned(),
                tx: receipt.transaction_hash,
            });
        }
        Ok(receipt)
    }

    /// [`ClientError::InsufficientFunds`] when the sender's balance is below what `tx` needs
    /// (its gas limit, or the node's estimate, times the current max fee per gas, plus its value);
    /// `None` when it can pay or the check itself fails.
    pub async fn funds_shortfall(
        &self,
        what: &str,
        tx: &TransactionRequest,
    ) -> Option<ClientError> {
        let address = self.sender?;
        let balance = self.provider.get_balance(address).await.ok()?;
        let gas = match tx.gas {
            Some(g) => g,
            None => self.provider.estimate_gas(tx.clone()).await.ok()?,
        };
        let fees = self.provider.estimate_eip1559_fees().await.ok()?;
        let needed = U256::from(gas)
            .saturating_mul(U256::from(fees.max_fee_per_gas))
            .saturating_add(tx.value.unwrap_or_default());
        (balance < needed).then(|| ClientError::InsufficientFunds {
            what: what.to_owned(),
            address,
            balance,
            needed,
        })
    }

    /// `eth_call`s `tx`; a revert becomes [`ClientError::WouldRevert`] with the decoded reason.
    pub async fn simulate(&self, what: &str, tx: TransactionRequest) -> Result<Bytes, ClientError> {
        let to = tx.to.and_then(|k| k.to().copied());
        self.provider
            .call(tx)
            .await
            .map_err(|e| self.classify(what, to, e))
    }

    /// The manifest's name of the contract at `address`, if it is one of the suite's.
    pub fn contract_name(&self, address: Address) -> Option<&str> {
        self.manifest
            .contracts
            .iter()
            .find(|(_, a)| **a == address)
            .map(|(n, _)| n.as_str())
    }

    /// Decodes revert data of a call to `to` (labelled with its manifest name when it is a suite
    /// contract; see [`verinfer_bindings::decode`]).
    pub fn decode_revert(&self, to: Option<Address>, data: &[u8]) -> DecodedRevert {
        match to.and_then(|a| self.contract_name(a)) {
            Some(name) => decode_revert_from(data, name),
            None => decode_revert(data),
        }
    }

    fn classify(
        &self,
        what: &str,
        to: Option<Address>,
        e: alloy::transports::TransportError,
    ) -> ClientError {
        match e.as_error_resp().and_then(|p| p.as_revert_data()) {
            Some(data) => ClientError::WouldRevert {
                what: what.to_owned(),
                reason: Box::new(self.decode_revert(to, &data)),
                data,
            },
            None => ClientError::Rpc {
                what: what.to_owned(),
                source: e,
            },
        }
    }

    /// Polls the receipt of `tx` until it arrives or [`SendOptions::receipt_timeout`] passes (alloy's
    /// `get_receipt()` can wait forever on a dropped transaction).
    pub async fn wait_receipt(
        &self,
        what: &str,
        tx: alloy::primitives::B256,
    ) -> Result<TransactionReceipt, ClientError> {
        let deadline = Instant::now() + self.opts.receipt_timeout;
        loop {
            let r = self
                .provider
                .get_transaction_receipt(tx)
                .await
                .map_err(ClientError::rpc(format!("{what}: receipt of {tx}")))?;
            if let Some(r) = r {
                return Ok(r);
            }
            if Instant::now() >= deadline {
                return Err(ClientError::ReceiptTimeout {
                    what: what.to_owned(),
                    tx,
                    secs: self.opts.receipt_timeout.as_secs(),
                });
            }
            tokio::time::sleep(self.opts.poll_interval).await;
        }
    }

    /// Approves `spender` for `value` of the suite's token.
    pub async fn approve(
        &self,
        spender: Address,
        value: U256,
    ) -> Result<TransactionReceipt, ClientError> {
        let token = self.contract("VerinferToken")?;
        self.send(
            "approve",
            token,
            &VerinferToken::approveCall { spender, value },
        )
        .await
    }

    /// The sender's allowance to `spender` on the suite's token.
    pub async fn allowance(&self, spender: Address) -> Result<U256, ClientError> {
        let token = VerinferToken::new(self.contract("VerinferToken")?, &self.provider);
        token
            .allowance(self.sender(), spender)
            .call()
            .await
            .map_err(ClientError::view("reading the token allowance"))
    }

    /// Sends `call` to `to`, which pulls `value` of the suite's token from the sender through
    /// `transferFrom` by `spender`, approving `spender` first only when its allowance is short.
    ///
    /// The call is simulated before the approve is sent, with the allowance granted in the
    /// simulation (an `eth_call` state override of the token's allowance slot), so a call that
    /// would revert is reported decoded and leaves no approve mined. A node that ignores the
    /// override (checked by reading the allowance back under it) gets the approve, then the
    /// simulation; if the call would revert then, the previous allowance is restored.
    pub async fn send_with_allowance<C: SolCall>(
        &self,
        what: &str,
        to: Address,
        call: &C,
        spender: Address,
        value: U256,
    ) -> Result<TransactionReceipt, ClientError> {
        let previous = self.allowance(spender).await?;
        if previous >= value {
            return self.send(what, to, call).await;
        }
        let data = Bytes::from(call.abi_encode());
        let tx = TransactionRequest::default()
            .with_from(self.sender())
            .with_to(to)
            .with_input(data);
        match self.allowance_override(spender, value).await? {
            Some(overrides) => {
                self.provider
                    .call(tx)
                    .overrides(overrides)
                    .await
                    .map_err(|e| self.classify(what, Some(to), e))?;
                self.approve(spender, value).await?;
                self.send(what, to, call).await
            }
            None => {
                self.approve(spender, value).await?;
                match self.simulate(what, tx.clone()).await {
                    Ok(_) => self.send_checked(what, tx).await,
                    Err(e) => {
                        self.approve(spender, previous).await?;
                        Err(e)
                    }
                }
            }
        }
    }

    /// A state override giving `spender` an allowance of `value` from the sender on the suite's
    /// token (OpenZeppelin ERC20 layout: `_allowances` at slot 1), verified by reading the allowance
    /// back under it; `None` when the node does not honour it.
    async fn allowance_override(
        &self,
        spender: Address,
        value: U256,
    ) -> Result<Option<StateOverride>, ClientError> {
        use alloy::sol_types::SolValue;
        let token = self.contract("VerinferToken")?;
        let owner_slot = keccak256((self.sender(), U256::from(1)).abi_encode());
        let slot = keccak256((spender, owner_slot).abi_encode());
        let overrides: StateOverride = StateOverridesBuilder::default()
            .with_state_diff(token, [(slot, B256::from(value))])
            .into();
        let read = TransactionRequest::default()
            .with_to(token)
            .with_input(Bytes::from(
                VerinferToken::allowanceCall {
                    owner: self.sender(),
                    spender,
                }
                .abi_encode(),
            ));
        let honoured = match self.provider.call(read).overrides(overrides.clone()).await {
            Ok(ret) => VerinferToken::allowanceCall::abi_decode_returns(&ret).ok() == Some(value),
            Err(_) => false,
        };
        Ok(honoured.then_some(overrides))
    }

    /// The timestamp of the latest block.
    pub async fn chain_time(&self) -> Result<u64, ClientError> {
        let block = self
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(ClientError::rpc("reading the latest block"))?;
        Ok(block.map(|b| b.header.timestamp).unwrap_or_default())
    }
}

/// Every event of type `E` in `receipt` (others skipped).
pub fn events<E: SolEvent>(receipt: &TransactionReceipt) -> Vec<E> {
    receipt
        .inner
        .logs()
        .iter()
        .filter_map(|l| E::decode_log_data(l.data()).ok())
        .collect()
}

/// The first event of type `E` in `receipt`, or [`ClientError::MissingEvent`].
pub fn first_event<E: SolEvent>(
    what: &str,
    receipt: &TransactionReceipt,
) -> Result<E, ClientError> {
    events::<E>(receipt)
        .into_iter()
        .next()
        .ok_or_else(|| ClientError::MissingEvent {
            what: what.to_owned(),
            event: E::SIGNATURE,
            tx: receipt.transaction_hash,
        })
}
