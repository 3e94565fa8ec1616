"""Certificates: completion per edition, claims, issuance, PDFs, public verification, Open Badges 3.0."""
