// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {IStaking} from "../../contracts/interfaces/IStaking.sol";
import {InferenceRegistry} from "../../contracts/registry/InferenceRegistry.sol";
import {MockERC20} from "../mocks/MockERC20.sol";
import {MockSlasher} from "../mocks/MockSlasher.sol";
import {RegistryMockStaking as MockStaking} from "./mocks/RegistryMockStaking.sol";
import {TestResolver} from "./mocks/TestResolver.sol";

/// @notice Shared fixture: mock staking/slasher, a test resolver, six operators serving two models.
abstract contract RegistryBase is Test {
    MockERC20 internal token;
    MockStaking internal staking;
    MockSlasher internal slasher;
    IInferenceRegistry internal registry;
    TestResolver internal resolver;

    address internal admin = address(this);
    address internal treasury = makeAddr("treasury");
    address internal client = makeAddr("client");
    address internal challenger = makeAddr("challenger");

    uint256 internal constant N_OPS = 6;
    uint256 internal constant STAKE = 100e18;
    uint256 internal constant FEE = 1e18;
    uint256 internal constant BOND = 5e18;
    uint32 internal constant WINDOW = 1 hours;

    address[] internal ops;
    mapping(address operator => uint256 pk) internal signerKey;

    bytes32 internal detModel; // Deterministic k=3 q=2
    bytes32 internal optModel; // Optimistic

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        vm.roll(100);
        token = new MockERC20();
        staking = new MockStaking(token);
        slasher = new MockSlasher();
        registry = IInferenceRegistry(
            address(
                new InferenceRegistry(IStaking(address(staking)), ISlasher(address(slasher)), treasury, admin)
            )
        );
        resolver = new TestResolver();
        registry.wire(address(resolver));
        staking.setObserver(registry);

        detModel = registry.registerModel(keccak256("w-det"), keccak256("rt-det"), _detParams(3, 2));
        optModel = registry.registerModel(keccak256("w-opt"), keccak256("rt-opt"), _optParams());

        for (uint256 i; i < N_OPS; ++i) {
            _addOperator(string.concat("op", vm.toString(i)), STAKE);
        }
        token.mint(client, 1_000_000e18);
        vm.prank(client);
        token.approve(address(registry), type(uint256).max);
        token.mint(challenger, 1_000_000e18);
        vm.prank(challenger);
        token.approve(address(registry), type(uint256).max);
    }

    // ------------------------------------------------------------------ fixture helpers
    function _detParams(uint8 k, uint8 q) internal pure returns (IInferenceRegistry.ModelParams memory p) {
        p = IInferenceRegistry.ModelParams({
            mode: IInferenceRegistry.VerificationMode.Deterministic,
            k: k,
            q: q,
            challengeWindow: WINDOW,
            minStake: 10e18,
            challengeBond: BOND,
            minFee: 1e15
        });
    }

    function _optParams() internal pure returns (IInferenceRegistry.ModelParams memory p) {
        p = _detParams(1, 1);
        p.mode = IInferenceRegistry.VerificationMode.Optimistic;
    }

    function _addOperator(string memory name, uint256 stake) internal returns (address op) {
        op = makeAddr(name);
        (address signer, uint256 pk) = makeAddrAndKey(string.concat(name, "-hot"));
        signerKey[op] = pk;
        staking.setOperator(op, signer, stake);
        vm.startPrank(op);
        registry.serveModel(detModel);
        registry.serveModel(optModel);
        vm.stopPrank();
        ops.push(op);
    }

    function _request(bytes32 modelId) internal returns (uint256 rid) {
        vm.prank(client);
        rid = registry.requestInference(
            modelId,
            keccak256(abi.encode("input", block.timestamp)),
            "ipfs://in",
            FEE,
            uint40(block.timestamp + 1 hours)
        );
    }

    function _att(uint256 rid, address op, bytes32 out)
        internal
        view
        returns (IInferenceRegistry.Attestation memory a)
    {
        IInferenceRegistry.RequestView memory v = registry.request(rid);
        a = IInferenceRegistry.Attestation({
            operator: op, requestId: rid, modelId: v.modelId, inputHash: v.inputHash, outputHash: out
        });
    }

    function _sign(IInferenceRegistry.Attestation memory a, uint256 pk) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, registry.attestationDigest(a));
        return abi.encodePacked(r, s, v);
    }

    /// @dev Assigned operator `idx` of `rid` answers `out` (signed by its hot key, relayed by this contract).
    function _answer(uint256 rid, uint256 idx, bytes32 out) internal returns (address op) {
        op = registry.assignedOperators(rid)[idx];
        IInferenceRegistry.Attestation memory a = _att(rid, op, out);
        registry.submitAttestation(a, _sign(a, signerKey[op]));
    }

    function _leaf(address op, uint256 rid, bytes32 out) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(op, rid, out))));
    }

    function _status(uint256 rid) internal view returns (IInferenceRegistry.RequestStatus) {
        return registry.request(rid).status;
    }

    function _toFinal(uint256 rid) internal {
        vm.warp(registry.request(rid).windowEnd + 1);
    }

    function _isAssigned(uint256 rid, address op) internal view returns (bool) {
        address[] memory a = registry.assignedOperators(rid);
        for (uint256 i; i < a.length; ++i) {
            if (a[i] == op) return true;
        }
        return false;
    }
}
