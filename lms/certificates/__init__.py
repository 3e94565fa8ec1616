"""Certificates: completion, claims, issuance, the PDF and its public verification."""
