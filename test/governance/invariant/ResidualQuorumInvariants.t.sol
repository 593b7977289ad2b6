// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {VerinferGovernor} from "../../../contracts/governance/VerinferGovernor.sol";
import {GovernanceBase} from "../GovernanceBase.t.sol";
import {CommonBase} from "forge-std/Base.sol";
import {StdUtils} from "forge-std/StdUtils.sol";

/// @notice Casts random ballots (for, against, abstain) from attested and unattested voters on one open
///         proposal of a governor with the residual rule, and keeps the ballots for in ghost variables, summed
///         per voice: per identity (several actors share one), and the unattested ones in the pool.
contract ResidualQuorumHandler is CommonBase, StdUtils {
    VerinferGovernor internal immutable gov;
    uint256 public immutable proposalId;
    address[] public actors;
    /// @notice Each actor's identity at the snapshot (0: unattested, its ballots for join the pooled voice).
    mapping(address actor => uint256) public identityOf;
    /// @notice The weight each identity's actors cast for, summed (identity 0: the pool).
    mapping(uint256 identity => uint256) public ghostFor;
    /// @notice Ballots accepted, to show the run is not vacuous.
    uint256 public cast;

    constructor(VerinferGovernor gov_, uint256 proposalId_, address[] memory actors_, uint256[] memory ids_) {
        gov = gov_;
        proposalId = proposalId_;
        actors = actors_;
        for (uint256 i; i < actors_.length; ++i) {
            identityOf[actors_[i]] = ids_[i];
        }
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function vote(uint256 r, uint8 support) external {
        address a = actors[r % actors.length];
        // forge-lint: disable-next-line(unsafe-typecast)
        support = uint8(bound(support, 0, 2)); // bounded to 0..2
        if (gov.hasVoted(proposalId, a)) return;
        vm.prank(a);
        uint256 w = gov.castVote(proposalId, support);
        ++cast;
        if (support == 1) ghostFor[identityOf[a]] += w;
    }
}

contract ResidualQuorumInvariants is GovernanceBase {
    uint256 internal constant K = 4;
    ResidualQuorumHandler internal handler;
    VerinferGovernor internal kGov;

    function setUp() public override {
        super.setUp();
        address proposer = makeAddr("proposer");
        _attested(proposer, 4);
        address[] memory actors = new address[](28);
        uint256[] memory idsOf = new uint256[](28);
        for (uint256 i; i < 24; ++i) {
            actors[i] = makeAddr(string(abi.encodePacked("actor", i)));
            if (i % 4 == 3) _stake(actors[i], 50 * (i + 1));
            else idsOf[i] = _attested(actors[i], 50 * (i + 1));
        }
        // one person: four linked accounts, each delegated to by an unattested holder (one voice, not four)
        uint256 person = _newIdentity();
        for (uint256 i = 24; i < 28; ++i) {
            actors[i] = makeAddr(string(abi.encodePacked("actor", i)));
            _link(actors[i], person);
            idsOf[i] = person;
            address giver = makeAddr(string(abi.encodePacked("giver", i)));
            _stake(giver, 300);
            vm.prank(giver);
            qv.delegate(actors[i]);
        }
        kGov = new VerinferGovernor(qv, timelock, address(ids), _governorConfig(4)); // K = 4
        _mine(3);
        (address[] memory t, uint256[] memory vs, bytes[] memory c) = _singleAction(address(this), "");
        vm.prank(proposer);
        uint256 id = kGov.propose(t, vs, c, "invariant");
        vm.roll(kGov.proposalSnapshot(id) + 1);
        handler = new ResidualQuorumHandler(kGov, id, actors, idsOf);
        targetContract(address(handler));
    }

    /// @notice The residual is the for tally less its K largest voices: one per identity (the person's four
    ///         accounts summed), the unattested ones counting as one.
    function invariant_ResidualIsForLessTheKLargestVoices() public view {
        uint256 n = handler.actorCount();
        uint256[] memory w = new uint256[](n + 1);
        uint256[] memory seen = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            uint256 id = handler.identityOf(handler.actors(i));
            bool dup;
            for (uint256 j; j < i; ++j) {
                if (seen[j] == id) dup = true;
            }
            seen[i] = id;
            if (!dup) w[i] = handler.ghostFor(id); // identity 0 (the pool) once as well
        }
        uint256 removed = _removeLargest(w, K);
        (, uint256 forVotes,) = kGov.proposalVotes(handler.proposalId());
        (uint256 residual, uint256 k) = kGov.residualForVotes(handler.proposalId());
        assertEq(k, K);
        assertEq(residual, forVotes > removed ? forVotes - removed : 0);
        assertLe(residual, _for(handler.proposalId()));
    }

    function _for(uint256 id) internal view returns (uint256 f) {
        (, f,) = kGov.proposalVotes(id);
    }
}
