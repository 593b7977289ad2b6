// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccountStakeObserver} from "../interfaces/IStakeObservers.sol";
import {IStaking} from "../interfaces/IStaking.sol";
import {HeadCheckpoints} from "./HeadCheckpoints.sol";
import {IIdentityObserver} from "./IdentityRegistry.sol";
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
///      - per delegate: attested voice A_d (high 104 bits) | unattested stake U_d (low 104 bits);
///      - global: attested voice sum A (high) | unattested pool stake S_u (low);
///      - per identity: summed stake and delegatee; per account: identity and (unattested) delegatee.
///      getPastVotes(d, t) = A_d(t) + U_d(t) * sqrt(S_u(t)) / S_u(t); total voice = A(t) + sqrt(S_u(t)).
///      Stakes are bounded by 2^104 - 1 (SafeCast), far above any realistic supply. The delegate and global
///      traces keep their latest checkpoint in one slot (HeadCheckpoints) so votes cost one SLOAD each.
contract QuadraticVotes is IERC5805, IAccountStakeObserver, IIdentityObserver, EIP712, Nonces {
    using Checkpoints for Checkpoints.Trace208;
    using HeadCheckpoints for HeadCheckpoints.Trace;

    uint256 private constant _HALF = 104;
    uint256 private constant _MASK = (uint256(1) << 104) - 1;
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

    /// @notice `account`'s stake, as reported by Staking, moved from `oldStake` to `newStake`.
    event StakeObserved(address indexed account, uint256 oldStake, uint256 newStake);
    /// @notice `account` moved from identity `oldId` to `newId` (0 = the unattested pool).
    event IdentityObserved(address indexed account, uint256 indexed oldId, uint256 indexed newId);
    /// @notice New voice components of `delegatee`: attested voice and unattested stake.
    event DelegateVoiceChanged(address indexed delegatee, uint256 attestedVoice, uint256 unattestedStake);
    /// @notice New global totals: attested voice sum and unattested pool stake.
    event TotalVoiceChanged(uint256 attestedVoice, uint256 unattestedStake);

    /// @notice `caller` is not allowed to call this function.
    error UnauthorizedCaller(address caller);
    /// @notice A zero address was given.
    error ZeroAddress();
    /// @notice `timepoint` is not in the past (`clock` is the current block).
    error ERC5805FutureLookup(uint256 timepoint, uint48 clock);

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
                // first account of the identity: the identity inherits the account's delegatee
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
        return _votes(_delegateCkpt[account].latest(), _globalCkpt.latest());
    }

    /// @notice Votes of `account` as a delegate at past block `timepoint`.
    /// @param account The delegate.
    /// @param timepoint A past block number.
    /// @return The votes.
    function getPastVotes(address account, uint256 timepoint) external view returns (uint256) {
        uint48 t = _past(timepoint);
        uint256 p = _delegateCkpt[account].upperLookupRecent(t);
        // the pool is read only when the delegate holds unattested stake
        return _votes(p, p & _MASK == 0 ? 0 : _globalCkpt.upperLookupRecent(t));
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
        uint256 g = _globalCkpt.upperLookupRecent(t);
        return (_votes(_delegateCkpt[account].upperLookupRecent(t), g), _total(g));
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
            voice = Math.sqrt(_identityStake[id].upperLookupRecent(t));
        } else {
            holder = bytes32(uint256(uint160(account)));
            delegatee = address(uint160(_accountDelegate[account].upperLookupRecent(t)));
            if (delegatee == address(0)) delegatee = account;
            uint256 s = staking.getPastStake(account, t);
            uint256 su = _globalCkpt.upperLookupRecent(t) & _MASK;
            voice = su == 0 ? 0 : Math.mulDiv(s, Math.sqrt(su), su);
        }
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
    /// @return attestedVoice Sum of square roots of the identities delegating to it.
    /// @return unattestedStake Unattested stake delegated to it.
    function delegateComponents(address delegatee)
        external
        view
        returns (uint256 attestedVoice, uint256 unattestedStake)
    {
        uint256 p = _delegateCkpt[delegatee].latest();
        return (p >> _HALF, p & _MASK);
    }

    /// @notice Current global components.
    /// @return attestedVoice Sum of square roots over identities.
    /// @return unattestedStake Total unattested stake S_u.
    function totalComponents() external view returns (uint256 attestedVoice, uint256 unattestedStake) {
        uint256 g = _globalCkpt.latest();
        return (g >> _HALF, g & _MASK);
    }

    // ------------------------------------------------------------------ internals

    function _delegate(address account, address delegatee) private {
        if (delegatee == address(0)) revert ZeroAddress();
        uint256 id = _accountIdentity[account].latest();
        address old;
        if (id != 0) {
            old = address(uint160(_identityDelegate[id].latest()));
            _push(_identityDelegate[id], uint160(delegatee));
            if (old != delegatee) {
                uint256 v = Math.sqrt(_identityStake[id].latest());
                _updateDelegate(old, v, 0, 0, 0);
                _updateDelegate(delegatee, 0, v, 0, 0);
            }
        } else {
            old = _unattestedDelegate(account);
            _push(_accountDelegate[account], uint160(delegatee));
            if (old != delegatee) {
                uint256 s = _stake[account];
                _updateDelegate(old, 0, 0, s, 0);
                _updateDelegate(delegatee, 0, 0, 0, s);
            }
        }
        emit DelegateChanged(account, old, delegatee);
    }

    function _setIdentityStake(uint256 id, uint256 oldStake, uint256 newStake) private {
        _push(_identityStake[id], newStake);
        uint256 vOld = Math.sqrt(oldStake);
        uint256 vNew = Math.sqrt(newStake);
        if (vOld == vNew) return;
        _updateDelegate(address(uint160(_identityDelegate[id].latest())), vOld, vNew, 0, 0);
        _updateGlobal(vOld, vNew, 0, 0);
    }

    function _movePool(address d, uint256 oldStake, uint256 newStake) private {
        if (oldStake == newStake) return;
        _updateDelegate(d, 0, 0, oldStake, newStake);
        _updateGlobal(0, 0, oldStake, newStake);
    }

    function _updateDelegate(address d, uint256 aSub, uint256 aAdd, uint256 uSub, uint256 uAdd) private {
        uint256 p = _delegateCkpt[d].latest();
        uint256 a = (p >> _HALF) - aSub + aAdd;
        uint256 u = (p & _MASK) - uSub + uAdd;
        _delegateCkpt[d].push(clock(), _pack(a, u));
        emit DelegateVoiceChanged(d, a, u);
    }

    function _updateGlobal(uint256 aSub, uint256 aAdd, uint256 uSub, uint256 uAdd) private {
        uint256 g = _globalCkpt.latest();
        uint256 a = (g >> _HALF) - aSub + aAdd;
        uint256 u = (g & _MASK) - uSub + uAdd;
        _globalCkpt.push(clock(), _pack(a, u));
        emit TotalVoiceChanged(a, u);
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

    function _votes(uint256 p, uint256 g) private pure returns (uint256) {
        uint256 u = p & _MASK;
        uint256 v = p >> _HALF;
        if (u != 0) {
            uint256 su = g & _MASK;
            v += Math.mulDiv(u, Math.sqrt(su), su);
        }
        return v;
    }

    function _total(uint256 g) private pure returns (uint256) {
        return (g >> _HALF) + Math.sqrt(g & _MASK);
    }
}
