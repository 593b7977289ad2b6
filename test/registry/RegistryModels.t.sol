// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {IStaking} from "../../contracts/interfaces/IStaking.sol";
import {InferenceRegistry} from "../../contracts/registry/InferenceRegistry.sol";
import {RegistryBase} from "./RegistryBase.t.sol";

/// @notice Governance, model registration and operator opt-in / weights.
contract RegistryModelsTest is RegistryBase {
    // ------------------------------------------------------------------ construction & wiring
    function test_RevertWhen_ConstructorZeroAddress() public {
        vm.expectRevert(IInferenceRegistry.ZeroAddress.selector);
        new InferenceRegistry(IStaking(address(staking)), ISlasher(address(slasher)), address(0), admin);
        vm.expectRevert(IInferenceRegistry.ZeroAddress.selector);
        new InferenceRegistry(IStaking(address(staking)), ISlasher(address(0)), treasury, admin);
    }

    function test_ConstructorSetsTokenFromStaking() public view {
        assertEq(address(registry.token()), address(token));
        assertEq(address(registry.resolver()), address(resolver));
        assertTrue(registry.hasRole(registry.DEFAULT_ADMIN_ROLE(), admin));
    }

    // ------------------------------------------------------------------ roles (minimal AccessControl)
    event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender);
    event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender);

    function test_AdminGrantsAndRevokesRoles() public {
        bytes32 role = registry.DEFAULT_ADMIN_ROLE();
        vm.expectEmit(address(registry));
        emit RoleGranted(role, client, admin);
        vm.prank(admin);
        registry.grantRole(role, client);
        assertTrue(registry.hasRole(role, client));
        // the new admin can act as admin
        vm.prank(client);
        registry.setTreasury(address(0xbeef));
        assertEq(registry.treasury(), address(0xbeef));

        vm.expectEmit(address(registry));
        emit RoleRevoked(role, client, admin);
        vm.prank(admin);
        registry.revokeRole(role, client);
        assertFalse(registry.hasRole(role, client));
        vm.prank(client);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, client, role)
        );
        registry.setTreasury(treasury);
    }

    function test_GrantingAHeldRoleEmitsNothing() public {
        bytes32 role = registry.DEFAULT_ADMIN_ROLE();
        vm.recordLogs();
        vm.prank(admin);
        registry.grantRole(role, admin);
        assertEq(vm.getRecordedLogs().length, 0);
        assertTrue(registry.hasRole(role, admin));
    }

    function test_AdminRenouncesRole() public {
        bytes32 role = registry.DEFAULT_ADMIN_ROLE();
        vm.expectEmit(address(registry));
        emit RoleRevoked(role, admin, admin);
        vm.prank(admin);
        registry.renounceRole(role, admin);
        assertFalse(registry.hasRole(role, admin));
        vm.prank(admin);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, role)
        );
        registry.setTreasury(treasury);
    }

    function test_RevertWhen_RenounceConfirmationIsNotCaller() public {
        bytes32 role = registry.DEFAULT_ADMIN_ROLE();
        vm.prank(admin);
        vm.expectRevert(IAccessControl.AccessControlBadConfirmation.selector);
        registry.renounceRole(role, client);
        assertTrue(registry.hasRole(role, admin));
    }

    function test_RevertWhen_NonAdminGrantsOrRevokes() public {
        bytes32 role = registry.DEFAULT_ADMIN_ROLE();
        vm.startPrank(client);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, client, role)
        );
        registry.grantRole(role, client);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, client, role)
        );
        registry.revokeRole(role, admin);
        vm.stopPrank();
        assertTrue(registry.hasRole(role, admin));
        assertFalse(registry.hasRole(role, client));
    }

    function testFuzz_HasRoleOnlyForGranted(bytes32 role, address account) public {
        vm.assume(account != admin);
        assertFalse(registry.hasRole(role, account));
        vm.prank(admin);
        registry.grantRole(role, account);
        assertTrue(registry.hasRole(role, account));
    }

    function test_DomainSeparatorFollowsChainId() public {
        bytes32 typeHash =
            keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
        bytes32 before = registry.domainSeparator();
        assertEq(
            before,
            keccak256(
                abi.encode(typeHash, keccak256("verinfer"), keccak256("1"), block.chainid, address(registry))
            )
        );
        vm.chainId(block.chainid + 1);
        bytes32 forked = registry.domainSeparator();
        assertEq(
            forked,
            keccak256(
                abi.encode(typeHash, keccak256("verinfer"), keccak256("1"), block.chainid, address(registry))
            )
        );
        assertTrue(forked != before);
    }

    function test_RevertWhen_WiredTwice() public {
        vm.expectRevert(IInferenceRegistry.AlreadyWired.selector);
        registry.wire(address(1));
    }

    function test_RevertWhen_WireZeroResolver() public {
        IInferenceRegistry r2 = IInferenceRegistry(
            address(
                new InferenceRegistry(IStaking(address(staking)), ISlasher(address(slasher)), treasury, admin)
            )
        );
        vm.expectRevert(IInferenceRegistry.ZeroAddress.selector);
        r2.wire(address(0));
    }

    function test_RevertWhen_NonAdminWires() public {
        IInferenceRegistry r2 = IInferenceRegistry(
            address(
                new InferenceRegistry(IStaking(address(staking)), ISlasher(address(slasher)), treasury, admin)
            )
        );
        bytes32 role = r2.DEFAULT_ADMIN_ROLE();
        vm.prank(client);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, client, role)
        );
        r2.wire(address(resolver));
    }

    function test_SetTreasury() public {
        vm.expectEmit(address(registry));
        emit IInferenceRegistry.TreasuryChanged(address(7));
        registry.setTreasury(address(7));
        assertEq(registry.treasury(), address(7));
        vm.expectRevert(IInferenceRegistry.ZeroAddress.selector);
        registry.setTreasury(address(0));
    }

    function test_SetBatchWindowBounded() public {
        registry.setBatchWindow(2 hours);
        assertEq(registry.batchWindow(), 2 hours);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.ParameterOutOfBounds.selector, _n("batchWindow"), 599, 600, 7 days
            )
        );
        registry.setBatchWindow(599);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.ParameterOutOfBounds.selector, _n("batchWindow"), 7 days + 1, 600, 7 days
            )
        );
        registry.setBatchWindow(7 days + 1);
    }

    // ------------------------------------------------------------------ models
    function test_RegisterModelIdIsContentHash() public {
        IInferenceRegistry.ModelParams memory p = _detParams(5, 3);
        bytes32 id = registry.registerModel(keccak256("W"), keccak256("R"), p);
        assertEq(id, keccak256(abi.encode(keccak256("W"), keccak256("R"))));
        IInferenceRegistry.Model memory m = registry.model(id);
        assertTrue(m.registered);
        assertFalse(m.retired);
        assertEq(m.params.k, 5);
        assertEq(m.params.q, 3);
        assertEq(m.weightsHash, keccak256("W"));
    }

    function test_RevertWhen_ModelRegisteredTwice() public {
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.ModelAlreadyRegistered.selector, detModel));
        registry.registerModel(keccak256("w-det"), keccak256("rt-det"), _detParams(3, 2));
    }

    function test_RevertWhen_NonAdminRegistersModel() public {
        bytes32 role = registry.DEFAULT_ADMIN_ROLE();
        vm.prank(client);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, client, role)
        );
        registry.registerModel(keccak256("x"), keccak256("y"), _detParams(3, 2));
    }

    function test_RevertWhen_KOutOfBounds() public {
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceRegistry.ParameterOutOfBounds.selector, _n("k"), 9, 1, 8)
        );
        registry.registerModel(keccak256("x"), keccak256("y"), _detParams(9, 5));
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceRegistry.ParameterOutOfBounds.selector, _n("k"), 0, 1, 8)
        );
        registry.registerModel(keccak256("x"), keccak256("y"), _detParams(0, 0));
    }

    function test_RevertWhen_QuorumNotStrictMajority() public {
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceRegistry.ParameterOutOfBounds.selector, _n("q"), 2, 3, 4)
        );
        registry.registerModel(keccak256("x"), keccak256("y"), _detParams(4, 2));
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceRegistry.ParameterOutOfBounds.selector, _n("q"), 5, 3, 4)
        );
        registry.registerModel(keccak256("x"), keccak256("y"), _detParams(4, 5));
    }

    function test_RevertWhen_OptimisticWithKNotOne() public {
        IInferenceRegistry.ModelParams memory p = _optParams();
        p.k = 2;
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceRegistry.ParameterOutOfBounds.selector, _n("k"), 2, 1, 1)
        );
        registry.registerModel(keccak256("x"), keccak256("y"), p);
        p.k = 1;
        p.q = 0;
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceRegistry.ParameterOutOfBounds.selector, _n("q"), 0, 1, 1)
        );
        registry.registerModel(keccak256("x"), keccak256("y"), p);
    }

    function test_RevertWhen_ChallengeWindowOutOfBounds() public {
        IInferenceRegistry.ModelParams memory p = _detParams(3, 2);
        p.challengeWindow = 599;
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.ParameterOutOfBounds.selector, _n("challengeWindow"), 599, 600, 7 days
            )
        );
        registry.registerModel(keccak256("x"), keccak256("y"), p);
        p.challengeWindow = 7 days + 1;
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.ParameterOutOfBounds.selector,
                _n("challengeWindow"),
                7 days + 1,
                600,
                7 days
            )
        );
        registry.registerModel(keccak256("x"), keccak256("y"), p);
    }

    function test_RevertWhen_ZeroBondOrFee() public {
        IInferenceRegistry.ModelParams memory p = _detParams(3, 2);
        p.challengeBond = 0;
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.ParameterOutOfBounds.selector, _n("challengeBond"), 0, 1, type(uint96).max
            )
        );
        registry.registerModel(keccak256("x"), keccak256("y"), p);
        p.challengeBond = 1;
        p.minFee = 0;
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.ParameterOutOfBounds.selector, _n("minFee"), 0, 1, type(uint96).max
            )
        );
        registry.registerModel(keccak256("x"), keccak256("y"), p);
    }

    /// @notice registerModel and setBatchWindow re-check the cross-contract timing invariants through the
    ///         slasher (ISlasher.checkTiming) and fail with its error when a window would break them.
    function test_RevertWhen_WindowSettersBreakTiming() public {
        slasher.setTimingBroken(true);
        bytes memory err =
            abi.encodeWithSelector(ISlasher.TimingInvariantViolated.selector, bytes32("mock"), 1, 0);
        vm.expectRevert(err);
        registry.registerModel(keccak256("x"), keccak256("y"), _detParams(3, 2));
        vm.expectRevert(err);
        registry.setBatchWindow(2 hours);
    }

    /// @notice faultWindow = MAX_TTL + the largest registered challenge window + the batch window.
    function test_FaultWindowTracksLargestChallengeWindow() public {
        uint256 before = registry.faultWindow();
        IInferenceRegistry.ModelParams memory p = _detParams(3, 2);
        p.challengeWindow = 2 days;
        registry.registerModel(keccak256("x"), keccak256("y"), p);
        assertEq(registry.faultWindow(), 1 days + 2 days + registry.batchWindow());
        assertGt(registry.faultWindow(), before);
        p.challengeWindow = 20 minutes; // a shorter window does not lower the bound
        registry.registerModel(keccak256("x2"), keccak256("y"), p);
        assertEq(registry.faultWindow(), 1 days + 2 days + registry.batchWindow());
    }

    function test_RetireModel() public {
        vm.expectEmit(address(registry));
        emit IInferenceRegistry.ModelRetired(detModel);
        registry.retireModel(detModel);
        assertTrue(registry.model(detModel).retired);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.ModelIsRetired.selector, detModel));
        registry.retireModel(detModel);
        vm.prank(client);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.ModelIsRetired.selector, detModel));
        registry.requestInference(detModel, bytes32(uint256(1)), "", FEE, uint40(block.timestamp + 1 hours));
    }

    function test_RevertWhen_RetireUnknownModel() public {
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.UnknownModel.selector, _n("nope")));
        registry.retireModel(_n("nope"));
    }

    function test_RetiredModelStillFinalizesOpenRequests() public {
        uint256 rid = _request(optModel);
        registry.retireModel(optModel);
        _answer(rid, 0, keccak256("out"));
        _toFinal(rid);
        registry.finalize(rid);
        assertEq(uint8(_status(rid)), uint8(IInferenceRegistry.RequestStatus.Finalized));
    }

    // ------------------------------------------------------------------ serving
    function test_ServeModelInsertsWeight() public view {
        assertEq(registry.operatorCount(detModel), N_OPS);
        assertEq(registry.totalWeight(detModel), N_OPS * STAKE);
        assertEq(registry.operatorWeight(detModel, ops[0]), STAKE);
        assertTrue(registry.isServing(detModel, ops[0]));
        assertEq(registry.servedModels(ops[0]).length, 2);
    }

    function test_RevertWhen_ServeTwice() public {
        vm.prank(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.AlreadyServing.selector, detModel, ops[0]));
        registry.serveModel(detModel);
    }

    function test_RevertWhen_ServeUnknownOrRetiredModel() public {
        vm.prank(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.UnknownModel.selector, _n("x")));
        registry.serveModel(_n("x"));
        bytes32 m = registry.registerModel(keccak256("a"), keccak256("b"), _detParams(3, 2));
        registry.retireModel(m);
        vm.prank(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.ModelIsRetired.selector, m));
        registry.serveModel(m);
    }

    function test_RevertWhen_ServeWhileInactive() public {
        address op = makeAddr("jailed");
        staking.setOperator(op, address(1), STAKE);
        staking.setJailed(op, true);
        vm.prank(op);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.NotActiveOperator.selector, op));
        registry.serveModel(detModel);
    }

    function test_RevertWhen_ServeBelowModelMinStake() public {
        address op = makeAddr("small");
        staking.setOperator(op, address(1), 1e18);
        vm.prank(op);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceRegistry.InsufficientStake.selector, op, 1e18, 10e18)
        );
        registry.serveModel(detModel);
    }

    function test_RevertWhen_ServeTooManyModels() public {
        address op = ops[0];
        for (uint256 i; i < 6; ++i) {
            bytes32 m = registry.registerModel(keccak256(abi.encode(i)), keccak256("rt"), _detParams(1, 1));
            vm.prank(op);
            registry.serveModel(m);
        }
        bytes32 extra = registry.registerModel(keccak256("extra"), keccak256("rt"), _detParams(1, 1));
        vm.prank(op);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.TooManyModels.selector, op, 8));
        registry.serveModel(extra);
    }

    function test_RevertWhen_ModelFull() public {
        vm.pauseGasMetering();
        bytes32 m = registry.registerModel(keccak256("full"), keccak256("rt"), _detParams(1, 1));
        for (uint256 i; i < 1024; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast)
            address op = address(uint160(0x100000 + i));
            staking.setOperator(op, op, STAKE);
            vm.prank(op);
            registry.serveModel(m);
        }
        address extra = makeAddr("extra");
        staking.setOperator(extra, extra, STAKE);
        vm.resumeGasMetering();
        vm.prank(extra);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.ModelFull.selector, m, 1024));
        registry.serveModel(m);
        assertEq(registry.operatorCount(m), 1024);
    }

    function test_StopServingRemovesAndKeepsTreeDense() public {
        vm.prank(ops[1]);
        vm.expectEmit(address(registry));
        emit IInferenceRegistry.OperatorStopped(detModel, ops[1]);
        registry.stopServing(detModel);
        assertFalse(registry.isServing(detModel, ops[1]));
        assertEq(registry.operatorCount(detModel), N_OPS - 1);
        assertEq(registry.totalWeight(detModel), (N_OPS - 1) * STAKE);
        assertEq(registry.servedModels(ops[1]).length, 1);
        assertEq(registry.servedModels(ops[1])[0], optModel);
        // the last operator moved into the freed leaf keeps its weight
        assertEq(registry.operatorWeight(detModel, ops[N_OPS - 1]), STAKE);
    }

    function test_RevertWhen_StopServingNotServing() public {
        vm.prank(client);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.NotServing.selector, detModel, client));
        registry.stopServing(detModel);
    }

    // ------------------------------------------------------------------ weights
    function test_WeightFollowsStakingCallbacks() public {
        staking.setStake(ops[0], 250e18);
        assertEq(registry.operatorWeight(detModel, ops[0]), 250e18);
        assertEq(registry.operatorWeight(optModel, ops[0]), 250e18);
        assertEq(registry.totalWeight(detModel), (N_OPS - 1) * STAKE + 250e18);
        staking.setJailed(ops[0], true);
        assertEq(registry.operatorWeight(detModel, ops[0]), 0);
        assertEq(registry.totalWeight(detModel), (N_OPS - 1) * STAKE);
        staking.setJailed(ops[0], false);
        assertEq(registry.operatorWeight(detModel, ops[0]), 250e18);
    }

    function test_WeightZeroBelowModelMinStake() public {
        vm.expectEmit(address(registry));
        emit IInferenceRegistry.OperatorWeightUpdated(detModel, ops[2], 0);
        staking.setStake(ops[2], 5e18);
        assertEq(registry.operatorWeight(detModel, ops[2]), 0);
    }

    function test_RevertWhen_WeightCallbackNotFromStaking() public {
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.UnauthorizedCaller.selector, address(this)));
        registry.onOperatorWeightChanged(ops[0], 0);
    }

    function test_WeightCallbackForNonServingOperatorIsNoop() public {
        vm.prank(address(staking));
        registry.onOperatorWeightChanged(client, 1e30);
        assertEq(registry.operatorWeight(detModel, client), 0);
    }

    /// @dev A short string literal as bytes32 (implicit conversion, no cast).
    function _n(bytes32 x) internal pure returns (bytes32) {
        return x;
    }
}
