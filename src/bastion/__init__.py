"""Bastion: community-level outbreak response on the grid-management model."""
