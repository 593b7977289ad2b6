// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccountStakeObserver} from "../interfaces/IStakeObservers.sol";
import {IStaking} from "../interfaces/IStaking.sol";
import {HeadCheckpoints} from "./HeadCheckpoints.sol";
import {IIdentityObserver, IdentityRegistry} from "./IdentityRegistry.sol";
import {IERC5805} from "@openzeppelin/contracts/interfaces/IERC5805.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";

/// @title QuadraticVotes
/// @notice Governance voice for verinfer: quadratic PER IDENTITY. The voice of an identity is the square root
///         of the summed stake of all its accounts; all unattested stake shares ONE square root (the pool's
///         voice is sqrt(S_u), an unattested account's share is linear inside it: s * sqrt(S_u) / S_u). Voice
///         goes to a delegatee (default: the account itself); a delegate's votes are the SUM of the square
///         roots it receives, so delegating never loses power. Exposes the IERC5805 surface the OpenZeppelin
///         Governor reads (block-number clock).
/// @dev Checkpoints (OZ Trace208, key = block number) are kept incrementally:
///      - per delegate: raw attested voice A_d (88 bits) | slot bitmap (16) | unattested stake U_d (low 104);
///      - global: effective attested voice sum (88 bits) | bitmap of capped or ever-revoked slots (16) |
///        unattested pool stake S_u (low 104);
///      - per identity: summed stake and delegatee; per account: identity and (unattested) delegatee.
///      getPastVotes(d, t) = A_d(t) - (corrections of flagged slots) + U_d(t) * sqrt(S_u(t)) / S_u(t);
///      total voice = sum of effective issuer voice (t) + sqrt(S_u(t)).
///      Stakes are bounded by 2^104 - 1 (SafeCast), far above any realistic supply. The delegate and global
///      traces keep their latest checkpoint in one slot (HeadCheckpoints) so votes cost one SLOAD each.
///      Per-issuer cap: every approved issuer holds one of MAX_ISSUERS slots. A slot's trace keeps the raw
///      attested voice A_i of the issuer's identities and its effective voice min(A_i, M), where the cap
///      level M solves M = issuerCapBps/10000 * (sqrt(S_u) + sum_j min(A_j, M)) (water-filling over the
///      slots), but never falls below the smallest live issuer's voice (then all live issuers hold equal
///      shares). A delegate keeps one trace per slot it received voice from (its slot bitmap sits in its head
///      checkpoint) and receives A_{d,i} * min(A_i, M) / A_i from slot i; only slots
///      flagged in the global checkpoint (capped, or ever revoked) are read when votes are counted. Revoking an issuer bumps its slot's
///      generation: every delegate value and identity recorded under the old generation counts zero from
///      that block on, without touching them.
contract QuadraticVotes is IERC5805, IAccountStakeObserver, IIdentityObserver, EIP712, Nonces {
    using Checkpoints for Checkpoints.Trace208;
    using HeadCheckpoints for HeadCheckpoints.Trace;

    uint256 private constant _HALF = 104;
    uint256 private constant _MASK = (uint256(1) << 104) - 1;
    // the high half of the delegate checkpoint: a voice sum (88 bits) over a 16-slot bitmap; of the global
    // checkpoint: a voice sum (87 bits) over the pool-capped bit (bit 120) and a 16-slot bitmap
    uint256 private constant _HI = 120;
    uint256 private constant _SUM = 121;
    uint256 private constant _MASK96 = (uint256(1) << 96) - 1;
    uint256 private constant _BPS = 10_000;

    /// @notice Most issuers approved at once (each holds one voice slot).
    uint256 public constant MAX_ISSUERS = 16;
    /// @notice Lower bound of {issuerCapBps}.
    uint256 public constant MIN_ISSUER_CAP_BPS = 500;
    /// @notice Upper bound of {issuerCapBps}.
    uint256 public constant MAX_ISSUER_CAP_BPS = 5000;
    /// @notice Initial {issuerCapBps}: 25%, below the third that blocks a two-thirds supermajority, so the
    ///         identities of one captured issuer can neither pass a proposal nor block its own revocation.
    uint256 public constant DEFAULT_ISSUER_CAP_BPS = 2500;
    /// @notice The unattested pool's cap level, in basis points of the issuer cap level M: sqrt(2) - 1. The
    ///         pool is one shared identity; capped at (sqrt(2) - 1) * M, a holder at the cap who adds the pool
    ///         to its identity gains at most sqrt(2), the bound of the uncapped Sybil argument.
    uint256 public constant POOL_LEVEL_BPS = 4142;
    bytes32 private constant _DELEGATION_TYPEHASH =
        keccak256("Delegation(address delegatee,uint256 nonce,uint256 expiry)");

    /// @notice The staking contract (the only caller of {onAccountStakeChanged}).
    IStaking public immutable staking;
    /// @notice The identity registry (the only caller of {onIdentityChanged}).
    address public immutable identityRegistry;

    mapping(address account => uint256 stake) private _stake;
    mapping(address delegatee => HeadCheckpoints.Trace) private _delegateCkpt;
    HeadCheckpoints.Trace private _globalCkpt;
    mapping(uint256 identityId => Checkpoints.Trace208) private _identityStake;
    mapping(uint256 identityId => Checkpoints.Trace208) private _identityDelegate;
    mapping(address account => Checkpoints.Trace208) private _accountIdentity;
    mapping(address account => Checkpoints.Trace208) private _accountDelegate;

    /// @notice Largest share of the total voice, in basis points, that the identities of one issuer hold
    ///         while the cap can be met (see the contract's dev note).
    uint256 public issuerCapBps = DEFAULT_ISSUER_CAP_BPS;
    // bitmap of the slots held by approved issuers
    uint16 private _assignedSlots;
    // bitmap of the slots that were ever revoked (delegates may hold values of an older generation there)
    uint16 private _revokedSlots;
    // slot + 1 of an approved issuer (0 = none)
    mapping(address issuer => uint256 slotPlusOne) private _issuerSlot;
    mapping(uint256 slot => address issuer) private _slotIssuer;
    // per slot: generation (high 16 bits) | raw attested voice A_i (96) | effective voice min(A_i, M) (low 96)
    HeadCheckpoints.Trace[16] private _issuerCkpt;
    // per (delegate, slot): generation (bits 96..111) | attested voice received from the slot (low 96)
    mapping(address delegatee => mapping(uint256 slot => HeadCheckpoints.Trace)) private _delegateIssuerCkpt;
    // per identity, fixed at its first link: 1 + slot + (generation << 8); 0 = never linked
    mapping(uint256 identityId => uint256 slotKey) private _identitySlot;
    // the pool's effective voice min(sqrt(S_u), POOL_LEVEL_BPS * M), read only at blocks where the global
    // checkpoint flags the pool as capped
    HeadCheckpoints.Trace private _poolCkpt;
    // per slot: the block at which the slot last stopped being capped (0 = never); a (delegate, slot) value is
    // read only while its slot is flagged, so a value written while the slot was never flagged since needs
    // no history
    mapping(uint256 slot => uint256 blockNumber) private _uncappedAt;
    // number of live attested identities with non-zero voice (the governor's count of voices, with the pool)
    HeadCheckpoints.Trace private _voiceCountCkpt;
    // per slot: how many of the current generation's identities have non-zero voice (moved out on revocation)
    mapping(uint256 slot => uint256 count) private _slotVoices;

    /// @notice `account`'s stake, as reported by Staking, moved from `oldStake` to `newStake`.
    event StakeObserved(address indexed account, uint256 oldStake, uint256 newStake);
    /// @notice `account` moved from identity `oldId` to `newId` (0 = the unattested pool).
    event IdentityObserved(address indexed account, uint256 indexed oldId, uint256 indexed newId);
    /// @notice New voice components of `delegatee`: raw attested voice (the square roots it receives, before
    ///         the issuer cap and revocations, which scale it per issuer: `IssuerVoiceChanged`) and unattested
    ///         stake. Exact votes are `getVotes`/`getPastVotes`.
    event DelegateVoiceChanged(address indexed delegatee, uint256 attestedVoice, uint256 unattestedStake);
    /// @notice New global totals: effective attested voice (after the issuer cap) and unattested pool stake.
    event TotalVoiceChanged(uint256 attestedVoice, uint256 unattestedStake);
    /// @notice `issuer` was approved and holds voice slot `slot`, generation `generation`.
    event IssuerSlotAssigned(address indexed issuer, uint256 indexed slot, uint256 generation);
    /// @notice `issuer` was revoked: the voice of its identities (slot `slot`, generation `generation`)
    ///         counts zero from this block on.
    event IssuerVoiceRevoked(address indexed issuer, uint256 indexed slot, uint256 generation);
    /// @notice New voice of issuer slot `slot`: raw attested voice and effective (capped) voice.
    event IssuerVoiceChanged(uint256 indexed slot, uint256 attestedVoice, uint256 effectiveVoice);
    /// @notice {issuerCapBps} changed.
    event IssuerCapSet(uint256 oldBps, uint256 newBps);
    /// @notice The unattested pool is over its cap level: its voice counts `effectiveVoice` instead of
    ///         `rawVoice` = sqrt(S_u), shared by the unattested accounts in proportion to their stake.
    event PoolVoiceCapped(uint256 rawVoice, uint256 effectiveVoice);
    /// @notice The number of live attested identities with non-zero voice is now `identities` (see
    ///         {getPastVoiceCount}).
    event VoiceCountChanged(uint256 identities);

    /// @notice `caller` is not allowed to call this function.
    error UnauthorizedCaller(address caller);
    /// @notice A zero address was given.
    error ZeroAddress();
    /// @notice `timepoint` is not in the past (`clock` is the current block).
    error ERC5805FutureLookup(uint256 timepoint, uint48 clock);
    /// @notice All MAX_ISSUERS voice slots are held by approved issuers.
    error TooManyIssuers();
    /// @notice `issuer` holds no voice slot (it is not approved).
    error IssuerWithoutSlot(address issuer);
    /// @notice A parameter is outside its bounds.
    error ParameterOutOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max);

    /// @param staking_ The staking contract.
    /// @param identityRegistry_ The identity registry.
    constructor(IStaking staking_, address identityRegistry_) EIP712("QuadraticVotes", "1") {
        if (address(staking_) == address(0) || identityRegistry_ == address(0)) revert ZeroAddress();
        staking = staking_;
        identityRegistry = identityRegistry_;
    }

    // ------------------------------------------------------------------ hooks

    /// @notice Staking reports that `account`'s recorded active stake is now `newStake`. Only Staking.
    /// @dev The previous value is taken from this contract's own record (the `oldStake` argument is only
    ///      logged), so the books stay consistent even if a report was skipped.
    /// @param account The account.
    /// @param oldStake Staking's previous value (logged).
    /// @param newStake The new recorded active stake.
    function onAccountStakeChanged(address account, uint256 oldStake, uint256 newStake) external {
        if (msg.sender != address(staking)) revert UnauthorizedCaller(msg.sender);
        uint256 prev = _stake[account];
        emit StakeObserved(account, oldStake, newStake);
        if (prev == newStake) return;
        _stake[account] = newStake;
        uint256 id = _accountIdentity[account].latest();
        if (id != 0) {
            uint256 idStake = _identityStake[id].latest();
            _setIdentityStake(id, idStake, idStake - prev + newStake);
        } else {
            _movePool(_unattestedDelegate(account), prev, newStake);
        }
    }

    /// @notice The identity registry reports that `account` moved from `oldId` to `newId`. Only the registry.
    /// @param account The account.
    /// @param oldId The previous identity (0 = unattested).
    /// @param newId The new identity (0 = unattested).
    function onIdentityChanged(address account, uint256 oldId, uint256 newId) external {
        if (msg.sender != identityRegistry) revert UnauthorizedCaller(msg.sender);
        uint256 s = _stake[account];
        // leave the old side
        if (oldId != 0) {
            uint256 idStake = _identityStake[oldId].latest();
            _setIdentityStake(oldId, idStake, idStake - s);
        } else {
            _movePool(_unattestedDelegate(account), s, 0);
        }
        _push(_accountIdentity[account], newId);
        // join the new side
        if (newId != 0) {
            if (_identityDelegate[newId].latest() == 0) {
                // first account of the identity: it joins its issuer's voice slot (for good) and inherits
                // the account's delegatee
                address iss = IdentityRegistry(identityRegistry).issuerOf(newId);
                uint256 slotPlusOne = _issuerSlot[iss];
                if (slotPlusOne == 0) revert IssuerWithoutSlot(iss);
                uint256 slot = slotPlusOne - 1;
                _identitySlot[newId] = slotPlusOne + (_gen(_issuerCkpt[slot].latest()) << 8);
                address d = _unattestedDelegate(account);
                _push(_identityDelegate[newId], uint160(d));
                emit DelegateChanged(account, address(0), d);
            }
            uint256 idStake = _identityStake[newId].latest();
            _setIdentityStake(newId, idStake, idStake + s);
        } else {
            _movePool(_unattestedDelegate(account), 0, s);
        }
        emit IdentityObserved(account, oldId, newId);
    }

    /// @notice The identity registry reports that `issuer` was approved: it takes a free voice slot. Only
    ///         the registry.
    /// @param issuer The issuer.
    function onIssuerApproved(address issuer) external {
        if (msg.sender != identityRegistry) revert UnauthorizedCaller(msg.sender);
        uint256 assigned = _assignedSlots;
        uint256 slot;
        while (slot < MAX_ISSUERS && assigned & (uint256(1) << slot) != 0) ++slot;
        if (slot == MAX_ISSUERS) revert TooManyIssuers();
        // casting is safe: slot < MAX_ISSUERS = 16
        // forge-lint: disable-next-line(unsafe-typecast)
        _assignedSlots = uint16(assigned | (uint256(1) << slot));
        _issuerSlot[issuer] = slot + 1;
        _slotIssuer[slot] = issuer;
        emit IssuerSlotAssigned(issuer, slot, _gen(_issuerCkpt[slot].latest()));
    }

    /// @notice The identity registry reports that `issuer` was revoked: the voice of all its identities
    ///         counts zero from this block on, for the totals and every delegate (its slot's generation is
    ///         bumped; nothing is looped over). Its identities stay voiceless for good, even if the issuer
    ///         is approved again (it then gets a new slot generation). Only the registry.
    /// @param issuer The issuer.
    function onIssuerRevoked(address issuer) external {
        if (msg.sender != identityRegistry) revert UnauthorizedCaller(msg.sender);
        uint256 slotPlusOne = _issuerSlot[issuer];
        if (slotPlusOne == 0) revert IssuerWithoutSlot(issuer);
        uint256 slot = slotPlusOne - 1;
        delete _issuerSlot[issuer];
        delete _slotIssuer[slot];
        // casting is safe: slot < MAX_ISSUERS = 16
        // forge-lint: disable-next-line(unsafe-typecast)
        _assignedSlots &= ~uint16(uint256(1) << slot);
        // forge-lint: disable-next-line(unsafe-typecast)
        _revokedSlots |= uint16(uint256(1) << slot);
        uint256 gen = _gen(_issuerCkpt[slot].latest());
        _issuerCkpt[slot].push(clock(), SafeCast.toUint208(uint256(SafeCast.toUint16(gen + 1)) << 192));
        emit IssuerVoiceRevoked(issuer, slot, gen);
        emit IssuerVoiceChanged(slot, 0, 0);
        // its identities stop counting as voices, all at once
        uint256 gone = _slotVoices[slot];
        if (gone != 0) {
            delete _slotVoices[slot];
            _pushVoiceCount(_voiceCountCkpt.latest() - gone);
        }
        _updateGlobal(MAX_ISSUERS, 0, 0, 0, 0);
    }

    /// @notice Sets {issuerCapBps} and re-checkpoints the cap level. Only the identity registry's admin
    ///         (the timelock in production).
    /// @param bps The new cap, within [MIN_ISSUER_CAP_BPS, MAX_ISSUER_CAP_BPS].
    function setIssuerCapBps(uint256 bps) external {
        if (!IdentityRegistry(identityRegistry).hasRole(bytes32(0), msg.sender)) {
            revert UnauthorizedCaller(msg.sender);
        }
        if (bps < MIN_ISSUER_CAP_BPS || bps > MAX_ISSUER_CAP_BPS) {
            revert ParameterOutOfBounds("issuerCapBps", bps, MIN_ISSUER_CAP_BPS, MAX_ISSUER_CAP_BPS);
        }
        emit IssuerCapSet(issuerCapBps, bps);
        issuerCapBps = bps;
        _updateGlobal(MAX_ISSUERS, 0, 0, 0, 0);
    }

    // ------------------------------------------------------------------ delegation

    /// @notice Delegates the caller's voice to `delegatee`. For an attested account this moves the voice
    ///         of its whole identity (any linked account may do so); otherwise the account's pool share.
    /// @param delegatee The new delegatee (non-zero).
    function delegate(address delegatee) external {
        _delegate(msg.sender, delegatee);
    }

    /// @notice Delegates by EIP-712 signature (`Delegation(address delegatee,uint256 nonce,uint256 expiry)`).
    /// @param delegatee The new delegatee.
    /// @param nonce The signer's current nonce.
    /// @param expiry The signature's expiry (timestamp).
    /// @param v Signature v.
    /// @param r Signature r.
    /// @param s Signature s.
    function delegateBySig(address delegatee, uint256 nonce, uint256 expiry, uint8 v, bytes32 r, bytes32 s)
        external
    {
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp > expiry) revert VotesExpiredSignature(expiry);
        address signer = ECDSA.recover(
            _hashTypedDataV4(keccak256(abi.encode(_DELEGATION_TYPEHASH, delegatee, nonce, expiry))), v, r, s
        );
        _useCheckedNonce(signer, nonce);
        _delegate(signer, delegatee);
    }

    // ------------------------------------------------------------------ views (IERC5805)

    /// @notice The current timepoint (block number).
    /// @return The block number.
    function clock() public view returns (uint48) {
        return Time.blockNumber();
    }

    /// @notice ERC-6372 clock description.
    /// @return The clock mode.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() external pure returns (string memory) {
        return "mode=blocknumber&from=default";
    }

    /// @notice Current votes of `account` as a delegate.
    /// @param account The delegate.
    /// @return The votes.
    function getVotes(address account) external view returns (uint256) {
        return _votesAt(account, clock());
    }

    /// @notice Votes of `account` as a delegate at past block `timepoint`.
    /// @param account The delegate.
    /// @param timepoint A past block number.
    /// @return The votes.
    function getPastVotes(address account, uint256 timepoint) external view returns (uint256) {
        return _votesAt(account, _past(timepoint));
    }

    /// @notice Total voice at past block `timepoint`: sum of per-identity square roots plus sqrt of the pool.
    /// @param timepoint A past block number.
    /// @return The total voice.
    function getPastTotalSupply(uint256 timepoint) external view returns (uint256) {
        return _total(_globalCkpt.upperLookupRecent(_past(timepoint)));
    }

    /// @notice Votes of `account` and the total voice at past block `timepoint`, in one call.
    /// @param account The delegate.
    /// @param timepoint A past block number.
    /// @return votes The delegate's votes.
    /// @return total The total voice.
    function getPastVotesAndTotal(address account, uint256 timepoint)
        external
        view
        returns (uint256 votes, uint256 total)
    {
        uint48 t = _past(timepoint);
        return (_votesAt(account, t), _total(_globalCkpt.upperLookupRecent(t)));
    }

    /// @notice Current total voice.
    /// @return The total voice.
    function totalVoice() external view returns (uint256) {
        return _total(_globalCkpt.latest());
    }

    /// @notice The delegatee of `account`'s voice (its identity's delegatee when attested).
    /// @param account The account.
    /// @return The delegatee.
    function delegates(address account) public view returns (address) {
        uint256 id = _accountIdentity[account].latest();
        if (id != 0) return address(uint160(_identityDelegate[id].latest()));
        return _unattestedDelegate(account);
    }

    /// @notice The voice holder `account` belonged to at past block `timepoint`, its delegatee and its
    ///         voice. The holder is the identity (`bytes32(id | 1 << 255)`) when attested, else the account
    ///         (`bytes32(uint160(account))`). Used for delegation overrides and dispute exclusions.
    /// @param account The account.
    /// @param timepoint A past block number.
    /// @return holder The holder key.
    /// @return delegatee The holder's delegatee at `timepoint`.
    /// @return voice The holder's own voice at `timepoint`.
    function getPastHolder(address account, uint256 timepoint)
        external
        view
        returns (bytes32 holder, address delegatee, uint256 voice)
    {
        uint48 t = _past(timepoint);
        uint256 id = _accountIdentity[account].upperLookupRecent(t);
        if (id != 0) {
            holder = bytes32(id | (uint256(1) << 255));
            delegatee = address(uint160(_identityDelegate[id].upperLookupRecent(t)));
            uint256 key = _identitySlot[id];
            uint256 g = _issuerCkpt[(key - 1) & 0xff].upperLookupRecent(t);
            uint256 a = (g >> 96) & _MASK96;
            // the identity's share of its issuer's effective voice (zero once the issuer was revoked)
            if (_gen(g) == key >> 8 && a != 0) {
                voice = Math.mulDiv(Math.sqrt(_identityStake[id].upperLookupRecent(t)), g & _MASK96, a);
            }
        } else {
            holder = bytes32(uint256(uint160(account)));
            delegatee = address(uint160(_accountDelegate[account].upperLookupRecent(t)));
            if (delegatee == address(0)) delegatee = account;
            uint256 s = staking.getPastStake(account, t);
            uint256 g = _globalCkpt.upperLookupRecent(t);
            uint256 su = g & _MASK;
            voice = su == 0 ? 0 : Math.mulDiv(s, _poolVoiceAt(g, t), su);
        }
    }

    /// @notice The number of distinct voices at past block `timepoint`: the attested identities with non-zero
    ///         voice (of approved, unrevoked issuers), plus one for the unattested pool when it holds stake.
    ///         The governor scales its residual rule by it. Nobody can lower it except by giving up their own
    ///         voice: delegation does not change it, and splitting unattested stake still counts one.
    /// @param timepoint A past block number.
    /// @return The number of voices.
    function getPastVoiceCount(uint256 timepoint) external view returns (uint256) {
        uint48 t = _past(timepoint);
        return _voiceCountCkpt.upperLookupRecent(t) + (_globalCkpt.upperLookupRecent(t) & _MASK == 0 ? 0 : 1);
    }

    /// @notice The identity of `account` at past block `timepoint` (0 = unattested).
    /// @param account The account.
    /// @param timepoint A past block number.
    /// @return The identity id.
    function getPastIdentity(address account, uint256 timepoint) external view returns (uint256) {
        return _accountIdentity[account].upperLookupRecent(_past(timepoint));
    }

    /// @notice Current identity of `account` (0 = unattested).
    /// @param account The account.
    /// @return The identity id.
    function identityOf(address account) external view returns (uint256) {
        return _accountIdentity[account].latest();
    }

    /// @notice Stake recorded for `account` (as last reported by Staking).
    /// @param account The account.
    /// @return The stake.
    function stakeOf(address account) external view returns (uint256) {
        return _stake[account];
    }

    /// @notice Current summed stake of `identityId`.
    /// @param identityId The identity.
    /// @return The stake.
    function identityStake(uint256 identityId) external view returns (uint256) {
        return _identityStake[identityId].latest();
    }

    /// @notice Current voice components of `delegatee`.
    /// @param delegatee The delegate.
    /// @return attestedVoice Attested voice it receives, after the issuer cap (each identity's square root
    ///         scaled by its issuer's effective/raw voice).
    /// @return unattestedStake Unattested stake delegated to it.
    function delegateComponents(address delegatee)
        external
        view
        returns (uint256 attestedVoice, uint256 unattestedStake)
    {
        uint256 p = _delegateCkpt[delegatee].latest();
        return (_attestedAt(delegatee, p >> _HALF, _globalCkpt.latest(), clock()), p & _MASK);
    }

    /// @notice Current voice of issuer slot `slot`.
    /// @param slot The slot (< MAX_ISSUERS).
    /// @return issuer The approved issuer holding it (zero = free).
    /// @return generation The slot's generation (bumped by every revocation).
    /// @return attestedVoice Raw attested voice A_i (sum of its live identities' square roots).
    /// @return effectiveVoice min(A_i, M): what its identities count for.
    function issuerVoice(uint256 slot)
        external
        view
        returns (address issuer, uint256 generation, uint256 attestedVoice, uint256 effectiveVoice)
    {
        uint256 g = _issuerCkpt[slot].latest();
        return (_slotIssuer[slot], _gen(g), (g >> 96) & _MASK96, g & _MASK96);
    }

    /// @notice Raw and effective voice of issuer slot `slot` at past block `timepoint`.
    /// @param slot The slot (< MAX_ISSUERS).
    /// @param timepoint A past block number.
    /// @return attestedVoice Raw attested voice A_i.
    /// @return effectiveVoice min(A_i, M).
    function getPastIssuerVoice(uint256 slot, uint256 timepoint)
        external
        view
        returns (uint256 attestedVoice, uint256 effectiveVoice)
    {
        uint256 g = _issuerCkpt[slot].upperLookupRecent(_past(timepoint));
        return ((g >> 96) & _MASK96, g & _MASK96);
    }

    /// @notice The voice slot of `issuer`.
    /// @param issuer The issuer.
    /// @return assigned Whether it holds one (it is approved).
    /// @return slot The slot (0 when not assigned).
    function issuerSlotOf(address issuer) external view returns (bool assigned, uint256 slot) {
        uint256 p = _issuerSlot[issuer];
        return (p != 0, p == 0 ? 0 : p - 1);
    }

    /// @notice The voice slot and generation `identityId` joined at its first link.
    /// @param identityId The identity.
    /// @return linked Whether it was ever linked (it has a slot).
    /// @return slot The slot.
    /// @return generation The slot generation; the identity has voice only while it is the slot's current one.
    function identitySlot(uint256 identityId)
        external
        view
        returns (bool linked, uint256 slot, uint256 generation)
    {
        uint256 key = _identitySlot[identityId];
        if (key == 0) return (false, 0, 0);
        return (true, (key - 1) & 0xff, key >> 8);
    }

    /// @notice Current global components.
    /// @return attestedVoice Effective attested voice: sum over issuers of min(A_i, M).
    /// @return unattestedStake Total unattested stake S_u.
    function totalComponents() external view returns (uint256 attestedVoice, uint256 unattestedStake) {
        uint256 g = _globalCkpt.latest();
        uint256 sum = g >> _SUM;
        if (_poolCapped(g)) sum -= _poolCkpt.latest();
        return (sum, g & _MASK);
    }

    /// @notice Current voice of the unattested pool.
    /// @return rawVoice sqrt(S_u).
    /// @return effectiveVoice What the pool counts for: rawVoice, or its cap level when over it.
    function poolVoice() external view returns (uint256 rawVoice, uint256 effectiveVoice) {
        uint256 g = _globalCkpt.latest();
        return (Math.sqrt(g & _MASK), _poolVoiceAt(g, clock()));
    }

    // ------------------------------------------------------------------ internals

    function _delegate(address account, address delegatee) private {
        if (delegatee == address(0)) revert ZeroAddress();
        uint256 id = _accountIdentity[account].latest();
        address old;
        if (id != 0) {
            old = address(uint160(_identityDelegate[id].latest()));
            _push(_identityDelegate[id], uint160(delegatee));
            (bool live, uint256 slot, uint256 gen) = _liveSlot(id);
            if (old != delegatee && live) {
                uint256 v = Math.sqrt(_identityStake[id].latest());
                _moveDelegateIssuerVoice(old, slot, gen, v, 0);
                _moveDelegateIssuerVoice(delegatee, slot, gen, 0, v);
            }
        } else {
            old = _unattestedDelegate(account);
            _push(_accountDelegate[account], uint160(delegatee));
            if (old != delegatee) {
                uint256 s = _stake[account];
                _updateDelegate(old, s, 0);
                _updateDelegate(delegatee, 0, s);
            }
        }
        emit DelegateChanged(account, old, delegatee);
    }

    function _setIdentityStake(uint256 id, uint256 oldStake, uint256 newStake) private {
        _push(_identityStake[id], newStake);
        uint256 vOld = Math.sqrt(oldStake);
        uint256 vNew = Math.sqrt(newStake);
        if (vOld == vNew) return;
        (bool live, uint256 slot, uint256 gen) = _liveSlot(id);
        // the identities of a revoked issuer are voiceless: their stake is still recorded, nothing else moves
        if (!live) return;
        // an identity gaining or losing all its voice joins or leaves the count of voices
        if (vOld == 0) {
            ++_slotVoices[slot];
            _pushVoiceCount(_voiceCountCkpt.latest() + 1);
        } else if (vNew == 0) {
            --_slotVoices[slot];
            _pushVoiceCount(_voiceCountCkpt.latest() - 1);
        }
        _moveDelegateIssuerVoice(address(uint160(_identityDelegate[id].latest())), slot, gen, vOld, vNew);
        _updateGlobal(slot, vOld, vNew, 0, 0);
    }

    function _movePool(address d, uint256 oldStake, uint256 newStake) private {
        if (oldStake == newStake) return;
        _updateDelegate(d, oldStake, newStake);
        _updateGlobal(MAX_ISSUERS, 0, 0, oldStake, newStake);
    }

    /// @dev The slot of `id` and whether its generation is the slot's current one (the issuer not revoked).
    function _liveSlot(uint256 id) private view returns (bool live, uint256 slot, uint256 gen) {
        uint256 key = _identitySlot[id];
        slot = (key - 1) & 0xff;
        gen = key >> 8;
        live = _gen(_issuerCkpt[slot].latest()) == gen;
    }

    /// @dev Moves attested voice received by `d` from slot `slot` (current generation `gen`) and keeps the
    ///      delegate's slot bitmap (high half of its head checkpoint) in step.
    function _moveDelegateIssuerVoice(address d, uint256 slot, uint256 gen, uint256 vSub, uint256 vAdd)
        private
    {
        (uint256 stale, uint256 v) = _pushDelegateIssuerVoice(d, slot, gen, vSub, vAdd);
        uint256 h = _delegateCkpt[d].latest();
        uint256 hi = h >> _HALF;
        uint256 a = (hi >> 16) - stale - vSub + vAdd;
        uint256 bits = v == 0 ? hi & ~(uint256(1) << slot) : hi | (uint256(1) << slot);
        _delegateCkpt[d].push(clock(), _pack((a << 16) | (bits & 0xffff), h & _MASK));
        emit DelegateVoiceChanged(d, a, h & _MASK);
    }

    /// @dev Writes delegate `d`'s value in slot `slot` (generation `gen`); a value recorded under an older
    ///      generation belongs to a revoked issuer: it is replaced and returned as `stale` (it still counts in
    ///      the delegate's raw sum, which the caller corrects).
    function _pushDelegateIssuerVoice(address d, uint256 slot, uint256 gen, uint256 vSub, uint256 vAdd)
        private
        returns (uint256 stale, uint256 v)
    {
        HeadCheckpoints.Trace storage tr = _delegateIssuerCkpt[d][slot];
        uint256 p = tr.latest();
        stale = _gen(p << 96) == gen ? 0 : p & _MASK96;
        v = (stale == 0 ? p & _MASK96 : 0) - vSub + vAdd;
        // the value is read only at blocks where the slot is flagged (capped or ever revoked): the previous
        // one needs a history entry only if the slot is flagged now or stopped being capped after it was set
        uint256 keepBefore = (_globalCkpt.latest() >> _HALF) & (uint256(1) << slot) != 0
            ? type(uint256).max
            : _uncappedAt[slot];
        tr.pushOrReplace(clock(), SafeCast.toUint208((gen << 96) | SafeCast.toUint96(v)), keepBefore);
    }

    function _updateDelegate(address d, uint256 uSub, uint256 uAdd) private {
        uint256 p = _delegateCkpt[d].latest();
        uint256 u = (p & _MASK) - uSub + uAdd;
        _delegateCkpt[d].push(clock(), _pack(p >> _HALF, u));
        emit DelegateVoiceChanged(d, p >> _HI, u);
    }

    /// @dev Re-runs the issuer cap after slot `changed`'s raw voice moved by `aAdd - aSub` (MAX_ISSUERS =
    ///      none) or the pool by `uAdd - uSub`; checkpoints every slot whose effective voice moved, the pool's
    ///      voice while it is capped, and the global totals. Bounded: at most MAX_ISSUERS approved slots are read.
    function _updateGlobal(uint256 changed, uint256 aSub, uint256 aAdd, uint256 uSub, uint256 uAdd) private {
        uint256 g0 = _globalCkpt.latest();
        uint256 assigned = _assignedSlots;
        uint256[] memory raw = new uint256[](MAX_ISSUERS);
        uint256[] memory head = new uint256[](MAX_ISSUERS);
        uint256 n = 0;
        for (uint256 i; i < MAX_ISSUERS; ++i) {
            if (assigned & (uint256(1) << i) == 0) continue;
            head[i] = _issuerCkpt[i].latest();
            raw[i] = (head[i] >> 96) & _MASK96;
            if (i == changed) raw[i] = raw[i] - aSub + aAdd;
            if (raw[i] != 0) ++n;
        }
        _recap(raw, head, n, changed, g0, (g0 & _MASK) - uSub + uAdd);
    }

    /// @dev Second half of {_updateGlobal}: the level over the slots' raw voices `raw` (`n` non-zero; their
    ///      latest checkpoints `head`) and the pool stake `su`, then the checkpoints.
    function _recap(
        uint256[] memory raw,
        uint256[] memory head,
        uint256 n,
        uint256 changed,
        uint256 g0,
        uint256 su
    ) private {
        uint256 p = Math.sqrt(su);
        (uint256 m, bool poolCapped) = _capLevel(raw, n, p);
        (uint256 sumEff, uint256 scaled) = _applyLevel(raw, head, m, changed, g0 >> _HALF);
        uint256 total = sumEff;
        if (poolCapped) {
            uint256 pe = Math.mulDiv(m, POOL_LEVEL_BPS, _BPS);
            total += pe;
            scaled |= uint256(1) << 16;
            if (!_poolCapped(g0) || _poolCkpt.latest() != pe) {
                _poolCkpt.push(clock(), SafeCast.toUint208(pe));
                emit PoolVoiceCapped(p, pe);
            }
        }
        _globalCkpt.push(clock(), _pack((total << 17) | scaled, su));
        emit TotalVoiceChanged(sumEff, su);
    }

    /// @dev Cuts every approved slot to the level `m`, checkpoints the slots whose effective voice moved (and
    ///      `changed`), records the block at which a capped slot stops being capped (`flaggedBefore`: the
    ///      previous global bitmap); returns the effective attested sum and the new bitmap of scaled slots
    ///      (capped now, or ever revoked).
    function _applyLevel(
        uint256[] memory raw,
        uint256[] memory head,
        uint256 m,
        uint256 changed,
        uint256 flaggedBefore
    ) private returns (uint256 sumEff, uint256 scaled) {
        uint256 assigned = _assignedSlots;
        uint256 revoked = _revokedSlots;
        scaled = revoked;
        for (uint256 i; i < MAX_ISSUERS; ++i) {
            uint256 bit = uint256(1) << i;
            if (assigned & bit == 0) continue;
            uint256 eff = Math.min(raw[i], m);
            sumEff += eff;
            if (eff != raw[i]) {
                scaled |= bit;
            } else if (flaggedBefore & bit != 0 && revoked & bit == 0) {
                // the slot stops being capped in this block
                _uncappedAt[i] = clock();
            }
            if (eff != head[i] & _MASK96 || i == changed) {
                _issuerCkpt[i].push(clock(), _packIssuer(_gen(head[i]), raw[i], eff));
                emit IssuerVoiceChanged(i, raw[i], eff);
            }
        }
    }

    /// @dev The cap level M and whether the pool is over its own level POOL_LEVEL_BPS * M. M is the largest
    ///      solution of M = c * (min(p, lambda M) + sum_j min(raw_j, M)), c = issuerCapBps, lambda =
    ///      POOL_LEVEL_BPS (water-filling over the `n` non-zero values of `raw` and the pool's voice `p`),
    ///      as long as at least one live issuer stays under it. When none would (too few issuers for the cap
    ///      with the pool cut), the pool is not cut and M solves M = c * (p + sum_j min(raw_j, M)), never below
    ///      the smallest non-zero value (when every issuer would be cut, all are cut to the smallest: equal
    ///      shares). Returns type(uint256).max when nothing is capped (always with fewer than two issuers).
    function _capLevel(uint256[] memory raw, uint256 n, uint256 p) private view returns (uint256, bool) {
        if (n < 2) return (type(uint256).max, false);
        // the non-zero values, sorted descending (insertion sort over at most MAX_ISSUERS)
        uint256[] memory a = new uint256[](n);
        uint256 k = 0;
        uint256 sum = 0;
        for (uint256 i; i < raw.length; ++i) {
            uint256 x = raw[i];
            if (x == 0) continue;
            sum += x;
            uint256 j = k++;
            while (j != 0 && a[j - 1] < x) {
                a[j] = a[j - 1];
                --j;
            }
            a[j] = x;
        }
        uint256 c = issuerCapBps;
        uint256 m = _levelWithPool(a, sum, p, c);
        if (m != 0) return (m, m != type(uint256).max && Math.mulDiv(m, POOL_LEVEL_BPS, _BPS) < p);
        // the pool stays whole: the issuers alone are water-filled over it
        uint256 rest = sum;
        for (k = 0; k < n; ++k) {
            m = Math.mulDiv(c, p + rest, _BPS - c * k);
            if (m >= a[k]) return (k == 0 ? type(uint256).max : m, false);
            rest -= a[k];
            // with k + 1 issuers capped the level could not be met (k + 1 shares of c reach 100%)
            if (c * (k + 1) >= _BPS) break;
        }
        // every issuer is cut: the level is the larger of the all-capped solution and the smallest voice
        uint256 mAll = c * n < _BPS ? Math.mulDiv(c, p, _BPS - c * n) : 0;
        return (Math.max(mAll, a[n - 1]), false);
    }

    /// @dev Water-filling over the issuers' sorted voices `a` (summing to `rest`) and the pool `p`, the pool
    ///      cut to POOL_LEVEL_BPS of the level: sources are cut from the highest threshold down (an issuer's
    ///      is its voice, the pool's is p / lambda) until the level for the cut ones reaches the next
    ///      threshold. Returns the level (type(uint256).max when nothing is cut), or 0 when every issuer
    ///      would be cut. At most MAX_ISSUERS + 1 rounds.
    function _levelWithPool(uint256[] memory a, uint256 rest, uint256 p, uint256 c)
        private
        pure
        returns (uint256)
    {
        uint256 n = a.length;
        rest += p;
        // weight of the cut sources, in basis points of the level (an issuer _BPS, the pool POOL_LEVEL_BPS)
        uint256 w = 0;
        uint256 i = 0;
        bool poolCut = p == 0;
        while (i < n && c * w < _BPS * _BPS) {
            uint256 m = Math.mulDiv(c * _BPS, rest, _BPS * _BPS - c * w);
            if (!poolCut && p * _BPS > a[i] * POOL_LEVEL_BPS) {
                // the pool's threshold is the next one
                if (Math.mulDiv(m, POOL_LEVEL_BPS, _BPS) >= p) return w == 0 ? type(uint256).max : m;
                rest -= p;
                w += POOL_LEVEL_BPS;
                poolCut = true;
            } else {
                if (m >= a[i]) return w == 0 ? type(uint256).max : m;
                rest -= a[i];
                w += _BPS;
                ++i;
            }
        }
        return 0;
    }

    function _pushVoiceCount(uint256 n) private {
        _voiceCountCkpt.push(clock(), SafeCast.toUint208(n));
        emit VoiceCountChanged(n);
    }

    /// @dev Pushes `value` at the current block; returns the previous and new values.
    function _push(Checkpoints.Trace208 storage trace, uint256 value)
        private
        returns (uint256 oldValue, uint256 newValue)
    {
        (oldValue, newValue) = trace.push(clock(), SafeCast.toUint208(value));
    }

    function _unattestedDelegate(address account) private view returns (address d) {
        d = address(uint160(_accountDelegate[account].latest()));
        if (d == address(0)) d = account;
    }

    function _past(uint256 timepoint) private view returns (uint48) {
        uint48 now_ = clock();
        if (timepoint >= now_) revert ERC5805FutureLookup(timepoint, now_);
        return SafeCast.toUint48(timepoint);
    }

    function _pack(uint256 a, uint256 u) private pure returns (uint208) {
        return SafeCast.toUint208((uint256(SafeCast.toUint104(a)) << _HALF) | SafeCast.toUint104(u));
    }

    /// @dev Votes of delegate `d` at `t` (t = clock() reads the latest checkpoints).
    function _votesAt(address d, uint48 t) private view returns (uint256 v) {
        uint256 p = _delegateCkpt[d].upperLookupRecent(t);
        uint256 u = p & _MASK;
        // the global checkpoint is read only when the delegate holds attested voice or unattested stake
        if (p == 0) return 0;
        uint256 g = _globalCkpt.upperLookupRecent(t);
        v = _attestedAt(d, p >> _HALF, g, t);
        if (u != 0) {
            uint256 su = g & _MASK;
            v += Math.mulDiv(u, _poolVoiceAt(g, t), su);
        }
    }

    /// @dev Attested voice of delegate `d` at `t`, from the high half `hi` of its checkpoint (raw sum over
    ///      its slot values | slot bitmap) and the global checkpoint `g` (whose high half flags the slots that
    ///      are capped or were ever revoked). Only flagged slots are read: there the raw value A_{d,i} is
    ///      replaced by A_{d,i} * eff_i / A_i, or by zero when it is of an older generation than the slot's.
    function _attestedAt(address d, uint256 hi, uint256 g, uint48 t) private view returns (uint256 v) {
        v = hi >> 16;
        uint256 bits = hi & (g >> _HALF) & 0xffff;
        for (uint256 i; bits != 0; ++i) {
            if (bits & 1 != 0) v -= _slotCut(d, i, t);
            bits >>= 1;
        }
    }

    /// @dev What the cap or a revocation takes from delegate `d`'s raw value in slot `slot` at `t`.
    function _slotCut(address d, uint256 slot, uint48 t) private view returns (uint256) {
        uint256 dv = _delegateIssuerCkpt[d][slot].upperLookupRecent(t);
        uint256 gs = _issuerCkpt[slot].upperLookupRecent(t);
        uint256 val = dv & _MASK96;
        uint256 a = (gs >> 96) & _MASK96;
        if (a == 0 || _gen(dv << 96) != _gen(gs)) return val;
        return val - Math.mulDiv(val, gs & _MASK96, a);
    }

    /// @dev The generation in an issuer checkpoint value (bits 192..207).
    function _gen(uint256 g) private pure returns (uint256) {
        return (g >> 192) & 0xffff;
    }

    function _packIssuer(uint256 gen, uint256 a, uint256 eff) private pure returns (uint208) {
        return SafeCast.toUint208(
            (uint256(SafeCast.toUint16(gen)) << 192) | (uint256(SafeCast.toUint96(a)) << 96)
                | SafeCast.toUint96(eff)
        );
    }

    /// @dev Total voice from a global checkpoint value: its sum includes the pool's voice when the pool is
    ///      capped, else the pool counts sqrt(S_u).
    function _total(uint256 g) private pure returns (uint256) {
        return (g >> _SUM) + (_poolCapped(g) ? 0 : Math.sqrt(g & _MASK));
    }

    function _poolCapped(uint256 g) private pure returns (bool) {
        return (g >> _HI) & 1 != 0;
    }

    /// @dev The pool's effective voice at `t`, given the global checkpoint value `g` at `t`.
    function _poolVoiceAt(uint256 g, uint48 t) private view returns (uint256) {
        return _poolCapped(g) ? _poolCkpt.upperLookupRecent(t) : Math.sqrt(g & _MASK);
    }
}
