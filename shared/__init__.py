"""The claim schema package every claimflow process imports."""
