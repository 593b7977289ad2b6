// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title VerinferToken
/// @notice Plain ERC20 + ERC20Permit staking token for testnets and the devnet. `Staking` accepts any ERC20;
///         nothing in the protocol depends on this contract.
/// @dev The owner (`admin`) may mint without limit: this token is not meant for production value.
contract VerinferToken is ERC20, ERC20Permit, Ownable {
    /// @notice Deploys the token and mints `initialSupply` to `admin`, who becomes the minter.
    /// @param name_ The ERC20 name (also the EIP-712 domain name used by permit).
    /// @param symbol_ The ERC20 symbol.
    /// @param admin The owner, allowed to mint.
    /// @param initialSupply Amount minted to `admin` at deployment.
    constructor(string memory name_, string memory symbol_, address admin, uint256 initialSupply)
        ERC20(name_, symbol_)
        ERC20Permit(name_)
        Ownable(admin)
    {
        if (initialSupply != 0) _mint(admin, initialSupply);
    }

    /// @notice Mints `amount` tokens to `to`. Only the owner.
    /// @param to The recipient.
    /// @param amount The amount to mint.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
