// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IdentityRegistry} from "../../contracts/governance/IdentityRegistry.sol";
import {VerinferGovernor} from "../../contracts/governance/VerinferGovernor.sol";
import {VerinferToken} from "../../contracts/token/VerinferToken.sol";
import {DeploySuite} from "../../script/DeploySuite.sol";
import {GovernanceSecurityBase} from "./GovernanceSecurityBase.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {Vm, VmSafe} from "forge-std/Vm.sol";

/// @notice Issue #10, exploit 3: a coalition that cannot reach the stricter governance bar (2x quorum, 2/3)
///         used to pass `VerinferToken.mint` at the normal bar (the token was not a governance target), stake
///         the new tokens and then win `approveIssuer`. The governance-target set is now the suite reachable
///         from the voice source through the wiring, so every admin-bearing contract of the deployment is
///         held to the stricter bar.
contract MintBypassesGovernanceBarTest is GovernanceSecurityBase {
    address internal attacker = makeAddr("attacker");
    address internal grantee = makeAddr("grantee");

    /// @dev This suite isolates the governance-target bar (2x quorum and 2/3) among equal voices. The
    ///      deploy script's residual rule (K = 10, applied as min(K, voices at the snapshot / 3), a third
    ///      of the ~17 voices here: the for side must also reach quorum without its largest ones) defeats
    ///      the proposals here that 2x quorum and 2/3 alone let pass (measured: removing this hook fails
    ///      the three outcome tests); that rule is tested in test/governance/ResidualQuorum.t.sol. The
    ///      quorum is pinned at 4% (the deploy script's is 1%, docs/governance.md "The quorum, from
    ///      measurements") so that one voter's 2e11 lies between the quorum and twice it.
    function _suiteConfig() internal override returns (DeploySuite.Config memory c) {
        c = super._suiteConfig();
        c.residualK = 0;
        c.quorumBps = 400;
    }

    function setUp() public override {
        super.setUp();
        // 16 voters of 2e11 each + the pool's 1e11: total 3.3e12, quorum 1.32e11 (x2: 2.64e11),
        // delegate cap 3.3e11 (nobody is capped)
        _addVoters(16);
    }

    function _mint() internal view returns (bytes memory) {
        return abi.encodeCall(VerinferToken.mint, (attacker, 1e8 ether));
    }

    /// @dev The attack: 60% for, 40% against. The coalition loses `approveIssuer` (already a governance
    ///      target), so it tries `mint` instead; a plain ETH grant with the same ballots passes, which shows
    ///      the ballots are a majority above quorum.
    function test_MintWithMajorityBelowTwoThirdsIsDefeated() public {
        address coalition = voters[0];
        uint256 mint = _proposeAs(coalition, address(s.token), 0, _mint(), "mint to the coalition");
        uint256 issuerId = _proposeAs(
            coalition,
            address(s.identity),
            0,
            abi.encodeCall(IdentityRegistry.approveIssuer, (attacker)),
            "approve the coalition's issuer"
        );
        uint256 grant = _proposeAs(coalition, grantee, 1 ether, "", "grant 1 ETH");
        assertTrue(s.governor.isGovernanceProposal(mint));
        assertTrue(s.governor.isGovernanceProposal(issuerId));
        assertFalse(s.governor.isGovernanceProposal(grant));

        _openVoting(mint);
        uint256[] memory all = new uint256[](3);
        (all[0], all[1], all[2]) = (mint, issuerId, grant);
        _vote(all, 0, 6, 1); // 1.2e12 for
        _vote(all, 6, 10, 0); // 0.8e12 against: 60% < 2/3
        _endVoting(mint);

        assertEq(uint256(_state(mint)), uint256(IGovernor.ProposalState.Defeated));
        assertEq(uint256(_state(issuerId)), uint256(IGovernor.ProposalState.Defeated));
        assertEq(uint256(_state(grant)), uint256(IGovernor.ProposalState.Succeeded));
        assertEq(s.token.balanceOf(attacker), 0);
    }

    /// @dev One voter alone (2e11 for, nobody against): above the quorum (1.32e11), below twice it.
    function test_MintAboveQuorumBelowDoubleQuorumIsDefeated() public {
        uint256 mint = _proposeAs(voters[0], address(s.token), 0, _mint(), "mint");
        uint256 grant = _proposeAs(voters[0], grantee, 1 ether, "", "grant");
        _openVoting(mint);
        _vote(_ids(mint, grant), 0, 1, 1);
        _endVoting(mint);
        uint256 q = s.governor.quorum(s.governor.proposalSnapshot(mint));
        assertGe(VOTER_VOICE, q);
        assertLt(VOTER_VOICE, 2 * q);
        assertEq(uint256(_state(mint)), uint256(IGovernor.ProposalState.Defeated));
        assertEq(uint256(_state(grant)), uint256(IGovernor.ProposalState.Succeeded));
    }

    /// @dev The bar is higher, not closed: 70% for passes the mint.
    function test_MintWithTwoThirdsAndDoubleQuorumSucceeds() public {
        uint256 mint = _proposeAs(voters[0], address(s.token), 0, _mint(), "mint");
        _openVoting(mint);
        uint256[] memory one = new uint256[](1);
        one[0] = mint;
        _vote(one, 0, 7, 1);
        _vote(one, 7, 10, 0);
        _endVoting(mint);
        assertEq(uint256(_state(mint)), uint256(IGovernor.ProposalState.Succeeded));
    }

    function test_RevertWhen_ProposingToTheSuiteBelowDoubleThreshold() public {
        address small = makeAddr("small");
        _fund(small);
        _identity(small);
        _delegate(small, operators[0], 10_000 ether); // voice 1e11 = the threshold, half the bar
        vm.roll(block.number + 2);
        (address[] memory t, uint256[] memory v, bytes[] memory c) = _action(address(s.token), 0, _mint());
        vm.prank(small);
        vm.expectRevert(
            abi.encodeWithSelector(IGovernor.GovernorInsufficientProposerVotes.selector, small, 1e11, 2e11)
        );
        s.governor.propose(t, v, c, "mint");
        _proposeAs(small, grantee, 1 ether, "", "grant"); // outside the suite the plain threshold applies
    }

    // ------------------------------------------------------------------ the set vs. the deployment

    /// @dev Every contract DeploySuite creates over which the timelock holds a privilege (admin role,
    ///      ownership, executor or slash-governance seat) must be a governance target. The contracts are
    ///      found by recording the deployment, not from a list, so a new admin-bearing contract that the
    ///      wiring does not reach fails this test.
    function test_EveryContractTheTimelockAdministersIsAGovernanceTarget() public {
        vm.startStateDiffRecording();
        vm.startPrank(deployer);
        DeploySuite.Suite memory d = DeploySuite.deploySuite(cfg);
        vm.stopPrank();
        Vm.AccountAccess[] memory accesses = vm.stopAndReturnStateDiff();

        (address[] memory offenders, uint256 privileged) = _unreachableAdministered(d, accesses);
        assertEq(offenders.length, 0, "an administered contract is not a governance target");
        // the probe sees all eight: token (owner), staking, slasher, registry, identities, disputes (admin
        // role), timelock (its own admin), governor (executor)
        assertEq(privileged, 8);
        assertEq(d.governor.governanceTargets().length, d.governor.GOVERNANCE_NODES());
    }

    /// @dev The check above can fail: a second timelock-owned token that the wiring does not reach is
    ///      reported.
    function test_ProbeReportsAnAdministeredContractOutsideTheWiring() public {
        vm.startStateDiffRecording();
        vm.startPrank(deployer);
        DeploySuite.Suite memory d = DeploySuite.deploySuite(cfg);
        VerinferToken stray = new VerinferToken("Stray", "STRAY", address(d.timelock), 0);
        vm.stopPrank();
        Vm.AccountAccess[] memory accesses = vm.stopAndReturnStateDiff();

        (address[] memory offenders, uint256 privileged) = _unreachableAdministered(d, accesses);
        assertEq(privileged, 9);
        assertEq(offenders.length, 1);
        assertEq(offenders[0], address(stray));
    }

    /// @dev A staking token the deployment did not create (and the timelock does not own) is still a
    ///      target: the timelock's treasury holds it, and a transfer of it becomes stake.
    function test_ExternalStakingTokenIsAGovernanceTarget() public {
        VerinferToken external_ = new VerinferToken("X", "X", address(this), 1 ether);
        DeploySuite.Config memory c = cfg;
        c.stakingToken = address(external_);
        vm.startPrank(deployer);
        DeploySuite.Suite memory d = DeploySuite.deploySuite(c);
        vm.stopPrank();
        assertTrue(d.governor.isGovernanceTarget(address(external_)));
        assertFalse(d.governor.isGovernanceTarget(grantee));
    }

    /// @dev The created contracts of `accesses` over which `d.timelock` holds a privilege and which are not
    ///      governance targets of `d.governor`; and how many hold such a privilege.
    /// @notice Property (fuzz): an address is held to the stricter bar exactly when it is one of the suite's
    ///         contracts reachable through the wiring, whatever the address.
    function testFuzz_StricterBarExactlyForTheSuite(address target, uint8 pick) public view {
        address[9] memory suite = [
            address(s.governor),
            address(s.timelock),
            address(s.votes),
            address(s.identity),
            address(s.staking),
            address(s.token),
            address(s.slasher),
            address(s.registry),
            address(s.disputes)
        ];
        if (pick % 2 == 0) target = suite[pick % 9];
        bool inSuite;
        for (uint256 i; i < suite.length; ++i) {
            if (suite[i] == target) inSuite = true;
        }
        assertEq(s.governor.isGovernanceTarget(target), inSuite);
    }

    function _unreachableAdministered(DeploySuite.Suite memory d, Vm.AccountAccess[] memory accesses)
        internal
        view
        returns (address[] memory offenders, uint256 privileged)
    {
        offenders = new address[](accesses.length);
        uint256 n;
        for (uint256 i; i < accesses.length; ++i) {
            if (accesses[i].kind != VmSafe.AccountAccessKind.Create) continue;
            address c = accesses[i].account;
            if (!_administered(c, address(d.timelock))) continue;
            ++privileged;
            if (!d.governor.isGovernanceTarget(c)) offenders[n++] = c;
        }
        assembly ("memory-safe") {
            mstore(offenders, n)
        }
    }

    /// @dev Whether `tl` holds a privilege over `c`: DEFAULT_ADMIN_ROLE, ownership, or the executor /
    ///      governance seat (`timelock()`, `governance()`).
    function _administered(address c, address tl) internal view returns (bool) {
        return _returnsTrue(c, abi.encodeWithSignature("hasRole(bytes32,address)", bytes32(0), tl))
            || _returnsAddress(c, abi.encodeWithSignature("owner()"), tl)
            || _returnsAddress(c, abi.encodeWithSignature("timelock()"), tl)
            || _returnsAddress(c, abi.encodeWithSignature("governance()"), tl);
    }

    function _returnsTrue(address c, bytes memory call) internal view returns (bool) {
        (bool ok, bytes memory ret) = c.staticcall(call);
        return ok && ret.length == 32 && abi.decode(ret, (bool));
    }

    function _returnsAddress(address c, bytes memory call, address expected) internal view returns (bool) {
        (bool ok, bytes memory ret) = c.staticcall(call);
        return ok && ret.length == 32 && abi.decode(ret, (address)) == expected;
    }
}
