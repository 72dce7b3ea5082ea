"""Model building blocks shared by the SGSRF modules (import by module
path)."""
