// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {console} from "forge-std/console.sol";

import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {RegistryBase} from "../registry/RegistryBase.t.sol";
import {ChainlinkLikeRouter} from "./baseline/ChainlinkLikeRouter.sol";
import {RitualLikeCoordinator} from "./baseline/RitualLikeCoordinator.sol";

/// @notice Stores the output it receives (one new storage word per request): the same work for every system.
contract StoreConsumer {
    mapping(bytes32 id => bytes32) public stored;

    function onInferenceResult(
        uint256 requestId,
        bytes calldata output,
        bytes32,
        IInferenceRegistry.RequestStatus
    ) external {
        stored[bytes32(requestId)] = bytes32(output);
    }

    function rawReceiveCompute(uint256 subId, address, bytes calldata output) external {
        stored[bytes32(subId)] = bytes32(output);
    }

    function handleOracleFulfillment(bytes32 requestId, bytes calldata response, bytes calldata) external {
        stored[requestId] = bytes32(response);
    }
}

/// @notice Gas per delivered request, end to end (request, k = 3 answers, finalize, callback), side by side with a
///         Ritual-style direct delivery and a Chainlink-style isolated callback (`test/gas/baseline/`), and the
///         overhead of a callback beyond the consumer's own gas. Same method as `RegistryGas.t.sol`: each call is
///         measured as its own transaction (21,000 + calldata + execution, storage cooled) against state committed
///         in `setUp`.
contract DeliveryGasTest is RegistryBase {
    bytes internal constant OUTPUT = hex"0102030405060708";
    uint32 internal constant CB_GAS = 100_000;

    StoreConsumer internal consumer;
    uint256[6] internal rid; // 0: new, 1: no answer, 2: one, 3: two, 4: three + window over, 5: finalized
    RitualLikeCoordinator internal ritual;
    ChainlinkLikeRouter internal router;
    uint256[3] internal subs; // 0, 1 and 2 prior deliveries
    bytes32 internal clRid;
    ChainlinkLikeRouter.Commitment internal clCommitment;
    address[3] internal nodes;
    uint256[3] internal nodeKeys;

    function setUp() public override {
        super.setUp();
        consumer = new StoreConsumer();
        // Requests that must be past their window first.
        rid[4] = _requestCb();
        rid[5] = _requestCb();
        for (uint256 i; i < 3; ++i) {
            _answer(rid[4], i, keccak256(OUTPUT));
            _answer(rid[5], i, keccak256(OUTPUT));
        }
        _toFinal(rid[5]);
        registry.finalize(rid[5]);
        rid[1] = _requestCb();
        rid[2] = _requestCb();
        _answer(rid[2], 0, keccak256(OUTPUT));
        rid[3] = _requestCb();
        _answer(rid[3], 0, keccak256(OUTPUT));
        _answer(rid[3], 1, keccak256(OUTPUT));

        // Baselines, with the same token, consumer and k = 3.
        address[] memory signers = new address[](3);
        for (uint256 i; i < 3; ++i) {
            (nodes[i], nodeKeys[i]) = makeAddrAndKey(string.concat("node", vm.toString(i)));
            signers[i] = nodes[i];
        }
        _sortNodes();
        ritual = new RitualLikeCoordinator(token);
        router = new ChainlinkLikeRouter(token, signers, 3);
        vm.startPrank(client);
        token.approve(address(ritual), type(uint256).max);
        token.approve(address(router), type(uint256).max);
        for (uint256 i; i < 3; ++i) {
            subs[i] = ritual.createSubscription(address(consumer), 3, uint96(FEE / 3), keccak256("in"));
            for (uint256 j; j < i; ++j) {
                vm.stopPrank();
                vm.prank(nodes[j]);
                ritual.deliverCompute(subs[i], OUTPUT);
                vm.startPrank(client);
            }
        }
        clRid = router.sendRequest(address(consumer), CB_GAS, uint96(FEE), keccak256("in"));
        vm.stopPrank();
        clCommitment = ChainlinkLikeRouter.Commitment(address(consumer), CB_GAS, uint96(FEE), keccak256("in"));
        vm.warp(block.timestamp + 1); // later transactions
    }

    function _sortNodes() internal {
        for (uint256 i; i < 3; ++i) {
            for (uint256 j = i + 1; j < 3; ++j) {
                if (nodes[j] < nodes[i]) {
                    (nodes[i], nodes[j]) = (nodes[j], nodes[i]);
                    (nodeKeys[i], nodeKeys[j]) = (nodeKeys[j], nodeKeys[i]);
                }
            }
        }
    }

    function _requestCb() internal returns (uint256 id) {
        IInferenceRegistry.CallbackSpec memory spec = _spec();
        vm.prank(client);
        id = registry.requestInferenceWithCallback(
            detModel,
            keccak256(abi.encode("in", gasleft())),
            "ipfs://in",
            FEE,
            uint40(block.timestamp + 1 hours),
            spec
        );
    }

    function _spec() internal view returns (IInferenceRegistry.CallbackSpec memory) {
        return IInferenceRegistry.CallbackSpec(
            address(consumer), CB_GAS, false, registry.callbackFeeFor(CB_GAS, false)
        );
    }

    function _calldataGas(bytes memory data) internal pure returns (uint256 g) {
        for (uint256 i; i < data.length; ++i) {
            g += data[i] == 0 ? 4 : 16;
        }
    }

    /// @dev One call as a standalone transaction from `from`: 21,000 + calldata gas + execution gas.
    function _measure(string memory name, address target, address from, bytes memory cd)
        internal
        returns (uint256)
    {
        vm.cool(address(registry));
        vm.cool(address(token));
        vm.cool(address(staking));
        vm.cool(address(consumer));
        vm.cool(address(ritual));
        vm.cool(address(router));
        vm.cool(target);
        uint256 warm = target.balance;
        warm;
        vm.prank(from);
        uint256 g0 = gasleft();
        (bool ok, bytes memory ret) = target.call(cd);
        uint256 exec = g0 - gasleft();
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        uint256 total = 21_000 + _calldataGas(cd) + exec;
        console.log(name, total);
        return total;
    }

    function _attCall(uint256 id, uint256 idx) internal view returns (bytes memory) {
        address op = registry.assignedOperators(id)[idx];
        IInferenceRegistry.Attestation memory a = _att(id, op, keccak256(OUTPUT));
        return abi.encodeCall(registry.submitAttestation, (a, _sign(a, signerKey[op])));
    }

    /// @notice verinfer: request with a callback, 3 attestations, finalize, deliverOutput (+ callback).
    function test_gas_delivery_endToEnd_verinfer() public {
        bytes memory req = abi.encodeCall(
            registry.requestInferenceWithCallback,
            (detModel, keccak256("gas-in"), "ipfs://in", FEE, uint40(block.timestamp + 1 hours), _spec())
        );
        uint256 total = _measure("verinfer requestInferenceWithCallback", address(registry), client, req);
        total += _measure("verinfer attestation #0", address(registry), address(this), _attCall(rid[1], 0));
        total += _measure(
            "verinfer attestation #1 (quorum)", address(registry), address(this), _attCall(rid[2], 1)
        );
        total += _measure("verinfer attestation #2", address(registry), address(this), _attCall(rid[3], 2));
        vm.warp(registry.request(rid[4]).windowEnd + 1);
        total += _measure(
            "verinfer finalize", address(registry), address(this), abi.encodeCall(registry.finalize, (rid[4]))
        );
        uint256 deliver = _measure(
            "verinfer deliverOutput + callback",
            address(registry),
            address(this),
            abi.encodeCall(registry.deliverOutput, (rid[5], OUTPUT))
        );
        total += deliver;
        console.log("verinfer end to end (request, 3 answers, finalize, callback)", total);
        uint256 own = _consumerGas(
            abi.encodeCall(
                consumer.onInferenceResult,
                (rid[0] + 100, OUTPUT, keccak256(OUTPUT), IInferenceRegistry.RequestStatus.Finalized)
            )
        );
        console.log("verinfer callback overhead beyond the consumer's own gas", deliver - own);
    }

    /// @notice Ritual-style: create a subscription (redundancy 3), 3 node deliveries, each calling the consumer.
    function test_gas_delivery_endToEnd_baselineRitual() public {
        uint256 total = _measure(
            "ritual-like createSubscription",
            address(ritual),
            client,
            abi.encodeCall(
                ritual.createSubscription, (address(consumer), 3, uint96(FEE / 3), keccak256("gas-in"))
            )
        );
        uint256 first;
        for (uint256 i; i < 3; ++i) {
            uint256 g = _measure(
                "ritual-like deliverCompute + callback",
                address(ritual),
                nodes[i],
                abi.encodeCall(ritual.deliverCompute, (subs[i], OUTPUT))
            );
            if (i == 0) first = g;
            total += g;
        }
        console.log("ritual-like end to end (request, 3 deliveries with callbacks)", total);
        uint256 own = _consumerGas(abi.encodeCall(consumer.rawReceiveCompute, (999, nodes[0], OUTPUT)));
        console.log(
            "ritual-like callback overhead beyond the consumer's own gas (first delivery)", first - own
        );
    }

    /// @notice Chainlink-style: send a request, one transmission with 3 signatures and an isolated callback.
    function test_gas_delivery_endToEnd_baselineChainlink() public {
        uint256 total = _measure(
            "chainlink-like sendRequest",
            address(router),
            client,
            abi.encodeCall(router.sendRequest, (address(consumer), CB_GAS, uint96(FEE), keccak256("gas-in")))
        );
        bytes32 report = keccak256(abi.encode(clRid, keccak256(OUTPUT)));
        bytes32[] memory rs = new bytes32[](3);
        bytes32[] memory ss = new bytes32[](3);
        uint8[] memory vs = new uint8[](3);
        for (uint256 i; i < 3; ++i) {
            (vs[i], rs[i], ss[i]) = vm.sign(nodeKeys[i], report);
        }
        uint256 fulfill = _measure(
            "chainlink-like fulfill (3 signatures) + callback",
            address(router),
            address(this),
            abi.encodeCall(router.fulfill, (clRid, OUTPUT, clCommitment, rs, ss, vs))
        );
        total += fulfill;
        console.log("chainlink-like end to end (request, 3-signature report, callback)", total);
        uint256 own = _consumerGas(
            abi.encodeCall(consumer.handleOracleFulfillment, (bytes32(uint256(999)), OUTPUT, ""))
        );
        console.log("chainlink-like callback overhead beyond the consumer's own gas", fulfill - own);
    }

    /// @dev Execution gas of the consumer's own callback (cold, as inside the delivery).
    function _consumerGas(bytes memory cd) internal returns (uint256 used) {
        vm.cool(address(consumer));
        vm.prank(address(registry));
        uint256 g0 = gasleft();
        (bool ok,) = address(consumer).call(cd);
        used = g0 - gasleft();
        require(ok, "consumer call failed");
        console.log("  consumer's own gas", used);
    }
}
