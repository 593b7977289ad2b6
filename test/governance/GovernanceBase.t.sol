// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DisputeGovernor} from "../../contracts/governance/DisputeGovernor.sol";
import {IdentityRegistry} from "../../contracts/governance/IdentityRegistry.sol";
import {QuadraticVotes} from "../../contracts/governance/QuadraticVotes.sol";
import {VerinferGovernor} from "../../contracts/governance/VerinferGovernor.sol";
import {IStaking} from "../../contracts/interfaces/IStaking.sol";
import {Proposals} from "../utils/Proposals.sol";
import {MockDisputeReceiver} from "./mocks/MockDisputeReceiver.sol";
import {VetoSlasherStub} from "./mocks/VetoSlasherStub.sol";
import {VotesStakingStub} from "./mocks/VotesStakingStub.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {Test} from "forge-std/Test.sol";

/// @notice Shared deployment for governance tests: mock staking, identity registry, quadratic votes,
///         timelock, governor, dispute governor and a mock registry, wired like the suite
///         (staking -> slasher -> registry -> dispute governor) so the governor walks the full wiring.
abstract contract GovernanceBase is Test {
    uint256 internal constant TOKEN = 1e18;
    uint256 internal constant MIN_DELAY = 1 days;
    uint48 internal constant VOTING_DELAY = 1;
    /// @dev Dispute voting period, in seconds.
    uint32 internal constant DISPUTE_VOTING_PERIOD = 1 hours;
    uint32 internal constant VOTING_PERIOD = 50;
    uint256 internal constant THRESHOLD = 1e9; // sqrt(1 token)
    uint48 internal constant LATE_EXT = 10;

    VotesStakingStub internal staking;
    IdentityRegistry internal ids;
    QuadraticVotes internal qv;
    TimelockController internal timelock;
    VerinferGovernor internal governor;
    DisputeGovernor internal disputes;
    MockDisputeReceiver internal receiver;
    VetoSlasherStub internal wiredSlasher;

    /// @dev Accounts linked through `_link`, per identity (to find a member that consents to the next one).
    mapping(uint256 identityId => address[]) internal linked;

    address internal issuer = makeAddr("issuer");

    function setUp() public virtual {
        vm.roll(100);
        vm.warp(1_000_000);
        staking = new VotesStakingStub();
        ids = new IdentityRegistry(address(this));
        qv = new QuadraticVotes(IStaking(address(staking)), address(ids));
        staking.wire(qv);
        ids.wire(qv);
        ids.approveIssuer(issuer);

        timelock = new TimelockController(MIN_DELAY, new address[](0), new address[](0), address(this));
        governor = new VerinferGovernor(qv, timelock, address(ids), _governorConfig(0));
        timelock.grantRole(timelock.PROPOSER_ROLE(), address(governor));
        timelock.grantRole(timelock.CANCELLER_ROLE(), address(governor));
        timelock.grantRole(timelock.EXECUTOR_ROLE(), address(0));

        disputes = new DisputeGovernor(
            qv, IStaking(address(staking)), timelock, address(this), DISPUTE_VOTING_PERIOD, 400, 1000
        );
        receiver = new MockDisputeReceiver(disputes);
        disputes.wire(receiver);
        wiredSlasher = new VetoSlasherStub(address(timelock), address(receiver));
        staking.setSlasher(address(wiredSlasher));
    }

    // ------------------------------------------------------------------ helpers

    /// @dev The fixture's governor parameters, with the residual rule's K = `residualK` (0 = off).
    function _governorConfig(uint8 residualK) internal pure returns (VerinferGovernor.Config memory) {
        return VerinferGovernor.Config({
            votingDelay: VOTING_DELAY,
            votingPeriod: VOTING_PERIOD,
            proposalThreshold: THRESHOLD,
            lateQuorumExtension: LATE_EXT,
            quorumBps: 400,
            delegateCapBps: 1000,
            residualK: residualK
        });
    }

    /// @dev The sum of the `k` largest of `w` (zeroing them in `w`): the voices the residual rule removes.
    function _removeLargest(uint256[] memory w, uint256 k) internal pure returns (uint256 removed) {
        for (uint256 j; j < k; ++j) {
            uint256 best;
            uint256 at;
            for (uint256 i; i < w.length; ++i) {
                if (w[i] > best) (best, at) = (w[i], i);
            }
            removed += best;
            w[at] = 0;
        }
    }

    function _stake(address account, uint256 tokens) internal {
        staking.setStake(account, tokens * TOKEN);
    }

    function _newIdentity() internal returns (uint256 id) {
        vm.prank(issuer);
        id = ids.createIdentity();
    }

    /// @dev Links `account` to `id`: a current member consents (if the identity has accounts), the issuer
    ///      offers, the account accepts.
    function _link(address account, uint256 id) internal {
        if (ids.accountCount(id) != 0) {
            vm.prank(_member(id));
            ids.consentToLink(account);
        }
        vm.prank(issuer);
        ids.offerLink(account, id);
        vm.prank(account);
        ids.acceptLink(id);
        linked[id].push(account);
    }

    /// @dev An account still linked to `id` among those linked through `_link`.
    function _member(uint256 id) internal view returns (address) {
        address[] storage m = linked[id];
        for (uint256 i; i < m.length; ++i) {
            if (ids.identityOf(m[i]) == id) return m[i];
        }
        revert("GovernanceBase: no known member");
    }

    function _attested(address account, uint256 tokens) internal returns (uint256 id) {
        id = _newIdentity();
        _link(account, id);
        _stake(account, tokens);
    }

    /// @dev Issuer `iss` creates a fresh identity and links `account` to it (its first account: no consent
    ///      needed), then `account` stakes `tokens`.
    function _attestedBy(address iss, address account, uint256 tokens) internal returns (uint256 id) {
        vm.prank(iss);
        id = ids.createIdentity();
        vm.prank(iss);
        ids.offerLink(account, id);
        vm.prank(account);
        ids.acceptLink(id);
        _stake(account, tokens);
    }

    function _sqrtTokens(uint256 tokens) internal pure returns (uint256) {
        return _sqrt(tokens * TOKEN);
    }

    function _sqrt(uint256 x) internal pure returns (uint256 z) {
        if (x == 0) return 0;
        z = x;
        uint256 y = (x + 1) / 2;
        while (y < z) {
            z = y;
            y = (x / y + y) / 2;
        }
    }

    function _mine(uint256 blocks) internal {
        vm.roll(block.number + blocks);
    }

    function _singleAction(address target, bytes memory data)
        internal
        pure
        returns (address[] memory, uint256[] memory, bytes[] memory)
    {
        return Proposals.single(target, 0, data);
    }
}
