"""The consent register: grants and revocations per purpose and recipient, receipts, and the gate transform."""
