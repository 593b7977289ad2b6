// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {IStaking} from "../../contracts/interfaces/IStaking.sol";
import {InferenceRegistry} from "../../contracts/registry/InferenceRegistry.sol";
import {Staking} from "../../contracts/staking/Staking.sol";
import {MockERC20} from "../mocks/MockERC20.sol";
import {MockSlasher} from "../mocks/MockSlasher.sol";
import {TestResolver} from "./mocks/TestResolver.sol";
import {RegistryActors} from "./utils/RegistryActors.sol";

/// @notice Fixture: the registry wired to the real Staking contract (Slasher still mocked).
abstract contract RegistryStakingBase is RegistryActors {
    MockSlasher internal slasher;
    TestResolver internal resolver;

    address internal admin = address(this);
    address internal client = makeAddr("client");
    address internal delegator = makeAddr("delegator");
    bytes32 internal model;

    uint256 internal constant SELF = 100e18;
    bytes32 internal constant OUT = keccak256("out");

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        vm.roll(100);
        token = new MockERC20();
        staking = new Staking(token, admin, 10e18, 14 days, 1 hours);
        slasher = new MockSlasher();
        registry = IInferenceRegistry(
            address(
                new InferenceRegistry(
                    IStaking(address(staking)), ISlasher(address(slasher)), makeAddr("treasury"), admin
                )
            )
        );
        resolver = new TestResolver();
        registry.wire(address(resolver));
        staking.wire(address(slasher), address(0), address(registry));
        model = registry.registerModel(
            keccak256("w"),
            keccak256("rt"),
            IInferenceRegistry.ModelParams({
                mode: IInferenceRegistry.VerificationMode.Deterministic,
                k: 3,
                q: 2,
                challengeWindow: 1 hours,
                minStake: 50e18,
                challengeBond: 5e18,
                minFee: 1e15
            })
        );
        bytes32[] memory served = new bytes32[](1);
        served[0] = model;
        _addOperators(5, SELF, served);
        _fund(client, 1000e18, address(registry));
        _fund(delegator, 1000e18, address(staking));
    }

    function _request() internal returns (uint256 rid) {
        vm.prank(client);
        rid = registry.requestInference(model, keccak256("in"), "", 1e18, uint40(block.timestamp + 1 hours));
    }

    function _sign(IInferenceRegistry.Attestation memory a, uint256 pk) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, registry.attestationDigest(a));
        return abi.encodePacked(r, s, v);
    }

    function _att(uint256 rid, address op) internal view returns (IInferenceRegistry.Attestation memory) {
        return IInferenceRegistry.Attestation(op, rid, model, keccak256("in"), OUT);
    }
}

/// @notice The registry against the real Staking: weights, jailing, unstaking, signer rotation, a full round.
contract RegistryStakingIntegrationTest is RegistryStakingBase {
    function test_DelegationUpdatesSelectionWeight() public {
        assertEq(registry.operatorWeight(model, ops[0]), SELF);
        vm.prank(delegator);
        staking.delegate(ops[0], 300e18);
        assertEq(registry.operatorWeight(model, ops[0]), 400e18);
        assertEq(registry.totalWeight(model), 800e18);
    }

    function test_JailedOperatorHasNoWeightAndIsNeverAssigned() public {
        staking.jail(ops[0], uint48(block.timestamp + 1 days));
        staking.jail(ops[1], uint48(block.timestamp + 1 days));
        assertEq(registry.operatorWeight(model, ops[0]), 0);
        for (uint256 i; i < 20; ++i) {
            vm.prevrandao(bytes32(i));
            address[] memory a = registry.assignedOperators(_request());
            for (uint256 j; j < a.length; ++j) {
                assertTrue(a[j] != ops[0] && a[j] != ops[1]);
            }
        }
        staking.jail(ops[2], uint48(block.timestamp + 1 days));
        vm.prank(client);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceRegistry.InsufficientOperators.selector, model, 2, 3)
        );
        registry.requestInference(model, keccak256("in"), "", 1e18, uint40(block.timestamp + 1 hours));
    }

    function test_RevertWhen_JailedOperatorServes() public {
        address op = ops[0];
        vm.prank(op);
        registry.stopServing(model);
        staking.jail(op, uint48(block.timestamp + 1 days));
        vm.prank(op);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.NotActiveOperator.selector, op));
        registry.serveModel(model);
    }

    function test_UnstakeBelowModelMinimumZeroesWeight() public {
        address op = ops[0];
        uint256 shares = staking.sharesOf(op, op);
        vm.prank(op);
        staking.requestUnstake(op, shares * 6 / 10); // 40 left: active but below the model's 50
        assertEq(registry.operatorWeight(model, op), 0);
    }

    function test_SignerRotationTakesEffectAfterDelay() public {
        uint256 rid = _request();
        address op = registry.assignedOperators(rid)[0];
        (address newHot, uint256 newPk) = makeAddrAndKey("rotated");
        vm.prank(op);
        staking.rotateSigner(newHot);
        IInferenceRegistry.Attestation memory a = _att(rid, op);
        bytes memory newSig = _sign(a, newPk);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.InvalidSignature.selector, op));
        registry.submitAttestation(a, newSig); // rotation not active yet
        vm.warp(block.timestamp + 1 hours);
        bytes memory oldSig = _sign(a, signerKey[op]);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.InvalidSignature.selector, op));
        registry.submitAttestation(a, oldSig);
        registry.submitAttestation(a, newSig);
    }

    function test_FullRoundWithRealStaking() public {
        uint256 rid = _request();
        address[] memory a = registry.assignedOperators(rid);
        for (uint256 i; i < 3; ++i) {
            IInferenceRegistry.Attestation memory att = _att(rid, a[i]);
            registry.submitAttestation(att, _sign(att, signerKey[a[i]]));
        }
        vm.warp(registry.request(rid).windowEnd + 1);
        registry.finalize(rid);
        vm.prank(a[0]);
        registry.claim();
        assertEq(token.balanceOf(a[0]), uint256(1e18) / 3 + 1);
    }
}
