// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {IntegrationBase} from "../integration/IntegrationBase.sol";

/// @notice Base of the exploit regression suites (docs/security.md): the suite exactly as `DeploySuite`
///         deploys it with its default parameters, models registered through the timelock (the only admin),
///         operators with hot keys, requests, signed attestations and identities from an approved issuer.
abstract contract SecurityBase is IntegrationBase {
    bytes32 internal constant INPUT = keccak256("input");
    bytes32 internal constant OUT_A = keccak256("output A");
    bytes32 internal constant OUT_B = keccak256("output B");
    uint256 internal constant FEE = 1 ether;
    uint256 internal constant BOND = 100 ether;

    /// @dev Deterministic model (k = 3, q = 2) and optimistic model (k = 1), both with minStake 10,000.
    bytes32 internal detModel;
    bytes32 internal optModel;

    /// @dev Operators added by `_addOperator` (beyond IntegrationBase's three) and their hot keys.
    address[] internal ops;
    mapping(address operator => uint256 key) internal hotKey;

    address internal issuer = makeAddr("issuer");

    /// @dev Accounts linked through `_link`, per identity (a member consents to the next account joining).
    mapping(uint256 identityId => address[]) internal linkedAccounts;

    function setUp() public virtual override {
        super.setUp();
        detModel = _registerModel(IInferenceRegistry.VerificationMode.Deterministic, 3, 2, "det");
        optModel = _registerModel(IInferenceRegistry.VerificationMode.Optimistic, 1, 1, "opt");
        vm.prank(client);
        s.token.approve(address(s.registry), type(uint256).max);
        vm.prank(challenger);
        s.token.approve(address(s.registry), type(uint256).max);
        vm.prank(address(s.timelock));
        s.identity.approveIssuer(issuer);
    }

    /// @dev The registry escrows fees, bonds and unclaimed credits: count it in the conservation check.
    function _accountedBalances() internal view virtual override returns (uint256) {
        return super._accountedBalances() + s.token.balanceOf(address(s.registry));
    }

    // ------------------------------------------------------------------ models & operators

    function _modelParams(IInferenceRegistry.VerificationMode mode, uint8 k, uint8 q)
        internal
        pure
        returns (IInferenceRegistry.ModelParams memory)
    {
        return IInferenceRegistry.ModelParams({
            mode: mode,
            k: k,
            q: q,
            challengeWindow: 1 hours,
            minStake: 10_000 ether,
            challengeBond: BOND,
            minFee: 0.01 ether
        });
    }

    function _registerModel(IInferenceRegistry.VerificationMode mode, uint8 k, uint8 q, string memory tag)
        internal
        returns (bytes32 id)
    {
        vm.prank(address(s.timelock));
        id = s.registry.registerModel(keccak256(bytes(tag)), keccak256("runtime"), _modelParams(mode, k, q));
    }

    /// @dev Registers a new operator `name` with `stake` of self-stake; it serves `models`.
    function _addOperator(string memory name, uint256 stake, bytes32[] memory models)
        internal
        returns (address op)
    {
        op = makeAddr(name);
        (address hot, uint256 key) = makeAddrAndKey(string.concat(name, "-hot"));
        hotKey[op] = key;
        _fund(op);
        vm.startPrank(op);
        s.staking.registerOperator(hot, stake);
        for (uint256 i; i < models.length; ++i) {
            s.registry.serveModel(models[i]);
        }
        vm.stopPrank();
        ops.push(op);
    }

    /// @dev `count` operators with `stake` each, serving both models.
    function _addOperators(uint256 count, uint256 stake) internal {
        bytes32[] memory models = new bytes32[](2);
        (models[0], models[1]) = (detModel, optModel);
        for (uint256 i; i < count; ++i) {
            _addOperator(string.concat("op", vm.toString(ops.length)), stake, models);
        }
    }

    // ------------------------------------------------------------------ requests & attestations

    function _request(bytes32 model) internal returns (uint256 rid) {
        vm.prank(client);
        rid = s.registry.requestInference(model, INPUT, "", FEE, uint40(block.timestamp + 1 hours));
    }

    function _att(uint256 rid, address op, bytes32 out)
        internal
        view
        returns (IInferenceRegistry.Attestation memory)
    {
        return IInferenceRegistry.Attestation(op, rid, s.registry.request(rid).modelId, INPUT, out);
    }

    function _sign(IInferenceRegistry.Attestation memory a) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 sig) = vm.sign(hotKey[a.operator], s.registry.attestationDigest(a));
        return abi.encodePacked(r, sig, v);
    }

    /// @dev `op` answers `rid` with `out`.
    function _answer(uint256 rid, address op, bytes32 out) internal {
        IInferenceRegistry.Attestation memory a = _att(rid, op, out);
        s.registry.submitAttestation(a, _sign(a));
    }

    /// @dev Every assigned operator of `rid` answers `out`.
    function _answerAll(uint256 rid, bytes32 out) internal {
        address[] memory assigned = s.registry.assignedOperators(rid);
        for (uint256 i; i < assigned.length; ++i) {
            _answer(rid, assigned[i], out);
        }
    }

    // ------------------------------------------------------------------ identities

    /// @dev A new identity of `issuer` with `accounts` linked to it (each accepts its offer).
    function _identity(address[] memory accounts) internal returns (uint256 id) {
        vm.prank(issuer);
        id = s.identity.createIdentity();
        for (uint256 i; i < accounts.length; ++i) {
            _link(accounts[i], id);
        }
    }

    function _identity(address account) internal returns (uint256) {
        address[] memory accounts = new address[](1);
        accounts[0] = account;
        return _identity(accounts);
    }

    /// @dev Links `account` to identity `id`: if the identity already has accounts, one of them (linked
    ///      through this helper) consents first; then the issuer offers and the account accepts.
    function _link(address account, uint256 id) internal virtual {
        if (s.identity.accountCount(id) != 0) {
            vm.prank(_linkedMember(id));
            s.identity.consentToLink(account);
        }
        vm.prank(issuer);
        s.identity.offerLink(account, id);
        vm.prank(account);
        s.identity.acceptLink(id);
        linkedAccounts[id].push(account);
    }

    /// @dev An account still linked to `id` among those linked through `_link`.
    function _linkedMember(uint256 id) internal view returns (address) {
        address[] storage accounts = linkedAccounts[id];
        for (uint256 i; i < accounts.length; ++i) {
            if (s.identity.identityOf(accounts[i]) == id) return accounts[i];
        }
        revert("SecurityBase: no member of the identity linked through _link");
    }
}
