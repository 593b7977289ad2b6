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

    /// @notice `issuer` was approved (it takes a voice slot; reverts when none is free).
    /// @param issuer The issuer.
    function onIssuerApproved(address issuer) external;

    /// @notice `issuer` was revoked: the voice of all its identities counts zero from now on.
    /// @param issuer The issuer.
    function onIssuerRevoked(address issuer) external;
}

/// @title IdentityRegistry
/// @notice Links accounts to identities for quadratic voting. Governance (the admin, the timelock in
///         production) approves and revokes issuers. An approved issuer creates identities and offers links;
///         the account accepts. Joining an identity that already has accounts also needs the consent of one
///         of them (`consentToLink`), because every linked account controls the identity's voice (delegation,
///         override votes). An issuer therefore vouches for persons but cannot move, redirect or spend the
///         voice of stake it does not own: it cannot link an account without that account's acceptance,
///         cannot add an account to an identity without a member's consent, and cannot unlink anybody.
///         One account belongs to at most one identity. An account may leave at any time (its stake then
///         joins the unattested pool); the admin may also unlink it. An identity whose last account left is
///         closed for good (its old delegatee is never inherited by a newcomer).
/// @dev An offer records how many links the identity had when it was made; it can only be accepted while
///      nobody else has joined since (so the account joins exactly the membership it was offered) and
///      cannot be renewed by the issuer while pending (only the account can decline it).
contract IdentityRegistry is AccessControl {
    /// @notice Role of approved identity issuers.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");

    /// @notice Lower bound of {linkCooldown} (blocks).
    uint256 public constant MIN_LINK_COOLDOWN = 1;
    /// @notice Upper bound of {linkCooldown} (blocks; about 30 days at 12 s).
    uint256 public constant MAX_LINK_COOLDOWN = 216_000;
    /// @notice Initial {linkCooldown}: 50,400 blocks (about 7 days at 12 s), longer than a proposal's voting
    ///         delay plus voting period and a dispute's window, so stake that left an identity sits out (in
    ///         the unattested pool) through every snapshot of the votes that identity may be voting in.
    uint256 public constant DEFAULT_LINK_COOLDOWN = 50_400;

    struct Identity {
        address issuer; // zero = the identity does not exist
        uint32 accounts; // accounts linked now
        uint32 joins; // links ever accepted (offer nonce; accounts == 0 && joins != 0 means closed)
        uint32 term; // the issuer's approval term it was created in (a revoked term's identities are dead)
    }

    /// @notice The voice tracker told about every link change (wired once).
    IIdentityObserver public observer;
    /// @notice Number of identities issued so far (ids start at 1).
    uint256 public identityCount;
    /// @notice Blocks an account must wait after leaving an identity before it can accept a new link.
    uint256 public linkCooldown = DEFAULT_LINK_COOLDOWN;

    // the issuer's current approval term (bumped on every approval)
    mapping(address issuer => uint32 term) private _issuerTerm;
    // block of the account's last unlink (0 = never)
    mapping(address account => uint256 blockNumber) private _unlinkedAt;

    mapping(address account => uint256 identityId) private _identityOf;
    mapping(uint256 identityId => Identity) private _identities;
    // 0 = no offer, else the identity's `joins` at offer time + 1
    mapping(address account => mapping(uint256 identityId => uint256 offer)) private _offers;
    // the member that consented to `account` joining (consumed on accept)
    mapping(uint256 identityId => mapping(address account => address member)) private _consents;

    /// @notice An identity was created by `issuer`.
    event IdentityCreated(uint256 indexed identityId, address indexed issuer);
    /// @notice `issuer` offered to link `account` to `identityId`.
    event LinkOffered(address indexed account, uint256 indexed identityId, address indexed issuer);
    /// @notice `account` declined (cleared) its pending offer for `identityId`.
    event LinkDeclined(address indexed account, uint256 indexed identityId);
    /// @notice `member` of `identityId` consents to `account` joining it.
    event LinkConsented(uint256 indexed identityId, address indexed account, address indexed member);
    /// @notice `member` of `identityId` withdrew the consent for `account`.
    event LinkConsentWithdrawn(uint256 indexed identityId, address indexed account, address indexed member);
    /// @notice `account` is now linked to `identityId`.
    event AccountLinked(address indexed account, uint256 indexed identityId);
    /// @notice `account` is no longer linked to `identityId`.
    event AccountUnlinked(address indexed account, uint256 indexed identityId, address indexed by);
    /// @notice The last account of `identityId` left: it can never be joined again.
    event IdentityClosed(uint256 indexed identityId);
    /// @notice The observer was wired.
    event ObserverWired(address indexed observer);
    /// @notice `issuer` was approved for its `term`-th time.
    event IssuerApproved(address indexed issuer, uint256 term);
    /// @notice `issuer` was revoked: its identities lose their voice for good.
    event IssuerRevoked(address indexed issuer, uint256 term);
    /// @notice {linkCooldown} changed.
    event LinkCooldownSet(uint256 oldBlocks, uint256 newBlocks);

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
    /// @notice `account` already has a pending offer for `identityId` (it may decline it first).
    error LinkAlreadyOffered(address account, uint256 identityId);
    /// @notice Somebody joined `identityId` after the offer was made; the account must decline it and get a
    ///         new offer.
    error IdentityChangedSinceOffer(uint256 identityId);
    /// @notice `identityId` lost its last account and is closed.
    error ClosedIdentity(uint256 identityId);
    /// @notice No current member of `identityId` consented to `account` joining it.
    error LinkNotConsented(address account, uint256 identityId);
    /// @notice There is no consent for `account` to withdraw in `identityId`.
    error NoLinkConsent(address account, uint256 identityId);
    /// @notice `caller` may not unlink `account`.
    error UnauthorizedUnlink(address caller, address account);
    /// @notice The observer is not wired yet (issuers can be approved only once voice is tracked).
    error NotWired();
    /// @notice `identityId` was created in an issuer term that was revoked: it can never be linked again.
    error RevokedIdentity(uint256 identityId);
    /// @notice `account` left an identity recently and may accept a new link from block `readyAt` on.
    error LinkCooldownActive(address account, uint256 readyAt);
    /// @notice Issuers cannot renounce their role (that would silence their identities): governance revokes.
    error IssuerCannotRenounce();
    /// @notice A parameter is outside its bounds.
    error ParameterOutOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max);

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

    /// @notice Approves `issuer`: it starts a new term and takes one of the observer's voice slots
    ///         (`TooManyIssuers` when all are held). Identities of an earlier, revoked term stay dead. Only the
    ///         admin; the observer must be wired.
    /// @param issuer The issuer to approve.
    function approveIssuer(address issuer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (issuer == address(0)) revert ZeroAddress();
        _grantRole(ISSUER_ROLE, issuer);
    }

    /// @notice Revokes `issuer`: it can no longer create identities or offer links, its pending offers can
    ///         no longer be accepted, and the voice of ALL its identities counts zero from this block on (one
    ///         call to the observer, no loop over accounts). Its identities can never be linked again, even
    ///         if it is approved again; their accounts may unlink (their stake rejoins the unattested pool).
    ///         Only the admin.
    /// @param issuer The issuer to revoke.
    function revokeIssuer(address issuer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _revokeRole(ISSUER_ROLE, issuer);
    }

    /// @notice Sets {linkCooldown}. Only the admin.
    /// @param blocks The new cooldown, within [MIN_LINK_COOLDOWN, MAX_LINK_COOLDOWN].
    function setLinkCooldown(uint256 blocks) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (blocks < MIN_LINK_COOLDOWN || blocks > MAX_LINK_COOLDOWN) {
            revert ParameterOutOfBounds("linkCooldown", blocks, MIN_LINK_COOLDOWN, MAX_LINK_COOLDOWN);
        }
        emit LinkCooldownSet(linkCooldown, blocks);
        linkCooldown = blocks;
    }

    /// @notice Renouncing is refused for the issuer role (an issuer could otherwise silence all its
    ///         identities at once); other roles renounce as in AccessControl.
    /// @param role The role.
    /// @param callerConfirmation The caller's address (AccessControl's confirmation).
    function renounceRole(bytes32 role, address callerConfirmation) public override {
        if (role == ISSUER_ROLE) revert IssuerCannotRenounce();
        super.renounceRole(role, callerConfirmation);
    }

    /// @notice Creates a new identity owned by the calling issuer (in its current term).
    /// @return identityId The new identity's id.
    function createIdentity() external onlyRole(ISSUER_ROLE) returns (uint256 identityId) {
        identityId = ++identityCount;
        _identities[identityId] = Identity(msg.sender, 0, 0, _issuerTerm[msg.sender]);
        emit IdentityCreated(identityId, msg.sender);
    }

    /// @notice Offers to link `account` to `identityId` (an identity of the calling issuer). The account
    ///         accepts with {acceptLink}; if the identity already has accounts, one of them must also
    ///         consent ({consentToLink}). The offer is void once anybody else joins the identity.
    /// @param account The account to link.
    /// @param identityId The identity to link it to.
    function offerLink(address account, uint256 identityId) external onlyRole(ISSUER_ROLE) {
        if (account == address(0)) revert ZeroAddress();
        Identity memory idn = _identities[identityId];
        if (idn.issuer == address(0)) revert UnknownIdentity(identityId);
        if (idn.issuer != msg.sender) revert NotIdentityIssuer(msg.sender, identityId);
        if (idn.term != _issuerTerm[msg.sender]) revert RevokedIdentity(identityId);
        if (idn.accounts == 0 && idn.joins != 0) revert ClosedIdentity(identityId);
        if (_offers[account][identityId] != 0) revert LinkAlreadyOffered(account, identityId);
        _offers[account][identityId] = uint256(idn.joins) + 1;
        emit LinkOffered(account, identityId, msg.sender);
    }

    /// @notice Clears the caller's pending offer for `identityId` (e.g. one that went stale).
    /// @param identityId The identity offered.
    function declineLink(uint256 identityId) external {
        if (_offers[msg.sender][identityId] == 0) revert NoPendingLink(msg.sender, identityId);
        delete _offers[msg.sender][identityId];
        emit LinkDeclined(msg.sender, identityId);
    }

    /// @notice Consents, as a linked account, to `account` joining the caller's identity. Consumed when
    ///         `account` accepts; counts only while the caller is still linked to the identity.
    /// @param account The account allowed to join.
    function consentToLink(address account) external {
        if (account == address(0)) revert ZeroAddress();
        uint256 identityId = _identityOf[msg.sender];
        if (identityId == 0) revert AccountNotLinked(msg.sender);
        _consents[identityId][account] = msg.sender;
        emit LinkConsented(identityId, account, msg.sender);
    }

    /// @notice Withdraws the consent for `account` to join the caller's identity. Any linked account.
    /// @param account The account no longer allowed to join.
    function withdrawLinkConsent(address account) external {
        uint256 identityId = _identityOf[msg.sender];
        if (identityId == 0) revert AccountNotLinked(msg.sender);
        if (_consents[identityId][account] == address(0)) revert NoLinkConsent(account, identityId);
        delete _consents[identityId][account];
        emit LinkConsentWithdrawn(identityId, account, msg.sender);
    }

    /// @notice Accepts a pending link offer for `identityId`. The offering issuer must still be approved
    ///         (in the term the identity was created in), nobody may have joined the identity since the
    ///         offer, if the identity has accounts one of them must have consented, and an account that left
    ///         an identity must have waited {linkCooldown} blocks.
    /// @param identityId The identity offered.
    function acceptLink(uint256 identityId) external {
        address account = msg.sender;
        uint256 offer = _offers[account][identityId];
        if (offer == 0) revert NoPendingLink(account, identityId);
        uint256 current = _identityOf[account];
        if (current != 0) revert AccountAlreadyLinked(account, current);
        uint256 left = _unlinkedAt[account];
        if (left != 0 && block.number < left + linkCooldown) {
            revert LinkCooldownActive(account, left + linkCooldown);
        }
        Identity memory idn = _identities[identityId];
        if (!hasRole(ISSUER_ROLE, idn.issuer)) {
            revert AccessControlUnauthorizedAccount(idn.issuer, ISSUER_ROLE);
        }
        if (idn.term != _issuerTerm[idn.issuer]) revert RevokedIdentity(identityId);
        if (offer != uint256(idn.joins) + 1) revert IdentityChangedSinceOffer(identityId);
        if (idn.accounts != 0) {
            address member = _consents[identityId][account];
            if (member == address(0) || _identityOf[member] != identityId) {
                revert LinkNotConsented(account, identityId);
            }
            delete _consents[identityId][account];
        } else if (idn.joins != 0) {
            revert ClosedIdentity(identityId);
        }
        delete _offers[account][identityId];
        _identityOf[account] = identityId;
        _identities[identityId] = Identity(idn.issuer, idn.accounts + 1, idn.joins + 1, idn.term);
        emit AccountLinked(account, identityId);
        observer.onIdentityChanged(account, 0, identityId);
    }

    /// @notice Unlinks `account` from its identity. Only the account itself or the admin (an issuer cannot:
    ///         unlinking moves the account's voice). Unlinking the last account closes the identity. The
    ///         account's stake rejoins the unattested pool at once; it may accept a new link only
    ///         {linkCooldown} blocks later.
    /// @param account The account to unlink.
    function unlink(address account) external {
        uint256 identityId = _identityOf[account];
        if (identityId == 0) revert AccountNotLinked(account);
        if (msg.sender != account && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert UnauthorizedUnlink(msg.sender, account);
        }
        delete _identityOf[account];
        _unlinkedAt[account] = block.number;
        uint32 left = --_identities[identityId].accounts;
        emit AccountUnlinked(account, identityId, msg.sender);
        if (left == 0) emit IdentityClosed(identityId);
        observer.onIdentityChanged(account, identityId, 0);
    }

    /// @notice The first block at which `account` may accept a link (0 = it never left an identity).
    /// @param account The account.
    /// @return The block number.
    function linkReadyAt(address account) external view returns (uint256) {
        uint256 left = _unlinkedAt[account];
        // slither-disable-next-line incorrect-equality
        return left == 0 ? 0 : left + linkCooldown;
    }

    /// @notice The current approval term of `issuer` (0 = never approved; bumped on every approval).
    /// @param issuer The issuer.
    /// @return The term.
    function issuerTerm(address issuer) external view returns (uint256) {
        return _issuerTerm[issuer];
    }

    /// @notice Whether `identityId` belongs to a revoked term of its issuer (its voice counts zero for good).
    /// @param identityId The identity.
    /// @return True when its issuer was revoked since it was created.
    function isRevoked(uint256 identityId) external view returns (bool) {
        Identity memory idn = _identities[identityId];
        return idn.issuer != address(0)
            && (idn.term != _issuerTerm[idn.issuer] || !hasRole(ISSUER_ROLE, idn.issuer));
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
        return _identities[identityId].issuer;
    }

    /// @notice Number of accounts linked to `identityId`.
    /// @param identityId The identity.
    /// @return The number of linked accounts.
    function accountCount(uint256 identityId) external view returns (uint256) {
        return _identities[identityId].accounts;
    }

    /// @notice Whether `identityId` lost its last account (it can never be joined again).
    /// @param identityId The identity.
    /// @return True when closed.
    function isClosed(uint256 identityId) external view returns (bool) {
        Identity memory idn = _identities[identityId];
        return idn.accounts == 0 && idn.joins != 0;
    }

    /// @notice Whether `account` has a pending offer for `identityId` that it could accept now as far as the
    ///         offer goes (nobody joined since; consent and issuer approval are checked on accept).
    /// @param account The account.
    /// @param identityId The identity.
    /// @return pending An offer is recorded (it may be stale).
    /// @return current The offer is not stale.
    function linkOffer(address account, uint256 identityId)
        external
        view
        returns (bool pending, bool current)
    {
        uint256 offer = _offers[account][identityId];
        pending = offer != 0;
        current = pending && offer == uint256(_identities[identityId].joins) + 1;
    }

    /// @dev Every grant of the issuer role (approveIssuer or AccessControl.grantRole) starts a new term and
    ///      takes a voice slot in the observer.
    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (granted && role == ISSUER_ROLE) {
            if (address(observer) == address(0)) revert NotWired();
            uint32 term = ++_issuerTerm[account];
            emit IssuerApproved(account, term);
            observer.onIssuerApproved(account);
        }
    }

    /// @dev Every revocation of the issuer role silences the issuer's identities in the observer.
    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (revoked && role == ISSUER_ROLE) {
            emit IssuerRevoked(account, _issuerTerm[account]);
            observer.onIssuerRevoked(account);
        }
    }

    /// @notice The member whose consent lets `account` join `identityId` (zero = none, or no longer valid).
    /// @param identityId The identity.
    /// @param account The account.
    /// @return member The consenting member, if it is still linked to the identity.
    function linkConsent(uint256 identityId, address account) external view returns (address member) {
        member = _consents[identityId][account];
        if (member != address(0) && _identityOf[member] != identityId) member = address(0);
    }
}
