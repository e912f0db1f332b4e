"""Petition views: `public` for signers, `organize` for organisers and moderators."""
