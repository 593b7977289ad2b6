// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {IStaking} from "../../contracts/interfaces/IStaking.sol";
import {InferenceRegistry} from "../../contracts/registry/InferenceRegistry.sol";
import {Slasher} from "../../contracts/slashing/Slasher.sol";
import {Staking} from "../../contracts/staking/Staking.sol";
import {MockERC20} from "../mocks/MockERC20.sol";
import {TestResolver} from "./mocks/TestResolver.sol";
import {RegistryActors} from "./utils/RegistryActors.sol";
import {Statements} from "./utils/Statements.sol";

/// @notice Registry + real Staking + real Slasher (+ test resolver): fault reports end in real slashes.
contract RegistryFullIntegrationTest is RegistryActors {
    Slasher internal slasher;
    TestResolver internal resolver;

    address internal admin = address(this);
    address internal treasury = makeAddr("treasury");
    address internal client = makeAddr("client");
    address internal reporter = makeAddr("reporter");
    address internal challenger = makeAddr("challenger");
    bytes32 internal model;
    bytes32 internal optModel;

    uint256 internal constant SELF = 100e18;
    bytes32 internal constant X = keccak256("X");
    bytes32 internal constant Y = keccak256("Y");

    function setUp() public {
        vm.warp(1_700_000_000);
        vm.roll(100);
        token = new MockERC20();
        staking = new Staking(token, admin, 10e18, 14 days, 2 days);
        slasher = new Slasher(IStaking(address(staking)), admin, treasury);
        registry = IInferenceRegistry(
            address(
                new InferenceRegistry(IStaking(address(staking)), ISlasher(address(slasher)), treasury, admin)
            )
        );
        resolver = new TestResolver();
        registry.wire(address(resolver));
        staking.wire(address(slasher), address(0), address(registry));
        slasher.wire(address(registry), admin);
        IInferenceRegistry.ModelParams memory p = IInferenceRegistry.ModelParams({
            mode: IInferenceRegistry.VerificationMode.Deterministic,
            k: 3,
            q: 2,
            challengeWindow: 1 hours,
            minStake: 10e18,
            challengeBond: 5e18,
            minFee: 1e15
        });
        model = registry.registerModel(keccak256("w"), keccak256("rt"), p);
        p.mode = IInferenceRegistry.VerificationMode.Optimistic;
        p.k = 1;
        p.q = 1;
        optModel = registry.registerModel(keccak256("w2"), keccak256("rt2"), p);
        bytes32[] memory served = new bytes32[](2);
        (served[0], served[1]) = (model, optModel);
        _addOperators(4, SELF, served);
        _fund(client, 1000e18, address(registry));
        _fund(challenger, 1000e18, address(registry));
    }

    function _request(bytes32 m) internal returns (uint256 rid) {
        vm.prank(client);
        rid = registry.requestInference(m, keccak256("in"), "", 1e18, uint40(block.timestamp + 1 hours));
    }

    function _att(uint256 rid, address op, bytes32 out)
        internal
        view
        returns (IInferenceRegistry.Attestation memory a)
    {
        a = IInferenceRegistry.Attestation(op, rid, registry.request(rid).modelId, keccak256("in"), out);
    }

    function _sign(IInferenceRegistry.Attestation memory a, address op) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKey[op], registry.attestationDigest(a));
        return abi.encodePacked(r, s, v);
    }

    function test_EquivocationSlashesJailsAndDropsWeight() public {
        uint256 rid = _request(model);
        address op = registry.assignedOperators(rid)[0];
        IInferenceRegistry.Attestation memory a1 = _att(rid, op, X);
        IInferenceRegistry.Attestation memory a2 = _att(rid, op, Y);
        bytes memory s1 = _sign(a1, op);
        bytes memory s2 = _sign(a2, op);
        uint256 stakeBefore = staking.operatorStake(op);
        vm.prank(reporter);
        registry.reportEquivocation(Statements.signed(a1, s1), Statements.signed(a2, s2));
        assertLt(staking.operatorStake(op), stakeBefore);
        assertGt(token.balanceOf(reporter), 0);
        assertFalse(staking.isActiveOperator(op)); // jailed
        assertEq(registry.operatorWeight(model, op), 0); // weight pushed by Staking during the slash
        // a second report of the same fault is refused by the Slasher
        vm.expectRevert(
            abi.encodeWithSelector(
                ISlasher.AlreadySlashed.selector, op, ISlasher.FaultKind.Equivocation, bytes32(rid)
            )
        );
        registry.reportEquivocation(Statements.signed(a1, s1), Statements.signed(a2, s2));
    }

    function test_MissedAssignmentSlashedAndReporterPaid() public {
        uint256 rid = _request(model);
        address op = registry.assignedOperators(rid)[2];
        vm.warp(block.timestamp + 1 hours + 1);
        uint256 before = staking.operatorStake(op);
        vm.prank(reporter);
        registry.reportMissed(rid, op);
        assertLt(staking.operatorStake(op), before);
        assertGt(token.balanceOf(reporter), 0);
    }

    function test_WrongResultSlashPendingThenExecuted() public {
        uint256 rid = _request(optModel);
        address op = registry.assignedOperators(rid)[0];
        IInferenceRegistry.Attestation memory a = _att(rid, op, X);
        registry.submitAttestation(a, _sign(a, op));
        vm.prank(challenger);
        uint256 did = registry.challenge(rid, Y);
        resolver.resolve(did, Y);
        assertEq(registry.credits(challenger), 5e18);
        uint256 slashId = 1;
        ISlasher.SlashRequest memory sr = slasher.slashRequest(slashId);
        assertEq(sr.operator, op);
        assertEq(uint8(sr.kind), uint8(ISlasher.FaultKind.WrongResult));
        assertEq(uint8(sr.status), uint8(ISlasher.SlashStatus.Pending));
        assertEq(sr.reporter, challenger);
        uint256 before = staking.operatorStake(op);
        vm.warp(sr.executableAt);
        slasher.executeSlash(slashId);
        assertLt(staking.operatorStake(op), before);
        assertEq(registry.operatorWeight(optModel, op), 0); // jailed for 3 days
    }
}
