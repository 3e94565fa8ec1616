"""Certificates: completion claims, issuance, PDFs, public verification and Open Badges 3.0 credentials."""
