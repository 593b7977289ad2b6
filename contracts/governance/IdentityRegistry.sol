// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title IIdentityObserver
/// @notice Told by `IdentityRegistry` whenever an account's identity changes (QuadraticVotes).
interface IIdentityObserver {
    /// @notice `account` moved from identity `oldId` to identity `newId` (0 = unattested).
    /// @param account The account whose link changed.
    /// @param oldId The identity it was linked to before (0 = none).
    /// @param newId The identity it is linked to now (0 = none).
    function onIdentityChanged(address account, uint256 oldId, uint256 newId) external;
}

/// @title IdentityRegistry
/// @notice Links accounts to identities for quadratic voting. Governance (the admin, the timelock in
///         production) approves and revokes issuers; an approved issuer offers a link of an account to one
///         of its identities and the account accepts it (two-step, so an issuer cannot move somebody's
///         stake under an identity it controls). One account belongs to at most one identity; an identity
///         may hold several accounts. An account may leave its identity at any time (its stake then joins
///         the unattested pool); the identity's issuer and the admin may also unlink it.
contract IdentityRegistry is AccessControl {
    /// @notice Role of approved identity issuers.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");

    /// @notice The voice tracker told about every link change (wired once).
    IIdentityObserver public observer;
    /// @notice Number of identities issued so far (ids start at 1).
    uint256 public identityCount;

    mapping(address account => uint256 identityId) private _identityOf;
    mapping(uint256 identityId => address issuer) private _issuerOf;
    mapping(uint256 identityId => uint256 accounts) private _accountCount;
    mapping(address account => uint256 identityId) private _pendingLink;

    /// @notice An identity was created by `issuer`.
    event IdentityCreated(uint256 indexed identityId, address indexed issuer);
    /// @notice `issuer` offered to link `account` to `identityId`.
    event LinkOffered(address indexed account, uint256 indexed identityId, address indexed issuer);
    /// @notice `account` is now linked to `identityId`.
    event AccountLinked(address indexed account, uint256 indexed identityId);
    /// @notice `account` is no longer linked to `identityId`.
    event AccountUnlinked(address indexed account, uint256 indexed identityId, address indexed by);
    /// @notice The observer was wired.
    event ObserverWired(address indexed observer);

    /// @notice The observer is already wired.
    error AlreadyWired();
    /// @notice A zero address was given.
    error ZeroAddress();
    /// @notice `identityId` does not exist.
    error UnknownIdentity(uint256 identityId);
    /// @notice `caller` is not the issuer of `identityId`.
    error NotIdentityIssuer(address caller, uint256 identityId);
    /// @notice `account` is already linked to `identityId`.
    error AccountAlreadyLinked(address account, uint256 identityId);
    /// @notice `account` is not linked to any identity.
    error AccountNotLinked(address account);
    /// @notice `account` has no pending link offer for `identityId`.
    error NoPendingLink(address account, uint256 identityId);
    /// @notice `caller` may not unlink `account`.
    error UnauthorizedUnlink(address caller, address account);

    /// @param admin The admin (timelock in production): approves and revokes issuers, wires the observer.
    constructor(address admin) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Wires the voice tracker. Once; only the admin.
    /// @param observer_ The QuadraticVotes contract.
    function wire(IIdentityObserver observer_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(observer) != address(0)) revert AlreadyWired();
        if (address(observer_) == address(0)) revert ZeroAddress();
        observer = observer_;
        emit ObserverWired(address(observer_));
    }

    /// @notice Approves `issuer`. Only the admin.
    /// @param issuer The issuer to approve.
    function approveIssuer(address issuer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (issuer == address(0)) revert ZeroAddress();
        _grantRole(ISSUER_ROLE, issuer);
    }

    /// @notice Revokes `issuer`: it can no longer create identities or offer links. Existing links stay
    ///         until unlinked (by their accounts or the admin). Only the admin.
    /// @param issuer The issuer to revoke.
    function revokeIssuer(address issuer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _revokeRole(ISSUER_ROLE, issuer);
    }

    /// @notice Creates a new identity owned by the calling issuer.
    /// @return identityId The new identity's id.
    function createIdentity() external onlyRole(ISSUER_ROLE) returns (uint256 identityId) {
        identityId = ++identityCount;
        _issuerOf[identityId] = msg.sender;
        emit IdentityCreated(identityId, msg.sender);
    }

    /// @notice Offers to link `account` to `identityId` (an identity of the calling issuer). The account
    ///         must accept with {acceptLink}.
    /// @param account The account to link.
    /// @param identityId The identity to link it to.
    function offerLink(address account, uint256 identityId) external onlyRole(ISSUER_ROLE) {
        if (account == address(0)) revert ZeroAddress();
        address issuer = _issuerOf[identityId];
        if (issuer == address(0)) revert UnknownIdentity(identityId);
        if (issuer != msg.sender) revert NotIdentityIssuer(msg.sender, identityId);
        _pendingLink[account] = identityId;
        emit LinkOffered(account, identityId, msg.sender);
    }

    /// @notice Accepts a pending link offer for `identityId`. The offering issuer must still be approved.
    /// @param identityId The identity offered.
    function acceptLink(uint256 identityId) external {
        address account = msg.sender;
        if (identityId == 0 || _pendingLink[account] != identityId) {
            revert NoPendingLink(account, identityId);
        }
        uint256 current = _identityOf[account];
        if (current != 0) revert AccountAlreadyLinked(account, current);
        address issuer = _issuerOf[identityId];
        if (!hasRole(ISSUER_ROLE, issuer)) revert AccessControlUnauthorizedAccount(issuer, ISSUER_ROLE);
        delete _pendingLink[account];
        _identityOf[account] = identityId;
        ++_accountCount[identityId];
        emit AccountLinked(account, identityId);
        observer.onIdentityChanged(account, 0, identityId);
    }

    /// @notice Unlinks `account` from its identity. The account itself, the identity's issuer, or the admin.
    /// @param account The account to unlink.
    function unlink(address account) external {
        uint256 identityId = _identityOf[account];
        if (identityId == 0) revert AccountNotLinked(account);
        if (
            msg.sender != account && msg.sender != _issuerOf[identityId]
                && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)
        ) revert UnauthorizedUnlink(msg.sender, account);
        delete _identityOf[account];
        --_accountCount[identityId];
        emit AccountUnlinked(account, identityId, msg.sender);
        observer.onIdentityChanged(account, identityId, 0);
    }

    /// @notice The identity `account` is linked to (0 = unattested).
    /// @param account The account.
    /// @return The identity id.
    function identityOf(address account) external view returns (uint256) {
        return _identityOf[account];
    }

    /// @notice The issuer of `identityId` (zero when it does not exist).
    /// @param identityId The identity.
    /// @return The issuer.
    function issuerOf(uint256 identityId) external view returns (address) {
        return _issuerOf[identityId];
    }

    /// @notice Number of accounts linked to `identityId`.
    /// @param identityId The identity.
    /// @return The number of linked accounts.
    function accountCount(uint256 identityId) external view returns (uint256) {
        return _accountCount[identityId];
    }

    /// @notice The identity `account` has a pending offer for (0 = none).
    /// @param account The account.
    /// @return The offered identity id.
    function pendingLink(address account) external view returns (uint256) {
        return _pendingLink[account];
    }
}
