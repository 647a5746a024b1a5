"""Users, groups, the strong-password policy and password hashing."""
